// slm.quantize_rows / slm.matmul_a8 (int8 activations, w8a8 and w4a8) at every ISA level of this build's kernel
// provider (x86_64 avx2/avx512/avx512vnni, arm64 neon/dotprod/i8mm, riscv64 rvv) against the reference kernels:
// random packed weights in the VNNI strip layout, shapes with row, strip, group and K-padding tails, every group
// size, per-row and per-group activation scales, epilogues, extreme codes (+-127 activations, 0 and 255 weight
// bytes) and subnormal float16 scales. Runs on the host and under qemu in the cross builds.
#include "isa_test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
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

using isa_test::Attrs;
using isa_test::IsaLevel;
using isa_test::reverse_pool;
using isa_test::tensor;

struct Case {
  int bits;
  int64_t m, k, kp, group, n;
  bool epilogue, group_scales;
};

std::string name(const Case &c) {
  return "w" + std::to_string(c.bits) + "a8 m=" + std::to_string(c.m) + " k=" + std::to_string(c.k) +
         " kp=" + std::to_string(c.kp) + " group=" + std::to_string(c.group) + " n=" + std::to_string(c.n) +
         (c.epilogue ? " +epilogue" : "") + (c.group_scales ? " group-scales" : "");
}

// Seeded shapes: decode (m = 1), row-block tails, K padded below kp, one group (per channel) or many,
// N with strip tails and multi-strip work units.
std::vector<Case> cases() {
  std::vector<Case> out;
  std::mt19937 rng(11);
  const int64_t ms[] = {1, 1, 2, 3, 4, 5, 7, 9, 33}, ns[] = {1, 7, 16, 31, 33, 64, 100, 130, 200};
  for (int bits : {8, 4})
    for (int64_t group : {8, 16, 32, 64, 128, 0})
      for (int i = 0; i < 4; ++i) {
        int64_t groups = group ? 1 + rng() % 5 : 1, g = group ? group : 8 * (1 + rng() % 40), kp = groups * g;
        int64_t k = kp - int64_t(rng() % std::min<int64_t>(g, 8));
        out.push_back({bits, ms[rng() % 9], k, kp, g, ns[rng() % 9], i % 2 == 1, i % 4 != 0});
      }
  return out;
}

struct Problem {
  Case c;
  std::vector<float> x, bias, residual;
  std::vector<uint8_t> w;
  std::vector<uint16_t> scales;
  Attrs attrs;
  int64_t groups() const { return c.kp / c.group; }
  int64_t strips() const { return (c.n + 15) / 16; }
  int64_t scale_count() const { return c.group_scales ? groups() : 1; }
};

Problem make(const Case &c, std::mt19937 &rng) {
  Problem p;
  p.c = c;
  std::normal_distribution<float> nd(0, 1);
  p.x.resize(size_t(c.m * c.k));
  p.bias.resize(size_t(c.n));
  p.residual.resize(size_t(c.m * c.n));
  for (auto *v : {&p.x, &p.bias, &p.residual})
    for (float &f : *v) f = nd(rng);
  p.x[0] = 0;
  if (c.m > 2) std::fill(p.x.begin() + c.k, p.x.begin() + 2 * c.k, 0.0f); // an all-zero row
  if (c.m > 4) p.x[size_t(4 * c.k)] = 100.0f;                           // an outlier
  int64_t strip_bytes = c.bits == 8 ? c.kp * 16 : c.kp * 8;
  p.w.resize(size_t(p.strips() * strip_bytes));
  for (uint8_t &b : p.w) b = uint8_t(rng());
  if (p.w.size() > 2) p.w[0] = 0, p.w[1] = 255; // the extreme codes
  // Scales of magnitude ~1 / (code spread * sqrt(kp)) keep outputs near 1 (so 1e-4 is relative); strip 0's column 3 gets float16
  // subnormals, which every kernel must widen exactly.
  float mag = 1.0f / (std::sqrt(float(c.kp)) * (c.bits == 8 ? 64.0f : 4.0f));
  std::uniform_real_distribution<float> ud(0.5f, 1.5f);
  p.scales.resize(size_t(p.strips() * p.groups() * 16));
  for (size_t i = 0; i < p.scales.size(); ++i)
    p.scales[i] = float_to_half((i % 16 == 3 && i < size_t(p.groups() * 16) ? 3e-5f : ud(rng) * mag) *
                                (rng() % 4 ? 1.0f : -1.0f));
  p.attrs.i("bits", c.bits).i("group_size", c.group).i("k", c.k).i("kp", c.kp).i("n", c.n);
  if (c.epilogue) p.attrs.s("activation", "silu");
  if (c.group_scales) p.attrs.i("group_scales", 1);
  return p;
}

