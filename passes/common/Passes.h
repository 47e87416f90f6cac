// Common slm passes: declarations and registration (generated from Passes.td).
#pragma once

#include "SlmDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace slmc {
#define GEN_PASS_DECL
#include "passes/common/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/common/Passes.h.inc"

// Erases slm ops whose results are unused (slm-fold and slm-fold-constants end with it).
void eraseUnusedSlmOps(mlir::func::FuncOp func);
} // namespace slmc
