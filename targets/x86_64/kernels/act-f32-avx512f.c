/* act-f32-avx512f.c — matmul epilogue activations for AVX-512F (gemm_f32_ukernel.h slm_act_f32_fn):
 * SiLU, sigmoid, tanh and both GELUs on 16 lanes, from the shared exp (exp-avx512f.h) and an erf
 * (Abramowitz-Stegun 7.1.26 refined, ~1e-7 absolute). */
#include "exp-avx512f.h"
#include "gemm_f32_ukernel.h"

#include <immintrin.h>

enum { kGeluErf = 2, kGeluTanh = 3, kSilu = 4, kSigmoid = 5, kTanh = 6 };

static inline __m512 exp16(__m512 x) {
  return slm_exp_poly_avx512f(_mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.3f)));
}

static inline __m512 sigmoid16(__m512 x) {
  __m512 one = _mm512_set1_ps(1.0f);
  return _mm512_div_ps(one, _mm512_add_ps(one, exp16(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}

/* tanh(x) = sign(x) * (1 - 2 / (exp(2|x|) + 1)); for |x| < 0.0625 the odd Taylor series to x^7
 * avoids the cancellation. */
static inline __m512 tanh16(__m512 x) {
  __m512 ax = _mm512_abs_ps(x);
  __m512 e = exp16(_mm512_add_ps(ax, ax));
  __m512 big = _mm512_sub_ps(_mm512_set1_ps(1.0f), _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, _mm512_set1_ps(1.0f))));
  __m512 x2 = _mm512_mul_ps(x, x);
  __m512 p = _mm512_set1_ps(-17.0f / 315.0f);
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(2.0f / 15.0f));
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(-1.0f / 3.0f));
  __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(p, x2), x, x);
  __m512 signed_big = _mm512_castsi512_ps(_mm512_or_si512(
      _mm512_castps_si512(big), _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u))));
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.0625f), _CMP_LT_OQ), signed_big, small);
}

/* erf(x) = sign(x) * (1 - t * exp(-x^2 + P(t))), t = 1 / (1 + p|x|) (Numerical Recipes erfc form,
 * 1.2e-7 relative). */
static inline __m512 erf16(__m512 x) {
  __m512 ax = _mm512_abs_ps(x);
  __m512 t = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_fmadd_ps(_mm512_set1_ps(0.5f), ax, _mm512_set1_ps(1.0f)));
  static const float c[10] = {-1.26551223f, 1.00002368f, 0.37409196f, 0.09678418f, -0.18628806f,
                              0.27886807f,  -1.13520398f, 1.48851587f, -0.82215223f, 0.17087277f};
  __m512 p = _mm512_set1_ps(c[9]);
  for (int i = 8; i >= 0; --i) p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(c[i]));
  __m512 erfc = _mm512_mul_ps(t, exp16(_mm512_sub_ps(p, _mm512_mul_ps(ax, ax))));
  __m512 r = _mm512_sub_ps(_mm512_set1_ps(1.0f), erfc);
  return _mm512_castsi512_ps(_mm512_or_si512(
      _mm512_castps_si512(r), _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u))));
}

static inline __m512 act16(int act, __m512 x) {
  __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f);
  switch (act) {
  case kSilu: return _mm512_mul_ps(x, sigmoid16(x));
  case kSigmoid: return sigmoid16(x);
  case kTanh: return tanh16(x);
  case kGeluTanh: {
    __m512 inner = _mm512_mul_ps(_mm512_set1_ps(0.7978845608028654f),
                                 _mm512_fmadd_ps(_mm512_mul_ps(_mm512_set1_ps(0.044715f), x), _mm512_mul_ps(x, x), x));
    return _mm512_mul_ps(_mm512_mul_ps(half, x), _mm512_add_ps(one, tanh16(inner)));
  }
  default: /* kGeluErf */
    return _mm512_mul_ps(_mm512_mul_ps(half, x), _mm512_add_ps(one, erf16(_mm512_mul_ps(x, _mm512_set1_ps(0.70710678118654752f)))));
  }
}

int slm_act_f32__avx512f(int act, float *x, int64_t n) {
  if (act != kGeluErf && act != kGeluTanh && act != kSilu && act != kSigmoid && act != kTanh) return 0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, act16(act, _mm512_loadu_ps(x + i)));
  if (i < n) {
    __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(x + i, m, act16(act, _mm512_maskz_loadu_ps(m, x + i)));
  }
  return 1;
}
