// 2:4 semi-structured fp32 GEMV (AVX-512, skips the zeros) against the dense AVX-512 GEMV
// microkernel on the 220M LM's FFN shapes: is 2:4 worth shipping for decode on this CPU?
//
// Format: W [K, N] with two nonzeros in every group of four consecutive k per column (magnitude
// 2:4: the two largest |w|). Packed in panels of 64 columns; per panel and group g the two kept
// values as [2][64] floats, then one byte per column: (i0 + 4*(g%4)) | (i1 + 4*(g%4)) << 4, the
// lanes of a 16-float x register (four groups) the values multiply. The kernel loads x 16 at a
// time, picks each column's x with vpermps and does two FMAs per group: half the weight bytes
// plus 1/8 for indices (0.5625x), the same FMA count as dense for half the k.
// "hot": one matrix, cache-resident after the first pass (32 MiB L3 here); "cold": a ring of
// copies larger than the L3, as in decode where every layer's weights stream from DRAM.
#include "gemm_f32.h"

#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

namespace {

struct Sp24 {
  int64_t k = 0, n = 0;
  std::vector<float> vals;   // [N/64][K/4][2][64]
  std::vector<uint8_t> idx;  // [N/64][K/4][64]
  std::vector<float> dense;  // the pruned matrix, dense [K, N], for the check
};

Sp24 pack(const std::vector<float> &w, int64_t k, int64_t n) {
  Sp24 s;
  s.k = k, s.n = n;
  int64_t groups = k / 4, panels = n / 64;
  s.vals.resize(size_t(panels * groups * 128));
  s.idx.resize(size_t(panels * groups * 64));
  s.dense.assign(size_t(k * n), 0.0f);
  for (int64_t p = 0; p < panels; ++p)
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t c = 0; c < 64; ++c) {
        int64_t col = p * 64 + c;
        int i0 = 0, i1 = 1;
        float a[4];
        for (int i = 0; i < 4; ++i) a[i] = std::fabs(w[size_t((g * 4 + i) * n + col)]);
        if (a[1] > a[0]) std::swap(i0, i1);
        for (int i = 2; i < 4; ++i) {
          if (a[i] > a[i0]) i1 = i0, i0 = i;
          else if (a[i] > a[i1]) i1 = i;
        }
        if (i0 > i1) std::swap(i0, i1);
        size_t base = size_t((p * groups + g) * 128);
        s.vals[base + size_t(c)] = w[size_t((g * 4 + i0) * n + col)];
        s.vals[base + 64 + size_t(c)] = w[size_t((g * 4 + i1) * n + col)];
        int off = int(4 * (g % 4));
        s.idx[size_t((p * groups + g) * 64 + c)] = uint8_t((i0 + off) | ((i1 + off) << 4));
        s.dense[size_t((g * 4 + i0) * n + col)] = w[size_t((g * 4 + i0) * n + col)];
        s.dense[size_t((g * 4 + i1) * n + col)] = w[size_t((g * 4 + i1) * n + col)];
      }
  return s;
}

// y[0, N) = x[0, K) @ W, K a multiple of 16, N of 64.
__attribute__((target("avx512f,fma"))) void gemv_sp24_avx512f(const float *x, const Sp24 &w, float *y) {
  int64_t groups = w.k / 4;
  for (int64_t p = 0; p < w.n / 64; ++p) {
    const float *v = w.vals.data() + p * groups * 128;
    const uint8_t *ix = w.idx.data() + p * groups * 64;
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    for (int64_t kc = 0; kc < w.k / 16; ++kc) {
      __m512 xv = _mm512_loadu_ps(x + kc * 16);
      for (int j = 0; j < 4; ++j) {
        const float *vg = v + (kc * 4 + j) * 128;
        const uint8_t *ig = ix + (kc * 4 + j) * 64;
        for (int b = 0; b < 4; ++b) {
          __m512i i0 = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(ig + b * 16)));
          __m512i i1 = _mm512_srli_epi32(i0, 4); // vpermps reads the low 4 bits only
          acc[b] = _mm512_fmadd_ps(_mm512_loadu_ps(vg + b * 16), _mm512_permutexvar_ps(i0, xv), acc[b]);
          acc[b] = _mm512_fmadd_ps(_mm512_loadu_ps(vg + 64 + b * 16), _mm512_permutexvar_ps(i1, xv), acc[b]);
        }
      }
    }
    for (int b = 0; b < 4; ++b) _mm512_storeu_ps(y + p * 64 + b * 16, acc[b]);
  }
}

// The same panel layout for a dense matrix ([N/64][K][64], contiguous per panel): separates the
// gain of skipping zeros from the gain of streaming one contiguous panel instead of the dense
// kernel's row-strided column blocks.
std::vector<float> panelPack(const std::vector<float> &w, int64_t k, int64_t n) {
  std::vector<float> p(w.size());
  for (int64_t q = 0; q < n / 64; ++q)
    for (int64_t r = 0; r < k; ++r)
      for (int64_t c = 0; c < 64; ++c) p[size_t((q * k + r) * 64 + c)] = w[size_t(r * n + q * 64 + c)];
  return p;
}

