// Pruning-site matching (FFN chains, attention heads) and the weight-slicing helpers of the passes.
#include "passes/prune/PruneSites.h"
#include "passes/prune/Sp24Pack.h"
#include "ConstantData.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <set>

namespace slmc {

using namespace mlir;

namespace {

std::string nodeName(Operation *op) {
  if (auto n = op->getAttrOfType<StringAttr>(slm::kNodeNameAttr)) return n.str();
  return "";
}

// The folder-like prefix two node names share ("/layers.0/mlp/Mul" + "/layers.0/mlp/Mul_1" ->
// "/layers.0/mlp"), so a report row names the block rather than one of its ops.
std::string blockName(Operation *a, Operation *b, Operation *fallback) {
  std::string x = nodeName(a), y = b ? nodeName(b) : x;
  size_t n = 0;
  while (n < x.size() && n < y.size() && x[n] == y[n]) ++n;
  std::string prefix = x.substr(0, n);
  auto slash = prefix.rfind('/');
  if (slash != std::string::npos && slash > 0) return prefix.substr(0, slash);
  if (!nodeName(fallback).empty()) return nodeName(fallback);
  if (auto c = cast<slm::FusedMatMulOp>(fallback).getB().getDefiningOp<slm::ConstantOp>())
    if (auto name = c.getName()) return name->str();
  return fallback->getName().getStringRef().str();
}

bool hasConstWeight(slm::FusedMatMulOp op) {
  Weight w;
  return readWeight(op, &w);
}

bool constBias(slm::FusedMatMulOp op) {
  return !op.getBias() || op.getBias().getDefiningOp<slm::ConstantOp>();
}

// Why a producer of pruned output channels cannot be sliced ("" when it can).
std::string producerBlocker(slm::FusedMatMulOp op, const char *what) {
  if (!op) return std::string(what) + " is not a fused_matmul";
  if (!hasConstWeight(op)) return std::string(what) + " has no constant float32 weight";
  if (!constBias(op)) return std::string(what) + " has a run-time bias";
  if (op.getResidual()) return std::string(what) + " adds a residual";
  if (!op.getOutput().hasOneUse()) return std::string(what) + " output has other users";
  return "";
}

// The past KV input may change shape only when it is a function argument, or a session-state cache
// (slm.kv_cache, --kv-cache=state), read by nothing but this attention and Shape ops (whose results
// do not depend on the head count we change: the head count is read through Shape only for the
// past length, a different dim).
bool pastIsPrivateArg(Value past, Operation *attention) {
  if (!past) return true;
  if (!isa<BlockArgument>(past) && !past.getDefiningOp<slm::KvCacheOp>()) return false;
  for (Operation *user : past.getUsers())
    if (user != attention && !isa<slm::OnnxShapeOp>(user)) return false;
  return true;
}

bool presentOnlyReturned(Value present) {
  for (Operation *user : present.getUsers())
    if (!isa<func::ReturnOp>(user)) return false;
  return true;
}

void matchFfn(slm::FusedMatMulOp down, std::set<Operation *> &used, PruneSites &sites) {
  auto up = down.getA().getDefiningOp<slm::FusedMatMulOp>();
  if (!up || !hasConstWeight(down) || !hasConstWeight(up)) return; // not a linear -> linear chain
  auto skip = [&](const std::string &why) {
    sites.skipped.push_back({blockName(up, down, up), "ffn", why});
  };
  if (used.count(up) || used.count(down)) return skip("already part of another pruning site");
  if (std::string why = producerBlocker(up, "up projection"); !why.empty()) return skip(why);
  slm::FusedMatMulOp gate;
  if (Value mul = up.getMul()) {
    gate = mul.getDefiningOp<slm::FusedMatMulOp>();
    if (!gate) return skip("the multiplier is not a constant-weight projection");
    if (std::string why = producerBlocker(gate, "gate projection"); !why.empty()) return skip(why);
    if (gate.getMul()) return skip("gate projection has a multiplier");
    if (used.count(gate)) return skip("already part of another pruning site");
  }
  Weight wu, wd;
  readWeight(up, &wu);
  readWeight(down, &wd);
  if (wd.k != wu.n) return skip("down projection input does not match up projection output");
  if (gate) {
    Weight wg;
    readWeight(gate, &wg);
    if (wg.n != wu.n) return skip("gate and up projections differ in width");
  }
  FfnSite s{gate, up, down, blockName(gate ? gate.getOperation() : up.getOperation(), up, up), wu.n};
  used.insert(up);
  used.insert(down);
  if (gate) used.insert(gate);
  sites.ffn.push_back(s);
}

void matchHeads(slm::AttentionOp att, std::set<Operation *> &used, PruneSites &sites) {
  auto q = att.getQ().getDefiningOp<slm::FusedMatMulOp>();
  auto k = att.getK().getDefiningOp<slm::FusedMatMulOp>();
  auto v = att.getV().getDefiningOp<slm::FusedMatMulOp>();
  std::string layer = q && k ? blockName(q, k, q) : nodeName(att);
  auto skip = [&](const std::string &why) { sites.skipped.push_back({layer, "heads", why}); };
  for (auto [p, what] : {std::pair{q, "q projection"}, {k, "k projection"}, {v, "v projection"}}) {
    if (std::string why = producerBlocker(p, what); !why.empty()) return skip(why);
    if (p.getMul() || (p.getActivation() && !p.getActivation()->empty()))
      return skip(std::string(what) + " has an epilogue beyond a bias");
    if (used.count(p)) return skip("already part of another pruning site");
  }
  if (k == v || q == k || q == v) return skip("q/k/v share a projection");
  if (!att.getOutput().hasOneUse()) return skip("attention output has other users");
  auto o = dyn_cast<slm::FusedMatMulOp>(*att.getOutput().getUsers().begin());
  if (!o || o.getA() != att.getOutput() || !hasConstWeight(o))
    return skip("attention output does not feed a constant-weight output projection");
  if (!pastIsPrivateArg(att.getPastKey(), att) || !pastIsPrivateArg(att.getPastValue(), att))
    return skip("past key/value is not a function argument or state cache private to this attention");
  if (!presentOnlyReturned(att.getPresentKey()) || !presentOnlyReturned(att.getPresentValue()))
    return skip("present key/value has users other than the return");
  int64_t h = int64_t(att.getNumHeads()), kvh = int64_t(att.getKvNumHeads());
  Weight wq, wk, wo;
  readWeight(q, &wq);
  readWeight(k, &wk);
  readWeight(o, &wo);
  if (h <= 0 || kvh <= 0 || h % kvh || wq.n % h || wq.n / h * kvh != wk.n || wo.k != wq.n)
    return skip("head counts do not match the projection widths");
  used.insert({q, k, v, o});
  sites.heads.push_back({q, k, v, o, att, layer, h, kvh, wq.n / h});
}

} // namespace

HeadPlan planHeadRemoval(int64_t h, int64_t kvh, double fraction) {
  HeadPlan plan;
  if (h <= 0 || kvh <= 0 || h % kvh) return plan;
  int64_t g = h / kvh, target = std::llround(fraction * double(h)), bestDist = target;
  for (int64_t k = 1; k < kvh; ++k)
    if (std::abs(k * g - target) < bestDist) bestDist = std::abs(k * g - target), plan = {k, 0};
  for (int64_t j = 1; j < g; ++j)
    if (std::abs(j * kvh - target) < bestDist) bestDist = std::abs(j * kvh - target), plan = {0, j};
  return plan;
}

PruneSites findPruneSites(ModuleOp module) {
  PruneSites sites;
  std::set<Operation *> used;
  // Heads first: their output projections are never FFN down projections (their input is the
  // attention output), but claiming q/k/v keeps a q->? chain from being read as an FFN.
  module.walk([&](slm::AttentionOp op) { matchHeads(op, used, sites); });
  module.walk([&](slm::FusedMatMulOp op) { matchFfn(op, used, sites); });
  return sites;
}


bool readWeight(slm::FusedMatMulOp op, Weight *out) {
  auto c = op.getB().getDefiningOp<slm::ConstantOp>();
  if (!c) return false;
  auto type = cast<ShapedType>(c.getValue().getType());
  if (!type.getElementType().isF32() || type.getRank() != 2 || !type.hasStaticShape()) return false;
  out->constant = c;
  out->transB = op.getTransB() && *op.getTransB() != 0;
  out->k = type.getDimSize(out->transB ? 1 : 0);
  out->n = type.getDimSize(out->transB ? 0 : 1);
  out->values = slm::constantFloats(c);
  return int64_t(out->values.size()) == out->k * out->n;
}

namespace {

// Replaces `old`'s use in `user` by a new float32 constant; the old constant goes when unused.
// The new one keeps the name (layer names in --keep-float and the quantization table stay valid)
// unless the old one lives on for another user.
Value replaceConstant(Operation *user, OpOperand &operand, slm::ConstantOp old, ArrayRef<int64_t> shape,
                      const std::vector<float> &data) {
  OpBuilder b(user);
  std::string name = old && old.getName() ? old.getName()->str() : "pruned";
  bool shared = old && !old->hasOneUse();
  if (shared) name += ".pruned";
  Value v = slm::makeResourceConstant(b, user->getLoc(), shape, b.getF32Type(), data.data(), data.size() * 4, name)
                .getResult();
  operand.set(v);
  if (old && old->use_empty()) old->erase();
  return v;
}

void setLastDim(Value v, int64_t n) {
  auto t = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape(t.getShape());
  shape.back() = n;
  v.setType(RankedTensorType::get(shape, t.getElementType()));
}

} // namespace

void sliceOutputs(slm::FusedMatMulOp op, const std::vector<int64_t> &keep) {
  Weight w;
  readWeight(op, &w);
  int64_t n2 = int64_t(keep.size());
  std::vector<float> out(size_t(w.k * n2));
  for (int64_t r = 0; r < w.k; ++r)
    for (int64_t j = 0; j < n2; ++j)
      out[size_t(w.transB ? j * w.k + r : r * n2 + j)] = w.at(r, keep[size_t(j)]);
  replaceConstant(op, op->getOpOperand(1), w.constant,
                  w.transB ? ArrayRef<int64_t>{n2, w.k} : ArrayRef<int64_t>{w.k, n2}, out);
  if (Value bias = op.getBias()) {
    auto c = bias.getDefiningOp<slm::ConstantOp>();
    std::vector<float> b = slm::constantFloats(c), nb;
    for (int64_t j : keep) nb.push_back(b.size() == 1 ? b[0] : b[size_t(j)]);
    replaceConstant(op, op.getBiasMutable()[0], c, {n2}, nb);
  }
  setLastDim(op.getOutput(), n2);
}

void sliceInputs(slm::FusedMatMulOp op, const std::vector<int64_t> &keep, const std::vector<float> *meanIn) {
  Weight w;
  readWeight(op, &w);
  int64_t k2 = int64_t(keep.size());
  std::vector<float> out(size_t(k2 * w.n));
  for (int64_t i = 0; i < k2; ++i)
    for (int64_t j = 0; j < w.n; ++j)
      out[size_t(w.transB ? j * k2 + i : i * w.n + j)] = w.at(keep[size_t(i)], j);
  if (meanIn) {
    // E[y] changes by -sum over removed c of E[x_c] * W[c, :]; put it back through the bias.
    std::vector<float> delta(size_t(w.n), 0.0f);
    std::vector<bool> kept(size_t(w.k), false);
    for (int64_t c : keep) kept[size_t(c)] = true;
    for (int64_t c = 0; c < w.k; ++c)
      if (!kept[size_t(c)])
        for (int64_t j = 0; j < w.n; ++j) delta[size_t(j)] += (*meanIn)[size_t(c)] * w.at(c, j);
    std::vector<float> bias(size_t(w.n), 0.0f);
    slm::ConstantOp old;
    if (Value b = op.getBias()) {
      old = b.getDefiningOp<slm::ConstantOp>();
      std::vector<float> ob = slm::constantFloats(old);
      for (int64_t j = 0; j < w.n; ++j) bias[size_t(j)] = ob.size() == 1 ? ob[0] : ob[size_t(j)];
    }
    for (int64_t j = 0; j < w.n; ++j) bias[size_t(j)] += delta[size_t(j)];
    if (op.getBias()) {
      replaceConstant(op, op.getBiasMutable()[0], old, {w.n}, bias);
    } else {
      OpBuilder b(op);
      std::string name = (w.constant.getName() ? w.constant.getName()->str() : std::string("pruned")) + ".bias";
      op.getBiasMutable().assign(
          slm::makeResourceConstant(b, op.getLoc(), {w.n}, b.getF32Type(), bias.data(), bias.size() * 4, name));
    }
  }
  replaceConstant(op, op->getOpOperand(1), w.constant,
                  w.transB ? ArrayRef<int64_t>{w.n, k2} : ArrayRef<int64_t>{k2, w.n}, out);
}

std::string magnitudeBlocker(slm::FusedMatMulOp op, Weight *w) {
  if (!readWeight(op, w)) return "no constant float32 weight";
  for (Operation *user : op.getOutput().getUsers())
    if (isa<func::ReturnOp>(user)) return "its result is a model output (e.g. the LM head): left dense";
  return "";
}

std::string sp24Blocker(slm::FusedMatMulOp op, Weight *w) {
  if (std::string why = magnitudeBlocker(op, w); !why.empty()) return why;
  if (w->k < 16) return llvm::formatv("K = {0} is below one 16-wide step", w->k).str();
  // 64-column panels and 16-row steps: a narrow matrix can come out larger than dense.
  if (sp24Bytes(w->k, w->n) >= w->k * w->n * 4)
    return llvm::formatv("not smaller: {0}x{1} padded to 64-column panels takes {2} bytes, dense {3}", w->k, w->n,
                         sp24Bytes(w->k, w->n), w->k * w->n * 4)
        .str();
  return "";
}

std::string matmulLayerName(slm::FusedMatMulOp op, const Weight &w) {
  if (auto n = op->getAttrOfType<StringAttr>(slm::kNodeNameAttr)) return n.str();
  if (slm::ConstantOp c = w.constant)
    if (auto n = c.getName()) return n->str();
  return op->getName().getStringRef().str();
}

void replaceWithSparseMatMul(slm::FusedMatMulOp op, const Weight &w, llvm::StringRef opName, ValueRange weights) {
  OpBuilder ob(op);
  OperationState st(op.getLoc(), opName);
  st.addOperands(op.getA());
  st.addOperands(weights);
  SmallVector<int32_t> seg(1 + weights.size(), 1);
  for (Value e : {op.getBias(), op.getMul(), op.getResidual()}) {
    seg.push_back(e ? 1 : 0);
    if (e) st.addOperands(e);
  }
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
  op->erase();
  if (old && old->use_empty()) old->erase();
}

void setWeight(slm::FusedMatMulOp op, const std::vector<float> &values) {
  Weight w;
  readWeight(op, &w);
  SmallVector<int64_t> shape{w.transB ? w.n : w.k, w.transB ? w.k : w.n};
  replaceConstant(op, op->getOpOperand(1), w.constant, shape, values);
}

int64_t weightBytes(slm::FusedMatMulOp op) {
  int64_t bytes = 0;
  for (Value v : {op.getB(), op.getBias()}) {
    if (!v) continue;
    auto t = cast<ShapedType>(v.getType());
    if (t.hasStaticShape()) bytes += t.getNumElements() * 4;
  }
  return bytes;
}

std::vector<float> floatArrayAttr(Operation *op, llvm::StringRef name, int64_t size) {
  auto a = op->getAttrOfType<DenseF32ArrayAttr>(name);
  if (!a || int64_t(a.size()) != size) return {};
  return std::vector<float>(a.asArrayRef().begin(), a.asArrayRef().end());
}

} // namespace slmc
