// Unit tests for slm's fused kernels (slm.fused_matmul, fused_conv, rms_norm, rope, attention, elementwise) against the same
// computation composed from the reference ONNX kernels.
#include "kernel_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <deque>
#include <string>
#include <vector>

namespace slm {
namespace {

// A tensor that owns its bytes.
struct Owned {
  std::vector<unsigned char> bytes;
  Tensor t;
  Owned() = default;
  Owned(const Owned &o) : bytes(o.bytes), t(o.t) { t.data = bytes.empty() ? nullptr : bytes.data(); }
  Owned &operator=(const Owned &o) {
    bytes = o.bytes;
    t = o.t;
    t.data = bytes.empty() ? nullptr : bytes.data();
    return *this;
  }
};

Owned Make(int32_t dtype, std::vector<int64_t> dims, const std::vector<double> &vals) {
  Owned o;
  o.t.dtype = dtype;
  o.t.rank = int(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) o.t.dims[i] = dims[i];
  o.bytes.resize(o.t.nbytes() + 1);
  o.t.data = o.bytes.data();
  for (size_t i = 0; i < vals.size() && int64_t(i) < o.t.numel(); ++i) write_double(o.t, int64_t(i), vals[i]);
  return o;
}
Owned F32(std::vector<int64_t> dims, const std::vector<double> &v) { return Make(kF32, dims, v); }
Owned I64(std::vector<int64_t> v) { return Make(kI64, {int64_t(v.size())}, std::vector<double>(v.begin(), v.end())); }
Owned Scalar(double v) { return Make(kF32, {}, {v}); }

std::vector<double> Noise(int64_t n, uint32_t seed) {
  std::vector<double> v(static_cast<size_t>(n));
  for (auto &x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = double(seed >> 8) / double(1 << 23) - 1.0;
  }
  return v;
}
Owned Rand(std::vector<int64_t> dims, uint32_t seed) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return F32(dims, Noise(n, seed));
}

// Attribute list builder; keeps the storage the Attr pointers refer to.
struct Attrs {
  std::deque<std::vector<int64_t>> ints_store;
  std::deque<std::string> str_store;
  std::vector<Attr> items;
  Attrs &i(const char *n, int64_t v) {
    Attr a;
    a.name = n, a.kind = kAttrInt, a.i = v;
    items.push_back(a);
    return *this;
  }
  Attrs &f(const char *n, float v) {
    Attr a;
    a.name = n, a.kind = kAttrFloat, a.f = v;
    items.push_back(a);
    return *this;
  }
  Attrs &s(const char *n, std::string v) {
    str_store.push_back(v);
    Attr a;
    a.name = n, a.kind = kAttrString, a.s = str_store.back().data(), a.count = str_store.back().size();
    items.push_back(a);
    return *this;
  }
  std::deque<std::vector<float>> floats_store;
  std::deque<std::vector<std::string>> strs_store;
  std::deque<std::vector<const char *>> strp_store;
  Attrs &floats(const char *n, std::vector<float> v) {
    floats_store.push_back(v);
    Attr a;
    a.name = n, a.kind = kAttrFloats, a.floats = floats_store.back().data(), a.count = v.size();
    items.push_back(a);
    return *this;
  }
  Attrs &strs(const char *n, std::vector<std::string> v) {
    strs_store.push_back(v);
    strp_store.emplace_back();
    for (const std::string &x : strs_store.back()) strp_store.back().push_back(x.c_str());
    Attr a;
    a.name = n, a.kind = kAttrStrings, a.strings = strp_store.back().data(), a.count = v.size();
    items.push_back(a);
    return *this;
  }
  Attrs &ints(const char *n, std::vector<int64_t> v) {
    ints_store.push_back(v);
    Attr a;
    a.name = n, a.kind = kAttrInts, a.ints = ints_store.back().data(), a.count = v.size();
    items.push_back(a);
    return *this;
  }
};

// Splits work into chunks run in reverse order, so state leaking between chunks shows up.
void ChunkedParallelFor(void *, int64_t n, int64_t grain, TaskFn fn, void *arg) {
  int64_t step = grain < 1 ? 1 : grain;
  for (int64_t b = (n - 1) / step * step; b >= 0; b -= step) fn(arg, b, b + step < n ? b + step : n);
}

// Infers, allocates and runs `op`; fails the test on any error. Returns the outputs.
std::vector<Owned> Run(const char *op, std::vector<const Owned *> ins, const Attrs &attrs = Attrs(), int nout = 1) {
  const OpKernel *k = find_ref_kernel(op);
  EXPECT_NE(k, nullptr) << op;
  std::vector<Owned> outs(static_cast<size_t>(nout));
  if (!k) return outs;
  AttrList al{attrs.items.data(), attrs.items.size()};
  std::vector<const Tensor *> in_ptrs;
  for (const Owned *o : ins) in_ptrs.push_back(o ? &o->t : nullptr);
  std::vector<Tensor *> out_ptrs;
  for (auto &o : outs) out_ptrs.push_back(&o.t);
  char err[512] = {};
  KernelContext ctx;
  ctx.attrs = &al;
  ctx.inputs = in_ptrs.data();
  ctx.num_inputs = int(in_ptrs.size());
  ctx.outputs = out_ptrs.data();
  ctx.num_outputs = nout;
  ctx.parallel_for = ChunkedParallelFor;
  ctx.error = err;
  ctx.error_size = sizeof err;
  EXPECT_EQ(k->infer(&ctx), SLM_REF_OK) << op << ": " << err;
  for (auto &o : outs) {
    o.bytes.assign(o.t.nbytes() + 1, 0xCD);
    o.t.data = o.bytes.data();
  }
  EXPECT_EQ(k->run(&ctx), SLM_REF_OK) << op << ": " << err;
  return outs;
}
Owned Run1(const char *op, std::vector<const Owned *> ins, const Attrs &attrs = Attrs()) {
  return Run(op, ins, attrs)[0];
}

void ExpectNear(const Owned &got, const Owned &want, double tol = 1e-5) {
  ASSERT_EQ(got.t.rank, want.t.rank);
  for (int i = 0; i < got.t.rank; ++i) ASSERT_EQ(got.t.dims[i], want.t.dims[i]) << "dim " << i;
  for (int64_t i = 0; i < got.t.numel(); ++i)
    ASSERT_NEAR(read_double(got.t, i), read_double(want.t, i), tol) << "element " << i;
}

// ---- slm.fused_matmul ----

Owned Epilogue(Owned y, const std::string &act) {
  if (act == "relu") return Run1("Relu", {&y});
  if (act == "gelu_tanh") return Run1("Gelu", {&y}, Attrs().s("approximate", "tanh"));
  if (act == "gelu_erf") return Run1("Gelu", {&y});
  if (act == "sigmoid") return Run1("Sigmoid", {&y});
  if (act == "silu") {
    Owned s = Run1("Sigmoid", {&y});
    return Run1("Mul", {&y, &s});
  }
  return y;
}

TEST(FusedMatMul, MatchesMatMulBiasActivationMulResidual) {
  Owned a = Rand({2, 3, 4}, 1), b = Rand({4, 5}, 2), bias = Rand({5}, 3), mul = Rand({2, 3, 5}, 4),
        res = Rand({2, 3, 5}, 5);
  for (std::string act : {"", "relu", "gelu_tanh", "gelu_erf", "silu", "sigmoid"}) {
    Owned y = Run1("MatMul", {&a, &b});
    y = Run1("Add", {&y, &bias});
    y = Epilogue(y, act);
    y = Run1("Mul", {&y, &mul});
    Owned want = Run1("Add", {&y, &res});
    Owned got = Run1("slm.fused_matmul", {&a, &b, &bias, &mul, &res}, Attrs().s("activation", act));
    SCOPED_TRACE(act);
    ExpectNear(got, want);
  }
}

TEST(FusedMatMul, TransposedWeightsAndClip) {
  Owned a = Rand({3, 4}, 6), bt = Rand({5, 4}, 7), lo = Scalar(-0.2), hi = Scalar(0.3);
  Owned b = Run1("Transpose", {&bt}, Attrs().ints("perm", {1, 0}));
  Owned y = Run1("MatMul", {&a, &b});
  Owned want = Run1("Clip", {&y, &lo, &hi});
  Owned got = Run1("slm.fused_matmul", {&a, &bt, nullptr, nullptr, nullptr},
                   Attrs().i("trans_b", 1).s("activation", "clip").f("clip_min", -0.2f).f("clip_max", 0.3f));
  ExpectNear(got, want);
}

// ---- slm.fused_conv ----

TEST(FusedConv, MatchesConvThenActivation) {
  Owned x = Rand({1, 2, 5, 5}, 30), w = Rand({4, 1, 3, 3}, 31), b = Rand({4}, 32), lo = Scalar(-0.1),
        hi = Scalar(0.2);
  Attrs conv;
  conv.ints("kernel_shape", {3, 3}).ints("pads", {1, 1, 1, 1}).i("group", 2);
  Owned c = Run1("Conv", {&x, &w, &b}, conv);
  for (std::string act : {"relu", "sigmoid", "clip"}) {
    Owned want = act == "clip" ? Run1("Clip", {&c, &lo, &hi}) : Epilogue(c, act);
    Attrs fused;
    fused.ints("kernel_shape", {3, 3}).ints("pads", {1, 1, 1, 1}).i("group", 2).s("activation", act);
    fused.f("clip_min", -0.1f).f("clip_max", 0.2f);
    SCOPED_TRACE(act);
    ExpectNear(Run1("slm.fused_conv", {&x, &w, &b}, fused), want);
  }
}

// ---- slm.rms_norm ----

TEST(RmsNorm, MatchesDecomposition) {
  Owned x = Rand({2, 3, 8}, 8), w = Rand({8}, 9), eps = Scalar(1e-5), one = Scalar(1.0);
  Owned sq = Run1("Mul", {&x, &x});
  Owned mean = Run1("ReduceMean", {&sq}, Attrs().ints("axes", {-1}).i("keepdims", 1));
  Owned add = Run1("Add", {&mean, &eps});
  Owned sqrt = Run1("Sqrt", {&add});
  Owned inv = Run1("Div", {&one, &sqrt});
  Owned n = Run1("Mul", {&x, &inv});
  Owned want = Run1("Mul", {&n, &w});
  ExpectNear(Run1("slm.rms_norm", {&x, &w}, Attrs().f("epsilon", 1e-5f)), want);
}

// ---- slm.rope ----

Owned RotateHalfRope(const Owned &x, const Owned &cos, const Owned &sin, int64_t d) {
  Owned axes = I64({-1}), z = I64({0}), h = I64({d / 2}), e = I64({d});
  Owned lo = Run1("Slice", {&x, &z, &h, &axes}), hi = Run1("Slice", {&x, &h, &e, &axes});
  Owned neg = Run1("Neg", {&hi});
  Owned rot = Run1("Concat", {&neg, &lo}, Attrs().i("axis", -1));
  Owned c = Run1("Mul", {&x, &cos}), s = Run1("Mul", {&rot, &sin});
  return Run1("Add", {&c, &s});
}

TEST(Rope, MatchesSliceNegConcatComposition) {
  Owned x = Rand({1, 2, 3, 8}, 10), cos = Rand({3, 8}, 11), sin = Rand({3, 8}, 12);
  ExpectNear(Run1("slm.rope", {&x, &cos, &sin}), RotateHalfRope(x, cos, sin, 8));
}

// ---- slm.attention ----

struct AttnCase {
  int64_t b = 1, s = 3, p = 2, hq = 4, hkv = 2, d = 8;
  bool causal = true, rope = true;
};

// [B, S, H*D] → [B, H, S, D]
Owned SplitHeads(const Owned &x, int64_t b, int64_t s, int64_t h, int64_t d) {
  Owned shape = I64({b, s, h, d});
  Owned r = Run1("Reshape", {&x, &shape});
  return Run1("Transpose", {&r}, Attrs().ints("perm", {0, 2, 1, 3}));
}

// [B, Hkv, T, D] → [B, Hkv*n, T, D], each kv head repeated n times in place.
Owned RepeatKv(const Owned &x, const AttnCase &c, int64_t t) {
  int64_t n = c.hq / c.hkv;
  Owned ax = I64({2}), shape5 = I64({c.b, c.hkv, n, t, c.d}), shape4 = I64({c.b, c.hq, t, c.d});
  Owned u = Run1("Unsqueeze", {&x, &ax});
  Owned e = Run1("Expand", {&u, &shape5});
  return Run1("Reshape", {&e, &shape4});
}

// The exporter's attention graph, built from reference ONNX kernels; returns {out, present_k, present_v}.
std::vector<Owned> ComposedAttention(const AttnCase &c, const Owned &q, const Owned &k, const Owned &v,
                                     const Owned &pk, const Owned &pv, const Owned &cos, const Owned &sin) {
  int64_t t = c.p + c.s;
  Owned qh = SplitHeads(q, c.b, c.s, c.hq, c.d), kh = SplitHeads(k, c.b, c.s, c.hkv, c.d);
  if (c.rope) {
    qh = RotateHalfRope(qh, cos, sin, c.d);
    kh = RotateHalfRope(kh, cos, sin, c.d);
  }
  Owned vh = SplitHeads(v, c.b, c.s, c.hkv, c.d);
  Owned presK = Run1("Concat", {&pk, &kh}, Attrs().i("axis", 2));
  Owned presV = Run1("Concat", {&pv, &vh}, Attrs().i("axis", 2));
  Owned kr = RepeatKv(presK, c, t), vr = RepeatKv(presV, c, t);
  Owned kt = Run1("Transpose", {&kr}, Attrs().ints("perm", {0, 1, 3, 2}));
  Owned scores = Run1("MatMul", {&qh, &kt});
  Owned scale = Scalar(1.0 / std::sqrt(double(c.d)));
  scores = Run1("Mul", {&scores, &scale});
  if (c.causal) {
    std::vector<double> m(size_t(c.s * t));
    for (int64_t i = 0; i < c.s; ++i)
      for (int64_t j = 0; j < t; ++j) m[size_t(i * t + j)] = j > c.p + i;
    Owned mask = Make(kBool, {c.s, t}, m), fill = Scalar(-1e9);
    scores = Run1("Where", {&mask, &fill, &scores});
  }
  Owned probs = Run1("Softmax", {&scores}, Attrs().i("axis", -1));
  Owned o = Run1("MatMul", {&probs, &vr});
  o = Run1("Transpose", {&o}, Attrs().ints("perm", {0, 2, 1, 3}));
  Owned shape = I64({c.b, c.s, c.hq * c.d});
  return {Run1("Reshape", {&o, &shape}), presK, presV};
}

void CheckAttention(const AttnCase &c) {
  Owned q = Rand({c.b, c.s, c.hq * c.d}, 20), k = Rand({c.b, c.s, c.hkv * c.d}, 21),
        v = Rand({c.b, c.s, c.hkv * c.d}, 22), pk = Rand({c.b, c.hkv, c.p, c.d}, 23),
        pv = Rand({c.b, c.hkv, c.p, c.d}, 24), cos = Rand({c.s, c.d}, 25), sin = Rand({c.s, c.d}, 26);
  auto want = ComposedAttention(c, q, k, v, pk, pv, cos, sin);
  Attrs attrs;
  attrs.i("num_heads", c.hq).i("kv_num_heads", c.hkv).f("scale", float(1.0 / std::sqrt(double(c.d))));
  attrs.i("causal", c.causal);
  auto got = Run("slm.attention", {&q, &k, &v, &pk, &pv, c.rope ? &cos : nullptr, c.rope ? &sin : nullptr},
                 attrs, 3);
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    ExpectNear(got[size_t(i)], want[size_t(i)]);
  }
}

