// Weight quantizer + matmul_wq/gather_wq reference kernels: layouts, RTN error bounds, and results against float math.
#include "passes/quant/WeightQuantizer.h"

#include "kernel_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace {

using slmc::QuantizedMatrix;
using slmc::QuantScheme;

// Decodes one weight from the documented layout (independently of the kernel).
float dequant(const QuantizedMatrix &q, const QuantScheme &s, int64_t r, int64_t c, int64_t sr, int64_t sc) {
  // int4: 64-column blocks of 32 bytes, column j of a block in byte j % 32, high nibble for j >= 32.
  uint8_t byte = q.codes[size_t(r * q.cols + (s.bits == 8 ? c : c / 64 * 32 + c % 32))];
  int code = s.bits == 8 ? int(int8_t(byte)) : int(c % 64 >= 32 ? byte >> 4 : byte & 15) - 8;
  float scale = slm::half_to_float(q.scales[size_t(sr * q.scaleCols + sc)]);
  int zero = q.zeros.empty() ? 0 : int(q.zeros[size_t(sr * q.scaleCols + sc)]) - (s.bits == 4 ? 8 : 128);
  return scale * float(code - zero);
}

struct Attrs {
  std::vector<slm::Attr> attrs;
  slm::AttrList list;
  void add_int(const char *name, int64_t v) {
    slm::Attr a;
    a.name = name;
    a.kind = slm::kAttrInt;
    a.i = v;
    attrs.push_back(a);
    list = {attrs.data(), attrs.size()};
  }
};

slm::Tensor tensor(void *data, int32_t dtype, std::vector<int64_t> dims) {
  slm::Tensor t;
  t.data = data;
  t.dtype = dtype;
  t.rank = int(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) t.dims[i] = dims[i];
  return t;
}

class MatMulWq : public ::testing::TestWithParam<std::tuple<int, int64_t, bool>> {};

TEST_P(MatMulWq, MatchesDequantizedFloatMath) {
  auto [bits, group, symmetric] = GetParam();
  QuantScheme s{bits, group, symmetric};
  std::mt19937 rng(bits * 100 + int(group) + symmetric);
  std::normal_distribution<float> nd(0, 1);
  for (auto [m, k, n] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{{1, 64, 37}, {3, 100, 300}, {5, 33, 8}}) {
    std::vector<float> w(size_t(k * n)), x(size_t(m * k)), y(size_t(m * n));
    for (auto &v : w) v = nd(rng);
    for (auto &v : x) v = nd(rng);
    QuantizedMatrix q = slmc::quantizeForMatMul(w.data(), k, n, s);
    int64_t g = group ? group : k;
    // Round to nearest: every weight within one step of its group's scale (a clamped edge code
    // or a rounded zero point costs at most one step; the float16 scale adds a little).
    for (int64_t r = 0; r < k; ++r)
      for (int64_t c = 0; c < n; ++c) {
        float scale = std::fabs(slm::half_to_float(q.scales[size_t((r / g) * n + c)]));
        ASSERT_LE(std::fabs(w[size_t(r * n + c)] - dequant(q, s, r, c, r / g, c)), scale * 1.01f + 1e-6f);
      }
    Attrs run;
    run.add_int("bits", bits);
    run.add_int("group_size", group);
    run.add_int("k", k);
    run.add_int("n", n);
    slm::Tensor ta = tensor(x.data(), slm::kF32, {m, k});
    slm::Tensor tq = tensor(q.codes.data(), bits == 8 ? slm::kI8 : slm::kU8, {q.rows, q.cols});
    slm::Tensor ts = tensor(q.scales.data(), slm::kF16, {q.scaleRows, q.scaleCols});
    slm::Tensor tz = tensor(q.zeros.data(), slm::kU8, {q.scaleRows, q.scaleCols});
    slm::Tensor ty;
    const slm::Tensor *ins[4] = {&ta, &tq, &ts, q.zeros.empty() ? nullptr : &tz};
    slm::Tensor *outs[1] = {&ty};
    char err[256] = {0};
    slm::KernelContext ctx;
    ctx.attrs = &run.list;
    ctx.inputs = ins;
    ctx.num_inputs = 4;
    ctx.outputs = outs;
    ctx.num_outputs = 1;
    ctx.error = err;
    ctx.error_size = sizeof err;
    const slm::OpKernel *kern = slm::find_ref_kernel("slm.matmul_wq");
    ASSERT_NE(kern, nullptr);
    ASSERT_EQ(kern->infer(&ctx), slm::SLM_REF_OK) << err;
    ASSERT_EQ(ty.dims[1], n);
    ty.data = y.data();
    ASSERT_EQ(kern->run(&ctx), slm::SLM_REF_OK) << err;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t c = 0; c < n; ++c) {
        double want = 0;
        for (int64_t r = 0; r < k; ++r) want += double(x[size_t(i * k + r)]) * dequant(q, s, r, c, r / g, c);
        ASSERT_NEAR(y[size_t(i * n + c)], want, 1e-3 * (1 + std::fabs(want))) << "m=" << i << " n=" << c;
      }
  }
}

