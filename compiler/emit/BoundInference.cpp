// Bound inference: max shapes for every tensor, from the inputs' dim bounds, via the kernels' shape functions.
//
// Shape arithmetic (Shape → Gather → Concat → Reshape) is evaluated by running the
// small integer ops on their bound-time values; those values only size the plan and
// are never baked into the artifact. The runtime re-infers real shapes every run
// and refuses any that exceed the plan.
#include "emit/ArtifactGraph.h"

#include <cctype>
#include <cstdint>
#include <cstring>
#include <memory>

namespace slmc {
namespace {

constexpr int64_t kDefaultBound = 512;
constexpr int64_t kMaxValueElements = 1 << 16; // largest integer tensor evaluated at bound time
constexpr int64_t kMaxFloatValueElements = 64; // float values (e.g. Resize scales) evaluated when tiny

int64_t defaultBound(const std::string &dim) {
  std::string lower;
  for (char c : dim) lower += char(std::tolower((unsigned char)c));
  return lower.find("batch") != std::string::npos ? 1 : kDefaultBound;
}

bool isIntegral(int32_t dt) {
  return dt == ::slm::kI64 || dt == ::slm::kI32 || dt == ::slm::kBool || dt == ::slm::kI8 || dt == ::slm::kU8 ||
         dt == ::slm::kI16 || dt == ::slm::kU16 || dt == ::slm::kU32 || dt == ::slm::kU64;
}

std::string shapeStr(const std::vector<int64_t> &dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

// Bytes of t at its dims; false when they overflow 64 bits (a hostile shape or an absurd --dim).
bool checkedBytes(const ::slm::Tensor &t, uint64_t *out) {
  uint64_t n = ::slm::dtype_size(t.dtype);
  for (int i = 0; i < t.rank; ++i)
    if (t.dims[i] < 0 || __builtin_mul_overflow(n, uint64_t(t.dims[i]), &n) || n > uint64_t(INT64_MAX)) return false;
  *out = n;
  return true;
}

struct State {
  ArtifactGraph &g;
  std::vector<::slm::Tensor> values;
  std::vector<std::unique_ptr<char[]>> storage; // bound-time values of integer tensors
  std::vector<::slm::Attr> attrs;                 // scratch per op
  std::vector<std::unique_ptr<::slm::Tensor>> attrTensors;
  std::vector<std::vector<const char *>> attrStrings; // kAttrStrings pointer arrays, per op
};

void toTensor(const ArtifactTensor &t, ::slm::Tensor &out) {
  out.dtype = t.dtype;
  out.rank = int32_t(t.maxShape.size());
  for (size_t i = 0; i < t.maxShape.size(); ++i) out.dims[i] = t.maxShape[i];
  out.data = const_cast<char *>(t.constData);
}

void buildAttrs(State &st, const ArtifactOp &op) {
  st.attrs.assign(op.attrs.size(), ::slm::Attr{});
  st.attrStrings.assign(op.attrs.size(), {});
  for (size_t i = 0; i < op.attrs.size(); ++i) {
    const ArtifactAttr &a = op.attrs[i];
    ::slm::Attr &o = st.attrs[i];
    o.name = a.name.c_str();
    o.kind = a.kind;
    o.i = a.i;
    o.f = a.f;
    if (a.kind == ::slm::kAttrString) { o.s = a.s.data(); o.count = a.s.size(); }
    if (a.kind == ::slm::kAttrInts) { o.ints = a.ints.data(); o.count = a.ints.size(); }
    if (a.kind == ::slm::kAttrFloats) { o.floats = a.floats.data(); o.count = a.floats.size(); }
    if (a.kind == ::slm::kAttrStrings) {
      for (const std::string &s : a.strings) st.attrStrings[i].push_back(s.c_str());
      o.strings = st.attrStrings[i].data();
      o.count = a.strings.size();
    }
    if (a.kind == ::slm::kAttrTensor) {
      auto t = std::make_unique<::slm::Tensor>();
      toTensor(st.g.tensors[a.index], *t);
      o.tensor = t.get();
      st.attrTensors.push_back(std::move(t));
    }
  }
}

// Runs op on bound-time values when all inputs are known and every output is a small integer tensor.
void evaluateIfSmall(State &st, const ArtifactOp &op, ::slm::KernelContext &ctx, ::slm::Tensor *outs) {
  // Shape and Size read only their input's shape, which is always known here.
  bool shapeOnly = op.kind == "Shape" || op.kind == "Size";
  for (int idx : op.inputs)
    if (idx >= 0 && !st.values[idx].data && !shapeOnly) return;
  for (size_t i = 0; i < op.outputs.size(); ++i)
    if (op.outputs[i] >= 0 &&
        outs[i].numel() > (isIntegral(outs[i].dtype) ? kMaxValueElements : kMaxFloatValueElements))
      return;
  std::vector<std::unique_ptr<char[]>> bufs;
  for (size_t i = 0; i < op.outputs.size(); ++i) {
    if (op.outputs[i] < 0) continue;
    bufs.emplace_back(new char[outs[i].nbytes() + 1]());
    outs[i].data = bufs.back().get();
  }
  if (op.kernel->run(&ctx) != ::slm::SLM_REF_OK) { // e.g. an index valid only at smaller sizes
    for (size_t i = 0; i < op.outputs.size(); ++i) outs[i].data = nullptr;
    return;
  }
  for (auto &b : bufs) st.storage.push_back(std::move(b));
}

bool inferOp(State &st, size_t k, std::string *error) {
  ArtifactOp &op = st.g.ops[k];
  buildAttrs(st, op);
  ::slm::AttrList list{st.attrs.data(), st.attrs.size()};
  std::vector<const ::slm::Tensor *> ins;
  for (int idx : op.inputs) ins.push_back(idx >= 0 ? &st.values[idx] : nullptr);
  std::vector<::slm::Tensor> outs(op.outputs.size());
  std::vector<::slm::Tensor *> outPtrs;
  for (size_t i = 0; i < outs.size(); ++i) outPtrs.push_back(op.outputs[i] >= 0 ? &outs[i] : nullptr);
  char msg[512] = {0};
  ::slm::KernelContext ctx;
  ctx.attrs = &list;
  ctx.inputs = ins.data();
  ctx.num_inputs = int(ins.size());
  ctx.outputs = outPtrs.data();
  ctx.num_outputs = int(outPtrs.size());
  ctx.error = msg;
  ctx.error_size = sizeof msg;
  std::string where = "node '" + op.name + "' (op " + op.kind + ")";
  int rc = op.kernel->infer(&ctx);
  if (rc == ::slm::SLM_REF_NEED_VALUE) {
    std::string unknown;
    for (size_t i = 0; i < op.inputs.size(); ++i)
      if ((op.kernel->value_inputs >> i & 1u) && op.inputs[i] >= 0 && !st.values[op.inputs[i]].data)
        unknown += (unknown.empty() ? "'" : ", '") + st.g.tensors[op.inputs[i]].name + "'";
    *error = where + ": cannot bound its output shapes: they depend on the value of " +
             (unknown.empty() ? std::string("an input") : unknown) + ", which is computed from run-time data";
    return false;
  }
  if (rc != ::slm::SLM_REF_OK) {
    *error = where + ": " + msg;
    return false;
  }
  for (size_t i = 0; i < op.outputs.size(); ++i) {
    uint64_t bytes;
    if (op.outputs[i] >= 0 && !checkedBytes(outs[i], &bytes)) {
      *error = where + ": output '" + st.g.tensors[op.outputs[i]].name + "' would have shape " +
               shapeStr(std::vector<int64_t>(outs[i].dims, outs[i].dims + outs[i].rank)) +
               ", whose size overflows 64 bits";
      return false;
    }
  }
  evaluateIfSmall(st, op, ctx, outs.data());
  for (size_t i = 0; i < op.outputs.size(); ++i) {
    int idx = op.outputs[i];
    if (idx < 0) continue;
    ArtifactTensor &t = st.g.tensors[idx];
    if (t.dtype != outs[i].dtype) {
      *error = where + ": output '" + t.name + "' is " + ::slm::dtype_name(outs[i].dtype) + " but the IR says " +
               ::slm::dtype_name(t.dtype);
      return false;
    }
    t.maxShape.assign(outs[i].dims, outs[i].dims + outs[i].rank);
    t.byteSize = uint64_t(outs[i].nbytes());
    st.values[idx] = outs[i];
  }
  return true;
}

} // namespace

bool inferBounds(ArtifactGraph &g, const std::map<std::string, int64_t> &bounds, std::vector<std::string> &notes,
                 std::string *error) {
  State st{g, std::vector<::slm::Tensor>(g.tensors.size()), {}, {}, {}, {}};
  std::map<std::string, int64_t> reported;
  std::vector<int> bounded = g.inputs; // graph inputs and state tensors: their dims come from the bounds
  for (size_t i = 0; i < g.tensors.size(); ++i)
    if (g.tensors[i].storage == StorageKind::State) bounded.push_back(int(i));
  for (int idx : bounded) {
    ArtifactTensor &t = g.tensors[idx];
    for (size_t i = 0; i < t.maxShape.size(); ++i) {
      if (t.dimNames[i].empty()) continue;
      auto it = bounds.find(t.dimNames[i]);
      int64_t b = it != bounds.end() ? it->second : defaultBound(t.dimNames[i]);
      if (it == bounds.end() && !reported.count(t.dimNames[i]))
        notes.push_back("dim '" + t.dimNames[i] + "' bounded to " + std::to_string(b) + " (default; set --dim " +
                        t.dimNames[i] + "=N)");
      reported[t.dimNames[i]] = b;
      t.maxShape[i] = b;
    }
  }
  for (auto &[name, value] : bounds)
    if (!reported.count(name))
      notes.push_back("--dim " + name + "=" + std::to_string(value) + " names no dynamic input dim");
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    ArtifactTensor &t = g.tensors[i];
    if (t.storage == StorageKind::Constant || t.storage == StorageKind::Input || t.storage == StorageKind::State) {
      toTensor(t, st.values[i]);
      uint64_t bytes;
      if (!checkedBytes(st.values[i], &bytes)) {
        *error = "tensor '" + t.name + "' at its bounds " + shapeStr(t.maxShape) +
                 " has a size that overflows 64 bits; lower the --dim bounds";
        return false;
      }
      if (t.storage != StorageKind::Constant) {
        st.values[i].data = nullptr;
        t.byteSize = uint64_t(st.values[i].nbytes());
      }
    }
  }
  for (size_t k = 0; k < g.ops.size(); ++k)
    if (!inferOp(st, k, error)) return false;
  return true;
}

} // namespace slmc
