/* gemm-f32-avx512f.c — fp32 GEMM/GEMV for AVX-512F: 8x32 register tiles, K blocked for L1/L2 reuse of B rows. */
#include "gemm_f32.h"

#include <immintrin.h>

enum { MR = 8, NR = 32, KC = 256 };

/* C[0:mr, 0:32] (+)= A[0:mr, 0:kc] * B[0:kc, 0:32]; mr <= MR. Inlined with mr == MR for full
 * tiles, so the row loop unrolls without a per-row test. */
static inline __attribute__((always_inline)) void tile_8x32(int64_t mr, int64_t kc, const float *A, int64_t lda,
                                                            const float *B, int64_t ldb, float *C, int64_t ldc,
                                                            int load_c) {
  __m512 c0[MR], c1[MR];
  for (int i = 0; i < MR; ++i) {
    c0[i] = _mm512_setzero_ps();
    c1[i] = _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < kc; ++k) {
    const float *b = B + k * ldb;
    __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
    for (int i = 0; i < MR; ++i) {
      if (i < mr) {
        __m512 a = _mm512_set1_ps(A[i * lda + k]);
        c0[i] = _mm512_fmadd_ps(a, b0, c0[i]);
        c1[i] = _mm512_fmadd_ps(a, b1, c1[i]);
      }
    }
  }
  for (int i = 0; i < mr; ++i) {
    float *c = C + i * ldc;
    if (load_c) {
      c0[i] = _mm512_add_ps(c0[i], _mm512_loadu_ps(c));
      c1[i] = _mm512_add_ps(c1[i], _mm512_loadu_ps(c + 16));
    }
    _mm512_storeu_ps(c, c0[i]);
    _mm512_storeu_ps(c + 16, c1[i]);
  }
}

/* Columns [n, n+nr) with nr < 32: masked loads/stores. */
static void tile_8xN(int64_t mr, int64_t nr, int64_t kc, const float *A, int64_t lda, const float *B,
                     int64_t ldb, float *C, int64_t ldc, int load_c) {
  __mmask16 m0 = (__mmask16)(nr >= 16 ? 0xffff : (1u << nr) - 1);
  __mmask16 m1 = (__mmask16)(nr <= 16 ? 0 : (1u << (nr - 16)) - 1);
  __m512 c0[MR], c1[MR];
  for (int i = 0; i < MR; ++i) {
    c0[i] = _mm512_setzero_ps();
    c1[i] = _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < kc; ++k) {
    const float *b = B + k * ldb;
    __m512 b0 = _mm512_maskz_loadu_ps(m0, b), b1 = _mm512_maskz_loadu_ps(m1, b + 16);
    for (int i = 0; i < MR; ++i) {
      if (i < mr) {
        __m512 a = _mm512_set1_ps(A[i * lda + k]);
        c0[i] = _mm512_fmadd_ps(a, b0, c0[i]);
        c1[i] = _mm512_fmadd_ps(a, b1, c1[i]);
      }
    }
  }
  for (int i = 0; i < mr; ++i) {
    float *c = C + i * ldc;
    if (load_c) {
      c0[i] = _mm512_add_ps(c0[i], _mm512_maskz_loadu_ps(m0, c));
      c1[i] = _mm512_add_ps(c1[i], _mm512_maskz_loadu_ps(m1, c + 16));
    }
    _mm512_mask_storeu_ps(c, m0, c0[i]);
    _mm512_mask_storeu_ps(c + 16, m1, c1[i]);
  }
}

/* GEMV over one full panel (B contiguous [K, 32], SLM_GEMM_F32_PANEL): k unrolled by 4 into 8
 * independent accumulators so the FMA latency hides behind the stream of B. */
