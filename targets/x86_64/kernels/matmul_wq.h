/* matmul_wq.h — weight-only int8/int4 matmul microkernels for x86-64 (the slm.matmul_wq layout).
 *
 * C[m, n] = sum_k A[m, k] * scale[k/group, n] * (code(k, n) - zero(k/group, n)) for m < M and
 * n in [n_begin, n_end); n_begin is a multiple of 64. Codes follow slm.matmul_wq: int8 [K, N], or
 * int4 in 64-column blocks of 32 bytes (byte j: column j low nibble, column j+32 high nibble,
 * stored offset by 8). Scales are float16 [groups, N]; zeros (optional) ui8 [groups, N].
 * Freestanding: no allocation, no OS calls, no globals; reentrant.
 */
#ifndef SLM_X86_MATMUL_WQ_H_
#define SLM_X86_MATMUL_WQ_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct slm_matmul_wq_args {
  int64_t M, K, N;
  const float *A;
  int64_t lda;
  const uint8_t *W;
  int64_t ldw; /* bytes per weight row */
  const uint16_t *scales; /* float16 bits, [groups, N] */
  const uint8_t *zeros;   /* NULL: symmetric */
  int bits;               /* 4 or 8 */
  int64_t group;          /* > 0 */
  float *C;
  int64_t ldc;
  int64_t n_begin, n_end;
} slm_matmul_wq_args_t;

void slm_matmul_wq__avx512f(const slm_matmul_wq_args_t *args);

/* slm.matmul_hw: C[m, n] = sum_k A[m, k] * float(W[k, n]) for n in [n_begin, n_end), W float16 or
 * bfloat16 [K, ldw]. */
typedef struct slm_matmul_hw_args {
  int64_t M, K, N;
  const float *A;
  int64_t lda;
  const uint16_t *W;
  int64_t ldw; /* elements per weight row */
  int bf16;    /* 0: float16, 1: bfloat16 */
  float *C;
  int64_t ldc;
  int64_t n_begin, n_end;
} slm_matmul_hw_args_t;

void slm_matmul_wq_f16__avx512f(const slm_matmul_hw_args_t *args);

#ifdef __cplusplus
}
#endif

#endif /* SLM_X86_MATMUL_WQ_H_ */
