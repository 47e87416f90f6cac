// `--quant-method=awq|gptq`: calibration-aware weight rewrites before round-to-nearest quantization.
#pragma once

#include "pipeline/Pipeline.h"

#include "mlir/IR/BuiltinOps.h"

namespace slmc {

// For each group of matmuls that read one activation whose producer can absorb a per-channel
// scale exactly (an RMSNorm or LayerNormalization with constant parameters, or an
// activation-free fused matmul feeding one matmul, e.g. SwiGLU's up projection into the down
// projection), finds s = mean|x|^alpha (alpha on a grid, s normalized) minimizing
// ||X W - X diag(1/s) Q(diag(s) W)|| over calibration rows X, then multiplies the weights' rows by
// s and divides the producer's outputs by s: the float model is unchanged, and the quantizer then
// spends its resolution on the channels the activations make important. Returns an ExitCode
// (reports each group's alpha on stderr with -v).
int applyActivationAwareScaling(mlir::ModuleOp module, const CompileOptions &options);

// GPTQ-style error-compensating rounding: for every fused matmul with a constant [K, N] weight,
// H = X^T X of its input over the calibration rows (damped by 1% of its mean diagonal) and the
// weight rounded row by row with the scheme's groups, each row's error spread over the rows not
// yet rounded (gptqQuantizeForMatMul); the weight constant is replaced by the rounded values, which
// the quantizer then stores. Matmuls sharing an input share H. Returns an ExitCode.
int applyErrorCompensatingRounding(mlir::ModuleOp module, const CompileOptions &options);

} // namespace slmc
