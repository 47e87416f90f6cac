// slm.matmul_a8_sparse's AVX-512 VBMI2 kernel against the dense slm.matmul_a8 VNNI kernel on the same codes, the
// 220M LM's FFN shapes, decode (M = 1) and prefill (M = 16), 50% and 75% zero codes, w8a8 and w4a8 (group 32, one
// activation scale per row and group): is --prune + --quantize worth the masked form on this CPU?
//
//   Dense   slm_gemm_s8__avx512vnni on matmul_a8's strips (kp * 16 or kp * 8 bytes a strip);
//   Sparse  slm_gemm_s8_sparse__avx512vbmi2 on packSparseA8's layout (targets/common/sparse_s8.h): nnz + K*N/8 bytes.
// "hot": one matrix, cache-resident after the first pass; "cold": a ring of copies larger than the L3, as in decode
// where every layer's weights stream from DRAM. Single-threaded; the strip range is the whole matrix.
#include "gemm_s8.h"
#include "passes/prune/SparseA8Pack.h"
#include "sparse_s8.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

namespace {

constexpr int64_t kGroup = 32;

struct Weight {
  std::vector<uint8_t> dense;
  slmc::SparseA8Packed sparse;
  std::vector<uint16_t> scales;
};

// Random codes in matmul_a8's strip layout, each the zero code with probability `zeros`.
Weight makeWeight(int64_t k, int64_t n, int bits, double zeros, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u01(0, 1);
  const int64_t strips = (n + 15) / 16, stripBytes = bits == 8 ? k * 16 : k * 8;
  const uint8_t zero = slm_sparse_s8_zero_code(bits);
  Weight w;
  w.dense.assign(size_t(strips * stripBytes), bits == 8 ? zero : uint8_t(zero * 17));
  for (int64_t r = 0; r < k; ++r)
    for (int64_t col = 0; col < n; ++col) {
      uint8_t u = u01(rng) < zeros ? zero : uint8_t(rng() % (bits == 8 ? 256 : 16));
      uint8_t *strip = w.dense.data() + col / 16 * stripBytes;
      int64_t c = col % 16;
      if (bits == 8) {
        strip[r / 4 * 64 + 4 * c + r % 4] = u;
      } else {
        uint8_t &b = strip[r / 8 * 64 + 4 * c + r % 4];
        b = r % 8 < 4 ? uint8_t((b & 0xf0) | u) : uint8_t((b & 0x0f) | (u << 4));
      }
    }
  w.sparse = slmc::packSparseA8(w.dense.data(), k, k, n, bits);
  w.scales.assign(size_t(strips * (k / kGroup) * 16), 0x2000); // float16 2^-7
  return w;
}

struct Rows {
  std::vector<int8_t> q;
  std::vector<float> scale;
  std::vector<int32_t> sums;
};

Rows makeRows(int64_t m, int64_t k) {
  std::mt19937 rng(5);
  Rows r;
  r.q.resize(size_t(m * k));
  for (int8_t &v : r.q) v = int8_t(int(rng() % 255) - 127);
  r.scale.assign(size_t(m * (k / kGroup)), 1.0f / 127);
  r.sums.assign(size_t(m * (k / kGroup)), 0);
  for (int64_t i = 0; i < m * k; ++i) r.sums[size_t(i / kGroup)] += r.q[size_t(i)];
  return r;
}

slm_gemm_s8_args_t args(const Rows &r, const Weight &w, float *y, int64_t m, int64_t k, int64_t n, int bits) {
  slm_gemm_s8_args_t a{};
  a.M = m, a.kp = k, a.group = kGroup, a.groups = k / kGroup, a.A = r.q.data(), a.lda = k;
  a.a_scale = r.scale.data(), a.a_group_scales = 1, a.a_sums = r.sums.data();
  a.W = w.dense.data(), a.strip_bytes = bits == 8 ? k * 16 : k * 8, a.scales = w.scales.data(), a.bits = bits;
  a.C = y, a.ldc = n, a.N = n, a.strip_begin = 0, a.strip_end = (n + 15) / 16;
  return a;
}

void runDense(const Rows &r, const Weight &w, float *y, int64_t m, int64_t k, int64_t n, int bits) {
  slm_gemm_s8_args_t a = args(r, w, y, m, k, n, bits);
  slm_gemm_s8__avx512vnni(&a);
}

void runSparse(const Rows &r, const Weight &w, float *y, int64_t m, int64_t k, int64_t n, int bits) {
  slm_sparse_s8_args_t a{args(r, w, y, m, k, n, bits), w.sparse.values.data(), w.sparse.masks.data(),
                         w.sparse.offsets.data()};
  slm_gemm_s8_sparse__avx512vbmi2(&a);
}

// Aborts when the two kernels disagree: a fast wrong kernel must not produce a number.
void check(const Rows &r, const Weight &w, int64_t m, int64_t k, int64_t n, int bits) {
  std::vector<float> y0(size_t(m * n)), y1(y0);
  runDense(r, w, y0.data(), m, k, n, bits);
  runSparse(r, w, y1.data(), m, k, n, bits);
  for (size_t i = 0; i < y0.size(); ++i)
    if (!(std::fabs(y1[i] - y0[i]) <= 1e-5f * (1 + std::fabs(y0[i])))) {
      std::fprintf(stderr, "sparse_a8: mismatch at %zu: dense %g, sparse %g\n", i, y0[i], y1[i]);
      std::abort();
    }
}

// Args: K, N, M, zero codes in percent, bits, cold.
void BM_A8(benchmark::State &state, bool sparse) {
  int64_t k = state.range(0), n = state.range(1), m = state.range(2);
  double zeros = double(state.range(3)) / 100;
  int bits = int(state.range(4));
  bool cold = state.range(5) != 0;
  Weight first = makeWeight(k, n, bits, zeros, 1);
  Rows r = makeRows(m, k);
  check(r, first, m, k, n, bits);
  int64_t bytes = sparse ? slmc::sparseA8Bytes(int64_t(first.sparse.values.size()), k, n) : slmc::denseA8Bytes(k, n, bits);
  int64_t copies = cold ? std::max<int64_t>(2, (256 << 20) / bytes) : 1;
  std::vector<Weight> ws;
  ws.push_back(std::move(first));
  for (int64_t c = 1; c < copies; ++c) ws.push_back(makeWeight(k, n, bits, zeros, unsigned(c + 1)));
  std::vector<float> y(size_t(m * n));
  int64_t i = 0;
  for (auto _ : state) {
    const Weight &w = ws[size_t(i++ % copies)];
    if (sparse) runSparse(r, w, y.data(), m, k, n, bits);
    else runDense(r, w, y.data(), m, k, n, bits);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["weight_MB"] = double(bytes) / 1e6;
  state.counters["GB/s"] =
      benchmark::Counter(double(bytes), benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

void BM_Dense(benchmark::State &state) { BM_A8(state, false); }
void BM_Sparse(benchmark::State &state) { BM_A8(state, true); }

// 220M LM FFN: gate/up 960 -> 2560, down 2560 -> 960. Decode hot and cold, prefill (M = 16) hot.
void Shapes(benchmark::internal::Benchmark *b) {
  for (int bits : {8, 4})
    for (int zeros : {50, 75})
      for (auto kn : {std::pair<int, int>{960, 2560}, std::pair<int, int>{2560, 960}}) {
        b->Args({kn.first, kn.second, 1, zeros, bits, 0})->Args({kn.first, kn.second, 1, zeros, bits, 1});
        b->Args({kn.first, kn.second, 16, zeros, bits, 0});
      }
  b->ArgNames({"K", "N", "M", "zeros", "bits", "cold"});
}

BENCHMARK(BM_Dense)->Apply(Shapes);
BENCHMARK(BM_Sparse)->Apply(Shapes);

} // namespace

BENCHMARK_MAIN();
