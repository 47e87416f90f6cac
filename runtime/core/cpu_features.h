// CPU feature detection for the loader: which features this CPU has, which of an artifact's required ones it lacks.
#pragma once

#include <string>
#include <vector>

namespace slm {

// Features use LLVM's spelling, the one `slmc compile --features` records in the artifact:
//   x86_64:  sse2 sse4.1 sse4.2 avx fma f16c avx2 avx512f avx512dq avx512bw avx512vl avx512vnni
//            avx512vbmi2 avx512bf16 avxvnni amx-tile amx-int8 amx-bf16
//   arm64:   fp-armv8 neon fullfp16 dotprod i8mm bf16 sve sve2
//   riscv64: m a f d c v zvl128b zvl256b zvl512b zvl1024b
// Detection reads cpuid + xgetbv (x86_64: a feature counts only when the OS saves its registers),
// getauxval(AT_HWCAP/AT_HWCAP2) (arm64) and AT_HWCAP + the vlenb CSR (riscv64).
//
// SLM_CPU_FEATURES_MASK (test-only): a comma-separated list like "-avx512f,-avx2" removes features
// from what the CPU reports, so tests can describe a smaller CPU. It can only remove features
// (adding one the CPU lacks would trade a clear load error for SIGILL). Unknown names are ignored.
//
// Thread-safe; the detection runs once per process.

// The features this CPU has (after SLM_CPU_FEATURES_MASK), sorted.
const std::vector<std::string> &cpu_features();

// True when the CPU (after the mask) has `feature`.
bool cpu_has_feature(const std::string &feature);

// The entries of `required` this CPU lacks, in the given order.
std::vector<std::string> missing_cpu_features(const std::vector<std::string> &required);

// The highest host ISA kernel level (the numbering of x86_kernels.h / arm64_kernels.h /
// riscv64_kernels.h) whose features are all in this CPU's set and none in `excluded` (features the
// artifact was compiled without, `--features=-x`). The loader takes the min of this and the ISA
// provider's own cpu_level(), so kernel selection never uses an ISA the artifact or the mask excludes.
int isa_level_cap(const std::vector<std::string> &excluded);

} // namespace slm
