// slm-drop-identity: users of Identity / inference Dropout read the op's input directly.
#include "passes/common/Passes.h"

#include "mlir/IR/Matchers.h"

namespace slmc {
#define GEN_PASS_DEF_DROPIDENTITY
#include "passes/common/Passes.h.inc"

namespace {

// Dropout is a copy in inference unless training_mode is given and not a constant false.
bool isInferenceDropout(slm::OnnxDropoutOp op) {
  if (op->getNumResults() > 1 && !op->getResult(1).use_empty()) return false;
  if (op->getNumOperands() < 3) return true;
  mlir::DenseElementsAttr mode;
  if (!mlir::matchPattern(op->getOperand(op->getNumOperands() - 1), mlir::m_Constant(&mode))) return false;
  return mode.getType().getElementType().isInteger(1) && mode.isSplat() && !mode.getSplatValue<bool>();
}

struct DropIdentityPass : impl::DropIdentityBase<DropIdentityPass> {
  void runOnOperation() override {
    llvm::SmallVector<mlir::Operation *> dead;
    getOperation().walk([&](mlir::Operation *op) {
      bool copy = llvm::isa<slm::OnnxIdentityOp>(op);
      if (auto d = llvm::dyn_cast<slm::OnnxDropoutOp>(op)) copy = isInferenceDropout(d);
      if (!copy || op->getOperand(0).getType() != op->getResult(0).getType()) return;
      op->getResult(0).replaceAllUsesWith(op->getOperand(0));
      if (op->use_empty()) dead.push_back(op);
    });
    for (auto *op : dead) op->erase();
  }
};

} // namespace
} // namespace slmc
