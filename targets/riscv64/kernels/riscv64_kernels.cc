// riscv64 kernel provider: MatMul overrides on the RVV fp32 GEMM microkernel, int8-activation matmuls on
// RVV widening multiply-adds, when the CPU has V.
#include "riscv64_kernels.h"

#include "gemm_f32.h"
#include "gemm_f32_matmul.h"
#include "gemm_s8.h"
#include "gemm_s8_matmul.h"

#include <cstdlib>
#include <cstring>
#include <sys/auxv.h>

namespace slm {
namespace {

// Linux reports single-letter extensions in AT_HWCAP as bit (letter - 'A').
constexpr unsigned long kHwcapV = 1ul << ('V' - 'A');

const OpKernel kRvvKernels[] = {
    {"MatMul", infer_matmul_ref, run_matmul_f32_or_ref<slm_gemm_f32__rvv>, 0},
    {"slm.fused_matmul", infer_fused_matmul_ref, run_fused_matmul_f32_or_ref<slm_gemm_f32__rvv>,
     0},
    {"slm.matmul_a8", infer_matmul_a8_ref, run_matmul_a8_on<slm_gemm_s8__rvv>, 0},
    {"slm.quantize_rows", infer_quantize_rows_ref, run_quantize_rows_on<slm_quantize_row_s8__rvv>, 0}};

} // namespace

const char *riscv64_level_name(int level) { return level >= kRiscv64Rvv ? "rvv" : "ref"; }

int riscv64_cpu_level() {
  int level = (getauxval(AT_HWCAP) & kHwcapV) ? kRiscv64Rvv : kRiscv64Ref;
  if (const char *env = std::getenv("SLM_RISCV64_LEVEL")) {
    int cap = !std::strcmp(env, "ref") ? kRiscv64Ref : kRiscv64Rvv;
    if (cap < level)
      level = cap;
  }
  return level;
}

const OpKernel *find_riscv64_kernel(const char *key, int level) {
  if (level < kRiscv64Rvv)
    return nullptr;
  for (const OpKernel &k : kRvvKernels)
    if (!std::strcmp(k.op, key))
      return &k;
  return nullptr;
}

} // namespace slm