INSTANTIATE_TEST_SUITE_P(Schemes, MatMulWq,
                         ::testing::Values(std::make_tuple(4, int64_t(32), true), std::make_tuple(4, int64_t(64), false),
                                           std::make_tuple(8, int64_t(0), true), std::make_tuple(8, int64_t(32), false),
                                           std::make_tuple(4, int64_t(128), true)));

TEST(GatherWq, RowsMatchDequantizedTable) {
  QuantScheme s{4, 32, true};
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0, 1);
  int64_t v = 10, d = 70;
  std::vector<float> t(size_t(v * d));
  for (auto &x : t) x = nd(rng);
  QuantizedMatrix q = slmc::quantizeForGather(t.data(), v, d, s);
  std::vector<int64_t> idx = {3, -1, 0};
  std::vector<float> y(size_t(3 * d));
  Attrs run;
  run.add_int("bits", 4);
  run.add_int("group_size", 32);
  run.add_int("d", d);
  slm::Tensor tt = tensor(q.codes.data(), slm::kU8, {q.rows, q.cols});
  slm::Tensor ti = tensor(idx.data(), slm::kI64, {3});
  slm::Tensor ts = tensor(q.scales.data(), slm::kF16, {q.scaleRows, q.scaleCols});
  slm::Tensor ty;
  const slm::Tensor *ins[3] = {&tt, &ti, &ts};
  slm::Tensor *outs[1] = {&ty};
  char err[256] = {0};
  slm::KernelContext ctx;
  ctx.attrs = &run.list, ctx.inputs = ins, ctx.num_inputs = 3, ctx.outputs = outs, ctx.num_outputs = 1;
  ctx.error = err, ctx.error_size = sizeof err;
  const slm::OpKernel *kern = slm::find_ref_kernel("slm.gather_wq");
  ASSERT_EQ(kern->infer(&ctx), slm::SLM_REF_OK) << err;
  ty.data = y.data();
  ASSERT_EQ(kern->run(&ctx), slm::SLM_REF_OK) << err;
  for (int64_t i = 0; i < 3; ++i) {
    int64_t r = idx[size_t(i)] < 0 ? idx[size_t(i)] + v : idx[size_t(i)];
    for (int64_t c = 0; c < d; ++c) ASSERT_FLOAT_EQ(y[size_t(i * d + c)], dequant(q, s, r, c, r, c / 32));
  }
  std::vector<int64_t> bad = {10};
  ti = tensor(bad.data(), slm::kI64, {1});
  ASSERT_EQ(kern->infer(&ctx), slm::SLM_REF_OK);
  EXPECT_EQ(kern->run(&ctx), slm::SLM_REF_INVALID);
  EXPECT_NE(std::string(err).find("out of range"), std::string::npos);
}

} // namespace

