/* gemm-s8-avx2.c — slm.matmul_a8 on AVX2: vpmaddubsw + vpmaddwd dot products (int8 weights by the sign trick, int4 directly), int32 per group. */
#include "gemm_s8.h"

#include <immintrin.h>

static inline __m256i bcast4(const int8_t *p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

/* Sum of 4 adjacent u8 x s8 products per 32-bit lane. Callers keep |products pair| < 2^15:
 * int4 codes are <= 15, and int8 goes through |w| x sign(x, w) with both at most 127. */
static inline __m256i dot4(__m256i u, __m256i s) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

/* Rows [m, m + mr) (mr <= 2) x one 16-column strip (two 8-column halves). */
static void block(const slm_gemm_s8_args_t *p, int64_t m, int mr, int64_t s) {
  __m256 f[2][2] = {{_mm256_setzero_ps(), _mm256_setzero_ps()}, {_mm256_setzero_ps(), _mm256_setzero_ps()}};
  const uint8_t *w = p->W + s * p->strip_bytes;
  const int8_t *a0 = p->A + m * p->lda, *a1 = p->A + (m + (mr > 1 ? 1 : 0)) * p->lda;
  const __m256i nib = _mm256_set1_epi8(15), flip = _mm256_set1_epi8((char)0x80);
  /* int8: u ^ 0x80 is the signed code, so the dot is exact and needs no offset correction. */
  const int32_t off = p->bits == 8 ? 0 : 8;
  for (int64_t g = 0; g < p->groups; ++g) {
    __m256i acc[2][2] = {{_mm256_setzero_si256(), _mm256_setzero_si256()}, {_mm256_setzero_si256(), _mm256_setzero_si256()}};
    int64_t k0 = g * p->group, k1 = k0 + p->group;
    if (p->bits == 8) {
      for (int64_t k = k0; k < k1; k += 4) {
        __m256i x0 = bcast4(a0 + k), x1 = bcast4(a1 + k);
        for (int h = 0; h < 2; ++h) {
          __m256i sw = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(w + k * 16 + 32 * h)), flip);
          __m256i aw = _mm256_abs_epi8(sw);
          acc[0][h] = _mm256_add_epi32(acc[0][h], dot4(aw, _mm256_sign_epi8(x0, sw)));
          if (mr > 1) acc[1][h] = _mm256_add_epi32(acc[1][h], dot4(aw, _mm256_sign_epi8(x1, sw)));
        }
      }
    } else {
      for (int64_t k = k0; k < k1; k += 8) {
        __m256i xl0 = bcast4(a0 + k), xh0 = bcast4(a0 + k + 4), xl1 = bcast4(a1 + k), xh1 = bcast4(a1 + k + 4);
        for (int h = 0; h < 2; ++h) {
          __m256i v = _mm256_loadu_si256((const __m256i *)(w + k * 8 + 32 * h));
          __m256i lo = _mm256_and_si256(v, nib), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), nib);
          acc[0][h] = _mm256_add_epi32(acc[0][h], _mm256_add_epi32(dot4(lo, xl0), dot4(hi, xh0)));
          if (mr > 1) acc[1][h] = _mm256_add_epi32(acc[1][h], _mm256_add_epi32(dot4(lo, xl1), dot4(hi, xh1)));
        }
      }
    }
    const uint16_t *sp = p->scales + (s * p->groups + g) * 16;
    __m256 sc[2] = {_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)sp)),
                    _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(sp + 8)))};
    for (int r = 0; r < mr; ++r) {
      __m256i corr = _mm256_set1_epi32(slm_s8_offset_times_sum(off, p->a_sums[(m + r) * p->groups + g]));
      /* group scales: the row's scale of this group goes into the weight scales */
      __m256 ga = _mm256_set1_ps(p->a_group_scales ? p->a_scale[(m + r) * p->groups + g] : 1.0f);
      for (int h = 0; h < 2; ++h)
        f[r][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(acc[r][h], corr)), _mm256_mul_ps(sc[h], ga),
                                  f[r][h]);
    }
  }
  for (int r = 0; r < mr; ++r) {
    float out[16];
    __m256 as = _mm256_set1_ps(p->a_group_scales ? 1.0f : p->a_scale[m + r]);
    _mm256_storeu_ps(out, _mm256_mul_ps(f[r][0], as));
    _mm256_storeu_ps(out + 8, _mm256_mul_ps(f[r][1], as));
    int64_t col = s * 16, nn = p->N - col < 16 ? p->N - col : 16;
    for (int64_t c = 0; c < nn; ++c) p->C[(m + r) * p->ldc + col + c] = out[c];
  }
}

void slm_gemm_s8__avx2(const slm_gemm_s8_args_t *p) {
  for (int64_t s = p->strip_begin; s < p->strip_end; ++s)
    for (int64_t m = 0; m < p->M; m += 2) block(p, m, p->M - m < 2 ? (int)(p->M - m) : 2, s);
}

void slm_quantize_row_s8__avx2(const float *x, int64_t k, int64_t kp, int64_t group, int8_t *q, float *scale,
                               int32_t *sums) {
  const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  __m256 vmax = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= k; i += 8) vmax = _mm256_max_ps(vmax, _mm256_and_ps(_mm256_loadu_ps(x + i), absmask));
  float lanes[8], amax = 0;
  _mm256_storeu_ps(lanes, vmax);
  for (int j = 0; j < 8; ++j) amax = lanes[j] > amax ? lanes[j] : amax;
  for (; i < k; ++i) {
    float v = x[i] < 0 ? -x[i] : x[i];
    amax = v > amax ? v : amax;
  }
  float inv = amax > 0 ? 127.0f / amax : 0.0f;
  *scale = amax / 127.0f;
  __m256 vinv = _mm256_set1_ps(inv);
  for (i = 0; i + 8 <= k; i += 8) {
    /* cvtps rounds half to even under the default MXCSR, as nearbyint does in the reference. */
    __m256i v = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + i), vinv));
    __m128i w16 = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    _mm_storel_epi64((__m128i *)(q + i), _mm_packs_epi16(w16, w16));
  }
  for (; i < kp; ++i) {
    float y = i < k ? x[i] * inv : 0.0f;
    q[i] = (int8_t)_mm_cvtss_si32(_mm_set_ss(y));
  }
  for (int64_t g = 0; g < kp / group; ++g) {
    int32_t sum = 0;
    for (int64_t j = g * group; j < (g + 1) * group; ++j) sum += q[j];
    sums[g] = sum;
  }
}
