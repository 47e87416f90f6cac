// x86-64 MatMul overrides (AVX2+FMA, AVX-512) against the reference kernel over random shapes and tails.
#if defined(__x86_64__)
#include "x86_kernels.h"

#include "kernel_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace slm {
namespace {

struct Case {
  std::vector<int64_t> a, b;
};

Tensor make(std::vector<float> &buf, const std::vector<int64_t> &dims, std::mt19937 &rng) {
  Tensor t;
  t.dtype = kF32;
  t.rank = int(dims.size());
  for (int i = 0; i < t.rank; ++i) t.dims[i] = dims[i];
  buf.resize(size_t(t.numel()));
  std::uniform_real_distribution<float> u(-1, 1);
  for (auto &v : buf) v = u(rng);
  t.data = buf.data();
  return t;
}

// Runs kernel k (infer + run) on a, b; returns the output values.
std::vector<float> run(const OpKernel *k, const Tensor &a, const Tensor &b, bool threaded) {
  const Tensor *ins[2] = {&a, &b};
  Tensor out;
  Tensor *outs[1] = {&out};
  char err[256] = {0};
  AttrList attrs;
  KernelContext ctx;
  ctx.attrs = &attrs;
  ctx.inputs = ins;
  ctx.num_inputs = 2;
  ctx.outputs = outs;
  ctx.num_outputs = 1;
  ctx.error = err;
  ctx.error_size = sizeof err;
  // A parallel_for that runs chunks in reverse order, like a real pool might.
  if (threaded)
    ctx.parallel_for = [](void *, int64_t n, int64_t grain, TaskFn fn, void *arg) {
      int64_t chunk = std::max<int64_t>(grain, (n + 2) / 3);
      for (int64_t b = ((n - 1) / chunk) * chunk; b >= 0; b -= chunk) fn(arg, b, std::min(n, b + chunk));
    };
  EXPECT_EQ(k->infer(&ctx), SLM_REF_OK) << err;
  std::vector<float> y(size_t(out.numel()) + 1, NAN);
  out.data = y.data();
  EXPECT_EQ(k->run(&ctx), SLM_REF_OK) << err;
  y.pop_back();
  return y;
}

class X86MatMul : public ::testing::TestWithParam<int> {};

TEST_P(X86MatMul, MatchesReference) {
  int level = GetParam();
  if (x86_cpu_level() < level) GTEST_SKIP() << "CPU lacks " << x86_level_name(level);
  const OpKernel *fast = find_x86_kernel("MatMul", level);
  ASSERT_NE(fast, nullptr);
  const OpKernel *ref = find_ref_kernel("MatMul");
  std::mt19937 rng(42 + level);
  std::vector<Case> cases = {{{1, 64}, {64, 256}},     {{1, 7}, {7, 13}},        {{1, 1, 100}, {100, 130}},
                             {{5, 33}, {33, 47}},      {{64, 300}, {300, 96}},   {{9, 17}, {17, 31}},
                             {{2, 8, 16}, {16, 40}},   {{3, 2, 5, 9}, {3, 2, 9, 7}}, {{1, 600}, {600, 70}},
                             {{13, 0}, {0, 5}},        {{0, 4}, {4, 6}}};
  std::uniform_int_distribution<int> d(1, 80);
  for (int i = 0; i < 20; ++i) cases.push_back({{d(rng), d(rng) * 5}, {0, d(rng)}});
  for (auto &c : cases) {
    if (c.b[0] == 0 && c.a[1] != 0) c.b[0] = c.a.back();
    std::vector<float> abuf, bbuf;
    Tensor a = make(abuf, c.a, rng), b = make(bbuf, c.b, rng);
    for (bool threaded : {false, true}) {
      auto want = run(ref, a, b, false), got = run(fast, a, b, threaded);
      ASSERT_EQ(want.size(), got.size());
      for (size_t k = 0; k < want.size(); ++k)
        ASSERT_NEAR(got[k], want[k], 1e-4f * (1 + std::fabs(want[k])))
            << x86_level_name(level) << " shape a[0]=" << c.a[0] << " k=" << k << " threaded=" << threaded;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Levels, X86MatMul, ::testing::Values(int(kX86Avx2), int(kX86Avx512)),
                         [](const auto &info) { return std::string(x86_level_name(info.param)); });

TEST(X86Level, EnvironmentCapsTheLevel) {
  setenv("SLM_X86_LEVEL", "ref", 1);
  EXPECT_EQ(x86_cpu_level(), kX86Ref);
  EXPECT_EQ(find_x86_kernel("MatMul", kX86Ref), nullptr);
  unsetenv("SLM_X86_LEVEL");
}

} // namespace
} // namespace slm
#endif
