// Pruning passes: declarations and registration (generated from Passes.td).
#pragma once

#include "SlmDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace slmc {
#define GEN_PASS_DECL
#include "passes/prune/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/prune/Passes.h.inc"

// Module attribute holding the per-layer pruning table (an array of dictionaries, appended to by
// every pruning pass in the order they run).
inline constexpr const char *kPruneReportAttr = "slm.prune_report";
// Optional per-input-channel activation statistics on the consumer matmul of a pruning site (the
// FFN down projection, the attention output projection): E[x^2] and E[x] over calibration tokens,
// as dense f32 arrays with K elements. Written by `slmc compile --calibration-data`, read and
// removed by the pruning passes; without them importance comes from the weights alone.
inline constexpr const char *kActSqAttr = "slm.act_sq";
inline constexpr const char *kActMeanAttr = "slm.act_mean";
// Optional per-head importance on an attention output projection (dense f32 array, one entry per
// query head): the damage to the model's output on the calibration sets when the head (or its
// whole KV group, the loss then split evenly over the group's heads) is removed. Written by
// `slmc compile --calibration-data`, read and removed by slm-prune-heads, where it outranks the
// activation statistics.
inline constexpr const char *kHeadLossAttr = "slm.head_loss";
// Unit attribute on a fused_matmul whose weight `slmc compile --calibration-data` already pruned to
// 2:4 with error compensation (sparseGpt24): slm-prune-24 packs it as is and reports the method.
inline constexpr const char *kSp24CompensatedAttr = "slm.sp24_compensated";
// Unit attribute on a fused_matmul whose weight `slmc compile --calibration-data` already pruned
// unstructured with error compensation (sparseGptUnstructured): slm-prune-magnitude keeps its zeros.
inline constexpr const char *kSparseCompensatedAttr = "slm.sparse_compensated";
} // namespace slmc
