// 2:4 packing (packSp24) against the layout of targets/common/sp24_f32.h, the masked packing of
// unstructured sparsity (packSparse) against targets/common/sparse_f32.h and its load-time check,
// magnitude pruning, and SparseGPT (2:4 and unstructured) against magnitude on the layer-output
// error it is meant to reduce.
#include "passes/prune/SparsePack.h"
#include "passes/prune/Sp24Pack.h"
#include "passes/quant/WeightQuantizer.h"
#include "targets/common/sparse_f32.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

namespace {

std::vector<float> randomMatrix(int64_t rows, int64_t cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d;
  std::vector<float> m(size_t(rows * cols));
  for (float &v : m) v = d(rng);
  return m;
}

// The dense [K, N] matrix a packed form encodes.
std::vector<float> unpack(const slmc::Sp24Packed &s, int64_t k, int64_t n) {
  std::vector<float> w(size_t(k * n), 0.0f);
  int64_t groups = s.kp / 4;
  for (int64_t c = 0; c < n; ++c)
    for (int64_t g = 0; g < groups; ++g) {
      int64_t base = (c / 64) * groups + g;
      uint8_t b = s.indices[size_t(base * 64 + c % 64)];
      EXPECT_EQ((b & 15) / 4, g % 4) << "the low nibble's lane is not in group " << g;
      EXPECT_EQ((b >> 4) / 4, g % 4) << "the high nibble's lane is not in group " << g;
      int i0 = b & 3, i1 = (b >> 4) & 3;
      EXPECT_LT(i0, i1);
      for (int j = 0; j < 2; ++j) {
        int64_t r = 4 * g + (j ? i1 : i0);
        float v = s.values[size_t(base * 128 + j * 64 + c % 64)];
        if (r < k) w[size_t(r * n + c)] = v;
        else EXPECT_EQ(v, 0.0f) << "padding row " << r << " holds a value";
      }
    }
  return w;
}

TEST(Sp24Pack, KeepsTheTwoLargestOfEveryFourAlongK) {
  for (bool transB : {false, true})
    for (auto [k, n] : {std::pair<int64_t, int64_t>{16, 64}, {37, 70}, {64, 130}}) {
      SCOPED_TRACE("k=" + std::to_string(k) + " n=" + std::to_string(n) + (transB ? " transB" : ""));
      std::vector<float> w = randomMatrix(transB ? n : k, transB ? k : n, unsigned(k * n));
      auto at = [&](int64_t r, int64_t c) { return transB ? w[size_t(c * k + r)] : w[size_t(r * n + c)]; };
      slmc::Sp24Packed s = slmc::packSp24(w.data(), k, n, transB, nullptr);
      ASSERT_EQ(s.kp % 16, 0);
      ASSERT_EQ(int64_t(s.values.size()), (n + 63) / 64 * s.kp / 4 * 128);
      ASSERT_EQ(int64_t(s.values.size() * 4 + s.indices.size()), slmc::sp24Bytes(k, n));
      std::vector<float> d = unpack(s, k, n);
      int64_t removed = 0;
      for (int64_t c = 0; c < n; ++c)
        for (int64_t g0 = 0; g0 < k; g0 += 4) {
          int64_t live = std::min<int64_t>(4, k - g0);
          std::vector<float> mags;
          for (int64_t r = g0; r < g0 + live; ++r) mags.push_back(std::fabs(at(r, c)));
          std::sort(mags.rbegin(), mags.rend());
          for (int64_t r = g0; r < g0 + live; ++r) {
            float kept = d[size_t(r * n + c)];
            if (kept != 0.0f) {
              EXPECT_EQ(kept, at(r, c));
              EXPECT_GE(std::fabs(kept), mags[std::min<size_t>(1, mags.size() - 1)]);
            } else {
              ++removed;
            }
          }
        }
      EXPECT_EQ(removed, s.removed);
    }
}

// Correlated calibration rows X [rows, k] and U, the upper Cholesky factor of (X^T X + damping)^-1.
struct Calibration {
  int64_t rows, k;
  std::vector<double> x, u;
  Calibration(int64_t rows_, int64_t k_) : rows(rows_), k(k_), x(size_t(rows_ * k_), 0.0) {
    std::vector<float> z = randomMatrix(rows, k, 1), mix = randomMatrix(k, k, 2);
    std::vector<double> h(size_t(k * k), 0.0);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t a = 0; a < k; ++a)
        for (int64_t b = 0; b < k; ++b) x[size_t(r * k + a)] += double(z[size_t(r * k + b)]) * mix[size_t(b * k + a)];
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t a = 0; a < k; ++a)
        for (int64_t b = 0; b < k; ++b) h[size_t(a * k + b)] += x[size_t(r * k + a)] * x[size_t(r * k + b)];
    double diag = 0;
    for (int64_t a = 0; a < k; ++a) diag += h[size_t(a * k + a)] / double(k);
    for (int64_t a = 0; a < k; ++a) h[size_t(a * k + a)] += 0.01 * diag;
    EXPECT_TRUE(slmc::inverseCholeskyUpper(h, k, &u));
  }
  // ||X W - X W'||^2 for [k, n] row-major weights.
  double outputError(const std::vector<float> &w, const std::vector<float> &wp, int64_t n) const {
    double e = 0;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < n; ++c) {
        double d = 0;
        for (int64_t a = 0; a < k; ++a) d += x[size_t(r * k + a)] * (double(w[size_t(a * n + c)]) - wp[size_t(a * n + c)]);
        e += d * d;
      }
    return e;
  }
};

