// slm-fold: no-op Casts, leading Unsqueezes a broadcast already implies, Reshape chains, dead ops.
#include "passes/common/Passes.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;

namespace slmc {
#define GEN_PASS_DEF_FOLD
#include "passes/common/Passes.h.inc"

namespace {

bool isSlm(Operation *op, StringRef kind) {
  return op && isa<slm::SlmDialect>(op->getDialect()) && op->getName().stripDialect() == kind;
}

// Cast to the type it already has.
struct DropNoopCast : RewritePattern {
  DropNoopCast(MLIRContext *ctx) : RewritePattern("slm.Cast", 1, ctx) {}
  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rewriter) const override {
    if (op->getOperand(0).getType() != op->getResult(0).getType()) return failure();
    rewriter.replaceOp(op, op->getOperand(0));
    return success();
  }
};

// Axes of an Unsqueeze (attribute before opset 13, constant operand since).
std::optional<SmallVector<int64_t>> unsqueezeAxes(Operation *u) {
  SmallVector<int64_t> axes;
  if (auto arr = u->getAttrOfType<ArrayAttr>("axes_attr")) {
    for (Attribute a : arr) axes.push_back(cast<IntegerAttr>(a).getInt());
    return axes;
  }
  DenseIntElementsAttr c;
  if (u->getNumOperands() < 2 || !matchPattern(u->getOperand(1), m_Constant(&c))) return std::nullopt;
  for (const APInt &v : c.getValues<APInt>()) axes.push_back(v.getSExtValue());
  return axes;
}

// Binary broadcasting op(a, Unsqueeze(x, [0..k-1])) → op(a, x) when a has the full rank: numpy
// broadcasting right-aligns, so leading size-1 axes change nothing.
struct DropBroadcastUnsqueeze : RewritePattern {
  DropBroadcastUnsqueeze(MLIRContext *ctx) : RewritePattern(MatchAnyOpTypeTag(), 1, ctx) {}
  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rewriter) const override {
    static const llvm::StringSet<> kBinary = {"Add", "Sub", "Mul", "Div", "Pow"};
    if (!isa<slm::SlmDialect>(op->getDialect()) || !kBinary.contains(op->getName().stripDialect()) ||
        op->getNumOperands() != 2)
      return failure();
    for (int i = 0; i < 2; ++i) {
      Operation *u = op->getOperand(i).getDefiningOp();
      auto other = dyn_cast<RankedTensorType>(op->getOperand(1 - i).getType());
      auto ut = dyn_cast<RankedTensorType>(op->getOperand(i).getType());
      if (!isSlm(u, "Unsqueeze") || !other || !ut || other.getRank() < ut.getRank()) continue;
      auto axes = unsqueezeAxes(u);
      if (!axes) continue;
      llvm::sort(*axes);
      bool leading = true;
      for (size_t k = 0; k < axes->size(); ++k) leading &= (*axes)[k] == int64_t(k);
      if (!leading) continue;
      rewriter.modifyOpInPlace(op, [&] { op->setOperand(i, u->getOperand(0)); });
      return success();
    }
    return failure();
  }
};

// Reshape(Reshape(x, s1), s2) → Reshape(x, s2) when s2 is a constant without 0 ("copy this dim").
struct FoldReshapeChain : RewritePattern {
  FoldReshapeChain(MLIRContext *ctx) : RewritePattern("slm.Reshape", 1, ctx) {}
  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rewriter) const override {
    Operation *inner = op->getOperand(0).getDefiningOp();
    DenseIntElementsAttr shape;
    if (!isSlm(inner, "Reshape") || !matchPattern(op->getOperand(1), m_Constant(&shape))) return failure();
    for (const APInt &v : shape.getValues<APInt>())
      if (v.isZero()) return failure();
    rewriter.modifyOpInPlace(op, [&] { op->setOperand(0, inner->getOperand(0)); });
    return success();
  }
};

} // namespace

// Erases slm ops whose results are unused (they have no side effects; ONNX mirrors are not marked Pure).
void eraseUnusedSlmOps(func::FuncOp func) {
  for (bool changed = true; changed;) {
    changed = false;
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(func.getBody().front()))) {
      if (!isa<slm::SlmDialect>(op.getDialect()) || !op.use_empty()) continue;
      op.erase();
      changed = true;
    }
  }
}

namespace {

struct FoldPass : impl::FoldBase<FoldPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<DropNoopCast, DropBroadcastUnsqueeze, FoldReshapeChain>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns)))) return signalPassFailure();
    if (!getOperation().getBody().empty()) eraseUnusedSlmOps(getOperation());
  }
};

} // namespace
} // namespace slmc
