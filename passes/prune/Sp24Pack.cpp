// 2:4 packing for slm.matmul_sp24 (see Sp24Pack.h and targets/common/sp24_f32.h).
#include "passes/prune/Sp24Pack.h"

#include <cmath>
#include <utility>

namespace slmc {

Sp24Packed packSp24(const float *w, int64_t k, int64_t n, bool transB, const float *actScale) {
  Sp24Packed s;
  s.kp = (k + 15) / 16 * 16;
  s.panels = (n + 63) / 64;
  int64_t groups = s.kp / 4;
  s.values.assign(size_t(s.panels * groups * 128), 0.0f);
  s.indices.assign(size_t(s.panels * groups * 64), 0);
  for (int64_t col = 0; col < s.panels * 64; ++col)
    for (int64_t g = 0; g < groups; ++g) {
      double score[4];
      float val[4];
      bool live[4];
      for (int i = 0; i < 4; ++i) {
        int64_t r = 4 * g + i;
        live[i] = r < k && col < n;
        val[i] = live[i] ? w[transB ? col * k + r : r * n + col] : 0.0f;
        score[i] = std::fabs(double(val[i])) * (live[i] && actScale ? double(actScale[r]) : 1.0);
      }
      int i0 = 0, i1 = 1; // the two best, ties to the lower k
      if (score[1] > score[0]) std::swap(i0, i1);
      for (int i = 2; i < 4; ++i) {
        if (score[i] > score[i0]) i1 = i0, i0 = i;
        else if (score[i] > score[i1]) i1 = i;
      }
      if (i0 > i1) std::swap(i0, i1);
      for (int i = 0; i < 4; ++i) {
        s.total2 += double(val[i]) * val[i];
        if (i != i0 && i != i1 && live[i]) s.removed2 += double(val[i]) * val[i], ++s.removed;
      }
      int64_t base = (col / 64) * groups + g, c = col % 64;
      s.values[size_t(base * 128 + c)] = val[i0];
      s.values[size_t(base * 128 + 64 + c)] = val[i1];
      int off = int(4 * (g % 4));
      s.indices[size_t(base * 64 + c)] = uint8_t((i0 + off) | ((i1 + off) << 4));
    }
  return s;
}

std::vector<float> unpackSp24(const Sp24Packed &s, int64_t k, int64_t n, bool transB) {
  std::vector<float> w(size_t(k * n), 0.0f);
  int64_t groups = s.kp / 4;
  for (int64_t col = 0; col < n; ++col)
    for (int64_t g = 0; g < groups; ++g) {
      int64_t base = (col / 64) * groups + g, c = col % 64;
      uint8_t idx = s.indices[size_t(base * 64 + c)];
      int64_t rows[2] = {4 * g + (idx & 3), 4 * g + (idx >> 4 & 3)};
      for (int j = 0; j < 2; ++j)
        if (rows[j] < k) w[size_t(transB ? col * k + rows[j] : rows[j] * n + col)] = s.values[size_t(base * 128 + 64 * j + c)];
    }
  return w;
}

void sparseGpt24(float *w, int64_t k, int64_t n, const std::vector<double> &u) {
  std::vector<uint8_t> drop(static_cast<size_t>(n)); // per column: bit i = row g0 + i is zeroed
  std::vector<double> err(static_cast<size_t>(n));
  for (int64_t g0 = 0; g0 < k; g0 += 4) {
    int live = int(k - g0 < 4 ? k - g0 : 4), dropCount = live > 2 ? live - 2 : 0;
    for (int64_t c = 0; c < n; ++c) {
      double score[4];
      for (int i = 0; i < live; ++i) {
        double d = u[size_t((g0 + i) * k + g0 + i)], v = w[(g0 + i) * n + c];
        score[i] = v * v / (d * d);
      }
      uint8_t bits = 0;
      for (int t = 0; t < dropCount; ++t) { // the smallest remaining score, the higher row on ties
        int best = -1;
        for (int i = 0; i < live; ++i)
          if (!(bits >> i & 1) && (best < 0 || score[i] <= score[best])) best = i;
        bits = uint8_t(bits | 1 << best);
      }
      drop[size_t(c)] = bits;
    }
    for (int i = 0; i < live; ++i) {
      int64_t r = g0 + i;
      double d = u[size_t(r * k + r)];
      for (int64_t c = 0; c < n; ++c) {
        bool zero = drop[size_t(c)] >> i & 1;
        err[size_t(c)] = zero ? double(w[r * n + c]) / d : 0.0;
        if (zero) w[r * n + c] = 0.0f;
      }
      for (int64_t j = r + 1; j < k; ++j) {
        double f = u[size_t(r * k + j)];
        if (f == 0) continue;
        float *row = w + j * n;
        for (int64_t c = 0; c < n; ++c) row[c] -= float(f * err[size_t(c)]);
      }
    }
  }
}

} // namespace slmc