// y = X W on correlated calibration rows: SparseGPT-style 2:4 must leave at most two nonzeros in
// every group and give a smaller ||X W - X W'|| than magnitude 2:4 (its reason to exist).
TEST(Sp24Pack, SparseGptBeatsMagnitudeOnTheLayerOutput) {
  const int64_t k = 48, n = 40;
  Calibration cal(256, k);
  ASSERT_FALSE(cal.u.empty());
  const std::vector<double> &u = cal.u;
  std::vector<float> w = randomMatrix(k, n, 3);
  std::vector<float> sgpt = w;
  slmc::sparseGpt24(sgpt.data(), k, n, u);
  std::vector<float> mag = unpack(slmc::packSp24(w.data(), k, n, false, nullptr), k, n);
  for (int64_t c = 0; c < n; ++c)
    for (int64_t g0 = 0; g0 < k; g0 += 4) {
      int nonzero = 0;
      for (int64_t r = g0; r < g0 + 4; ++r) nonzero += sgpt[size_t(r * n + c)] != 0.0f;
      ASSERT_LE(nonzero, 2) << "column " << c << " group " << g0 / 4;
    }
  // Packing the compensated weight by magnitude keeps exactly its nonzeros.
  EXPECT_EQ(unpack(slmc::packSp24(sgpt.data(), k, n, false, nullptr), k, n), sgpt);
  double eg = cal.outputError(w, sgpt, n), em = cal.outputError(w, mag, n);
  EXPECT_LT(eg, 0.8 * em) << "SparseGPT " << eg << " vs magnitude " << em;
}

// The dense [K, N] matrix a masked form encodes, walking the layout as sparse_f32.h states it.
std::vector<float> unpackMasked(const slmc::SparsePacked &s, int64_t k, int64_t n) {
  std::vector<float> w(size_t(k * n), 0.0f);
  for (int64_t p = 0; p < s.panels; ++p) {
    int64_t v = s.offsets[size_t(p)];
    for (int64_t r = 0; r < k; ++r)
      for (int64_t b = 0; b < 4; ++b)
        for (int64_t c = 0; c < 16; ++c)
          if (s.masks[size_t((p * k + r) * 4 + b)] >> c & 1) {
            int64_t col = 64 * p + 16 * b + c;
            EXPECT_LT(col, n) << "a padding column is marked nonzero";
            if (col < n) w[size_t(r * n + col)] = s.values[size_t(v)];
            ++v;
          }
    EXPECT_EQ(v, s.offsets[size_t(p + 1)]) << "panel " << p;
  }
  return w;
}

TEST(SparsePack, PacksEveryNonzeroInMaskOrder) {
  for (bool transB : {false, true})
    for (auto [k, n] : {std::pair<int64_t, int64_t>{1, 1}, {7, 15}, {33, 64}, {40, 130}})
      for (double zeros : {0.0, 0.5, 0.9, 1.0}) {
        SCOPED_TRACE("k=" + std::to_string(k) + " n=" + std::to_string(n) + " zeros=" + std::to_string(zeros) +
                     (transB ? " transB" : ""));
        std::vector<float> w = randomMatrix(transB ? n : k, transB ? k : n, unsigned(k * n));
        std::mt19937 rng(7);
        std::uniform_real_distribution<double> coin;
        int64_t nnz = 0;
        for (float &v : w) {
          if (coin(rng) < zeros) v = 0.0f;
          nnz += v != 0.0f;
        }
        slmc::SparsePacked s = slmc::packSparse(w.data(), k, n, transB);
        ASSERT_EQ(int64_t(s.values.size()), nnz);
        ASSERT_EQ(int64_t(s.values.size() * 4 + s.masks.size() * 2 + s.offsets.size() * 8), slmc::sparseBytes(k, n, nnz));
        std::vector<float> d = unpackMasked(s, k, n);
        for (int64_t r = 0; r < k; ++r)
          for (int64_t c = 0; c < n; ++c)
            ASSERT_EQ(d[size_t(r * n + c)], transB ? w[size_t(c * k + r)] : w[size_t(r * n + c)]) << r << "," << c;
        EXPECT_EQ(slm_masked_layout_bad_unit(reinterpret_cast<const uint8_t *>(s.masks.data()), k * 8, s.offsets.data(),
                                             s.panels, nnz),
                  -1);
      }
}

