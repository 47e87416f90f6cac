// slm-quantize-weights: constant matmul weights and embedding tables → int8/int4 codes + float16 group scales.
#include "passes/quant/Passes.h"
#include "passes/quant/WeightQuantizer.h"
#include "ConstantData.h"

#include "kernel_util.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/Regex.h"

#include <cmath>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace slmc {
#define GEN_PASS_DEF_QUANTIZEWEIGHTS
#include "passes/quant/Passes.h.inc"

namespace {

using namespace mlir;


Value makeConstant(OpBuilder &b, Location loc, ArrayRef<int64_t> shape, Type et, const void *data, size_t bytes,
                   const std::string &name) {
  return slm::makeResourceConstant(b, loc, shape, et, data, bytes, name).getResult();
}

std::string layerName(Operation *op, slm::ConstantOp weight) {
  if (auto n = op->getAttrOfType<StringAttr>(slm::kNodeNameAttr)) return n.str();
  if (weight)
    if (auto n = weight.getName()) return n->str();
  return op->getName().getStringRef().str();
}

struct QuantizeWeightsPass : impl::QuantizeWeightsBase<QuantizeWeightsPass> {
  using QuantizeWeightsBase::QuantizeWeightsBase;

  SmallVector<Attribute> report;

  void record(OpBuilder &b, const std::string &layer, ArrayRef<int64_t> shape, const std::string &scheme,
              int64_t before, int64_t after, const std::string &reason, double maxErr = 0, double relErr = 0) {
    SmallVector<NamedAttribute> f{b.getNamedAttr("layer", b.getStringAttr(layer)),
                                  b.getNamedAttr("shape", b.getI64ArrayAttr(shape)),
                                  b.getNamedAttr("scheme", b.getStringAttr(scheme)),
                                  b.getNamedAttr("group_size", b.getI64IntegerAttr(groupSize)),
                                  b.getNamedAttr("bytes_before", b.getI64IntegerAttr(before)),
                                  b.getNamedAttr("bytes_after", b.getI64IntegerAttr(after)),
                                  b.getNamedAttr("max_abs_error", b.getF64FloatAttr(maxErr)),
                                  b.getNamedAttr("rel_rms_error", b.getF64FloatAttr(relErr))};
    if (!reason.empty()) f.push_back(b.getNamedAttr("skipped", b.getStringAttr(reason)));
    report.push_back(b.getDictionaryAttr(f));
  }

  std::string scheme() const {
    if (!storage.empty()) return storage == "f16" ? "fp16" : "bf16";
    return "w" + std::to_string(bits) + (actBits == 8 ? "a8" : "") + (symmetric ? "" : "_asym");
  }

  // One slm.quantize_rows per (activation, kp, group): its three results.
  std::map<std::tuple<void *, int64_t, int64_t>, Operation *> quantizedRows;

  Operation *quantizeRows(OpBuilder &b, Location loc, Value a, int64_t k, int64_t kp, int64_t group) {
    Operation *&op = quantizedRows[{a.getAsOpaquePointer(), kp, group}];
    if (op) return op;
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointAfterValue(a);
    auto at = cast<RankedTensorType>(a.getType());
    auto withLast = [&](int64_t last, Type et) {
      SmallVector<int64_t> shape(at.getShape());
      shape.back() = last;
      return RankedTensorType::get(shape, et);
    };
    OperationState state(loc, slm::QuantizeRowsOp::getOperationName());
    state.addOperands(a);
    // Group scales only where there is more than one group (otherwise the row scale is the same).
    bool groupScales = actGroupScales && kp / group > 1;
    state.addTypes({withLast(kp, b.getIntegerType(8)), withLast(groupScales ? kp / group : 1, b.getF32Type()),
                    withLast(kp / group, b.getIntegerType(32))});
    state.addAttribute("k", b.getI64IntegerAttr(k));
    state.addAttribute("kp", b.getI64IntegerAttr(kp));
    state.addAttribute("group_size", b.getI64IntegerAttr(group));
    if (groupScales) state.addAttribute("group_scales", b.getI64IntegerAttr(1));
    op = b.create(state);
    return op;
  }

