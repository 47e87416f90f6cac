// The host CPU's built-in kernels (provider "ref" in kernel keys): reference kernels overridden by the ISA kernels of this build.
#pragma once

#include "ref_kernel.h"

namespace slm {

// The ISA kernel set this runtime was built with (x86_64, arm64 or riscv64), behind one interface so
// the loader and the conformance tool need no per-ISA code. All functions are thread-safe.
struct HostIsa {
  const char *isa;                                 // "x86_64", "arm64", "riscv64" or "none"
  int (*cpu_level)();                              // best level of this CPU (capped by SLM_<ISA>_LEVEL)
  const char *(*level_name)(int level);            // "ref", "avx2", "neon", ...
  const OpKernel *(*find)(const char *key, int level); // override at level, or nullptr
};

// nullptr when the runtime was built without ISA kernels (reference kernels only).
const HostIsa *host_isa();

// The kernel for `key` at ISA `level`: the ISA override when there is one, else the reference kernel;
// nullptr when the op has no kernel at all.
const OpKernel *find_host_kernel(const char *key, int level);

} // namespace slm
