// The arm64 target plugin's description, exported through the plugin entry point.
#include "slmc/target_plugin.h"

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
