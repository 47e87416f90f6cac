// arm64 kernel provider: optimized overrides of reference kernels, chosen from CPU feature bits.
#pragma once

#include "ref_kernel.h"

namespace slm {

// ISA levels, in increasing order; each implies the ones below. kArm64Dotprod adds sdot for the
// int8-activation kernels (slm.matmul_a8), kArm64I8mm adds usmmla for their prefill (M >= 2).
enum Arm64Level : int { kArm64Ref = 0, kArm64Neon = 1, kArm64Dotprod = 2, kArm64I8mm = 3 };

// Best level this CPU supports (from getauxval(AT_HWCAP) / AT_HWCAP2), capped by the SLM_ARM64_LEVEL
// environment variable ("ref", "neon", "dotprod", "i8mm") so tests can force a path.
int arm64_cpu_level();
const char *arm64_level_name(int level);

// The override for kernel `key` at `level`, or nullptr to keep the reference kernel.
// Overrides share the reference kernel's infer and fall back to its run for cases they do
// not cover (dtypes, layouts).
const OpKernel *find_arm64_kernel(const char *key, int level);

} // namespace slm
