// 2:4 packing (packSp24) against the layout of targets/common/sp24_f32.h, and SparseGPT-style 2:4
// (sparseGpt24) against magnitude 2:4 on the layer-output error it is meant to reduce.
#include "passes/prune/Sp24Pack.h"
#include "passes/quant/WeightQuantizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
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

// y = X W on correlated calibration rows: SparseGPT-style 2:4 must leave at most two nonzeros in
// every group and give a smaller ||X W - X W'|| than magnitude 2:4 (its reason to exist).
TEST(Sp24Pack, SparseGptBeatsMagnitudeOnTheLayerOutput) {
  const int64_t rows = 256, k = 48, n = 40;
  std::vector<float> z = randomMatrix(rows, k, 1), mix = randomMatrix(k, k, 2), w = randomMatrix(k, n, 3);
  std::vector<double> x(size_t(rows * k), 0.0), h(size_t(k * k), 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t a = 0; a < k; ++a)
      for (int64_t b = 0; b < k; ++b) x[size_t(r * k + a)] += double(z[size_t(r * k + b)]) * mix[size_t(b * k + a)];
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t a = 0; a < k; ++a)
      for (int64_t b = 0; b < k; ++b) h[size_t(a * k + b)] += x[size_t(r * k + a)] * x[size_t(r * k + b)];
  double diag = 0;
  for (int64_t a = 0; a < k; ++a) diag += h[size_t(a * k + a)] / double(k);
  for (int64_t a = 0; a < k; ++a) h[size_t(a * k + a)] += 0.01 * diag;
  std::vector<double> u;
  ASSERT_TRUE(slmc::inverseCholeskyUpper(h, k, &u));

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
  auto outputError = [&](const std::vector<float> &wp) {
    double e = 0;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < n; ++c) {
        double d = 0;
        for (int64_t a = 0; a < k; ++a) d += x[size_t(r * k + a)] * (double(w[size_t(a * n + c)]) - wp[size_t(a * n + c)]);
        e += d * d;
      }
    return e;
  };
  double eg = outputError(sgpt), em = outputError(mag);
  EXPECT_LT(eg, 0.8 * em) << "SparseGPT " << eg << " vs magnitude " << em;
}

} // namespace
