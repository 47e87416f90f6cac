// slm-kv-cache-state: past/present KV arguments and results of slm.attention → slm.kv_cache session
// state that the attention appends to in place.
#include "compiler/import/OnnxImporter.h" // @main argument attribute names
#include "passes/fusion/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/BitVector.h"

using namespace mlir;

namespace slmc {
#define GEN_PASS_DEF_KVCACHESTATE
#include "passes/fusion/Passes.h.inc"

namespace {

// A past operand that can become state: a rank-4 f32 argument of `func` used only as this
// attention's past operand and by Shape ops.
bool isStatePast(func::FuncOp func, slm::AttentionOp attn, Value past) {
  auto arg = dyn_cast_or_null<BlockArgument>(past);
  if (!arg || arg.getOwner() != &func.getBody().front()) return false;
  auto t = dyn_cast<RankedTensorType>(arg.getType());
  if (!t || t.getRank() != 4 || !t.getElementType().isF32() || t.isDynamicDim(1) || t.isDynamicDim(3)) return false;
  for (OpOperand &use : arg.getUses()) {
    Operation *user = use.getOwner();
    if (isa<slm::OnnxShapeOp>(user)) continue;
    if (user != attn.getOperation()) return false;
  }
  // Exactly one use by the attention, as its past operand.
  unsigned byAttn = 0;
  for (OpOperand &use : arg.getUses()) byAttn += use.getOwner() == attn.getOperation();
  return byAttn == 1;
}

// A present result that is only returned (or unused).
bool isOnlyReturned(Value present) {
  for (Operation *user : present.getUsers())
    if (!isa<func::ReturnOp>(user)) return false;
  return true;
}

struct KvCacheStatePass : impl::KvCacheStateBase<KvCacheStatePass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    SmallVector<slm::AttentionOp> attns;
    bool all = true;
    func.walk([&](slm::AttentionOp a) {
      if (a.getKvInPlace()) return;
      if (!a.getPastKey() && !a.getPastValue()) return; // no cache: nothing to keep
      bool ok = a.getPastKey() && a.getPastValue() && a.getPastKey() != a.getPastValue() &&
                isStatePast(func, a, a.getPastKey()) && isStatePast(func, a, a.getPastValue()) &&
                isOnlyReturned(a.getPresentKey()) && isOnlyReturned(a.getPresentValue());
      if (ok) attns.push_back(a);
      all &= ok;
    });
    if (!all || attns.empty()) return;

    Block &entry = func.getBody().front();
    auto ret = cast<func::ReturnOp>(entry.getTerminator());
    OpBuilder b(&getContext());
    b.setInsertionPointToStart(&entry);
    llvm::BitVector argsGone(func.getNumArguments()), resultsGone(func.getNumResults());
    SmallVector<Operation *> shapes;
    for (slm::AttentionOp a : attns) {
      for (Value past : {a.getPastKey(), a.getPastValue()}) {
        auto arg = cast<BlockArgument>(past);
        unsigned i = arg.getArgNumber();
        auto name = func.getArgAttrOfType<StringAttr>(i, kArgNameAttr);
        auto dims = func.getArgAttrOfType<ArrayAttr>(i, kArgDimsAttr);
        SmallVector<StringRef> dimNames(4, "");
        if (dims && dims.size() == 4)
          for (unsigned d = 0; d < 4; ++d)
            if (auto s = dyn_cast<StringAttr>(dims[d])) dimNames[d] = s.getValue();
        auto cache = b.create<slm::KvCacheOp>(a.getLoc(), arg.getType(),
                                              name ? name.getValue() : StringRef("kv" + std::to_string(i)),
                                              b.getStrArrayAttr(dimNames));
        for (Operation *user : arg.getUsers())
          if (isa<slm::OnnxShapeOp>(user)) shapes.push_back(user);
        arg.replaceAllUsesWith(cache.getResult());
        argsGone.set(i);
      }
      for (Value present : {a.getPresentKey(), a.getPresentValue()})
        for (OpOperand &use : present.getUses()) resultsGone.set(use.getOperandNumber());
      a.setKvInPlace(true);
    }
    // Shape ops read the cache's length before any append: place them right after the caches.
    for (Operation *s : shapes) s->moveBefore(&entry, b.getInsertionPoint());
    SmallVector<Value> kept;
    for (unsigned i = 0; i < ret.getNumOperands(); ++i)
      if (!resultsGone.test(i)) kept.push_back(ret.getOperand(i));
    ret->setOperands(kept);
    func.eraseResults(resultsGone);
    func.eraseArguments(argsGone);
  }
};

} // namespace
} // namespace slmc
