// slm-fuse-norm: the exporters' RMSNorm and LayerNorm decompositions → slm.rms_norm / LayerNormalization.
#include "passes/fusion/Match.h"
#include "passes/fusion/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace slmc {
#define GEN_PASS_DEF_FUSENORM
#include "passes/fusion/Passes.h.inc"

namespace {
using namespace match;

// ReduceMean over the last axis only, keeping dims.
bool isLastAxisMean(Operation *op, int64_t rank) {
  if (!isOp(op, "ReduceMean") || intAttr(op, "keepdims").value_or(1) != 1) return false;
  auto axes = intsAttr(op, "axes");
  if (!axes && op->getNumOperands() > 1) axes = intsConst(op->getOperand(1));
  return axes && axes->size() == 1 && ((*axes)[0] == -1 || (*axes)[0] == rank - 1);
}

// x^2 as Mul(x, x) or Pow(x, 2).
bool isSquareOf(Value sq, Value x) {
  Operation *op = sq.getDefiningOp();
  if (isOp(op, "Mul")) return op->getOperand(0) == x && op->getOperand(1) == x;
  return isOp(op, "Pow") && op->getOperand(0) == x && isScalar(op->getOperand(1), 2.0, 0);
}

struct RmsMatch {
  Value x, scale;
  double eps = 0;
};

// s = Sqrt(Add(ReduceMean(x^2), eps)) with every intermediate used once; returns x.
Value matchRmsDenominator(Value s, double *eps) {
  Operation *sqrt = defOf(s, "Sqrt");
  if (!sqrt || !hasOneUse(s)) return {};
  Value mean, epsV;
  if (!commuted(sqrt->getOperand(0).getDefiningOp(), "Add", [](Value v) { return kind(v) == "ReduceMean"; }, mean,
                epsV) ||
      !hasOneUse(sqrt->getOperand(0)) || !hasOneUse(mean) || !scalarConst(epsV))
    return {};
  *eps = *scalarConst(epsV);
  Operation *rm = mean.getDefiningOp();
  Value sq = rm->getOperand(0);
  Operation *sqOp = sq.getDefiningOp();
  if (!sqOp || !hasOneUse(sq) || sqOp->getNumOperands() < 1) return {};
  Value x = sqOp->getOperand(0);
  auto t = f32Tensor(x);
  if (!t || !isSquareOf(sq, x) || !isLastAxisMean(rm, t.getRank())) return {};
  return x;
}

// n = x * (1 / s) | x * Reciprocal(s) | x / s, with s the RMS denominator of the same x.
std::optional<RmsMatch> matchNormalized(Value n) {
  Operation *op = n.getDefiningOp();
  RmsMatch m;
  if (isOp(op, "Div")) {
    m.x = matchRmsDenominator(op->getOperand(1), &m.eps);
    if (m.x && m.x == op->getOperand(0)) return m;
    return std::nullopt;
  }
  if (!isOp(op, "Mul")) return std::nullopt;
  for (int i = 0; i < 2; ++i) {
    Value inv = op->getOperand(i);
    Operation *r = inv.getDefiningOp();
    Value s;
    if (isOp(r, "Reciprocal")) s = r->getOperand(0);
    if (isOp(r, "Div") && isScalar(r->getOperand(0), 1.0, 0)) s = r->getOperand(1);
    if (!s || !hasOneUse(inv)) continue;
    m.x = matchRmsDenominator(s, &m.eps);
    if (m.x && m.x == op->getOperand(1 - i)) return m;
  }
  return std::nullopt;
}

// A constant 1-D f32 tensor of `d` elements (a norm's weight or bias).
bool isVectorConst(Value v, int64_t d) {
  auto t = f32Tensor(v);
  return isConstant(v) && t && t.getRank() == 1 && t.getDimSize(0) == d;
}

// LayerNorm is RMSNorm of the centred input: the matched x is d = Sub(x0, ReduceMean(x0)) over
// the last axis, the mean used only there and d used only by the square and the normalization.
// Returns x0, or null when x is not centred that way.
Value matchCentred(Value x, Operation *normalized) {
  Operation *sub = defOf(x, "Sub");
  if (!sub) return {};
  Value x0 = sub->getOperand(0), mean = sub->getOperand(1);
  Operation *rm = defOf(mean, "ReduceMean");
  auto t = f32Tensor(x0);
  if (!rm || !t || rm->getOperand(0) != x0 || !hasOneUse(mean) || !isLastAxisMean(rm, t.getRank())) return {};
  llvm::SmallPtrSet<Operation *, 4> users{normalized};
  for (Operation *u : x.getUsers())
    if (u != normalized && (isOp(u, "Mul") || isOp(u, "Pow")) && hasOneUse(u->getResult(0)) && isSquareOf(u->getResult(0), x))
      users.insert(u);
  return usesWithin(x, users) && x.getType() == x0.getType() ? x0 : Value();
}

// Mul(normalized(x), w) with w a constant of the last dim's size → slm.rms_norm(x, w); when x is
// centred (LayerNorm), → LayerNormalization(x0, w[, b]) over the last axis, taking in a following
// Add of a constant bias b.
struct FuseRmsNorm : RewritePattern {
  FuseRmsNorm(MLIRContext *ctx) : RewritePattern("slm.Mul", 1, ctx) {}
  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rewriter) const override {
    for (int i = 0; i < 2; ++i) {
      Value n = op->getOperand(i), w = op->getOperand(1 - i);
      auto m = hasOneUse(n) ? matchNormalized(n) : std::nullopt;
      if (!m) continue;
      auto xt = f32Tensor(m->x), wt = f32Tensor(w);
      int64_t d = xt.getDimSize(xt.getRank() - 1);
      if (!isVectorConst(w, d) || ShapedType::isDynamic(d) || op->getResult(0).getType() != m->x.getType())
        continue;
      if (Value x0 = matchCentred(m->x, n.getDefiningOp())) {
        rewriteLayerNorm(rewriter, op, x0, w, m->eps);
        return success();
      }
      auto norm = rewriter.create<slm::RmsNormOp>(op->getLoc(), xt, m->x, w, rewriter.getF32FloatAttr(m->eps));
      copyNames(op, norm);
      replaceAndClean(rewriter, op, norm->getResults());
      return success();
    }
    return failure();
  }

  static void rewriteLayerNorm(PatternRewriter &rewriter, Operation *mul, Value x0, Value w, double eps) {
    auto xt = f32Tensor(x0);
    int64_t d = xt.getDimSize(xt.getRank() - 1);
    Operation *root = mul;
    Value bias;
    Value y = mul->getResult(0);
    if (hasOneUse(y)) {
      Operation *add = *y.getUsers().begin();
      Value b;
      if (commuted(add, "Add", [&](Value v) { return v == y; }, y, b) && isVectorConst(b, d) &&
          add->getResult(0).getType() == xt) {
        root = add;
        bias = b;
      }
    }
    rewriter.setInsertionPoint(root);
    auto norm = rewriter.create<slm::OnnxLayerNormalizationOp>(
        root->getLoc(), xt, Type(), Type(), x0, w, bias, rewriter.getI64IntegerAttr(-1),
        rewriter.getF32FloatAttr(eps), rewriter.getI64IntegerAttr(1));
    copyNames(root, norm);
    replaceAndClean(rewriter, root, norm->getResult(0));
  }
};

struct FuseNormPass : impl::FuseNormBase<FuseNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseRmsNorm>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns)))) signalPassFailure();
  }
};

} // namespace
} // namespace slmc
