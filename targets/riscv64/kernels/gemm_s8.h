/* gemm_s8.h — int8-activation matmul microkernel for riscv64 (slm.matmul_a8, the layout and contract of
 * targets/common/gemm_s8_args.h) and the RVV row quantizer of slm.quantize_rows. Freestanding: no
 * allocation, no OS calls, no globals; reentrant. Needs the V extension (RVV 1.0); any VLEN >= 128.
 */
#ifndef SLM_RISCV64_GEMM_S8_H_
#define SLM_RISCV64_GEMM_S8_H_

#include <stdint.h>

#include "gemm_s8_args.h"

#ifdef __cplusplus
extern "C" {
#endif

/* vle32 puts the 16 columns of a strip in 16 int32 lanes (4 int8 or 8 int4 codes each); shifts extract the
 * codes, vmacc.vx accumulates. 2 rows x 1 strip per block, 1 row x 2 strips for M = 1. W must be 4-byte
 * aligned (artifact weight segments are 64-byte aligned; strips are multiples of 64 bytes). */
void slm_gemm_s8__rvv(const slm_gemm_s8_args_t *args);

/* One row, as slm::quantize_row_s8 (same bytes, same scale, same sums). */
void slm_quantize_row_s8__rvv(const float *x, int64_t k, int64_t kp, int64_t group, int8_t *q, float *scale,
                              int32_t *sums);

#ifdef __cplusplus
}
#endif

#endif /* SLM_RISCV64_GEMM_S8_H_ */
