/* gemm_s8_args.h — the contract of slm.matmul_a8's ISA microkernels (every target's
 * `slm_gemm_s8__<isa>`).
 *
 * C[m, n] = sum_g as(m, g) * scale[g, n] * (sum_{k in g} A[m, k] * u[k, n] - off * a_sums[m, g])
 * for m < M and n in strips [strip_begin, strip_end) (16 columns each, columns >= N not stored),
 * where u is the stored unsigned weight code (int8 weights: code + 128, off = 128; int4: nibble
 * code + 8, off = 8), A the int8 activations from slm.quantize_rows (in [-127, 127]: -128 is outside the
 * contract, since the AVX2 kernel's sign trick would overflow on it), and as(m, g) the activation
 * scale: a_scale[m] for every group (per-row scales) or a_scale[m * groups + g] when
 * a_group_scales is set (one scale per row and group, as quantize_rows' `group_scales`).
 * Weight layout per 16-column strip (strip_bytes apart): int8, quad i of K at byte 64*i,
 * byte 4*c + j = u[4i + j, c]; int4, octet i at byte 64*i, byte 4*c + j = u[8i + j, c] | u[8i + 4 + j, c] << 4.
 * Scales: float16 [strips, groups, 16]. group is a multiple of 8, kp = groups * group.
 */
#ifndef SLM_GEMM_S8_ARGS_H_
#define SLM_GEMM_S8_ARGS_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct slm_gemm_s8_args {
  int64_t M, kp, group, groups;
  const int8_t *A;         /* [M, kp], row stride lda */
  int64_t lda;
  const float *a_scale;    /* [M], or [M, groups] when a_group_scales */
  int a_group_scales;
  const int32_t *a_sums;   /* [M, groups] */
  const uint8_t *W;        /* strips of strip_bytes */
  int64_t strip_bytes;
  const uint16_t *scales;  /* float16 bits, [strips, groups, 16] */
  int bits;                /* 8 or 4 */
  float *C;                /* [M, ldc] */
  int64_t ldc, N;
  int64_t strip_begin, strip_end;
} slm_gemm_s8_args_t;

/* off * sum wrapped to 32 bits, as the kernels' int32 lanes subtract it: a_sums come from the
 * artifact's graph (quantize_rows keeps |sum| <= 127 * group), and a hostile one may hold any int32,
 * so the product is formed unsigned rather than as a signed overflow. */
static inline int32_t slm_s8_offset_times_sum(int32_t off, int32_t sum) {
  return (int32_t)((uint32_t)off * (uint32_t)sum);
}

#ifdef __cplusplus
}
#endif

#endif /* SLM_GEMM_S8_ARGS_H_ */
