// The arm64 target plugin's description, exported through the plugin entry point.
#include "slmc/plugin.h"

namespace {
// armv8-a with Advanced SIMD: the runtime's NEON kernels need nothing more. dotprod and i8mm
// become optional feature levels with the int8 kernels.
const char *const kFeatures[] = {"neon"};
const slmc_target_desc_t kDesc = {
    SLMC_TARGET_PLUGIN_API_VERSION,
    "arm64",
    "aarch64-unknown-linux-gnu",
    "generic",
    kFeatures,
    sizeof(kFeatures) / sizeof(kFeatures[0]),
    "arm64 Linux, armv8-a+simd (NEON fp32 GEMM/GEMV kernels; reference kernels for the rest)"};
} // namespace

extern "C" const slmc_target_desc_t *slmc_target_plugin_arm64(void) { return &kDesc; }

// The same plugin description an external library exports, linked in: the host target claims no
// ops (its kernels are the runtime's own "ref" provider, with ISA overrides chosen at load).
namespace {
const slmc_target_desc_t *const kTargets[] = {&kDesc};
const slmc_plugin_t kPlugin = {SLMC_PLUGIN_API_VERSION, "arm64", SLMC_VERSION, kTargets, 1, nullptr, nullptr, 0,
                               nullptr, nullptr, nullptr, nullptr, nullptr};
} // namespace

extern "C" uint32_t slmc_builtin_plugin_api_version_arm64(void) { return SLMC_PLUGIN_API_VERSION; }
extern "C" const slmc_plugin_t *slmc_builtin_plugin_arm64(void) { return &kPlugin; }
