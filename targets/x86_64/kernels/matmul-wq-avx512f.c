/* matmul-wq-avx512f.c — int8/int4 weight-only matmul for AVX-512F: codes widened to float in registers, 4 rows share each unpack. */
#include "matmul_wq.h"

#include <immintrin.h>

enum { MR = 4, NB = 64 };

/* The 64 codes of weight row `row` for columns [n, n+64) as 4 float vectors (int4: unbiased 0..15). */
static inline void load_codes(const uint8_t *row, int64_t n, int bits, __m512 w[4]) {
  if (bits == 8) {
    for (int j = 0; j < 4; ++j)
      w[j] = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(row + n + 16 * j))));
    return;
  }
  __m256i bytes = _mm256_loadu_si256((const __m256i *)(row + n / 2));
  __m256i mask = _mm256_set1_epi8(15);
  __m256i lo = _mm256_and_si256(bytes, mask);
  __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), mask);
  w[0] = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm256_castsi256_si128(lo)));
  w[1] = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm256_extracti128_si256(lo, 1)));
  w[2] = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm256_castsi256_si128(hi)));
  w[3] = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm256_extracti128_si256(hi, 1)));
}

/* Per-column code offset subtracted via the group's activation sum: int4 stored codes are
 * offset by 8 (or by the stored zero point); int8 codes by zero - 128 when asymmetric. */
static inline __m512 code_offset(const slm_matmul_wq_args_t *p, int64_t g, int64_t n, __mmask16 valid) {
  if (!p->zeros) return _mm512_set1_ps(p->bits == 4 ? 8.0f : 0.0f);
  __m512 z = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(valid, p->zeros + g * p->N + n)));
  return p->bits == 4 ? z : _mm512_sub_ps(z, _mm512_set1_ps(128.0f));
}

/* Rows [m, m+mr) × columns [n, n+64): full 64-column block (N padded by the layout for int4;
 * int8 blocks past N are handled by the masked tail path). */
static void block(const slm_matmul_wq_args_t *p, int64_t m, int64_t mr, int64_t n, __mmask16 tail[4]) {
  __m512 acc[MR][4];
  for (int r = 0; r < MR; ++r)
    for (int j = 0; j < 4; ++j) acc[r][j] = _mm512_setzero_ps();
  for (int64_t k0 = 0, g = 0; k0 < p->K; k0 += p->group, ++g) {
    int64_t k1 = k0 + p->group < p->K ? k0 + p->group : p->K;
    __m512 part[MR][4];
    float xs[MR] = {0, 0, 0, 0};
    for (int r = 0; r < MR; ++r)
      for (int j = 0; j < 4; ++j) part[r][j] = _mm512_setzero_ps();
    for (int64_t k = k0; k < k1; ++k) {
      __m512 w[4];
      load_codes(p->W + k * p->ldw, n, p->bits, w);
      for (int r = 0; r < MR; ++r) {
        if (r >= mr) break;
        float x = p->A[(m + r) * p->lda + k];
        xs[r] += x;
        __m512 a = _mm512_set1_ps(x);
        for (int j = 0; j < 4; ++j) part[r][j] = _mm512_fmadd_ps(a, w[j], part[r][j]);
      }
    }
    for (int j = 0; j < 4; ++j) {
      if (!tail[j]) continue;
      int64_t col = n + 16 * j;
      __m512 s = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(tail[j], p->scales + g * p->N + col));
      __m512 off = code_offset(p, g, col, tail[j]);
      for (int r = 0; r < mr; ++r)
        acc[r][j] = _mm512_fmadd_ps(s, _mm512_fnmadd_ps(off, _mm512_set1_ps(xs[r]), part[r][j]), acc[r][j]);
    }
  }
  for (int r = 0; r < mr; ++r)
    for (int j = 0; j < 4; ++j)
      if (tail[j]) _mm512_mask_storeu_ps(p->C + (m + r) * p->ldc + n + 16 * j, tail[j], acc[r][j]);
}

void slm_matmul_wq__avx512f(const slm_matmul_wq_args_t *p) {
  for (int64_t n = p->n_begin; n < p->n_end; n += NB) {
    __mmask16 tail[4];
    for (int j = 0; j < 4; ++j) {
      int64_t left = p->n_end - (n + 16 * j);
      tail[j] = left >= 16 ? (__mmask16)0xffff : left <= 0 ? (__mmask16)0 : (__mmask16)((1u << left) - 1);
    }
    if (p->bits == 8 && (tail[3] != 0xffff)) {
      /* int8 rows are not padded: never read past column N. */
      for (int64_t m = 0; m < p->M; ++m)
        for (int64_t c = n; c < p->n_end && c < n + NB; ++c) {
          float acc = 0;
          for (int64_t k0 = 0, g = 0; k0 < p->K; k0 += p->group, ++g) {
            float part = 0, xs = 0;
            int64_t k1 = k0 + p->group < p->K ? k0 + p->group : p->K;
            for (int64_t k = k0; k < k1; ++k) {
              float x = p->A[m * p->lda + k];
              part += x * (float)(int8_t)p->W[k * p->ldw + c];
              xs += x;
            }
            float zero = p->zeros ? (float)p->zeros[g * p->N + c] - 128.0f : 0.0f;
            acc += _cvtsh_ss(p->scales[g * p->N + c]) * (part - zero * xs);
          }
          p->C[m * p->ldc + c] = acc;
        }
      continue;
    }
    for (int64_t m = 0; m < p->M; m += MR) block(p, m, p->M - m < MR ? p->M - m : MR, n, tail);
  }
}
