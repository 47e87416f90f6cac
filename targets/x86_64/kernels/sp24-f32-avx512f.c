/* sp24-f32-avx512f.c — slm.matmul_sp24 on AVX-512: 2:4 sparse fp32 weights, zeros skipped (targets/common/sp24_f32.h). */
#include "sp24_f32.h"

#include <immintrin.h>

static inline __mmask16 tail_mask(int64_t left) {
  return left >= 16 ? (__mmask16)0xffff : left <= 0 ? (__mmask16)0 : (__mmask16)((1u << left) - 1);
}

/* Rows [m, m + mr) (mr <= 4) x one 64-column panel: per 16 k, each row's x in one register; per
 * group and 16 columns the two kept values are loaded once and multiply every row's permuted x. */
static inline __attribute__((always_inline)) void panel(const slm_sp24_f32_args_t *p, int64_t m, int mr, int64_t pn,
                                                        const int MR) {
  int64_t groups = p->kp / 4;
  const float *v = p->values + pn * groups * 128;
  const uint8_t *ix = p->idx + pn * groups * 64;
  __m512 acc[4][4];
  for (int r = 0; r < MR; ++r)
    for (int b = 0; b < 4; ++b) acc[r][b] = _mm512_setzero_ps();
  for (int64_t kc = 0; kc < p->kp / 16; ++kc) {
    __m512 x[4];
    __mmask16 live = tail_mask(p->K - kc * 16);
    for (int r = 0; r < MR; ++r)
      x[r] = r < mr ? _mm512_maskz_loadu_ps(live, p->A + (m + r) * p->lda + kc * 16) : _mm512_setzero_ps();
    for (int j = 0; j < 4; ++j) {
      const float *vg = v + (kc * 4 + j) * 128;
      const uint8_t *ig = ix + (kc * 4 + j) * 64;
      for (int b = 0; b < 4; ++b) {
        __m512i i0 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(ig + b * 16)));
        __m512i i1 = _mm512_srli_epi32(i0, 4); /* vpermps reads the low 4 bits only */
        __m512 v0 = _mm512_loadu_ps(vg + b * 16), v1 = _mm512_loadu_ps(vg + 64 + b * 16);
        for (int r = 0; r < MR; ++r) {
          acc[r][b] = _mm512_fmadd_ps(v0, _mm512_permutexvar_ps(i0, x[r]), acc[r][b]);
          acc[r][b] = _mm512_fmadd_ps(v1, _mm512_permutexvar_ps(i1, x[r]), acc[r][b]);
        }
      }
    }
  }
  for (int r = 0; r < MR && r < mr; ++r)
    for (int b = 0; b < 4; ++b) {
      int64_t col = pn * 64 + b * 16;
      _mm512_mask_storeu_ps(p->C + (m + r) * p->ldc + col, tail_mask(p->N - col), acc[r][b]);
    }
}

void slm_sp24_f32__avx512f(const slm_sp24_f32_args_t *p) {
  for (int64_t pn = p->panel_begin; pn < p->panel_end; ++pn) {
    if (p->M == 1) {
      panel(p, 0, 1, pn, 1);
      continue;
    }
    for (int64_t m = 0; m < p->M; m += 4) panel(p, m, p->M - m < 4 ? (int)(p->M - m) : 4, pn, 4);
  }
}