// The loader's check (slm_masked_layout_bad_unit) names the first panel whose offsets disagree with
// its masks: one flipped mask bit, a shifted offset, a wrong value count.
TEST(SparsePack, LayoutCheckFindsTheBadPanel) {
  const int64_t k = 20, n = 200; // 4 panels
  std::vector<float> w = randomMatrix(k, n, 9);
  for (size_t i = 0; i < w.size(); i += 3) w[i] = 0.0f;
  slmc::SparsePacked s = slmc::packSparse(w.data(), k, n, false);
  auto check = [&](const slmc::SparsePacked &t, int64_t values) {
    return slm_masked_layout_bad_unit(reinterpret_cast<const uint8_t *>(t.masks.data()), k * 8, t.offsets.data(),
                                      t.panels, values);
  };
  int64_t nnz = int64_t(s.values.size());
  EXPECT_EQ(check(s, nnz), -1);
  slmc::SparsePacked bit = s;
  bit.masks[size_t((2 * k + 5) * 4 + 1)] ^= 1u << 3; // panel 2
  EXPECT_EQ(check(bit, nnz), 2);
  slmc::SparsePacked off = s;
  off.offsets[1] += 1; // panel 0 claims one value too many, panel 1 one too few
  EXPECT_EQ(check(off, nnz), 0);
  slmc::SparsePacked first = s;
  first.offsets[0] = 1;
  EXPECT_EQ(check(first, nnz), 0);
  EXPECT_EQ(check(s, nnz + 1), s.panels);
}

TEST(SparsePack, MagnitudeZeroesTheSmallestOfEachColumn) {
  for (bool transB : {false, true}) {
    const int64_t k = 50, n = 30;
    const double sparsity = 0.7; // round(35) per column
    std::vector<float> w = randomMatrix(transB ? n : k, transB ? k : n, 11), p = w;
    auto at = [&](const std::vector<float> &m, int64_t r, int64_t c) {
      return transB ? m[size_t(c * k + r)] : m[size_t(r * n + c)];
    };
    EXPECT_EQ(slmc::magnitudePrune(p.data(), k, n, transB, sparsity, nullptr), 35 * n);
    for (int64_t c = 0; c < n; ++c) {
      float maxDropped = 0, minKept = INFINITY;
      int64_t dropped = 0;
      for (int64_t r = 0; r < k; ++r) {
        if (at(p, r, c) == 0.0f) {
          ++dropped;
          maxDropped = std::max(maxDropped, std::fabs(at(w, r, c)));
        } else {
          EXPECT_EQ(at(p, r, c), at(w, r, c));
          minKept = std::min(minKept, std::fabs(at(w, r, c)));
        }
      }
      EXPECT_EQ(dropped, 35) << "column " << c;
      EXPECT_LE(maxDropped, minKept) << "column " << c;
    }
  }
}

// Unstructured SparseGPT: exactly round(s * 32) zeros per 32-row block and column, and a smaller
// layer-output error than magnitude at the same sparsity.
TEST(SparsePack, SparseGptBeatsMagnitudeOnTheLayerOutput) {
  const int64_t k = 64, n = 40;
  Calibration cal(256, k);
  ASSERT_FALSE(cal.u.empty());
  std::vector<float> w = randomMatrix(k, n, 3);
  for (double s : {0.5, 0.75}) {
    std::vector<float> sgpt = w, mag = w;
    EXPECT_EQ(slmc::sparseGptUnstructured(sgpt.data(), k, n, s, cal.u), int64_t(std::llround(s * 32)) * 2 * n);
    slmc::magnitudePrune(mag.data(), k, n, false, s, nullptr);
    for (int64_t c = 0; c < n; ++c)
      for (int64_t b0 = 0; b0 < k; b0 += 32) {
        int64_t zeros = 0;
        for (int64_t r = b0; r < b0 + 32; ++r) zeros += sgpt[size_t(r * n + c)] == 0.0f;
        ASSERT_EQ(zeros, std::llround(s * 32)) << "column " << c << " block " << b0 / 32;
      }
    // Measured: 0.5 -> 0.64x magnitude's error, 0.75 -> 0.82x.
    double eg = cal.outputError(w, sgpt, n), em = cal.outputError(w, mag, n);
    std::printf("sparsity %.2f: SparseGPT/magnitude output error %.3f\n", s, eg / em);
    EXPECT_LT(eg, (s < 0.6 ? 0.75 : 0.9) * em) << "sparsity " << s << ": SparseGPT " << eg << " vs magnitude " << em;
  }
}

} // namespace
