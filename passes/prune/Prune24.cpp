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
      std::string layer = matmulLayerName(op, w);
      if (!why.empty()) {
        skipped(layer, why);
        continue;
      }
      // A compensated weight already has two zeros in every group of four: magnitude keeps the rest.
      Sp24Packed s = packSp24(w.values.data(), w.k, w.n, w.transB, nullptr);
      int64_t before = w.k * w.n * 4 + (op.getBias() ? w.n * 4 : 0), after = before;
      if (pack) {
        OpBuilder ob(op);
        Location loc = op.getLoc();
        Value values = slm::makeResourceConstant(ob, loc, {s.panels, s.kp / 4 * 128}, ob.getF32Type(), s.values.data(),
                                                 s.values.size() * 4, layer + ".sp24_values");
        Value indices = slm::makeResourceConstant(ob, loc, {s.panels, s.kp / 4 * 64}, ob.getIntegerType(8, false),
                                                  s.indices.data(), s.indices.size(), layer + ".sp24_indices");
        after = int64_t(s.values.size() * 4 + s.indices.size()) + (op.getBias() ? w.n * 4 : 0);
        replaceWithSparseMatMul(op, w, slm::MatMulSp24Op::getOperationName(), {values, indices});
      } else {
        // The quantizer stores the weight: write the zeros only.
        setWeight(op, unpackSp24(s, w.k, w.n, w.transB));
      }
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
          b.getNamedAttr("stored", b.getStringAttr(pack ? "sparse" : "zeroed; the quantizer stores it")),
      }));
    }
    module->setAttr(kPruneReportAttr, b.getArrayAttr(rows));
    module.walk([](slm::FusedMatMulOp op) { op->removeAttr(kSp24CompensatedAttr); });
  }
};

} // namespace
} // namespace slmc
