/* gemm-s8-i8mm.c — slm.matmul_a8 on the NEON int8 matrix multiply (armv8.2-a+i8mm): usmmla multiplies a
 * 2x8 block of unsigned weight codes (two columns, 8 k) by an 8x2 block of int8 activations (two rows) into
 * a 2x2 int32 tile, so every weight byte loaded serves two rows with one instruction. The VNNI layout keeps
 * 4 k per column together; zip1/zip2 on 32-bit lanes pair quads k..k+3 and k+4..k+7 of a column (int8: two
 * consecutive quads; int4: the low and high nibbles of one octet). off x the group sum is removed per group.
 */
#include "gemm_s8.h"

#include <arm_neon.h>

#include "neon_s8_util.h"

/* Columns (4v, 4v+1) and (4v+2, 4v+3) of quads lo (k..k+3) and hi (k+4..k+7) as two 2x8 blocks. */
static inline void pair_columns(uint8x16_t lo, uint8x16_t hi, uint8x16_t *b01, uint8x16_t *b23) {
  uint32x4_t l = vreinterpretq_u32_u8(lo), h = vreinterpretq_u32_u8(hi);
  *b01 = vreinterpretq_u8_u32(vzip1q_u32(l, h));
  *b23 = vreinterpretq_u8_u32(vzip2q_u32(l, h));
}

/* Rows m, m + 1 (or m alone, computed twice, when mr = 1) x one strip s. Tile q (columns 2q, 2q + 1)
 * holds lanes (c 2q, row 0), (2q, row 1), (2q + 1, row 0), (2q + 1, row 1). */
static void block(const slm_gemm_s8_args_t *p, int64_t m, int mr, int64_t s) {
  float32x4_t f[8];
  for (int q = 0; q < 8; ++q) f[q] = vdupq_n_f32(0);
  const uint8_t *w = p->W + s * p->strip_bytes;
  const int8_t *a0 = p->A + m * p->lda, *a1 = p->A + (m + (mr > 1 ? 1 : 0)) * p->lda;
  int64_t r1 = m + (mr > 1 ? 1 : 0);
  const uint8x16_t nib = vdupq_n_u8(15);
  const int32_t off = p->bits == 8 ? 128 : 8;
  for (int64_t g = 0; g < p->groups; ++g) {
    int32x4_t acc[8];
    for (int q = 0; q < 8; ++q) acc[q] = vdupq_n_s32(0);
    int64_t k0 = g * p->group, k1 = k0 + p->group;
    for (int64_t k = k0; k < k1; k += 8) {
      int8x16_t x = vcombine_s8(vld1_s8(a0 + k), vld1_s8(a1 + k));
      for (int v = 0; v < 4; ++v) {
        uint8x16_t lo, hi, b01, b23;
        if (p->bits == 8) {
          lo = vld1q_u8(w + k * 16 + 16 * v);
          hi = vld1q_u8(w + (k + 4) * 16 + 16 * v);
        } else {
          uint8x16_t u = vld1q_u8(w + k * 8 + 16 * v);
          lo = vandq_u8(u, nib);
          hi = vshrq_n_u8(u, 4);
        }
        pair_columns(lo, hi, &b01, &b23);
        acc[2 * v] = vusmmlaq_s32(acc[2 * v], b01, x);
        acc[2 * v + 1] = vusmmlaq_s32(acc[2 * v + 1], b23, x);
      }
    }
    const int32_t *sums = p->a_sums + g;
    int32_t c0 = slm_s8_offset_times_sum(off, sums[m * p->groups]),
            c1 = slm_s8_offset_times_sum(off, sums[r1 * p->groups]);
    int32x4_t corr = {c0, c1, c0, c1};
    float32x4_t ga = vdupq_n_f32(1.0f);
    if (p->a_group_scales) { /* the rows' scales of this group go into the weight scales */
      float g0 = p->a_scale[m * p->groups + g], g1 = p->a_scale[r1 * p->groups + g];
      ga = (float32x4_t){g0, g1, g0, g1};
    }
    const uint16_t *sp = p->scales + (s * p->groups + g) * 16;
    for (int v = 0; v < 4; ++v) {
      float32x4_t sc = slm_load_f16x4(sp + 4 * v);
      float32x4_t s01 = vmulq_f32(vzip1q_f32(sc, sc), ga), s23 = vmulq_f32(vzip2q_f32(sc, sc), ga);
      f[2 * v] = vfmaq_f32(f[2 * v], vcvtq_f32_s32(vsubq_s32(acc[2 * v], corr)), s01);
      f[2 * v + 1] = vfmaq_f32(f[2 * v + 1], vcvtq_f32_s32(vsubq_s32(acc[2 * v + 1], corr)), s23);
    }
  }
  float out[2][16];
  float as0 = p->a_group_scales ? 1.0f : p->a_scale[m], as1 = p->a_group_scales ? 1.0f : p->a_scale[r1];
  for (int v = 0; v < 4; ++v) {
    vst1q_f32(out[0] + 4 * v, vmulq_n_f32(vuzp1q_f32(f[2 * v], f[2 * v + 1]), as0));
    vst1q_f32(out[1] + 4 * v, vmulq_n_f32(vuzp2q_f32(f[2 * v], f[2 * v + 1]), as1));
  }
  int64_t col = s * 16, nn = p->N - col < 16 ? p->N - col : 16;
  for (int r = 0; r < mr; ++r)
    for (int64_t c = 0; c < nn; ++c) p->C[(m + r) * p->ldc + col + c] = out[r][c];
}

void slm_gemm_s8__neoni8mm(const slm_gemm_s8_args_t *p) {
  if (p->M == 1) { /* decode: a 2-row tile would waste half of every usmmla */
    slm_gemm_s8__neondot(p);
    return;
  }
  for (int64_t s = p->strip_begin; s < p->strip_end; ++s)
    for (int64_t m = 0; m < p->M; m += 2) block(p, m, p->M - m < 2 ? (int)(p->M - m) : 2, s);
}
