// slm.matmul_a8_sparse (targets/common/sparse_s8.h): packSparseA8 + the reference kernel against the dense
// slm.matmul_a8 reference on the same codes, and the x86 AVX-512 VBMI2 kernel against both the sparse reference and
// the dense VNNI kernel, over random shapes with row, strip, group and K-padding tails, bits 8 and 4, every group
// size, per-row and per-group activation scales, epilogues, and 0 / 50 / 90 / 100% zero codes.
#include "passes/prune/SparseA8Pack.h"

#include "kernel_util.h"
#include "ref_kernel.h"
#include "sparse_s8.h"
#include "../isa_test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#if defined(__x86_64__)
#include "x86_kernels.h"
#endif

namespace {

using slm::isa_test::Attrs;
using slm::isa_test::reverse_pool;
using slm::isa_test::tensor;

struct Case {
  int bits;
  int64_t m, k, kp, group, n;
  double zeros; // fraction of the codes (k < K, n < N) that are the zero code
  bool epilogue, group_scales;
};

std::string name(const Case &c) {
  return "w" + std::to_string(c.bits) + "a8 m=" + std::to_string(c.m) + " k=" + std::to_string(c.k) +
         " kp=" + std::to_string(c.kp) + " group=" + std::to_string(c.group) + " n=" + std::to_string(c.n) +
         " zeros=" + std::to_string(c.zeros) + (c.epilogue ? " +epilogue" : "") + (c.group_scales ? " group-scales" : "");
}

std::vector<Case> cases() {
  std::vector<Case> out;
  std::mt19937 rng(5);
  const int64_t ms[] = {1, 1, 2, 3, 4, 5, 7, 9, 17}, ns[] = {1, 7, 16, 31, 33, 64, 100, 130, 200};
  for (int bits : {8, 4})
    for (int64_t group : {8, 16, 32, 64, 128})
      for (double zeros : {0.0, 0.5, 0.9, 1.0})
        for (int i = 0; i < 2; ++i) {
          int64_t kp = group * (1 + rng() % 4), k = kp - int64_t(rng() % 8);
          out.push_back({bits, ms[rng() % 9], k, kp, group, ns[rng() % 9], zeros, i == 1, (rng() % 2) != 0});
        }
  // K beyond the AVX-512 kernel's 256-quad prefill chunk: one group cut by chunk boundaries (per channel), and many.
  for (int bits : {8, 4}) {
    out.push_back({bits, 9, 2300, 2304, 2304, 40, 0.5, true, false});
    out.push_back({bits, 17, 2560, 2560, 32, 33, 0.9, false, true});
    out.push_back({bits, 1, 2560, 2560, 2560, 20, 0.75, false, false});
  }
  return out;
}

// One problem: the dense matmul_a8 operands (codes in the strip layout, with junk in the padding rows and columns,
// which the activations' zeros and the unstored columns must hide) and their sparse packing.
struct Problem {
  Case c;
  std::vector<int8_t> q;
  std::vector<float> a_scale, bias, residual;
  std::vector<int32_t> sums;
  std::vector<uint8_t> w;
  std::vector<uint16_t> scales;
  slmc::SparseA8Packed sp;
  Attrs attrs;
  int64_t groups() const { return c.kp / c.group; }
  int64_t strips() const { return (c.n + 15) / 16; }
};

void set_code(Problem &p, int64_t k, int64_t col, uint8_t u) {
  int64_t strip_bytes = p.c.bits == 8 ? p.c.kp * 16 : p.c.kp * 8, s = col / 16, c = col % 16;
  uint8_t *strip = p.w.data() + s * strip_bytes;
  if (p.c.bits == 8) {
    strip[k / 4 * 64 + 4 * c + k % 4] = u;
    return;
  }
  uint8_t &b = strip[k / 8 * 64 + 4 * c + k % 4];
  b = k % 8 < 4 ? uint8_t((b & 0xf0) | u) : uint8_t((b & 0x0f) | (u << 4));
}

Problem make(const Case &c, std::mt19937 &rng) {
  Problem p;
  p.c = c;
  int64_t strip_bytes = c.bits == 8 ? c.kp * 16 : c.kp * 8;
  p.w.resize(size_t(p.strips() * strip_bytes));
  for (uint8_t &b : p.w) b = uint8_t(rng()); // the padding keeps this junk
  const uint8_t zero = slm_sparse_s8_zero_code(c.bits), top = c.bits == 8 ? 255 : 15;
  std::uniform_real_distribution<double> u01(0, 1);
  for (int64_t k = 0; k < c.k; ++k)
    for (int64_t n = 0; n < c.n; ++n)
      set_code(p, k, n, u01(rng) < c.zeros ? zero : uint8_t(rng() % (top + 1)));
  if (c.zeros < 1) set_code(p, 0, 0, 0), set_code(p, c.k - 1, c.n - 1, top); // the extreme codes
  p.q.assign(size_t(c.m * c.kp), 0);
  for (int64_t m = 0; m < c.m; ++m)
    for (int64_t k = 0; k < c.k; ++k) p.q[size_t(m * c.kp + k)] = int8_t(int(rng() % 255) - 127);
  p.sums.assign(size_t(c.m * p.groups()), 0);
  for (int64_t m = 0; m < c.m; ++m)
    for (int64_t k = 0; k < c.kp; ++k) p.sums[size_t(m * p.groups() + k / c.group)] += p.q[size_t(m * c.kp + k)];
  std::uniform_real_distribution<float> ud(0.5f, 1.5f);
  p.a_scale.resize(size_t(c.m * (c.group_scales ? p.groups() : 1)));
  for (float &f : p.a_scale) f = ud(rng) / 127;
  float mag = 1.0f / (std::sqrt(float(c.kp)) * (c.bits == 8 ? 64.0f : 4.0f));
  p.scales.resize(size_t(p.strips() * p.groups() * 16));
  for (uint16_t &h : p.scales) h = slm::float_to_half(ud(rng) * mag * (rng() % 4 ? 1.0f : -1.0f));
  std::normal_distribution<float> nd(0, 1);
  p.bias.resize(size_t(c.n));
  p.residual.resize(size_t(c.m * c.n));
  for (auto *v : {&p.bias, &p.residual})
    for (float &f : *v) f = nd(rng);
  p.attrs.i("bits", c.bits).i("group_size", c.group).i("k", c.k).i("kp", c.kp).i("n", c.n);
  if (c.epilogue) p.attrs.s("activation", "silu");
  p.sp = slmc::packSparseA8(p.w.data(), c.k, c.kp, c.n, c.bits);
  return p;
}

// Runs `kern` (slm.matmul_a8 when `sparse` is false, else slm.matmul_a8_sparse) and returns its output.
std::vector<float> run(const slm::OpKernel *kern, Problem &p, bool sparse, bool threaded) {
  using namespace slm;
  const Case &c = p.c;
  static const uint8_t none = 0; // values of an all-zero weight: never read, but a tensor needs a pointer
  Tensor tq = tensor(p.q.data(), kI8, {c.m, c.kp}), ts = tensor(p.a_scale.data(), kF32, {c.m, int64_t(p.a_scale.size()) / c.m}),
         tsum = tensor(p.sums.data(), kI32, {c.m, p.groups()}),
         tw = tensor(p.w.data(), kU8, {p.strips(), int64_t(p.w.size()) / p.strips()}),
         tv = tensor(p.sp.values.empty() ? &none : p.sp.values.data(), kU8, {int64_t(p.sp.values.size())}),
         tm = tensor(p.sp.masks.data(), kU64, {p.strips(), c.kp / 4}),
         to = tensor(p.sp.offsets.data(), kI64, {p.strips() + 1}),
         tws = tensor(p.scales.data(), kF16, {p.strips(), p.groups() * 16}), tb = tensor(p.bias.data(), kF32, {c.n}),
         tr = tensor(p.residual.data(), kF32, {c.m, c.n});
  bool e = c.epilogue;
  const Tensor *dense_ins[8] = {&tq, &ts, &tsum, &tw, &tws, e ? &tb : nullptr, nullptr, e ? &tr : nullptr};
  const Tensor *sparse_ins[10] = {&tq, &ts, &tsum, &tv, &tm, &to, &tws, e ? &tb : nullptr, nullptr, e ? &tr : nullptr};
  std::vector<float> y(size_t(c.m * c.n) + 1, NAN);
  Tensor ty;
  Tensor *outs[1] = {&ty};
  char err[256] = {0};
  KernelContext ctx;
  ctx.attrs = &p.attrs.list, ctx.inputs = sparse ? sparse_ins : dense_ins, ctx.num_inputs = sparse ? 10 : 8;
  ctx.outputs = outs, ctx.num_outputs = 1, ctx.error = err, ctx.error_size = sizeof err;
  if (threaded) ctx.parallel_for = reverse_pool;
  EXPECT_EQ(kern->infer(&ctx), SLM_REF_OK) << err;
  ty.data = y.data();
  EXPECT_EQ(kern->run(&ctx), SLM_REF_OK) << err;
  EXPECT_TRUE(std::isnan(y.back())) << "wrote past the output";
  y.pop_back();
  return y;
}

// The packing keeps exactly the codes that are not the zero code, and the offsets follow the masks.
TEST(SparseA8Pack, CountsAndOffsets) {
  std::mt19937 rng(1);
  for (const Case &c : cases()) {
    SCOPED_TRACE(name(c));
    Problem p = make(c, rng);
    EXPECT_EQ(p.sp.total, c.k * c.n);
    EXPECT_EQ(p.sp.total - p.sp.zeros, int64_t(p.sp.values.size()));
    if (c.zeros == 1.0) {
      EXPECT_TRUE(p.sp.values.empty());
    }
    if (c.zeros == 0.0) { // only the codes that drew the zero code
      EXPECT_LT(p.sp.zeros, p.sp.total / 8 + 1);
    }
    ASSERT_EQ(p.sp.offsets.size(), size_t(p.strips() + 1));
    EXPECT_EQ(p.sp.offsets[0], 0);
    for (int64_t s = 0; s < p.strips(); ++s) {
      int64_t pop = 0;
      for (int64_t i = 0; i < c.kp / 4; ++i) pop += __builtin_popcountll(p.sp.masks[size_t(s * (c.kp / 4) + i)]);
      EXPECT_EQ(p.sp.offsets[size_t(s + 1)] - p.sp.offsets[size_t(s)], pop);
    }
    for (uint8_t v : p.sp.values) EXPECT_NE(v, slm_sparse_s8_zero_code(c.bits));
  }
}

// The sparse reference computes the dense reference's integer dots in the same float order: equal outputs.
TEST(MatMulA8Sparse, ReferenceMatchesDenseReference) {
  const slm::OpKernel *dense = slm::find_ref_kernel("slm.matmul_a8"), *sparse = slm::find_ref_kernel("slm.matmul_a8_sparse");
  ASSERT_NE(sparse, nullptr);
  std::mt19937 rng(2);
  for (const Case &c : cases()) {
    SCOPED_TRACE(name(c));
    Problem p = make(c, rng);
    std::vector<float> want = run(dense, p, false, false), got = run(sparse, p, true, true);
    for (size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-6f * (1 + std::fabs(want[i]))) << "i=" << i;
  }
}

#if defined(__x86_64__)
// The AVX-512 VBMI2 kernel against the sparse reference (float summation order may differ: 1e-4 relative) and
// against the dense VNNI kernel on the same codes (the same blocks and order), single-threaded and over a pool.
TEST(MatMulA8Sparse, Avx512Vbmi2MatchesReferenceAndDenseVnni) {
  if (slm::x86_cpu_level() < slm::kX86Avx512Vbmi2) GTEST_SKIP() << "CPU lacks avx512vbmi2 + avx512vnni";
  const slm::OpKernel *fast = slm::find_x86_kernel("slm.matmul_a8_sparse", slm::kX86Avx512Vbmi2),
                      *vnni = slm::find_x86_kernel("slm.matmul_a8", slm::kX86Avx512Vnni),
                      *ref = slm::find_ref_kernel("slm.matmul_a8_sparse");
  ASSERT_NE(fast, nullptr);
  ASSERT_NE(fast->run, ref->run) << "the VBMI2 level has no kernel of its own";
  EXPECT_EQ(slm::find_x86_kernel("slm.matmul_a8_sparse", slm::kX86Avx512Vnni), nullptr) << "VBMI2 only";
  std::mt19937 rng(3);
  for (const Case &c : cases()) {
    SCOPED_TRACE(name(c));
    Problem p = make(c, rng);
    std::vector<float> want = run(ref, p, true, false), dense = run(vnni, p, false, false);
    for (bool threaded : {false, true}) {
      std::vector<float> got = run(fast, p, true, threaded);
      for (size_t i = 0; i < want.size(); ++i) {
        ASSERT_NEAR(got[i], want[i], 1e-4f * (1 + std::fabs(want[i]))) << "i=" << i << " threaded=" << threaded;
        ASSERT_NEAR(got[i], dense[i], 1e-5f * (1 + std::fabs(dense[i]))) << "i=" << i << " vs dense VNNI";
      }
    }
  }
}

// The comparison can fail: one stored code changed by half its range (in the last strip, so every earlier pointer walk must be
// right for the kernel to reach it) moves the kernel's output away from the reference of the unchanged weight.
TEST(MatMulA8Sparse, Avx512Vbmi2MutationIsCaught) {
  if (slm::x86_cpu_level() < slm::kX86Avx512Vbmi2) GTEST_SKIP() << "CPU lacks avx512vbmi2 + avx512vnni";
  const slm::OpKernel *fast = slm::find_x86_kernel("slm.matmul_a8_sparse", slm::kX86Avx512Vbmi2),
                      *ref = slm::find_ref_kernel("slm.matmul_a8_sparse");
  std::mt19937 rng(4);
  for (int bits : {8, 4}) {
    Case c{bits, 3, 64, 64, 32, 40, 0.5, false, true};
    Problem p = make(c, rng);
    std::vector<float> want = run(ref, p, true, false);
    ASSERT_FALSE(p.sp.values.empty());
    p.sp.values.back() ^= uint8_t(bits == 8 ? 0x80 : 0x08);
    std::vector<float> got = run(fast, p, true, false);
    double diff = 0;
    for (size_t i = 0; i < want.size(); ++i) diff = std::max(diff, double(std::fabs(got[i] - want[i])));
    EXPECT_GT(diff, 1e-3) << "bits=" << bits << ": a changed code went unnoticed";
  }
}
#endif

} // namespace