struct Rows {
  std::vector<int8_t> q;
  std::vector<float> scale;
  std::vector<int32_t> sums;
};

Rows quantize(const OpKernel *kern, Problem &p, bool threaded) {
  Rows r;
  r.q.assign(size_t(p.c.m * p.c.kp), 99);
  r.scale.assign(size_t(p.c.m * p.scale_count()), NAN);
  r.sums.assign(size_t(p.c.m * p.groups()), -1);
  Tensor ta = tensor(p.x.data(), kF32, {p.c.m, p.c.k}), tq, ts, tsum;
  const Tensor *ins[1] = {&ta};
  Tensor *outs[3] = {&tq, &ts, &tsum};
  char err[256] = {0};
  KernelContext ctx;
  ctx.attrs = &p.attrs.list, ctx.inputs = ins, ctx.num_inputs = 1, ctx.outputs = outs, ctx.num_outputs = 3;
  ctx.error = err, ctx.error_size = sizeof err;
  if (threaded) ctx.parallel_for = reverse_pool;
  EXPECT_EQ(kern->infer(&ctx), SLM_REF_OK) << err;
  tq.data = r.q.data(), ts.data = r.scale.data(), tsum.data = r.sums.data();
  EXPECT_EQ(kern->run(&ctx), SLM_REF_OK) << err;
  return r;
}

// The codes at the edge of the contract (gemm_s8_args.h: activations in [-127, 127], what quantize_rows makes):
// put some -127 and 127 in, keeping the sums consistent.
void add_extreme_codes(const Problem &p, Rows *r, std::mt19937 &rng) {
  for (int64_t m = 0; m < p.c.m; ++m) {
    int64_t k = int64_t(rng() % uint32_t(p.c.k));
    r->q[size_t(m * p.c.kp + k)] = -127;
    r->q[size_t(m * p.c.kp)] = 127;
    for (int64_t g = 0; g < p.groups(); ++g) {
      int32_t s = 0;
      for (int64_t i = g * p.c.group; i < (g + 1) * p.c.group; ++i) s += r->q[size_t(m * p.c.kp + i)];
      r->sums[size_t(m * p.groups() + g)] = s;
    }
  }
}

std::vector<float> matmul(const OpKernel *kern, Problem &p, const Rows &r, bool threaded) {
  int64_t strip_bytes = p.c.bits == 8 ? p.c.kp * 16 : p.c.kp * 8;
  Tensor tq = tensor(r.q.data(), kI8, {p.c.m, p.c.kp}), ts = tensor(r.scale.data(), kF32, {p.c.m, p.scale_count()}),
         tsum = tensor(r.sums.data(), kI32, {p.c.m, p.groups()}), tw = tensor(p.w.data(), kU8, {p.strips(), strip_bytes}),
         tws = tensor(p.scales.data(), kF16, {p.strips(), p.groups() * 16}), tb = tensor(p.bias.data(), kF32, {p.c.n}),
         tr = tensor(p.residual.data(), kF32, {p.c.m, p.c.n});
  bool e = p.c.epilogue;
  const Tensor *ins[8] = {&tq, &ts, &tsum, &tw, &tws, e ? &tb : nullptr, nullptr, e ? &tr : nullptr};
  std::vector<float> y(size_t(p.c.m * p.c.n) + 1, NAN);
  Tensor ty;
  Tensor *outs[1] = {&ty};
  char err[256] = {0};
  KernelContext ctx;
  ctx.attrs = &p.attrs.list, ctx.inputs = ins, ctx.num_inputs = 8, ctx.outputs = outs, ctx.num_outputs = 1;
  ctx.error = err, ctx.error_size = sizeof err;
  if (threaded) ctx.parallel_for = reverse_pool;
  EXPECT_EQ(kern->infer(&ctx), SLM_REF_OK) << err;
  ty.data = y.data();
  EXPECT_EQ(kern->run(&ctx), SLM_REF_OK) << err;
  EXPECT_TRUE(std::isnan(y.back())) << "wrote past the output";
  y.pop_back();
  return y;
}

class IsaMatMulA8 : public ::testing::TestWithParam<IsaLevel> {};

