// Fusion passes on the slm dialect: declarations and registration (generated from Passes.td).
#pragma once

#include "SlmDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace slmc {
#define GEN_PASS_DECL
#include "passes/fusion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/fusion/Passes.h.inc"
} // namespace slmc
