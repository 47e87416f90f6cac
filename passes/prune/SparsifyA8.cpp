// slm-sparsify-a8: slm.matmul_a8 with a pruned constant weight → slm.matmul_a8_sparse (targets/common/sparse_s8.h).
#include "passes/prune/Passes.h"
#include "passes/prune/SparseA8Pack.h"
#include "ConstantData.h"

#include "mlir/IR/Builders.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

namespace slmc {
#define GEN_PASS_DEF_SPARSIFYA8
#include "passes/prune/Passes.h.inc"

namespace {

using namespace mlir;

std::string layerName(slm::MatMulA8Op op, slm::ConstantOp w) {
  if (auto n = op->getAttrOfType<StringAttr>(slm::kNodeNameAttr)) return n.str();
  if (w)
    if (auto n = w.getName()) return n->str();
  return op->getName().getStringRef().str();
}

// The matmul_a8_sparse taking `op`'s place (same activations, scales, epilogue and attributes).
Operation *buildSparse(OpBuilder &b, slm::MatMulA8Op op, const SparseA8Packed &s, const std::string &layer) {
  Location loc = op.getLoc();
  int64_t strips = (int64_t(op.getN()) + 15) / 16, quads = int64_t(op.getKp()) / 4;
  Value values = slm::makeResourceConstant(b, loc, {int64_t(s.values.size())}, b.getIntegerType(8, false),
                                           s.values.data(), s.values.size(), layer + ".sparse_values");
  Value masks = slm::makeResourceConstant(b, loc, {strips, quads}, b.getIntegerType(64, false),
                                          s.masks.data(), s.masks.size() * 8, layer + ".sparse_masks");
  Value offsets = slm::makeResourceConstant(b, loc, {strips + 1}, b.getIntegerType(64), s.offsets.data(),
                                            s.offsets.size() * 8, layer + ".sparse_offsets");
  OperationState st(loc, slm::MatMulA8SparseOp::getOperationName());
  st.addOperands({op.getQ(), op.getAScale(), op.getASums(), values,
                  masks, offsets, op.getScales()});
  int32_t seg[10] = {1, 1, 1, 1, 1, 1, 1, 0, 0, 0};
  Value epilogue[3] = {op.getBias(), op.getMul(), op.getResidual()};
  for (int i = 0; i < 3; ++i)
    if (epilogue[i]) st.addOperands(epilogue[i]), seg[7 + i] = 1;
  st.addAttribute("operandSegmentSizes", b.getDenseI32ArrayAttr(seg));
  for (NamedAttribute a : op->getAttrs())
    if (a.getName() != "operandSegmentSizes") st.addAttribute(a.getName(), a.getValue());
  st.addTypes(op.getOutput().getType());
  return b.create(st);
}

struct SparsifyA8Pass : impl::SparsifyA8Base<SparsifyA8Pass> {
  using SparsifyA8Base::SparsifyA8Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    Builder b(module.getContext());
    SmallVector<Attribute> rows;
    if (auto old = module->getAttrOfType<ArrayAttr>(kPruneReportAttr)) rows.append(old.begin(), old.end());
    auto named = [&](const char *k, Attribute v) { return b.getNamedAttr(k, v); };
    SmallVector<slm::MatMulA8Op> ops;
    module.walk([&](slm::MatMulA8Op op) { ops.push_back(op); });
    for (slm::MatMulA8Op op : ops) {
      auto w = op.getWeight().getDefiningOp<slm::ConstantOp>();
      std::string layer = layerName(op, w);
      int bits = int(op.getBits());
      int64_t k = op.getK(), kp = op.getKp(), n = op.getN();
      std::vector<uint8_t> dense = w ? slm::constantBytes8(w) : std::vector<uint8_t>();
      if (dense.empty() || int64_t(dense.size()) != denseA8Bytes(kp, n, bits)) {
        rows.push_back(b.getDictionaryAttr({named("layer", b.getStringAttr(layer)),
                                            named("kind", b.getStringAttr("sparse-a8")),
                                            named("skipped", b.getStringAttr("weight is not a constant"))}));
        continue;
      }
      SparseA8Packed s = packSparseA8(dense.data(), k, kp, n, bits);
      int64_t before = denseA8Bytes(kp, n, bits), after = sparseA8Bytes(int64_t(s.values.size()), kp, n);
      double zeroFraction = s.total ? double(s.zeros) / double(s.total) : 0.0;
      if (double(after) > maxRatio * double(before)) {
        std::string why = llvm::formatv("{0:f1}% zero codes: the sparse form would be {1} bytes, more than {2:f2}x the "
                                        "dense {3}{4}", 100 * zeroFraction, after, maxRatio.getValue(), before,
                                        bits == 4 ? llvm::formatv(" (int4 needs about {0}% zeros)",
                                                                  int(std::floor(100 * (1.125 - 0.5 * maxRatio) + 1e-6))).str()
                                                  : std::string()).str();
        rows.push_back(b.getDictionaryAttr({named("layer", b.getStringAttr(layer)),
                                            named("kind", b.getStringAttr("sparse-a8")),
                                            named("skipped", b.getStringAttr(why))}));
        continue;
      }
      OpBuilder ob(op);
      Operation *sparse = buildSparse(ob, op, s, layer);
      op.getOutput().replaceAllUsesWith(sparse->getResult(0));
      op->erase();
      if (w->use_empty()) w->erase();
      rows.push_back(b.getDictionaryAttr({
          named("layer", b.getStringAttr(layer)),
          named("kind", b.getStringAttr("sparse-a8")),
          named("importance", b.getStringAttr("zero codes")),
          named("removed", b.getI64IntegerAttr(s.zeros)),
          named("total", b.getI64IntegerAttr(s.total)),
          named("detail", b.getStringAttr(llvm::formatv("{0:f1}% of the int{1} codes of {2}x{3} are zero; mask + "
                                                        "nonzeros", 100 * zeroFraction, bits, k, n).str())),
          named("bytes_before", b.getI64IntegerAttr(before)),
          named("bytes_after", b.getI64IntegerAttr(after)),
          named("bias_corrected", b.getBoolAttr(false)),
      }));
    }
    module->setAttr(kPruneReportAttr, b.getArrayAttr(rows));
  }
};

} // namespace
} // namespace slmc
