/* gemm-s8-rvv.c — slm.matmul_a8 on RISC-V V 1.0, VLEN-agnostic: a segment load (vlseg4e8) of one quad
 * (int8) or octet (int4) of a 16-column strip splits the VNNI layout's 4 bytes per column into 4 vectors
 * whose 16 lanes are the strip's columns. int8: codes made signed by u ^ 0x80 (no offset correction),
 * widened to int16 once per strip and multiply-added into int32 per row by a scalar activation (vwmacc.vx).
 * int4: nibbles times scalar activations into int16 (vwmaccsu.vx, 8 products of at most 15 x 128 per
 * octet), widened into int32 (vwadd.wv); 8 x the group sum is removed per group. Float across groups.
 * Every vector has 16 lanes (e8 m1, e16 m2, e32 m4 hold 16 at VLEN = 128 and more beyond), so the code
 * runs at any VLEN >= 128; wider VLENs leave lanes idle rather than change the layout.
 * Compiled by clang (-march=rv64gcv): gcc 12 has no RVV intrinsics.
 */
#include "gemm_s8.h"

#include <riscv_vector.h>

enum { VL = 16 }; /* the columns of a strip */

/* 16 float16 scales widened exactly (subnormals, infinities, NaNs included) with integer operations: the
 * base V extension has no half-precision conversion (that is Zvfhmin). */
static inline vfloat32m4_t load_f16x16(const uint16_t *p) {
  vuint32m4_t h = __riscv_vzext_vf2_u32m4(__riscv_vle16_v_u16m2(p, VL), VL);
  vuint32m4_t em = __riscv_vand_vx_u32m4(h, 0x7fff, VL), sign = __riscv_vsll_vx_u32m4(__riscv_vand_vx_u32m4(h, 0x8000, VL), 16, VL);
  /* (exponent, mantissa) << 13 read as a float is the value / 2^112, exact for normals and subnormals. */
  vfloat32m4_t f = __riscv_vfmul_vf_f32m4(__riscv_vreinterpret_v_u32m4_f32m4(__riscv_vsll_vx_u32m4(em, 13, VL)),
                                          0x1p112f, VL);
  vbool8_t special = __riscv_vmsgeu_vx_u32m4_b8(em, 0x7c00, VL); /* infinity, NaN: all-ones exponent */
  vuint32m4_t bits = __riscv_vmerge_vvm_u32m4(__riscv_vreinterpret_v_f32m4_u32m4(f),
                                              __riscv_vor_vx_u32m4(__riscv_vsll_vx_u32m4(em, 13, VL), 0x7f800000u, VL),
                                              special, VL);
  return __riscv_vreinterpret_v_u32m4_f32m4(__riscv_vor_vv_u32m4(bits, sign, VL));
}

/* Field I of a quad as signed int8 codes (u ^ 0x80) widened to int16. */
#define SIGNED_FIELD(q, I)                                                                                            \
  __riscv_vsext_vf2_i16m2(                                                                                            \
      __riscv_vreinterpret_v_u8m1_i8m1(__riscv_vxor_vx_u8m1(__riscv_vget_v_u8m1x4_u8m1(q, I), 0x80, VL)), VL)

/* Int4 octet: acc += the 8 products of row a's activations k..k+7 with the nibbles of fields lo/hi. */
static inline vint32m4_t int4_octet(vint32m4_t acc, const int8_t *a, vuint8m1_t l0, vuint8m1_t l1, vuint8m1_t l2,
                                    vuint8m1_t l3, vuint8m1_t h0, vuint8m1_t h1, vuint8m1_t h2, vuint8m1_t h3) {
  vint16m2_t t = __riscv_vwmaccsu_vx_i16m2(__riscv_vmv_v_x_i16m2(0, VL), a[0], l0, VL);
  t = __riscv_vwmaccsu_vx_i16m2(t, a[1], l1, VL);
  t = __riscv_vwmaccsu_vx_i16m2(t, a[2], l2, VL);
  t = __riscv_vwmaccsu_vx_i16m2(t, a[3], l3, VL);
  t = __riscv_vwmaccsu_vx_i16m2(t, a[4], h0, VL);
  t = __riscv_vwmaccsu_vx_i16m2(t, a[5], h1, VL);
  t = __riscv_vwmaccsu_vx_i16m2(t, a[6], h2, VL);
  t = __riscv_vwmaccsu_vx_i16m2(t, a[7], h3, VL);
  return __riscv_vwadd_wv_i32m4(acc, t, VL);
}

