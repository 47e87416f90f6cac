// arm64 kernel provider: MatMul override on the NEON fp32 GEMM microkernel.
#include "arm64_kernels.h"

#include "gemm_f32.h"
#include "gemm_f32_matmul.h"

#include <cstdlib>
#include <cstring>
#include <sys/auxv.h>

#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1) // Linux arm64 uapi: Advanced SIMD (NEON)
#endif

namespace slm {
namespace {

const OpKernel kNeonKernels[] = {
    {"MatMul", infer_matmul_ref, run_matmul_f32_or_ref<slm_gemm_f32__neon>, 0},
    {"slm.fused_matmul", infer_fused_matmul_ref, run_fused_matmul_f32_or_ref<slm_gemm_f32__neon>,
     0}};

} // namespace

const char *arm64_level_name(int level) { return level >= kArm64Neon ? "neon" : "ref"; }

int arm64_cpu_level() {
  // NEON is part of every Linux arm64 CPU in practice, but the kernel says so explicitly.
  int level = (getauxval(AT_HWCAP) & HWCAP_ASIMD) ? kArm64Neon : kArm64Ref;
  if (const char *env = std::getenv("SLM_ARM64_LEVEL")) {
    int cap = !std::strcmp(env, "ref") ? kArm64Ref : kArm64Neon;
    if (cap < level)
      level = cap;
  }
  return level;
}

const OpKernel *find_arm64_kernel(const char *key, int level) {
  if (level < kArm64Neon)
    return nullptr;
  for (const OpKernel &k : kNeonKernels)
    if (!std::strcmp(k.op, key))
      return &k;
  return nullptr;
}

} // namespace slm
