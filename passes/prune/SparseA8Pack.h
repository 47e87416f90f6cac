// The masked-sparse weight of slm.matmul_a8_sparse (targets/common/sparse_s8.h) from slm.matmul_a8's dense strips,
// without MLIR: shared by slm-sparsify-a8, the kernel tests and the kernel benchmark.
#pragma once

#include <cstdint>
#include <vector>

namespace slmc {

struct SparseA8Packed {
  std::vector<uint8_t> values;   // [nonzero] the codes that are not the zero code, by strip, quad and tile byte
  std::vector<uint64_t> masks;   // [strips, kp / 4]
  std::vector<int64_t> offsets;  // [strips + 1]
  int64_t zeros = 0, total = 0;  // zero codes and all codes of the K x N weight (padding not counted)
};

// Repacks `dense` ([strips, strip_bytes] in matmul_a8's layout for `bits` 8 or 4: kp * 16 or kp * 8 bytes a strip)
// of a k x n weight padded to kp rows and 16-column strips. Padding rows and columns are left out of the masks
// whatever their bytes (their activations are 0 and their outputs are not stored).
SparseA8Packed packSparseA8(const uint8_t *dense, int64_t k, int64_t kp, int64_t n, int bits);

// Bytes of the sparse form (values + masks + offsets) and of the dense weight it replaces.
int64_t sparseA8Bytes(int64_t nonzero, int64_t kp, int64_t n);
int64_t denseA8Bytes(int64_t kp, int64_t n, int bits);

} // namespace slmc
