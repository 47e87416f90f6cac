// slm-fuse-qdq: QDQ islands (DequantizeLinear → Conv/MatMul → QuantizeLinear) → QLinearConv/QLinearMatMul.
#include "passes/fusion/Match.h"
#include "passes/quant/Passes.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>
#include <cstring>

using namespace mlir;

namespace slmc {
#define GEN_PASS_DEF_FUSEQDQ
#include "passes/quant/Passes.h.inc"

namespace {
using namespace match;

// Values of an slm.constant (f32, 8-bit or i32; dense or resource) as doubles.
std::optional<std::vector<double>> constValues(Value v) {
  auto c = v ? v.getDefiningOp<slm::ConstantOp>() : nullptr;
  auto type = c ? dyn_cast<ShapedType>(c.getValue().getType()) : nullptr;
  if (!type || !type.hasStaticShape()) return std::nullopt;
  Type et = type.getElementType();
  auto it = dyn_cast<IntegerType>(et);
  bool isF32 = et.isF32(), isInt = it && (it.getWidth() == 8 || it.getWidth() == 32);
  if (!isF32 && !isInt) return std::nullopt;
  std::vector<double> out;
  out.reserve(size_t(type.getNumElements()));
  if (auto d = dyn_cast<DenseElementsAttr>(c.getValue())) {
    if (isF32)
      for (const APFloat &f : d.getValues<APFloat>()) out.push_back(f.convertToDouble());
    else
      for (const APInt &i : d.getValues<APInt>())
        out.push_back(it.isUnsigned() ? double(i.getZExtValue()) : double(i.getSExtValue()));
    return out;
  }
  auto r = dyn_cast<DenseResourceElementsAttr>(c.getValue());
  AsmResourceBlob *blob = r ? r.getRawHandle().getBlob() : nullptr;
  size_t width = et.getIntOrFloatBitWidth() / 8, n = size_t(type.getNumElements());
  if (!blob || blob->getData().size() != n * width) return std::nullopt;
  const char *p = blob->getData().data();
  for (size_t i = 0; i < n; ++i, p += width) {
    if (isF32) {
      float f;
      std::memcpy(&f, p, 4);
      out.push_back(f);
    } else if (width == 4) {
      int32_t v;
      std::memcpy(&v, p, 4);
      out.push_back(v);
    } else {
      out.push_back(it.isUnsigned() ? double(uint8_t(*p)) : double(int8_t(*p)));
    }
  }
  return out;
}

bool is8Bit(Type t) {
  auto it = dyn_cast<IntegerType>(getElementTypeOrSelf(t));
  return it && it.getWidth() == 8;
}

// A DequantizeLinear of 8-bit data with constant scales and zero points (zp null: absent = 0).
struct Dequant {
  Operation *op = nullptr;
  Value q, scale, zp;
  std::vector<double> scales;
  int64_t axis = 1; // normalized against q's rank
};

std::optional<Dequant> dequant(Value v) {
  auto dq = v ? v.getDefiningOp<slm::OnnxDequantizeLinearOp>() : nullptr;
  if (!dq || !is8Bit(dq.getX().getType())) return std::nullopt;
  auto qt = dyn_cast<RankedTensorType>(dq.getX().getType());
  auto scales = constValues(dq.getXScale());
  if (!qt || !scales || scales->empty()) return std::nullopt;
  for (double s : *scales)
    if (!(s > 0) || !std::isfinite(s)) return std::nullopt;
  if (Value zp = dq.getXZeroPoint()) {
    auto z = constValues(zp);
    if (!z || z->size() != scales->size() || getElementTypeOrSelf(zp.getType()) != qt.getElementType())
      return std::nullopt;
  }
  int64_t axis = intAttr(dq, "axis").value_or(1);
  if (axis < 0) axis += qt.getRank();
  return Dequant{dq, dq.getX(), dq.getXScale(), dq.getXZeroPoint(), *scales, axis};
}

// Per-tensor parameters: one scale (and zero point) whatever the axis.
bool perTensor(const Dequant &d) { return d.scales.size() == 1; }
// Per-tensor, or per-channel along `axis` with `n` channels.
bool perChannel(const Dequant &d, int64_t axis, int64_t n) {
  return perTensor(d) || (d.axis == axis && int64_t(d.scales.size()) == n);
}

// `zp`, or a scalar 0 of `quantized`'s element type when the Q/DQ op had none (ONNX's default).
Value zeroPoint(PatternRewriter &rewriter, Location loc, Value zp, Value quantized) {
  if (zp) return zp;
  auto t = RankedTensorType::get({}, getElementTypeOrSelf(quantized.getType()));
  return rewriter.create<slm::ConstantOp>(loc, t, DenseElementsAttr::get(t, APInt(8, 0)),
                                          rewriter.getStringAttr("qdq.zero_point"));
}

// The QuantizeLinear output side: the op the float result flows into, looking through a Relu
// that the QuantizeLinear clamp already implies (zero point = the type's minimum).
struct Requant {
  Value floatIn; // the Conv/MatMul result
  double zp = 0;
};

std::optional<Requant> requant(slm::OnnxQuantizeLinearOp q) {
  auto s = constValues(q.getYScale());
  if (!s || s->size() != 1 || !((*s)[0] > 0)) return std::nullopt;
  double zp = 0;
  if (Value z = q.getYZeroPoint()) {
    auto zv = constValues(z);
    if (!zv || zv->size() != 1) return std::nullopt;
    zp = (*zv)[0];
  }
  Value in = q.getX();
  if (Operation *relu = defOf(in, "Relu")) {
    auto it = cast<IntegerType>(getElementTypeOrSelf(q.getY().getType()));
    double qmin = it.isUnsigned() ? 0.0 : -128.0;
    if (zp != qmin || !in.hasOneUse()) return std::nullopt;
    in = relu->getOperand(0);
  }
  if (!in.hasOneUse() || !f32Tensor(in)) return std::nullopt;
  return Requant{in, zp};
}

// Copies `from`'s attributes (ONNX attributes and slm.opset) onto `to`; the tensor names come
// from `names`, the op whose result `to` replaces.
void carryAttrs(Operation *from, Operation *names, Operation *to) {
  for (NamedAttribute a : from->getAttrDictionary())
    if (a.getName() != slm::kNodeNameAttr && a.getName() != slm::kOutputNamesAttr)
      to->setAttr(a.getName(), a.getValue());
  copyNames(names, to);
}

// The Conv bias as int32 with scale xs * ws[o] and zero point 0, or null when it cannot be.
Value convBias(PatternRewriter &rewriter, Location loc, Value b, double xs, const std::vector<double> &ws, int64_t m) {
  auto scaleAt = [&](int64_t o) { return xs * ws[ws.size() == 1 ? 0 : o]; };
  if (auto dq = b.getDefiningOp<slm::OnnxDequantizeLinearOp>()) {
    // An int32 bias is kept when its parameters are the product QLinearConv implies.
    auto bt = dyn_cast<RankedTensorType>(dq.getX().getType());
    auto s = constValues(dq.getXScale());
    auto z = dq.getXZeroPoint() ? constValues(dq.getXZeroPoint()) : std::vector<double>(1, 0.0);
    if (!bt || !bt.getElementType().isInteger(32) || bt.getRank() != 1 || bt.getDimSize(0) != m || !s || !z ||
        (s->size() != 1 && int64_t(s->size()) != m))
      return {};
    for (double zv : *z)
      if (zv != 0) return {};
    for (int64_t o = 0; o < m; ++o)
      if (std::abs((*s)[s->size() == 1 ? 0 : o] - scaleAt(o)) > 1e-6 * scaleAt(o)) return {};
    return dq.getX();
  }
  auto f = constValues(b);
  auto ft = f32Tensor(b);
  if (!f || !ft || int64_t(f->size()) != m) return {};
  std::vector<int32_t> q(static_cast<size_t>(m));
  for (int64_t o = 0; o < m; ++o) {
    double v = std::nearbyint((*f)[o] / scaleAt(o));
    if (std::abs(v) > 2147483647.0) return {};
    q[o] = int32_t(v);
  }
  auto t = RankedTensorType::get({m}, rewriter.getI32Type());
  return rewriter.create<slm::ConstantOp>(loc, t, DenseElementsAttr::get(t, ArrayRef<int32_t>(q)),
                                          rewriter.getStringAttr("qdq.bias"));
}

// Q(Conv(DQ(x), DQ(w), bias)) → QLinearConv.
struct QdqConv : OpRewritePattern<slm::OnnxQuantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(slm::OnnxQuantizeLinearOp q, PatternRewriter &rewriter) const override {
    auto r = requant(q);
    auto conv = r ? r->floatIn.getDefiningOp<slm::OnnxConvOp>() : nullptr;
    if (!conv) return failure();
    auto x = dequant(conv.getX()), w = dequant(conv.getW());
    auto wt = w ? dyn_cast<RankedTensorType>(w->q.getType()) : nullptr;
    if (!x || !perTensor(*x) || !wt || !wt.hasStaticShape() || !perChannel(*w, 0, wt.getDimSize(0))) return failure();
    Location loc = q.getLoc();
    Value bias;
    if (conv.getB()) {
      bias = convBias(rewriter, loc, conv.getB(), x->scales[0], w->scales, wt.getDimSize(0));
      if (!bias) return failure();
    }
    SmallVector<Value> operands = {x->q,         x->scale, zeroPoint(rewriter, loc, x->zp, x->q),
                                   w->q,         w->scale, zeroPoint(rewriter, loc, w->zp, w->q),
                                   q.getYScale()};
    operands.push_back(zeroPoint(rewriter, loc, q.getYZeroPoint(), q.getY()));
    if (bias) operands.push_back(bias);
    auto fused = rewriter.create<slm::OnnxQLinearConvOp>(loc, TypeRange{q.getY().getType()}, operands);
    carryAttrs(conv, q, fused);
    replaceAndClean(rewriter, q, fused->getResults());
    return success();
  }
};

// Q(MatMul(DQ(a), DQ(b))) → QLinearMatMul; a bias Add in between is not matched.
struct QdqMatMul : OpRewritePattern<slm::OnnxQuantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(slm::OnnxQuantizeLinearOp q, PatternRewriter &rewriter) const override {
    auto r = requant(q);
    auto mm = r ? r->floatIn.getDefiningOp<slm::OnnxMatMulOp>() : nullptr;
    if (!mm) return failure();
    auto a = dequant(mm.getA()), b = dequant(mm.getB());
    auto bt = b ? dyn_cast<RankedTensorType>(b->q.getType()) : nullptr;
    if (!a || !perTensor(*a) || !bt || !bt.hasStaticShape() ||
        (!perTensor(*b) && (bt.getRank() != 2 || !perChannel(*b, 1, bt.getDimSize(1)))))
      return failure();
    Location loc = q.getLoc();
    Value yzp = zeroPoint(rewriter, loc, q.getYZeroPoint(), q.getY());
    auto fused = rewriter.create<slm::OnnxQLinearMatMulOp>(
        loc, TypeRange{q.getY().getType()},
        ValueRange{a->q, a->scale, zeroPoint(rewriter, loc, a->zp, a->q), b->q, b->scale,
                   zeroPoint(rewriter, loc, b->zp, b->q), q.getYScale(), yzp});
    carryAttrs(mm, q, fused);
    replaceAndClean(rewriter, q, fused->getResults());
    return success();
  }
};

