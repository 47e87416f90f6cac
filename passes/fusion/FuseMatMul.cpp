// slm-fuse-matmul: MatMul/Gemm with their bias, activation, multiplier and residual → slm.fused_matmul.
#include "passes/fusion/Match.h"
#include "passes/fusion/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace slmc {
#define GEN_PASS_DEF_FUSEMATMUL
#include "passes/fusion/Passes.h.inc"

namespace {
using namespace match;

// The fields of an slm.fused_matmul, changed one epilogue at a time.
struct Fused {
  Value a, b, bias, mul, residual;
  StringAttr act;
  FloatAttr lo, hi;
  IntegerAttr transB;
};

Fused read(slm::FusedMatMulOp op) {
  return {op.getA(), op.getB(), op.getBias(), op.getMul(), op.getResidual(), op.getActivationAttr(),
          op.getClipMinAttr(), op.getClipMaxAttr(), op.getTransBAttr()};
}

void build(PatternRewriter &rewriter, Operation *root, Type type, const Fused &f) {
  auto op = rewriter.create<slm::FusedMatMulOp>(root->getLoc(), type, f.a, f.b, f.bias, f.mul, f.residual, f.act,
                                                f.lo, f.hi, f.transB);
  copyNames(root, op);
  replaceAndClean(rewriter, root, op->getResults());
}

// A fused_matmul with one user and nothing after its activation yet.
slm::FusedMatMulOp openFused(Value v, bool allowAct) {
  auto op = v.getDefiningOp<slm::FusedMatMulOp>();
  if (!op || !v.hasOneUse() || op.getMul() || op.getResidual() || (!allowAct && op.getActivationAttr()))
    return nullptr;
  return op;
}

// Same rank and every dim provably equal (static, or the same origin).
bool sameShape(Value x, Value y) {
  auto xt = f32Tensor(x), yt = f32Tensor(y);
  if (!xt || !yt || xt.getRank() != yt.getRank()) return false;
  for (int64_t i = 0; i < xt.getRank(); ++i) {
    DimRef a = dimOrigin(x, i), b = dimOrigin(y, i);
    if (!(a == b) || (a.value < 0 && !a.root)) return false;
  }
  return true;
}

// MatMul(a, w) with w a constant [K, N], or Transpose(w', [1, 0]) of a constant [N, K] (tied
// embeddings) read in place with trans_b.
struct MatMulToFused : RewritePattern {
  MatMulToFused(MLIRContext *ctx) : RewritePattern("slm.MatMul", 1, ctx) {}
  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rewriter) const override {
    auto at = f32Tensor(op->getOperand(0)), bt = f32Tensor(op->getOperand(1));
    if (!at || !bt || at.getRank() < 2 || bt.getRank() != 2 || !f32Tensor(op->getResult(0))) return failure();
    Fused f{op->getOperand(0), op->getOperand(1)};
    Operation *tr = defOf(f.b, "Transpose");
    if (tr && isConstant(tr->getOperand(0)) && intsAttr(tr, "perm").value_or(SmallVector<int64_t>{1, 0}) ==
                                                   SmallVector<int64_t>{1, 0}) {
      f.b = tr->getOperand(0);
      f.transB = rewriter.getI64IntegerAttr(1);
    } else if (!isConstant(f.b)) {
      return failure();
    }
    build(rewriter, op, op->getResult(0).getType(), f);
    return success();
  }
};

struct GemmToFused : RewritePattern {
  GemmToFused(MLIRContext *ctx) : RewritePattern("slm.Gemm", 1, ctx) {}
  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rewriter) const override {
    auto at = f32Tensor(op->getOperand(0)), bt = f32Tensor(op->getOperand(1));
    auto yt = f32Tensor(op->getResult(0));
    if (!at || !bt || !yt || at.getRank() != 2 || bt.getRank() != 2 || intAttr(op, "transA").value_or(0) ||
        floatAttr(op, "alpha").value_or(1.0) != 1.0 || floatAttr(op, "beta").value_or(1.0) != 1.0)
      return failure();
    Fused f{op->getOperand(0), op->getOperand(1)};
    if (op->getNumOperands() > 2) {
      auto ct = f32Tensor(op->getOperand(2));
      int64_t n = yt.getDimSize(1);
      if (!ct || ShapedType::isDynamic(n) || ct.getNumElements() != n || (ct.getRank() == 2 && ct.getDimSize(0) != 1))
        return failure();
      f.bias = op->getOperand(2);
    }
    if (intAttr(op, "transB").value_or(0)) f.transB = rewriter.getI64IntegerAttr(1);
    build(rewriter, op, yt, f);
    return success();
  }
};

