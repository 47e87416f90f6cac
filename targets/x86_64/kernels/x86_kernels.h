// x86-64 kernel provider: optimized overrides of reference kernels, chosen from CPU feature bits.
#pragma once

#include "ref_kernel.h"

namespace slm {

// ISA levels, in increasing order; each implies the ones below.
// kX86Avx512Vnni adds vpdpbusd for the int8-activation kernels (slm.matmul_a8); kX86Avx512Vbmi2 adds vpexpandb
// (slm.matmul_a8_sparse's tile expansion) on top of VNNI.
enum X86Level : int { kX86Ref = 0, kX86Avx2 = 1, kX86Avx512 = 2, kX86Avx512Vnni = 3, kX86Avx512Vbmi2 = 4 };

// Best level this CPU supports, capped by the SLM_X86_LEVEL environment variable
// ("ref", "avx2", "avx512", "avx512vnni", "avx512vbmi2") so tests can force a path.
int x86_cpu_level();
const char *x86_level_name(int level);

// The override for kernel `key` at `level`, or nullptr to keep the reference kernel.
// Overrides share the reference kernel's infer and fall back to its run for cases they do
// not cover (dtypes, layouts).
const OpKernel *find_x86_kernel(const char *key, int level);

} // namespace slm
