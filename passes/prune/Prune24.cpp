// slm-prune-24: 2:4 semi-structured sparsity for constant-weight matmuls (slm.matmul_sp24).
#include "passes/prune/Passes.h"
#include "passes/prune/PruneSites.h"
#include "passes/prune/Sp24Pack.h"
#include "ConstantData.h"

#include "mlir/IR/Builders.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>

namespace slmc {
#define GEN_PASS_DEF_PRUNE24
#include "passes/prune/Passes.h.inc"

namespace {

using namespace mlir;

std::string layerName(slm::FusedMatMulOp op, Weight &w) {
  if (auto n = op->getAttrOfType<StringAttr>(slm::kNodeNameAttr)) return n.str();
  if (w.constant)
    if (auto n = w.constant.getName()) return n->str();
  return op->getName().getStringRef().str();
}

struct Prune24Pass : impl::Prune24Base<Prune24Pass> {
  using Prune24Base::Prune24Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    Builder b(module.getContext());
    SmallVector<Attribute> rows;
    if (auto old = module->getAttrOfType<ArrayAttr>(kPruneReportAttr)) rows.append(old.begin(), old.end());
    auto skipped = [&](const std::string &layer, const std::string &why) {
      rows.push_back(b.getDictionaryAttr({b.getNamedAttr("layer", b.getStringAttr(layer)),
                                          b.getNamedAttr("kind", b.getStringAttr("2:4")),
                                          b.getNamedAttr("skipped", b.getStringAttr(why))}));
    };
    SmallVector<slm::FusedMatMulOp> ops;
    module.walk([&](slm::FusedMatMulOp op) { ops.push_back(op); });
    for (slm::FusedMatMulOp op : ops) {
      Weight w;
      std::string why = sp24Blocker(op, &w);
      bool compensated = op->hasAttr(kSp24CompensatedAttr);
      op->removeAttr(kSp24CompensatedAttr);
      std::string layer = layerName(op, w);
      if (!why.empty()) {
        skipped(layer, why);
        continue;
      }
      // A compensated weight already has two zeros in every group of four: magnitude keeps the rest.
      Sp24Packed s = packSp24(w.values.data(), w.k, w.n, w.transB, nullptr);
      OpBuilder ob(op);
      Location loc = op.getLoc();
      Value values = slm::makeResourceConstant(ob, loc, {s.panels, s.kp / 4 * 128}, ob.getF32Type(), s.values.data(),
                                               s.values.size() * 4, layer + ".sp24_values");
      Value indices = slm::makeResourceConstant(ob, loc, {s.panels, s.kp / 4 * 64}, ob.getIntegerType(8, false),
                                                s.indices.data(), s.indices.size(), layer + ".sp24_indices");
      OperationState st(loc, slm::MatMulSp24Op::getOperationName());
      st.addOperands({op.getA(), values, indices});
      int32_t seg[6] = {1, 1, 1, 0, 0, 0};
      Value epilogue[3] = {op.getBias(), op.getMul(), op.getResidual()};
      for (int i = 0; i < 3; ++i)
        if (epilogue[i]) st.addOperands(epilogue[i]), seg[3 + i] = 1;
      st.addAttribute("operandSegmentSizes", ob.getDenseI32ArrayAttr(seg));
      st.addAttribute("k", ob.getI64IntegerAttr(w.k));
      st.addAttribute("n", ob.getI64IntegerAttr(w.n));
      for (const char *name : {"activation", "clip_min", "clip_max"})
        if (Attribute a = op->getAttr(name)) st.addAttribute(name, a);
      // Discardable attributes (node name, pruning site tags) go along.
      for (NamedAttribute a : op->getDiscardableAttrs()) st.addAttribute(a.getName(), a.getValue());
      st.addTypes(op.getOutput().getType());
      Operation *sparse = ob.create(st);
      op.getOutput().replaceAllUsesWith(sparse->getResult(0));
      slm::ConstantOp old = w.constant;
      int64_t before = w.k * w.n * 4 + (op.getBias() ? w.n * 4 : 0);
      int64_t after = int64_t(s.values.size() * 4 + s.indices.size()) + (op.getBias() ? w.n * 4 : 0);
      op->erase();
      if (old->use_empty()) old->erase();
      double rel = s.total2 > 0 ? std::sqrt(s.removed2 / s.total2) : 0.0;
      rows.push_back(b.getDictionaryAttr({
          b.getNamedAttr("layer", b.getStringAttr(layer)),
          b.getNamedAttr("kind", b.getStringAttr("2:4")),
          b.getNamedAttr("importance", b.getStringAttr(compensated ? "calib-sparsegpt" : "magnitude")),
          b.getNamedAttr("removed", b.getI64IntegerAttr(s.removed)),
          b.getNamedAttr("total", b.getI64IntegerAttr(w.k * w.n)),
          b.getNamedAttr("detail",
                         b.getStringAttr(compensated ? llvm::formatv("2 of every 4 along K of {0}x{1}; the rest "
                                                                     "compensated through X^T X", w.k, w.n).str()
                                                     : llvm::formatv("2 of every 4 along K of {0}x{1}; "
                                                                     "|removed|/|w| = {2:f3}", w.k, w.n, rel).str())),
          b.getNamedAttr("bytes_before", b.getI64IntegerAttr(before)),
          b.getNamedAttr("bytes_after", b.getI64IntegerAttr(after)),
          b.getNamedAttr("bias_corrected", b.getBoolAttr(false)),
      }));
    }
    module->setAttr(kPruneReportAttr, b.getArrayAttr(rows));
    module.walk([](slm::FusedMatMulOp op) { op->removeAttr(kSp24CompensatedAttr); });
  }
};

} // namespace
} // namespace slmc
