// The slm dialect: op classes generated from SlmOps.td and the generated OnnxOps.td.
#pragma once

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "SlmDialect.h.inc"

#define GET_OP_CLASSES
#include "SlmOps.h.inc"

#define GET_OP_CLASSES
#include "OnnxOps.h.inc"

#define GET_OP_CLASSES
#include "SlmQuantOps.h.inc"

namespace slmc::slm {
// Name of the discardable attribute holding the ONNX opset a node came from.
inline constexpr llvm::StringLiteral kOpsetAttr = "slm.opset";
// Name of the discardable attribute holding the source node name.
inline constexpr llvm::StringLiteral kNodeNameAttr = "slm.node";
// Name of the discardable attribute holding the ONNX names of an op's results.
inline constexpr llvm::StringLiteral kOutputNamesAttr = "slm.outputs";
} // namespace slmc::slm
