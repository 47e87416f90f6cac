// Matching helpers shared by the fusion patterns (see Match.h).
#include "passes/fusion/Match.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;

namespace slmc::match {

StringRef kind(Value v) {
  Operation *op = v.getDefiningOp();
  if (!op || !isa<slm::SlmDialect>(op->getDialect())) return "";
  return op->getName().stripDialect();
}

bool isOp(Operation *op, StringRef k) {
  return op && isa<slm::SlmDialect>(op->getDialect()) && op->getName().stripDialect() == k;
}

Operation *defOf(Value v, StringRef k) {
  Operation *op = v ? v.getDefiningOp() : nullptr;
  return isOp(op, k) ? op : nullptr;
}

static std::optional<DenseElementsAttr> denseConst(Value v) {
  DenseElementsAttr attr;
  if (!v || !matchPattern(v, m_Constant(&attr))) return std::nullopt;
  return attr;
}

bool isConstant(Value v) { return v && matchPattern(v, m_Constant()); }

std::optional<double> scalarConst(Value v) {
  auto d = denseConst(v);
  if (!d || d->getNumElements() != 1) return std::nullopt;
  Type et = d->getElementType();
  if (isa<FloatType>(et)) return (*d->getValues<APFloat>().begin()).convertToDouble();
  if (isa<IntegerType>(et)) return double((*d->getValues<APInt>().begin()).getSExtValue());
  return std::nullopt;
}

bool isScalar(Value v, double expected, double relTol) {
  auto c = scalarConst(v);
  return c && std::abs(*c - expected) <= relTol * std::max(1.0, std::abs(expected));
}

std::optional<SmallVector<int64_t>> intsConst(Value v) {
  auto d = denseConst(v);
  if (!d || !isa<IntegerType>(d->getElementType())) return std::nullopt;
  SmallVector<int64_t> out;
  for (const APInt &i : d->getValues<APInt>()) out.push_back(i.getSExtValue());
  return out;
}

static Attribute findAttr(Operation *op, StringRef name) {
  if (Attribute a = op->getAttr(name)) return a;
  return op->getAttr((name + "_attr").str());
}

std::optional<SmallVector<int64_t>> intsAttr(Operation *op, StringRef name) {
  auto arr = dyn_cast_or_null<ArrayAttr>(findAttr(op, name));
  if (!arr) return std::nullopt;
  SmallVector<int64_t> out;
  for (Attribute a : arr) {
    auto i = dyn_cast<IntegerAttr>(a);
    if (!i) return std::nullopt;
    out.push_back(i.getInt());
  }
  return out;
}

std::optional<int64_t> intAttr(Operation *op, StringRef name) {
  if (auto i = dyn_cast_or_null<IntegerAttr>(findAttr(op, name))) return i.getInt();
  return std::nullopt;
}

std::optional<double> floatAttr(Operation *op, StringRef name) {
  if (auto f = dyn_cast_or_null<FloatAttr>(findAttr(op, name))) return f.getValueAsDouble();
  return std::nullopt;
}

RankedTensorType f32Tensor(Value v) {
  auto t = v ? dyn_cast<RankedTensorType>(v.getType()) : nullptr;
  return t && t.getElementType().isF32() ? t : nullptr;
}

bool hasOneUse(Value v) { return v && v.hasOneUse(); }

bool usesWithin(Value v, const SmallPtrSetImpl<Operation *> &ops) {
  for (Operation *user : v.getUsers())
    if (!ops.contains(user)) return false;
  return true;
}

// Normalized axis of `axis` in a tensor of `rank`, or -1.
static int64_t norm(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank) return -1;
  return axis < 0 ? axis + rank : axis;
}

static int64_t rankOf(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t ? t.getRank() : -1;
}

// One step back: the value and axis the dim `axis` of op's result 0 is copied from, if exact.
static std::optional<std::pair<Value, int64_t>> dimStep(Operation *op, int64_t axis, int64_t rank) {
  StringRef k = op->getName().stripDialect();
  auto same = [&](Value v) -> std::optional<std::pair<Value, int64_t>> {
    if (rankOf(v) != rank) return std::nullopt;
    return std::make_pair(v, axis);
  };
  static const llvm::StringSet<> kUnary = {"Cast", "Neg", "Sigmoid", "Relu", "Tanh", "Erf", "Sqrt",
                                           "Identity", "Softmax", "LayerNormalization", "rms_norm",
                                           "rope", "Gelu", "Clip"};
  if (kUnary.contains(k)) return same(op->getOperand(0));
  if ((k == "MatMul" || k == "fused_matmul") && axis < rank - 1 && rankOf(op->getOperand(1)) == 2)
    return same(op->getOperand(0));
  if (k == "Split" || k == "Concat") {
    auto a = intAttr(op, "axis");
    if (!a || norm(*a, rank) == axis || norm(*a, rank) < 0) return std::nullopt;
    return same(op->getOperand(k == "Concat" ? op->getNumOperands() - 1 : 0));
  }
  if (k == "Transpose") {
    auto perm = intsAttr(op, "perm");
    if (!perm || int64_t(perm->size()) != rank) return std::nullopt;
    return std::make_pair(op->getOperand(0), (*perm)[axis]);
  }
  if (k == "Add" || k == "Mul" || k == "Sub" || k == "Div") { // the full-rank side, when the other
    for (int i = 0; i < 2; ++i) {                              // cannot broadcast it at this axis
      Value o = op->getOperand(1 - i);
      auto ot = dyn_cast<RankedTensorType>(o.getType());
      int64_t oAxis = ot ? axis - (rank - ot.getRank()) : -1;
      bool covered = ot && oAxis >= 0 && ot.getDimSize(oAxis) != 1;
      if (rankOf(op->getOperand(i)) == rank && ot && !covered) return same(op->getOperand(i));
    }
  }
  return std::nullopt;
}