TEST(Attention, GroupedHeadsWithPastRopeAndCausalMask) { CheckAttention(AttnCase{}); }

TEST(Attention, MultiHeadPrefillWithoutMaskOrRope) {
  AttnCase c;
  c.b = 2, c.p = 0, c.hq = 2, c.hkv = 2, c.causal = false, c.rope = false;
  CheckAttention(c);
}

TEST(Attention, DecodeStepSeesEveryKey) {
  AttnCase c;
  c.s = 1, c.p = 5;
  CheckAttention(c);
}

TEST(Attention, RejectsHeadsThatDoNotDivide) {
  Owned q = Rand({1, 2, 24}, 1), k = Rand({1, 2, 16}, 2), v = Rand({1, 2, 16}, 3);
  Attrs attrs;
  attrs.i("num_heads", 3).i("kv_num_heads", 2).f("scale", 1.0f).i("causal", 0);
  AttrList al{attrs.items.data(), attrs.items.size()};
  const Tensor *ins[] = {&q.t, &k.t, &v.t};
  Tensor o[3];
  Tensor *outs[] = {&o[0], &o[1], &o[2]};
  char err[256] = {};
  KernelContext ctx;
  ctx.attrs = &al, ctx.inputs = ins, ctx.num_inputs = 3, ctx.outputs = outs, ctx.num_outputs = 3;
  ctx.error = err, ctx.error_size = sizeof err;
  EXPECT_EQ(find_ref_kernel("slm.attention")->infer(&ctx), SLM_REF_INVALID);
  EXPECT_NE(std::string(err).find("num_heads"), std::string::npos) << err;
}

