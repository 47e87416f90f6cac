// Unit tests for the elementwise, unary, shape and reduce reference kernels
// (targets/common/kernels).
#include "kernel_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <deque>
#include <string>
#include <vector>

namespace slm {
namespace {

// A tensor that owns its storage; values are written through write_double so
// every numeric dtype (halves included) is built the same way.
struct Tns {
  std::vector<uint8_t> buf;
  Tensor t;
  const Tensor *operator->() const { return &t; }
};

Tns make(int32_t dtype, std::vector<int64_t> dims, std::vector<double> vals) {
  Tns r;
  r.t.dtype = dtype;
  r.t.rank = int(dims.size());
  for (size_t i = 0; i < dims.size(); ++i)
    r.t.dims[i] = dims[i];
  r.buf.assign(std::max<size_t>(r.t.nbytes(), 1), 0);
  r.t.data = r.buf.data();
  EXPECT_EQ(size_t(r.t.numel()), vals.size()) << "test tensor value count";
  for (size_t i = 0; i < vals.size() && i < size_t(r.t.numel()); ++i)
    write_double(r.t, int64_t(i), vals[i]);
  return r;
}
Tns f32(std::vector<int64_t> d, std::vector<double> v) { return make(kF32, d, v); }
Tns i64(std::vector<int64_t> d, std::vector<double> v) { return make(kI64, d, v); }
Tns i32(std::vector<int64_t> d, std::vector<double> v) { return make(kI32, d, v); }
Tns b8(std::vector<int64_t> d, std::vector<double> v) { return make(kBool, d, v); }

std::vector<double> values(const Tensor &t) {
  std::vector<double> v;
  for (int64_t i = 0; i < t.numel(); ++i)
    v.push_back(read_double(t, i));
  return v;
}
std::vector<int64_t> dims(const Tensor &t) { return std::vector<int64_t>(t.dims, t.dims + t.rank); }

// Splits loops into grain-sized chunks run one after another, so tests
// exercise chunk starts in the middle of rows.
void chunked_for(void *, int64_t n, int64_t grain, TaskFn fn, void *arg) {
  for (int64_t b = 0; b < n; b += grain)
    fn(arg, b, std::min(n, b + grain));
}

// Builds one node (inputs, attributes), then infers and runs it.
class Op {
public:
  explicit Op(const char *name) : name_(name), k_(find_ref_kernel(name)) {}

  Op &in(const Tns &t) { return in(&t.t); }
  Op &in(const Tensor &t) { return in(&t); }
  Op &in(const Tensor *t) {
    ins_.push_back(t);
    return *this;
  }
  Op &none() { return in(nullptr); }
  Op &attr(const char *n, int64_t v) {
    Attr a = base(n, kAttrInt);
    a.i = v;
    return push(a);
  }
  Op &attr(const char *n, double v) {
    Attr a = base(n, kAttrFloat);
    a.f = float(v);
    return push(a);
  }
  Op &attr(const char *n, const char *s) {
    Attr a = base(n, kAttrString);
    a.s = s;
    a.count = std::strlen(s);
    return push(a);
  }
  Op &attr(const char *n, std::vector<int64_t> v) {
    ints_.push_back(v);
    Attr a = base(n, kAttrInts);
    a.ints = ints_.back().data();
    a.count = v.size();
    return push(a);
  }
  Op &attr(const char *n, const Tns &t) {
    Attr a = base(n, kAttrTensor);
    a.tensor = &t.t;
    return push(a);
  }

  int infer(int nout = 1) {
    if (!k_) {
      err = std::string("no kernel for ") + name_;
      return -1;
    }
    outs_.assign(size_t(nout), Tensor());
    outp_.clear();
    for (auto &o : outs_)
      outp_.push_back(&o);
    prepare();
    int st = k_->infer(&ctx_);
    err = errbuf_;
    return st;
  }

  // Infers, allocates outputs and runs; returns the first non-OK status.
  int run(int nout = 1) {
    if (int st = infer(nout))
      return st;
    bufs_.clear();
    for (auto &o : outs_) {
      bufs_.emplace_back(std::max<size_t>(o.nbytes(), 1), 0xCD);
      o.data = bufs_.back().data();
    }
    prepare();
    int st = k_->run(&ctx_);
    err = errbuf_;
    return st;
  }

  const Tensor &out(int i = 0) const { return outs_[size_t(i)]; }
  std::vector<double> vals(int i = 0) const { return values(out(i)); }
  std::vector<int64_t> shape(int i = 0) const { return dims(out(i)); }
  const OpKernel *kernel() const { return k_; }
  std::string err;

private:
  Attr base(const char *n, int32_t kind) {
    Attr a;
    a.name = n;
    a.kind = kind;
    return a;
  }
  Op &push(const Attr &a) {
    attrs_.push_back(a);
    return *this;
  }
  void prepare() {
    list_.items = attrs_.data();
    list_.count = attrs_.size();
    errbuf_[0] = 0;
    ctx_.attrs = &list_;
    ctx_.inputs = ins_.data();
    ctx_.num_inputs = int(ins_.size());
    ctx_.outputs = outp_.data();
    ctx_.num_outputs = int(outp_.size());
    ctx_.parallel_for = chunked_for;
    ctx_.error = errbuf_;
    ctx_.error_size = sizeof errbuf_;
  }

  const char *name_;
  const OpKernel *k_;
  std::vector<const Tensor *> ins_;
  std::vector<Attr> attrs_;
  std::deque<std::vector<int64_t>> ints_;
  std::vector<Tensor> outs_;
  std::vector<Tensor *> outp_;
  std::deque<std::vector<uint8_t>> bufs_;
  AttrList list_;
  KernelContext ctx_;
  char errbuf_[256];
};

using V = std::vector<double>;
using D = std::vector<int64_t>;

void expect_near(const V &got, const V &want, double tol = 1e-5) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i]))
      EXPECT_TRUE(std::isnan(got[i])) << "at " << i;
    else
      EXPECT_NEAR(got[i], want[i], tol * std::max(1.0, std::fabs(want[i]))) << "at " << i;
  }
}

// ---------------------------------------------------------------- elementwise

TEST(Elementwise, AddBroadcastsRowVector) {
  auto a = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  auto b = f32({3}, {10, 20, 30});
  Op op("Add");
  ASSERT_EQ(op.in(a).in(b).run(), SLM_REF_OK) << op.err;
  EXPECT_EQ(op.shape(), (D{2, 3}));
  EXPECT_EQ(op.vals(), (V{11, 22, 33, 14, 25, 36}));
}

TEST(Elementwise, MulBroadcastsBothWays) {
  auto a = i32({2, 1}, {2, 3});
  auto b = i32({1, 3}, {1, 10, 100});
  Op op("Mul");
  ASSERT_EQ(op.in(a).in(b).run(), SLM_REF_OK) << op.err;
  EXPECT_EQ(op.shape(), (D{2, 3}));
  EXPECT_EQ(op.out().dtype, kI32);
  EXPECT_EQ(op.vals(), (V{2, 20, 200, 3, 30, 300}));
}

TEST(Elementwise, SubScalarAndFloat16) {
  auto a = make(kF16, {4}, {1, 2.5, -3, 0});
  auto b = make(kF16, {}, {0.5});
  Op op("Sub");
  ASSERT_EQ(op.in(a).in(b).run(), SLM_REF_OK) << op.err;
  EXPECT_EQ(op.out().dtype, kF16);
  EXPECT_EQ(op.vals(), (V{0.5, 2, -3.5, -0.5}));
}

TEST(Elementwise, IntegerDivTruncatesTowardZero) {
  auto a = i32({4}, {-7, 7, -7, 5});
  auto b = i32({4}, {2, 2, -2, 0});
  Op op("Div");
  ASSERT_EQ(op.in(a).in(b).run(), SLM_REF_OK) << op.err;
  EXPECT_EQ(op.vals(), (V{-3, 3, 3, 0})); // division by 0 yields 0, not a trap
}

