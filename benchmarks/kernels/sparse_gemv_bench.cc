// Unstructured sparse fp32 matmul (slm.matmul_sparse, --prune=magnitude:S) against the dense panel
// kernel and 2:4, all as shipped, on the 220M LM's FFN shapes: from which S does sparse storage pay,
// for decode (M = 1) and for prefill (M = 16, 64)?
//
//   DensePanel  slm_gemm_f32__avx512f over 32-column panels [N/32][K][32], as the emitter packs
//               constant fused_matmul weights (gemm_f32_matmul.cc run_panels);
//   Sparse      slm_sparse_f32__avx512f on packSparse's layout (targets/common/sparse_f32.h) of a
//               magnitude-pruned matrix at sparsity S (per mille in the name: S=700 is 0.7);
//               0.1 and 0.2 locate the break-even for decode;
//   Sparse24    slm_sp24_f32__avx512f on packSp24's layout (targets/common/sp24_f32.h).
// "cold": a ring of copies larger than the 32 MiB L3, as when every layer's weights stream from
// DRAM (decode of any real model); "hot": one cache-resident matrix. Single thread.
#include "gemm_f32.h"
#include "passes/prune/Sp24Pack.h"
#include "passes/prune/SparsePack.h"
#include "sp24_f32.h"
#include "sparse_f32.h"

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

namespace {

constexpr int64_t kPanel = SLM_GEMM_F32_PANEL;

std::vector<float> randomMatrix(int64_t k, int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 0.02f);
  std::vector<float> w(size_t(k * n));
  for (float &v : w)
    v = d(rng);
  return w;
}

std::vector<float> panelPack(const std::vector<float> &w, int64_t k, int64_t n) {
  std::vector<float> p(size_t((n + kPanel - 1) / kPanel * k * kPanel), 0.0f);
  for (int64_t c = 0; c < n; ++c)
    for (int64_t r = 0; r < k; ++r)
      p[size_t(((c / kPanel) * k + r) * kPanel + c % kPanel)] = w[size_t(r * n + c)];
  return p;
}

void densePanels(const float *x, int64_t m, const float *w, float *y, int64_t k, int64_t n) {
  for (int64_t p0 = 0; p0 < n; p0 += kPanel) {
    int64_t nn = n - p0 < kPanel ? n - p0 : kPanel;
    slm_gemm_f32_args_t a{m, nn, k, x, k, w + (p0 / kPanel) * k * kPanel, kPanel, y + p0, n, 0, nn, 0};
    slm_gemm_f32__avx512f(&a);
  }
}

void sparse(const float *x, int64_t m, const slmc::SparsePacked &s, float *y, int64_t k, int64_t n) {
  slm_sparse_f32_args_t a{m, k, n, x, k, s.values.data(), s.masks.data(), s.offsets.data(), y, n, 0, s.panels};
  slm_sparse_f32__avx512f(&a);
}

void sparse24(const float *x, int64_t m, const slmc::Sp24Packed &s, float *y, int64_t k, int64_t n) {
  slm_sp24_f32_args_t a{m, k, s.kp, n, x, k, s.values.data(), s.indices.data(), y, n, 0, s.panels};
  slm_sp24_f32__avx512f(&a);
}

std::vector<float> pruned(std::vector<float> w, int64_t k, int64_t n, double s) {
  slmc::magnitudePrune(w.data(), k, n, false, s, nullptr);
  return w;
}

// Aborts when the sparse kernel and the dense one disagree on the pruned matrix: a fast wrong
// kernel must not produce a number.
void check(int64_t m, int64_t k, int64_t n, double s) {
  std::vector<float> w = pruned(randomMatrix(k, n, 7), k, n, s);
  std::vector<float> x(size_t(m * k)), y0(size_t(m * n)), y1(y0);
  std::mt19937 rng(3);
  std::normal_distribution<float> d;
  for (float &v : x)
    v = d(rng);
  densePanels(x.data(), m, panelPack(w, k, n).data(), y0.data(), k, n);
  sparse(x.data(), m, slmc::packSparse(w.data(), k, n, false), y1.data(), k, n);
  for (size_t i = 0; i < y0.size(); ++i)
    if (!(std::fabs(y1[i] - y0[i]) <= 1e-4f * (1 + std::fabs(y0[i])))) {
      std::fprintf(stderr, "sparse: mismatch at %zu (S=%g): dense %g, sparse %g\n", i, s, y0[i], y1[i]);
      std::abort();
    }
}

