/* sparse_s8.h — the contract of slm.matmul_a8_sparse's ISA microkernels (slm.matmul_a8 with a
 * masked-sparse weight: pruned weights whose zeros quantized to the zero code).
 *
 * The same product as slm.matmul_a8 (gemm_s8_args.h): C[m, n] = sum_g as(m, g) * scale[g, n] *
 * (sum_{k in g} A[m, k] * u[k, n] - off * a_sums[m, g]), with the same activations, activation
 * scales, sums, float16 weight scales [strips, groups, 16], group and kp. Only the weight codes u
 * are stored differently. The dense form's 64-byte tile of strip s and quad i of K (byte 4*c + j =
 * u[4i + j, 16s + c]) is kept as a mask and the tile's bytes that are not the zero code:
 *   masks   [strips, kp / 4] uint64: bit 4*c + j of masks[s, i] <=> u[4i + j, 16s + c] != zero code
 *           (0 for padding columns and the rows k >= K of the padding to kp);
 *   offsets [strips + 1] int64: strip s's bytes are values[offsets[s] .. offsets[s + 1]), with
 *           offsets[0] = 0 and offsets[s + 1] - offsets[s] = the popcount of strip s's masks;
 *   values  [offsets[strips]] uint8: per strip, for i = 0 .. kp/4 - 1, the set bytes of tile i in
 *           byte order (ascending bit number).
 * The zero code (the code of a weight that quantized to 0, symmetric schemes only) is 128 for
 * bits = 8 and 8 for bits = 4, which equals the offset `off`. For bits = 4 each code takes a whole
 * byte here (0..15), not a nibble: the expanded tile is then an int8-layout tile, and one kernel
 * serves both widths. Size: nnz + K*N/8 bytes (masks) + 8 * (strips + 1), against K*N (int8) or
 * K*N/2 (int4) dense: smaller below 7/8 (int8) or 3/8 (int4) of the codes nonzero.
 * A kernel expands each tile from its mask (AVX-512 VBMI2 vpexpandb with a zero-code source) and
 * takes the dense kernel's dot product (vpdpbusd). The loader checks offsets against the masks'
 * popcounts, so a kernel may trust them.
 *
 * Columns n = 16 s + c < N of strips [strip_begin, strip_end), rows m < M.
 * Freestanding: no allocation, no OS calls, no globals; reentrant.
 */
#ifndef SLM_SPARSE_S8_H_
#define SLM_SPARSE_S8_H_

#include <stdint.h>

#include "gemm_s8_args.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct slm_sparse_s8_args {
  slm_gemm_s8_args_t gemm; /* everything but the weight: gemm.W and gemm.strip_bytes are unused */
  const uint8_t *values;   /* [offsets[strips]] */
  const uint64_t *masks;   /* [strips, gemm.kp / 4] */
  const int64_t *offsets;  /* [strips + 1] */
} slm_sparse_s8_args_t;

/* The zero code of the stored (unsigned, offset) weight codes: 128 (int8) or 8 (int4). */
static inline uint8_t slm_sparse_s8_zero_code(int bits) { return bits == 8 ? 128 : 8; }

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SLM_SPARSE_S8_H_ */
