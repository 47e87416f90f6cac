// Unstructured sparsity (`--prune=magnitude:S`): choosing the zeros, and the masked packing of
// slm.matmul_sparse (targets/common/sparse_f32.h), without MLIR: shared by slm-prune-magnitude,
// the unit tests and the kernel benchmark.
#pragma once

#include <cstdint>
#include <vector>

namespace slmc {

struct SparsePacked {
  int64_t panels = 0;           // 64-column panels
  std::vector<float> values;    // [nnz]
  std::vector<uint16_t> masks;  // [panels, K, 4]
  std::vector<int64_t> offsets; // [panels + 1]
};

// Packs w ([K, N] row-major, or [N, K] when transB): every nonzero is kept.
SparsePacked packSparse(const float *w, int64_t k, int64_t n, bool transB);

// Bytes of the packed form of a K x N weight with nnz nonzeros (values, masks, offsets).
inline int64_t sparseBytes(int64_t k, int64_t n, int64_t nnz) {
  int64_t panels = (n + 63) / 64;
  return nnz * 4 + panels * k * 8 + (panels + 1) * 8;
}

// Zeroes, in each column of w ([K, N] row-major, or [N, K] when transB), the round(s * K)
// weights of smallest |w| * actScale[k] (actScale null: |w|), ties dropping the higher k.
// Returns how many were zeroed.
int64_t magnitudePrune(float *w, int64_t k, int64_t n, bool transB, double s, const float *actScale);

// SparseGPT (unstructured) of w ([K, N] row-major, y = x @ w), in place: visiting the input rows in
// blocks of `block`, per column the round(s * live) weights of the block with the smallest
// w^2 / U[r][r]^2 are zeroed, and each zeroed weight's error is pushed onto the rows not yet
// visited through `u`, the upper Cholesky factor of (X^T X)^-1 of calibration inputs X (the GPTQ
// update). Returns how many were zeroed.
int64_t sparseGptUnstructured(float *w, int64_t k, int64_t n, double s, const std::vector<double> &u,
                              int64_t block = 32);

} // namespace slmc