__attribute__((target("avx512f,fma"))) void gemv_panel_avx512f(const float *x, const float *w, float *y, int64_t k,
                                                                 int64_t n) {
  for (int64_t q = 0; q < n / 64; ++q) {
    const float *p = w + q * k * 64;
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    for (int64_t r = 0; r < k; ++r) {
      __m512 xr = _mm512_set1_ps(x[r]);
      for (int b = 0; b < 4; ++b) acc[b] = _mm512_fmadd_ps(_mm512_loadu_ps(p + r * 64 + b * 16), xr, acc[b]);
    }
    for (int b = 0; b < 4; ++b) _mm512_storeu_ps(y + q * 64 + b * 16, acc[b]);
  }
}

std::vector<float> randomMatrix(int64_t k, int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 0.02f);
  std::vector<float> w(size_t(k * n));
  for (float &v : w) v = d(rng);
  return w;
}

void dense(const float *x, const float *w, float *y, int64_t k, int64_t n) {
  slm_gemm_f32_args_t a{1, n, k, x, k, w, n, y, n, 0, n, 0};
  slm_gemm_f32__avx512f(&a);
}

// Aborts when the 2:4 kernel disagrees with the dense kernel on the pruned matrix: a fast wrong
// kernel must not produce a number.
void check(int64_t k, int64_t n) {
  Sp24 s = pack(randomMatrix(k, n, 7), k, n);
  std::vector<float> x(static_cast<size_t>(k)), y0(static_cast<size_t>(n)), y1(static_cast<size_t>(n));
  std::mt19937 rng(3);
  std::normal_distribution<float> d;
  for (float &v : x) v = d(rng);
  dense(x.data(), s.dense.data(), y0.data(), k, n);
  gemv_sp24_avx512f(x.data(), s, y1.data());
  std::vector<float> y2(static_cast<size_t>(n));
  gemv_panel_avx512f(x.data(), panelPack(s.dense, k, n).data(), y2.data(), k, n);
  for (int64_t i = 0; i < n; ++i) y1[size_t(i)] = std::fabs(y2[size_t(i)] - y0[size_t(i)]) > 1e-4f * (1 + std::fabs(y0[size_t(i)])) ? NAN : y1[size_t(i)];
  for (int64_t i = 0; i < n; ++i)
    if (!(std::fabs(y0[size_t(i)] - y1[size_t(i)]) <= 1e-4f * (1 + std::fabs(y0[size_t(i)])))) {
      std::fprintf(stderr, "sparse24: mismatch at %lld: dense %g, 2:4 %g (NaN: the panel kernel disagrees)\n", (long long)i, y0[size_t(i)], y1[size_t(i)]);
      std::abort();
    }
}

// Copies in the ring: enough that the ring exceeds a 32 MiB L3 several times over.
int64_t ringSize(int64_t bytesPerCopy, bool cold) { return cold ? std::max<int64_t>(2, (256 << 20) / bytesPerCopy) : 1; }

void BM_Dense(benchmark::State &state) {
  int64_t k = state.range(0), n = state.range(1);
  bool cold = state.range(2);
  int64_t copies = ringSize(k * n * 4, cold);
  std::vector<std::vector<float>> ws;
  for (int64_t c = 0; c < copies; ++c) ws.push_back(randomMatrix(k, n, unsigned(c)));
  std::vector<float> x(static_cast<size_t>(k), 0.5f), y(static_cast<size_t>(n));
  int64_t i = 0;
  for (auto _ : state) {
    dense(x.data(), ws[size_t(i++ % copies)].data(), y.data(), k, n);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GB/s"] = benchmark::Counter(4.0 * k * n, benchmark::Counter::kIsIterationInvariantRate,
                                              benchmark::Counter::kIs1000);
}

void BM_DensePanel(benchmark::State &state) {
  int64_t k = state.range(0), n = state.range(1);
  bool cold = state.range(2);
  int64_t copies = ringSize(k * n * 4, cold);
  std::vector<std::vector<float>> ws;
  for (int64_t c = 0; c < copies; ++c) ws.push_back(panelPack(randomMatrix(k, n, unsigned(c)), k, n));
  std::vector<float> x(static_cast<size_t>(k), 0.5f), y(static_cast<size_t>(n));
  int64_t i = 0;
  for (auto _ : state) {
    gemv_panel_avx512f(x.data(), ws[size_t(i++ % copies)].data(), y.data(), k, n);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GB/s"] = benchmark::Counter(4.0 * k * n, benchmark::Counter::kIsIterationInvariantRate,
                                              benchmark::Counter::kIs1000);
}

void BM_Sparse24(benchmark::State &state) {
  int64_t k = state.range(0), n = state.range(1);
  bool cold = state.range(2);
  check(k, n);
  int64_t copies = ringSize(k * n * 4 * 9 / 16, cold);
  std::vector<Sp24> ws;
  for (int64_t c = 0; c < copies; ++c) ws.push_back(pack(randomMatrix(k, n, unsigned(c)), k, n)), ws.back().dense = {};
  std::vector<float> x(static_cast<size_t>(k), 0.5f), y(static_cast<size_t>(n));
  int64_t i = 0;
  for (auto _ : state) {
    gemv_sp24_avx512f(x.data(), ws[size_t(i++ % copies)], y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GB/s"] = benchmark::Counter(4.0 * k * n * 9 / 16, benchmark::Counter::kIsIterationInvariantRate,
                                              benchmark::Counter::kIs1000);
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
