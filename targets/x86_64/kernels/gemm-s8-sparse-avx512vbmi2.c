/* gemm-s8-sparse-avx512vbmi2.c — slm.matmul_a8_sparse on AVX-512 VBMI2 + VNNI: each 64-byte weight tile expanded
 * from its mask (vpexpandb, unset bytes the zero code), then matmul_a8's u8 x s8 dot products (vpdpbusd). */
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

/* Rows [m, m + mr) (mr <= MR) x strips [s, s + NS), as gemm-s8-avx512vnni.c's block: MR and NS are literals at
 * every call. Each strip's value pointer walks its stream by the masks' popcounts; a row block restarts it. The
 * expanded tile holds the stored codes (int4 codes one per byte), so both widths share one loop. */
static inline __attribute__((always_inline)) void block(const slm_sparse_s8_args_t *sp, int64_t m, int mr, int64_t s,
                                                        const int MR, const int NS) {
  const slm_gemm_s8_args_t *p = &sp->gemm;
  const int64_t quads = p->kp / 4, group_quads = p->group / 4;
  __m512 f[4][4];
  for (int r = 0; r < MR; ++r)
    for (int j = 0; j < NS; ++j) f[r][j] = _mm512_setzero_ps();
  const uint8_t *v[4];
  const uint64_t *mk[4];
  for (int j = 0; j < NS; ++j) {
    v[j] = sp->values + sp->offsets[s + j];
    mk[j] = sp->masks + (s + j) * quads;
  }
  const int8_t *a[4];
  for (int r = 0; r < MR; ++r) a[r] = p->A + (m + (r < mr ? r : 0)) * p->lda;
  const int32_t off = slm_sparse_s8_zero_code(p->bits);
  const __m512i zero = _mm512_set1_epi8((char)off);
  for (int64_t g = 0; g < p->groups; ++g) {
    __m512i acc[4][4];
    for (int r = 0; r < MR; ++r)
      for (int j = 0; j < NS; ++j) acc[r][j] = _mm512_setzero_si512();
    for (int64_t i = g * group_quads; i < (g + 1) * group_quads; ++i) {
      __m512i wv[4];
      for (int j = 0; j < NS; ++j) {
        uint64_t bits = mk[j][i];
        wv[j] = _mm512_mask_expandloadu_epi8(zero, (__mmask64)bits, v[j]);
        v[j] += __builtin_popcountll(bits);
      }
      for (int r = 0; r < MR; ++r) {
        if (r >= mr) break;
        __m512i x = bcast4(a[r] + 4 * i);
        for (int j = 0; j < NS; ++j) acc[r][j] = _mm512_dpbusd_epi32(acc[r][j], wv[j], x);
      }
    }
    __m512 sc[4];
    for (int j = 0; j < NS; ++j)
      sc[j] = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p->scales + ((s + j) * p->groups + g) * 16)));
    for (int r = 0; r < MR; ++r) {
      if (r >= mr) break;
      __m512i corr = _mm512_set1_epi32(slm_s8_offset_times_sum(off, p->a_sums[(m + r) * p->groups + g]));
      if (p->a_group_scales) {
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

void slm_gemm_s8_sparse__avx512vbmi2(const slm_sparse_s8_args_t *sp) {
  const slm_gemm_s8_args_t *p = &sp->gemm;
  int64_t s = p->strip_begin;
  if (p->M == 1) { /* decode: one row, four strips in flight to hide the expand and vpdpbusd latencies */
    for (; s + 4 <= p->strip_end; s += 4) block(sp, 0, 1, s, 1, 4);
    for (; s < p->strip_end; ++s) block(sp, 0, 1, s, 1, 1);
    return;
  }
  for (; s + 2 <= p->strip_end; s += 2)
    for (int64_t m = 0; m < p->M; m += 4) block(sp, m, p->M - m < 4 ? (int)(p->M - m) : 4, s, 4, 2);
  for (; s < p->strip_end; ++s)
    for (int64_t m = 0; m < p->M; m += 4) block(sp, m, p->M - m < 4 ? (int)(p->M - m) : 4, s, 4, 1);
}
