// arm64 kernel provider: MatMul overrides on the NEON fp32 GEMM microkernel, int8-activation matmuls on
// NEON, the dot product (dotprod) or the int8 matrix multiply (i8mm).
#include "arm64_kernels.h"

#include "gemm_f32.h"
#include "gemm_f32_matmul.h"
#include "gemm_s8.h"
#include "gemm_s8_matmul.h"

#include <cstdlib>
#include <cstring>
#include <sys/auxv.h>

// Linux arm64 uapi (asm/hwcap.h), spelled out for older sysroots.
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1) // Advanced SIMD (NEON)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20) // SDOT/UDOT
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1 << 13) // SMMLA/UMMLA/USMMLA, USDOT
#endif

namespace slm {
namespace {

// The levels differ in slm.matmul_a8's microkernel only.
const OpKernel kNeonKernels[] = {
    {"MatMul", infer_matmul_ref, run_matmul_f32_or_ref<slm_gemm_f32__neon>, 0},
    {"slm.fused_matmul", infer_fused_matmul_ref, run_fused_matmul_f32_or_ref<slm_gemm_f32__neon>, 0},
    {"slm.matmul_a8", infer_matmul_a8_ref, run_matmul_a8_on<slm_gemm_s8__neon>, 0},
    {"slm.quantize_rows", infer_quantize_rows_ref, run_quantize_rows_on<slm_quantize_row_s8__neon>, 0}};
const OpKernel kDotprodKernels[] = {
    {"MatMul", infer_matmul_ref, run_matmul_f32_or_ref<slm_gemm_f32__neon>, 0},
    {"slm.fused_matmul", infer_fused_matmul_ref, run_fused_matmul_f32_or_ref<slm_gemm_f32__neon>, 0},
    {"slm.matmul_a8", infer_matmul_a8_ref, run_matmul_a8_on<slm_gemm_s8__neondot>, 0},
    {"slm.quantize_rows", infer_quantize_rows_ref, run_quantize_rows_on<slm_quantize_row_s8__neon>, 0}};
const OpKernel kI8mmKernels[] = {
    {"MatMul", infer_matmul_ref, run_matmul_f32_or_ref<slm_gemm_f32__neon>, 0},
    {"slm.fused_matmul", infer_fused_matmul_ref, run_fused_matmul_f32_or_ref<slm_gemm_f32__neon>, 0},
    {"slm.matmul_a8", infer_matmul_a8_ref, run_matmul_a8_on<slm_gemm_s8__neoni8mm>, 0},
    {"slm.quantize_rows", infer_quantize_rows_ref, run_quantize_rows_on<slm_quantize_row_s8__neon>, 0}};

} // namespace

const char *arm64_level_name(int level) {
  return level >= kArm64I8mm ? "i8mm" : level >= kArm64Dotprod ? "dotprod" : level >= kArm64Neon ? "neon" : "ref";
}

int arm64_cpu_level() {
  // NEON is part of every Linux arm64 CPU in practice, but the kernel says so explicitly.
  unsigned long hwcap = getauxval(AT_HWCAP), hwcap2 = getauxval(AT_HWCAP2);
  int level = (hwcap & HWCAP_ASIMD) ? kArm64Neon : kArm64Ref;
  if (level == kArm64Neon && (hwcap & HWCAP_ASIMDDP)) level = kArm64Dotprod;
  // The i8mm kernel hands decode (M = 1) to the dotprod one: both features are required.
  if (level == kArm64Dotprod && (hwcap2 & HWCAP2_I8MM)) level = kArm64I8mm;
  if (const char *env = std::getenv("SLM_ARM64_LEVEL")) {
    int cap = !std::strcmp(env, "ref")       ? kArm64Ref
              : !std::strcmp(env, "neon")    ? kArm64Neon
              : !std::strcmp(env, "dotprod") ? kArm64Dotprod
                                             : kArm64I8mm;
    if (cap < level) level = cap;
  }
  return level;
}

const OpKernel *find_arm64_kernel(const char *key, int level) {
  const OpKernel *table = level >= kArm64I8mm      ? kI8mmKernels
                          : level >= kArm64Dotprod ? kDotprodKernels
                          : level >= kArm64Neon    ? kNeonKernels
                                                   : nullptr;
  size_t n = level >= kArm64I8mm      ? sizeof kI8mmKernels / sizeof *kI8mmKernels
             : level >= kArm64Dotprod ? sizeof kDotprodKernels / sizeof *kDotprodKernels
             : level >= kArm64Neon    ? sizeof kNeonKernels / sizeof *kNeonKernels
                                      : 0;
  for (size_t i = 0; i < n; ++i)
    if (!std::strcmp(table[i].op, key)) return &table[i];
  return nullptr;
}

} // namespace slm
