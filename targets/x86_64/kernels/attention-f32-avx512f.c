/* attention-f32-avx512f.c — one attention row (attention_f32.h) for AVX-512F: scores for a chunk of
 * keys, their max, a vectorized exp, then the weighted sum of the value rows; chunks merge with the
 * online-softmax rescale, so scratch stays on the stack for any cache length. */
#include "attention_f32.h"
#include "exp-avx512f.h"

#include <immintrin.h>
#include <math.h>

enum { CHUNK = 128, MAX_VECS = 32 /* d <= 512 */ };

/* exp(x) for x <= 0 (scores minus their max); below -87 the result flushes to 0. */
static inline __m512 exp_le0(__m512 x) { return slm_exp_poly_avx512f(_mm512_max_ps(x, _mm512_set1_ps(-87.0f))); }

static inline __mmask16 lane_mask(int64_t n) { return (__mmask16)(n >= 16 ? 0xffff : (1u << n) - 1); }

void slm_attention_row_f32__avx512f(const slm_attention_row_args_t *p) {
  const int64_t d = p->d, vecs = (d + 15) / 16;
  const __mmask16 last = lane_mask(d - (vecs - 1) * 16);
  __m512 q[MAX_VECS], acc[MAX_VECS];
  for (int64_t i = 0; i < vecs; ++i) {
    q[i] = _mm512_maskz_loadu_ps(i == vecs - 1 ? last : 0xffff, p->q + 16 * i);
    acc[i] = _mm512_setzero_ps();
  }
  float s[CHUNK];
  float m = -INFINITY, l = 0.0f;
  for (int64_t c0 = 0; c0 < p->t; c0 += CHUNK) {
    int64_t n = p->t - c0 < CHUNK ? p->t - c0 : CHUNK;
    const float *k = p->k + c0 * d, *v = p->v + c0 * d;
    float cmax = -INFINITY;
    for (int64_t j = 0; j < n; ++j) {
      const float *kj = k + j * d;
      __m512 dot = _mm512_setzero_ps();
      for (int64_t i = 0; i < vecs; ++i)
        dot = _mm512_fmadd_ps(q[i], _mm512_maskz_loadu_ps(i == vecs - 1 ? last : 0xffff, kj + 16 * i), dot);
      s[j] = _mm512_reduce_add_ps(dot) * p->scale;
      cmax = s[j] > cmax ? s[j] : cmax;
    }
    if (cmax > m) { /* rescale what earlier chunks summed to the new maximum */
      float f = m == -INFINITY ? 0.0f : expf(m - cmax);
      __m512 fv = _mm512_set1_ps(f);
      for (int64_t i = 0; i < vecs; ++i) acc[i] = _mm512_mul_ps(acc[i], fv);
      l *= f;
      m = cmax;
    }
    __m512 mv = _mm512_set1_ps(m), lsum = _mm512_setzero_ps();
    for (int64_t j = 0; j < n; j += 16) {
      __mmask16 mk = lane_mask(n - j);
      __m512 e = exp_le0(_mm512_sub_ps(_mm512_maskz_loadu_ps(mk, s + j), mv));
      e = _mm512_maskz_mov_ps(mk, e);
      lsum = _mm512_add_ps(lsum, e);
      _mm512_mask_storeu_ps(s + j, mk, e);
    }
    l += _mm512_reduce_add_ps(lsum);
    for (int64_t j = 0; j < n; ++j) {
      __m512 pj = _mm512_set1_ps(s[j]);
      const float *vj = v + j * d;
      for (int64_t i = 0; i < vecs; ++i)
        acc[i] = _mm512_fmadd_ps(pj, _mm512_maskz_loadu_ps(i == vecs - 1 ? last : 0xffff, vj + 16 * i), acc[i]);
    }
  }
  __m512 inv = _mm512_set1_ps(l > 0.0f ? 1.0f / l : 0.0f);
  for (int64_t i = 0; i < vecs; ++i)
    _mm512_mask_storeu_ps(p->out + 16 * i, i == vecs - 1 ? last : 0xffff, _mm512_mul_ps(acc[i], inv));
}