  uint16_t toHalf(float v) const { return storage == "f16" ? ::slm::float_to_half(v) : ::slm::float_to_bf16(v); }
  float fromHalf(uint16_t h) const { return storage == "f16" ? ::slm::half_to_float(h) : ::slm::bf16_to_float(h); }

  // Rounding error of storing `values` in the half type (max |w - h(w)| and the relative RMS).
  QuantizedMatrix storageError(const std::vector<float> &values) const {
    QuantizedMatrix e;
    for (float v : values) e.track(v, fromHalf(toHalf(v)));
    return e;
  }

  // The slm.matmul_hw form (f16/bf16 weight [K, N]) of a matmul; replaces `op`.
  void buildMatMulHw(OpBuilder &b, Operation *op, Value a, const std::vector<float> &values, int64_t k, int64_t n,
                     const std::string &layer, ValueRange epilogue, ArrayRef<NamedAttribute> actAttrs) {
    std::vector<uint16_t> half(values.size());
    for (size_t i = 0; i < values.size(); ++i) half[i] = toHalf(values[i]);
    Location loc = op->getLoc();
    Type et = storage == "f16" ? Type(b.getF16Type()) : Type(b.getBF16Type());
    Value w = makeConstant(b, loc, {k, n}, et, half.data(), half.size() * 2, layer + ".weight_" + storage);
    Operation *newOp = buildQuantMatMul(b, op, slm::MatMulHwOp::getOperationName(), {a, w}, epilogue, 5,
                                        {b.getNamedAttr("k", b.getI64IntegerAttr(k)),
                                         b.getNamedAttr("n", b.getI64IntegerAttr(n))},
                                        actAttrs);
    replaceKeepingNames(op, newOp);
  }

  // The slm.matmul_a8 form of a matmul by w[K, N] (already [K, N]); its report size in bytes.
  Operation *buildMatMulA8(OpBuilder &b, Operation *op, Value a, const std::vector<float> &values, int64_t k,
                           int64_t n, const std::string &layer, ValueRange epilogue,
                           ArrayRef<NamedAttribute> actAttrs, int64_t *after, double *maxErr, double *relErr) {
    int64_t kp, group;
    QuantizedMatrix q = quantizeForMatMulA8(values.data(), k, n, quantScheme(), &kp, &group);
    *after = int64_t(q.codes.size() + q.scales.size() * 2);
    *maxErr = q.maxAbsError;
    *relErr = q.relRmsError();
    Location loc = op->getLoc();
    Operation *rows = quantizeRows(b, loc, a, k, kp, group);
    Value codes = makeConstant(b, loc, {q.rows, q.cols}, b.getIntegerType(8, false), q.codes.data(), q.codes.size(),
                               layer + ".qweight");
    Value scales = makeConstant(b, loc, {q.scaleRows, q.scaleCols}, b.getF16Type(), q.scales.data(),
                                q.scales.size() * 2, layer + ".scales");
    return buildQuantMatMul(b, op, slm::MatMulA8Op::getOperationName(),
                            {rows->getResult(0), rows->getResult(1), rows->getResult(2), codes, scales}, epilogue, 8,
                            {b.getNamedAttr("bits", b.getI64IntegerAttr(bits)),
                             b.getNamedAttr("group_size", b.getI64IntegerAttr(group)),
                             b.getNamedAttr("k", b.getI64IntegerAttr(k)), b.getNamedAttr("kp", b.getI64IntegerAttr(kp)),
                             b.getNamedAttr("n", b.getI64IntegerAttr(n))},
                            actAttrs);
  }
  // A quantized matmul `name` replacing `op`: the `lead` operands (a null one is an absent optional),
  // then the epilogue's, segment sizes padded to `numSegments`, with `attrs` and the activation's.
  static Operation *buildQuantMatMul(OpBuilder &b, Operation *op, StringRef name, ArrayRef<Value> lead,
                                     ValueRange epilogue, size_t numSegments, ArrayRef<NamedAttribute> attrs,
                                     ArrayRef<NamedAttribute> actAttrs) {
    SmallVector<Value> operands;
    SmallVector<int32_t> segments;
    auto add = [&](Value v) {
      segments.push_back(v ? 1 : 0);
      if (v) operands.push_back(v);
    };
    for (Value v : lead) add(v);
    for (Value v : epilogue) add(v);
    while (segments.size() < numSegments) segments.push_back(0);
    OperationState state(op->getLoc(), name);
    state.addOperands(operands);
    state.addTypes(op->getResult(0).getType());
    state.addAttribute("operandSegmentSizes", b.getDenseI32ArrayAttr(segments));
    state.addAttributes(attrs);
    state.addAttributes(actAttrs);
    return b.create(state);
  }