TEST(Elementwise, PowMixedDtypes) {
  auto a = f32({3}, {2, 4, 9});
  auto e = i64({3}, {3, -1, 0});
  Op op("Pow");
  ASSERT_EQ(op.in(a).in(e).run(), SLM_REF_OK) << op.err;
  EXPECT_EQ(op.out().dtype, kF32);
  expect_near(op.vals(), {8, 0.25, 1});

  auto ib = i64({3}, {3, -2, 5});
  auto fe = f32({}, {2});
  Op op2("Pow");
  ASSERT_EQ(op2.in(ib).in(fe).run(), SLM_REF_OK) << op2.err;
  EXPECT_EQ(op2.out().dtype, kI64);
  EXPECT_EQ(op2.vals(), (V{9, 4, 25}));
}

TEST(Elementwise, ModSignFollowsDivisorUnlessFmod) {
  auto a = i32({4}, {-7, 7, -7, 7});
  auto b = i32({4}, {3, -3, -3, 3});
  Op op("Mod");
  ASSERT_EQ(op.in(a).in(b).run(), SLM_REF_OK) << op.err;
  EXPECT_EQ(op.vals(), (V{2, -2, -1, 1}));

  auto fa = f32({2}, {-7.5, 7.5});
  auto fb = f32({2}, {2, 2});
  Op op2("Mod");
  ASSERT_EQ(op2.in(fa).in(fb).attr("fmod", int64_t(1)).run(), SLM_REF_OK) << op2.err;
  expect_near(op2.vals(), {-1.5, 1.5});

  Op op3("Mod");
  EXPECT_EQ(op3.in(fa).in(fb).infer(), SLM_REF_INVALID); // floats need fmod=1
}

TEST(Elementwise, VariadicMaxMinSumMean) {
  auto a = f32({2, 2}, {1, 5, 3, 7});
  auto b = f32({2}, {4, 2});
  auto c = f32({}, {3});
  Op mx("Max");
  ASSERT_EQ(mx.in(a).in(b).in(c).run(), SLM_REF_OK) << mx.err;
  EXPECT_EQ(mx.vals(), (V{4, 5, 4, 7}));
  Op mn("Min");
  ASSERT_EQ(mn.in(a).in(b).in(c).run(), SLM_REF_OK) << mn.err;
  EXPECT_EQ(mn.vals(), (V{1, 2, 3, 2}));
  Op sum("Sum");
  ASSERT_EQ(sum.in(a).in(b).in(c).run(), SLM_REF_OK) << sum.err;
  EXPECT_EQ(sum.vals(), (V{8, 10, 10, 12}));
  Op mean("Mean");
  ASSERT_EQ(mean.in(a).in(b).in(c).run(), SLM_REF_OK) << mean.err;
  expect_near(mean.vals(), {8 / 3.0, 10 / 3.0, 10 / 3.0, 4});
  Op one("Sum");
  ASSERT_EQ(one.in(a).run(), SLM_REF_OK) << one.err;
  EXPECT_EQ(one.vals(), (V{1, 5, 3, 7}));
}

TEST(Elementwise, MaxPropagatesNaN) {
  auto a = f32({2}, {NAN, 1});
  auto b = f32({2}, {1, NAN});
  Op op("Max");
  ASSERT_EQ(op.in(a).in(b).run(), SLM_REF_OK) << op.err;
  EXPECT_TRUE(std::isnan(op.vals()[0]));
  EXPECT_TRUE(std::isnan(op.vals()[1]));
}

TEST(Elementwise, ComparisonsGiveBool) {
  auto a = i64({2, 2}, {1, 2, 3, 4});
  auto b = i64({2}, {2, 2});
  const char *ops[] = {"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"};
  const V want[] = {{0, 1, 0, 0}, {1, 0, 0, 0}, {0, 0, 1, 1}, {1, 1, 0, 0}, {0, 1, 1, 1}};
  for (int i = 0; i < 5; ++i) {
    Op op(ops[i]);
    ASSERT_EQ(op.in(a).in(b).run(), SLM_REF_OK) << ops[i] << ": " << op.err;
    EXPECT_EQ(op.out().dtype, kBool);
    EXPECT_EQ(op.vals(), want[i]) << ops[i];
  }
  auto x = b8({2}, {1, 0}), y = b8({2}, {1, 1});
  Op eq("Equal");
  ASSERT_EQ(eq.in(x).in(y).run(), SLM_REF_OK) << eq.err;
  EXPECT_EQ(eq.vals(), (V{1, 0}));
}

TEST(Elementwise, LogicalOps) {
  auto a = b8({4}, {0, 0, 1, 1}), b = b8({4}, {0, 1, 0, 1});
  Op a1("And"), o1("Or"), x1("Xor");
  ASSERT_EQ(a1.in(a).in(b).run(), SLM_REF_OK);
  ASSERT_EQ(o1.in(a).in(b).run(), SLM_REF_OK);
  ASSERT_EQ(x1.in(a).in(b).run(), SLM_REF_OK);
  EXPECT_EQ(a1.vals(), (V{0, 0, 0, 1}));
  EXPECT_EQ(o1.vals(), (V{0, 1, 1, 1}));
  EXPECT_EQ(x1.vals(), (V{0, 1, 1, 0}));
  auto f = f32({4}, {0, 1, 0, 1});
  Op bad("And");
  EXPECT_EQ(bad.in(f).in(f).infer(), SLM_REF_UNSUPPORTED);
}

TEST(Elementwise, BitShift) {
  auto a = make(kU8, {3}, {1, 16, 255});
  auto s = make(kU8, {3}, {2, 3, 9});
  Op l("BitShift"), r("BitShift");
  ASSERT_EQ(l.in(a).in(s).attr("direction", "LEFT").run(), SLM_REF_OK) << l.err;
  ASSERT_EQ(r.in(a).in(s).attr("direction", "RIGHT").run(), SLM_REF_OK) << r.err;
  EXPECT_EQ(l.vals(), (V{4, 128, 0}));
  EXPECT_EQ(r.vals(), (V{0, 2, 0}));
}

TEST(Elementwise, PReluSlopePerChannel) {
  auto x = f32({2, 2}, {-1, 2, -3, -4});
  auto s = f32({2}, {0.5, 0.1});
  Op op("PRelu");
  ASSERT_EQ(op.in(x).in(s).run(), SLM_REF_OK) << op.err;
  expect_near(op.vals(), {-0.5, 2, -1.5, -0.4});
  auto big = f32({3, 2, 2}, V(12, 1.0));
  Op bad("PRelu");
  EXPECT_EQ(bad.in(x).in(big).infer(), SLM_REF_INVALID); // slope must not grow X
}

TEST(Elementwise, WhereBroadcastsThreeWays) {
  auto c = b8({2, 1}, {1, 0});
  auto x = i64({3}, {1, 2, 3});
  auto y = i64({}, {-1});
  Op op("Where");
  ASSERT_EQ(op.in(c).in(x).in(y).run(), SLM_REF_OK) << op.err;
  EXPECT_EQ(op.shape(), (D{2, 3}));
  EXPECT_EQ(op.vals(), (V{1, 2, 3, -1, -1, -1}));
  auto fc = f32({1}, {1});
  Op bad("Where");
  EXPECT_EQ(bad.in(fc).in(x).in(y).infer(), SLM_REF_INVALID);
}

