/* sparse-f32-avx512f.c — slm.matmul_sparse on AVX-512: unstructured sparse fp32 weights, each block's nonzeros expanded
 * into a register by its mask (targets/common/sparse_f32.h). */
#include "sparse_f32.h"

#include <immintrin.h>
#include <string.h>

static inline __mmask16 tail_mask(int64_t left) {
  return left >= 16 ? (__mmask16)0xffff : left <= 0 ? (__mmask16)0 : (__mmask16)((1u << left) - 1);
}

/* One k of a panel: the four blocks' masks come in one 64-bit load, and each block's start is the
 * popcount of the masks before it, so the only loop-carried chain is the pointer's one add per k. */
typedef struct {
  __m512 v[4];
} expanded_t;

static inline __attribute__((always_inline)) const float *expand_k(const uint16_t *mk, const float *src,
                                                                   expanded_t *e) {
  uint64_t w;
  memcpy(&w, mk, sizeof w);
  int64_t o1 = _mm_popcnt_u64(w & 0xffffu), o2 = _mm_popcnt_u64(w & 0xffffffffu),
          o3 = _mm_popcnt_u64(w & 0xffffffffffffu), all = _mm_popcnt_u64(w);
  e->v[0] = _mm512_maskz_expandloadu_ps((__mmask16)w, src);
  e->v[1] = _mm512_maskz_expandloadu_ps((__mmask16)(w >> 16), src + o1);
  e->v[2] = _mm512_maskz_expandloadu_ps((__mmask16)(w >> 32), src + o2);
  e->v[3] = _mm512_maskz_expandloadu_ps((__mmask16)(w >> 48), src + o3);
  return src + all;
}

static inline void store_row(const slm_sparse_f32_args_t *p, int64_t m, int64_t pn, const __m512 acc[4]) {
  for (int b = 0; b < 4; ++b) {
    int64_t col = pn * 64 + b * 16;
    _mm512_mask_storeu_ps(p->C + m * p->ldc + col, tail_mask(p->N - col), acc[b]);
  }
}

/* Decode: one row, two sets of accumulators over alternate k so that the FMA latency is hidden
 * with only four blocks per k. */
static void panel_row(const slm_sparse_f32_args_t *p, int64_t m, int64_t pn) {
  const float *src = p->values + p->offsets[pn], *x = p->A + m * p->lda;
  const uint16_t *mk = p->masks + pn * p->K * 4;
  __m512 acc0[4], acc1[4];
  for (int b = 0; b < 4; ++b)
    acc0[b] = acc1[b] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 2 <= p->K; k += 2) {
    expanded_t e0, e1;
    src = expand_k(mk + k * 4, src, &e0);
    src = expand_k(mk + k * 4 + 4, src, &e1);
    __m512 x0 = _mm512_set1_ps(x[k]), x1 = _mm512_set1_ps(x[k + 1]);
    for (int b = 0; b < 4; ++b) {
      acc0[b] = _mm512_fmadd_ps(e0.v[b], x0, acc0[b]);
      acc1[b] = _mm512_fmadd_ps(e1.v[b], x1, acc1[b]);
    }
  }
  if (k < p->K) {
    expanded_t e;
    expand_k(mk + k * 4, src, &e);
    __m512 xk = _mm512_set1_ps(x[k]);
    for (int b = 0; b < 4; ++b)
      acc0[b] = _mm512_fmadd_ps(e.v[b], xk, acc0[b]);
  }
  for (int b = 0; b < 4; ++b)
    acc0[b] = _mm512_add_ps(acc0[b], acc1[b]);
  store_row(p, m, pn, acc0);
}

/* Rows [m, m + MR) x one panel: each expanded block multiplies every row's broadcast x[k], so the
 * mask decoding and the value loads are shared by MR rows. */
static inline __attribute__((always_inline)) void panel_rows(const slm_sparse_f32_args_t *p, int64_t m, int64_t pn,
                                                             const int MR) {
  const float *src = p->values + p->offsets[pn], *x = p->A + m * p->lda;
  const uint16_t *mk = p->masks + pn * p->K * 4;
  __m512 acc[4][4];
  for (int r = 0; r < MR; ++r)
    for (int b = 0; b < 4; ++b)
      acc[r][b] = _mm512_setzero_ps();
  for (int64_t k = 0; k < p->K; ++k) {
    expanded_t e;
    src = expand_k(mk + k * 4, src, &e);
    for (int r = 0; r < MR; ++r) {
      __m512 xr = _mm512_set1_ps(x[r * p->lda + k]);
      for (int b = 0; b < 4; ++b)
        acc[r][b] = _mm512_fmadd_ps(e.v[b], xr, acc[r][b]);
    }
  }
  for (int r = 0; r < MR; ++r)
    store_row(p, m + r, pn, acc[r]);
}