// Copies in the ring: enough that the ring exceeds a 32 MiB L3 several times over.
int64_t ringSize(int64_t bytesPerCopy, bool cold) {
  return cold ? std::max<int64_t>(2, (256 << 20) / bytesPerCopy) : 1;
}

// The last ring built, kept across the repetitions of one benchmark (building a cold ring of
// pruned copies takes seconds).
template <class Weight> struct Ring {
  std::vector<int64_t> key;
  std::vector<Weight> copies;
  int64_t bytes = 0;
};

// Times run(x, w, y) over a ring of make(random matrix) copies; args K, N, M, cold, S per mille.
template <class Weight, class Make, class Bytes, class Run>
void timeRing(benchmark::State &state, Make make, Bytes bytesOf, Run run) {
  static Ring<Weight> ring;
  int64_t k = state.range(0), n = state.range(1), m = state.range(2);
  std::vector<int64_t> key{k, n, state.range(3), state.range(4)};
  if (ring.key != key) {
    ring.copies.clear();
    ring.copies.push_back(make(randomMatrix(k, n, 0)));
    ring.bytes = bytesOf(ring.copies[0]);
    for (int64_t c = 1; c < ringSize(ring.bytes, state.range(3) != 0); ++c)
      ring.copies.push_back(make(randomMatrix(k, n, unsigned(c))));
    ring.key = key;
  }
  std::vector<float> x(size_t(m * k), 0.5f), y(size_t(m * n));
  size_t i = 0;
  for (auto _ : state) {
    run(x.data(), m, ring.copies[i++ % ring.copies.size()], y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GB/s"] = benchmark::Counter(double(ring.bytes), benchmark::Counter::kIsIterationInvariantRate,
                                              benchmark::Counter::kIs1000);
  state.counters["MB"] = double(ring.bytes) / 1e6;
}

void BM_DensePanel(benchmark::State &state) {
  int64_t k = state.range(0), n = state.range(1);
  timeRing<std::vector<float>>(
      state, [k, n](const std::vector<float> &w) { return panelPack(w, k, n); },
      [](const std::vector<float> &w) { return int64_t(w.size() * 4); },
      [k, n](const float *x, int64_t m, const std::vector<float> &w, float *y) {
        densePanels(x, m, w.data(), y, k, n);
      });
}

void BM_Sparse(benchmark::State &state) {
  int64_t k = state.range(0), n = state.range(1);
  double s = double(state.range(4)) / 1000;
  check(state.range(2), k, n, s);
  timeRing<slmc::SparsePacked>(
      state,
      [k, n, s](const std::vector<float> &w) { return slmc::packSparse(pruned(w, k, n, s).data(), k, n, false); },
      [k, n](const slmc::SparsePacked &p) { return slmc::sparseBytes(k, n, int64_t(p.values.size())); },
      [k, n](const float *x, int64_t m, const slmc::SparsePacked &p, float *y) { sparse(x, m, p, y, k, n); });
}

void BM_Sparse24(benchmark::State &state) {
  int64_t k = state.range(0), n = state.range(1);
  timeRing<slmc::Sp24Packed>(
      state, [k, n](const std::vector<float> &w) { return slmc::packSp24(w.data(), k, n, false, nullptr); },
      [k, n](const slmc::Sp24Packed &) { return slmc::sp24Bytes(k, n); },
      [k, n](const float *x, int64_t m, const slmc::Sp24Packed &p, float *y) { sparse24(x, m, p, y, k, n); });
}

// 220M LM FFN: gate/up 960 -> 2560, down 2560 -> 960; decode (M = 1) hot and cold, prefill
// (M = 16, 64) cold.
void Shapes(benchmark::internal::Benchmark *b, std::vector<int64_t> sparsities) {
  for (auto [k, n] : {std::pair<int64_t, int64_t>{960, 2560}, {2560, 960}})
    for (auto [m, cold] : {std::pair<int64_t, int64_t>{1, 0}, {1, 1}, {16, 1}, {64, 1}})
      for (int64_t s : sparsities)
        b->Args({k, n, m, cold, s});
  b->ArgNames({"K", "N", "M", "cold", "S"});
}

BENCHMARK(BM_DensePanel)->Apply([](benchmark::internal::Benchmark *b) { Shapes(b, {0}); });
BENCHMARK(BM_Sparse)->Apply([](benchmark::internal::Benchmark *b) { Shapes(b, {100, 200, 300, 500, 700, 900}); });
BENCHMARK(BM_Sparse24)->Apply([](benchmark::internal::Benchmark *b) { Shapes(b, {500}); });

} // namespace

BENCHMARK_MAIN();