/* Nibbles of the four fields of octet q. */
#define SPLIT_NIBBLES(q, l0, l1, l2, l3, h0, h1, h2, h3)                                                              \
  vuint8m1_t l0 = __riscv_vand_vx_u8m1(__riscv_vget_v_u8m1x4_u8m1(q, 0), 15, VL),                                     \
             l1 = __riscv_vand_vx_u8m1(__riscv_vget_v_u8m1x4_u8m1(q, 1), 15, VL),                                     \
             l2 = __riscv_vand_vx_u8m1(__riscv_vget_v_u8m1x4_u8m1(q, 2), 15, VL),                                     \
             l3 = __riscv_vand_vx_u8m1(__riscv_vget_v_u8m1x4_u8m1(q, 3), 15, VL),                                     \
             h0 = __riscv_vsrl_vx_u8m1(__riscv_vget_v_u8m1x4_u8m1(q, 0), 4, VL),                                      \
             h1 = __riscv_vsrl_vx_u8m1(__riscv_vget_v_u8m1x4_u8m1(q, 1), 4, VL),                                      \
             h2 = __riscv_vsrl_vx_u8m1(__riscv_vget_v_u8m1x4_u8m1(q, 2), 4, VL),                                      \
             h3 = __riscv_vsrl_vx_u8m1(__riscv_vget_v_u8m1x4_u8m1(q, 3), 4, VL)

/* Two outputs of 16 columns: (row r0, strip s0) and (row r1, strip s1), the second stored only when `two`.
 * SHARED_W (a literal at each call) says s0 == s1: prefill's two rows reuse each loaded weight vector;
 * otherwise (decode) one row's activations serve two strips. The int32 and float accumulators take 16 of
 * the 32 vector registers at LMUL 4. */
static inline __attribute__((always_inline)) void block(const slm_gemm_s8_args_t *p, int64_t r0, int64_t r1,
                                                        int64_t s0, int64_t s1, int two, const int SHARED_W) {
  vfloat32m4_t f0 = __riscv_vfmv_v_f_f32m4(0.0f, VL), f1 = f0;
  const uint8_t *w0 = p->W + s0 * p->strip_bytes, *w1 = p->W + s1 * p->strip_bytes;
  const int8_t *a0 = p->A + r0 * p->lda, *a1 = p->A + r1 * p->lda;
  const int32_t off = p->bits == 8 ? 0 : 8;
  for (int64_t g = 0; g < p->groups; ++g) {
    vint32m4_t acc0 = __riscv_vmv_v_x_i32m4(0, VL), acc1 = acc0;
    int64_t k0 = g * p->group, k1 = k0 + p->group;
    if (p->bits == 8) {
      for (int64_t k = k0; k < k1; k += 4) {
        vuint8m1x4_t q0 = __riscv_vlseg4e8_v_u8m1x4(w0 + k * 16, VL);
        vint16m2_t c0 = SIGNED_FIELD(q0, 0), c1 = SIGNED_FIELD(q0, 1), c2 = SIGNED_FIELD(q0, 2), c3 = SIGNED_FIELD(q0, 3);
        acc0 = __riscv_vwmacc_vx_i32m4(acc0, a0[k], c0, VL);
        acc0 = __riscv_vwmacc_vx_i32m4(acc0, a0[k + 1], c1, VL);
        acc0 = __riscv_vwmacc_vx_i32m4(acc0, a0[k + 2], c2, VL);
        acc0 = __riscv_vwmacc_vx_i32m4(acc0, a0[k + 3], c3, VL);
        if (!SHARED_W) {
          vuint8m1x4_t q1 = __riscv_vlseg4e8_v_u8m1x4(w1 + k * 16, VL);
          c0 = SIGNED_FIELD(q1, 0), c1 = SIGNED_FIELD(q1, 1), c2 = SIGNED_FIELD(q1, 2), c3 = SIGNED_FIELD(q1, 3);
        }
        acc1 = __riscv_vwmacc_vx_i32m4(acc1, a1[k], c0, VL);
        acc1 = __riscv_vwmacc_vx_i32m4(acc1, a1[k + 1], c1, VL);
        acc1 = __riscv_vwmacc_vx_i32m4(acc1, a1[k + 2], c2, VL);
        acc1 = __riscv_vwmacc_vx_i32m4(acc1, a1[k + 3], c3, VL);
      }
    } else {
      for (int64_t k = k0; k < k1; k += 8) {
        vuint8m1x4_t q0 = __riscv_vlseg4e8_v_u8m1x4(w0 + k * 8, VL);
        SPLIT_NIBBLES(q0, l0, l1, l2, l3, h0, h1, h2, h3);
        acc0 = int4_octet(acc0, a0 + k, l0, l1, l2, l3, h0, h1, h2, h3);
        if (SHARED_W) {
          acc1 = int4_octet(acc1, a1 + k, l0, l1, l2, l3, h0, h1, h2, h3);
        } else {
          vuint8m1x4_t q1 = __riscv_vlseg4e8_v_u8m1x4(w1 + k * 8, VL);
          SPLIT_NIBBLES(q1, m0, m1, m2, m3, n0, n1, n2, n3);
          acc1 = int4_octet(acc1, a1 + k, m0, m1, m2, m3, n0, n1, n2, n3);
        }
      }
    }
    vfloat32m4_t sc0 = load_f16x16(p->scales + (s0 * p->groups + g) * 16);
    vfloat32m4_t sc1 = SHARED_W ? sc0 : load_f16x16(p->scales + (s1 * p->groups + g) * 16);
    /* group scales: the row's scale of this group goes into the weight scales */
    float ga0 = p->a_group_scales ? p->a_scale[r0 * p->groups + g] : 1.0f,
          ga1 = p->a_group_scales ? p->a_scale[r1 * p->groups + g] : 1.0f;
    vfloat32m4_t d0 = __riscv_vfcvt_f_x_v_f32m4(__riscv_vsub_vx_i32m4(acc0, off * p->a_sums[r0 * p->groups + g], VL), VL);
    vfloat32m4_t d1 = __riscv_vfcvt_f_x_v_f32m4(__riscv_vsub_vx_i32m4(acc1, off * p->a_sums[r1 * p->groups + g], VL), VL);
    f0 = __riscv_vfmacc_vv_f32m4(f0, d0, __riscv_vfmul_vf_f32m4(sc0, ga0, VL), VL);
    f1 = __riscv_vfmacc_vv_f32m4(f1, d1, __riscv_vfmul_vf_f32m4(sc1, ga1, VL), VL);
  }
  float as0 = p->a_group_scales ? 1.0f : p->a_scale[r0], as1 = p->a_group_scales ? 1.0f : p->a_scale[r1];
  int64_t nn0 = p->N - s0 * 16 < 16 ? p->N - s0 * 16 : 16, nn1 = p->N - s1 * 16 < 16 ? p->N - s1 * 16 : 16;
  __riscv_vse32_v_f32m4(p->C + r0 * p->ldc + s0 * 16, __riscv_vfmul_vf_f32m4(f0, as0, VL), (size_t)nn0);
  if (two) __riscv_vse32_v_f32m4(p->C + r1 * p->ldc + s1 * 16, __riscv_vfmul_vf_f32m4(f1, as1, VL), (size_t)nn1);
}

