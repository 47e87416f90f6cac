/* sparse_f32.h — the contract of slm.matmul_sparse's ISA microkernels (unstructured sparse fp32
 * weights, `--prune=magnitude:S`).
 *
 * W [K, N] with any pattern of zeros. Columns are stored in panels of 64 (four blocks of 16, N
 * padded); per panel, k and block, a 16-bit mask says which of the block's columns are nonzero
 * and the nonzeros follow each other in the value stream:
 *   masks   [panels, K, 4] uint16: bit c of masks[p, k, b] <=> W[k, 64p + 16b + c] != 0 (0 for
 *           padding columns);
 *   offsets [panels + 1] int64: panel p's values are values[offsets[p] .. offsets[p + 1]), with
 *           offsets[0] = 0 and offsets[p + 1] - offsets[p] = the popcount of panel p's masks;
 *   values  [nnz] float: per panel, for k = 0 .. K-1 and b = 0 .. 3, the nonzeros of
 *           W[k, 64p + 16b .. 64p + 16b + 15] in column order.
 * A kernel expands each block's nonzeros into a register by its mask (AVX-512 vexpandps) and
 * multiplies it by the broadcast x[k]: (1 - S) of the weight bytes plus K * N / 8 for the masks.
 * The loader checks offsets against the masks' popcounts, so a kernel may trust them.
 *
 * C[m, n] = sum_k A[m, k] * W[k, n] for n = 64 p + c < N, m < M, panels [panel_begin, panel_end).
 * Freestanding: no allocation, no OS calls, no globals; reentrant.
 */
#ifndef SLM_SPARSE_F32_H_
#define SLM_SPARSE_F32_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct slm_sparse_f32_args {
  int64_t M, K, N;
  const float *A; /* [M, K], row stride lda */
  int64_t lda;
  const float *values;
  const uint16_t *masks;
  const int64_t *offsets;
  float *C; /* [M, ldc] */
  int64_t ldc;
  int64_t panel_begin, panel_end;
} slm_sparse_f32_args_t;

/* The loader's check of a masked layout (this one, or slm.matmul_a8_sparse's): `units` runs of
 * `unit_mask_bytes` mask bytes each; unit u's values must be [offsets[u], offsets[u + 1]), as many as
 * its masks' set bits, and offsets[units] must be `values`. Returns the first bad unit, or -1. */
static inline int64_t slm_masked_layout_bad_unit(const uint8_t *masks, int64_t unit_mask_bytes, const int64_t *offsets,
                                                 int64_t units, int64_t values) {
  if (offsets[0] != 0) return 0;
  for (int64_t u = 0; u < units; ++u) {
    const uint8_t *m = masks + u * unit_mask_bytes;
    int64_t bits = 0;
    for (int64_t i = 0; i < unit_mask_bytes; ++i) bits += __builtin_popcount(m[i]);
    /* offsets[u] is checked by the step before, so the subtraction cannot overflow */
    if (offsets[u + 1] < offsets[u] || offsets[u + 1] - offsets[u] != bits) return u;
  }
  return offsets[units] == values ? -1 : units;
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SLM_SPARSE_F32_H_ */
