/* gemm_s8.h — int8-activation matmul microkernels for x86-64 (the slm.matmul_a8 layout of
 * targets/common/gemm_s8_args.h). Freestanding: no allocation, no OS calls, no globals; reentrant.
 */
#ifndef SLM_X86_GEMM_S8_H_
#define SLM_X86_GEMM_S8_H_

#include <stdint.h>

#include "gemm_s8_args.h"
#include "sparse_s8.h"

#ifdef __cplusplus
extern "C" {
#endif

/* AVX-512 VNNI (vpdpbusd): 4 rows x 2 strips per block, 1 row x 4 strips for M = 1. */
void slm_gemm_s8__avx512vnni(const slm_gemm_s8_args_t *args);
/* slm.matmul_a8_sparse (sparse_s8.h) on AVX-512 VBMI2 (vpexpandb) + VNNI: the blocks of slm_gemm_s8__avx512vnni. */
void slm_gemm_s8_sparse__avx512vbmi2(const slm_sparse_s8_args_t *args);
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
