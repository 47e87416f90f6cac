// The x86_64 target plugin's description, exported through the plugin entry point.
#include "slmc/target_plugin.h"

namespace {
const char *const kFeatures[] = {"sse2"}; // x86-64 baseline: reference kernels need nothing more
const slmc_target_desc_t kDesc = {
    SLMC_TARGET_PLUGIN_API_VERSION, "x86_64", "x86_64-unknown-linux-gnu", "x86-64",
    kFeatures, sizeof(kFeatures) / sizeof(kFeatures[0]),
    "x86-64 Linux (reference kernels; optimized kernels come with AVX2/AVX-512 levels)"};
} // namespace

extern "C" const slmc_target_desc_t *slmc_target_plugin_x86_64(void) { return &kDesc; }
