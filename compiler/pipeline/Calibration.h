// Calibration data and host runs: `--calibration-data` sets, running a module through the runtime
// on this machine, and comparing outputs. Shared by `--prune` and `--max-accuracy-drop`.
#pragma once

#include "pipeline/Pipeline.h"
#include "pipeline/Targets.h"

#include "tensor_io.h"

#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace slmc {

// The built-in target of the machine the compiler runs on (null on other ISAs).
const TargetInfo *hostTarget();

struct CalibSet {
  std::string name;
  std::vector<slm_tools::HostTensor> inputs; // HostTensor::name = the input's name (file stem)
};

// DIR holds `<input name>.npy` files (one set) or one folder of them per set; "" or the problem.
std::string loadCalibration(const std::string &dir, std::vector<CalibSet> *sets);

using Outputs = std::vector<slm_tools::HostTensor>; // one run's outputs, in artifact order

// Emits `module` for the host into a temporary artifact and runs it once per set (each from a reset
// session; an input a set leaves out is fed empty along its first non-batch symbolic dim, e.g. an
// LM's KV cache). "" or the problem.
std::string runOnHost(mlir::ModuleOp module, const CompileOptions &options, const std::vector<CalibSet> &sets,
                      std::vector<Outputs> *runs);
// The same, handing each set's outputs to `consume(set index, outputs)` instead of keeping them.
std::string runOnHost(mlir::ModuleOp module, const CompileOptions &options, const std::vector<CalibSet> &sets,
                      llvm::function_ref<void(size_t, Outputs &&)> consume);

// Appends `values` to @main's results (named __calibration.<i>) so a host run returns them too.
void appendResults(mlir::ModuleOp m, llvm::ArrayRef<mlir::Value> values);

// Runs a clone of `module` on the sets and captures, for each op of `ops` in order, the values
// `pick` selects on the op's clone: they come after the model's `*nOut` outputs in every run
// (runs[r][*nOut + k], k counting the picked values of all ops in order). "" or the problem.
std::string runCapturing(mlir::ModuleOp module, const CompileOptions &options, const std::vector<CalibSet> &sets,
                         llvm::ArrayRef<mlir::Operation *> ops,
                         llvm::function_ref<llvm::SmallVector<mlir::Value>(mlir::Operation *)> pick,
                         std::vector<Outputs> *runs, size_t *nOut);

// Upper Cholesky factor U (k x k, row-major) of H^-1 = U^T U, where H = X^T X (+1% mean-diagonal
// damping) of the rows X of runs[r][idx] (float [..., k]) over all runs: what error-compensating
// rounding (GPTQ) and pruning (2:4) push each row's error through. false when there are no rows or
// H is not positive definite.
bool inverseHessianFactor(const std::vector<Outputs> &runs, size_t idx, int64_t k, std::vector<double> *u);

const float *floats(const slm_tools::HostTensor &t);
size_t count(const slm_tools::HostTensor &t); // float32 elements (0 for other dtypes)

// Accumulated error of outputs against reference outputs: relative L2, max |diff|, top-1 agreement
// over the last axis.
struct ErrorSum {
  double diff2 = 0, ref2 = 0, maxAbs = 0;
  int64_t agree = 0, rows = 0, compared = 0;
  void add(const slm_tools::HostTensor &got, const slm_tools::HostTensor &ref, bool top1) {
    ++compared;
    size_t n = std::min(count(got), count(ref));
    for (size_t i = 0; i < n; ++i) {
      double d = double(floats(got)[i]) - floats(ref)[i];
      diff2 += d * d;
      ref2 += double(floats(ref)[i]) * floats(ref)[i];
      maxAbs = std::max(maxAbs, std::fabs(d));
    }
    if (!top1 || ref.dims.empty()) return;
    size_t v = size_t(ref.dims.back());
    for (size_t r = 0; v && r + v <= n; r += v) {
      auto a = std::max_element(floats(got) + r, floats(got) + r + v) - (floats(got) + r);
      auto e = std::max_element(floats(ref) + r, floats(ref) + r + v) - (floats(ref) + r);
      agree += a == e;
      ++rows;
    }
  }
  double rel() const { return ref2 > 0 ? std::sqrt(diff2 / ref2) : std::sqrt(diff2); }
};


} // namespace slmc