// ---- slm.elementwise ----

// Attributes of an slm.elementwise step list, built in place (an Attrs copy would point into the original's storage).
struct StepAttrs {
  Attrs a;
  StepAttrs(std::vector<std::string> steps, std::vector<int64_t> args, std::vector<float> scalars,
            std::vector<int64_t> reversed) {
    a.ints("args", args).ints("reversed", reversed).floats("scalars", scalars).strs("steps", steps);
  }
};

TEST(ElementwiseChain, EveryStepKindMatchesTheOnnxKernels) {
  // 300 columns: the kernel's 256-element blocks end inside a row, so vector indexing across blocks shows.
  Owned x = Rand({3, 300}, 11), v = Rand({300}, 12), s = Scalar(0.75), one = Scalar(1.0);
  for (const char *op : {"Relu", "Sigmoid", "Tanh", "Exp", "Neg", "Abs", "Cos", "Sin", "Erf"}) {
    SCOPED_TRACE(op);
    ExpectNear(Run1("slm.elementwise", {&x}, StepAttrs({op}, {0}, {0}, {0}).a), Run1(op, {&x}), 1e-6);
  }
  Owned a = Run1("Abs", {&x}), a1 = Run1("Add", {&a, &one});
  ExpectNear(Run1("slm.elementwise", {&x}, StepAttrs({"Abs", "Add", "Sqrt"}, {0, -1, 0}, {0, 1.0f, 0}, {0, 0, 0}).a),
             Run1("Sqrt", {&a1}), 1e-6);
  for (const char *op : {"Add", "Sub", "Mul", "Div"})
    for (int rev = 0; rev < 2; ++rev) {
      SCOPED_TRACE(std::string(op) + (rev ? " reversed" : ""));
      Owned want_s = rev ? Run1(op, {&s, &x}) : Run1(op, {&x, &s});
      ExpectNear(Run1("slm.elementwise", {&x}, StepAttrs({op}, {-1}, {0.75f}, {rev}).a), want_s, 1e-6);
      Owned want_v = rev ? Run1(op, {&v, &x}) : Run1(op, {&x, &v});
      ExpectNear(Run1("slm.elementwise", {&x, &v}, StepAttrs({op}, {1}, {0}, {rev}).a), want_v, 1e-6);
    }
}

