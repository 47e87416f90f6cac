// Reading the data of slm.constant ops (resource blobs or dense attributes) for passes that rewrite weights.
#pragma once

#include "SlmDialect.h"

#include "mlir/IR/Builders.h"

#include <string>
#include <vector>

namespace slmc::slm {
// Float32 contents of a constant; empty when the constant is not float32.
std::vector<float> constantFloats(ConstantOp c);

// Raw bytes of a constant with 8-bit integer elements (a splat expanded); empty for other element types.
std::vector<uint8_t> constantBytes8(ConstantOp c);

// A new slm.constant of `shape` x `elementType` holding a copy of `bytes` as a 64-byte aligned
// resource blob named `name` (the constant's name too), inserted at b's insertion point.
ConstantOp makeResourceConstant(mlir::OpBuilder &b, mlir::Location loc, llvm::ArrayRef<int64_t> shape,
                                mlir::Type elementType, const void *bytes, size_t size, const std::string &name);
} // namespace slmc::slm
