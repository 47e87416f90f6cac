// slm.quantize_rows / slm.matmul_a8 (int8 activations, w8a8 and w4a8) and slm.matmul_hw (fp16/bf16 weights): the
// reference against float math, and every x86 level's kernels against the reference, over random shapes with tails
// and every group size.
#include "passes/quant/WeightQuantizer.h"

#include "epilogue.h"
#include "kernel_util.h"
#include "quant_a8.h"
#include "../isa_test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#if defined(__x86_64__)
#include "x86_kernels.h"
#endif

namespace {

using slm::isa_test::Attrs;
using slm::isa_test::tensor;

struct Case {
  int bits;
  int64_t group; // --group-size: 0 per channel
  int64_t m, k, n;
  bool epilogue;     // bias + silu + residual
  bool group_scales; // quantize_rows group_scales: one activation scale per row and group
};

// Seeded random shapes: rows 1 (decode), odd and >4 (row-block tails); K and N with tails of
// the 8-row octet, the group and the 16-column strip.
std::vector<Case> cases() {
  std::vector<Case> out;
  std::mt19937 rng(5);
  const int64_t ms[] = {1, 1, 2, 3, 5, 8, 33}, ks[] = {8, 24, 40, 64, 100, 136, 256, 520},
                ns[] = {1, 7, 16, 31, 33, 64, 100, 130};
  for (int bits : {8, 4})
    for (int64_t group : {0, 32, 64, 128})
      for (int i = 0; i < 6; ++i)
        out.push_back({bits, group, ms[rng() % 7], ks[rng() % 8], ns[rng() % 8], i % 2 == 1, i % 3 != 0});
  return out;
}

std::string name(const Case &c) {
  return "w" + std::to_string(c.bits) + "a8 g" + std::to_string(c.group) + " m=" + std::to_string(c.m) +
         " k=" + std::to_string(c.k) + " n=" + std::to_string(c.n) + (c.epilogue ? " +epilogue" : "") +
         (c.group_scales ? " group-scales" : "");
}

struct Problem {
  Case c;
  int64_t kp = 0, group = 0;
  std::vector<float> w, x, bias, residual;
  slmc::QuantizedMatrix packed;
  Attrs attrs;
};

Problem make(const Case &c, std::mt19937 &rng) {
  Problem p;
  p.c = c;
  std::normal_distribution<float> nd(0, 1);
  p.w.resize(size_t(c.k * c.n));
  p.x.resize(size_t(c.m * c.k));
  p.bias.resize(size_t(c.n));
  p.residual.resize(size_t(c.m * c.n));
  for (auto *v : {&p.w, &p.x, &p.bias, &p.residual})
    for (float &f : *v) f = nd(rng);
  p.x[0] = 0; // exact zeros, one all-zero row and an all-zero first group are legal inputs
  if (c.m > 2)
    for (int64_t k = 0; k < c.k; ++k) p.x[size_t(c.k + k)] = 0;
  if (c.m > 3)
    for (int64_t k = 0; k < std::min<int64_t>(c.k, 32); ++k) p.x[size_t(3 * c.k + k)] = 0;
  if (c.m > 4) p.x[size_t(4 * c.k)] = 100.0f; // an outlier, which group scales confine to its group
  p.packed = slmc::quantizeForMatMulA8(p.w.data(), c.k, c.n, {c.bits, c.group, true}, &p.kp, &p.group);
  p.attrs.i("bits", c.bits).i("group_size", p.group).i("k", c.k).i("kp", p.kp).i("n", c.n);
  if (c.epilogue) p.attrs.s("activation", "silu");
  if (c.group_scales) p.attrs.i("group_scales", 1);
  return p;
}

int64_t scaleCount(const Problem &p) { return p.c.group_scales ? p.kp / p.group : 1; }

// The activation scale of row m at column k.
float rowScale(const Problem &p, const std::vector<float> &scale, int64_t m, int64_t k) {
  return scale[size_t(m * scaleCount(p) + (p.c.group_scales ? k / p.group : 0))];
}

struct Rows {
  std::vector<int8_t> q;
  std::vector<float> scale;
  std::vector<int32_t> sums;
};

Rows quantize(const slm::OpKernel *kern, Problem &p) {
  Rows r;
  int64_t groups = p.kp / p.group;
  r.q.assign(size_t(p.c.m * p.kp), 99);
  r.scale.assign(size_t(p.c.m * scaleCount(p)), NAN);
  r.sums.assign(size_t(p.c.m * groups), -1);
  slm::Tensor ta = tensor(p.x.data(), slm::kF32, {p.c.m, p.c.k}), tq, ts, tsum;
  const slm::Tensor *ins[1] = {&ta};
  slm::Tensor *outs[3] = {&tq, &ts, &tsum};
  char err[256] = {0};
  slm::KernelContext ctx;
  ctx.attrs = &p.attrs.list, ctx.inputs = ins, ctx.num_inputs = 1, ctx.outputs = outs, ctx.num_outputs = 3;
  ctx.error = err, ctx.error_size = sizeof err;
  EXPECT_EQ(kern->infer(&ctx), slm::SLM_REF_OK) << err;
  EXPECT_EQ(tq.dims[1], p.kp);
  EXPECT_EQ(tsum.dims[1], groups);
  EXPECT_EQ(ts.dims[1], scaleCount(p));
  tq.data = r.q.data(), ts.data = r.scale.data(), tsum.data = r.sums.data();
  EXPECT_EQ(kern->run(&ctx), slm::SLM_REF_OK) << err;
  return r;
}

std::vector<float> matmul(const slm::OpKernel *kern, Problem &p, const Rows &r) {
  const auto &q = p.packed;
  slm::Tensor tq = tensor(r.q.data(), slm::kI8, {p.c.m, p.kp}), ts = tensor(r.scale.data(), slm::kF32, {p.c.m, scaleCount(p)}),
              tsum = tensor(r.sums.data(), slm::kI32, {p.c.m, p.kp / p.group}),
              tw = tensor(q.codes.data(), slm::kU8, {q.rows, q.cols}),
              tws = tensor(q.scales.data(), slm::kF16, {q.scaleRows, q.scaleCols}),
              tb = tensor(p.bias.data(), slm::kF32, {p.c.n}), tr = tensor(p.residual.data(), slm::kF32, {p.c.m, p.c.n});
  bool e = p.c.epilogue;
  const slm::Tensor *ins[8] = {&tq, &ts, &tsum, &tw, &tws, e ? &tb : nullptr, nullptr, e ? &tr : nullptr};
  std::vector<float> y(size_t(p.c.m * p.c.n), NAN);
  slm::Tensor ty;
  slm::Tensor *outs[1] = {&ty};
  char err[256] = {0};
  slm::KernelContext ctx;
  ctx.attrs = &p.attrs.list, ctx.inputs = ins, ctx.num_inputs = 8, ctx.outputs = outs, ctx.num_outputs = 1;
  ctx.error = err, ctx.error_size = sizeof err;
  EXPECT_EQ(kern->infer(&ctx), slm::SLM_REF_OK) << err;
  ty.data = y.data();
  EXPECT_EQ(kern->run(&ctx), slm::SLM_REF_OK) << err;
  return y;
}

// The reference is the oracle, so it is checked against plain float math on the dequantized
// operands: weights decoded through the weight-only quantizer (same groups, same RTN codes).
TEST(MatMulA8Reference, MatchesDequantizedFloatMath) {
  const slm::OpKernel *qr = slm::find_ref_kernel("slm.quantize_rows"), *mm = slm::find_ref_kernel("slm.matmul_a8");
  ASSERT_NE(qr, nullptr);
  ASSERT_NE(mm, nullptr);
  std::mt19937 rng(1);
  for (const Case &c : cases()) {
    SCOPED_TRACE(name(c));
    Problem p = make(c, rng);
    Rows r = quantize(qr, p);
    // Activations: within half a step of the input, zero past K, sums consistent.
    for (int64_t m = 0; m < c.m; ++m) {
      for (int64_t k = 0; k < p.kp; ++k) {
        float x = k < c.k ? p.x[size_t(m * c.k + k)] : 0.0f, s = rowScale(p, r.scale, m, k);
        ASSERT_LE(std::fabs(s * r.q[size_t(m * p.kp + k)] - x), s * 0.5001f + 1e-7f);
      }
      // Each scale is its span's max |x| / 127 (the row, or the group; 0 for a group wholly past K).
      for (int64_t i = 0; i < scaleCount(p); ++i) {
        int64_t k0 = c.group_scales ? i * p.group : 0, k1 = std::min(c.k, c.group_scales ? k0 + p.group : c.k);
        float amax = 0;
        for (int64_t k = k0; k < k1; ++k) amax = std::max(amax, std::fabs(p.x[size_t(m * c.k + k)]));
        ASSERT_EQ(r.scale[size_t(m * scaleCount(p) + i)], amax / 127.0f) << "m=" << m << " scale " << i;
      }
      for (int64_t g = 0; g < p.kp / p.group; ++g) {
        int32_t s = 0;
        for (int64_t k = g * p.group; k < (g + 1) * p.group; ++k) s += r.q[size_t(m * p.kp + k)];
        ASSERT_EQ(r.sums[size_t(m * (p.kp / p.group) + g)], s);
      }
    }
    slmc::QuantizedMatrix wq = slmc::quantizeForMatMul(p.w.data(), c.k, c.n, {c.bits, c.group, true});
    auto deq = [&](int64_t k, int64_t n) {
      uint8_t byte = wq.codes[size_t(k * wq.cols + (c.bits == 8 ? n : n / 64 * 32 + n % 32))];
      int code = c.bits == 8 ? int(int8_t(byte)) : int(n % 64 >= 32 ? byte >> 4 : byte & 15) - 8;
      int64_t g = c.group ? k / c.group : 0;
      return slm::half_to_float(wq.scales[size_t(g * c.n + n)]) * float(code);
    };
    std::vector<float> y = matmul(mm, p, r);
    for (int64_t m = 0; m < c.m; ++m)
      for (int64_t n = 0; n < c.n; ++n) {
        double acc = 0, mag = 0;
        for (int64_t k = 0; k < c.k; ++k) {
          double t = double(rowScale(p, r.scale, m, k)) * r.q[size_t(m * p.kp + k)] * deq(k, n);
          acc += t;
          mag += std::fabs(t);
        }
        float want = float(acc);
        if (c.epilogue)
          want = slm::apply_activation(slm::Act::kSilu, want + p.bias[size_t(n)], 0, 0) + p.residual[size_t(m * c.n + n)];
        ASSERT_NEAR(y[size_t(m * c.n + n)], want, 1e-5 * (mag + 1)) << "m=" << m << " n=" << n;
      }
  }
}

// slm.matmul_hw runs `kern` on float16 (bf16 = false) or bfloat16 weights; returns y.
std::vector<float> matmulHw(const slm::OpKernel *kern, const Case &c, const std::vector<float> &x,
                            const std::vector<uint16_t> &w, bool bf16, const std::vector<float> &bias,
                            const std::vector<float> &res) {
  Attrs attrs;
  attrs.i("k", c.k).i("n", c.n);
  if (c.epilogue) attrs.s("activation", "silu");
  slm::Tensor ta = tensor(x.data(), slm::kF32, {c.m, c.k}), tw = tensor(w.data(), bf16 ? slm::kBF16 : slm::kF16, {c.k, c.n}),
              tb = tensor(bias.data(), slm::kF32, {c.n}), tr = tensor(res.data(), slm::kF32, {c.m, c.n});
  const slm::Tensor *ins[5] = {&ta, &tw, c.epilogue ? &tb : nullptr, nullptr, c.epilogue ? &tr : nullptr};
  std::vector<float> y(size_t(c.m * c.n), NAN);
  slm::Tensor ty;
  slm::Tensor *outs[1] = {&ty};
  char err[256] = {0};
  slm::KernelContext ctx;
  ctx.attrs = &attrs.list, ctx.inputs = ins, ctx.num_inputs = 5, ctx.outputs = outs, ctx.num_outputs = 1;
  ctx.error = err, ctx.error_size = sizeof err;
  EXPECT_EQ(kern->infer(&ctx), slm::SLM_REF_OK) << err;
  ty.data = y.data();
  EXPECT_EQ(kern->run(&ctx), slm::SLM_REF_OK) << err;
  return y;
}

// fp16/bf16 storage: the reference against double math on the widened weights, and the AVX-512
// kernel (when the CPU has it) against the reference.
TEST(MatMulHw, ReferenceAndX86MatchFloatMath) {
  const slm::OpKernel *ref = slm::find_ref_kernel("slm.matmul_hw");
  ASSERT_NE(ref, nullptr);
  const slm::OpKernel *fast = nullptr;
#if defined(__x86_64__)
  if (slm::x86_cpu_level() >= slm::kX86Avx512) fast = slm::find_x86_kernel("slm.matmul_hw", slm::kX86Avx512);
#endif
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0, 1);
  for (bool bf16 : {false, true})
    for (const Case &c : cases()) {
      if (c.group != 0) continue;
      SCOPED_TRACE(std::string(bf16 ? "bf16 " : "fp16 ") + name(c));
      std::vector<float> x(size_t(c.m * c.k)), bias(size_t(c.n)), res(size_t(c.m * c.n)), wf(size_t(c.k * c.n));
      std::vector<uint16_t> w(wf.size());
      for (auto *v : {&x, &bias, &res, &wf})
        for (float &f : *v) f = nd(rng);
      for (size_t i = 0; i < w.size(); ++i) {
        w[i] = bf16 ? slm::float_to_bf16(wf[i]) : slm::float_to_half(wf[i]);
        wf[i] = bf16 ? slm::bf16_to_float(w[i]) : slm::half_to_float(w[i]);
      }
      std::vector<float> y = matmulHw(ref, c, x, w, bf16, bias, res);
      for (int64_t m = 0; m < c.m; ++m)
        for (int64_t n = 0; n < c.n; ++n) {
          double acc = 0, mag = 0;
          for (int64_t k = 0; k < c.k; ++k) {
            acc += double(x[size_t(m * c.k + k)]) * wf[size_t(k * c.n + n)];
            mag += std::fabs(double(x[size_t(m * c.k + k)]) * wf[size_t(k * c.n + n)]);
          }
          float want = float(acc);
          if (c.epilogue)
            want = slm::apply_activation(slm::Act::kSilu, want + bias[size_t(n)], 0, 0) + res[size_t(m * c.n + n)];
          ASSERT_NEAR(y[size_t(m * c.n + n)], want, 1e-5 * (mag + 1));
        }
      if (fast) {
        std::vector<float> yf = matmulHw(fast, c, x, w, bf16, bias, res);
        for (size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(yf[i], y[i], 1e-4f * (1 + std::fabs(y[i]))) << "i=" << i;
      }
    }
}

#if defined(__x86_64__)
// Every x86 level this CPU has (forced as SLM_X86_LEVEL would): quantize_rows byte-exact,
// matmul_a8 equal to the reference up to float summation order.
TEST(MatMulA8X86, EveryLevelMatchesReference) {
  const slm::OpKernel *qr = slm::find_ref_kernel("slm.quantize_rows"), *mm = slm::find_ref_kernel("slm.matmul_a8");
  int tested = 0;
  for (int level : {int(slm::kX86Avx2), int(slm::kX86Avx512), int(slm::kX86Avx512Vnni)}) {
    if (slm::x86_cpu_level() < level) continue;
    const slm::OpKernel *fq = slm::find_x86_kernel("slm.quantize_rows", level),
                        *fm = slm::find_x86_kernel("slm.matmul_a8", level);
    ASSERT_NE(fq, nullptr) << slm::x86_level_name(level);
    ASSERT_NE(fm, nullptr) << slm::x86_level_name(level);
    ++tested;
    std::mt19937 rng(2);
    for (const Case &c : cases()) {
      SCOPED_TRACE(name(c) + " level=" + slm::x86_level_name(level));
      Problem p = make(c, rng);
      Rows want = quantize(qr, p), got = quantize(fq, p);
      ASSERT_EQ(got.q, want.q);
      ASSERT_EQ(got.sums, want.sums);
      ASSERT_EQ(got.scale, want.scale);
      std::vector<float> yr = matmul(mm, p, want), yf = matmul(fm, p, want);
      for (size_t i = 0; i < yr.size(); ++i) ASSERT_NEAR(yf[i], yr[i], 1e-4f * (1 + std::fabs(yr[i]))) << "i=" << i;
    }
  }
  if (!tested) GTEST_SKIP() << "CPU lacks AVX2";
}

TEST(MatMulA8X86, LevelNamesRoundTrip) {
  EXPECT_STREQ(slm::x86_level_name(slm::kX86Avx512Vnni), "avx512vnni");
  setenv("SLM_X86_LEVEL", "avx512", 1);
  EXPECT_LE(slm::x86_cpu_level(), int(slm::kX86Avx512));
  unsetenv("SLM_X86_LEVEL");
}
#endif

} // namespace
