/* gemm-s8-avx512vnni.c — slm.matmul_a8 on AVX-512 VNNI: u8 weight x s8 activation dot products (vpdpbusd), int32 per group, float across groups. */
#include "gemm_s8.h"

#include <immintrin.h>

/* Four consecutive activation bytes broadcast to every 32-bit lane. */
static inline __m512i bcast4(const int8_t *p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

static inline __mmask16 tail_mask(int64_t left) {
  return left >= 16 ? (__mmask16)0xffff : left <= 0 ? (__mmask16)0 : (__mmask16)((1u << left) - 1);
}

/* Rows [m, m + mr) (mr <= MR) x strips [s, s + NS). MR and NS are literals at every call, so the
 * accumulators stay in registers once inlined. The int32 dot of a group is exact; the stored-code
 * offset times the group's activation sum is removed before it is scaled into the float sum. */
static inline __attribute__((always_inline)) void block(const slm_gemm_s8_args_t *p, int64_t m, int mr, int64_t s,
                                                        const int MR, const int NS) {
  __m512 f[4][4];
  for (int r = 0; r < MR; ++r)
    for (int j = 0; j < NS; ++j) f[r][j] = _mm512_setzero_ps();
  const uint8_t *w[4];
  for (int j = 0; j < NS; ++j) w[j] = p->W + (s + j) * p->strip_bytes;
  const int8_t *a[4];
  for (int r = 0; r < MR; ++r) a[r] = p->A + (m + (r < mr ? r : 0)) * p->lda;
  const __m512i nib = _mm512_set1_epi8(15);
  const int32_t off = p->bits == 8 ? 128 : 8;
  for (int64_t g = 0; g < p->groups; ++g) {
    __m512i acc[4][4];
    for (int r = 0; r < MR; ++r)
      for (int j = 0; j < NS; ++j) acc[r][j] = _mm512_setzero_si512();
    int64_t k0 = g * p->group, k1 = k0 + p->group;
    if (p->bits == 8) {
      for (int64_t k = k0; k < k1; k += 4) {
        __m512i wv[4];
        for (int j = 0; j < NS; ++j) wv[j] = _mm512_loadu_si512((const void *)(w[j] + k * 16));
        for (int r = 0; r < MR; ++r) {
          if (r >= mr) break;
          __m512i x = bcast4(a[r] + k);
          for (int j = 0; j < NS; ++j) acc[r][j] = _mm512_dpbusd_epi32(acc[r][j], wv[j], x);
        }
      }
    } else {
      for (int64_t k = k0; k < k1; k += 8) {
        __m512i lo[4], hi[4];
        for (int j = 0; j < NS; ++j) {
          __m512i v = _mm512_loadu_si512((const void *)(w[j] + k * 8));
          lo[j] = _mm512_and_si512(v, nib);
          hi[j] = _mm512_and_si512(_mm512_srli_epi16(v, 4), nib);
        }
        for (int r = 0; r < MR; ++r) {
          if (r >= mr) break;
          __m512i xl = bcast4(a[r] + k), xh = bcast4(a[r] + k + 4);
          for (int j = 0; j < NS; ++j) {
            acc[r][j] = _mm512_dpbusd_epi32(acc[r][j], lo[j], xl);
            acc[r][j] = _mm512_dpbusd_epi32(acc[r][j], hi[j], xh);
          }
        }
      }
    }
    __m512 sc[4];
    for (int j = 0; j < NS; ++j)
      sc[j] = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p->scales + ((s + j) * p->groups + g) * 16)));
    for (int r = 0; r < MR; ++r) {
      if (r >= mr) break;
      __m512i corr = _mm512_set1_epi32(slm_s8_offset_times_sum(off, p->a_sums[(m + r) * p->groups + g]));
      if (p->a_group_scales) { /* the row's scale of this group goes into the weight scales */
        __m512 ga = _mm512_set1_ps(p->a_scale[(m + r) * p->groups + g]);
        for (int j = 0; j < NS; ++j)
          f[r][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r][j], corr)), _mm512_mul_ps(sc[j], ga),
                                    f[r][j]);
      } else {
        for (int j = 0; j < NS; ++j)
          f[r][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r][j], corr)), sc[j], f[r][j]);
      }
    }
  }
  for (int r = 0; r < MR; ++r) {
    if (r >= mr) break;
    __m512 as = _mm512_set1_ps(p->a_group_scales ? 1.0f : p->a_scale[m + r]);
    for (int j = 0; j < NS; ++j) {
      int64_t col = (s + j) * 16;
      _mm512_mask_storeu_ps(p->C + (m + r) * p->ldc + col, tail_mask(p->N - col), _mm512_mul_ps(f[r][j], as));
    }
  }
}

void slm_gemm_s8__avx512vnni(const slm_gemm_s8_args_t *p) {
  int64_t s = p->strip_begin;
  if (p->M == 1) { /* decode: one row, four strips in flight to hide vpdpbusd latency */
    for (; s + 4 <= p->strip_end; s += 4) block(p, 0, 1, s, 1, 4);
    for (; s < p->strip_end; ++s) block(p, 0, 1, s, 1, 1);
    return;
  }
  for (; s + 2 <= p->strip_end; s += 2)
    for (int64_t m = 0; m < p->M; m += 4) block(p, m, p->M - m < 4 ? (int)(p->M - m) : 4, s, 4, 2);
  for (; s < p->strip_end; ++s)
    for (int64_t m = 0; m < p->M; m += 4) block(p, m, p->M - m < 4 ? (int)(p->M - m) : 4, s, 4, 1);
}

void slm_quantize_row_s8__avx512(const float *x, int64_t k, int64_t kp, int64_t group, int8_t *q, float *scale,
                                 int32_t *sums) {
  __m512 vmax = _mm512_setzero_ps();
  for (int64_t i = 0; i < k; i += 16)
    vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_maskz_loadu_ps(tail_mask(k - i), x + i)));
  float amax = _mm512_reduce_max_ps(vmax);
  float inv = amax > 0 ? 127.0f / amax : 0.0f;
  *scale = amax / 127.0f;
  __m512 vinv = _mm512_set1_ps(inv);
  int64_t groups = kp / group;
  for (int64_t g = 0; g < groups; ++g) sums[g] = 0;
  __m512i gsum = _mm512_setzero_si512();
  for (int64_t i = 0; i < kp; i += 16) {
    /* cvtps rounds half to even under the default MXCSR, as nearbyint does in the reference. */
    __m512i v = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(tail_mask(k - i), x + i), vinv));
    __mmask16 live = tail_mask(kp - i);
    _mm_mask_storeu_epi8(q + i, live, _mm512_cvtsepi32_epi8(v));
    if (group % 16 == 0) {
      gsum = _mm512_add_epi32(gsum, v);
      if ((i + 16) % group == 0) {
        sums[i / group] = _mm512_reduce_add_epi32(gsum);
        gsum = _mm512_setzero_si512();
      }
    }
  }
  if (group % 16 != 0)
    for (int64_t i = 0; i < kp; ++i) sums[i / group] += q[i];
}