#if defined(__x86_64__)
#include "x86_kernels.h"

namespace {

// The AVX-512 matmul_wq override against the reference kernel: tails, row blocks, schemes, epilogue.
TEST(MatMulWqX86, Avx512MatchesReference) {
  if (slm::x86_cpu_level() < slm::kX86Avx512) GTEST_SKIP() << "CPU lacks AVX-512";
  const slm::OpKernel *fast = slm::find_x86_kernel("slm.matmul_wq", slm::kX86Avx512);
  const slm::OpKernel *ref = slm::find_ref_kernel("slm.matmul_wq");
  ASSERT_NE(fast, nullptr);
  std::mt19937 rng(11);
  std::normal_distribution<float> nd(0, 1);
  struct Case { int bits; int64_t group; bool sym; int64_t m, k, n; bool bias; };
  for (Case c : {Case{4, 32, true, 1, 64, 256, false}, Case{4, 32, true, 5, 96, 100, true},
                 Case{4, 64, false, 7, 130, 70, false}, Case{8, 0, true, 1, 50, 200, true},
                 Case{8, 32, false, 9, 64, 77, false}, Case{4, 128, true, 64, 256, 192, true}}) {
    QuantScheme s{c.bits, c.group, c.sym};
    std::vector<float> w(size_t(c.k * c.n)), x(size_t(c.m * c.k)), b(size_t(c.n));
    for (auto &v : w) v = nd(rng);
    for (auto &v : x) v = nd(rng);
    for (auto &v : b) v = nd(rng);
    QuantizedMatrix q = slmc::quantizeForMatMul(w.data(), c.k, c.n, s);
    Attrs attrs;
    attrs.add_int("bits", c.bits);
    attrs.add_int("group_size", c.group);
    attrs.add_int("k", c.k);
    attrs.add_int("n", c.n);
    slm::Attr act;
    act.name = "activation";
    act.kind = slm::kAttrString;
    act.s = "silu";
    act.count = 4;
    if (c.bias) {
      attrs.attrs.push_back(act);
      attrs.list = {attrs.attrs.data(), attrs.attrs.size()};
    }
    slm::Tensor ta = tensor(x.data(), slm::kF32, {c.m, c.k});
    slm::Tensor tq = tensor(q.codes.data(), c.bits == 8 ? slm::kI8 : slm::kU8, {q.rows, q.cols});
    slm::Tensor ts = tensor(q.scales.data(), slm::kF16, {q.scaleRows, q.scaleCols});
    slm::Tensor tz = tensor(q.zeros.data(), slm::kU8, {q.scaleRows, q.scaleCols});
    slm::Tensor tb = tensor(b.data(), slm::kF32, {c.n});
    const slm::Tensor *ins[5] = {&ta, &tq, &ts, q.zeros.empty() ? nullptr : &tz, c.bias ? &tb : nullptr};
    std::vector<float> want(size_t(c.m * c.n)), got(size_t(c.m * c.n), NAN);
    for (auto [kern, out] : {std::make_pair(ref, &want), std::make_pair(fast, &got)}) {
      slm::Tensor ty;
      slm::Tensor *outs[1] = {&ty};
      char err[256] = {0};
      slm::KernelContext ctx;
      ctx.attrs = &attrs.list, ctx.inputs = ins, ctx.num_inputs = 5, ctx.outputs = outs, ctx.num_outputs = 1;
      ctx.error = err, ctx.error_size = sizeof err;
      ASSERT_EQ(kern->infer(&ctx), slm::SLM_REF_OK) << err;
      ty.data = out->data();
      ASSERT_EQ(kern->run(&ctx), slm::SLM_REF_OK) << err;
    }
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_NEAR(got[i], want[i], 2e-3f * (1 + std::fabs(want[i]))) << "bits=" << c.bits << " m=" << c.m << " i=" << i;
  }
}

} // namespace
#endif
