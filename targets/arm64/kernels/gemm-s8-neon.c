/* gemm-s8-neon.c — slm.matmul_a8 on baseline NEON (armv8-a, no dot product): widening int8 multiplies
 * (smull/smull2, smlal for int4's two nibbles) pairwise-added into int32 (sadalp), int32 per group, float
 * across groups; and quantize_rows' row quantizer (fcvtns rounds half to even, as the reference's nearbyint).
 */
#include "gemm_s8.h"

#include <arm_neon.h>

#include "neon_s8_util.h"

/* Rows [m, m + mr) (mr <= MR) x one 16-column strip s; MR is a literal at each call. A weight vector holds
 * 4 columns x 4 k (byte 4c + j); smull pairs its low/high 8 bytes with the activations, sadalp folds the
 * int16 products two by two into int32 lanes (c, k 0-1), (c, k 2-3), and one pairwise add per group
 * finishes each column. int8 weights go through u ^ 0x80, the signed code, so no offset correction;
 * int4 nibbles (0..15) times two activations stay within int16, and 8 x the group sum is removed. */
static inline __attribute__((always_inline)) void block(const slm_gemm_s8_args_t *p, int64_t m, int mr, int64_t s,
                                                        const int MR) {
  float32x4_t f[2][4];
  for (int r = 0; r < MR; ++r)
    for (int v = 0; v < 4; ++v) f[r][v] = vdupq_n_f32(0);
  const uint8_t *w = p->W + s * p->strip_bytes;
  const int8_t *a[2];
  for (int r = 0; r < MR; ++r) a[r] = p->A + (m + (r < mr ? r : 0)) * p->lda;
  const uint8x16_t nib = vdupq_n_u8(15), flip = vdupq_n_u8(0x80);
  const int32_t off = p->bits == 8 ? 0 : 8;
  for (int64_t g = 0; g < p->groups; ++g) {
    int32x4_t acc[2][4][2];
    for (int r = 0; r < MR; ++r)
      for (int v = 0; v < 4; ++v) acc[r][v][0] = acc[r][v][1] = vdupq_n_s32(0);
    int64_t k0 = g * p->group, k1 = k0 + p->group;
    if (p->bits == 8) {
      for (int64_t k = k0; k < k1; k += 4) {
        int8x16_t x[2];
        for (int r = 0; r < MR; ++r) x[r] = slm_bcast4_s8(a[r] + k);
        for (int v = 0; v < 4; ++v) {
          int8x16_t sw = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(w + k * 16 + 16 * v), flip));
          for (int r = 0; r < MR; ++r) {
            acc[r][v][0] = vpadalq_s16(acc[r][v][0], vmull_s8(vget_low_s8(sw), vget_low_s8(x[r])));
            acc[r][v][1] = vpadalq_s16(acc[r][v][1], vmull_high_s8(sw, x[r]));
          }
        }
      }
    } else {
      for (int64_t k = k0; k < k1; k += 8) {
        int8x16_t xl[2], xh[2];
        for (int r = 0; r < MR; ++r) xl[r] = slm_bcast4_s8(a[r] + k), xh[r] = slm_bcast4_s8(a[r] + k + 4);
        for (int v = 0; v < 4; ++v) {
          uint8x16_t u = vld1q_u8(w + k * 8 + 16 * v);
          int8x16_t lo = vreinterpretq_s8_u8(vandq_u8(u, nib)), hi = vreinterpretq_s8_u8(vshrq_n_u8(u, 4));
          for (int r = 0; r < MR; ++r) {
            int16x8_t p0 = vmlal_s8(vmull_s8(vget_low_s8(lo), vget_low_s8(xl[r])), vget_low_s8(hi), vget_low_s8(xh[r]));
            int16x8_t p1 = vmlal_high_s8(vmull_high_s8(lo, xl[r]), hi, xh[r]);
            acc[r][v][0] = vpadalq_s16(acc[r][v][0], p0);
            acc[r][v][1] = vpadalq_s16(acc[r][v][1], p1);
          }
        }
      }
    }
    const uint16_t *sp = p->scales + (s * p->groups + g) * 16;
    float32x4_t sc[4];
    for (int v = 0; v < 4; ++v) sc[v] = slm_load_f16x4(sp + 4 * v);
    for (int r = 0; r < MR; ++r) {
      if (r >= mr) break;
      int32x4_t corr = vdupq_n_s32(slm_s8_offset_times_sum(off, p->a_sums[(m + r) * p->groups + g]));
      /* group scales: the row's scale of this group goes into the weight scales */
      float ga = p->a_group_scales ? p->a_scale[(m + r) * p->groups + g] : 1.0f;
      for (int v = 0; v < 4; ++v) {
        int32x4_t d = vsubq_s32(vpaddq_s32(acc[r][v][0], acc[r][v][1]), corr);
        f[r][v] = vfmaq_f32(f[r][v], vcvtq_f32_s32(d), vmulq_n_f32(sc[v], ga));
      }
    }
  }
  for (int r = 0; r < MR; ++r) {
    if (r >= mr) break;
    float out[16];
    float as = p->a_group_scales ? 1.0f : p->a_scale[m + r];
    for (int v = 0; v < 4; ++v) vst1q_f32(out + 4 * v, vmulq_n_f32(f[r][v], as));
    int64_t col = s * 16, nn = p->N - col < 16 ? p->N - col : 16;
    for (int64_t c = 0; c < nn; ++c) p->C[(m + r) * p->ldc + col + c] = out[c];
  }
}

void slm_gemm_s8__neon(const slm_gemm_s8_args_t *p) {
  for (int64_t s = p->strip_begin; s < p->strip_end; ++s)
    for (int64_t m = 0; m < p->M; m += 2) block(p, m, p->M - m < 2 ? (int)(p->M - m) : 2, s, 2);
}

void slm_quantize_row_s8__neon(const float *x, int64_t k, int64_t kp, int64_t group, int8_t *q, float *scale,
                               int32_t *sums) {
  /* fmaxnm ignores NaN lanes, as the reference's std::max does. */
  float32x4_t vmax = vdupq_n_f32(0);
  int64_t i = 0;
  for (; i + 4 <= k; i += 4) vmax = vmaxnmq_f32(vmax, vabsq_f32(vld1q_f32(x + i)));
  float amax = vmaxnmvq_f32(vmax);
  for (; i < k; ++i) {
    float v = x[i] < 0 ? -x[i] : x[i];
    amax = v > amax ? v : amax;
  }
  float inv = amax > 0 ? 127.0f / amax : 0.0f;
  *scale = amax / 127.0f;
  float32x4_t vinv = vdupq_n_f32(inv);
  for (i = 0; i + 8 <= k; i += 8) {
    int32x4_t v0 = vcvtnq_s32_f32(vmulq_f32(vld1q_f32(x + i), vinv));
    int32x4_t v1 = vcvtnq_s32_f32(vmulq_f32(vld1q_f32(x + i + 4), vinv));
    vst1_s8(q + i, vqmovn_s16(vcombine_s16(vqmovn_s32(v0), vqmovn_s32(v1))));
  }
  for (; i < kp; ++i) q[i] = i < k ? (int8_t)vcvtns_s32_f32(x[i] * inv) : 0;
  for (int64_t g = 0; g < kp / group; ++g) {
    int32_t sum = 0;
    for (int64_t j = g * group; j < (g + 1) * group; ++j) sum += q[j];
    sums[g] = sum;
  }
}