static void gemv_panel32(const slm_gemm_f32_args_t *p) {
  __m512 acc[8];
  for (int j = 0; j < 8; ++j) acc[j] = _mm512_setzero_ps();
  const float *b = p->B;
  int64_t k = 0;
  for (; k + 4 <= p->K; k += 4, b += 128) {
    for (int u = 0; u < 4; ++u) {
      __m512 a = _mm512_set1_ps(p->A[k + u]);
      acc[2 * u] = _mm512_fmadd_ps(a, _mm512_loadu_ps(b + 32 * u), acc[2 * u]);
      acc[2 * u + 1] = _mm512_fmadd_ps(a, _mm512_loadu_ps(b + 32 * u + 16), acc[2 * u + 1]);
    }
  }
  for (; k < p->K; ++k, b += 32) {
    __m512 a = _mm512_set1_ps(p->A[k]);
    acc[0] = _mm512_fmadd_ps(a, _mm512_loadu_ps(b), acc[0]);
    acc[1] = _mm512_fmadd_ps(a, _mm512_loadu_ps(b + 16), acc[1]);
  }
  __m512 lo = _mm512_add_ps(_mm512_add_ps(acc[0], acc[2]), _mm512_add_ps(acc[4], acc[6]));
  __m512 hi = _mm512_add_ps(_mm512_add_ps(acc[1], acc[3]), _mm512_add_ps(acc[5], acc[7]));
  if (p->accumulate) {
    lo = _mm512_add_ps(lo, _mm512_loadu_ps(p->C));
    hi = _mm512_add_ps(hi, _mm512_loadu_ps(p->C + 16));
  }
  _mm512_storeu_ps(p->C, lo);
  _mm512_storeu_ps(p->C + 16, hi);
}

/* GEMV row: c[n_begin:n_end] (+)= a[0:K] * B; 64 columns per pass, k unrolled by 2. */
static void gemv(const slm_gemm_f32_args_t *p) {
  if (p->ldb == 32 && p->n_begin == 0 && p->n_end == 32 && p->K > 0) {
    gemv_panel32(p);
    return;
  }
  int64_t n = p->n_begin;
  for (; n + 64 <= p->n_end; n += 64) {
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    const float *b = p->K ? p->B + n : p->B; /* K == 0: B may be NULL */
    for (int64_t k = 0; k < p->K; ++k, b += p->ldb) {
      __m512 a = _mm512_set1_ps(p->A[k]);
      for (int j = 0; j < 4; ++j) acc[j] = _mm512_fmadd_ps(a, _mm512_loadu_ps(b + 16 * j), acc[j]);
    }
    float *c = p->C + n;
    for (int j = 0; j < 4; ++j) {
      if (p->accumulate) acc[j] = _mm512_add_ps(acc[j], _mm512_loadu_ps(c + 16 * j));
      _mm512_storeu_ps(c + 16 * j, acc[j]);
    }
  }
  for (; n < p->n_end; n += 16) {
    int64_t nr = p->n_end - n < 16 ? p->n_end - n : 16;
    __mmask16 m = (__mmask16)(nr == 16 ? 0xffff : (1u << nr) - 1);
    __m512 acc = _mm512_setzero_ps();
    const float *b = p->K ? p->B + n : p->B; /* K == 0: B may be NULL */
    for (int64_t k = 0; k < p->K; ++k, b += p->ldb)
      acc = _mm512_fmadd_ps(_mm512_set1_ps(p->A[k]), _mm512_maskz_loadu_ps(m, b), acc);
    if (p->accumulate) acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(m, p->C + n));
    _mm512_mask_storeu_ps(p->C + n, m, acc);
  }
}

void slm_gemm_f32__avx512f(const slm_gemm_f32_args_t *p) {
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
        float *c = p->C + m * p->ldc + n;
        if (nr == NR && mr == MR)
          tile_8x32(MR, kc, a, p->lda, b, p->ldb, c, p->ldc, load_c);
        else if (nr == NR)
          tile_8x32(mr, kc, a, p->lda, b, p->ldb, c, p->ldc, load_c);
        else
          tile_8xN(mr, nr, kc, a, p->lda, b, p->ldb, c, p->ldc, load_c);
      }
      if (p->K == 0) break;
    }
  }
}

/* ---- Transposed weight (B [N, K] rows): C[m, n] (+)= dot(A[m, :], B[n, :]) ---- */

static void store_dot(const slm_gemm_f32_args_t *p, int64_t m, int64_t n, __m512 acc) {
  float v = _mm512_reduce_add_ps(acc);
  float *c = p->C + m * p->ldc + n;
  *c = p->accumulate ? *c + v : v;
}

