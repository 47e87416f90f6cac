/* gemm-s8-rvv.c — slm.matmul_a8 on RISC-V V 1.0, VLEN-agnostic. The VNNI layout keeps the 4 codes of one
 * column and quad (int8) or the 8 codes of one column and octet (int4) in one 32-bit word, so a unit-stride
 * vle32 of 64 bytes puts a strip's 16 columns in 16 int32 lanes; shifts pull out each code (int8: made signed
 * by u ^ 0x80 then sign-extended, so no offset correction; int4: nibbles 0..15, 8 x the group's activation sum
 * removed per group) and vmacc.vx multiply-adds it by the row's scalar activation into int32. Float across
 * groups. (A segment-load version, vlseg4e8 + widening vwmacc.vx / vwmaccsu.vx on int8 lanes, was 1.7x
 * slower under qemu at VLEN = 128.) Every vector has 16 lanes (e32 m4 holds them at VLEN = 128, and more
 * beyond), so the code runs at any VLEN >= 128; wider VLENs leave lanes idle rather than change the layout.
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

/* A quad's 16 columns as 32-bit lanes (4 codes each), made signed bytewise (u ^ 0x80). */
#define WORDS(ptr)                                                                                                    \
  __riscv_vreinterpret_v_u32m4_i32m4(__riscv_vxor_vx_u32m4(__riscv_vle32_v_u32m4((const uint32_t *)(const void *)(ptr), VL), 0x80808080u, VL))
/* Byte I (k = 4i + I) of every lane, sign-extended. */
#define BYTE(q, I) __riscv_vsra_vx_i32m4(__riscv_vsll_vx_i32m4(q, 24 - 8 * (I), VL), 24, VL)

/* Code k = 8i + J of every lane of an int4 octet: low nibble of byte J for J < 4, else high nibble of byte J - 4. */
#define NIBBLE(q, J)                                                                                                  \
  __riscv_vreinterpret_v_u32m4_i32m4(__riscv_vand_vx_u32m4(__riscv_vsrl_vx_u32m4(q, (J) < 4 ? 8 * (J) : 8 * ((J) - 4) + 4, VL), 15, VL))

/* Int4 octet: acc += the 8 products of activations a[0..7] with codes n0..n7 (0..15). */
static inline vint32m4_t int4_octet(vint32m4_t acc, const int8_t *a, vint32m4_t n0, vint32m4_t n1, vint32m4_t n2,
                                    vint32m4_t n3, vint32m4_t n4, vint32m4_t n5, vint32m4_t n6, vint32m4_t n7) {
  acc = __riscv_vmacc_vx_i32m4(acc, a[0], n0, VL);
  acc = __riscv_vmacc_vx_i32m4(acc, a[1], n1, VL);
  acc = __riscv_vmacc_vx_i32m4(acc, a[2], n2, VL);
  acc = __riscv_vmacc_vx_i32m4(acc, a[3], n3, VL);
  acc = __riscv_vmacc_vx_i32m4(acc, a[4], n4, VL);
  acc = __riscv_vmacc_vx_i32m4(acc, a[5], n5, VL);
  acc = __riscv_vmacc_vx_i32m4(acc, a[6], n6, VL);
  return __riscv_vmacc_vx_i32m4(acc, a[7], n7, VL);
}

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
        vint32m4_t q0 = WORDS(w0 + k * 16);
        vint32m4_t c0 = BYTE(q0, 0), c1 = BYTE(q0, 1), c2 = BYTE(q0, 2), c3 = __riscv_vsra_vx_i32m4(q0, 24, VL);
        acc0 = __riscv_vmacc_vx_i32m4(acc0, a0[k], c0, VL);
        acc0 = __riscv_vmacc_vx_i32m4(acc0, a0[k + 1], c1, VL);
        acc0 = __riscv_vmacc_vx_i32m4(acc0, a0[k + 2], c2, VL);
        acc0 = __riscv_vmacc_vx_i32m4(acc0, a0[k + 3], c3, VL);
        if (!SHARED_W) {
          vint32m4_t q1 = WORDS(w1 + k * 16);
          c0 = BYTE(q1, 0), c1 = BYTE(q1, 1), c2 = BYTE(q1, 2), c3 = __riscv_vsra_vx_i32m4(q1, 24, VL);
        }
        acc1 = __riscv_vmacc_vx_i32m4(acc1, a1[k], c0, VL);
        acc1 = __riscv_vmacc_vx_i32m4(acc1, a1[k + 1], c1, VL);
        acc1 = __riscv_vmacc_vx_i32m4(acc1, a1[k + 2], c2, VL);
        acc1 = __riscv_vmacc_vx_i32m4(acc1, a1[k + 3], c3, VL);
      }
    } else {
      for (int64_t k = k0; k < k1; k += 8) {
        vuint32m4_t q0 = __riscv_vle32_v_u32m4((const uint32_t *)(const void *)(w0 + k * 8), VL);
        vint32m4_t n0 = NIBBLE(q0, 0), n1 = NIBBLE(q0, 1), n2 = NIBBLE(q0, 2), n3 = NIBBLE(q0, 3), n4 = NIBBLE(q0, 4),
                   n5 = NIBBLE(q0, 5), n6 = NIBBLE(q0, 6), n7 = NIBBLE(q0, 7);
        acc0 = int4_octet(acc0, a0 + k, n0, n1, n2, n3, n4, n5, n6, n7);
        if (!SHARED_W) {
          vuint32m4_t q1 = __riscv_vle32_v_u32m4((const uint32_t *)(const void *)(w1 + k * 8), VL);
          n0 = NIBBLE(q1, 0), n1 = NIBBLE(q1, 1), n2 = NIBBLE(q1, 2), n3 = NIBBLE(q1, 3), n4 = NIBBLE(q1, 4);
          n5 = NIBBLE(q1, 5), n6 = NIBBLE(q1, 6), n7 = NIBBLE(q1, 7);
        }
        acc1 = int4_octet(acc1, a1 + k, n0, n1, n2, n3, n4, n5, n6, n7);
      }
    }
    vfloat32m4_t sc0 = load_f16x16(p->scales + (s0 * p->groups + g) * 16);
    vfloat32m4_t sc1 = SHARED_W ? sc0 : load_f16x16(p->scales + (s1 * p->groups + g) * 16);
    /* group scales: the row's scale of this group goes into the weight scales */
    float ga0 = p->a_group_scales ? p->a_scale[r0 * p->groups + g] : 1.0f,
          ga1 = p->a_group_scales ? p->a_scale[r1 * p->groups + g] : 1.0f;
    vfloat32m4_t d0 = __riscv_vfcvt_f_x_v_f32m4(__riscv_vsub_vx_i32m4(acc0, slm_s8_offset_times_sum(off, p->a_sums[r0 * p->groups + g]), VL), VL);
    vfloat32m4_t d1 = __riscv_vfcvt_f_x_v_f32m4(__riscv_vsub_vx_i32m4(acc1, slm_s8_offset_times_sum(off, p->a_sums[r1 * p->groups + g]), VL), VL);
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