void slm_gemm_s8__rvv(const slm_gemm_s8_args_t *p) {
  int64_t s = p->strip_begin;
  if (p->M == 1) { /* decode: one row, two strips */
    for (; s + 2 <= p->strip_end; s += 2) block(p, 0, 0, s, s + 1, 1, 0);
    if (s < p->strip_end) block(p, 0, 0, s, s, 0, 1);
    return;
  }
  for (; s < p->strip_end; ++s)
    for (int64_t m = 0; m < p->M; m += 2) block(p, m, m + 1 < p->M ? m + 1 : m, s, s, m + 1 < p->M, 1);
}

void slm_quantize_row_s8__rvv(const float *x, int64_t k, int64_t kp, int64_t group, int8_t *q, float *scale,
                              int32_t *sums) {
  /* vfredmax ignores NaN lanes (IEEE maximumNumber), as the reference's std::max does. */
  vfloat32m1_t vmax = __riscv_vfmv_s_f_f32m1(0.0f, 1);
  size_t vl;
  for (int64_t i = 0; i < k; i += (int64_t)vl) {
    vl = __riscv_vsetvl_e32m8((size_t)(k - i));
    vmax = __riscv_vfredmax_vs_f32m8_f32m1(__riscv_vfabs_v_f32m8(__riscv_vle32_v_f32m8(x + i, vl), vl), vmax, vl);
  }
  float amax = __riscv_vfmv_f_s_f32m1_f32(vmax);
  float inv = amax > 0 ? 127.0f / amax : 0.0f;
  *scale = amax / 127.0f;
  for (int64_t i = 0; i < kp; i += (int64_t)vl) {
    vl = __riscv_vsetvl_e32m4((size_t)(kp - i));
    size_t live = i < k ? (k - i < (int64_t)vl ? (size_t)(k - i) : vl) : 0;
    /* lanes past k are 0; vfcvt rounds by frm, round-to-nearest-even unless changed, as nearbyint */
    vfloat32m4_t v = __riscv_vfmv_v_f_f32m4(0.0f, vl);
    v = __riscv_vle32_v_f32m4_tu(v, x + i, live);
    vint32m4_t c = __riscv_vfcvt_x_f_v_i32m4(__riscv_vfmul_vf_f32m4(v, inv, vl), vl);
    __riscv_vse8_v_i8m1(q + i, __riscv_vncvt_x_x_w_i8m1(__riscv_vncvt_x_x_w_i16m2(c, vl), vl), vl);
  }
  for (int64_t g = 0; g < kp / group; ++g) {
    int32_t sum = 0;
    for (int64_t j = g * group; j < (g + 1) * group; ++j) sum += q[j];
    sums[g] = sum;
  }
}
