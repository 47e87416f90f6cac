// The 2:4 weight packing of slm.matmul_sp24 (targets/common/sp24_f32.h), without MLIR: shared by
// slm-prune-24 and the kernel benchmark.
#pragma once

#include <cstdint>
#include <vector>

namespace slmc {

struct Sp24Packed {
  int64_t kp = 0, panels = 0;      // K padded to 16, 64-column panels
  std::vector<float> values;       // [panels, kp / 4, 2, 64]
  std::vector<uint8_t> indices;    // [panels, kp / 4, 64]
  double removed2 = 0, total2 = 0; // squared norms of the removed and of all weights
  int64_t removed = 0;             // weights set to zero (padding not counted)
};

// Packs w ([K, N] row-major, or [N, K] when transB) keeping, per column and group of four k, the
// two highest scores |w| * actScale[k] (actScale null: |w|), ties to the lower k.
Sp24Packed packSp24(const float *w, int64_t k, int64_t n, bool transB, const float *actScale);

// The weight packSp24 kept, in w's layout ([K, N], or [N, K] when transB): the dropped ones zero.
std::vector<float> unpackSp24(const Sp24Packed &s, int64_t k, int64_t n, bool transB);

// SparseGPT-style 2:4 of w ([K, N] row-major, y = x @ w), in place: visiting the input rows in
// order, in each group of four rows the two with the smallest w^2 / U[r][r]^2 of each column are
// zeroed (max(0, live - 2) of a partial last group, ties dropping the higher row), and each zeroed
// weight's error is pushed onto the rows not yet visited through `u`, the upper Cholesky factor of
// (X^T X)^-1 of calibration inputs X (the GPTQ update). Afterwards every group of every column has
// at most two nonzeros, which packSp24 by magnitude keeps as they are.
void sparseGpt24(float *w, int64_t k, int64_t n, const std::vector<double> &u);

// Bytes of the packed form (values + indices) of a K x N weight.
inline int64_t sp24Bytes(int64_t k, int64_t n) { return (n + 63) / 64 * ((k + 15) / 16 * 4) * (128 * 4 + 64); }

} // namespace slmc
