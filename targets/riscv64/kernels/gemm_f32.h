/* gemm_f32.h — fp32 GEMM/GEMV microkernel entry points for riscv64, one per ISA feature.
 * The contract (arguments, semantics, freestanding rules) is targets/common/gemm_f32_ukernel.h.
 */
#ifndef SLM_RISCV64_GEMM_F32_H_
#define SLM_RISCV64_GEMM_F32_H_

#include "gemm_f32_ukernel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Needs the V extension (RVV 1.0); any VLEN. */
void slm_gemm_f32__rvv(const slm_gemm_f32_args_t *args);

#ifdef __cplusplus
}
#endif

#endif /* SLM_RISCV64_GEMM_F32_H_ */
