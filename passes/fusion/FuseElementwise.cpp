// slm-fuse-elementwise: chains of float32 elementwise ops with constant scalar / last-axis operands → slm.elementwise.
#include "ConstantData.h"
#include "elementwise_steps.h"
#include "passes/fusion/Match.h"
#include "passes/fusion/Passes.h"

#include "mlir/IR/PatternMatch.h"

using namespace mlir;

namespace slmc {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "passes/fusion/Passes.h.inc"

namespace {
using namespace match;

// One matched op of a chain.
struct Step {
  Operation *op = nullptr;
  int32_t kind = 0;
  Value vector;        // binary with a per-column constant: the constant ([C] or [1, ..., 1, C])
  float scalar = 0.0f; // binary with a one-element constant
  bool reversed = false;
};

// The float32 values of a per-column constant `c` for x of type `xt`, or nullopt: a constant of
// shape [C] or [1, ..., 1, C] (C the static last dim of x) and no higher rank than x.
std::optional<std::vector<float>> columnValues(Value c, RankedTensorType xt) {
  auto t = f32Tensor(c);
  auto op = c.getDefiningOp<slm::ConstantOp>();
  if (!t || !op || !t.hasStaticShape() || t.getRank() > xt.getRank() || xt.getRank() == 0) return std::nullopt;
  int64_t cols = xt.getDimSize(xt.getRank() - 1);
  if (ShapedType::isDynamic(cols) || t.getDimSize(t.getRank() - 1) != cols || t.getNumElements() != cols)
    return std::nullopt;
  std::vector<float> v = slm::constantFloats(op);
  if (int64_t(v.size()) != cols) return std::nullopt;
  return v;
}

// `op` as one step applied to `in`, or nullopt: a supported f32 op whose result has in's type,
// unary on `in` or binary with `in` on one side and a constant scalar or per-column vector on the other.
std::optional<Step> matchStep(Operation *op, Value in) {
  auto xt = f32Tensor(in);
  if (!xt || !isa<slm::SlmDialect>(op->getDialect()) || op->getNumResults() != 1 ||
      op->getResult(0).getType() != in.getType())
    return std::nullopt;
  Step s;
  s.op = op;
  s.kind = ::slm::ew_step_kind(op->getName().stripDialect().str().c_str());
  if (s.kind < 0) return std::nullopt;
  if (!::slm::ew_is_binary(s.kind)) {
    if (op->getNumOperands() != 1 || op->getOperand(0) != in) return std::nullopt;
    return s;
  }
  if (op->getNumOperands() != 2 || (op->getOperand(0) == in) == (op->getOperand(1) == in)) return std::nullopt;
  s.reversed = op->getOperand(1) == in;
  Value c = op->getOperand(s.reversed ? 0 : 1);
  auto ct = f32Tensor(c);
  if (!ct || !ct.hasStaticShape() || ct.getRank() > xt.getRank()) return std::nullopt;
  if (ct.getNumElements() == 1) {
    auto v = scalarConst(c);
    if (!v) return std::nullopt;
    s.scalar = float(*v);
    return s;
  }
  if (!columnValues(c, xt)) return std::nullopt;
  s.vector = c;
  return s;
}

// The single user of v when it continues the chain, else nullopt.
std::optional<Step> nextStep(Value v) {
  if (!v.hasOneUse()) return std::nullopt;
  return matchStep(*v.getUsers().begin(), v);
}

// A chain is worth one op when it saves a pass over memory (two or more steps) or its one step is
// a transcendental that a generated kernel evaluates as an inline polynomial.
bool worthFusing(ArrayRef<Step> chain) {
  if (chain.size() >= 2) return true;
  int32_t k = chain[0].kind;
  return k == ::slm::kEwSigmoid || k == ::slm::kEwTanh || k == ::slm::kEwExp || k == ::slm::kEwCos ||
         k == ::slm::kEwSin || k == ::slm::kEwErf;
}

void rewriteChain(IRRewriter &rw, Value x, ArrayRef<Step> chain) {
  Operation *last = chain.back().op;
  rw.setInsertionPoint(last);
  auto xt = f32Tensor(x);
  int64_t cols = xt.getRank() ? xt.getDimSize(xt.getRank() - 1) : 1;
  auto vecType = RankedTensorType::get({cols}, rw.getF32Type());
  SmallVector<Value> params;
  SmallVector<Attribute> paramValues; // dedupe equal constants
  SmallVector<Attribute> steps, args, scalars, reversed;
  for (const Step &s : chain) {
    int64_t arg = ::slm::ew_is_binary(s.kind) ? -1 : 0;
    if (s.vector) {
      std::vector<float> v = *columnValues(s.vector, xt);
      auto attr = DenseElementsAttr::get(vecType, ArrayRef<float>(v));
      auto it = llvm::find(paramValues, Attribute(attr));
      if (it == paramValues.end()) {
        Value p = s.vector.getType() == vecType ? s.vector : rw.create<slm::ConstantOp>(s.op->getLoc(), vecType, attr, StringAttr()).getResult();
        params.push_back(p);
        paramValues.push_back(attr);
        arg = int64_t(params.size());
      } else {
        arg = int64_t(it - paramValues.begin()) + 1;
      }
    }
    steps.push_back(rw.getStringAttr(::slm::ew_step_name(s.kind)));
    args.push_back(rw.getI64IntegerAttr(arg));
    scalars.push_back(rw.getF32FloatAttr(s.scalar));
    reversed.push_back(rw.getI64IntegerAttr(s.reversed ? 1 : 0));
  }
  auto op = rw.create<slm::ElementwiseOp>(last->getLoc(), last->getResult(0).getType(), x, params,
                                          rw.getArrayAttr(steps), rw.getArrayAttr(args), rw.getArrayAttr(scalars),
                                          rw.getArrayAttr(reversed));
  copyNames(last, op);
  replaceAndClean(rw, last, op->getResults());
}

struct FuseElementwisePass : impl::FuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    // Ops in program order: a chain's first op comes before the rest, so each chain is found
    // from its head and taken whole (maximal).
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) { ops.push_back(op); });
    llvm::SmallPtrSet<Operation *, 32> taken;
    // (index of x among the head's operands, steps): x is read when rewriting, as an earlier
    // chain's rewrite may have replaced the op that defines it.
    SmallVector<std::pair<unsigned, SmallVector<Step>>> chains;
    for (Operation *op : ops) {
      if (taken.contains(op) || op->getNumOperands() == 0) continue;
      std::optional<Step> first;
      unsigned xIndex = 0;
      for (OpOperand &in : op->getOpOperands())
        if (!isConstant(in.get()) && (first = matchStep(op, in.get()))) {
          xIndex = in.getOperandNumber();
          break;
        }
      if (!first) continue;
      SmallVector<Step> chain{*first};
      llvm::SmallPtrSet<Value, 8> vectors;
      if (first->vector) vectors.insert(first->vector);
      while (chain.size() < size_t(::slm::kEwMaxSteps)) {
        auto next = nextStep(chain.back().op->getResult(0));
        // The op takes at most 32 constant vectors: one more ends the chain there.
        if (!next || (next->vector && !vectors.contains(next->vector) && vectors.size() == 32)) break;
        if (next->vector) vectors.insert(next->vector);
        chain.push_back(*next);
      }
      for (const Step &s : chain) taken.insert(s.op);
      if (worthFusing(chain)) chains.push_back({xIndex, std::move(chain)});
    }
    IRRewriter rw(&getContext());
    for (auto &[xIndex, chain] : chains) rewriteChain(rw, chain.front().op->getOperand(xIndex), chain);
  }
};

} // namespace
} // namespace slmc