// Add(fm, c): c a constant [1, .., N] → bias; else Add(fm, r) with r of the output's shape → residual.
struct AddEpilogue : RewritePattern {
  AddEpilogue(MLIRContext *ctx) : RewritePattern("slm.Add", 1, ctx) {}
  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rewriter) const override {
    for (int i = 0; i < 2; ++i) {
      auto fm = openFused(op->getOperand(i), true);
      Value other = op->getOperand(1 - i);
      if (!fm || other == op->getOperand(i) || op->getResult(0).getType() != fm.getType()) continue;
      Fused f = read(fm);
      auto yt = f32Tensor(fm.getResult()), ct = f32Tensor(other);
      int64_t n = yt.getDimSize(yt.getRank() - 1);
      if (isConstant(other) && !f.bias && !f.act && ct && !ShapedType::isDynamic(n) && ct.getNumElements() == n &&
          ct.getRank() <= yt.getRank() && ct.getDimSize(ct.getRank() - 1) == n) {
        f.bias = other;
      } else if (sameShape(other, fm.getResult())) {
        f.residual = other;
      } else {
        continue;
      }
      build(rewriter, op, fm.getType(), f);
      return success();
    }
    return failure();
  }
};

// Mul(fm, g) with g of the output's shape → mul (SwiGLU's gate·up).
struct MulEpilogue : RewritePattern {
  MulEpilogue(MLIRContext *ctx) : RewritePattern("slm.Mul", 1, ctx) {}
  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rewriter) const override {
    for (int i : {1, 0}) { // prefer the operand without an activation as the host
      auto fm = openFused(op->getOperand(i), true);
      Value g = op->getOperand(1 - i);
      if (!fm || g == op->getOperand(i) || op->getResult(0).getType() != fm.getType() || !sameShape(g, fm.getResult()))
        continue;
      if (fm.getActivationAttr() && openFused(g, true) && !openFused(g, true).getActivationAttr()) continue;
      Fused f = read(fm);
      f.mul = g;
      build(rewriter, op, fm.getType(), f);
      return success();
    }
    return failure();
  }
};

// Relu / Sigmoid / Tanh / Gelu / Clip(const, const) of an open fused_matmul.
struct ActivationEpilogue : RewritePattern {
  ActivationEpilogue(MLIRContext *ctx) : RewritePattern(MatchAnyOpTypeTag(), 1, ctx) {}
  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rewriter) const override {
    static const llvm::StringMap<StringRef> kActs = {
        {"Relu", "relu"}, {"Sigmoid", "sigmoid"}, {"Tanh", "tanh"}, {"Clip", "clip"}, {"Gelu", "gelu"}};
    if (!isa<slm::SlmDialect>(op->getDialect()) || op->getNumOperands() < 1 || op->getNumResults() != 1)
      return failure();
    auto it = kActs.find(op->getName().stripDialect());
    auto fm = it == kActs.end() ? nullptr : openFused(op->getOperand(0), false);
    if (!fm || op->getResult(0).getType() != fm.getType()) return failure();
    Fused f = read(fm);
    std::string act = it->second.str();
    if (act == "gelu") act = op->getAttrOfType<StringAttr>("approximate") &&
                                     op->getAttrOfType<StringAttr>("approximate").getValue() == "tanh"
                                 ? "gelu_tanh"
                                 : "gelu_erf";
    if (act == "clip") {
      auto clip = cast<slm::OnnxClipOp>(op);
      auto lo = clip.getMin() ? scalarConst(clip.getMin()) : std::optional<double>(-INFINITY);
      auto hi = clip.getMax() ? scalarConst(clip.getMax()) : std::optional<double>(INFINITY);
      if (!lo || !hi || clip.getMinAttrAttr() || clip.getMaxAttrAttr()) return failure();
      f.lo = rewriter.getF32FloatAttr(float(*lo));
      f.hi = rewriter.getF32FloatAttr(float(*hi));
    }
    f.act = rewriter.getStringAttr(act);
    build(rewriter, op, fm.getType(), f);
    return success();
  }
};

// x * Sigmoid(x) → silu; x the open fused_matmul with exactly these two users.
struct SiluEpilogue : RewritePattern {
  SiluEpilogue(MLIRContext *ctx) : RewritePattern("slm.Mul", 2, ctx) {}
  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rewriter) const override {
    for (int i = 0; i < 2; ++i) {
      Value x = op->getOperand(i);
      Operation *sig = defOf(op->getOperand(1 - i), "Sigmoid");
      auto fm = x.getDefiningOp<slm::FusedMatMulOp>();
      if (!sig || sig->getOperand(0) != x || !fm || !hasOneUse(sig->getResult(0)) || fm.getActivationAttr() ||
          fm.getMul() || fm.getResidual() || !usesWithin(x, llvm::SmallPtrSet<Operation *, 2>{op, sig}) ||
          op->getResult(0).getType() != x.getType())
        continue;
      Fused f = read(fm);
      f.act = rewriter.getStringAttr("silu");
      build(rewriter, op, fm.getType(), f);
      return success();
    }
    return failure();
  }
};

