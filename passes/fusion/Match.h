// Matching helpers shared by the fusion patterns: op kinds, constants, uses, and where a dim comes from.
#pragma once

#include "SlmDialect.h"

#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/SmallPtrSet.h"

#include <optional>

namespace slmc::match {

// The ONNX-mirror or slm op kind of v's defining op ("MatMul", "rms_norm"), "" for block args.
llvm::StringRef kind(mlir::Value v);
bool isOp(mlir::Operation *op, llvm::StringRef kind);
// v's defining op when it is of `kind`, else nullptr.
mlir::Operation *defOf(mlir::Value v, llvm::StringRef kind);

// Value of a constant with a single element (any shape of one element), as double.
std::optional<double> scalarConst(mlir::Value v);
bool isScalar(mlir::Value v, double expected, double relTol = 1e-4);
// All values of an integer constant.
std::optional<llvm::SmallVector<int64_t>> intsConst(mlir::Value v);
bool isConstant(mlir::Value v);
// An integer-array attribute (also looked up as `<name>_attr`, the ODS name on clashes).
std::optional<llvm::SmallVector<int64_t>> intsAttr(mlir::Operation *op, llvm::StringRef name);
std::optional<int64_t> intAttr(mlir::Operation *op, llvm::StringRef name);
std::optional<double> floatAttr(mlir::Operation *op, llvm::StringRef name);

// Ranked f32 tensor type of v, or null.
mlir::RankedTensorType f32Tensor(mlir::Value v);
bool hasOneUse(mlir::Value v);
// True when every use of v is by an op in `ops`.
bool usesWithin(mlir::Value v, const llvm::SmallPtrSetImpl<mlir::Operation *> &ops);

// For binary op `op` of `kind`, sets (x, other) with x the operand satisfying pred; tries both orders.
template <typename Pred>
bool commuted(mlir::Operation *op, llvm::StringRef k, Pred pred, mlir::Value &x, mlir::Value &other) {
  if (!op || !isOp(op, k) || op->getNumOperands() != 2) return false;
  for (int i = 0; i < 2; ++i)
    if (pred(op->getOperand(i))) {
      x = op->getOperand(i);
      other = op->getOperand(1 - i);
      return true;
    }
  return false;
}

// Where dim `axis` of a tensor comes from: followed back through ops that keep that dim
// exactly (unary, norms, matmul batch/row dims, concat/split on other axes, reshapes whose
// target dim is itself a known dim). Two dims with the same origin are equal at run time.
struct DimRef {
  mlir::Value root;
  int64_t axis = -1;
  int64_t value = -1; // >= 0: a known constant size
  bool operator==(const DimRef &o) const {
    if (value >= 0 || o.value >= 0) return value == o.value;
    return root && root == o.root && axis == o.axis;
  }
};
DimRef dimOrigin(mlir::Value t, int64_t axis);
// The dim a 1-element shape-arithmetic value stands for: a constant, or
// (Unsqueeze of) Gather(Shape(t), k).
std::optional<DimRef> scalarDim(mlir::Value v);
// The dims in a shape tensor built by Concat of such values (or a constant).
std::optional<llvm::SmallVector<DimRef>> shapeDims(mlir::Value shape);

// Erases the slm ops defining `values` (and, transitively, their operands) once they are unused;
// ONNX mirrors are side-effect free but not marked Pure, so the rewriter keeps them otherwise.
void eraseDead(mlir::RewriterBase &rewriter, llvm::ArrayRef<mlir::Value> values);
// Replaces op with `with` and erases what fed only op.
void replaceAndClean(mlir::RewriterBase &rewriter, mlir::Operation *op, mlir::ValueRange with);

// Copies the ONNX node name / output names from `from` onto `to` (artifact tensor names).
void copyNames(mlir::Operation *from, mlir::Operation *to);

} // namespace slmc::match
