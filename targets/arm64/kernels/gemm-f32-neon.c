/* gemm-f32-neon.c — fp32 GEMM/GEMV for arm64 NEON: 4x16 register tiles (16 of the 32 q registers
 * hold C; at 6x16 gcc 12 spills the tile every K step), K blocked so a block of B rows stays in
 * cache across the row tiles. NEON has no masked loads, so column tails go 4 at a time, then the
 * last 1-3 columns in scalar code.
 */
#include "gemm_f32.h"

#include <arm_neon.h>

enum { MR = 4, NR = 16, KC = 256 };

/* C[0:mr, 0:4*NV] (+)= A[0:mr, 0:kc] * B[0:kc, 0:4*NV]; mr <= MR. NV is a constant at each call.
 * Rows past mr alias the last real row and so compute and store the same values: no branch in the
 * K loop, which lets the compiler keep all of C in registers. */
static inline void tile(int NV, int64_t mr, int64_t kc, const float *A, int64_t lda, const float *B,
                        int64_t ldb, float *C, int64_t ldc, int load_c) {
  const float *a[MR];
  float *cr[MR];
  for (int i = 0; i < MR; ++i) {
    int64_t r = i < mr ? i : mr - 1;
    a[i] = A + r * lda;
    cr[i] = C + r * ldc;
  }
  float32x4_t c[MR][NR / 4];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NV; ++j)
      c[i][j] = load_c ? vld1q_f32(cr[i] + 4 * j) : vdupq_n_f32(0.0f);
  for (int64_t k = 0; k < kc; ++k) {
    const float *b = B + k * ldb;
    float32x4_t bv[NR / 4];
    for (int j = 0; j < NV; ++j)
      bv[j] = vld1q_f32(b + 4 * j);
    for (int i = 0; i < MR; ++i) {
      float32x4_t av = vld1q_dup_f32(a[i] + k);
      for (int j = 0; j < NV; ++j)
        c[i][j] = vfmaq_f32(c[i][j], av, bv[j]);
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NV; ++j)
      vst1q_f32(cr[i] + 4 * j, c[i][j]);
}

/* The last 1-3 columns: plain dot products, too few for a vector. */
static void columns_scalar(const slm_gemm_f32_args_t *p, int64_t n0, int64_t k0, int64_t kc,
                           int load_c) {
  for (int64_t m = 0; m < p->M; ++m)
    for (int64_t n = n0; n < p->n_end; ++n) {
      float acc = load_c ? p->C[m * p->ldc + n] : 0.0f;
      for (int64_t k = k0; k < k0 + kc; ++k)
        acc += p->A[m * p->lda + k] * p->B[k * p->ldb + n];
      p->C[m * p->ldc + n] = acc;
    }
}

/* One K block of columns [n_begin, n_end): 16-wide tiles, then 4-wide, then scalar. */
static void k_block(const slm_gemm_f32_args_t *p, int64_t k0, int64_t kc, int load_c) {
  int64_t n = p->n_begin;
  for (; n < p->n_end; n += NR) {
    int64_t nr = p->n_end - n;
    int nv = nr >= NR ? NR / 4 : (int)(nr / 4);
    if (nv == 0)
      break;
    for (int64_t m = 0; m < p->M; m += MR) {
      int64_t mr = p->M - m < MR ? p->M - m : MR;
      /* K == 0: A and B are empty (possibly NULL) and never read; offsetting NULL is UB in C. */
      const float *a = p->K ? p->A + m * p->lda + k0 : p->A, *b = p->K ? p->B + k0 * p->ldb + n : p->B;
      float *c = p->C + m * p->ldc + n;
      /* Constant NV per call so the compiler unrolls the vector loops into registers. */
      switch (nv) {
      case 4:
        tile(4, mr, kc, a, p->lda, b, p->ldb, c, p->ldc, load_c);
        break;
      case 3:
        tile(3, mr, kc, a, p->lda, b, p->ldb, c, p->ldc, load_c);
        break;
      case 2:
        tile(2, mr, kc, a, p->lda, b, p->ldb, c, p->ldc, load_c);
        break;
      default:
        tile(1, mr, kc, a, p->lda, b, p->ldb, c, p->ldc, load_c);
        break;
      }
    }
    if (nv < NR / 4) {
      n += 4 * nv;
      break;
    }
  }
  if (n < p->n_end)
    columns_scalar(p, n, k0, kc, load_c);
}

/* GEMV row: c[n_begin:n_end] (+)= a[0:K] * B; 16 columns per pass: 4 independent FMA chains. */
static void gemv(const slm_gemm_f32_args_t *p) {
  int64_t n = p->n_begin;
  for (; n + 16 <= p->n_end; n += 16) {
    float32x4_t acc[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f),
                          vdupq_n_f32(0.0f)};
    const float *b = p->K ? p->B + n : p->B; /* K == 0: B may be NULL */
    for (int64_t k = 0; k < p->K; ++k, b += p->ldb) {
      float32x4_t a = vdupq_n_f32(p->A[k]);
      for (int j = 0; j < 4; ++j)
        acc[j] = vfmaq_f32(acc[j], a, vld1q_f32(b + 4 * j));
    }
    float *c = p->C + n;
    for (int j = 0; j < 4; ++j) {
      if (p->accumulate)
        acc[j] = vaddq_f32(acc[j], vld1q_f32(c + 4 * j));
      vst1q_f32(c + 4 * j, acc[j]);
    }
  }
  for (; n + 4 <= p->n_end; n += 4) {
    float32x4_t acc = vdupq_n_f32(0.0f);
    const float *b = p->K ? p->B + n : p->B; /* K == 0: B may be NULL */
    for (int64_t k = 0; k < p->K; ++k, b += p->ldb)
      acc = vfmaq_f32(acc, vdupq_n_f32(p->A[k]), vld1q_f32(b));
    if (p->accumulate)
      acc = vaddq_f32(acc, vld1q_f32(p->C + n));
    vst1q_f32(p->C + n, acc);
  }
  for (; n < p->n_end; ++n) {
    float acc = p->accumulate ? p->C[n] : 0.0f;
    for (int64_t k = 0; k < p->K; ++k)
      acc += p->A[k] * p->B[k * p->ldb + n];
    p->C[n] = acc;
  }
}

void slm_gemm_f32__neon(const slm_gemm_f32_args_t *p) {
  if (p->M == 1) {
    gemv(p);
    return;
  }
  /* K == 0 still runs one (empty) block so C is zeroed or kept. */
  for (int64_t k0 = 0; k0 < p->K || k0 == 0; k0 += KC) {
    int64_t kc = p->K - k0 < KC ? p->K - k0 : KC;
    k_block(p, k0, kc, k0 > 0 || p->accumulate);
    if (p->K == 0)
      break;
  }
}
