// slm-quantize-static: Conv / fused_conv(relu) with calibrated activation ranges → QDQ form for slm-fuse-qdq.
#include "passes/quant/Passes.h"

#include "ConstantData.h"
#include "passes/quant/WeightQuantizer.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <algorithm>
#include <cmath>

using namespace mlir;

namespace slmc {
#define GEN_PASS_DEF_QUANTIZESTATIC
#include "passes/quant/Passes.h.inc"

namespace {

struct Affine {
  float scale = 1.0f;
  uint8_t zero = 0;
};

// uint8 parameters of a [lo, hi] range widened to include 0 (so 0 is exact, e.g. padding).
Affine affineOf(ArrayAttr range) {
  double lo = std::min(0.0, cast<FloatAttr>(range[0]).getValueAsDouble());
  double hi = std::max(0.0, cast<FloatAttr>(range[1]).getValueAsDouble());
  Affine a;
  a.scale = hi > lo ? float((hi - lo) / 255.0) : 1.0f;
  a.zero = uint8_t(std::clamp(std::lround(-lo / a.scale), 0L, 255L));
  return a;
}

Value scalar(OpBuilder &b, Location loc, Attribute value, Type type) {
  return b.create<slm::ConstantOp>(loc, type, cast<ElementsAttr>(value), StringAttr());
}

// QuantizeLinear → DequantizeLinear of v with `a`.
Value fakeQuant(OpBuilder &b, Location loc, Value v, const Affine &a) {
  auto t = cast<RankedTensorType>(v.getType());
  auto f32 = RankedTensorType::get({}, b.getF32Type());
  auto u8 = RankedTensorType::get({}, b.getIntegerType(8, false));
  Value s = scalar(b, loc, DenseElementsAttr::get(f32, a.scale), f32);
  Value z = scalar(b, loc, DenseElementsAttr::get(u8, APInt(8, a.zero)), u8);
  auto qt = RankedTensorType::get(t.getShape(), b.getIntegerType(8, false));
  Value q = b.create<slm::OnnxQuantizeLinearOp>(loc, qt, v, s, z, IntegerAttr());
  return b.create<slm::OnnxDequantizeLinearOp>(loc, t, q, s, z, IntegerAttr());
}

// DequantizeLinear of the int8 weight, symmetric per output channel (axis 0).
Value quantizedWeight(OpBuilder &b, Location loc, slm::ConstantOp w) {
  auto wt = cast<RankedTensorType>(w.getType());
  std::vector<float> values = slm::constantFloats(w), scales;
  int64_t m = wt.getDimSize(0), per = m ? int64_t(values.size()) / m : 0;
  QuantizedMatrix q = quantizePerChannelInt8(values.data(), m, per, &scales);
  auto i8 = b.getIntegerType(8);
  auto codesT = RankedTensorType::get(wt.getShape(), i8);
  auto vecF = RankedTensorType::get({m}, b.getF32Type()), vecI = RankedTensorType::get({m}, i8);
  std::vector<int8_t> codes(q.codes.begin(), q.codes.end());
  std::string name = w.getName() ? w.getName()->str() : "conv.w";
  Value c = b.create<slm::ConstantOp>(loc, codesT, DenseElementsAttr::get(codesT, ArrayRef<int8_t>(codes)),
                                      b.getStringAttr(name + ".int8"));
  Value s = b.create<slm::ConstantOp>(loc, vecF, DenseElementsAttr::get(vecF, ArrayRef<float>(scales)),
                                      b.getStringAttr(name + ".scale"));
  Value z = b.create<slm::ConstantOp>(loc, vecI, DenseElementsAttr::get(vecI, ArrayRef<int8_t>(std::vector<int8_t>(size_t(m), 0))),
                                      b.getStringAttr(name + ".zero"));
  return b.create<slm::OnnxDequantizeLinearOp>(loc, wt, c, s, z, b.getI64IntegerAttr(0));
}

struct QuantizeStaticPass : impl::QuantizeStaticBase<QuantizeStaticPass> {
  void runOnOperation() override {
    SmallVector<Operation *> candidates;
    getOperation().walk([&](Operation *op) {
      if (op->hasAttr("slm.range_x") && op->hasAttr("slm.range_y")) candidates.push_back(op);
    });
    for (Operation *op : candidates) {
      auto rx = op->getAttrOfType<ArrayAttr>("slm.range_x"), ry = op->getAttrOfType<ArrayAttr>("slm.range_y");
      op->removeAttr("slm.range_x");
      op->removeAttr("slm.range_y");
      bool relu = false;
      double cap = INFINITY; // ReLU6-style Clip(0, cap): a ReLU whose output range ends at cap
      if (auto fc = dyn_cast<slm::FusedConvOp>(op)) {
        bool clip0 = fc.getActivation() == "clip" && fc.getClipMin() && fc.getClipMin()->convertToFloat() == 0.0f &&
                     fc.getClipMax();
        if (fc.getActivation() != "relu" && !clip0) continue;
        relu = true;
        if (clip0) cap = fc.getClipMax()->convertToDouble();
      } else if (!isa<slm::OnnxConvOp>(op)) {
        continue;
      }
      auto w = op->getOperand(1).getDefiningOp<slm::ConstantOp>();
      auto xt = dyn_cast<RankedTensorType>(op->getOperand(0).getType());
      auto wt = w ? dyn_cast<RankedTensorType>(w.getType()) : nullptr;
      if (!w || !wt || !wt.hasStaticShape() || !wt.getElementType().isF32() || !xt || rx.size() != 2 || ry.size() != 2)
        continue;
      OpBuilder b(op);
      Location loc = op->getLoc();
      Value x = fakeQuant(b, loc, op->getOperand(0), affineOf(rx));
      Value wd = quantizedWeight(b, loc, w);
      Value bias = op->getNumOperands() > 2 ? op->getOperand(2) : Value();
      auto get = [&](StringRef n) { return op->getAttr(n); };
      auto conv = b.create<slm::OnnxConvOp>(
          loc, op->getResult(0).getType(), x, wd, bias, dyn_cast_or_null<StringAttr>(get("auto_pad")),
          dyn_cast_or_null<ArrayAttr>(get("dilations")), dyn_cast_or_null<IntegerAttr>(get("group")),
          dyn_cast_or_null<ArrayAttr>(get("kernel_shape")), dyn_cast_or_null<ArrayAttr>(get("pads")),
          dyn_cast_or_null<ArrayAttr>(get("strides")));
      for (StringRef n : {slm::kNodeNameAttr, slm::kOpsetAttr})
        if (Attribute a = op->getAttr(n)) conv->setAttr(n, a);
      Value y = conv.getResult();
      if (relu) y = b.create<slm::OnnxReluOp>(loc, y.getType(), y);
      if (cap < cast<FloatAttr>(ry[1]).getValueAsDouble()) ry = b.getArrayAttr({ry[0], b.getF64FloatAttr(cap)});
      y = fakeQuant(b, loc, y, affineOf(ry));
      op->getResult(0).replaceAllUsesWith(y);
      op->erase();
    }
  }
};

} // namespace
} // namespace slmc
