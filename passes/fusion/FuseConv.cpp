// slm-fuse-conv: BatchNormalization folded into the preceding Conv's constants; Conv + activation → slm.fused_conv.
#include "passes/fusion/Match.h"
#include "passes/fusion/Passes.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>
#include <cstring>

using namespace mlir;

namespace slmc {
#define GEN_PASS_DEF_FUSECONV
#include "passes/fusion/Passes.h.inc"

namespace {
using namespace match;

// The float32 values of an slm.constant (dense or resource).
std::optional<std::vector<float>> readF32(Value v) {
  auto c = v ? v.getDefiningOp<slm::ConstantOp>() : nullptr;
  auto type = c ? dyn_cast<ShapedType>(c.getValue().getType()) : nullptr;
  if (!type || !type.getElementType().isF32()) return std::nullopt;
  std::vector<float> out(size_t(type.getNumElements()));
  if (auto d = dyn_cast<DenseElementsAttr>(c.getValue())) {
    auto vals = d.getValues<float>();
    std::copy(vals.begin(), vals.end(), out.begin());
    return out;
  }
  if (auto r = dyn_cast<DenseResourceElementsAttr>(c.getValue())) {
    AsmResourceBlob *blob = r.getRawHandle().getBlob();
    if (!blob || blob->getData().size() != out.size() * sizeof(float)) return std::nullopt;
    std::memcpy(out.data(), blob->getData().data(), blob->getData().size());
    return out;
  }
  return std::nullopt;
}

Value makeConst(PatternRewriter &rewriter, Location loc, ShapedType type, ArrayRef<float> vals, StringRef name) {
  auto t = RankedTensorType::get(type.getShape(), rewriter.getF32Type());
  return rewriter.create<slm::ConstantOp>(loc, t, DenseElementsAttr::get(t, vals), rewriter.getStringAttr(name));
}

// BatchNormalization(Conv(x, W, B)) in inference with constant W, B and BN parameters →
// Conv(x, W * f, (B - mean) * f + beta), f = scale / sqrt(var + eps) per output channel.
struct FoldConvBatchNorm : RewritePattern {
  FoldConvBatchNorm(MLIRContext *ctx) : RewritePattern("slm.BatchNormalization", 2, ctx) {}
  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rewriter) const override {
    auto conv = op->getOperand(0).getDefiningOp<slm::OnnxConvOp>();
    if (!conv || !op->getOperand(0).hasOneUse() || intAttr(op, "training_mode").value_or(0) ||
        intAttr(op, "spatial").value_or(1) != 1 || !f32Tensor(conv.getY()))
      return failure();
    for (unsigned i = 1; i < op->getNumResults(); ++i)
      if (!op->getResult(i).use_empty()) return failure();
    auto w = readF32(conv.getW());
    auto wt = f32Tensor(conv.getW());
    if (!w || !wt || !wt.hasStaticShape()) return failure();
    int64_t m = wt.getDimSize(0), per = int64_t(w->size()) / m;
    std::vector<float> p[4];
    for (int i = 0; i < 4; ++i) {
      auto v = readF32(op->getOperand(1 + i));
      if (!v || int64_t(v->size()) != m) return failure();
      p[i] = *v;
    }
    std::vector<float> b(size_t(m), 0.0f);
    if (conv.getB()) {
      auto v = readF32(conv.getB());
      if (!v || int64_t(v->size()) != m) return failure();
      b = *v;
    }
    double eps = floatAttr(op, "epsilon").value_or(1e-5);
    for (int64_t o = 0; o < m; ++o) {
      float f = float(p[0][o] / std::sqrt(double(p[3][o]) + eps));
      for (int64_t k = 0; k < per; ++k) (*w)[o * per + k] *= f;
      b[o] = (b[o] - p[2][o]) * f + p[1][o];
    }
    Value nw = makeConst(rewriter, op->getLoc(), wt, *w, "bnfold.W");
    Value nb = makeConst(rewriter, op->getLoc(), RankedTensorType::get({m}, rewriter.getF32Type()), b, "bnfold.B");
    auto folded = cast<slm::OnnxConvOp>(rewriter.clone(*conv));
    folded->setOperands({conv.getX(), nw, nb});
    copyNames(op, folded);
    rewriter.replaceAllUsesWith(op->getResult(0), folded.getY());
    eraseDead(rewriter, {op->getResult(0)});
    return success();
  }
};

// True when the Conv reads DequantizeLinear outputs: a QDQ island kept whole for the quant passes.
bool isQdqConv(slm::OnnxConvOp conv) {
  return defOf(conv.getX(), "DequantizeLinear") || defOf(conv.getW(), "DequantizeLinear");
}

// Relu / Sigmoid / Tanh / Clip(constant bounds) of a single-use float Conv → slm.fused_conv.
struct ConvActivation : RewritePattern {
  ConvActivation(MLIRContext *ctx) : RewritePattern(MatchAnyOpTypeTag(), 1, ctx) {}
  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rewriter) const override {
    static const llvm::StringMap<StringRef> kActs = {
        {"Relu", "relu"}, {"Sigmoid", "sigmoid"}, {"Tanh", "tanh"}, {"Clip", "clip"}};
    if (!isa<slm::SlmDialect>(op->getDialect()) || op->getNumOperands() < 1) return failure();
    auto it = kActs.find(op->getName().stripDialect());
    auto conv = op->getOperand(0).getDefiningOp<slm::OnnxConvOp>();
    if (it == kActs.end() || !conv || isQdqConv(conv) || !op->getOperand(0).hasOneUse() || !f32Tensor(conv.getY()) ||
        op->getResult(0).getType() != conv.getY().getType())
      return failure();
    FloatAttr lo, hi;
    if (it->second == "clip") {
      auto clip = cast<slm::OnnxClipOp>(op);
      auto l = clip.getMin() ? scalarConst(clip.getMin()) : std::optional<double>(-INFINITY);
      auto h = clip.getMax() ? scalarConst(clip.getMax()) : std::optional<double>(INFINITY);
      if (!l || !h || clip.getMinAttrAttr() || clip.getMaxAttrAttr()) return failure();
      lo = rewriter.getF32FloatAttr(float(*l));
      hi = rewriter.getF32FloatAttr(float(*h));
    }
    auto fused = rewriter.create<slm::FusedConvOp>(
        op->getLoc(), conv.getY().getType(), conv.getX(), conv.getW(), conv.getB(), conv.getAutoPadAttr(),
        conv.getDilationsAttr(), conv.getGroupAttr(), conv.getKernelShapeAttr(), conv.getPadsAttr(),
        conv.getStridesAttr(), rewriter.getStringAttr(it->second), lo, hi);
    if (Attribute opset = conv->getAttr(slm::kOpsetAttr)) fused->setAttr(slm::kOpsetAttr, opset);
    copyNames(op, fused);
    replaceAndClean(rewriter, op, fused->getResults());
    return success();
  }
};

struct FuseConvPass : impl::FuseConvBase<FuseConvPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldConvBatchNorm, ConvActivation>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns)))) signalPassFailure();
  }
};

} // namespace
} // namespace slmc
