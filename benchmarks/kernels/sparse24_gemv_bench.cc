// 2:4 semi-structured fp32 GEMV against dense, all three as shipped, on the 220M LM's FFN shapes:
// is --prune=2:4 worth it for decode on this CPU (issue 10)?
//
//   Dense       slm_gemm_f32__avx512f on a row-major [K, N] weight (an unpacked fused_matmul);
//   DensePanel  the same microkernel over 32-column panels [N/32][K][32], as the emitter packs
//               constant fused_matmul weights (gemm_f32_matmul.cc run_panels);
//   Sparse24    slm_sp24_f32__avx512f on packSp24's layout (targets/common/sp24_f32.h): half the
//               weight bytes plus 1/8 for positions, half the multiply-adds.
// "hot": one matrix, cache-resident after the first pass (32 MiB L3 here); "cold": a ring of
// copies larger than the L3, as in decode where every layer's weights stream from DRAM.
#include "gemm_f32.h"
#include "passes/prune/Sp24Pack.h"
#include "sp24_f32.h"

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

namespace {

constexpr int64_t kPanel = SLM_GEMM_F32_PANEL;

std::vector<float> randomMatrix(int64_t k, int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 0.02f);
  std::vector<float> w(size_t(k * n));
  for (float &v : w) v = d(rng);
  return w;
}

std::vector<float> panelPack(const std::vector<float> &w, int64_t k, int64_t n) {
  std::vector<float> p(size_t((n + kPanel - 1) / kPanel * k * kPanel), 0.0f);
  for (int64_t c = 0; c < n; ++c)
    for (int64_t r = 0; r < k; ++r) p[size_t(((c / kPanel) * k + r) * kPanel + c % kPanel)] = w[size_t(r * n + c)];
  return p;
}

void dense(const float *x, const float *w, float *y, int64_t k, int64_t n) {
  slm_gemm_f32_args_t a{1, n, k, x, k, w, n, y, n, 0, n, 0};
  slm_gemm_f32__avx512f(&a);
}

void densePanels(const float *x, const float *w, float *y, int64_t k, int64_t n) {
  for (int64_t p0 = 0; p0 < n; p0 += kPanel) {
    int64_t nn = n - p0 < kPanel ? n - p0 : kPanel;
    slm_gemm_f32_args_t a{1, nn, k, x, k, w + (p0 / kPanel) * k * kPanel, kPanel, y + p0, n, 0, nn, 0};
    slm_gemm_f32__avx512f(&a);
  }
}

void sparse(const float *x, const slmc::Sp24Packed &s, float *y, int64_t k, int64_t n) {
  slm_sp24_f32_args_t a{1, k, s.kp, n, x, k, s.values.data(), s.indices.data(), y, n, 0, s.panels};
  slm_sp24_f32__avx512f(&a);
}

// Aborts when the three kernels disagree on the 2:4-pruned matrix: a fast wrong kernel must not
// produce a number.
void check(int64_t k, int64_t n) {
  std::vector<float> w = randomMatrix(k, n, 7);
  slmc::Sp24Packed s = slmc::packSp24(w.data(), k, n, false, nullptr);
  std::vector<float> pruned(w.size(), 0.0f); // the dense matrix the packed form encodes
  int64_t groups = s.kp / 4;
  for (int64_t c = 0; c < n; ++c)
    for (int64_t g = 0; g < groups; ++g) {
      int64_t base = (c / 64) * groups + g;
      uint8_t b = s.indices[size_t(base * 64 + c % 64)];
      for (int j = 0; j < 2; ++j) {
        int64_t r = 4 * g + ((j ? b >> 4 : b) & 3);
        if (r < k) pruned[size_t(r * n + c)] = s.values[size_t(base * 128 + j * 64 + c % 64)];
      }
    }
  std::vector<float> x(static_cast<size_t>(k)), y0(static_cast<size_t>(n)), y1(y0), y2(y0);
  std::mt19937 rng(3);
  std::normal_distribution<float> d;
  for (float &v : x) v = d(rng);
  dense(x.data(), pruned.data(), y0.data(), k, n);
  densePanels(x.data(), panelPack(pruned, k, n).data(), y1.data(), k, n);
  sparse(x.data(), s, y2.data(), k, n);
  for (int64_t i = 0; i < n; ++i) {
    float tol = 1e-4f * (1 + std::fabs(y0[size_t(i)]));
    if (!(std::fabs(y1[size_t(i)] - y0[size_t(i)]) <= tol) || !(std::fabs(y2[size_t(i)] - y0[size_t(i)]) <= tol)) {
      std::fprintf(stderr, "sparse24: mismatch at %lld: dense %g, panels %g, 2:4 %g\n", (long long)i, y0[size_t(i)],
                   y1[size_t(i)], y2[size_t(i)]);
      std::abort();
    }
  }
}

// Copies in the ring: enough that the ring exceeds a 32 MiB L3 several times over.
int64_t ringSize(int64_t bytesPerCopy, bool cold) { return cold ? std::max<int64_t>(2, (256 << 20) / bytesPerCopy) : 1; }

template <class Weight, class Make, class Run>
void timeRing(benchmark::State &state, int64_t bytes, Make make, Run run) {
  int64_t k = state.range(0), n = state.range(1);
  check(k, n);
  int64_t copies = ringSize(bytes, state.range(2) != 0);
  std::vector<Weight> ws;
  for (int64_t c = 0; c < copies; ++c) ws.push_back(make(randomMatrix(k, n, unsigned(c))));
  std::vector<float> x(static_cast<size_t>(k), 0.5f), y(static_cast<size_t>(n));
  int64_t i = 0;
  for (auto _ : state) {
    run(x.data(), ws[size_t(i++ % copies)], y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GB/s"] =
      benchmark::Counter(double(bytes), benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

void BM_Dense(benchmark::State &state) {
  int64_t k = state.range(0), n = state.range(1);
  timeRing<std::vector<float>>(
      state, 4 * k * n, [](std::vector<float> w) { return w; },
      [k, n](const float *x, const std::vector<float> &w, float *y) { dense(x, w.data(), y, k, n); });
}

void BM_DensePanel(benchmark::State &state) {
  int64_t k = state.range(0), n = state.range(1);
  timeRing<std::vector<float>>(
      state, 4 * k * n, [k, n](const std::vector<float> &w) { return panelPack(w, k, n); },
      [k, n](const float *x, const std::vector<float> &w, float *y) { densePanels(x, w.data(), y, k, n); });
}

void BM_Sparse24(benchmark::State &state) {
  int64_t k = state.range(0), n = state.range(1);
  timeRing<slmc::Sp24Packed>(
      state, slmc::sp24Bytes(k, n),
      [k, n](const std::vector<float> &w) { return slmc::packSp24(w.data(), k, n, false, nullptr); },
      [k, n](const float *x, const slmc::Sp24Packed &s, float *y) { sparse(x, s, y, k, n); });
}

// 220M LM FFN: gate/up 960 -> 2560, down 2560 -> 960; hot and cold.
void Shapes(benchmark::internal::Benchmark *b) {
  for (int cold : {0, 1}) b->Args({960, 2560, cold})->Args({2560, 960, cold});
  b->ArgNames({"K", "N", "cold"});
}

BENCHMARK(BM_Dense)->Apply(Shapes);
BENCHMARK(BM_DensePanel)->Apply(Shapes);
BENCHMARK(BM_Sparse24)->Apply(Shapes);

} // namespace

BENCHMARK_MAIN();
