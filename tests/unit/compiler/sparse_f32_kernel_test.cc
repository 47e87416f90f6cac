// slm_sparse_f32__avx512f (slm.matmul_sparse's AVX-512 microkernel) on packSparse's layout against a
// double-precision dense matmul of the pruned weights: sparsities, K/N/M tails, strides, panel ranges.
#ifdef SLM_WITH_X86_KERNELS
#include "gemm_f32.h"
#include "passes/prune/SparsePack.h"
#include "sparse_f32.h"
#include "x86_kernels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <utility>
#include <vector>

namespace {

std::vector<float> randomMatrix(int64_t rows, int64_t cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d;
  std::vector<float> m(size_t(rows * cols));
  for (float &v : m)
    v = d(rng);
  return m;
}

bool cpuHasAvx512() { return slm::x86_cpu_level() >= slm::kX86Avx512; }

struct Problem {
  int64_t m, k, n, lda, ldc;
  std::vector<float> a, w; // a [m, lda], w [k, n] (already pruned)
};

Problem makeProblem(int64_t m, int64_t k, int64_t n, double s, unsigned seed) {
  Problem p{m, k, n, k + 3, n + 5, randomMatrix(m, k + 3, seed), randomMatrix(k, n, seed + 1)};
  if (s >= 1.0)
    std::fill(p.w.begin(), p.w.end(), 0.0f);
  else
    slmc::magnitudePrune(p.w.data(), k, n, false, s, nullptr);
  return p;
}

// C over panels [p0, p1) on a NaN-filled [m, ldc] buffer.
std::vector<float> runKernel(const Problem &p, const slmc::SparsePacked &s, int64_t p0, int64_t p1) {
  std::vector<float> c(size_t(p.m * p.ldc), std::numeric_limits<float>::quiet_NaN());
  slm_sparse_f32_args_t args{p.m,      p.k,   p.n, p.a.data(), p.lda, s.values.data(), s.masks.data(), s.offsets.data(),
                             c.data(), p.ldc, p0,  p1};
  slm_sparse_f32__avx512f(&args);
  return c;
}

// Checks C against the double-precision dense product on columns [64 p0, 64 p1) ∩ [0, N), and that
// nothing else of C was written. The tolerance scales with sum |a w| so cancellation cannot fail it.
void expectMatchesDense(const Problem &p, const std::vector<float> &c, int64_t p0, int64_t p1) {
  for (int64_t i = 0; i < p.m; ++i)
    for (int64_t j = 0; j < p.ldc; ++j) {
      float got = c[size_t(i * p.ldc + j)];
      if (j >= p.n || j < 64 * p0 || j >= 64 * p1) {
        ASSERT_TRUE(std::isnan(got)) << "wrote C[" << i << ", " << j << "] outside its panels";
        continue;
      }
      double ref = 0, mag = 0;
      for (int64_t r = 0; r < p.k; ++r) {
        double t = double(p.a[size_t(i * p.lda + r)]) * double(p.w[size_t(r * p.n + j)]);
        ref += t, mag += std::fabs(t);
      }
      ASSERT_LE(std::fabs(double(got) - ref), 1e-4 * mag)
          << "C[" << i << ", " << j << "] = " << got << ", want " << ref;
    }
}

TEST(SparseF32Avx512, MatchesDenseOverSparsitiesAndTails) {
  if (!cpuHasAvx512())
    GTEST_SKIP() << "CPU lacks AVX-512";
  unsigned seed = 1;
  for (double s : {0.0, 0.3, 0.7, 0.95, 1.0})
    for (int64_t k : {1, 7, 33})
      for (int64_t n : {1, 15, 64, 65, 200})
        for (int64_t m : {1, 2, 3, 4, 5, 9}) {
          SCOPED_TRACE(testing::Message() << "S=" << s << " K=" << k << " N=" << n << " M=" << m);
          Problem p = makeProblem(m, k, n, s, seed++);
          slmc::SparsePacked sp = slmc::packSparse(p.w.data(), k, n, false);
          expectMatchesDense(p, runKernel(p, sp, 0, sp.panels), 0, sp.panels);
          if (HasFatalFailure())
            return;
        }
}

TEST(SparseF32Avx512, MatchesDenseOnAnFfnSizedLayer) {
  if (!cpuHasAvx512())
    GTEST_SKIP() << "CPU lacks AVX-512";
  for (int64_t m : {1, 6, 33, 40}) { // 33, 40: the staged prefill path, K over several chunks
    SCOPED_TRACE(testing::Message() << "M=" << m);
    Problem p = makeProblem(m, 960, 130, 0.5, unsigned(11 + m));
    slmc::SparsePacked sp = slmc::packSparse(p.w.data(), p.k, p.n, false);
    expectMatchesDense(p, runKernel(p, sp, 0, sp.panels), 0, sp.panels);
  }
}

TEST(SparseF32Avx512, WritesOnlyItsPanels) {
  if (!cpuHasAvx512())
    GTEST_SKIP() << "CPU lacks AVX-512";
  for (int64_t m : {5, 35}) {
    Problem p = makeProblem(m, 70, 200, 0.5, unsigned(21 + m)); // 4 panels, the last one 8 columns wide
    slmc::SparsePacked sp = slmc::packSparse(p.w.data(), p.k, p.n, false);
    for (auto [p0, p1] : {std::pair<int64_t, int64_t>{1, 3}, {3, 4}, {0, 1}, {2, 2}}) {
      SCOPED_TRACE(testing::Message() << "M=" << m << " panels [" << p0 << ", " << p1 << ")");
      expectMatchesDense(p, runKernel(p, sp, p0, p1), p0, p1);
    }
  }
}

// Clears mask bit (k, col) and drops its value, keeping offsets consistent: the kernel must then
// compute the product with W[k, col] = 0, which differs from the original at that column.
TEST(SparseF32Avx512, FollowsTheMaskBits) {
  if (!cpuHasAvx512())
    GTEST_SKIP() << "CPU lacks AVX-512";
  Problem p = makeProblem(3, 33, 130, 0.3, 31);
  slmc::SparsePacked sp = slmc::packSparse(p.w.data(), p.k, p.n, false);
  const int64_t k = 17, col = 64 + 16 * 2 + 5, pn = col / 64, b = (col % 64) / 16, bit = col % 16;
  if (p.w[size_t(k * p.n + col)] == 0.0f)
    p.w[size_t(k * p.n + col)] = 1.5f, sp = slmc::packSparse(p.w.data(), p.k, p.n, false);
  int64_t at = sp.offsets[size_t(pn)];
  for (int64_t i = pn * p.k * 4; i < (pn * p.k + k) * 4 + b; ++i)
    at += __builtin_popcount(sp.masks[size_t(i)]);
  uint16_t &mask = sp.masks[size_t((pn * p.k + k) * 4 + b)];
  ASSERT_TRUE(mask >> bit & 1);
  at += __builtin_popcount(mask & ((1u << bit) - 1));
  ASSERT_EQ(sp.values[size_t(at)], p.w[size_t(k * p.n + col)]);
  std::vector<float> before = runKernel(p, sp, 0, sp.panels); // with W[k, col] != 0
  mask = uint16_t(mask & ~(1u << bit));
  sp.values.erase(sp.values.begin() + at);
  for (int64_t q = pn + 1; q <= sp.panels; ++q)
    --sp.offsets[size_t(q)];
  p.w[size_t(k * p.n + col)] = 0.0f;
  std::vector<float> after = runKernel(p, sp, 0, sp.panels);
  expectMatchesDense(p, after, 0, sp.panels);
  for (int64_t i = 0; i < p.m; ++i)
    EXPECT_NE(after[size_t(i * p.ldc + col)], before[size_t(i * p.ldc + col)]) << "row " << i;
}

} // namespace
#endif // SLM_WITH_X86_KERNELS

