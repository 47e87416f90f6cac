/* gemm_f32.h — fp32 GEMM/GEMV microkernel entry points for x86-64, one per ISA level.
 *
 * C[m, n] (+)= sum_k A[m, k] * B[k, n] for n in [n_begin, n_end), all row-major with leading
 * dimensions lda/ldb/ldc. B is used in place (the artifact's constant layout), so the kernels
 * stream it row by row; callers split [0, N) across threads. accumulate=0 overwrites C.
 * Freestanding: no allocation, no OS calls, no globals; reentrant.
 */
#ifndef SLM_X86_GEMM_F32_H_
#define SLM_X86_GEMM_F32_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct slm_gemm_f32_args {
  int64_t M, N, K;
  const float *A;
  int64_t lda;
  const float *B;
  int64_t ldb;
  float *C;
  int64_t ldc;
  int64_t n_begin, n_end;
  int accumulate;
} slm_gemm_f32_args_t;

typedef void (*slm_gemm_f32_fn)(const slm_gemm_f32_args_t *args);

void slm_gemm_f32__avx2_fma(const slm_gemm_f32_args_t *args);
void slm_gemm_f32__avx512f(const slm_gemm_f32_args_t *args);

#ifdef __cplusplus
}
#endif

#endif /* SLM_X86_GEMM_F32_H_ */
