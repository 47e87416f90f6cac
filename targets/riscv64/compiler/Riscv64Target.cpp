// The riscv64 target plugin's description, exported through the plugin entry point.
#include "slmc/plugin.h"

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

// The same plugin description an external library exports, linked in: the host target claims no
// ops (its kernels are the runtime's own "ref" provider, with ISA overrides chosen at load).
namespace {
const slmc_target_desc_t *const kTargets[] = {&kDesc};
const slmc_plugin_t kPlugin = {SLMC_PLUGIN_API_VERSION, "riscv64", SLMC_VERSION, kTargets, 1, nullptr, nullptr, 0,
                               nullptr, nullptr, nullptr, nullptr, nullptr};
} // namespace

extern "C" uint32_t slmc_builtin_plugin_api_version_riscv64(void) { return SLMC_PLUGIN_API_VERSION; }
extern "C" const slmc_plugin_t *slmc_builtin_plugin_riscv64(void) { return &kPlugin; }
