/* gemm_f32_ukernel.h — the contract every ISA's fp32 GEMM/GEMV microkernel implements.
 *
 * C[m, n] (+)= sum_k A[m, k] * B[k, n] for m in [0, M), n in [n_begin, n_end), all row-major with
 * leading dimensions lda/ldb/ldc. B is used in place (the artifact's constant layout), so the
 * kernels stream it row by row; callers split [0, N) across threads. accumulate=0 overwrites C.
 * M == 1 is the GEMV (decode) case. K == 0 writes zeros (or leaves C when accumulating).
 * Freestanding: no allocation, no OS calls, no globals; reentrant. Each ISA declares its entry
 * points `slm_gemm_f32__<isa>[_<feature>]` in targets/<isa>/kernels/gemm_f32.h.
 */
#ifndef SLM_GEMM_F32_UKERNEL_H_
#define SLM_GEMM_F32_UKERNEL_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Panel-packed weights: slmc compile stores a constant fp32 slm.fused_matmul weight [K, N] as
 * [ceil(N / 32), K, 32] (columns zero-padded to a multiple of 32, attribute `n` = N), so a panel is
 * a row-major [K, 32] matrix that streams contiguously. Kernels see one panel per call (B = the
 * panel, ldb = 32, columns [0, <= 32)). */
#define SLM_GEMM_F32_PANEL 32

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

/* The transposed-weight form (slm.fused_matmul trans_b, e.g. a tied embedding as the LM head):
 * C[m, n] (+)= sum_k A[m, k] * B[n, k], B row-major [N, K] with leading dimension ldb, same
 * arguments and rules otherwise. Optional per ISA (`slm_gemm_f32_nt__<isa>`). */
typedef void (*slm_gemm_f32_nt_fn)(const slm_gemm_f32_args_t *args);

/* Epilogue activations, vectorized: applies activation `act` to x[0:n] in place and returns 1, or
 * returns 0 without touching x for an activation it does not implement. Numbering: 2 gelu_erf,
 * 3 gelu_tanh, 4 silu, 5 sigmoid, 6 tanh (slm::Act in epilogue.h). Optional per ISA
 * (`slm_act_f32__<isa>`). */
typedef int (*slm_act_f32_fn)(int act, float *x, int64_t n);

#ifdef __cplusplus
}
#endif

#endif /* SLM_GEMM_F32_UKERNEL_H_ */
