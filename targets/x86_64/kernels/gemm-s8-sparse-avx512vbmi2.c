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

/* Bytes of expanded tiles per strip that a prefill block keeps on the stack (2 strips in flight): 256 quads. */
#define SLM_SPARSE_S8_BUF 16384

/* The 64-byte tile of `mask` whose set bytes follow each other at `v` (vpexpandb from memory: it reads only the
 * popcount(mask) bytes, never past the end of the values). */
static inline __m512i expand_tile(__m512i zero, uint64_t mask, const uint8_t *v) {
  return _mm512_mask_expandloadu_epi8(zero, (__mmask64)mask, v);
}

/* Rows [m, m + mr) (mr <= MR) x strips [s, s + NS) over K quads [q0, q1), as gemm-s8-avx512vnni.c's block: MR, NS
 * and FROM_BUF are literals at every call, so the accumulators stay in registers once inlined. FROM_BUF = 0 expands
 * each tile as it goes, walking strip j's values from v[j] (advanced past the quads); FROM_BUF = 1 reads the tiles
 * that expand_quads left in buf[j] (quad q0 first). The expanded tile holds the stored codes (int4 codes one per
 * byte), so both widths share one loop. A group cut by q0 or q1 is summed in two parts; its offset correction goes
 * with the part holding its first quad. `add`: add to C (a later chunk of quads) rather than store. */
static inline __attribute__((always_inline)) void block(const slm_sparse_s8_args_t *sp, const uint8_t **v,
                                                        const uint8_t *const *buf, int64_t q0, int64_t q1, int add,
                                                        int64_t m, int mr, int64_t s, const int MR, const int NS,
                                                        const int FROM_BUF) {
  const slm_gemm_s8_args_t *p = &sp->gemm;
  const int64_t quads = p->kp / 4, group_quads = p->group / 4;
  __m512 f[4][4];
  for (int r = 0; r < MR; ++r)
    for (int j = 0; j < NS; ++j) f[r][j] = _mm512_setzero_ps();
  const uint64_t *mk[4];
  for (int j = 0; j < NS; ++j) mk[j] = sp->masks + (s + j) * quads;
  const int8_t *a[4];
  for (int r = 0; r < MR; ++r) a[r] = p->A + (m + (r < mr ? r : 0)) * p->lda;
  const int32_t off = slm_sparse_s8_zero_code(p->bits);
  const __m512i zero = _mm512_set1_epi8((char)off);
  for (int64_t g = q0 / group_quads; g * group_quads < q1; ++g) {
    __m512i acc[4][4];
    for (int r = 0; r < MR; ++r)
      for (int j = 0; j < NS; ++j) acc[r][j] = _mm512_setzero_si512();
    const int64_t i0 = g * group_quads > q0 ? g * group_quads : q0;
    const int64_t i1 = (g + 1) * group_quads < q1 ? (g + 1) * group_quads : q1;
    for (int64_t i = i0; i < i1; ++i) {
      __m512i wv[4];
      for (int j = 0; j < NS; ++j) {
        if (FROM_BUF) {
          wv[j] = _mm512_loadu_si512((const void *)(buf[j] + (i - q0) * 64));
        } else {
          uint64_t bits = mk[j][i];
          wv[j] = expand_tile(zero, bits, v[j]);
          v[j] += __builtin_popcountll(bits);
        }
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
      __m512i corr = i0 == g * group_quads ? _mm512_set1_epi32(slm_s8_offset_times_sum(off, p->a_sums[(m + r) * p->groups + g]))
                                           : _mm512_setzero_si512();
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
      float *c = p->C + (m + r) * p->ldc + col;
      __mmask16 live = tail_mask(p->N - col);
      __m512 y = _mm512_mul_ps(f[r][j], as);
      if (add) y = _mm512_add_ps(_mm512_maskz_loadu_ps(live, c), y);
      _mm512_mask_storeu_ps(c, live, y);
    }
  }
}

/* The tiles of strips [s, s + ns) for quads [q0, q1) into buf[j], each strip's values walked on from v[j]. */
static void expand_quads(const slm_sparse_s8_args_t *sp, const uint8_t **v, uint8_t *const *buf, int64_t s, int ns,
                         int64_t q0, int64_t q1) {
  const int64_t quads = sp->gemm.kp / 4;
  const __m512i zero = _mm512_set1_epi8((char)slm_sparse_s8_zero_code(sp->gemm.bits));
  for (int j = 0; j < ns; ++j) {
    const uint64_t *mk = sp->masks + (s + j) * quads;
    for (int64_t i = q0; i < q1; ++i) {
      _mm512_storeu_si512((void *)(buf[j] + (i - q0) * 64), expand_tile(zero, mk[i], v[j]));
      v[j] += __builtin_popcountll(mk[i]);
    }
  }
}

/* Strips [s, s + NS) over every row. One row block (M <= 4): tiles expanded as the block goes. Otherwise, per chunk
 * of 256 quads, the tiles are expanded once into a stack buffer and every row block reads them as the dense kernel
 * reads its weight, adding each chunk's part to C. */
static inline __attribute__((always_inline)) void strips(const slm_sparse_s8_args_t *sp, int64_t s, const int NS) {
  const slm_gemm_s8_args_t *p = &sp->gemm;
  const int64_t quads = p->kp / 4, chunk = SLM_SPARSE_S8_BUF / 64;
  const uint8_t *v[4];
  for (int j = 0; j < NS; ++j) v[j] = sp->values + sp->offsets[s + j];
  if (p->M <= 4) {
    block(sp, v, 0, 0, quads, 0, 0, (int)p->M, s, 4, NS, 0);
    return;
  }
  _Alignas(64) uint8_t storage[2][SLM_SPARSE_S8_BUF];
  uint8_t *const buf[2] = {storage[0], storage[1]};
  for (int64_t q0 = 0; q0 < quads; q0 += chunk) {
    int64_t q1 = q0 + chunk < quads ? q0 + chunk : quads;
    expand_quads(sp, v, buf, s, NS, q0, q1);
    for (int64_t m = 0; m < p->M; m += 4)
      block(sp, 0, (const uint8_t *const *)buf, q0, q1, q0 > 0, m, p->M - m < 4 ? (int)(p->M - m) : 4, s, 4, NS, 1);
  }
}

/* Separate frames, so only one buffer is on the stack at a time. */
static __attribute__((noinline)) void strips2(const slm_sparse_s8_args_t *sp, int64_t s) { strips(sp, s, 2); }
static __attribute__((noinline)) void strips1(const slm_sparse_s8_args_t *sp, int64_t s) { strips(sp, s, 1); }

void slm_gemm_s8_sparse__avx512vbmi2(const slm_sparse_s8_args_t *sp) {
  const slm_gemm_s8_args_t *p = &sp->gemm;
  int64_t s = p->strip_begin;
  if (p->M == 1) { /* decode: one row, four strips in flight to hide the expand and vpdpbusd latencies */
    const uint8_t *v[4];
    for (; s + 4 <= p->strip_end; s += 4) {
      for (int j = 0; j < 4; ++j) v[j] = sp->values + sp->offsets[s + j];
      block(sp, v, 0, 0, p->kp / 4, 0, 0, 1, s, 1, 4, 0);
    }
    for (; s < p->strip_end; ++s) {
      v[0] = sp->values + sp->offsets[s];
      block(sp, v, 0, 0, p->kp / 4, 0, 0, 1, s, 1, 1, 0);
    }
    return;
  }
  for (; s + 2 <= p->strip_end; s += 2) strips2(sp, s);
  for (; s < p->strip_end; ++s) strips1(sp, s);
}