/* One A row against 8 B rows at a time: 8 streams, 8 independent accumulators. */
static void nt_gemv(const slm_gemm_f32_args_t *p) {
  int64_t K = p->K, kfull = K & ~(int64_t)15;
  __mmask16 tail = (__mmask16)((1u << (K & 15)) - 1);
  for (int64_t n = p->n_begin; n < p->n_end; n += 8) {
    int64_t nr = p->n_end - n < 8 ? p->n_end - n : 8;
    const float *b[8];
    for (int j = 0; j < 8; ++j) b[j] = p->B + (n + (j < nr ? j : nr - 1)) * p->ldb; /* tails repeat a row */
    __m512 acc[8];
    for (int j = 0; j < 8; ++j) acc[j] = _mm512_setzero_ps();
    for (int64_t k = 0; k < kfull; k += 16) {
      __m512 a = _mm512_loadu_ps(p->A + k);
      for (int j = 0; j < 8; ++j) acc[j] = _mm512_fmadd_ps(a, _mm512_loadu_ps(b[j] + k), acc[j]);
    }
    if (tail) {
      __m512 a = _mm512_maskz_loadu_ps(tail, p->A + kfull);
      for (int j = 0; j < 8; ++j) acc[j] = _mm512_fmadd_ps(a, _mm512_maskz_loadu_ps(tail, b[j] + kfull), acc[j]);
    }
    for (int j = 0; j < nr; ++j) store_dot(p, 0, n + j, acc[j]);
  }
}

/* 4 A rows x 4 B rows per tile: 16 accumulators, 8 loads per 16 FMAs; the B rows stay in L1 while
 * every A tile passes over them. */
void slm_gemm_f32_nt__avx512f(const slm_gemm_f32_args_t *p) {
  if (p->K == 0) { /* A and B may be NULL: write the empty sums */
    for (int64_t m = 0; m < p->M; ++m)
      for (int64_t n = p->n_begin; n < p->n_end; ++n) store_dot(p, m, n, _mm512_setzero_ps());
    return;
  }
  if (p->M == 1) {
    nt_gemv(p);
    return;
  }
  int64_t K = p->K, kfull = K & ~(int64_t)15;
  __mmask16 tail = (__mmask16)((1u << (K & 15)) - 1);
  for (int64_t n = p->n_begin; n < p->n_end; n += 4) {
    int64_t nr = p->n_end - n < 4 ? p->n_end - n : 4;
    const float *b[4];
    for (int j = 0; j < 4; ++j) b[j] = p->B + (n + (j < nr ? j : nr - 1)) * p->ldb;
    for (int64_t m = 0; m < p->M; m += 4) {
      int64_t mr = p->M - m < 4 ? p->M - m : 4;
      const float *a[4];
      for (int i = 0; i < 4; ++i) a[i] = p->A + (m + (i < mr ? i : mr - 1)) * p->lda;
      __m512 acc[4][4];
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) acc[i][j] = _mm512_setzero_ps();
      for (int64_t k = 0; k < kfull; k += 16) {
        __m512 bv[4];
        for (int j = 0; j < 4; ++j) bv[j] = _mm512_loadu_ps(b[j] + k);
        for (int i = 0; i < 4; ++i) {
          __m512 av = _mm512_loadu_ps(a[i] + k);
          for (int j = 0; j < 4; ++j) acc[i][j] = _mm512_fmadd_ps(av, bv[j], acc[i][j]);
        }
      }
      if (tail) {
        __m512 bv[4];
        for (int j = 0; j < 4; ++j) bv[j] = _mm512_maskz_loadu_ps(tail, b[j] + kfull);
        for (int i = 0; i < 4; ++i) {
          __m512 av = _mm512_maskz_loadu_ps(tail, a[i] + kfull);
          for (int j = 0; j < 4; ++j) acc[i][j] = _mm512_fmadd_ps(av, bv[j], acc[i][j]);
        }
      }
      for (int i = 0; i < mr; ++i)
        for (int j = 0; j < nr; ++j) store_dot(p, m + i, n + j, acc[i][j]);
    }
  }
}
