// slm-prune-magnitude: unstructured sparsity for constant-weight matmuls (slm.matmul_sparse where it pays).
#include "passes/prune/Passes.h"
#include "passes/prune/PruneSites.h"
#include "passes/prune/SparsePack.h"
#include "ConstantData.h"

#include "mlir/IR/Builders.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

namespace slmc {
#define GEN_PASS_DEF_PRUNEMAGNITUDE
#include "passes/prune/Passes.h.inc"

namespace {

using namespace mlir;

struct PruneMagnitudePass : impl::PruneMagnitudeBase<PruneMagnitudePass> {
  using PruneMagnitudeBase::PruneMagnitudeBase;

  void runOnOperation() override {
    if (!(sparsity > 0 && sparsity < 1)) {
      getOperation().emitError("slm-prune-magnitude: sparsity must be in (0, 1), got ") << sparsity;
      return signalPassFailure();
    }
    ModuleOp module = getOperation();
    Builder b(module.getContext());
    SmallVector<Attribute> rows;
    if (auto old = module->getAttrOfType<ArrayAttr>(kPruneReportAttr)) rows.append(old.begin(), old.end());
    SmallVector<slm::FusedMatMulOp> ops;
    module.walk([&](slm::FusedMatMulOp op) { ops.push_back(op); });
    for (slm::FusedMatMulOp op : ops) {
      bool compensated = op->hasAttr(kSparseCompensatedAttr);
      op->removeAttr(kSparseCompensatedAttr);
      Weight w;
      std::string why = magnitudeBlocker(op, &w);
      std::string layer = matmulLayerName(op, w);
      if (!why.empty()) {
        rows.push_back(b.getDictionaryAttr({b.getNamedAttr("layer", b.getStringAttr(layer)),
                                            b.getNamedAttr("kind", b.getStringAttr("magnitude")),
                                            b.getNamedAttr("skipped", b.getStringAttr(why))}));
        continue;
      }
      double total2 = 0, kept2 = 0;
      for (float v : w.values) total2 += double(v) * v;
      if (!compensated) magnitudePrune(w.values.data(), w.k, w.n, w.transB, sparsity, nullptr);
      int64_t nnz = 0;
      for (float v : w.values) nnz += v != 0.0f, kept2 += double(v) * v;
      int64_t total = w.k * w.n, bias = op.getBias() ? w.n * 4 : 0;
      int64_t dense = total * 4 + bias, masked = sparseBytes(w.k, w.n, nnz) + bias;
      double zeros = double(total - nnz) / double(total);
      std::string stored;
      int64_t after = dense;
      if (!pack) {
        stored = "zeroed; the quantizer stores it";
        setWeight(op, w.values);
      } else if (zeros + 0.5 / double(w.k) < minSparsity || masked >= dense) { // round(S K) zeros per column
        stored = llvm::formatv("dense: not worth it ({0:f2} zeros < {1:f2}, the least at which the masked kernel "
                               "pays), zeros kept", zeros, double(minSparsity)).str();
        if (masked >= dense)
          stored = llvm::formatv("dense: not worth it (masked form {0} bytes >= dense {1}), zeros kept", masked, dense).str();
        setWeight(op, w.values);
      } else {
        SparsePacked s = packSparse(w.values.data(), w.k, w.n, w.transB);
        OpBuilder ob(op);
        Location loc = op.getLoc();
        Value values = slm::makeResourceConstant(ob, loc, {int64_t(s.values.size())}, ob.getF32Type(),
                                                 s.values.data(), s.values.size() * 4, layer + ".sparse_values");
        Value masks = slm::makeResourceConstant(ob, loc, {s.panels, w.k * 4}, ob.getIntegerType(16, false),
                                                s.masks.data(), s.masks.size() * 2, layer + ".sparse_masks");
        Value offsets = slm::makeResourceConstant(ob, loc, {s.panels + 1}, ob.getIntegerType(64), s.offsets.data(),
                                                  s.offsets.size() * 8, layer + ".sparse_offsets");
        replaceWithSparseMatMul(op, w, slm::MatMulSparseOp::getOperationName(), {values, masks, offsets});
        stored = "sparse";
        after = masked;
      }
      double rel = total2 > 0 ? std::sqrt(std::max(0.0, total2 - kept2) / total2) : 0.0;
      rows.push_back(b.getDictionaryAttr({
          b.getNamedAttr("layer", b.getStringAttr(layer)),
          b.getNamedAttr("kind", b.getStringAttr("magnitude")),
          b.getNamedAttr("importance", b.getStringAttr(compensated ? "calib-sparsegpt" : "magnitude")),
          b.getNamedAttr("removed", b.getI64IntegerAttr(total - nnz)),
          b.getNamedAttr("total", b.getI64IntegerAttr(total)),
          b.getNamedAttr("detail", b.getStringAttr(llvm::formatv("{0:f3} of {1}x{2} zero{3}", zeros, w.k, w.n,
                                                                 compensated ? "; the rest compensated through X^T X"
                                                                             : llvm::formatv("; |removed|/|w| ~ {0:f3}",
                                                                                             rel).str())
                                                       .str())),
          b.getNamedAttr("bytes_before", b.getI64IntegerAttr(dense)),
          b.getNamedAttr("bytes_after", b.getI64IntegerAttr(after)),
          b.getNamedAttr("bias_corrected", b.getBoolAttr(false)),
          b.getNamedAttr("stored", b.getStringAttr(stored)),
      }));
    }
    module->setAttr(kPruneReportAttr, b.getArrayAttr(rows));
  }
};

} // namespace
} // namespace slmc
