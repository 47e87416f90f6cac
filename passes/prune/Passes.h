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
} // namespace slmc