// MaxPool(DQ(q)) → DQ(MaxPool(q)) for a per-tensor DequantizeLinear: max commutes with a
// positive scale, and a following Conv then reads a DequantizeLinear again.
struct MaxPoolOfDequant : OpRewritePattern<slm::OnnxMaxPoolOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(slm::OnnxMaxPoolOp pool, PatternRewriter &rewriter) const override {
    auto d = dequant(pool.getX());
    auto yt = dyn_cast<RankedTensorType>(pool.getY().getType());
    if (!d || !perTensor(*d) || !yt || (pool.getIndices() && !pool.getIndices().use_empty())) return failure();
    Location loc = pool.getLoc();
    auto qt = RankedTensorType::get(yt.getShape(), getElementTypeOrSelf(d->q.getType()));
    auto qpool = rewriter.create<slm::OnnxMaxPoolOp>(loc, TypeRange{qt}, ValueRange{d->q});
    for (NamedAttribute a : pool->getAttrDictionary())
      if (a.getName() != slm::kNodeNameAttr && a.getName() != slm::kOutputNamesAttr)
        qpool->setAttr(a.getName(), a.getValue());
    SmallVector<Value> dqIn = {qpool.getY(), d->scale};
    if (d->zp) dqIn.push_back(d->zp);
    auto dq = rewriter.create<slm::OnnxDequantizeLinearOp>(loc, TypeRange{yt}, dqIn);
    carryAttrs(d->op, pool, dq);
    rewriter.replaceAllUsesWith(pool.getY(), dq.getY());
    eraseDead(rewriter, {pool.getY()});
    return success();
  }
};

// Q(DQ(q, s, z), s, z) → q: requantizing to the same constant scale and zero point is the identity.
struct CancelRequant : OpRewritePattern<slm::OnnxQuantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(slm::OnnxQuantizeLinearOp q, PatternRewriter &rewriter) const override {
    auto dq = q.getX().getDefiningOp<slm::OnnxDequantizeLinearOp>();
    if (!dq || dq.getX().getType() != q.getY().getType() || !q.getYZeroPoint() || !dq.getXZeroPoint()) return failure();
    auto same = [](Value a, Value b) {
      auto x = constValues(a), y = constValues(b);
      return x && y && x->size() == 1 && *x == *y;
    };
    if (!same(q.getYScale(), dq.getXScale()) || !same(q.getYZeroPoint(), dq.getXZeroPoint())) return failure();
    rewriter.replaceOp(q, dq.getX());
    return success();
  }
};

struct FuseQdqPass : impl::FuseQdqBase<FuseQdqPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<QdqConv, QdqMatMul, MaxPoolOfDequant, CancelRequant>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns)))) signalPassFailure();
  }
};

} // namespace
} // namespace slmc
