// Calibration data and host runs, shared by `--prune` and `--max-accuracy-drop`.
#include "pipeline/Calibration.h"

#include "emit/ArtifactWriter.h"
#include "import/OnnxImporter.h"
#include "passes/quant/WeightQuantizer.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include "slm_runtime.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <algorithm>

namespace slmc {

using namespace mlir;

const TargetInfo *hostTarget() {
#if defined(__x86_64__)
  return findTarget("x86_64");
#elif defined(__aarch64__)
  return findTarget("arm64");
#elif defined(__riscv)
  return findTarget("riscv64");
#else
  return nullptr;
#endif
}

namespace {

// ---- calibration sets


std::vector<std::string> sortedEntries(const std::string &dir, bool wantDirs) {
  std::vector<std::string> out;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec; it.increment(ec)) {
    bool isDir = llvm::sys::fs::is_directory(it->path());
    if (isDir == wantDirs && (isDir || llvm::StringRef(it->path()).ends_with(".npy"))) out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string loadSet(const std::string &dir, CalibSet *set) {
  set->name = dir;
  for (const std::string &file : sortedEntries(dir, false)) {
    slm_tools::HostTensor t;
    std::string err;
    if (!slm_tools::read_tensor_file(file, &t, &err)) return err;
    t.name = llvm::sys::path::stem(file).str();
    set->inputs.push_back(std::move(t));
  }
  return "";
}

// DIR holds `<input name>.npy` files (one set) or one folder of them per set.
} // namespace

std::string loadCalibration(const std::string &dir, std::vector<CalibSet> *sets) {
  if (!llvm::sys::fs::is_directory(dir)) return "--calibration-data " + dir + ": not a directory";
  if (!sortedEntries(dir, false).empty()) {
    sets->emplace_back();
    return loadSet(dir, &sets->back());
  }
  for (const std::string &sub : sortedEntries(dir, true)) {
    if (sortedEntries(sub, false).empty()) continue;
    sets->emplace_back();
    if (std::string err = loadSet(sub, &sets->back()); !err.empty()) return err;
  }
  if (sets->empty()) return "--calibration-data " + dir + ": no .npy input files (DIR/<input>.npy or DIR/<set>/<input>.npy)";
  return "";
}

namespace {




// An input a set leaves out is fed empty along its first symbolic dim that is not a batch dim
// (an LM's empty KV cache); anything else must be given.
std::string emptyInput(const slm_tensor_info_t &info, slm_tensor_t *t) {
  t->dtype = info.dtype;
  t->rank = info.rank;
  bool zeroed = false;
  for (int d = 0; d < info.rank; ++d) {
    const char *name = info.dim_names ? info.dim_names[d] : nullptr;
    t->dims[d] = info.max_dims[d];
    if (name && llvm::StringRef(name).contains("batch")) t->dims[d] = 1;
    else if (name && !zeroed) t->dims[d] = 0, zeroed = true;
  }
  t->data = nullptr;
  t->nbytes = 0;
  return zeroed ? "" : std::string("no file for input '") + info.name + "' (only inputs with a symbolic dim may be left out)";
}

} // namespace

std::string runOnHost(ModuleOp module, const CompileOptions &options, const std::vector<CalibSet> &sets,
                      std::vector<Outputs> *runs) {
  return runOnHost(module, options, sets, [&](size_t, Outputs &&outs) { runs->push_back(std::move(outs)); });
}

std::string runOnHost(ModuleOp module, const CompileOptions &options, const std::vector<CalibSet> &sets,
                      llvm::function_ref<void(size_t, Outputs &&)> consume) {
  const TargetInfo *host = hostTarget();
  if (!host) return "calibration needs a host target (x86_64, arm64 or riscv64)";
  llvm::SmallString<128> path;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile("slmc-prune", "slm", path))
    return "cannot create a temporary file: " + ec.message();
  EmitOptions emit;
  emit.target = host;
  emit.dimBounds = options.dimBounds;
  EmitStats stats;
  std::string err;
  if (!writeArtifact(module, emit, path.str().str(), &stats, &err)) {
    llvm::sys::fs::remove(path);
    return err;
  }
  slm_model_t *model = nullptr;
  slm_session_t *session = nullptr;
  auto done = [&](std::string msg) {
    if (session) slm_session_free(session);
    if (model) slm_model_free(model);
    llvm::sys::fs::remove(path);
    return msg;
  };
  if (slm_model_load_file(path.c_str(), &model) != SLM_OK || slm_session_create(model, nullptr, &session) != SLM_OK)
    return done(slm_last_error());
  for (size_t s = 0; s < sets.size(); ++s) {
    const CalibSet &set = sets[s];
    for (size_t i = 0; i < slm_model_input_count(model); ++i) {
      slm_tensor_info_t info;
      slm_model_input_info(model, i, &info);
      slm_tensor_t value{};
      auto given = std::find_if(set.inputs.begin(), set.inputs.end(),
                                [&](const slm_tools::HostTensor &t) { return t.name == info.name; });
      if (given == set.inputs.end()) {
        if (std::string why = emptyInput(info, &value); !why.empty()) return done(set.name + ": " + why);
      } else {
        value.dtype = given->dtype;
        value.rank = int32_t(given->dims.size());
        for (size_t d = 0; d < given->dims.size() && d < SLM_MAX_RANK; ++d) value.dims[d] = given->dims[d];
        value.data = given->data.data();
        value.nbytes = given->data.size();
      }
      if (slm_session_set_input(session, info.name, &value) != SLM_OK) return done(set.name + ": " + slm_last_error());
    }
    if (slm_session_reset_state(session) != SLM_OK || slm_session_run(session) != SLM_OK)
      return done(set.name + ": " + slm_last_error());
    Outputs outs(slm_model_output_count(model));
    for (size_t i = 0; i < outs.size(); ++i) {
      slm_tensor_t t;
      if (slm_session_get_output(session, i, &t) != SLM_OK ||
          !slm_tools::host_tensor_from_slm(t, "output", &outs[i], &err))
        return done(set.name + ": " + (err.empty() ? slm_last_error() : err));
    }
    consume(s, std::move(outs));
  }
  return done("");
}

bool inverseHessianFactor(const std::vector<Outputs> &runs, size_t idx, int64_t k, std::vector<double> *u) {
  std::vector<double> h(size_t(k * k), 0.0);
  int64_t rows = 0;
  for (const Outputs &r : runs) {
    const float *x = floats(r[idx]);
    int64_t n = int64_t(count(r[idx])) / k;
    for (int64_t row = 0; row < n; ++row, ++rows)
      for (int64_t a = 0; a < k; ++a) {
        double xa = x[row * k + a];
        if (xa == 0) continue;
        for (int64_t c = 0; c <= a; ++c) h[size_t(a * k + c)] += xa * x[row * k + c];
      }
  }
  double diag = 0;
  for (int64_t a = 0; a < k; ++a) {
    for (int64_t c = 0; c < a; ++c) h[size_t(c * k + a)] = h[size_t(a * k + c)];
    diag += h[size_t(a * k + a)] / double(k);
  }
  for (int64_t a = 0; a < k; ++a) h[size_t(a * k + a)] += 0.01 * diag + 1e-8; // damping, and dead channels
  return rows > 0 && inverseCholeskyUpper(std::move(h), k, u);
}

const float *floats(const slm_tools::HostTensor &t) { return reinterpret_cast<const float *>(t.data.data()); }
size_t count(const slm_tools::HostTensor &t) { return t.dtype == SLM_DTYPE_FLOAT32 ? t.data.size() / 4 : 0; }

void appendResults(ModuleOp m, ArrayRef<Value> values) {
  func::FuncOp f = m.lookupSymbol<func::FuncOp>("main");
  Operation *ret = f.getBody().front().getTerminator();
  Builder b(m.getContext());
  for (Value v : values) {
    unsigned idx = ret->getNumOperands();
    ret->insertOperands(idx, v);
    f.insertResult(idx, v.getType(),
                   b.getDictionaryAttr(b.getNamedAttr(kArgNameAttr, b.getStringAttr("__calibration." + std::to_string(idx)))));
  }
}

std::string runCapturing(ModuleOp module, const CompileOptions &options, const std::vector<CalibSet> &sets,
                         ArrayRef<Operation *> ops, llvm::function_ref<SmallVector<Value>(Operation *)> pick,
                         std::vector<Outputs> *runs, size_t *nOut) {
  // Tag the ops so their clones can be found, clone, untag the originals.
  constexpr const char *kTag = "slm.capture_site";
  Builder b(module.getContext());
  for (size_t i = 0; i < ops.size(); ++i) ops[i]->setAttr(kTag, b.getI64IntegerAttr(int64_t(i)));
  OwningOpRef<ModuleOp> probe(cast<ModuleOp>(module->clone()));
  for (Operation *op : ops) op->removeAttr(kTag);
  std::vector<SmallVector<Value>> picked(ops.size());
  probe->walk([&](Operation *op) {
    if (auto tag = op->getAttrOfType<IntegerAttr>(kTag)) {
      picked[size_t(tag.getInt())] = pick(op);
      op->removeAttr(kTag);
    }
  });
  std::vector<Value> values;
  for (auto &v : picked) values.insert(values.end(), v.begin(), v.end());
  *nOut = probe->lookupSymbol<func::FuncOp>("main").getNumResults();
  appendResults(*probe, values);
  return runOnHost(*probe, options, sets, runs);
}

} // namespace slmc