TEST(Elementwise, ZeroSizeAndErrors) {
  auto a = f32({0, 3}, {});
  auto b = f32({3}, {1, 2, 3});
  Op op("Add");
  ASSERT_EQ(op.in(a).in(b).run(), SLM_REF_OK) << op.err;
  EXPECT_EQ(op.shape(), (D{0, 3}));

  auto c = f32({2}, {1, 2});
  Op bad("Add");
  EXPECT_EQ(bad.in(b).in(c).infer(), SLM_REF_INVALID);
  EXPECT_NE(bad.err.find("Add"), std::string::npos);
  auto i = i32({3}, {1, 2, 3});
  Op mixed("Mul");
  EXPECT_EQ(mixed.in(b).in(i).infer(), SLM_REF_INVALID);
  Op missing("Sub");
  EXPECT_EQ(missing.in(b).none().infer(), SLM_REF_INVALID);
}

TEST(Elementwise, LargeBroadcastAcrossChunks) {
  // 300 x 257 > the 64K parallel grain, so chunks start mid-row.
  const int64_t R = 300, C = 257;
  V av(static_cast<size_t>(R * C)), bv(static_cast<size_t>(C));
  for (int64_t i = 0; i < R * C; ++i)
    av[size_t(i)] = double(i % 1000);
  for (int64_t j = 0; j < C; ++j)
    bv[size_t(j)] = double(j) * 0.5;
  auto a = f32({R, C}, av), b = f32({C}, bv);
  Op op("Add");
  ASSERT_EQ(op.in(a).in(b).run(), SLM_REF_OK) << op.err;
  V got = op.vals();
  for (int64_t i = 0; i < R * C; i += 997)
    ASSERT_EQ(got[size_t(i)], av[size_t(i)] + bv[size_t(i % C)]) << i;
  ASSERT_EQ(got.back(), av.back() + bv.back());
}

// ---------------------------------------------------------------- unary

TEST(Unary, Activations) {
  auto x = f32({5}, {-2, -0.5, 0, 0.5, 2});
  struct Case {
    const char *op;
    V want;
  } cases[] = {
      {"Relu", {0, 0, 0, 0.5, 2}},
      {"Neg", {2, 0.5, 0, -0.5, -2}},
      {"Abs", {2, 0.5, 0, 0.5, 2}},
      {"Sigmoid", {0.11920292, 0.37754067, 0.5, 0.62245933, 0.88079708}},
      {"Tanh", {-0.96402758, -0.46211716, 0, 0.46211716, 0.96402758}},
      {"Softplus", {0.12692801, 0.47407698, 0.69314718, 0.97407698, 2.12692801}},
      {"Softsign", {-2 / 3.0, -1 / 3.0, 0, 1 / 3.0, 2 / 3.0}},
      {"HardSwish", {-1 / 3.0, -0.20833333, 0, 0.29166667, 5 / 3.0}},
      {"Mish", {-0.25250148, -0.22074377, 0, 0.37524521, 1.94395896}},
      {"Erf", {-0.99532227, -0.52049988, 0, 0.52049988, 0.99532227}},
      {"Sign", {-1, -1, 0, 1, 1}},
      {"Elu", {-0.86466472, -0.39346934, 0, 0.5, 2}},
      {"Selu", {-1.52016647, -0.69175819, 0, 0.52535049, 2.10140197}},
      {"Celu", {-0.86466472, -0.39346934, 0, 0.5, 2}},
      {"HardSigmoid", {0.1, 0.4, 0.5, 0.6, 0.9}},
      {"ThresholdedRelu", {0, 0, 0, 0, 2}},
      {"Gelu", {-0.04550026, -0.15426877, 0, 0.34573123, 1.95449974}},
      {"Floor", {-2, -1, 0, 0, 2}},
      {"Ceil", {-2, -0, 0, 1, 2}},
  };
  for (const auto &c : cases) {
    Op op(c.op);
    ASSERT_EQ(op.in(x).run(), SLM_REF_OK) << c.op << ": " << op.err;
    expect_near(op.vals(), c.want, 1e-5);
  }
}

TEST(Unary, AttributesAndGeluTanh) {
  auto x = f32({3}, {-2, 0.5, 2});
  Op lr("LeakyRelu");
  ASSERT_EQ(lr.in(x).attr("alpha", 0.1).run(), SLM_REF_OK);
  expect_near(lr.vals(), {-0.2, 0.5, 2});
  Op g("Gelu");
  ASSERT_EQ(g.in(x).attr("approximate", "tanh").run(), SLM_REF_OK) << g.err;
  expect_near(g.vals(), {-0.04540231, 0.34571401, 1.95459769}, 1e-5);
  Op bad("Gelu");
  EXPECT_EQ(bad.in(x).attr("approximate", "fast").infer(), SLM_REF_INVALID);
}

TEST(Unary, MathFunctions) {
  auto x = f32({2}, {0.25, 0.5});
  struct Case {
    const char *op;
    double (*f)(double);
  } cases[] = {{"Sqrt", std::sqrt},  {"Exp", std::exp},   {"Log", std::log},
               {"Sin", std::sin},    {"Cos", std::cos},   {"Tan", std::tan},
               {"Asin", std::asin},  {"Acos", std::acos}, {"Atan", std::atan},
               {"Sinh", std::sinh},  {"Cosh", std::cosh}, {"Asinh", std::asinh},
               {"Atanh", std::atanh}};
  for (const auto &c : cases) {
    Op op(c.op);
    ASSERT_EQ(op.in(x).run(), SLM_REF_OK) << c.op;
    expect_near(op.vals(), {c.f(0.25), c.f(0.5)});
  }
  auto y = f32({2}, {1, 2});
  Op ac("Acosh"), rc("Reciprocal");
  ASSERT_EQ(ac.in(y).run(), SLM_REF_OK);
  ASSERT_EQ(rc.in(y).run(), SLM_REF_OK);
  expect_near(ac.vals(), {0, std::acosh(2.0)});
  expect_near(rc.vals(), {1, 0.5});
  auto i = i32({2}, {4, 9});
  Op bad("Sqrt");
  EXPECT_EQ(bad.in(i).infer(), SLM_REF_UNSUPPORTED);
}

TEST(Unary, RoundHalfToEven) {
  auto x = f32({7}, {0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6});
  Op op("Round");
  ASSERT_EQ(op.in(x).run(), SLM_REF_OK);
  EXPECT_EQ(op.vals(), (V{0, 2, 2, -0, -2, 2, -3}));
}

TEST(Unary, IntegerOps) {
  auto x = i32({4}, {-5, 0, 3, -1});
  Op a("Abs"), n("Neg"), s("Sign"), r("Relu");
  ASSERT_EQ(a.in(x).run(), SLM_REF_OK);
  ASSERT_EQ(n.in(x).run(), SLM_REF_OK);
  ASSERT_EQ(s.in(x).run(), SLM_REF_OK);
  ASSERT_EQ(r.in(x).run(), SLM_REF_OK);
  EXPECT_EQ(a.vals(), (V{5, 0, 3, 1}));
  EXPECT_EQ(n.vals(), (V{5, 0, -3, 1}));
  EXPECT_EQ(s.vals(), (V{-1, 0, 1, -1}));
  EXPECT_EQ(r.vals(), (V{0, 0, 3, 0}));
  auto u = make(kU8, {2}, {0, 5});
  Op bn("BitwiseNot");
  ASSERT_EQ(bn.in(u).run(), SLM_REF_OK);
  EXPECT_EQ(bn.vals(), (V{255, 250}));
  Op neg_u("Neg");
  EXPECT_EQ(neg_u.in(u).infer(), SLM_REF_UNSUPPORTED);
}

