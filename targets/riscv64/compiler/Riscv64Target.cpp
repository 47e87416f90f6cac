// The riscv64 target plugin's description, exported through the plugin entry point.
#include "slmc/target_plugin.h"

namespace {
// rv64gc is what every RISC-V Linux distribution requires; the runtime uses its RVV kernels only
// when the CPU reports V, so artifacts stay runnable on CPUs without it. (+v as a required
// feature level comes with generated code.)
const char *const kFeatures[] = {"m", "a", "f", "d", "c"};
const slmc_target_desc_t kDesc = {SLMC_TARGET_PLUGIN_API_VERSION,
                                  "riscv64",
                                  "riscv64-unknown-linux-gnu",
                                  "generic-rv64",
                                  kFeatures,
                                  sizeof(kFeatures) / sizeof(kFeatures[0]),
                                  "riscv64 Linux, rv64gc (RVV 1.0 fp32 GEMM/GEMV kernels when the "
                                  "CPU has V; reference kernels for the rest)"};
} // namespace

extern "C" const slmc_target_desc_t *slmc_target_plugin_riscv64(void) { return &kDesc; }
