// One lookup over the host ISA's kernel overrides, whichever ISA this runtime is built for (see host_kernels.h).
#include "core/host_kernels.h"

#ifdef SLM_WITH_X86_KERNELS
#include "x86_kernels.h"
#endif
#ifdef SLM_WITH_ARM64_KERNELS
#include "arm64_kernels.h"
#endif
#ifdef SLM_WITH_RISCV64_KERNELS
#include "riscv64_kernels.h"
#endif

namespace slm {

const HostIsa *host_isa() {
#if defined(SLM_WITH_X86_KERNELS)
  static const HostIsa isa = {"x86_64", x86_cpu_level, x86_level_name, find_x86_kernel};
  return &isa;
#elif defined(SLM_WITH_ARM64_KERNELS)
  static const HostIsa isa = {"arm64", arm64_cpu_level, arm64_level_name, find_arm64_kernel};
  return &isa;
#elif defined(SLM_WITH_RISCV64_KERNELS)
  static const HostIsa isa = {"riscv64", riscv64_cpu_level, riscv64_level_name, find_riscv64_kernel};
  return &isa;
#else
  return nullptr;
#endif
}

const OpKernel *find_host_kernel(const char *key, int level) {
  const OpKernel *k = find_ref_kernel(key);
  if (!k) return nullptr; // overrides exist only beside a reference kernel (the fallback and oracle)
  if (const HostIsa *isa = host_isa())
    if (const OpKernel *fast = isa->find(key, level)) return fast;
  return k;
}

} // namespace slm
