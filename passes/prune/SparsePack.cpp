// Unstructured sparsity: pruning and the masked packing of slm.matmul_sparse (see SparsePack.h and
// targets/common/sparse_f32.h).
#include "passes/prune/SparsePack.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace slmc {

SparsePacked packSparse(const float *w, int64_t k, int64_t n, bool transB) {
  SparsePacked s;
  s.panels = (n + 63) / 64;
  s.masks.assign(size_t(s.panels * k * 4), 0);
  s.offsets.assign(size_t(s.panels + 1), 0);
  for (int64_t p = 0; p < s.panels; ++p) {
    for (int64_t r = 0; r < k; ++r)
      for (int64_t b = 0; b < 4; ++b) {
        uint16_t mask = 0;
        for (int64_t c = 0; c < 16; ++c) {
          int64_t col = 64 * p + 16 * b + c;
          if (col >= n) break;
          float v = w[transB ? col * k + r : r * n + col];
          if (v == 0.0f) continue; // -0.0 too: a zero contributes nothing either way
          mask = uint16_t(mask | 1u << c);
          s.values.push_back(v);
        }
        s.masks[size_t((p * k + r) * 4 + b)] = mask;
      }
    s.offsets[size_t(p + 1)] = int64_t(s.values.size());
  }
  return s;
}

int64_t magnitudePrune(float *w, int64_t k, int64_t n, bool transB, double s, const float *actScale) {
  int64_t drop = std::llround(s * double(k)), zeroed = 0;
  if (drop <= 0) return 0;
  std::vector<int64_t> order(static_cast<size_t>(k));
  std::vector<double> score(static_cast<size_t>(k));
  for (int64_t c = 0; c < n; ++c) {
    auto at = [&](int64_t r) -> float & { return w[transB ? c * k + r : r * n + c]; };
    for (int64_t r = 0; r < k; ++r)
      score[size_t(r)] = std::fabs(double(at(r))) * (actScale ? double(actScale[r]) : 1.0);
    std::iota(order.begin(), order.end(), 0);
    // Smallest first; on ties the higher k goes first.
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return score[size_t(a)] < score[size_t(b)] || (score[size_t(a)] == score[size_t(b)] && a > b);
    });
    for (int64_t i = 0; i < std::min(drop, k); ++i) {
      float &v = at(order[size_t(i)]);
      zeroed += v != 0.0f;
      v = 0.0f;
    }
  }
  return zeroed;
}

int64_t sparseGptUnstructured(float *w, int64_t k, int64_t n, double s, const std::vector<double> &u,
                              int64_t block) {
  std::vector<uint8_t> drop(static_cast<size_t>(block * n)); // [row in block, column]
  std::vector<double> err(static_cast<size_t>(n)), score(static_cast<size_t>(block));
  std::vector<int64_t> order(static_cast<size_t>(block));
  int64_t zeroed = 0;
  for (int64_t b0 = 0; b0 < k; b0 += block) {
    int64_t live = std::min(block, k - b0), dropCount = std::llround(s * double(live));
    std::fill(drop.begin(), drop.end(), 0);
    for (int64_t c = 0; c < n && dropCount > 0; ++c) {
      for (int64_t i = 0; i < live; ++i) {
        double d = u[size_t((b0 + i) * k + b0 + i)], v = w[(b0 + i) * n + c];
        score[size_t(i)] = v * v / (d * d);
      }
      std::iota(order.begin(), order.begin() + live, 0);
      std::stable_sort(order.begin(), order.begin() + live, [&](int64_t a, int64_t b) {
        return score[size_t(a)] < score[size_t(b)] || (score[size_t(a)] == score[size_t(b)] && a > b);
      });
      for (int64_t i = 0; i < dropCount; ++i) drop[size_t(order[size_t(i)] * n + c)] = 1;
    }
    for (int64_t i = 0; i < live; ++i) {
      int64_t r = b0 + i;
      double d = u[size_t(r * k + r)];
      for (int64_t c = 0; c < n; ++c) {
        bool zero = drop[size_t(i * n + c)] != 0;
        err[size_t(c)] = zero ? double(w[r * n + c]) / d : 0.0;
        if (zero) zeroed += w[r * n + c] != 0.0f, w[r * n + c] = 0.0f;
      }
      for (int64_t j = r + 1; j < k; ++j) {
        double f = u[size_t(r * k + j)];
        if (f == 0) continue;
        float *row = w + j * n;
        for (int64_t c = 0; c < n; ++c) row[c] -= float(f * err[size_t(c)]);
      }
    }
  }
  return zeroed;
}

} // namespace slmc