INSTANTIATE_TEST_SUITE_P(Levels, IsaMatMulA8, ::testing::ValuesIn(isa_test::isa_levels()),
                         [](const ::testing::TestParamInfo<IsaLevel> &i) { return i.param.name(); });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(IsaMatMulA8);

// quantize_rows byte-exact (codes, scales, sums); matmul_a8 equal to the reference up to float summation
// order (1e-4 relative), single-threaded and split over a pool.
TEST_P(IsaMatMulA8, MatchesReference) {
  const IsaLevel &l = GetParam();
  if (l.cpu_level() < l.level) GTEST_SKIP() << "CPU lacks " << l.name();
  const OpKernel *fq = l.find("slm.quantize_rows", l.level), *fm = l.find("slm.matmul_a8", l.level);
  ASSERT_NE(fq, nullptr) << l.name() << " has no slm.quantize_rows override";
  ASSERT_NE(fm, nullptr) << l.name() << " has no slm.matmul_a8 override";
  const OpKernel *qr = find_ref_kernel("slm.quantize_rows"), *mm = find_ref_kernel("slm.matmul_a8");
  std::mt19937 rng(3);
  for (const Case &c : cases()) {
    SCOPED_TRACE(name(c) + " " + l.name());
    Problem p = make(c, rng);
    Rows want = quantize(qr, p, false);
    for (bool threaded : {false, true}) {
      Rows got = quantize(fq, p, threaded);
      ASSERT_EQ(got.q, want.q);
      ASSERT_EQ(got.sums, want.sums);
      ASSERT_EQ(got.scale, want.scale);
    }
    for (bool extreme : {false, true}) {
      if (extreme) add_extreme_codes(p, &want, rng);
      std::vector<float> yr = matmul(mm, p, want, false);
      for (bool threaded : {false, true}) {
        std::vector<float> yf = matmul(fm, p, want, threaded);
        for (size_t i = 0; i < yr.size(); ++i)
          ASSERT_NEAR(yf[i], yr[i], 1e-4f * (1 + std::fabs(yr[i])))
              << "i=" << i << " extreme=" << extreme << " threaded=" << threaded;
      }
    }
  }
}

// The environment variable caps the level, and no level above the CPU's is ever chosen.
TEST_P(IsaMatMulA8, LevelIsCappedAndNamed) {
  const IsaLevel &l = GetParam();
  std::string env = std::string("SLM_") + (l.isa[0] == 'x' ? "X86" : l.isa[0] == 'a' ? "ARM64" : "RISCV64") + "_LEVEL";
  int cpu = l.cpu_level();
  setenv(env.c_str(), l.level_name(l.level), 1);
  EXPECT_EQ(l.cpu_level(), std::min(cpu, l.level));
  unsetenv(env.c_str());
  EXPECT_EQ(l.cpu_level(), cpu);
}

// Wall time of each level's matmul_a8 vs the reference (single thread), printed, never asserted: evidence of
// vectorization under qemu. Best of 5, the two alternating. Run with
//   slm_unit_tests --gtest_also_run_disabled_tests --gtest_filter='*IsaMatMulA8*Timing*'
TEST_P(IsaMatMulA8, DISABLED_Timing) {
  const IsaLevel &l = GetParam();
  if (l.cpu_level() < l.level) GTEST_SKIP() << "CPU lacks " << l.name();
  const OpKernel *fm = l.find("slm.matmul_a8", l.level), *mm = find_ref_kernel("slm.matmul_a8"),
                 *qr = find_ref_kernel("slm.quantize_rows");
  std::mt19937 rng(9);
  for (int bits : {8, 4})
    for (int64_t m : {1, 16}) {
      Case c{bits, m, 1024, 1024, 32, 512, false, true};
      Problem p = make(c, rng);
      Rows r = quantize(qr, p, false);
      auto ms = [&](const OpKernel *k) {
        auto t0 = std::chrono::steady_clock::now();
        matmul(k, p, r, false);
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      };
      double best_ref = 1e30, best = 1e30;
      for (int i = 0; i < 5; ++i) best_ref = std::min(best_ref, ms(mm)), best = std::min(best, ms(fm));
      std::printf("%s w%da8 m=%lld k=1024 n=512 group=32: ref %.2f ms, %s %.2f ms (%.1fx)\n", l.name().c_str(), bits,
                  (long long)m, best_ref, l.level_name(l.level), best, best_ref / best);
    }
}

} // namespace
} // namespace slm
