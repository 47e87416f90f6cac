// slm-fuse-rope: x*cos + rotate_half(x)*sin (Slice/Neg/Concat over the last axis) → slm.rope.
#include "passes/fusion/Match.h"
#include "passes/fusion/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace slmc {
#define GEN_PASS_DEF_FUSEROPE
#include "passes/fusion/Passes.h.inc"

namespace {
using namespace match;

// Slice(x, [begin], [end], [last axis], [1]?) over the last axis of x (D static); end may overshoot.
bool isLastAxisSlice(Value v, Value x, int64_t begin, int64_t end) {
  auto s = v.getDefiningOp<slm::OnnxSliceOp>();
  auto t = f32Tensor(x);
  if (!s || s.getData() != x || !t || !hasOneUse(v) || !s.getStarts() || !s.getEnds() || !s.getAxes()) return false;
  int64_t d = t.getDimSize(t.getRank() - 1);
  auto starts = intsConst(s.getStarts()), ends = intsConst(s.getEnds()), axes = intsConst(s.getAxes());
  if (!starts || !ends || !axes || starts->size() != 1 || ends->size() != 1 || axes->size() != 1) return false;
  if (s.getSteps()) {
    auto steps = intsConst(s.getSteps());
    if (!steps || steps->size() != 1 || (*steps)[0] != 1) return false;
  }
  int64_t axis = (*axes)[0] < 0 ? (*axes)[0] + t.getRank() : (*axes)[0];
  int64_t e = std::min((*ends)[0], d);
  return axis == t.getRank() - 1 && (*starts)[0] == begin && e == end;
}

// Concat(Neg(x[..., D/2:]), x[..., :D/2]) on the last axis; returns x.
Value matchRotateHalf(Value r) {
  Operation *cat = defOf(r, "Concat");
  if (!cat || cat->getNumOperands() != 2 || !hasOneUse(r)) return {};
  Operation *neg = defOf(cat->getOperand(0), "Neg");
  if (!neg || !hasOneUse(cat->getOperand(0))) return {};
  Value x = defOf(neg->getOperand(0), "Slice") ? neg->getOperand(0).getDefiningOp()->getOperand(0) : Value();
  auto t = f32Tensor(x);
  if (!t || t.isDynamicDim(t.getRank() - 1) || t.getDimSize(t.getRank() - 1) % 2) return {};
  int64_t d = t.getDimSize(t.getRank() - 1), axis = intAttr(cat, "axis").value_or(0);
  if (axis != -1 && axis != t.getRank() - 1) return {};
  if (!isLastAxisSlice(neg->getOperand(0), x, d / 2, d) || !isLastAxisSlice(cat->getOperand(1), x, 0, d / 2))
    return {};
  return x;
}

// cos/sin must be f32 with the last dim D and no dim that x lacks; the kernel checks the rest.
bool fitsRope(Value table, RankedTensorType xt) {
  auto t = f32Tensor(table);
  if (!t || t.getRank() > xt.getRank() || t.getDimSize(t.getRank() - 1) != xt.getDimSize(xt.getRank() - 1))
    return false;
  for (int64_t i = 0; i < t.getRank(); ++i) {
    int64_t xd = xt.getDimSize(xt.getRank() - t.getRank() + i), d = t.getDimSize(i);
    if (!ShapedType::isDynamic(d) && d != 1 && d != xd) return false;
  }
  return true;
}

struct FuseRopePattern : RewritePattern {
  FuseRopePattern(MLIRContext *ctx) : RewritePattern("slm.Add", 1, ctx) {}
  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rewriter) const override {
    for (int i = 0; i < 2; ++i) {
      Operation *mc = defOf(op->getOperand(i), "Mul"), *ms = defOf(op->getOperand(1 - i), "Mul");
      if (!mc || !ms || !hasOneUse(op->getOperand(i)) || !hasOneUse(op->getOperand(1 - i))) continue;
      for (int j = 0; j < 2; ++j)
        for (int k = 0; k < 2; ++k) {
          Value x = matchRotateHalf(ms->getOperand(k)), sin = ms->getOperand(1 - k);
          if (!x || mc->getOperand(j) != x) continue;
          Value cos = mc->getOperand(1 - j);
          auto xt = f32Tensor(x);
          if (!fitsRope(cos, xt) || !fitsRope(sin, xt) || op->getResult(0).getType() != x.getType()) continue;
          auto rope = rewriter.create<slm::RopeOp>(op->getLoc(), xt, x, cos, sin);
          copyNames(op, rope);
          replaceAndClean(rewriter, op, rope->getResults());
          return success();
        }
    }
    return failure();
  }
};

struct FuseRopePass : impl::FuseRopeBase<FuseRopePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseRopePattern>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns)))) signalPassFailure();
  }
};

} // namespace
} // namespace slmc