namespace {

// Each x86 level's kernel table is the level below's plus what its new instructions allow: an op
// the lower level runs natively must not fall back to the reference kernel one level up (a merge
// once dropped slm.matmul_sparse from the VBMI2 table, and no output differed, only the speed).
TEST(X86KernelTables, EachLevelKeepsTheKernelsOfTheLevelBelow) {
  const char *const ops[] = {"MatMul",        "slm.attention",   "slm.fused_matmul",    "slm.matmul_wq",
                             "slm.matmul_a8", "slm.matmul_hw",   "slm.matmul_sp24",     "slm.matmul_sparse",
                             "slm.quantize_rows", "slm.matmul_a8_sparse"};
  for (int level = slm::kX86Avx2 + 1; level <= slm::kX86Avx512Vbmi2; ++level)
    for (const char *op : ops)
      if (slm::find_x86_kernel(op, level - 1))
        EXPECT_NE(slm::find_x86_kernel(op, level), nullptr)
            << op << " has a kernel at " << slm::x86_level_name(level - 1) << " but not at " << slm::x86_level_name(level);
  EXPECT_NE(slm::find_x86_kernel("slm.matmul_sparse", slm::kX86Avx512), nullptr);
  EXPECT_NE(slm::find_x86_kernel("slm.matmul_a8_sparse", slm::kX86Avx512Vbmi2), nullptr);
}

} // namespace
