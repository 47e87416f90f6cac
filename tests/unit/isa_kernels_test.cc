// One harness for every ISA kernel provider: MatMul overrides against the reference kernel.
// x86_64 (AVX2+FMA, AVX-512), arm64 (NEON), riscv64 (RVV), over random shapes and tails.
#include "gemm_f32_ukernel.h"
#include "isa_test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <random>
#include <string>
#include <vector>

namespace slm {
namespace {

// The levels with a MatMul of their own (a level inheriting the one below's adds nothing here).
using Provider = isa_test::IsaLevel;
std::vector<Provider> providers() { return isa_test::isa_levels_overriding("MatMul"); }

struct Case {
  std::vector<int64_t> a, b;
};

Tensor make(std::vector<float> &buf, const std::vector<int64_t> &dims, std::mt19937 &rng) {
  Tensor t;
  t.dtype = kF32;
  t.rank = int(dims.size());
  for (int i = 0; i < t.rank; ++i)
    t.dims[i] = dims[i];
  buf.resize(size_t(t.numel()));
  std::uniform_real_distribution<float> u(-1, 1);
  for (auto &v : buf)
    v = u(rng);
  t.data = buf.data();
  return t;
}

// Runs kernel k (infer + run) on inputs `ins` with `attrs`; returns the output values.
std::vector<float> run(const OpKernel *k, std::vector<const Tensor *> ins, bool threaded,
                       AttrList attrs = {}) {
  Tensor out;
  Tensor *outs[1] = {&out};
  char err[256] = {0};
  KernelContext ctx;
  ctx.attrs = &attrs;
  ctx.inputs = ins.data();
  ctx.num_inputs = int(ins.size());
  ctx.outputs = outs;
  ctx.num_outputs = 1;
  ctx.error = err;
  ctx.error_size = sizeof err;
  if (threaded) ctx.parallel_for = isa_test::reverse_pool;
  EXPECT_EQ(k->infer(&ctx), SLM_REF_OK) << err;
  std::vector<float> y(size_t(out.numel()) + 1, NAN);
  out.data = y.data();
  EXPECT_EQ(k->run(&ctx), SLM_REF_OK) << err;
  EXPECT_TRUE(std::isnan(y.back())) << "wrote past the output";
  y.pop_back();
  return y;
}

class IsaMatMul : public ::testing::TestWithParam<Provider> {
protected:
  const OpKernel *fast_or_skip() {
    const Provider &p = GetParam();
    if (p.cpu_level() < p.level)
      return nullptr;
    return p.find("MatMul", p.level);
  }
};
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(IsaMatMul);

TEST_P(IsaMatMul, MatchesReference) {
  const Provider &p = GetParam();
  if (p.cpu_level() < p.level)
    GTEST_SKIP() << "CPU lacks " << p.name();
  const OpKernel *fast = fast_or_skip();
  ASSERT_NE(fast, nullptr);
  const OpKernel *ref = find_ref_kernel("MatMul");
  std::mt19937 rng(42 + p.level);
  std::vector<Case> cases = {{{1, 64}, {64, 256}},      {{1, 7}, {7, 13}},
                             {{1, 1, 100}, {100, 130}}, {{5, 33}, {33, 47}},
                             {{64, 300}, {300, 96}},    {{9, 17}, {17, 31}},
                             {{2, 8, 16}, {16, 40}},    {{3, 2, 5, 9}, {3, 2, 9, 7}},
                             {{1, 600}, {600, 70}},     {{13, 0}, {0, 5}},
                             {{0, 4}, {4, 6}},          {{7, 3}, {3, 1}},
                             {{6, 5}, {5, 2}},          {{1, 9}, {9, 3}}};
  std::uniform_int_distribution<int> d(1, 80);
  for (int i = 0; i < 20; ++i)
    cases.push_back({{d(rng), d(rng) * 5}, {0, d(rng)}});
  for (auto &c : cases) {
    if (c.b[0] == 0 && c.a[1] != 0)
      c.b[0] = c.a.back();
    std::vector<float> abuf, bbuf;
    Tensor a = make(abuf, c.a, rng), b = make(bbuf, c.b, rng);
    for (bool threaded : {false, true}) {
      auto want = run(ref, {&a, &b}, false), got = run(fast, {&a, &b}, threaded);
      ASSERT_EQ(want.size(), got.size());
      for (size_t k = 0; k < want.size(); ++k)
        ASSERT_NEAR(got[k], want[k], 1e-4f * (1 + std::fabs(want[k])))
            << p.name() << " a[0]=" << c.a[0] << " b=[" << c.b[0] << "," << c.b.back()
            << "] k=" << k << " threaded=" << threaded;
    }
  }
}

// slm.fused_matmul: the GEMM plus the epilogue per column block, for [K, N] and transposed [N, K]
// (trans_b, e.g. a tied LM head) weights.
TEST_P(IsaMatMul, FusedMatMulMatchesReference) {
  const Provider &p = GetParam();
  if (p.cpu_level() < p.level)
    GTEST_SKIP() << "CPU lacks " << p.name();
  const OpKernel *fast = p.find("slm.fused_matmul", p.level);
  if (!fast)
    GTEST_SKIP() << p.name() << " has no slm.fused_matmul override";
  const OpKernel *ref = find_ref_kernel("slm.fused_matmul");
  ASSERT_NE(ref, nullptr);
  std::mt19937 rng(5);
  for (auto [m, k, n, tb] : {std::array<int64_t, 4>{1, 64, 200, 0}, {7, 33, 70, 0}, {16, 300, 129, 0},
                             {1, 64, 200, 1}, {5, 37, 130, 1}}) {
    for (const char *act : {"", "silu", "gelu_tanh", "gelu_erf", "sigmoid", "tanh"}) {
      std::vector<float> abuf, bbuf, biasbuf, resbuf;
      Tensor a = make(abuf, {m, k}, rng), b = make(bbuf, tb ? std::vector<int64_t>{n, k} : std::vector<int64_t>{k, n}, rng);
      Tensor bias = make(biasbuf, {n}, rng), res = make(resbuf, {m, n}, rng);
      Attr at[2];
      at[0].name = "activation";
      at[0].kind = kAttrString;
      at[0].s = act;
      at[0].count = std::strlen(act);
      at[1].name = "trans_b";
      at[1].kind = kAttrInt;
      at[1].i = tb;
      AttrList attrs{at, 2};
      std::vector<const Tensor *> ins = {&a, &b, &bias, nullptr, &res};
      auto want = run(ref, ins, false, attrs), got = run(fast, ins, true, attrs);
      ASSERT_EQ(want.size(), got.size());
      for (size_t i = 0; i < want.size(); ++i)
        ASSERT_NEAR(got[i], want[i], 1e-4f * (1 + std::fabs(want[i])))
            << p.name() << " m=" << m << " k=" << k << " n=" << n << " trans_b=" << tb << " act='" << act
            << "' i=" << i;
    }
  }
}

// Panel-packed weights ([ceil(N / 32), K, 32] + attribute n, as slmc compile stores constant
// fused_matmul weights): the ISA kernel on the packed weight and the reference kernel on both
// layouts agree with the reference on the plain [K, N] weight, for GEMV and GEMM rows, N not a
// multiple of 32, one partial panel, and K tails.
TEST_P(IsaMatMul, PackedWeightMatchesReference) {
  const Provider &p = GetParam();
  if (p.cpu_level() < p.level)
    GTEST_SKIP() << "CPU lacks " << p.name();
  const OpKernel *fast = p.find("slm.fused_matmul", p.level);
  if (!fast)
    GTEST_SKIP() << p.name() << " has no slm.fused_matmul override";
  const OpKernel *ref = find_ref_kernel("slm.fused_matmul");
  const int64_t w = SLM_GEMM_F32_PANEL;
  std::mt19937 rng(9);
  for (auto [m, k, n] : {std::array<int64_t, 3>{1, 64, 200}, {1, 7, 32}, {1, 130, 96}, {9, 33, 70}, {16, 300, 129},
                         {3, 5, 20}}) {
    std::vector<float> abuf, bbuf, biasbuf;
    Tensor a = make(abuf, {m, k}, rng), b = make(bbuf, {k, n}, rng), bias = make(biasbuf, {n}, rng);
    int64_t panels = (n + w - 1) / w;
    std::vector<float> pbuf(size_t(panels * k * w), 1e30f); // padding is never read into the output
    for (int64_t c = 0; c < n; ++c)
      for (int64_t r = 0; r < k; ++r) pbuf[size_t(((c / w) * k + r) * w + c % w)] = bbuf[size_t(r * n + c)];
    Tensor pb;
    pb.dtype = kF32;
    pb.rank = 3;
    pb.dims[0] = panels;
    pb.dims[1] = k;
    pb.dims[2] = w;
    pb.data = pbuf.data();
    Attr at[2];
    at[0].name = "activation";
    at[0].kind = kAttrString;
    at[0].s = "silu";
    at[0].count = 4;
    at[1].name = "n";
    at[1].kind = kAttrInt;
    at[1].i = n;
    AttrList plain{at, 1}, packed{at, 2};
    auto want = run(ref, {&a, &b, &bias}, false, plain);
    auto got = run(fast, {&a, &pb, &bias}, true, packed);
    auto refPacked = run(ref, {&a, &pb, &bias}, true, packed);
    ASSERT_EQ(want.size(), got.size());
    ASSERT_EQ(want.size(), refPacked.size());
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_NEAR(got[i], want[i], 1e-4f * (1 + std::fabs(want[i]))) << p.name() << " m=" << m << " k=" << k << " n=" << n << " i=" << i;
      ASSERT_NEAR(refPacked[i], want[i], 1e-5f * (1 + std::fabs(want[i]))) << "reference, packed, i=" << i;
    }
  }
}

// slm.attention rows on the ISA kernel against the reference: head sizes that are and are not a
// multiple of 16, grouped KV heads, causal and not, caches longer than one score chunk (128).
TEST_P(IsaMatMul, AttentionMatchesReference) {
  const Provider &p = GetParam();
  if (p.cpu_level() < p.level)
    GTEST_SKIP() << "CPU lacks " << p.name();
  const OpKernel *fast = p.find("slm.attention", p.level);
  if (!fast)
    GTEST_SKIP() << p.name() << " has no slm.attention override";
  const OpKernel *ref = find_ref_kernel("slm.attention");
  std::mt19937 rng(11);
  // b, s, past, hq, hkv, d, causal
  for (auto c : {std::array<int64_t, 7>{1, 1, 300, 4, 2, 64, 1}, {1, 5, 3, 4, 4, 40, 1}, {2, 7, 130, 6, 2, 16, 0},
                 {1, 64, 0, 8, 8, 64, 1}, {1, 3, 20, 2, 1, 8, 1}}) {
    int64_t b = c[0], sq = c[1], past = c[2], hq = c[3], hkv = c[4], d = c[5];
    std::vector<float> qb, kb, vb, pkb, pvb;
    Tensor q = make(qb, {b, sq, hq * d}, rng), k = make(kb, {b, sq, hkv * d}, rng), v = make(vb, {b, sq, hkv * d}, rng);
    Tensor pk = make(pkb, {b, hkv, past, d}, rng), pv = make(pvb, {b, hkv, past, d}, rng);
    for (auto &x : qb) x *= 3.0f; // peaked softmaxes as well as flat ones
    Attr at[4];
    const char *names[4] = {"num_heads", "kv_num_heads", "causal", "scale"};
    int64_t ints[3] = {hq, hkv, c[6]};
    for (int i = 0; i < 4; ++i) {
      at[i].name = names[i];
      at[i].kind = i < 3 ? kAttrInt : kAttrFloat;
      if (i < 3) at[i].i = ints[i];
    }
    at[3].f = 1.0f / std::sqrt(float(d));
    AttrList attrs{at, 4};
    auto attend = [&](const OpKernel *kern) {
      Tensor out, pres_k, pres_v;
      Tensor *outs[3] = {&out, &pres_k, &pres_v};
      const Tensor *ins[5] = {&q, &k, &v, &pk, &pv};
      char err[256] = {0};
      KernelContext ctx;
      ctx.attrs = &attrs;
      ctx.inputs = ins;
      ctx.num_inputs = 5;
      ctx.outputs = outs;
      ctx.num_outputs = 3;
      ctx.error = err;
      ctx.error_size = sizeof err;
      EXPECT_EQ(kern->infer(&ctx), SLM_REF_OK) << err;
      std::vector<float> y(size_t(out.numel())), ck(size_t(pres_k.numel())), cv(size_t(pres_v.numel()));
      out.data = y.data();
      pres_k.data = ck.data();
      pres_v.data = cv.data();
      EXPECT_EQ(kern->run(&ctx), SLM_REF_OK) << err;
      return y;
    };
    auto want = attend(ref), got = attend(fast);
    ASSERT_EQ(want.size(), got.size());
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_NEAR(got[i], want[i], 1e-5f * (1 + std::fabs(want[i])))
          << p.name() << " s=" << sq << " past=" << past << " d=" << d << " i=" << i;
  }
}

TEST_P(IsaMatMul, EnvironmentCapsTheLevel) {
  const Provider &p = GetParam();
  setenv(p.env, "ref", 1);
  EXPECT_EQ(p.cpu_level(), 0);
  unsetenv(p.env);
  EXPECT_EQ(p.find("MatMul", 0), nullptr);
  EXPECT_EQ(p.find("slm.fused_matmul", 0), nullptr);
}

// Wall time of the override vs the reference MatMul (single thread), printed, never asserted:
// evidence of vectorization under qemu. The two alternate and the best of 9 counts, because the
// shared build machines are noisy. Run with
//   slm_unit_tests --gtest_also_run_disabled_tests --gtest_filter='*Timing*'
TEST_P(IsaMatMul, DISABLED_Timing) {
  const Provider &p = GetParam();
  const OpKernel *fast = fast_or_skip();
  if (!fast)
    GTEST_SKIP() << "CPU lacks " << p.name();
  const OpKernel *ref = find_ref_kernel("MatMul");
  std::mt19937 rng(7);
  for (const Case &c : {Case{{64, 256}, {256, 256}}, Case{{1, 1024}, {1024, 512}}}) {
    std::vector<float> abuf, bbuf;
    Tensor a = make(abuf, c.a, rng), b = make(bbuf, c.b, rng);
    auto ms = [&](const OpKernel *k) {
      auto t0 = std::chrono::steady_clock::now();
      run(k, {&a, &b}, false);
      return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
          .count();
    };
    double tr = 1e30, tf = 1e30;
    for (int i = 0; i < 9; ++i) {
      tr = std::min(tr, ms(ref));
      tf = std::min(tf, ms(fast));
    }
    std::printf(
        "timing %s MatMul [%lld,%lld]x[%lld,%lld]: reference %.2f ms, %s %.2f ms, speedup %.1fx\n",
        p.name().c_str(), (long long)c.a[0], (long long)c.a[1], (long long)c.b[0],
        (long long)c.b[1], tr, p.level_name(p.level), tf, tr / tf);
  }
}

INSTANTIATE_TEST_SUITE_P(Providers, IsaMatMul, ::testing::ValuesIn(providers()),
                         [](const auto &info) { return info.param.name(); });

} // namespace
} // namespace slm
