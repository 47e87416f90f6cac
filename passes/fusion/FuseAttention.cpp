// slm-fuse-attention: head split, RoPE, KV concat, GQA repeat, Q·Kᵀ, scale, causal mask, Softmax, ·V and
// head merge → one slm.attention.
#include "passes/fusion/Match.h"
#include "passes/fusion/Passes.h"

#include "mlir/IR/PatternMatch.h"

using namespace mlir;

namespace slmc {
#define GEN_PASS_DEF_FUSEATTENTION
#include "passes/fusion/Passes.h.inc"

namespace {
using namespace match;

bool isPerm(Operation *op, ArrayRef<int64_t> perm) {
  auto p = op ? intsAttr(op, "perm") : std::nullopt;
  return p && ArrayRef<int64_t>(*p) == perm;
}

// Transpose(Reshape(xp, [dim(xp,0), dim(xp,1), H, D]), [0,2,1,3]); returns xp ([B, S, H*D]).
Value matchSplitHeads(Value v, int64_t *heads) {
  Operation *tr = defOf(v, "Transpose");
  Operation *rs = tr ? defOf(tr->getOperand(0), "Reshape") : nullptr;
  if (!rs || rs->getNumOperands() != 2 || !isPerm(tr, {0, 2, 1, 3}) || !hasOneUse(tr->getOperand(0)) || intAttr(rs, "allowzero").value_or(0))
    return {};
  Value xp = rs->getOperand(0);
  auto xt = f32Tensor(xp), rt = f32Tensor(rs->getResult(0));
  auto dims = shapeDims(rs->getOperand(1));
  if (!xt || !rt || xt.getRank() != 3 || rt.getRank() != 4 || !dims || dims->size() != 4) return {};
  int64_t h = rt.getDimSize(2), d = rt.getDimSize(3);
  if (ShapedType::isDynamic(h) || ShapedType::isDynamic(d) || xt.getDimSize(2) != h * d) return {};
  if (!((*dims)[0] == dimOrigin(xp, 0)) || !((*dims)[1] == dimOrigin(xp, 1))) return {};
  *heads = h;
  return xp;
}

struct HeadInput {
  Value packed, cos, sin;
  int64_t heads = 0;
};

// rope(splitHeads(xp), cos, sin) or splitHeads(xp).
std::optional<HeadInput> matchHeadInput(Value v) {
  HeadInput in;
  if (Operation *r = defOf(v, "rope")) {
    if (!hasOneUse(v)) return std::nullopt;
    in.cos = r->getOperand(1);
    in.sin = r->getOperand(2);
    v = r->getOperand(0);
  }
  if (!hasOneUse(v)) return std::nullopt;
  in.packed = matchSplitHeads(v, &in.heads);
  if (!in.packed) return std::nullopt;
  return in;
}

struct KvInput {
  HeadInput fresh;
  Value past, present;
};

// present = Concat(past, new, axis=2) of 4-D tensors, or new alone; `present` may have other users.
std::optional<KvInput> matchKv(Value present) {
  KvInput kv;
  kv.present = present;
  Value fresh = present;
  if (Operation *cat = defOf(present, "Concat")) {
    auto a = intAttr(cat, "axis");
    if (cat->getNumOperands() != 2 || !a || (*a != 2 && *a != -2)) return std::nullopt;
    kv.past = cat->getOperand(0);
    fresh = cat->getOperand(1);
    if (!f32Tensor(kv.past) || f32Tensor(kv.past).getRank() != 4) return std::nullopt;
  }
  auto in = matchHeadInput(fresh);
  if (!in) return std::nullopt;
  kv.fresh = *in;
  return kv;
}

// The dims of an Expand target: shapeDims, seen through the exporter's "-1 → 1" guard
// Where(Equal(R, -1s), 1s, R) (a no-op when R holds sizes) and a Reshape(R, [-1]) of a 1-D R.
std::optional<SmallVector<DimRef>> expandDims(Value s) {
  if (Operation *w = defOf(s, "Where")) {
    Operation *eq = defOf(w->getOperand(0), "Equal");
    Operation *neg = eq ? defOf(eq->getOperand(1), "Mul") : nullptr;
    if (!neg || eq->getOperand(0) != w->getOperand(2) || !isScalar(neg->getOperand(1), -1, 0) ||
        !defOf(neg->getOperand(0), "ConstantOfShape"))
      return std::nullopt;
    s = w->getOperand(2);
  }
  if (Operation *r = defOf(s, "Reshape"); r && r->getNumOperands() == 2) {
    auto target = intsConst(r->getOperand(1));
    if (!target || target->size() != 1 || (*target)[0] != -1) return std::nullopt;
    s = r->getOperand(0);
  }
  auto dims = shapeDims(s);
  if (dims)
    for (const DimRef &d : *dims)
      if (!d.root && d.value < 0) return std::nullopt; // a -1 the guard would have changed
  return dims;
}

bool sameOrOne(const DimRef &d, const DimRef &want) { return d == want || d == DimRef{Value(), -1, 1}; }

// GQA: Reshape(Expand(Unsqueeze(p, [2]), [B|1, Hkv|1, n, T|1, D|1]), [B, heads, T, D]) → p, or p itself.
// T may also be named by `otherT` (V's repeat uses K's length: the graph's P·V needs them equal).
Value matchRepeatKv(Value v, int64_t heads, Operation **repeat, std::optional<DimRef> otherT = std::nullopt) {
  *repeat = nullptr;
  Operation *rs = defOf(v, "Reshape");
  Operation *ex = rs ? defOf(rs->getOperand(0), "Expand") : nullptr;
  Operation *un = ex ? defOf(ex->getOperand(0), "Unsqueeze") : nullptr;
  if (!un) return v;
  if (rs->getNumOperands() != 2) return {};
  Value p = un->getOperand(0);
  auto axes = intsAttr(un, "axes");
  if (!axes && un->getNumOperands() > 1) axes = intsConst(un->getOperand(1));
  auto pt = f32Tensor(p), et = f32Tensor(ex->getResult(0));
  auto dims = shapeDims(rs->getOperand(1));
  if (!axes || ArrayRef<int64_t>(*axes) != ArrayRef<int64_t>{2} || !pt || pt.getRank() != 4 || !et ||
      et.getRank() != 5 || !dims || dims->size() != 4 || !hasOneUse(rs->getOperand(0)) ||
      !hasOneUse(ex->getOperand(0)) || intAttr(rs, "allowzero").value_or(0))
    return {};
  int64_t hkv = pt.getDimSize(1), d = pt.getDimSize(3);
  // The Expand only repeats axis 2 (n times) and the Reshape merges (Hkv, n) into heads.
  auto ed = expandDims(ex->getOperand(1));
  DimRef b = dimOrigin(p, 0), t = dimOrigin(p, 2);
  if (otherT && ed && ed->size() == 5 && (*ed)[3] == *otherT) t = *otherT;
  if (!ed || ed->size() != 5 || !sameOrOne((*ed)[0], b) || !sameOrOne((*ed)[1], {Value(), -1, hkv}) ||
      !((*ed)[2] == DimRef{Value(), -1, heads / hkv}) || !sameOrOne((*ed)[3], t) ||
      !sameOrOne((*ed)[4], {Value(), -1, d}) || heads % hkv)
    return {};
  if (et.getDimSize(1) != hkv || et.getDimSize(4) != d ||
      !((*dims)[0] == dimOrigin(p, 0)) || !((*dims)[1] == DimRef{Value(), -1, heads}) ||
      !((*dims)[2] == t) || !((*dims)[3] == DimRef{Value(), -1, d}))
    return {};
  *repeat = rs;
  return p;
}

// Greater(Unsqueeze(Range(0, E, 1), [0]), Unsqueeze(Range(X, E, 1), [1])): key j masked when j > X + i.
bool isCausalCondition(Value cond) {
  if (Operation *c = defOf(cond, "Cast")) cond = c->getOperand(0);
  Operation *g = defOf(cond, "Greater");
  if (!g) return false;
  auto range = [](Value v, int64_t axis) -> Operation * {
    Operation *u = defOf(v, "Unsqueeze");
    if (!u) return nullptr;
    auto axes = intsAttr(u, "axes");
    if (!axes && u->getNumOperands() > 1) axes = intsConst(u->getOperand(1));
    if (!axes || ArrayRef<int64_t>(*axes) != ArrayRef<int64_t>{axis}) return nullptr;
    Operation *r = defOf(u->getOperand(0), "Range");
    return r && isScalar(r->getOperand(2), 1, 0) ? r : nullptr;
  };
  Operation *keys = range(g->getOperand(0), 0), *queries = range(g->getOperand(1), 1);
  auto strip = [](Value v) {
    while (Operation *c = defOf(v, "Cast")) v = c->getOperand(0);
    return v;
  };
  return keys && queries && isScalar(keys->getOperand(0), 0, 0) &&
         strip(keys->getOperand(1)) == strip(queries->getOperand(1));
}

struct AttentionMatch {
  std::optional<HeadInput> q;
  std::optional<KvInput> k, v;
  double scale = 1.0;
  bool causal = false;
  Operation *merge = nullptr; // the Reshape that merges heads: replaced by the output
  SmallVector<Operation *> ops; // the matched chain, erased after the rewrite
};

// scores = [Where(causal, fill, ] Mul|Div(MatMul(q, Transpose(k, [0,1,3,2])), c) [)].
bool matchScores(Value s, AttentionMatch &m, Value *qh, Value *kexp) {
  if (Operation *w = defOf(s, "Where")) {
    auto fill = scalarConst(w->getOperand(1));
    if (!hasOneUse(s) || !fill || *fill > -1e9 || !isCausalCondition(w->getOperand(0))) return false;
    m.causal = true;
    s = w->getOperand(2);
  }
  if (Operation *sc = defOf(s, "Mul"); sc && scalarConst(sc->getOperand(1)) && hasOneUse(s)) {
    m.scale = *scalarConst(sc->getOperand(1));
    s = sc->getOperand(0);
  } else if (Operation *dv = defOf(s, "Div"); dv && scalarConst(dv->getOperand(1)) && hasOneUse(s)) {
    m.scale = 1.0 / *scalarConst(dv->getOperand(1));
    s = dv->getOperand(0);
  }
  Operation *mm = defOf(s, "MatMul");
  Operation *kt = mm ? defOf(mm->getOperand(1), "Transpose") : nullptr;
  if (!kt || !hasOneUse(s) || !hasOneUse(mm->getOperand(1)) || !isPerm(kt, {0, 1, 3, 2})) return false;
  *qh = mm->getOperand(0);
  *kexp = kt->getOperand(0);
  return true;
}

std::optional<AttentionMatch> matchAttention(Operation *pv) {
  AttentionMatch m;
  Operation *sm = defOf(pv->getOperand(0), "Softmax");
  auto outT = f32Tensor(pv->getResult(0));
  if (!sm || !outT || outT.getRank() != 4 || !hasOneUse(pv->getOperand(0)) || !pv->getResult(0).hasOneUse())
    return std::nullopt;
  auto axis = intAttr(sm, "axis");
  if (axis && *axis != -1 && *axis != 3) return std::nullopt;
  Value qh, kexp;
  if (!matchScores(sm->getOperand(0), m, &qh, &kexp)) return std::nullopt;
  int64_t hq = outT.getDimSize(1);
  Operation *repK, *repV;
  Value pk = matchRepeatKv(kexp, hq, &repK);
  Value pvv = pk ? matchRepeatKv(pv->getOperand(1), hq, &repV, dimOrigin(pk, 2)) : Value();
  if (!pk || !pvv || !hasOneUse(qh)) return std::nullopt;
  m.q = matchHeadInput(qh);
  m.k = matchKv(pk);
  m.v = matchKv(pvv);
  if (!m.q || !m.k || !m.v || m.v->fresh.cos || !m.k->past != !m.v->past) return std::nullopt;
  if (m.q->cos != m.k->fresh.cos || m.q->sin != m.k->fresh.sin || m.q->heads != hq) return std::nullopt;
  // The output side: Reshape(Transpose(out, [0,2,1,3]), [dim(q,0), dim(q,1), H*D]).
  Operation *tr = *pv->getResult(0).getUsers().begin();
  if (!isOp(tr, "Transpose") || !isPerm(tr, {0, 2, 1, 3}) || !tr->getResult(0).hasOneUse()) return std::nullopt;
  m.merge = *tr->getResult(0).getUsers().begin();
  auto dims = isOp(m.merge, "Reshape") && m.merge->getNumOperands() == 2 ? shapeDims(m.merge->getOperand(1)) : std::nullopt;
  auto qt = f32Tensor(m.q->packed);
  if (!dims || dims->size() != 3 || !((*dims)[0] == dimOrigin(m.q->packed, 0)) ||
      !((*dims)[1] == dimOrigin(m.q->packed, 1)) || !((*dims)[2] == DimRef{Value(), -1, qt.getDimSize(2)}) ||
      m.merge->getResult(0).getType() != qt)
    return std::nullopt;
  return m;
}

// The op goes after its last operand; every user of what it replaces must come later.
Operation *insertionPoint(ArrayRef<Value> operands, ArrayRef<Value> replaced, Operation *fallback) {
  Operation *after = nullptr;
  Block *block = fallback->getBlock();
  for (Value v : operands) {
    Operation *d = v ? v.getDefiningOp() : nullptr;
    if (d && d->getBlock() != block) return nullptr;
    if (d && (!after || after->isBeforeInBlock(d))) after = d;
  }
  for (Value r : replaced)
    for (Operation *user : r.getUsers())
      if (user->getBlock() != block || (after && !after->isBeforeInBlock(user))) return nullptr;
  return after ? after : &block->front();
}

bool rewrite(IRRewriter &rewriter, Operation *pv, AttentionMatch &m) {
  Value present[2] = {m.k->present, m.v->present};
  SmallVector<Value> operands = {m.q->packed, m.k->fresh.packed, m.v->fresh.packed, m.k->past, m.v->past,
                                 m.q->cos, m.q->sin};
  SmallVector<Value> replaced = {m.merge->getResult(0), present[0], present[1]};
  Operation *after = insertionPoint(operands, replaced, pv);
  if (!after) return false;
  rewriter.setInsertionPointAfter(after);
  auto i64 = [&](int64_t v) { return rewriter.getI64IntegerAttr(v); };
  auto attn = rewriter.create<slm::AttentionOp>(
      pv->getLoc(), TypeRange{m.merge->getResult(0).getType(), present[0].getType(), present[1].getType()},
      m.q->packed, m.k->fresh.packed, m.v->fresh.packed, m.k->past, m.v->past, m.q->cos, m.q->sin, i64(m.q->heads),
      i64(m.k->fresh.heads), rewriter.getF32FloatAttr(float(m.scale)), i64(m.causal), UnitAttr());
  copyNames(pv, attn);
  attn->removeAttr(slm::kOutputNamesAttr);
  rewriter.replaceAllUsesWith(m.merge->getResult(0), attn.getOutput());
  rewriter.replaceAllUsesWith(present[0], attn.getPresentKey());
  rewriter.replaceAllUsesWith(present[1], attn.getPresentValue());
  SmallVector<Value> dead(m.merge->getOperands());
  rewriter.eraseOp(m.merge);
  dead.append({present[0], present[1]});
  eraseDead(rewriter, dead);
  return true;
}

struct FuseAttentionPass : impl::FuseAttentionBase<FuseAttentionPass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    llvm::SmallPtrSet<Operation *, 8> tried; // roots that did not match (or could not be placed)
    for (bool changed = true; changed;) {
      changed = false;
      getOperation().walk([&](Operation *op) {
        if (!isOp(op, "MatMul") || tried.contains(op)) return WalkResult::advance();
        auto m = matchAttention(op);
        if (m && rewrite(rewriter, op, *m)) {
          changed = true;
          return WalkResult::interrupt(); // the walk's ops may be gone: start again
        }
        tried.insert(op);
        return WalkResult::advance();
      });
    }
  }
};

} // namespace
} // namespace slmc