TEST(ElementwiseChain, TwoVectorChainMatchesTheComposition) {
  Owned x = Rand({2, 5, 40}, 21), a = Rand({40}, 22), b = Rand({1, 40}, 23), h = Scalar(0.5);
  Owned y = Run1("Mul", {&x, &a});
  y = Run1("Add", {&y, &b});
  y = Run1("Sigmoid", {&y});
  Owned want = Run1("Sub", {&h, &y});
  Owned got = Run1("slm.elementwise", {&x, &a, &b},
                   StepAttrs({"Mul", "Add", "Sigmoid", "Sub"}, {1, 2, 0, -1}, {0, 0, 0, 0.5f}, {0, 0, 0, 1}).a);
  ExpectNear(got, want, 1e-6);
}

// infer on a malformed step list: SLM_REF_INVALID with a message containing `expect`.
void ExpectRejected(std::vector<const Owned *> ins, const Attrs &attrs, const char *expect) {
  const OpKernel *k = find_ref_kernel("slm.elementwise");
  ASSERT_NE(k, nullptr);
  AttrList al{attrs.items.data(), attrs.items.size()};
  std::vector<const Tensor *> in_ptrs;
  for (const Owned *o : ins) in_ptrs.push_back(&o->t);
  Owned out;
  Tensor *outs[] = {&out.t};
  char err[512] = {};
  KernelContext ctx;
  ctx.attrs = &al;
  ctx.inputs = in_ptrs.data();
  ctx.num_inputs = int(in_ptrs.size());
  ctx.outputs = outs;
  ctx.num_outputs = 1;
  ctx.error = err;
  ctx.error_size = sizeof err;
  EXPECT_EQ(k->infer(&ctx), SLM_REF_INVALID) << expect;
  EXPECT_NE(std::string(err).find(expect), std::string::npos) << err;
}

