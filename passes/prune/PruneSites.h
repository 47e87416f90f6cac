// Finds the blocks structured pruning can shrink (FFN channel chains, attention heads) and the
// weight-slicing helpers the pruning passes share.
#pragma once

#include "SlmDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace slmc {

// up(x) [* gate(x)] -> down: the intermediate channels between `up`/`gate` outputs and `down`'s
// input rows. gate is null for a plain (non-gated) MLP.
struct FfnSite {
  slm::FusedMatMulOp gate, up, down;
  std::string layer;
  int64_t channels = 0;
};

// q/k/v projections -> attention -> o projection.
struct HeadSite {
  slm::FusedMatMulOp q, k, v, o;
  slm::AttentionOp attention;
  std::string layer;
  int64_t heads = 0, kvHeads = 0, headDim = 0;
};

struct SkippedSite {
  std::string layer, kind, reason;
};

struct PruneSites {
  std::vector<FfnSite> ffn;
  std::vector<HeadSite> heads;
  std::vector<SkippedSite> skipped; // near misses, with the reason they were left alone
};

// How slm-prune-heads removes fraction f of h query heads in kvh KV groups: `groups` whole KV
// groups or `perGroup` heads from every group, the achievable count nearest to f * h (ties to
// whole groups); both 0 when neither comes nearer than removing nothing.
struct HeadPlan {
  int64_t groups = 0, perGroup = 0;
};
HeadPlan planHeadRemoval(int64_t h, int64_t kvh, double fraction);

// Scans every function of `module` in walk order (deterministic: the calibration step and the
// passes see the same list for the same IR).
PruneSites findPruneSites(mlir::ModuleOp module);

// A fused_matmul's constant weight as float32, in its stored layout (trans_b: [N, K], else [K, N]).
struct Weight {
  slm::ConstantOp constant;
  std::vector<float> values;
  int64_t k = 0, n = 0;
  bool transB = false;
  float at(int64_t row, int64_t col) const { // row in K, col in N
    return transB ? values[size_t(col * k + row)] : values[size_t(row * n + col)];
  }
};
// False when the weight is not a float32 constant matrix with a static shape.
bool readWeight(slm::FusedMatMulOp op, Weight *out);

// Keeps only output channels `keep` (ascending) of op: weight columns, bias, result's last dim.
void sliceOutputs(slm::FusedMatMulOp op, const std::vector<int64_t> &keep);
// Keeps only input channels `keep` (ascending) of op: weight rows. With `meanIn` (E[x_c] of the
// input, K entries) the removed channels' mean contribution is added to the bias (created if absent).
void sliceInputs(slm::FusedMatMulOp op, const std::vector<int64_t> &keep, const std::vector<float> *meanIn);

// Why slm-prune-magnitude leaves `op` alone, or "" when it takes it: no constant float32 weight, or
// its result is a model output (an LM head). *w holds the weight when it could be read.
std::string magnitudeBlocker(slm::FusedMatMulOp op, Weight *w);
// Why slm-prune-24 leaves `op` dense, or "" when it takes it: no constant float32 weight, its
// result is a model output (an LM head), K below 16, or a 2:4 form no smaller than dense. *w holds
// the weight when it could be read.
std::string sp24Blocker(slm::FusedMatMulOp op, Weight *w);

// The name a report row gives op: its node name, else its weight constant's, else the op name.
std::string matmulLayerName(slm::FusedMatMulOp op, const Weight &w);
// Replaces op by a sparse matmul `opName` (slm.matmul_sp24, slm.matmul_sparse) whose operands are
// op's input, `weights`, then op's epilogue operands (bias, mul, residual), with k/n, op's
// activation/clip attributes and its discardable attributes; erases op and, when unused, its weight.
void replaceWithSparseMatMul(slm::FusedMatMulOp op, const Weight &w, llvm::StringRef opName, mlir::ValueRange weights);
// Replaces op's constant weight by `values` (same shape and layout as readWeight's).
void setWeight(slm::FusedMatMulOp op, const std::vector<float> &values);

// Fp32 bytes of a fused_matmul's weight and bias.
int64_t weightBytes(slm::FusedMatMulOp op);
// Float array attribute `name` of op with `size` entries, or empty.
std::vector<float> floatArrayAttr(mlir::Operation *op, llvm::StringRef name, int64_t size);

} // namespace slmc