  // Replaces `op` by `newOp`, which takes over its node and output names.
  static void replaceKeepingNames(Operation *op, Operation *newOp) {
    for (StringRef keepAttr : {slm::kNodeNameAttr.data(), slm::kOutputNamesAttr.data()})
      if (Attribute v = op->getAttr(keepAttr)) newOp->setAttr(keepAttr, v);
    op->getResult(0).replaceAllUsesWith(newOp->getResult(0));
    op->erase();
  }

  QuantScheme quantScheme() const { return {int(bits), groupSize, symmetric}; }

  // Why `op` (a matmul with weight operand `w`) cannot be quantized; "" when it can.
  std::string matmulBlocker(Value a, Value w, slm::ConstantOp *weight) {
    auto c = w.getDefiningOp<slm::ConstantOp>();
    if (!c) return "weight is not a constant";
    *weight = c;
    auto type = cast<ShapedType>(c.getValue().getType());
    if (!type.getElementType().isF32()) return "weight is not float32";
    if (type.getRank() != 2) return "weight is not a matrix";
    if (!cast<ShapedType>(a.getType()).getElementType().isF32()) return "activation is not float32";
    return "";
  }

  bool keep(const std::string &layer) {
    return !keepFloat.empty() && llvm::Regex(keepFloat).match(layer);
  }

