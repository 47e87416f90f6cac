// Partitioning for plugin targets: asks the plugin which ops it claims (op_cost), packs their constant operands
// into its layout (pack_input), and leaves every other op on the host target's kernels.
#include "emit/ArtifactGraph.h"
#include "pipeline/Targets.h"
#include "slmc/plugin.h"

#include <cstring>
#include <map>
#include <memory>

namespace slmc {
namespace {

// The C view of one op for plugin queries; owns everything the pointers refer to.
struct OpQuery {
  std::string key;
  std::vector<slm_provider_tensor_t> ins, outs, attrTensors;
  std::vector<const slm_provider_tensor_t *> inPtrs, outPtrs;
  std::vector<slm_provider_attr_t> attrs;
  std::vector<std::vector<const char *>> strs;
  slmc_op_query_t q{};

  OpQuery(const ArtifactGraph &g, const ArtifactOp &op, const std::string &target) {
    key = op.domain.empty() ? op.kind : op.domain + "." + op.kind;
    auto view = [&](int idx) {
      const ArtifactTensor &t = g.tensors[size_t(idx)];
      slm_provider_tensor_t v{};
      v.dtype = t.dtype;
      v.rank = int32_t(t.maxShape.size());
      for (size_t i = 0; i < t.maxShape.size() && i < SLM_PROVIDER_MAX_RANK; ++i) v.dims[i] = t.maxShape[i];
      v.data = t.storage == StorageKind::Constant ? const_cast<char *>(t.constData) : nullptr;
      return v;
    };
    ins.reserve(op.inputs.size());
    for (int idx : op.inputs) ins.push_back(idx >= 0 ? view(idx) : slm_provider_tensor_t{});
    for (size_t i = 0; i < op.inputs.size(); ++i) inPtrs.push_back(op.inputs[i] >= 0 ? &ins[i] : nullptr);
    outs.reserve(op.outputs.size());
    for (int idx : op.outputs) outs.push_back(idx >= 0 ? view(idx) : slm_provider_tensor_t{});
    for (size_t i = 0; i < op.outputs.size(); ++i) outPtrs.push_back(op.outputs[i] >= 0 ? &outs[i] : nullptr);
    attrTensors.reserve(op.attrs.size());
    strs.reserve(op.attrs.size());
    for (const ArtifactAttr &a : op.attrs) {
      slm_provider_attr_t c{};
      c.name = a.name.c_str();
      c.kind = a.kind;
      c.i = a.i;
      c.f = a.f;
      if (a.kind == SLM_PROVIDER_ATTR_STRING) c.s = a.s.data(), c.count = a.s.size();
      if (a.kind == SLM_PROVIDER_ATTR_INTS) c.ints = a.ints.data(), c.count = a.ints.size();
      if (a.kind == SLM_PROVIDER_ATTR_FLOATS) c.floats = a.floats.data(), c.count = a.floats.size();
      if (a.kind == SLM_PROVIDER_ATTR_STRINGS) {
        strs.emplace_back();
        for (const auto &s : a.strings) strs.back().push_back(s.c_str());
        c.strings = strs.back().data();
        c.count = a.strings.size();
      }
      if (a.kind == SLM_PROVIDER_ATTR_TENSOR && a.index >= 0) {
        attrTensors.push_back(view(a.index));
        c.tensor = &attrTensors.back();
      }
      attrs.push_back(c);
    }
    q.target = target.c_str();
    q.op_key = key.c_str();
    q.op_name = op.name.c_str();
    q.attrs = attrs.data();
    q.num_attrs = attrs.size();
    q.inputs = inPtrs.data();
    q.num_inputs = int(inPtrs.size());
    q.outputs = outPtrs.data();
    q.num_outputs = int(outPtrs.size());
  }
};

// Replaces constant input `i` of op with the plugin's packed form; shares identical packings.
bool packInput(ArtifactGraph &g, size_t opIndex, int i, const slmc_plugin_t &p, const OpQuery &query,
               std::map<int, std::vector<int>> &packedOf, std::string *error) {
  ArtifactOp &op = g.ops[opIndex];
  int src = op.inputs[size_t(i)];
  slmc_packed_tensor_t packed{};
  char err[512] = {0};
  int rc = p.pack_input(&query.q, i, &packed, err, sizeof err);
  if (rc == SLMC_PACK_KEEP) return true;
  std::string where = "node '" + op.name + "' (" + query.key + "), input " + std::to_string(i) + " ('" +
                      g.tensors[size_t(src)].name + "'): plugin '" + p.name + "' ";
  if (rc != SLMC_PACK_DONE) {
    *error = where + "failed to pack it: " + (err[0] ? err : "no message");
    return false;
  }
  std::unique_ptr<slmc_packed_tensor_t, void (*)(slmc_packed_tensor_t *)> guard(&packed, p.free_packed);
  uint64_t numel = 1;
  for (int d = 0; d < packed.rank; ++d) numel *= uint64_t(packed.dims[d] < 0 ? 0 : packed.dims[d]);
  if (packed.rank < 0 || packed.rank > SLM_PROVIDER_MAX_RANK || !::slm::dtype_size(packed.dtype) ||
      numel * ::slm::dtype_size(packed.dtype) != packed.nbytes || (packed.nbytes && !packed.data)) {
    *error = where + "returned a packed tensor whose dtype/dims do not match its " + std::to_string(packed.nbytes) +
             " bytes";
    return false;
  }
  const char *bytes = static_cast<const char *>(packed.data);
  for (int idx : packedOf[src]) {
    const ArtifactTensor &t = g.tensors[size_t(idx)];
    if (t.dtype == packed.dtype && t.byteSize == packed.nbytes && t.maxShape.size() == size_t(packed.rank) &&
        std::equal(t.maxShape.begin(), t.maxShape.end(), packed.dims) && std::memcmp(t.constData, bytes, packed.nbytes) == 0) {
      op.inputs[size_t(i)] = idx;
      return true;
    }
  }
  ArtifactTensor t;
  t.name = g.tensors[size_t(src)].name + "@" + p.name + (packedOf[src].empty() ? "" : "." + std::to_string(packedOf[src].size()));
  t.dtype = packed.dtype;
  t.maxShape.assign(packed.dims, packed.dims + packed.rank);
  t.dimNames.assign(t.maxShape.size(), "");
  t.storage = StorageKind::Constant;
  t.byteSize = packed.nbytes;
  t.ownedData.assign(bytes, bytes + packed.nbytes);
  g.tensors.push_back(std::move(t));
  g.tensors.back().constData = g.tensors.back().ownedData.data();
  int idx = int(g.tensors.size() - 1);
  packedOf[src].push_back(idx);
  op.inputs[size_t(i)] = idx;
  return true;
}

} // namespace

bool partitionForTarget(ArtifactGraph &g, const TargetInfo &target, std::vector<std::string> &notes,
                        std::string *error) {
  const slmc_plugin_t &p = *target.plugin;
  if (target.builtin || !p.op_cost) return true;
  std::map<int, std::vector<int>> packedOf; // original constant -> its packed copies
  std::map<std::string, int> claimed;
  size_t onPlugin = 0;
  for (size_t k = 0; k < g.ops.size(); ++k) {
    OpQuery query(g, g.ops[k], target.name);
    double cost = 1.0;
    if (!p.op_cost(&query.q, &cost) || !(cost < 1.0)) continue;
    g.ops[k].provider = p.name;
    ++claimed[query.key];
    ++onPlugin;
    if (!p.pack_input) continue;
    for (size_t i = 0; i < g.ops[k].inputs.size(); ++i) {
      int src = g.ops[k].inputs[i];
      if (src < 0 || g.tensors[size_t(src)].storage != StorageKind::Constant) continue;
      if (!packInput(g, k, int(i), p, query, packedOf, error)) return false;
    }
  }
  // Constants only the plugin's packed copies replaced are dropped from the weights segment.
  for (auto &t : g.tensors)
    if (t.storage == StorageKind::Constant) t.used = false;
  for (const auto &op : g.ops) {
    for (int idx : op.inputs)
      if (idx >= 0) g.tensors[size_t(idx)].used = true;
    for (const auto &a : op.attrs)
      if (a.kind == ::slm::kAttrTensor && a.index >= 0) g.tensors[size_t(a.index)].used = true;
  }
  std::string list;
  for (auto &[key, n] : claimed) list += (list.empty() ? "" : ", ") + key + " x" + std::to_string(n);
  notes.push_back("partition: " + std::to_string(onPlugin) + " of " + std::to_string(g.ops.size()) + " ops on plugin '" +
                  p.name + "'" + (list.empty() ? "" : " (" + list + ")") + ", the rest on host target '" + target.host + "'");
  return true;
}

} // namespace slmc