DimRef dimOrigin(Value t, int64_t axis) {
  for (int guard = 0; guard < 256; ++guard) {
    auto type = dyn_cast<RankedTensorType>(t.getType());
    if (!type || axis < 0 || axis >= type.getRank()) return {};
    if (!type.isDynamicDim(axis)) return {Value(), -1, type.getDimSize(axis)};
    Operation *op = t.getDefiningOp();
    if (!op || !isa<slm::SlmDialect>(op->getDialect())) return {t, axis, -1};
    if (isOp(op, "Reshape") && op->getNumOperands() == 2) { // a target dim that names a dim
      if (auto dims = shapeDims(op->getOperand(1)); dims && int64_t(dims->size()) == type.getRank() &&
                                                    ((*dims)[axis].root || (*dims)[axis].value > 0))
        return (*dims)[axis];
      return {t, axis, -1};
    }
    if (isOp(op, "attention")) { // output [B, S, ..] and presents [B, ..] take B (and S) from q
      unsigned r = cast<OpResult>(t).getResultNumber();
      if (!((r == 0 && axis < 2) || (r > 0 && axis == 0))) return {t, axis, -1};
      t = op->getOperand(0);
      continue;
    }
    auto step = dimStep(op, axis, type.getRank());
    if (!step || (op->getNumResults() != 1 && !isOp(op, "Split"))) return {t, axis, -1};
    std::tie(t, axis) = *step;
  }
  return {t, axis, -1};
}

std::optional<DimRef> scalarDim(Value v) {
  if (auto c = intsConst(v); c && c->size() == 1) return DimRef{Value(), -1, (*c)[0]};
  if (Operation *u = defOf(v, "Unsqueeze")) v = u->getOperand(0);
  if (Operation *c = defOf(v, "Cast")) v = c->getOperand(0);
  Operation *g = defOf(v, "Gather");
  if (!g || intAttr(g, "axis").value_or(0) != 0) return std::nullopt;
  Operation *s = defOf(g->getOperand(0), "Shape");
  auto idx = intsConst(g->getOperand(1));
  if (!s || !idx || idx->size() != 1 || intAttr(s, "start").value_or(0) != 0 || s->getAttr("end"))
    return std::nullopt;
  int64_t axis = norm((*idx)[0], rankOf(s->getOperand(0)));
  if (axis < 0) return std::nullopt;
  return dimOrigin(s->getOperand(0), axis);
}

std::optional<SmallVector<DimRef>> shapeDims(Value shape) {
  SmallVector<DimRef> out;
  if (auto c = intsConst(shape)) {
    for (int64_t d : *c) out.push_back({Value(), -1, d});
    return out;
  }
  Operation *cat = defOf(shape, "Concat");
  if (!cat) return std::nullopt;
  for (Value in : cat->getOperands()) {
    auto c = intsConst(in);
    if (c) {
      for (int64_t d : *c) out.push_back({Value(), -1, d});
      continue;
    }
    auto d = scalarDim(in);
    if (!d) return std::nullopt;
    out.push_back(*d);
  }
  return out;
}

void eraseDead(RewriterBase &rewriter, ArrayRef<Value> values) {
  llvm::SetVector<Operation *> work;
  llvm::SmallPtrSet<Operation *, 16> erased; // never dereferenced once erased
  auto push = [&](Value v) {
    Operation *op = v ? v.getDefiningOp() : nullptr;
    if (op && isa<slm::SlmDialect>(op->getDialect())) work.insert(op);
  };
  for (Value v : values) push(v);
  while (!work.empty()) {
    Operation *op = work.pop_back_val();
    if (erased.contains(op) || !op->use_empty()) continue;
    for (Value o : op->getOperands()) push(o);
    erased.insert(op);
    rewriter.eraseOp(op);
  }
}

void replaceAndClean(RewriterBase &rewriter, Operation *op, ValueRange with) {
  SmallVector<Value> operands(op->getOperands());
  rewriter.replaceOp(op, with);
  eraseDead(rewriter, operands);
}

void copyNames(Operation *from, Operation *to) {
  for (StringRef n : {slm::kNodeNameAttr.data(), slm::kOutputNamesAttr.data()})
    if (Attribute a = from->getAttr(n)) to->setAttr(n, a);
}

} // namespace slmc::match
