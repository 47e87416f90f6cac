// riscv64 kernel provider: optimized overrides of reference kernels, chosen from CPU feature bits.
#pragma once

#include "ref_kernel.h"

namespace slm {

// ISA levels, in increasing order; each implies the ones below.
enum Riscv64Level : int { kRiscv64Ref = 0, kRiscv64Rvv = 1 };

// Best level this CPU supports (the 'V' bit of getauxval(AT_HWCAP)), capped by the
// SLM_RISCV64_LEVEL environment variable ("ref", "rvv") so tests can force a path.
int riscv64_cpu_level();
const char *riscv64_level_name(int level);

// The override for kernel `key` at `level`, or nullptr to keep the reference kernel.
// Overrides share the reference kernel's infer and fall back to its run for cases they do
// not cover (dtypes, layouts).
const OpKernel *find_riscv64_kernel(const char *key, int level);

} // namespace slm
