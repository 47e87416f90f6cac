/* gemm-f32-avx2-fma.c — fp32 GEMM/GEMV for AVX2+FMA: 6x16 register tiles, K blocked for cache reuse of B rows. */
#include "gemm_f32.h"

#include <immintrin.h>

enum { MR = 6, NR = 16, KC = 256 };

static __m256i tail_mask(int64_t n) {
  static const int32_t bits[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256((const __m256i *)(bits + 8 - (n < 0 ? 0 : n > 8 ? 8 : n)));
}

/* C[0:mr, 0:nr] (+)= A[0:mr, 0:kc] * B[0:kc, 0:nr]; mr <= 6, nr <= 16. */
static void tile_6x16(int64_t mr, int64_t nr, int64_t kc, const float *A, int64_t lda, const float *B,
                      int64_t ldb, float *C, int64_t ldc, int load_c) {
  __m256i m0 = tail_mask(nr), m1 = tail_mask(nr - 8);
  __m256 c0[MR], c1[MR];
  for (int i = 0; i < MR; ++i) {
    c0[i] = _mm256_setzero_ps();
    c1[i] = _mm256_setzero_ps();
  }
  for (int64_t k = 0; k < kc; ++k) {
    const float *b = B + k * ldb;
    __m256 b0 = nr >= 8 ? _mm256_loadu_ps(b) : _mm256_maskload_ps(b, m0);
    __m256 b1 = nr >= 16 ? _mm256_loadu_ps(b + 8) : _mm256_maskload_ps(b + 8, m1);
    for (int i = 0; i < MR; ++i) {
      if (i < mr) {
        __m256 a = _mm256_broadcast_ss(A + i * lda + k);
        c0[i] = _mm256_fmadd_ps(a, b0, c0[i]);
        c1[i] = _mm256_fmadd_ps(a, b1, c1[i]);
      }
    }
  }
  for (int i = 0; i < mr; ++i) {
    float *c = C + i * ldc;
    if (load_c) {
      c0[i] = _mm256_add_ps(c0[i], _mm256_maskload_ps(c, m0));
      c1[i] = _mm256_add_ps(c1[i], _mm256_maskload_ps(c + 8, m1));
    }
    _mm256_maskstore_ps(c, m0, c0[i]);
    _mm256_maskstore_ps(c + 8, m1, c1[i]);
  }
}

/* GEMV row: c[n_begin:n_end] (+)= a[0:K] * B; 32 columns per pass. */
static void gemv(const slm_gemm_f32_args_t *p) {
  int64_t n = p->n_begin;
  for (; n + 32 <= p->n_end; n += 32) {
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    const float *b = p->K ? p->B + n : p->B; /* K == 0: B may be NULL */
    for (int64_t k = 0; k < p->K; ++k, b += p->ldb) {
      __m256 a = _mm256_broadcast_ss(p->A + k);
      for (int j = 0; j < 4; ++j) acc[j] = _mm256_fmadd_ps(a, _mm256_loadu_ps(b + 8 * j), acc[j]);
    }
    float *c = p->C + n;
    for (int j = 0; j < 4; ++j) {
      if (p->accumulate) acc[j] = _mm256_add_ps(acc[j], _mm256_loadu_ps(c + 8 * j));
      _mm256_storeu_ps(c + 8 * j, acc[j]);
    }
  }
  for (; n < p->n_end; n += 8) {
    __m256i m = tail_mask(p->n_end - n);
    __m256 acc = _mm256_setzero_ps();
    const float *b = p->K ? p->B + n : p->B; /* K == 0: B may be NULL */
    for (int64_t k = 0; k < p->K; ++k, b += p->ldb)
      acc = _mm256_fmadd_ps(_mm256_broadcast_ss(p->A + k), _mm256_maskload_ps(b, m), acc);
    if (p->accumulate) acc = _mm256_add_ps(acc, _mm256_maskload_ps(p->C + n, m));
    _mm256_maskstore_ps(p->C + n, m, acc);
  }
}

void slm_gemm_f32__avx2_fma(const slm_gemm_f32_args_t *p) {
  if (p->M == 1) {
    gemv(p);
    return;
  }
  for (int64_t n = p->n_begin; n < p->n_end; n += NR) {
    int64_t nr = p->n_end - n < NR ? p->n_end - n : NR;
    for (int64_t k0 = 0; k0 < p->K || k0 == 0; k0 += KC) {
      int64_t kc = p->K - k0 < KC ? p->K - k0 : KC;
      int load_c = k0 > 0 || p->accumulate;
      for (int64_t m = 0; m < p->M; m += MR) {
        int64_t mr = p->M - m < MR ? p->M - m : MR;
        // K == 0: A and B are empty (possibly NULL) and never read; offsetting NULL is UB in C.
        const float *a = p->K ? p->A + m * p->lda + k0 : p->A;
        const float *b = p->K ? p->B + k0 * p->ldb + n : p->B;
        tile_6x16(mr, nr, kc, a, p->lda, b, p->ldb, p->C + m * p->ldc + n, p->ldc, load_c);
      }
      if (p->K == 0) break;
    }
  }
}