/* Prefill: a panel's nonzeros are expanded once per chunk of KC k into a dense [KC, 64] block on
 * the stack that every row block then reads from L1, so the expansion is paid once for all M rows
 * instead of once per row block; the rows then run at the dense kernel's multiply-add rate. */
enum { KC = 64, STAGED_MIN_M = 32 }; /* below 32 rows the 4-row path measured as fast */

static inline __attribute__((always_inline)) void staged_rows(const slm_sparse_f32_args_t *p, const float *stage,
                                                              int64_t m, int64_t pn, int64_t k0, int64_t kc,
                                                              const int MR) {
  const float *x = p->A + m * p->lda + k0;
  __m512 acc[6][4];
  for (int r = 0; r < MR; ++r)
    for (int b = 0; b < 4; ++b) {
      int64_t col = pn * 64 + b * 16;
      acc[r][b] =
          k0 == 0 ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(tail_mask(p->N - col), p->C + (m + r) * p->ldc + col);
    }
  for (int64_t k = 0; k < kc; ++k) {
    const float *w = stage + k * 64;
    __m512 w0 = _mm512_load_ps(w), w1 = _mm512_load_ps(w + 16), w2 = _mm512_load_ps(w + 32),
           w3 = _mm512_load_ps(w + 48);
    for (int r = 0; r < MR; ++r) {
      __m512 xr = _mm512_set1_ps(x[r * p->lda + k]);
      acc[r][0] = _mm512_fmadd_ps(w0, xr, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(w1, xr, acc[r][1]);
      acc[r][2] = _mm512_fmadd_ps(w2, xr, acc[r][2]);
      acc[r][3] = _mm512_fmadd_ps(w3, xr, acc[r][3]);
    }
  }
  for (int r = 0; r < MR; ++r)
    store_row(p, m + r, pn, acc[r]);
}

static void panel_staged(const slm_sparse_f32_args_t *p, int64_t pn) {
  float stage[KC * 64] __attribute__((aligned(64)));
  const float *src = p->values + p->offsets[pn];
  const uint16_t *mk = p->masks + pn * p->K * 4;
  int64_t ahead = KC * 32; /* the next chunk's distance, guessed from the last chunk's length */
  for (int64_t k0 = 0; k0 < p->K; k0 += KC) {
    int64_t kc = p->K - k0 < KC ? p->K - k0 : KC;
    const float *start = src;
    /* The rows' long compute leaves the hardware prefetcher idle, so fetch the next chunk while
     * expanding this one (three lines per k: enough for S >= 0.25). A prefetch past the last panel is
     * harmless: prefetches never fault. */
    for (int64_t k = 0; k < kc; ++k) {
      expanded_t e;
      for (int l = 0; l < 3; ++l)
        _mm_prefetch((const char *)(src + ahead + 16 * l), _MM_HINT_T0);
      src = expand_k(mk + (k0 + k) * 4, src, &e);
      for (int b = 0; b < 4; ++b)
        _mm512_store_ps(stage + k * 64 + b * 16, e.v[b]);
    }
    ahead = src - start;
    int64_t m = 0;
    for (; m + 6 <= p->M; m += 6)
      staged_rows(p, stage, m, pn, k0, kc, 6);
    switch (p->M - m) {
    case 5:
      staged_rows(p, stage, m, pn, k0, kc, 5);
      break;
    case 4:
      staged_rows(p, stage, m, pn, k0, kc, 4);
      break;
    case 3:
      staged_rows(p, stage, m, pn, k0, kc, 3);
      break;
    case 2:
      staged_rows(p, stage, m, pn, k0, kc, 2);
      break;
    case 1:
      staged_rows(p, stage, m, pn, k0, kc, 1);
      break;
    default:
      break;
    }
  }
}

void slm_sparse_f32__avx512f(const slm_sparse_f32_args_t *p) {
  for (int64_t pn = p->panel_begin; pn < p->panel_end; ++pn) {
    if (p->M >= STAGED_MIN_M && p->K > 0) {
      panel_staged(p, pn);
      continue;
    }
    int64_t m = 0;
    for (; m + 4 <= p->M; m += 4)
      panel_rows(p, m, pn, 4);
    switch (p->M - m) {
    case 3:
      panel_rows(p, m, pn, 3);
      break;
    case 2:
      panel_rows(p, m, pn, 2);
      break;
    case 1:
      panel_row(p, m, pn);
      break;
    default:
      break;
    }
  }
}