  void quantizeMatMul(Operation *op, Value a, Value w, bool transB, ValueRange epilogue, ArrayRef<NamedAttribute> actAttrs) {
    OpBuilder b(op);
    slm::ConstantOp weight;
    std::string why = matmulBlocker(a, w, &weight);
    auto wType = cast<ShapedType>(w.getType());
    std::string layer = weight ? layerName(op, weight) : layerName(op, slm::ConstantOp());
    int64_t before = wType.hasStaticShape() ? wType.getNumElements() * 4 : 0;
    if (why.empty() && keep(layer)) why = "matches --keep-float";
    if (!weight) return; // two run-time operands (e.g. attention scores): not a weight layer
    if (!why.empty()) {
      record(b, layer, wType.hasRank() ? wType.getShape() : ArrayRef<int64_t>{}, "float", before, before, why);
      return;
    }
    std::vector<float> values = slm::constantFloats(weight);
    int64_t k = wType.getDimSize(transB ? 1 : 0), n = wType.getDimSize(transB ? 0 : 1);
    if (transB) { // kernels want [K, N]
      std::vector<float> t(values.size());
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < k; ++j) t[size_t(j * n + i)] = values[size_t(i * k + j)];
      values.swap(t);
    }
    if (!storage.empty()) {
      buildMatMulHw(b, op, a, values, k, n, layer, epilogue, actAttrs);
      QuantizedMatrix e = storageError(values);
      record(b, layer, {k, n}, scheme(), before, k * n * 2, "", e.maxAbsError, e.relRmsError());
      return;
    }
    if (actBits == 8) {
      if (!isa<RankedTensorType>(a.getType())) {
        record(b, layer, {k, n}, "float", before, before, "activation has no ranked type");
        return;
      }
      SmallVector<Value> epi(epilogue.begin(), epilogue.end());
      while (epi.size() < 3) epi.push_back(Value());
      int64_t after = 0;
      double maxErr = 0, relErr = 0;
      replaceKeepingNames(op, buildMatMulA8(b, op, a, values, k, n, layer, epi, actAttrs, &after, &maxErr, &relErr));
      record(b, layer, {k, n}, scheme(), before, after, "", maxErr, relErr);
      return;
    }
    QuantizedMatrix q = quantizeForMatMul(values.data(), k, n, quantScheme());
    int64_t after = int64_t(q.codes.size() + q.scales.size() * 2 + q.zeros.size());
    if (after >= before) { // e.g. very narrow matrices padded to the int4 block of 64 columns
      record(b, layer, {k, n}, "float", before, before, "the quantized form would not be smaller");
      return;
    }
    Location loc = op->getLoc();
    Type codeType = bits == 8 ? Type(b.getIntegerType(8)) : Type(b.getIntegerType(8, /*isSigned=*/false));
    Value codes = makeConstant(b, loc, {q.rows, q.cols}, codeType, q.codes.data(), q.codes.size(), layer + ".qweight");
    Value scales = makeConstant(b, loc, {q.scaleRows, q.scaleCols}, b.getF16Type(), q.scales.data(),
                                q.scales.size() * 2, layer + ".scales");
    Value zeros;
    if (!q.zeros.empty())
      zeros = makeConstant(b, loc, {q.scaleRows, q.scaleCols}, b.getIntegerType(8, false), q.zeros.data(),
                           q.zeros.size(), layer + ".zeros");
    Operation *newOp = buildQuantMatMul(b, op, slm::MatMulWqOp::getOperationName(), {a, codes, scales, zeros},
                                        epilogue, 7,
                                        {b.getNamedAttr("bits", b.getI64IntegerAttr(bits)),
                                         b.getNamedAttr("group_size", b.getI64IntegerAttr(groupSize)),
                                         b.getNamedAttr("k", b.getI64IntegerAttr(k)),
                                         b.getNamedAttr("n", b.getI64IntegerAttr(n))},
                                        actAttrs);
    replaceKeepingNames(op, newOp);
    record(b, layer, {k, n}, scheme(), before, after, "", q.maxAbsError, q.relRmsError());
  }

