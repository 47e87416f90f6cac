/* gemm-s8-neondot.c — slm.matmul_a8 on the NEON dot product (armv8.2-a+dotprod): sdot of 4 weight bytes
 * by 4 activation bytes per 32-bit lane (the quads of the VNNI weight layout), int32 per group, float
 * across groups. int8 weights become signed by u ^ 0x80 (no offset correction); int4 nibbles (0..15) are
 * already valid signed bytes, and 8 x the group's activation sum is removed once per group.
 */
#include "gemm_s8.h"

#include <arm_neon.h>

#include "neon_s8_util.h"

/* Rows [m, m + mr) (mr <= MR) x strips [s, s + NS); MR and NS are literals at each call. Each strip is
 * four q registers of 4 columns; a weight vector is used by MR rows before the next is loaded. */
static inline __attribute__((always_inline)) void block(const slm_gemm_s8_args_t *p, int64_t m, int mr, int64_t s,
                                                        const int MR, const int NS) {
  float32x4_t f[4][2][4];
  for (int r = 0; r < MR; ++r)
    for (int j = 0; j < NS; ++j)
      for (int v = 0; v < 4; ++v) f[r][j][v] = vdupq_n_f32(0);
  const uint8_t *w[2];
  for (int j = 0; j < NS; ++j) w[j] = p->W + (s + j) * p->strip_bytes;
  const int8_t *a[4];
  for (int r = 0; r < MR; ++r) a[r] = p->A + (m + (r < mr ? r : 0)) * p->lda;
  const uint8x16_t nib = vdupq_n_u8(15), flip = vdupq_n_u8(0x80);
  const int32_t off = p->bits == 8 ? 0 : 8;
  for (int64_t g = 0; g < p->groups; ++g) {
    int32x4_t acc[4][2][4];
    for (int r = 0; r < MR; ++r)
      for (int j = 0; j < NS; ++j)
        for (int v = 0; v < 4; ++v) acc[r][j][v] = vdupq_n_s32(0);
    int64_t k0 = g * p->group, k1 = k0 + p->group;
    if (p->bits == 8) {
      for (int64_t k = k0; k < k1; k += 4) {
        int8x16_t x[4];
        for (int r = 0; r < MR; ++r) x[r] = slm_bcast4_s8(a[r] + k);
        for (int j = 0; j < NS; ++j)
          for (int v = 0; v < 4; ++v) {
            int8x16_t sw = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(w[j] + k * 16 + 16 * v), flip));
            for (int r = 0; r < MR; ++r) acc[r][j][v] = vdotq_s32(acc[r][j][v], sw, x[r]);
          }
      }
    } else {
      for (int64_t k = k0; k < k1; k += 8) {
        int8x16_t xl[4], xh[4];
        for (int r = 0; r < MR; ++r) xl[r] = slm_bcast4_s8(a[r] + k), xh[r] = slm_bcast4_s8(a[r] + k + 4);
        for (int j = 0; j < NS; ++j)
          for (int v = 0; v < 4; ++v) {
            uint8x16_t u = vld1q_u8(w[j] + k * 8 + 16 * v);
            int8x16_t lo = vreinterpretq_s8_u8(vandq_u8(u, nib)), hi = vreinterpretq_s8_u8(vshrq_n_u8(u, 4));
            for (int r = 0; r < MR; ++r) acc[r][j][v] = vdotq_s32(vdotq_s32(acc[r][j][v], lo, xl[r]), hi, xh[r]);
          }
      }
    }
    for (int j = 0; j < NS; ++j) {
      const uint16_t *sp = p->scales + ((s + j) * p->groups + g) * 16;
      float32x4_t sc[4];
      for (int v = 0; v < 4; ++v) sc[v] = slm_load_f16x4(sp + 4 * v);
      for (int r = 0; r < MR; ++r) {
        if (r >= mr) break;
        int32x4_t corr = vdupq_n_s32(slm_s8_offset_times_sum(off, p->a_sums[(m + r) * p->groups + g]));
        /* group scales: the row's scale of this group goes into the weight scales */
        float ga = p->a_group_scales ? p->a_scale[(m + r) * p->groups + g] : 1.0f;
        for (int v = 0; v < 4; ++v)
          f[r][j][v] = vfmaq_f32(f[r][j][v], vcvtq_f32_s32(vsubq_s32(acc[r][j][v], corr)), vmulq_n_f32(sc[v], ga));
      }
    }
  }
  for (int r = 0; r < MR; ++r) {
    if (r >= mr) break;
    float as = p->a_group_scales ? 1.0f : p->a_scale[m + r];
    for (int j = 0; j < NS; ++j) {
      float out[16];
      for (int v = 0; v < 4; ++v) vst1q_f32(out + 4 * v, vmulq_n_f32(f[r][j][v], as));
      int64_t col = (s + j) * 16, nn = p->N - col < 16 ? p->N - col : 16;
      for (int64_t c = 0; c < nn; ++c) p->C[(m + r) * p->ldc + col + c] = out[c];
    }
  }
}

void slm_gemm_s8__neondot(const slm_gemm_s8_args_t *p) {
  int64_t s = p->strip_begin;
  if (p->M == 1) { /* decode: one row, two strips (8 accumulators) in flight */
    for (; s + 2 <= p->strip_end; s += 2) block(p, 0, 1, s, 1, 2);
    for (; s < p->strip_end; ++s) block(p, 0, 1, s, 1, 1);
    return;
  }
  for (; s < p->strip_end; ++s)
    for (int64_t m = 0; m < p->M; m += 4) block(p, m, p->M - m < 4 ? (int)(p->M - m) : 4, s, 4, 1);
}
