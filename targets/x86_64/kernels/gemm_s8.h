/* gemm_s8.h — int8-activation matmul microkernels for x86-64 (the slm.matmul_a8 layout).
 *
 * C[m, n] = a_scale[m] * sum_g scale[g, n] * (sum_{k in g} A[m, k] * u[k, n] - off * a_sums[m, g])
 * for m < M and n in strips [strip_begin, strip_end) (16 columns each, columns >= N not stored),
 * where u is the stored unsigned weight code (int8 weights: code + 128, off = 128; int4: nibble
 * code + 8, off = 8) and A the per-row int8 activations from slm_quantize_row_s8__*.
 * Weight layout per 16-column strip (strip_bytes apart): int8, quad i of K at byte 64*i,
 * byte 4*c + j = u[4i + j, c]; int4, octet i at byte 64*i, byte 4*c + j = u[8i + j, c] | u[8i + 4 + j, c] << 4.
 * Scales: float16 [strips, groups, 16]. group is a multiple of 8, kp = groups * group.
 * Freestanding: no allocation, no OS calls, no globals; reentrant.
 */
#ifndef SLM_X86_GEMM_S8_H_
#define SLM_X86_GEMM_S8_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct slm_gemm_s8_args {
  int64_t M, kp, group, groups;
  const int8_t *A;         /* [M, kp], row stride lda */
  int64_t lda;
  const float *a_scale;    /* [M] */
  const int32_t *a_sums;   /* [M, groups] */
  const uint8_t *W;        /* strips of strip_bytes */
  int64_t strip_bytes;
  const uint16_t *scales;  /* float16 bits, [strips, groups, 16] */
  int bits;                /* 8 or 4 */
  float *C;                /* [M, ldc] */
  int64_t ldc, N;
  int64_t strip_begin, strip_end;
} slm_gemm_s8_args_t;

/* AVX-512 VNNI (vpdpbusd): 4 rows x 2 strips per block, 1 row x 4 strips for M = 1. */
void slm_gemm_s8__avx512vnni(const slm_gemm_s8_args_t *args);
/* AVX2 (vpmaddubsw + vpmaddwd): 2 rows x 1 strip per block. */
void slm_gemm_s8__avx2(const slm_gemm_s8_args_t *args);

/* One row, as slm::quantize_row_s8 (same bytes, same scale, same sums). */
void slm_quantize_row_s8__avx512(const float *x, int64_t k, int64_t kp, int64_t group, int8_t *q, float *scale,
                                 int32_t *sums);
void slm_quantize_row_s8__avx2(const float *x, int64_t k, int64_t kp, int64_t group, int8_t *q, float *scale,
                               int32_t *sums);

#ifdef __cplusplus
}
#endif

#endif /* SLM_X86_GEMM_S8_H_ */
