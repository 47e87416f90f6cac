// Masked-sparse packing for slm.matmul_a8_sparse (see SparseA8Pack.h and targets/common/sparse_s8.h).
#include "passes/prune/SparseA8Pack.h"

#include <cstddef>

namespace slmc {

namespace {
// Stored code u[4 * quad + j, column c] of a dense strip.
uint8_t denseCode(const uint8_t *strip, int64_t quad, int64_t c, int64_t j, int bits) {
  if (bits == 8) return strip[quad * 64 + 4 * c + j];
  uint8_t byte = strip[quad / 2 * 64 + 4 * c + j];
  return quad % 2 ? byte >> 4 : byte & 15;
}
} // namespace

SparseA8Packed packSparseA8(const uint8_t *dense, int64_t k, int64_t kp, int64_t n, int bits) {
  const int64_t strips = (n + 15) / 16, quads = kp / 4, stripBytes = bits == 8 ? kp * 16 : kp * 8;
  const uint8_t zero = bits == 8 ? 128 : 8;
  SparseA8Packed p;
  p.masks.assign(size_t(strips * quads), 0);
  p.offsets.push_back(0);
  p.total = k * n;
  for (int64_t s = 0; s < strips; ++s) {
    const uint8_t *strip = dense + s * stripBytes;
    for (int64_t i = 0; i < quads; ++i) {
      uint64_t mask = 0;
      for (int64_t b = 0; b < 64; ++b) {
        int64_t c = b / 4, j = b % 4;
        if (16 * s + c >= n || 4 * i + j >= k) continue;
        uint8_t u = denseCode(strip, i, c, j, bits);
        if (u == zero) {
          ++p.zeros;
          continue;
        }
        mask |= uint64_t(1) << b;
        p.values.push_back(u);
      }
      p.masks[size_t(s * quads + i)] = mask;
    }
    p.offsets.push_back(int64_t(p.values.size()));
  }
  return p;
}

int64_t sparseA8Bytes(int64_t nonzero, int64_t kp, int64_t n) {
  int64_t strips = (n + 15) / 16;
  return nonzero + strips * (kp / 4) * 8 + (strips + 1) * 8;
}

int64_t denseA8Bytes(int64_t kp, int64_t n, int bits) { return (n + 15) / 16 * (bits == 8 ? kp * 16 : kp * 8); }

} // namespace slmc
