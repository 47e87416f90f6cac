// Quantization passes: declarations and registration (generated from Passes.td).
#pragma once

#include "SlmDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace slmc {
#define GEN_PASS_DECL
#include "passes/quant/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/quant/Passes.h.inc"

// Name of the module attribute holding the per-layer quantization table.
inline constexpr const char *kQuantReportAttr = "slm.quant_report";
} // namespace slmc
