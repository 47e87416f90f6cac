// Compile-time evaluation of slm ops on constant operands with the reference kernels (constant folding).
#pragma once

#include "SlmDialect.h"

#include "mlir/IR/BuiltinAttributes.h"

#include <optional>

namespace slmc::slm {

// Runs `op`, whose operands are all slm.constant, through its reference kernel (the same code
// the runtime would run) and returns one attribute per result. nullopt when it cannot be done
// here: no reference kernel, an unsupported dtype or attribute, a result type that is not static
// or not what the kernel computes, or a kernel error (the op then stays for the runtime, which
// reports it with the node's name).
std::optional<llvm::SmallVector<mlir::DenseElementsAttr>> evaluateOnConstants(mlir::Operation *op);

} // namespace slmc::slm
