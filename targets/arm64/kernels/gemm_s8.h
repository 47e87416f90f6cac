/* gemm_s8.h — int8-activation matmul microkernels for arm64 (slm.matmul_a8, the layout and contract of
 * targets/common/gemm_s8_args.h), one per ISA feature, plus the NEON row quantizer of slm.quantize_rows.
 * Freestanding: no allocation, no OS calls, no globals; reentrant. Call one only on a CPU with its feature.
 */
#ifndef SLM_ARM64_GEMM_S8_H_
#define SLM_ARM64_GEMM_S8_H_

#include <stdint.h>

#include "gemm_s8_args.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Baseline NEON (smull/smlal + sadalp): 2 rows x 1 strip per block. */
void slm_gemm_s8__neon(const slm_gemm_s8_args_t *args);
/* NEON dot product (sdot, armv8.2-a+dotprod): 4 rows x 1 strip per block, 1 row x 2 strips for M = 1. */
void slm_gemm_s8__neondot(const slm_gemm_s8_args_t *args);
/* Int8 matrix multiply (usmmla, armv8.2-a+i8mm; the CPU must have dotprod too): 2 rows x 1 strip per
 * 2x8-by-8x2 block product; M = 1 goes to slm_gemm_s8__neondot. */
void slm_gemm_s8__neoni8mm(const slm_gemm_s8_args_t *args);

/* One row, as slm::quantize_row_s8 (same bytes, same scale, same sums). */
void slm_quantize_row_s8__neon(const float *x, int64_t k, int64_t kp, int64_t group, int8_t *q, float *scale,
                               int32_t *sums);

#ifdef __cplusplus
}
#endif

#endif /* SLM_ARM64_GEMM_S8_H_ */
