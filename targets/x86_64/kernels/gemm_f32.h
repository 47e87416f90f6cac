/* gemm_f32.h — fp32 GEMM/GEMV microkernel entry points for x86-64, one per ISA level.
 * The contract (arguments, semantics, freestanding rules) is targets/common/gemm_f32_ukernel.h.
 */
#ifndef SLM_X86_GEMM_F32_H_
#define SLM_X86_GEMM_F32_H_

#include "gemm_f32_ukernel.h"

#ifdef __cplusplus
extern "C" {
#endif

void slm_gemm_f32__avx2_fma(const slm_gemm_f32_args_t *args);
void slm_gemm_f32__avx512f(const slm_gemm_f32_args_t *args);
void slm_gemm_f32_nt__avx512f(const slm_gemm_f32_args_t *args);
int slm_act_f32__avx512f(int act, float *x, int64_t n);
/* slm.matmul_sp24: 2:4 sparse fp32 weights (targets/common/sp24_f32.h). */
struct slm_sp24_f32_args;
void slm_sp24_f32__avx512f(const struct slm_sp24_f32_args *args);
/* slm.matmul_sparse: unstructured sparse fp32 weights (targets/common/sparse_f32.h). */
struct slm_sparse_f32_args;
void slm_sparse_f32__avx512f(const struct slm_sparse_f32_args *args);
/* One slm.attention row (targets/common/attention_f32.h). */
struct slm_attention_row_args;
void slm_attention_row_f32__avx512f(const struct slm_attention_row_args *args);

#ifdef __cplusplus
}
#endif

#endif /* SLM_X86_GEMM_F32_H_ */
