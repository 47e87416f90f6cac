/* sp24_f32.h — the contract of slm.matmul_sp24's ISA microkernels (2:4 semi-structured fp32 weights).
 *
 * W [K, N] keeps two nonzeros in every group of four consecutive k of a column. Stored in panels
 * of 64 columns (N padded) and groups of four k (K padded to kp, a multiple of 16):
 *   values [panels, kp / 4, 2, 64] float: per panel and group g, the group's two kept values of
 *          each column (lower k first), zeros for padding;
 *   idx    [panels, kp / 4, 64] uint8: per panel, group g and column c, (i0 + 4 * (g % 4)) |
 *          (i1 + 4 * (g % 4)) << 4, where i0 < i1 in [0, 4) are the kept values' rows in the group.
 * The byte's nibbles are each value's lane in the 16 activations k = 16 * (g / 4) ... + 15, so a
 * kernel loads x 16 at a time and picks each column's two inputs with one permute each: half the
 * weight bytes (+ 1/8 for indices) and half the multiply-adds of the dense matmul.
 *
 * C[m, n] = sum_g values[p, g, 0, c] * A[m, 4g + i0] + values[p, g, 1, c] * A[m, 4g + i1] for
 * n = 64 p + c < N, m < M, panels [panel_begin, panel_end); A entries at k >= K count as zero.
 * Freestanding: no allocation, no OS calls, no globals; reentrant.
 */
#ifndef SLM_SP24_F32_H_
#define SLM_SP24_F32_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct slm_sp24_f32_args {
  int64_t M, K, kp, N;
  const float *A; /* [M, K], row stride lda */
  int64_t lda;
  const float *values;
  const uint8_t *idx;
  float *C; /* [M, ldc] */
  int64_t ldc;
  int64_t panel_begin, panel_end;
} slm_sp24_f32_args_t;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SLM_SP24_F32_H_ */