TEST(Unary, NotIsNaNIsInf) {
  auto b = b8({2}, {1, 0});
  Op n("Not");
  ASSERT_EQ(n.in(b).run(), SLM_REF_OK);
  EXPECT_EQ(n.vals(), (V{0, 1}));
  auto x = f32({4}, {1, NAN, INFINITY, -INFINITY});
  Op nan("IsNaN");
  ASSERT_EQ(nan.in(x).run(), SLM_REF_OK);
  EXPECT_EQ(nan.out().dtype, kBool);
  EXPECT_EQ(nan.vals(), (V{0, 1, 0, 0}));
  Op inf("IsInf"), pos("IsInf");
  ASSERT_EQ(inf.in(x).run(), SLM_REF_OK);
  ASSERT_EQ(pos.in(x).attr("detect_negative", int64_t(0)).run(), SLM_REF_OK);
  EXPECT_EQ(inf.vals(), (V{0, 0, 1, 1}));
  EXPECT_EQ(pos.vals(), (V{0, 0, 1, 0}));
}

TEST(Unary, ClipFromAttrsAndInputs) {
  auto x = f32({4}, {-3, -1, 1, 3});
  Op old("Clip");
  ASSERT_EQ(old.in(x).attr("min", -2.0).attr("max", 2.0).run(), SLM_REF_OK);
  EXPECT_EQ(old.vals(), (V{-2, -1, 1, 2}));
  auto lo = f32({}, {0});
  Op only_min("Clip");
  ASSERT_EQ(only_min.in(x).in(lo).run(), SLM_REF_OK);
  EXPECT_EQ(only_min.vals(), (V{0, 0, 1, 3}));
  auto hi = f32({}, {-1.5});
  Op only_max("Clip");
  ASSERT_EQ(only_max.in(x).none().in(hi).run(), SLM_REF_OK);
  EXPECT_EQ(only_max.vals(), (V{-3, -1.5, -1.5, -1.5}));
  auto xi = i64({3}, {-10, 5, 10});
  auto ilo = i64({}, {0}), ihi = i64({}, {7});
  Op ic("Clip");
  ASSERT_EQ(ic.in(xi).in(ilo).in(ihi).run(), SLM_REF_OK);
  EXPECT_EQ(ic.vals(), (V{0, 5, 7}));
  auto lo5 = i64({}, {5}), hi2 = i64({}, {2});
  Op crossed("Clip"); // min > max: everything becomes max
  ASSERT_EQ(crossed.in(xi).in(lo5).in(hi2).run(), SLM_REF_OK);
  EXPECT_EQ(crossed.vals(), (V{2, 2, 2}));
  Op bad("Clip");
  EXPECT_EQ(bad.in(x).in(ilo).infer(), SLM_REF_INVALID);
}

TEST(Unary, CastConversions) {
  auto x = f32({5}, {-1.7, 2.9, 0, 0.25, 300});
  Op to_i("Cast");
  ASSERT_EQ(to_i.in(x).attr("to", int64_t(kI32)).run(), SLM_REF_OK) << to_i.err;
  EXPECT_EQ(to_i.out().dtype, kI32);
  EXPECT_EQ(to_i.vals(), (V{-1, 2, 0, 0, 300}));
  Op to_b("Cast");
  ASSERT_EQ(to_b.in(x).attr("to", int64_t(kBool)).run(), SLM_REF_OK);
  EXPECT_EQ(to_b.vals(), (V{1, 1, 0, 1, 1}));
  Op to_h("Cast");
  ASSERT_EQ(to_h.in(x).attr("to", int64_t(kF16)).run(), SLM_REF_OK);
  expect_near(to_h.vals(), {-1.7, 2.9, 0, 0.25, 300}, 1e-3);
  auto b = b8({2}, {1, 0});
  Op from_b("Cast");
  ASSERT_EQ(from_b.in(b).attr("to", int64_t(kF64)).run(), SLM_REF_OK);
  EXPECT_EQ(from_b.vals(), (V{1, 0}));
  auto big = i64({1}, {1234567890123});
  Op same("Cast");
  ASSERT_EQ(same.in(big).attr("to", int64_t(kI64)).run(), SLM_REF_OK);
  EXPECT_EQ(same.out().as<int64_t>()[0], 1234567890123);
  auto like = make(kU8, {1}, {0});
  Op cl("CastLike");
  ASSERT_EQ(cl.in(x).in(like).run(), SLM_REF_OK) << cl.err;
  EXPECT_EQ(cl.out().dtype, kU8);
  Op bad("Cast");
  EXPECT_EQ(bad.in(x).infer(), SLM_REF_INVALID); // no "to"
  Op str("Cast");
  EXPECT_EQ(str.in(x).attr("to", int64_t(kString)).infer(), SLM_REF_UNSUPPORTED);
}

TEST(Unary, IdentityAndDropout) {
  auto x = b8({3}, {1, 0, 1});
  Op id("Identity");
  ASSERT_EQ(id.in(x).run(), SLM_REF_OK);
  EXPECT_EQ(id.vals(), (V{1, 0, 1}));
  auto f = f32({2, 2}, {1, 2, 3, 4});
  Op d("Dropout");
  ASSERT_EQ(d.in(f).run(2), SLM_REF_OK) << d.err;
  EXPECT_EQ(d.vals(0), (V{1, 2, 3, 4}));
  EXPECT_EQ(d.out(1).dtype, kBool);
  EXPECT_EQ(d.vals(1), (V{1, 1, 1, 1}));
  auto z = f32({0, 4}, {});
  Op ez("Exp");
  ASSERT_EQ(ez.in(z).run(), SLM_REF_OK);
  EXPECT_EQ(ez.shape(), (D{0, 4}));
}

// ---------------------------------------------------------------- shape

TEST(Shape, ShapeAndSize) {
  auto x = f32({2, 3, 4}, V(24, 0));
  Op s("Shape");
  ASSERT_EQ(s.in(x).run(), SLM_REF_OK);
  EXPECT_EQ(s.vals(), (V{2, 3, 4}));
  Op s2("Shape");
  ASSERT_EQ(s2.in(x).attr("start", int64_t(-2)).attr("end", int64_t(10)).run(), SLM_REF_OK);
  EXPECT_EQ(s2.vals(), (V{3, 4}));
  Op sz("Size");
  ASSERT_EQ(sz.in(x).run(), SLM_REF_OK);
  EXPECT_EQ(sz.out().rank, 0);
  EXPECT_EQ(sz.vals(), (V{24}));
}

TEST(Shape, Reshape) {
  auto x = f32({2, 3, 4}, V(24, 1));
  auto s = i64({3}, {0, -1, 2});
  Op op("Reshape");
  ASSERT_EQ(op.in(x).in(s).run(), SLM_REF_OK) << op.err;
  EXPECT_EQ(op.shape(), (D{2, 6, 2}));
  EXPECT_EQ(op.kernel()->value_inputs, 1u << 1);

  auto bad_s = i32({2}, {5, -1});
  Op bad("Reshape");
  EXPECT_EQ(bad.in(x).in(bad_s).infer(), SLM_REF_INVALID);
  EXPECT_NE(bad.err.find("24 elements into [5, -1]"), std::string::npos) << bad.err;

  Tensor unknown = s.t;
  unknown.data = nullptr;
  Op need("Reshape");
  EXPECT_EQ(need.in(x).in(&unknown).infer(), SLM_REF_NEED_VALUE);

  auto z = f32({0, 3}, {});
  auto zs = i64({2}, {3, 0});
  Op az("Reshape");
  ASSERT_EQ(az.in(z).in(zs).attr("allowzero", int64_t(1)).run(), SLM_REF_OK) << az.err;
  EXPECT_EQ(az.shape(), (D{3, 0}));
  Op two("Reshape");
  auto s2 = i64({2}, {-1, -1});
  EXPECT_EQ(two.in(x).in(s2).infer(), SLM_REF_INVALID);
}