  void quantizeGather(slm::OnnxGatherOp op) {
    OpBuilder b(op);
    if (!storage.empty()) { // no half-precision gather kernel: say so rather than skip silently
      auto c = op->getOperand(0).getDefiningOp<slm::ConstantOp>();
      auto tType = cast<ShapedType>(op->getOperand(0).getType());
      if (!c) return;
      int64_t before = tType.hasStaticShape() ? tType.getNumElements() * 4 : 0;
      record(b, layerName(op, c), tType.hasRank() ? tType.getShape() : ArrayRef<int64_t>{}, "float", before, before,
             "embedding tables stay float32 with --quantize=" + scheme());
      return;
    }
    auto c = op->getOperand(0).getDefiningOp<slm::ConstantOp>();
    auto tType = cast<ShapedType>(op->getOperand(0).getType());
    auto axisAttr = op->getAttrOfType<IntegerAttr>("axis");
    int64_t axis = axisAttr ? axisAttr.getInt() : 0;
    std::string why;
    if (!c) return; // a gather over run-time data (shape arithmetic): not a weight layer
    if (!tType.getElementType().isF32() || tType.getRank() != 2) why = "table is not a float32 matrix";
    else if (axis != 0 && axis != -2) why = "gather is not along axis 0";
    std::string layer = c ? layerName(op, c) : layerName(op, slm::ConstantOp());
    int64_t before = tType.hasStaticShape() ? tType.getNumElements() * 4 : 0;
    if (why.empty() && keep(layer)) why = "matches --keep-float";
    if (!why.empty()) {
      record(b, layer, tType.hasRank() ? tType.getShape() : ArrayRef<int64_t>{}, "float", before, before, why);
      return;
    }
    std::vector<float> values = slm::constantFloats(c);
    int64_t v = tType.getDimSize(0), d = tType.getDimSize(1);
    QuantizedMatrix q = quantizeForGather(values.data(), v, d, quantScheme());
    Location loc = op->getLoc();
    Type codeType = bits == 8 ? Type(b.getIntegerType(8)) : Type(b.getIntegerType(8, false));
    Value codes = makeConstant(b, loc, {q.rows, q.cols}, codeType, q.codes.data(), q.codes.size(), layer + ".qtable");
    Value scales = makeConstant(b, loc, {q.scaleRows, q.scaleCols}, b.getF16Type(), q.scales.data(),
                                q.scales.size() * 2, layer + ".scales");
    OperationState state(loc, slm::GatherWqOp::getOperationName());
    state.addOperands({codes, op->getOperand(1), scales});
    state.addTypes(op->getResult(0).getType());
    state.addAttribute("bits", b.getI64IntegerAttr(bits));
    state.addAttribute("group_size", b.getI64IntegerAttr(groupSize));
    state.addAttribute("d", b.getI64IntegerAttr(d));
    replaceKeepingNames(op, b.create(state));
    record(b, layer, {v, d}, scheme() + (q.zeros.empty() && !symmetric ? " (symmetric: gather)" : ""), before,
           int64_t(q.codes.size() + q.scales.size() * 2), "", q.maxAbsError, q.relRmsError());
  }

  void runOnOperation() override {
    if (!storage.empty() && storage != "f16" && storage != "bf16") {
      getOperation().emitError("slm-quantize-weights: storage must be f16 or bf16");
      return signalPassFailure();
    }
    if (bits != 4 && bits != 8) {
      getOperation().emitError("slm-quantize-weights: bits must be 4 or 8");
      return signalPassFailure();
    }
    if (actBits != 0 && actBits != 8) {
      getOperation().emitError("slm-quantize-weights: act-bits must be 0 or 8");
      return signalPassFailure();
    }
    if (actBits == 8 && !symmetric) {
      getOperation().emitError("slm-quantize-weights: int8 activations need symmetric weights");
      return signalPassFailure();
    }
    if (groupSize < 0) {
      getOperation().emitError("slm-quantize-weights: group-size must be >= 0");
      return signalPassFailure();
    }
    SmallVector<Operation *> candidates;
    getOperation().walk([&](Operation *op) {
      if (isa<slm::OnnxMatMulOp, slm::FusedMatMulOp>(op) || (embeddings && isa<slm::OnnxGatherOp>(op)))
        candidates.push_back(op);
    });
    for (Operation *op : candidates) {
      if (auto g = dyn_cast<slm::OnnxGatherOp>(op)) {
        quantizeGather(g);
      } else if (auto f = dyn_cast<slm::FusedMatMulOp>(op)) {
        SmallVector<NamedAttribute> act;
        for (StringRef n : {"activation", "clip_min", "clip_max"})
          if (Attribute v = op->getAttr(n)) act.push_back(NamedAttribute(StringAttr::get(op->getContext(), n), v));
        bool transB = f.getTransB() && *f.getTransB() != 0;
        quantizeMatMul(op, f.getA(), f.getB(), transB, {f.getBias(), f.getMul(), f.getResidual()}, act);
      } else {
        quantizeMatMul(op, op->getOperand(0), op->getOperand(1), false, {}, {});
      }
    }
    // Constants that only fed quantized ops are dead now.
    getOperation().walk([](slm::ConstantOp c) {
      if (c->use_empty()) c->erase();
    });
    getOperation()->setAttr(kQuantReportAttr, ArrayAttr::get(&getContext(), report));
  }
};

} // namespace
} // namespace slmc
