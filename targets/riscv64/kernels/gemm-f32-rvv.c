/* gemm-f32-rvv.c — fp32 GEMM/GEMV for RISC-V V 1.0, VLEN-agnostic: vsetvl picks the column strip
 * width at run time (LMUL=4: 16 floats at VLEN=128, 64 at VLEN=512) and handles column tails, so
 * there is no tail code. GEMM keeps 6 rows of C in 6 LMUL=4 register groups (24 of 32 registers).
 * Compiled by clang (-march=rv64gcv): gcc 12 has no RVV intrinsics.
 */
#include "gemm_f32.h"

#include <riscv_vector.h>

enum { MR = 6, KC = 256 };

/* C[0:mr, 0:vl] (+)= A[0:mr, 0:kc] * B[0:kc, 0:vl]; mr <= MR. Rows past mr alias the last real
 * row: they compute and store the same values, which keeps the inner loop free of branches. */
static void tile(int64_t mr, size_t vl, int64_t kc, const float *A, int64_t lda, const float *B,
                 int64_t ldb, float *C, int64_t ldc, int load_c) {
  const float *a0 = A, *a1 = mr > 1 ? a0 + lda : a0, *a2 = mr > 2 ? a1 + lda : a1;
  const float *a3 = mr > 3 ? a2 + lda : a2, *a4 = mr > 4 ? a3 + lda : a3,
              *a5 = mr > 5 ? a4 + lda : a4;
  float *c0 = C, *c1 = mr > 1 ? c0 + ldc : c0, *c2 = mr > 2 ? c1 + ldc : c1;
  float *c3 = mr > 3 ? c2 + ldc : c2, *c4 = mr > 4 ? c3 + ldc : c3, *c5 = mr > 5 ? c4 + ldc : c4;
  vfloat32m4_t acc0, acc1, acc2, acc3, acc4, acc5;
  if (load_c) {
    acc0 = __riscv_vle32_v_f32m4(c0, vl);
    acc1 = __riscv_vle32_v_f32m4(c1, vl);
    acc2 = __riscv_vle32_v_f32m4(c2, vl);
    acc3 = __riscv_vle32_v_f32m4(c3, vl);
    acc4 = __riscv_vle32_v_f32m4(c4, vl);
    acc5 = __riscv_vle32_v_f32m4(c5, vl);
  } else {
    acc0 = acc1 = acc2 = acc3 = acc4 = acc5 = __riscv_vfmv_v_f_f32m4(0.0f, vl);
  }
  for (int64_t k = 0; k < kc; ++k) {
    vfloat32m4_t b = __riscv_vle32_v_f32m4(B + k * ldb, vl);
    acc0 = __riscv_vfmacc_vf_f32m4(acc0, a0[k], b, vl);
    acc1 = __riscv_vfmacc_vf_f32m4(acc1, a1[k], b, vl);
    acc2 = __riscv_vfmacc_vf_f32m4(acc2, a2[k], b, vl);
    acc3 = __riscv_vfmacc_vf_f32m4(acc3, a3[k], b, vl);
    acc4 = __riscv_vfmacc_vf_f32m4(acc4, a4[k], b, vl);
    acc5 = __riscv_vfmacc_vf_f32m4(acc5, a5[k], b, vl);
  }
  /* An aliased row stores the same values as the row it aliases. */
  __riscv_vse32_v_f32m4(c5, acc5, vl);
  __riscv_vse32_v_f32m4(c4, acc4, vl);
  __riscv_vse32_v_f32m4(c3, acc3, vl);
  __riscv_vse32_v_f32m4(c2, acc2, vl);
  __riscv_vse32_v_f32m4(c1, acc1, vl);
  __riscv_vse32_v_f32m4(c0, acc0, vl);
}

/* GEMV row: c[n_begin:n_end] (+)= a[0:K] * B; one LMUL=8 strip (32..128 floats) per pass. */
static void gemv(const slm_gemm_f32_args_t *p) {
  size_t vl;
  for (int64_t n = p->n_begin; n < p->n_end; n += (int64_t)vl) {
    vl = __riscv_vsetvl_e32m8((size_t)(p->n_end - n));
    vfloat32m8_t acc = __riscv_vfmv_v_f_f32m8(0.0f, vl);
    const float *b = p->K ? p->B + n : p->B; /* K == 0: B may be NULL (offsetting NULL is UB in C) */
    for (int64_t k = 0; k < p->K; ++k, b += p->ldb)
      acc = __riscv_vfmacc_vf_f32m8(acc, p->A[k], __riscv_vle32_v_f32m8(b, vl), vl);
    if (p->accumulate)
      acc = __riscv_vfadd_vv_f32m8(acc, __riscv_vle32_v_f32m8(p->C + n, vl), vl);
    __riscv_vse32_v_f32m8(p->C + n, acc, vl);
  }
}

void slm_gemm_f32__rvv(const slm_gemm_f32_args_t *p) {
  if (p->M == 1) {
    gemv(p);
    return;
  }
  size_t vl;
  for (int64_t n = p->n_begin; n < p->n_end; n += (int64_t)vl) {
    vl = __riscv_vsetvl_e32m4((size_t)(p->n_end - n));
    /* K == 0 still runs one (empty) block so C is zeroed or kept. */
    for (int64_t k0 = 0; k0 < p->K || k0 == 0; k0 += KC) {
      int64_t kc = p->K - k0 < KC ? p->K - k0 : KC;
      for (int64_t m = 0; m < p->M; m += MR)
        tile(p->M - m < MR ? p->M - m : MR, vl, kc, p->K ? p->A + m * p->lda + k0 : p->A, p->lda,
             p->K ? p->B + k0 * p->ldb + n : p->B, p->ldb, p->C + m * p->ldc + n, p->ldc,
             k0 > 0 || p->accumulate);
      if (p->K == 0)
        break;
    }
  }
}