TEST(ElementwiseChain, RejectsMalformedStepLists) {
  Owned x = Rand({2, 8}, 31), v = Rand({8}, 32), w = Rand({7}, 33);
  ExpectRejected({&x}, StepAttrs({"Relu", "Cosh"}, {0, 0}, {0, 0}, {0, 0}).a, "step 1 is 'Cosh'");
  ExpectRejected({&x}, StepAttrs({"Relu", "Neg"}, {0, 0}, {0}, {0, 0}).a, "same length");
  ExpectRejected({&x}, StepAttrs({}, {}, {}, {}).a, "0 steps");
  ExpectRejected({&x}, StepAttrs({"Add"}, {1}, {0}, {0}).a, "input 1, which does not exist");
  ExpectRejected({&x}, StepAttrs({"Add"}, {-2}, {0}, {0}).a, "does not exist");
  ExpectRejected({&x}, StepAttrs({"Exp"}, {1}, {0}, {0}).a, "unary step 0 (Exp)");
  ExpectRejected({&x}, StepAttrs({"Sub"}, {-1}, {0}, {2}).a, "reversed[0] must be 0 or 1");
  ExpectRejected({&x, &v}, StepAttrs({"Relu"}, {0}, {0}, {0}).a, "input 1 is used by no step");
  ExpectRejected({&x, &w}, StepAttrs({"Mul"}, {1}, {0}, {0}).a, "one value per element of the last axis");
  ExpectRejected({&x}, Attrs().ints("args", {0}).ints("reversed", {0}).ints("scalars", {0}).strs("steps", {"Relu"}),
                 "needs the attributes");
  std::vector<std::string> many(65, "Relu");
  ExpectRejected({&x}, StepAttrs(many, std::vector<int64_t>(65, 0), std::vector<float>(65, 0), std::vector<int64_t>(65, 0)).a,
                 "65 steps");
}

} // namespace
} // namespace slm
