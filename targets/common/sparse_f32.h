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

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SLM_SPARSE_F32_H_ */
