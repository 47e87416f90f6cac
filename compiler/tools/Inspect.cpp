// `slmc inspect`: verifies the artifact, then prints target, sizes, op counts and the op list (text or JSON).
#include "tools/Inspect.h"

#include "slm_generated.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <map>

namespace slmc {
namespace {

std::string tensorName(const ::slm::fb::Graph *g, int idx) {
  if (idx < 0 || !g->tensors() || size_t(idx) >= g->tensors()->size()) return "";
  auto *t = g->tensors()->Get(flatbuffers::uoffset_t(idx));
  return t->name() ? t->name()->str() : "";
}

llvm::json::Array names(const ::slm::fb::Graph *g, const flatbuffers::Vector<int32_t> *v) {
  llvm::json::Array a;
  if (v)
    for (int32_t idx : *v) a.push_back(idx < 0 ? llvm::json::Value(nullptr) : llvm::json::Value(tensorName(g, idx)));
  return a;
}

} // namespace

int inspectArtifact(const std::string &path, bool json) {
  auto buf = llvm::MemoryBuffer::getFile(path, false, false);
  if (!buf) {
    llvm::errs() << "slmc: error: " << path << ": cannot read: " << buf.getError().message() << "\n";
    return 2;
  }
  llvm::StringRef data = (*buf)->getBuffer();
  uint32_t len = 0;
  if (data.size() >= 8) std::memcpy(&len, data.data(), 4);
  const uint8_t *fb = reinterpret_cast<const uint8_t *>(data.data());
  if (data.size() < 8 || uint64_t(len) + 4 > data.size() ||
      !flatbuffers::BufferHasIdentifier(fb, ::slm::fb::ModelIdentifier(), /*size_prefixed=*/true) ||
      ![&] {
        flatbuffers::Verifier verifier(fb, uint64_t(len) + 4, 64, 10000000);
        return ::slm::fb::VerifySizePrefixedModelBuffer(verifier);
      }()) {
    llvm::errs() << "slmc: error: " << path << ": not a valid .slm artifact (truncated or corrupt)\n";
    return 2;
  }
  const ::slm::fb::Model *m = ::slm::fb::GetSizePrefixedModel(fb);
  const ::slm::fb::Graph *g = m->graph();
  uint64_t weights = 0, code = 0;
  if (m->segments())
    for (auto *s : *m->segments()) {
      if (s->kind() && s->kind()->str() == "weights") weights = s->size();
      if (s->kind() && s->kind()->str() == "code") code = s->size();
    }
  // Feature level: what the artifact needs of the CPU (--cpu/--features) and what it may not use.
  std::string cpu = m->target() && m->target()->cpu() ? m->target()->cpu()->str() : "";
  auto featureList = [](const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>> *v) {
    std::vector<std::string> out;
    if (v)
      for (auto *f : *v) out.push_back(f ? f->str() : "");
    return out;
  };
  std::vector<std::string> required = featureList(m->target() ? m->target()->required_features() : nullptr);
  std::vector<std::string> excluded = featureList(m->target() ? m->target()->excluded_features() : nullptr);
  auto joined = [](const std::vector<std::string> &v) {
    std::string s;
    for (const auto &x : v) s += (s.empty() ? "" : ",") + x;
    return s.empty() ? std::string("-") : s;
  };
  std::map<std::string, int64_t> counts;
  // Placement: the kernel key's provider ("ref": the host target's kernels; else a plugin's).
  std::map<std::string, int64_t> placement;
  std::map<std::string, std::vector<std::string>> placedOps;
  llvm::json::Array ops;
  if (g && g->ops())
    for (auto *op : *g->ops()) {
      std::string kind = op->kind() ? op->kind()->str() : "?";
      ++counts[kind];
      std::string kernel = op->kernel() ? op->kernel()->str() : "";
      std::string provider = kernel.substr(0, kernel.find('.'));
      ++placement[provider];
      placedOps[provider].push_back(kind + " '" + (op->name() ? op->name()->str() : "") + "'");
      ops.push_back(llvm::json::Object{{"kind", kind},
                                       {"name", op->name() ? op->name()->str() : ""},
                                       {"kernel", kernel},
                                       {"provider", provider},
                                       {"inputs", names(g, op->inputs())},
                                       {"outputs", names(g, op->outputs())}});
    }
  // Session state (KV caches kept by the runtime, --kv-cache=state): name and bounds.
  llvm::json::Array state;
  int64_t stateBytes = 0;
  if (g && g->tensors())
    for (auto *t : *g->tensors()) {
      if (t->storage() != ::slm::fb::Storage::State) continue;
      llvm::json::Array shape;
      if (t->max_shape())
        for (int64_t d : *t->max_shape()) shape.push_back(d);
      state.push_back(llvm::json::Object{{"name", t->name() ? t->name()->str() : ""}, {"max_shape", std::move(shape)},
                                         {"bytes", int64_t(t->byte_size())}});
      stateBytes += int64_t(t->byte_size());
    }
  std::string target = m->target() && m->target()->name() ? m->target()->name()->str() : "";
  if (!json) {
    llvm::outs() << path << ": target " << target << ", " << data.size() << " bytes, weights " << weights
                 << " bytes, arena " << (g ? g->arena_bytes() : 0) << " bytes, " << ops.size() << " ops\n";
    for (auto &[k, n] : counts) llvm::outs() << "  " << k << " " << n << "\n";
    std::string host = m->target() && m->target()->host() ? m->target()->host()->str() : target;
    llvm::outs() << "placement:";
    for (auto &[p, n] : placement)
      llvm::outs() << " " << (p == "ref" ? "host " + host : p == "gen" ? std::string("generated") : "plugin " + p)
                   << " " << n << " ops;";
    llvm::outs() << "\n";
    llvm::outs() << "cpu " << cpu << ", requires " << joined(required) << ", excludes " << joined(excluded)
                 << ", code segment " << code << " bytes\n";
    if (!state.empty())
      llvm::outs() << "state: " << state.size() << " KV caches, " << stateBytes
                   << " bytes per session, appended in place\n";
    for (auto &[p, list] : placedOps)
      if (p != "ref" && p != "gen")
        for (const auto &o : list) llvm::outs() << "  on " << p << ": " << o << "\n";
    return 0;
  }
  llvm::json::Object counts_json;
  for (auto &[k, n] : counts) counts_json[k] = n;
  llvm::json::Array inputs = g ? names(g, g->inputs()) : llvm::json::Array{};
  llvm::json::Array outputs = g ? names(g, g->outputs()) : llvm::json::Array{};
  llvm::json::Object meta;
  llvm::json::Value quant = llvm::json::Array{};
  llvm::json::Value prune = nullptr; // null: not pruned
  if (m->metadata())
    for (auto *kv : *m->metadata()) {
      if (!kv->key()) continue;
      std::string value = kv->value() ? kv->value()->str() : "";
      if (kv->key()->str() == "quant") { // the per-layer quantization table, as JSON
        if (auto parsed = llvm::json::parse(value)) quant = std::move(*parsed);
        else llvm::consumeError(parsed.takeError());
        continue;
      }
      if (kv->key()->str() == "prune") { // the per-layer pruning report, as JSON
        if (auto parsed = llvm::json::parse(value)) prune = std::move(*parsed);
        else llvm::consumeError(parsed.takeError());
        continue;
      }
      meta[kv->key()->str()] = value;
    }
  llvm::json::Object placementJson;
  for (auto &[p, n] : placement) placementJson[p] = n;
  llvm::json::Object root{{"target", target},
                          {"host", m->target() && m->target()->host() ? m->target()->host()->str() : target},
                          {"placement", std::move(placementJson)},
                          {"producer", m->producer() ? m->producer()->str() : ""},
                          {"format_version", int64_t(m->format_version())},
                          {"size_bytes", int64_t(data.size())},
                          {"weights_bytes", int64_t(weights)},
                          {"cpu", cpu},
                          {"required_features", llvm::json::Array(required)},
                          {"excluded_features", llvm::json::Array(excluded)},
                          {"code_bytes", int64_t(code)},
                          {"kernel_abi_version", int64_t(m->target() ? m->target()->kernel_abi_version() : 0)},
                          {"arena_bytes", int64_t(g ? g->arena_bytes() : 0)},
                          {"op_counts", std::move(counts_json)},
                          {"inputs", std::move(inputs)},
                          {"outputs", std::move(outputs)},
                          {"state", std::move(state)},
                          {"metadata", std::move(meta)},
                          {"quant", std::move(quant)},
                          {"prune", std::move(prune)},
                          {"ops", std::move(ops)}};
  llvm::outs() << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
  return 0;
}

} // namespace slmc
