// slm-fold-constants: ops on constants evaluated by the reference kernels, static Shapes, then dead ops.
#include "passes/common/Passes.h"

#include "ConstantEval.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <algorithm>

using namespace mlir;

namespace slmc {
#define GEN_PASS_DEF_FOLDCONSTANTS
#include "passes/common/Passes.h.inc"

namespace {

// An op whose operands are all constants becomes constants, computed by the reference kernel the
// runtime would run (ConstantEval.h). Results larger than kMaxNewElements are folded only when
// every constant operand dies with the op, so folding never grows the weights (an Expand of a
// scalar to a large shape stays). (The importer supports no random ops, so every op is deterministic.)
struct FoldConstantOp : RewritePattern {
  static constexpr int64_t kMaxNewElements = 1 << 16;
  FoldConstantOp(MLIRContext *ctx) : RewritePattern(MatchAnyOpTypeTag(), 1, ctx) {}
  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rewriter) const override {
    if (!isa<slm::SlmDialect>(op->getDialect()) || isa<slm::ConstantOp, slm::KvCacheOp>(op) ||
        op->getNumOperands() == 0 || op->getNumResults() == 0)
      return failure();
    int64_t freedBytes = 0, newBytes = 0, newElements = 0; // weights the fold removes and adds
    for (Value v : op->getOperands()) {
      auto c = v.getDefiningOp<slm::ConstantOp>();
      if (!c) return failure();
      auto t = cast<ShapedType>(c.getType());
      if (v.hasOneUse()) freedBytes += t.getNumElements() * std::max<int64_t>(1, t.getElementTypeBitWidth() / 8);
    }
    for (Value r : op->getResults()) {
      auto t = dyn_cast<RankedTensorType>(r.getType());
      if (!t || !t.hasStaticShape()) return failure();
      newElements += t.getNumElements();
      newBytes += t.getNumElements() * std::max<int64_t>(1, t.getElementTypeBitWidth() / 8);
    }
    if (newElements > kMaxNewElements && newBytes > freedBytes) return failure();
    auto values = slm::evaluateOnConstants(op);
    if (!values) return failure();
    SmallVector<Value> replacements;
    auto names = op->getAttrOfType<ArrayAttr>(slm::kOutputNamesAttr);
    for (unsigned i = 0; i < op->getNumResults(); ++i) {
      StringAttr name = names && i < names.size() ? dyn_cast<StringAttr>(names[i]) : StringAttr();
      replacements.push_back(
          rewriter.create<slm::ConstantOp>(op->getLoc(), op->getResult(i).getType(), (*values)[i], name));
    }
    rewriter.replaceOp(op, replacements);
    return success();
  }
};

// Shape of a statically shaped tensor (ONNX start/end clamped to the rank) is a constant.
struct FoldStaticShape : RewritePattern {
  FoldStaticShape(MLIRContext *ctx) : RewritePattern("slm.Shape", 1, ctx) {}
  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rewriter) const override {
    auto in = dyn_cast<RankedTensorType>(op->getOperand(0).getType());
    auto out = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (!in || !in.hasStaticShape() || !out || !out.hasStaticShape() || !out.getElementType().isInteger(64))
      return failure();
    int64_t rank = in.getRank();
    auto bound = [&](StringRef name, int64_t dflt) {
      auto a = op->getAttrOfType<IntegerAttr>(name);
      int64_t v = a ? a.getInt() : dflt;
      if (v < 0) v += rank;
      return std::clamp<int64_t>(v, 0, rank);
    };
    int64_t start = bound("start", 0), end = bound("end", rank);
    SmallVector<int64_t> dims;
    for (int64_t i = start; i < end; ++i) dims.push_back(in.getDimSize(i));
    if (int64_t(dims.size()) != out.getNumElements()) return failure();
    auto names = op->getAttrOfType<ArrayAttr>(slm::kOutputNamesAttr);
    StringAttr name = names && !names.empty() ? dyn_cast<StringAttr>(names[0]) : StringAttr();
    rewriter.replaceOp(op, rewriter.create<slm::ConstantOp>(op->getLoc(), out,
                                                            DenseElementsAttr::get(out, ArrayRef<int64_t>(dims)), name));
    return success();
  }
};

struct FoldConstantsPass : impl::FoldConstantsBase<FoldConstantsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldConstantOp, FoldStaticShape>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns)))) return signalPassFailure();
    eraseUnusedSlmOps(getOperation());
  }
};

} // namespace
} // namespace slmc