TEST(Shape, FlattenSqueezeUnsqueeze) {
  auto x = f32({2, 1, 3, 1}, V(6, 0));
  Op fl("Flatten");
  ASSERT_EQ(fl.in(x).attr("axis", int64_t(-2)).run(), SLM_REF_OK);
  EXPECT_EQ(fl.shape(), (D{2, 3}));
  Op fl0("Flatten");
  ASSERT_EQ(fl0.in(x).attr("axis", int64_t(0)).infer(), SLM_REF_OK);
  EXPECT_EQ(fl0.shape(), (D{1, 6}));

  Op sq_all("Squeeze");
  ASSERT_EQ(sq_all.in(x).run(), SLM_REF_OK);
  EXPECT_EQ(sq_all.shape(), (D{2, 3}));
  Op sq_attr("Squeeze");
  ASSERT_EQ(sq_attr.in(x).attr("axes", D{-1}).infer(), SLM_REF_OK);
  EXPECT_EQ(sq_attr.shape(), (D{2, 1, 3}));
  auto axes = i64({1}, {1});
  Op sq_in("Squeeze");
  ASSERT_EQ(sq_in.in(x).in(axes).infer(), SLM_REF_OK);
  EXPECT_EQ(sq_in.shape(), (D{2, 3, 1}));
  auto no_axes = i64({0}, {});
  Op sq_empty("Squeeze");
  ASSERT_EQ(sq_empty.in(x).in(no_axes).infer(), SLM_REF_OK);
  EXPECT_EQ(sq_empty.shape(), (D{2, 3}));
  Op sq_bad("Squeeze");
  EXPECT_EQ(sq_bad.in(x).attr("axes", D{0}).infer(), SLM_REF_INVALID);

  auto y = f32({3}, {1, 2, 3});
  auto ua = i64({2}, {0, -1});
  Op us("Unsqueeze");
  ASSERT_EQ(us.in(y).in(ua).run(), SLM_REF_OK) << us.err;
  EXPECT_EQ(us.shape(), (D{1, 3, 1}));
  EXPECT_EQ(us.vals(), (V{1, 2, 3}));
  Op us_attr("Unsqueeze");
  ASSERT_EQ(us_attr.in(y).attr("axes", D{1}).infer(), SLM_REF_OK);
  EXPECT_EQ(us_attr.shape(), (D{3, 1}));
  Op us_dup("Unsqueeze");
  EXPECT_EQ(us_dup.in(y).attr("axes", D{0, -3}).infer(), SLM_REF_INVALID);
}

TEST(Shape, Transpose) {
  auto x = i32({2, 3}, {1, 2, 3, 4, 5, 6});
  Op t("Transpose");
  ASSERT_EQ(t.in(x).run(), SLM_REF_OK);
  EXPECT_EQ(t.shape(), (D{3, 2}));
  EXPECT_EQ(t.vals(), (V{1, 4, 2, 5, 3, 6}));
  V v(24);
  for (int i = 0; i < 24; ++i)
    v[size_t(i)] = i;
  auto y = make(kF16, {2, 3, 4}, v);
  Op p("Transpose");
  ASSERT_EQ(p.in(y).attr("perm", D{1, 2, 0}).run(), SLM_REF_OK);
  EXPECT_EQ(p.shape(), (D{3, 4, 2}));
  V got = p.vals();
  // out[i][j][k] = y[k][i][j]
  EXPECT_EQ(got[0], 0);
  EXPECT_EQ(got[1], 12);
  EXPECT_EQ(got[2], 1);
  EXPECT_EQ(got[2 * 4 * 2 + 3 * 2 + 1], 12 + 2 * 4 + 3);
  Op bad("Transpose");
  EXPECT_EQ(bad.in(y).attr("perm", D{0, 0, 1}).infer(), SLM_REF_INVALID);
}