// tanh GELU: Mul(Mul(x, 0.5), Add(Tanh(Mul(Add(x, Mul(Mul(Mul(x, 0.044715), x), x)), 0.79788)), 1)).
Value matchGeluTanh(Operation *root, llvm::SmallPtrSetImpl<Operation *> &ops) {
  Value half, rest, x, t, one, inner, c, sum, xx, cube, c3;
  auto isHalfOf = [&](Value v) {
    Operation *m = defOf(v, "Mul");
    Value y, k;
    return commuted(m, "Mul", [](Value u) { return isScalar(u, 0.5); }, k, y) && (x = y);
  };
  if (!commuted(root, "Mul", isHalfOf, half, rest)) return {};
  Operation *add1 = rest.getDefiningOp();
  if (!commuted(add1, "Add", [](Value u) { return isScalar(u, 1.0); }, one, t)) return {};
  Operation *tanh = defOf(t, "Tanh");
  if (!tanh || !commuted(tanh->getOperand(0).getDefiningOp(), "Mul",
                         [](Value u) { return isScalar(u, 0.7978845608, 1e-3); }, c, inner))
    return {};
  Operation *add2 = inner.getDefiningOp();
  if (!commuted(add2, "Add", [&](Value u) { return u == x; }, xx, cube)) return {};
  Operation *m3 = defOf(cube, "Mul"), *m2 = m3 ? defOf(m3->getOperand(0), "Mul") : nullptr;
  Operation *m1 = m2 ? defOf(m2->getOperand(0), "Mul") : nullptr;
  if (!m1 || m3->getOperand(1) != x || m2->getOperand(1) != x || !commuted(m1, "Mul", [&](Value u) { return u == x; }, xx, c3) ||
      !isScalar(c3, 0.044715, 1e-3))
    return {};
  for (Operation *o : {root, half.getDefiningOp(), add1, tanh, tanh->getOperand(0).getDefiningOp(), add2, m3, m2, m1})
    ops.insert(o);
  for (Operation *o : ops)
    if (o != root && !o->getResult(0).hasOneUse()) return {};
  return x;
}

// erf GELU: Mul(Mul(x, Add(Erf(Div(x, 1.41421)), 1)), 0.5) or Mul(Mul(x, 0.5), Add(Erf(..), 1)).
Value matchGeluErf(Operation *root, llvm::SmallPtrSetImpl<Operation *> &ops) {
  Value a, b, k, x, e, one, d;
  if (!commuted(root, "Mul", [](Value) { return true; }, a, b)) return {};
  for (int order = 0; order < 2; ++order, std::swap(a, b)) {
    ops.clear();
    Operation *inner = defOf(a, "Mul"), *add = nullptr;
    if (isScalar(b, 0.5) && inner && commuted(inner, "Mul", [](Value u) { return kind(u) == "Add"; }, e, x))
      add = e.getDefiningOp();
    else if (inner && kind(b) == "Add" && commuted(inner, "Mul", [](Value u) { return isScalar(u, 0.5); }, k, x))
      add = b.getDefiningOp();
    if (!add || !commuted(add, "Add", [](Value u) { return isScalar(u, 1.0); }, one, e)) continue;
    Operation *erf = defOf(e, "Erf"), *div = erf ? defOf(erf->getOperand(0), "Div") : nullptr;
    if (!div || div->getOperand(0) != x || !isScalar(div->getOperand(1), 1.41421356, 1e-3)) continue;
    for (Operation *o : {root, inner, add, erf, div}) ops.insert(o);
    bool single = true;
    for (Operation *o : ops) single &= o == root || o->getResult(0).hasOneUse();
    if (single) return x;
  }
  return {};
}

struct GeluEpilogue : RewritePattern {
  GeluEpilogue(MLIRContext *ctx) : RewritePattern("slm.Mul", 2, ctx) {}
  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rewriter) const override {
    for (bool tanh : {true, false}) {
      llvm::SmallPtrSet<Operation *, 12> ops;
      Value x = tanh ? matchGeluTanh(op, ops) : matchGeluErf(op, ops);
      auto fm = x ? x.getDefiningOp<slm::FusedMatMulOp>() : nullptr;
      if (!fm || fm.getActivationAttr() || fm.getMul() || fm.getResidual() || !usesWithin(x, ops) ||
          op->getResult(0).getType() != x.getType())
        continue;
      Fused f = read(fm);
      f.act = rewriter.getStringAttr(tanh ? "gelu_tanh" : "gelu_erf");
      build(rewriter, op, fm.getType(), f);
      return success();
    }
    return failure();
  }
};

struct FuseMatMulPass : impl::FuseMatMulBase<FuseMatMulPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<MatMulToFused, GemmToFused, AddEpilogue, MulEpilogue, ActivationEpilogue, SiluEpilogue,
                 GeluEpilogue>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns)))) signalPassFailure();
  }
};

} // namespace
} // namespace slmc
