/* matmul-wq-f16-avx512f.c — slm.matmul_hw for AVX-512F: float16 (vcvtph2ps) or bfloat16 (shift) weights widened in registers, 4 rows x 64 columns per block. */
#include "matmul_wq.h"

#include <immintrin.h>

static inline __mmask16 tail_mask(int64_t left) {
  return left >= 16 ? (__mmask16)0xffff : left <= 0 ? (__mmask16)0 : (__mmask16)((1u << left) - 1);
}

static inline __m512 widen(const uint16_t *p, __mmask16 m, int bf16) {
  __m256i h = _mm256_maskz_loadu_epi16(m, p);
  if (bf16) return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  return _mm512_cvtph_ps(h);
}

/* Rows [m, m + mr) x columns [n, n + 64) (masked past n_end). */
static inline __attribute__((always_inline)) void block(const slm_matmul_hw_args_t *p, int64_t m, int mr, int64_t n,
                                                        const __mmask16 mask[4], const int BF16) {
  __m512 acc[4][4];
  for (int r = 0; r < 4; ++r)
    for (int j = 0; j < 4; ++j) acc[r][j] = _mm512_setzero_ps();
  for (int64_t k = 0; k < p->K; ++k) {
    const uint16_t *row = p->W + k * p->ldw + n;
    __m512 w[4];
    for (int j = 0; j < 4; ++j) w[j] = widen(row + 16 * j, mask[j], BF16);
    for (int r = 0; r < 4; ++r) {
      if (r >= mr) break;
      __m512 x = _mm512_set1_ps(p->A[(m + r) * p->lda + k]);
      for (int j = 0; j < 4; ++j) acc[r][j] = _mm512_fmadd_ps(x, w[j], acc[r][j]);
    }
  }
  for (int r = 0; r < mr; ++r)
    for (int j = 0; j < 4; ++j)
      if (mask[j]) _mm512_mask_storeu_ps(p->C + (m + r) * p->ldc + n + 16 * j, mask[j], acc[r][j]);
}

void slm_matmul_wq_f16__avx512f(const slm_matmul_hw_args_t *p) {
  for (int64_t n = p->n_begin; n < p->n_end; n += 64) {
    __mmask16 mask[4];
    for (int j = 0; j < 4; ++j) mask[j] = tail_mask(p->n_end - (n + 16 * j));
    for (int64_t m = 0; m < p->M; m += 4) {
      int mr = p->M - m < 4 ? (int)(p->M - m) : 4;
      if (p->bf16)
        block(p, m, mr, n, mask, 1);
      else
        block(p, m, mr, n, mask, 0);
    }
  }
}