TEST(Shape, ConcatAndSplit) {
  auto a = f32({2, 1}, {1, 2});
  auto b = f32({2, 2}, {3, 4, 5, 6});
  auto e = f32({2, 0}, {});
  Op c("Concat");
  ASSERT_EQ(c.in(a).in(e).in(b).attr("axis", int64_t(-1)).run(), SLM_REF_OK) << c.err;
  EXPECT_EQ(c.shape(), (D{2, 3}));
  EXPECT_EQ(c.vals(), (V{1, 3, 4, 2, 5, 6}));
  Op bad("Concat");
  EXPECT_EQ(bad.in(a).in(b).attr("axis", int64_t(0)).infer(), SLM_REF_INVALID);

  auto x = i64({2, 5}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  Op s("Split");
  ASSERT_EQ(s.in(x).attr("axis", int64_t(1)).attr("split", D{2, 3}).run(2), SLM_REF_OK) << s.err;
  EXPECT_EQ(s.shape(0), (D{2, 2}));
  EXPECT_EQ(s.vals(0), (V{0, 1, 5, 6}));
  EXPECT_EQ(s.vals(1), (V{2, 3, 4, 7, 8, 9}));
  auto sizes = i64({2}, {4, 1});
  Op si("Split");
  ASSERT_EQ(si.in(x).in(sizes).attr("axis", int64_t(-1)).run(2), SLM_REF_OK) << si.err;
  EXPECT_EQ(si.vals(1), (V{4, 9}));
  Op eq("Split");
  ASSERT_EQ(eq.in(x).attr("axis", int64_t(0)).run(2), SLM_REF_OK) << eq.err;
  EXPECT_EQ(eq.vals(1), (V{5, 6, 7, 8, 9}));
  Op uneven("Split");
  ASSERT_EQ(uneven.in(x).attr("axis", int64_t(1)).attr("num_outputs", int64_t(2)).run(2),
            SLM_REF_OK);
  EXPECT_EQ(uneven.shape(0), (D{2, 3}));
  EXPECT_EQ(uneven.shape(1), (D{2, 2}));
  Op sum_bad("Split");
  EXPECT_EQ(sum_bad.in(x).attr("axis", int64_t(1)).attr("split", D{2, 2}).infer(2),
            SLM_REF_INVALID);
}

TEST(Shape, SliceInputsStepsAndClamping) {
  V v(20);
  for (int i = 0; i < 20; ++i)
    v[size_t(i)] = i;
  auto x = f32({4, 5}, v);
  auto st = i64({2}, {1, -1}), en = i64({2}, {1000, -6}), ax = i64({2}, {0, 1}),
       sp = i64({2}, {2, -2});
  Op op("Slice");
  ASSERT_EQ(op.in(x).in(st).in(en).in(ax).in(sp).run(), SLM_REF_OK) << op.err;
  EXPECT_EQ(op.shape(), (D{2, 3}));
  EXPECT_EQ(op.vals(), (V{9, 7, 5, 19, 17, 15}));

  auto st2 = i32({1}, {-2}), en2 = i32({1}, {INT32_MAX});
  Op tail("Slice");
  ASSERT_EQ(tail.in(x).in(st2).in(en2).run(), SLM_REF_OK) << tail.err;
  EXPECT_EQ(tail.shape(), (D{2, 5}));
  EXPECT_EQ(tail.vals()[0], 10);

  Op old("Slice");
  ASSERT_EQ(old.in(x).attr("starts", D{1}).attr("ends", D{3}).attr("axes", D{-1}).run(),
            SLM_REF_OK);
  EXPECT_EQ(old.shape(), (D{4, 2}));
  EXPECT_EQ(old.vals()[2], 6);

  auto empty_st = i64({1}, {3}), empty_en = i64({1}, {1});
  Op empty("Slice");
  ASSERT_EQ(empty.in(x).in(empty_st).in(empty_en).run(), SLM_REF_OK);
  EXPECT_EQ(empty.shape(), (D{0, 5}));

  auto zero_step = i64({1}, {0});
  Op bad("Slice");
  EXPECT_EQ(bad.in(x).in(st2).in(en2).none().in(zero_step).infer(), SLM_REF_INVALID);
  Tensor unk = en.t;
  unk.data = nullptr;
  Op need("Slice");
  EXPECT_EQ(need.in(x).in(st).in(&unk).infer(), SLM_REF_NEED_VALUE);
}

TEST(Shape, GatherFamily) {
  auto x = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  auto idx = i64({2}, {-1, 0});
  Op g("Gather");
  ASSERT_EQ(g.in(x).in(idx).attr("axis", int64_t(1)).run(), SLM_REF_OK) << g.err;
  EXPECT_EQ(g.shape(), (D{2, 2}));
  EXPECT_EQ(g.vals(), (V{3, 1, 6, 4}));
  auto sidx = i32({}, {1});
  Op gs("Gather");
  ASSERT_EQ(gs.in(x).in(sidx).run(), SLM_REF_OK);
  EXPECT_EQ(gs.shape(), (D{3}));
  EXPECT_EQ(gs.vals(), (V{4, 5, 6}));
  auto oob = i64({1}, {3});
  Op bad("Gather");
  EXPECT_EQ(bad.in(x).in(oob).attr("axis", int64_t(1)).run(), SLM_REF_INVALID);

  auto ei = i64({2, 2}, {2, 0, -3, 1});
  Op ge("GatherElements");
  ASSERT_EQ(ge.in(x).in(ei).attr("axis", int64_t(1)).run(), SLM_REF_OK) << ge.err;
  EXPECT_EQ(ge.vals(), (V{3, 1, 4, 5}));

  auto data = i64({2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
  auto ni = i64({2, 1}, {1, 0});
  Op gnd("GatherND");
  ASSERT_EQ(gnd.in(data).in(ni).attr("batch_dims", int64_t(1)).run(), SLM_REF_OK) << gnd.err;
  EXPECT_EQ(gnd.shape(), (D{2, 2}));
  EXPECT_EQ(gnd.vals(), (V{2, 3, 4, 5}));
  auto ni2 = i64({2, 2}, {0, 1, 1, 0});
  Op gnd2("GatherND");
  ASSERT_EQ(gnd2.in(data).in(ni2).run(), SLM_REF_OK) << gnd2.err;
  EXPECT_EQ(gnd2.vals(), (V{2, 3, 4, 5}));
}

TEST(Shape, ScatterOps) {
  auto x = f32({2, 3}, V(6, 0));
  auto idx = i64({1, 2}, {2, 2});
  auto upd = f32({1, 2}, {1, 5});
  Op se("ScatterElements");
  ASSERT_EQ(se.in(x).in(idx).in(upd).attr("axis", int64_t(1)).attr("reduction", "add").run(),
            SLM_REF_OK)
      << se.err;
  EXPECT_EQ(se.vals(), (V{0, 0, 6, 0, 0, 0}));
  Op se_none("ScatterElements");
  ASSERT_EQ(se_none.in(x).in(idx).in(upd).attr("axis", int64_t(-1)).run(), SLM_REF_OK);
  EXPECT_EQ(se_none.vals(), (V{0, 0, 5, 0, 0, 0}));

  auto data = i64({4}, {1, 2, 3, 4});
  auto ni = i64({2, 1}, {3, -4});
  auto nu = i64({2}, {40, 10});
  Op snd("ScatterND");
  ASSERT_EQ(snd.in(data).in(ni).in(nu).run(), SLM_REF_OK) << snd.err;
  EXPECT_EQ(snd.vals(), (V{10, 2, 3, 40}));
  auto rows = i64({1, 1}, {1});
  auto ru = f32({1, 3}, {7, 8, 9});
  Op snd_rows("ScatterND");
  ASSERT_EQ(snd_rows.in(x).in(rows).in(ru).attr("reduction", "mul").run(), SLM_REF_OK);
  EXPECT_EQ(snd_rows.vals(), (V{0, 0, 0, 0, 0, 0}));
  Op bad("ScatterND");
  EXPECT_EQ(bad.in(x).in(rows).in(upd).infer(), SLM_REF_INVALID);
}

TEST(Shape, ExpandAndTile) {
  auto x = i32({3, 1}, {1, 2, 3});
  auto s = i64({3}, {2, 1, 2});
  Op e("Expand");
  ASSERT_EQ(e.in(x).in(s).run(), SLM_REF_OK) << e.err;
  EXPECT_EQ(e.shape(), (D{2, 3, 2}));
  EXPECT_EQ(e.vals(), (V{1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3}));
  auto s_neg = i64({2}, {-1, 1});
  Op en("Expand");
  EXPECT_EQ(en.in(x).in(s_neg).infer(), SLM_REF_INVALID);
  auto s_bad = i64({1}, {4});
  Op eb("Expand");
  EXPECT_EQ(eb.in(e.out()).in(s_bad).infer(), SLM_REF_INVALID);

  auto t = b8({2}, {1, 0});
  auto r = i64({1}, {3});
  Op tl("Tile");
  ASSERT_EQ(tl.in(t).in(r).run(), SLM_REF_OK) << tl.err;
  EXPECT_EQ(tl.vals(), (V{1, 0, 1, 0, 1, 0}));
  auto y = f32({2, 2}, {1, 2, 3, 4});
  auto r2 = i64({2}, {2, 1});
  Op tl2("Tile");
  ASSERT_EQ(tl2.in(y).in(r2).run(), SLM_REF_OK);
  EXPECT_EQ(tl2.vals(), (V{1, 2, 3, 4, 1, 2, 3, 4}));
  auto r0 = i64({2}, {0, 1});
  Op tl0("Tile");
  ASSERT_EQ(tl0.in(y).in(r0).run(), SLM_REF_OK);
  EXPECT_EQ(tl0.shape(), (D{0, 2}));
}

TEST(Shape, RangeConstantOfShapeEyeLike) {
  auto s = f32({}, {1}), l = f32({}, {2}), d = f32({}, {0.25});
  Op r("Range");
  ASSERT_EQ(r.in(s).in(l).in(d).run(), SLM_REF_OK) << r.err;
  EXPECT_EQ(r.vals(), (V{1, 1.25, 1.5, 1.75}));
  auto is = i64({}, {10}), il = i64({}, {3}), id = i64({}, {-3});
  Op ri("Range");
  ASSERT_EQ(ri.in(is).in(il).in(id).run(), SLM_REF_OK);
  EXPECT_EQ(ri.vals(), (V{10, 7, 4}));
  auto iz = i64({}, {0});
  Op rz("Range");
  EXPECT_EQ(rz.in(is).in(il).in(iz).infer(), SLM_REF_INVALID);

  auto shp = i64({2}, {2, 2});
  Op c("ConstantOfShape");
  ASSERT_EQ(c.in(shp).run(), SLM_REF_OK);
  EXPECT_EQ(c.out().dtype, kF32);
  EXPECT_EQ(c.vals(), (V{0, 0, 0, 0}));
  auto val = i64({1}, {7});
  Op cv("ConstantOfShape");
  ASSERT_EQ(cv.in(shp).attr("value", val).run(), SLM_REF_OK) << cv.err;
  EXPECT_EQ(cv.out().dtype, kI64);
  EXPECT_EQ(cv.vals(), (V{7, 7, 7, 7}));

  auto m = f32({2, 3}, V(6, 5));
  Op eye("EyeLike");
  ASSERT_EQ(eye.in(m).attr("k", int64_t(1)).run(), SLM_REF_OK);
  EXPECT_EQ(eye.vals(), (V{0, 1, 0, 0, 0, 1}));
}

TEST(Shape, Trilu) {
  V v(9);
  for (int i = 0; i < 9; ++i)
    v[size_t(i)] = i + 1;
  auto x = f32({3, 3}, v);
  Op up("Trilu");
  ASSERT_EQ(up.in(x).run(), SLM_REF_OK);
  EXPECT_EQ(up.vals(), (V{1, 2, 3, 0, 5, 6, 0, 0, 9}));
  auto k = i64({}, {-1});
  Op lo("Trilu");
  ASSERT_EQ(lo.in(x).in(k).attr("upper", int64_t(0)).run(), SLM_REF_OK);
  EXPECT_EQ(lo.vals(), (V{0, 0, 0, 4, 0, 0, 7, 8, 0}));
  auto k1 = i64({}, {1});
  Op up1("Trilu");
  ASSERT_EQ(up1.in(x).in(k1).run(), SLM_REF_OK);
  EXPECT_EQ(up1.vals(), (V{0, 2, 3, 0, 0, 6, 0, 0, 0}));
}

TEST(Shape, PadModes) {
  auto x = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  auto pads = i64({4}, {0, 2, 0, 1});
  auto cv = f32({}, {9});
  Op c("Pad");
  ASSERT_EQ(c.in(x).in(pads).in(cv).run(), SLM_REF_OK) << c.err;
  EXPECT_EQ(c.shape(), (D{2, 6}));
  EXPECT_EQ(c.vals(), (V{9, 9, 1, 2, 3, 9, 9, 9, 4, 5, 6, 9}));
  Op r("Pad");
  ASSERT_EQ(r.in(x).in(pads).attr("mode", "reflect").run(), SLM_REF_OK);
  EXPECT_EQ(r.vals(), (V{3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5}));
  Op e("Pad");
  ASSERT_EQ(e.in(x).in(pads).attr("mode", "edge").run(), SLM_REF_OK);
  EXPECT_EQ(e.vals(), (V{1, 1, 1, 2, 3, 3, 4, 4, 4, 5, 6, 6}));
  auto ap = i64({2}, {1, 0});
  auto axes = i64({1}, {0});
  Op ax("Pad");
  ASSERT_EQ(ax.in(x).in(ap).none().in(axes).run(), SLM_REF_OK) << ax.err;
  EXPECT_EQ(ax.vals(), (V{0, 0, 0, 1, 2, 3, 4, 5, 6}));
  Op neg("Pad");
  ASSERT_EQ(neg.in(x).attr("pads", D{0, -1, 0, 0}).run(), SLM_REF_OK) << neg.err;
  EXPECT_EQ(neg.vals(), (V{2, 3, 5, 6}));
  auto xi = i32({3}, {1, 2, 3});
  Op old_attr("Pad");
  ASSERT_EQ(old_attr.in(xi).attr("pads", D{1, 0}).attr("value", 7.0).run(), SLM_REF_OK);
  EXPECT_EQ(old_attr.vals(), (V{7, 1, 2, 3}));
  auto wp = i64({2}, {2, 4});
  Op wrap("Pad");
  ASSERT_EQ(wrap.in(xi).in(wp).attr("mode", "wrap").run(), SLM_REF_OK) << wrap.err;
  EXPECT_EQ(wrap.vals(), (V{2, 3, 1, 2, 3, 1, 2, 3, 1}));
  Op far("Pad"); // reflect wider than the dim keeps bouncing, like numpy
  ASSERT_EQ(far.in(xi).in(wp).attr("mode", "reflect").run(), SLM_REF_OK);
  EXPECT_EQ(far.vals(), (V{3, 2, 1, 2, 3, 2, 1, 2, 3}));
  auto cv64 = i64({}, {1});
  Op cv_bad("Pad");
  EXPECT_EQ(cv_bad.in(x).in(pads).in(cv64).infer(), SLM_REF_INVALID);
  auto bad_pads = i64({3}, {0, 1, 0});
  Op bad("Pad");
  EXPECT_EQ(bad.in(x).in(bad_pads).infer(), SLM_REF_INVALID);
}

TEST(Shape, OneHotNonZero) {
  auto idx = i64({3}, {0, 2, -1});
  auto depth = i64({}, {3});
  auto vals = f32({2}, {0, 5});
  Op oh("OneHot");
  ASSERT_EQ(oh.in(idx).in(depth).in(vals).run(), SLM_REF_OK) << oh.err;
  EXPECT_EQ(oh.shape(), (D{3, 3}));
  EXPECT_EQ(oh.vals(), (V{5, 0, 0, 0, 0, 5, 0, 0, 5}));
  Op oh0("OneHot");
  ASSERT_EQ(oh0.in(idx).in(depth).in(vals).attr("axis", int64_t(0)).run(), SLM_REF_OK);
  EXPECT_EQ(oh0.vals(), (V{5, 0, 0, 0, 0, 0, 0, 5, 5}));

  auto x = i32({2, 2}, {0, 3, 4, 0});
  Op nz("NonZero");
  ASSERT_EQ(nz.in(x).run(), SLM_REF_OK) << nz.err;
  EXPECT_EQ(nz.shape(), (D{2, 2}));
  EXPECT_EQ(nz.vals(), (V{0, 1, 1, 0}));
  Tensor unk = x.t;
  unk.data = nullptr;
  Op need("NonZero");
  EXPECT_EQ(need.in(&unk).infer(), SLM_REF_NEED_VALUE);
}

TEST(Shape, DepthToSpaceAndBack) {
  V v(16);
  for (int i = 0; i < 16; ++i)
    v[size_t(i)] = i;
  auto x = f32({1, 4, 2, 2}, v);
  Op d("DepthToSpace");
  ASSERT_EQ(d.in(x).attr("blocksize", int64_t(2)).run(), SLM_REF_OK) << d.err;
  EXPECT_EQ(d.shape(), (D{1, 1, 4, 4}));
  EXPECT_EQ(d.vals(), (V{0, 4, 1, 5, 8, 12, 9, 13, 2, 6, 3, 7, 10, 14, 11, 15}));
  Op s("SpaceToDepth");
  ASSERT_EQ(s.in(d.out()).attr("blocksize", int64_t(2)).run(), SLM_REF_OK) << s.err;
  EXPECT_EQ(s.vals(), v);
  auto y = f32({1, 8, 1, 1}, {0, 1, 2, 3, 4, 5, 6, 7});
  Op crd("DepthToSpace");
  ASSERT_EQ(crd.in(y).attr("blocksize", int64_t(2)).attr("mode", "CRD").run(), SLM_REF_OK);
  EXPECT_EQ(crd.shape(), (D{1, 2, 2, 2}));
  EXPECT_EQ(crd.vals(), (V{0, 1, 2, 3, 4, 5, 6, 7}));
  Op bad("DepthToSpace");
  EXPECT_EQ(bad.in(y).attr("blocksize", int64_t(3)).infer(), SLM_REF_INVALID);
}

// ---------------------------------------------------------------- reduce

TEST(Reduce, AxesAttrAndInput) {
  auto x = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  Op s("ReduceSum");
  ASSERT_EQ(s.in(x).attr("axes", D{1}).run(), SLM_REF_OK) << s.err;
  EXPECT_EQ(s.shape(), (D{2, 1}));
  EXPECT_EQ(s.vals(), (V{6, 15}));
  auto axes = i64({1}, {-2});
  Op m("ReduceMean");
  ASSERT_EQ(m.in(x).in(axes).attr("keepdims", int64_t(0)).run(), SLM_REF_OK) << m.err;
  EXPECT_EQ(m.shape(), (D{3}));
  EXPECT_EQ(m.vals(), (V{2.5, 3.5, 4.5}));
  Op all("ReduceMax");
  ASSERT_EQ(all.in(x).attr("keepdims", int64_t(0)).run(), SLM_REF_OK);
  EXPECT_EQ(all.out().rank, 0);
  EXPECT_EQ(all.vals(), (V{6}));
  auto none = i64({0}, {});
  Op noop("ReduceSum");
  ASSERT_EQ(noop.in(x).in(none).attr("noop_with_empty_axes", int64_t(1)).run(), SLM_REF_OK);
  EXPECT_EQ(noop.shape(), (D{2, 3}));
  EXPECT_EQ(noop.vals(), (V{1, 2, 3, 4, 5, 6}));
  Tensor unk = axes.t;
  unk.data = nullptr;
  Op need("ReduceSum");
  EXPECT_EQ(need.in(x).in(&unk).infer(), SLM_REF_NEED_VALUE);
  Op bad("ReduceSum");
  EXPECT_EQ(bad.in(x).attr("axes", D{2}).infer(), SLM_REF_INVALID);
  Op dup("ReduceSum");
  EXPECT_EQ(dup.in(x).attr("axes", D{1, -1}).infer(), SLM_REF_INVALID);
}

TEST(Reduce, AllKinds) {
  auto x = f32({2, 2}, {1, -2, 3, 4});
  struct Case {
    const char *op;
    V want;
  } cases[] = {
      {"ReduceMin", {-2, 3}},
      {"ReduceProd", {-2, 12}},
      {"ReduceL1", {3, 7}},
      {"ReduceL2", {std::sqrt(5.0), 5}},
      {"ReduceSumSquare", {5, 25}},
      {"ReduceLogSum", {NAN, std::log(7.0)}},
      {"ReduceLogSumExp",
       {std::log(std::exp(1.0) + std::exp(-2.0)), std::log(std::exp(3.0) + std::exp(4.0))}},
  };
  for (const auto &c : cases) {
    Op op(c.op);
    ASSERT_EQ(op.in(x).attr("axes", D{1}).attr("keepdims", int64_t(0)).run(), SLM_REF_OK)
        << c.op << ": " << op.err;
    expect_near(op.vals(), c.want);
  }
}

TEST(Reduce, MiddleAxisIntAndZeroSize) {
  V v(24);
  for (int i = 0; i < 24; ++i)
    v[size_t(i)] = i;
  auto x = i32({2, 3, 4}, v);
  Op s("ReduceSum");
  ASSERT_EQ(s.in(x).attr("axes", D{0, 2}).run(), SLM_REF_OK);
  EXPECT_EQ(s.shape(), (D{1, 3, 1}));
  EXPECT_EQ(s.vals(), (V{60, 92, 124}));
  auto z = f32({0, 3}, {});
  Op zs("ReduceSum"), zm("ReduceMax"), zp("ReduceProd");
  ASSERT_EQ(zs.in(z).attr("axes", D{0}).run(), SLM_REF_OK);
  ASSERT_EQ(zm.in(z).attr("axes", D{0}).run(), SLM_REF_OK);
  ASSERT_EQ(zp.in(z).attr("axes", D{0}).run(), SLM_REF_OK);
  EXPECT_EQ(zs.vals(), (V{0, 0, 0}));
  EXPECT_EQ(zp.vals(), (V{1, 1, 1}));
  EXPECT_EQ(zm.vals()[0], -INFINITY);
  Op zk("ReduceSum");
  ASSERT_EQ(zk.in(z).attr("axes", D{1}).run(), SLM_REF_OK);
  EXPECT_EQ(zk.shape(), (D{0, 1}));
}

TEST(Reduce, ArgMaxArgMin) {
  auto x = f32({2, 3}, {1, 5, 5, 7, 0, 7});
  Op a("ArgMax");
  ASSERT_EQ(a.in(x).attr("axis", int64_t(1)).run(), SLM_REF_OK);
  EXPECT_EQ(a.out().dtype, kI64);
  EXPECT_EQ(a.shape(), (D{2, 1}));
  EXPECT_EQ(a.vals(), (V{1, 0}));
  Op l("ArgMax");
  ASSERT_EQ(l.in(x)
                .attr("axis", int64_t(-1))
                .attr("select_last_index", int64_t(1))
                .attr("keepdims", int64_t(0))
                .run(),
            SLM_REF_OK);
  EXPECT_EQ(l.shape(), (D{2}));
  EXPECT_EQ(l.vals(), (V{2, 2}));
  Op m("ArgMin");
  ASSERT_EQ(m.in(x).run(), SLM_REF_OK);
  EXPECT_EQ(m.shape(), (D{1, 3}));
  EXPECT_EQ(m.vals(), (V{0, 1, 0}));
  auto z = f32({0, 3}, {});
  Op bad("ArgMax");
  EXPECT_EQ(bad.in(z).infer(), SLM_REF_INVALID);
}

TEST(Reduce, CumSum) {
  auto x = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  auto ax = i32({}, {1});
  Op c("CumSum");
  ASSERT_EQ(c.in(x).in(ax).run(), SLM_REF_OK) << c.err;
  EXPECT_EQ(c.vals(), (V{1, 3, 6, 4, 9, 15}));
  Op ex("CumSum");
  ASSERT_EQ(ex.in(x).in(ax).attr("exclusive", int64_t(1)).attr("reverse", int64_t(1)).run(),
            SLM_REF_OK);
  EXPECT_EQ(ex.vals(), (V{5, 3, 0, 11, 6, 0}));
  auto a0 = i64({}, {-2});
  Op c0("CumSum");
  ASSERT_EQ(c0.in(x).in(a0).run(), SLM_REF_OK);
  EXPECT_EQ(c0.vals(), (V{1, 2, 3, 5, 7, 9}));
  auto a5 = i64({}, {5});
  Op bad("CumSum");
  EXPECT_EQ(bad.in(x).in(a5).infer(), SLM_REF_INVALID);
}

// Every op named in the brief has a kernel registered.
TEST(Registry, AllOpsPresent) {
  const char *ops[] = {"Add",
                       "Sub",
                       "Mul",
                       "Div",
                       "Pow",
                       "Mod",
                       "Max",
                       "Min",
                       "Sum",
                       "Mean",
                       "Equal",
                       "Less",
                       "Greater",
                       "LessOrEqual",
                       "GreaterOrEqual",
                       "And",
                       "Or",
                       "Xor",
                       "BitShift",
                       "PRelu",
                       "Where",
                       "Neg",
                       "Abs",
                       "Sqrt",
                       "Reciprocal",
                       "Exp",
                       "Log",
                       "Tanh",
                       "Sigmoid",
                       "Erf",
                       "Relu",
                       "LeakyRelu",
                       "Elu",
                       "Selu",
                       "Celu",
                       "HardSigmoid",
                       "HardSwish",
                       "Softplus",
                       "Softsign",
                       "Mish",
                       "ThresholdedRelu",
                       "Gelu",
                       "Sin",
                       "Cos",
                       "Tan",
                       "Asin",
                       "Acos",
                       "Atan",
                       "Sinh",
                       "Cosh",
                       "Asinh",
                       "Acosh",
                       "Atanh",
                       "Floor",
                       "Ceil",
                       "Round",
                       "Sign",
                       "Not",
                       "IsNaN",
                       "IsInf",
                       "Identity",
                       "Clip",
                       "Cast",
                       "CastLike",
                       "Dropout",
                       "BitwiseNot",
                       "Shape",
                       "Size",
                       "Reshape",
                       "Flatten",
                       "Squeeze",
                       "Unsqueeze",
                       "Transpose",
                       "Concat",
                       "Split",
                       "Slice",
                       "Gather",
                       "GatherElements",
                       "GatherND",
                       "ScatterElements",
                       "ScatterND",
                       "Expand",
                       "Tile",
                       "Range",
                       "ConstantOfShape",
                       "Trilu",
                       "Pad",
                       "OneHot",
                       "NonZero",
                       "DepthToSpace",
                       "SpaceToDepth",
                       "EyeLike",
                       "ReduceMean",
                       "ReduceSum",
                       "ReduceMax",
                       "ReduceMin",
                       "ReduceProd",
                       "ReduceL1",
                       "ReduceL2",
                       "ReduceSumSquare",
                       "ReduceLogSum",
                       "ReduceLogSumExp",
                       "ArgMax",
                       "ArgMin",
                       "CumSum"};
  for (const char *op : ops)
    EXPECT_NE(find_ref_kernel(op), nullptr) << op;
}

} // namespace
} // namespace slm
