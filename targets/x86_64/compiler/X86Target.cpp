// The x86_64 target plugin's description, exported through the plugin entry point.
#include "slmc/plugin.h"

namespace {
const char *const kFeatures[] = {"sse2"}; // x86-64 baseline: reference kernels need nothing more
const slmc_target_desc_t kDesc = {
    SLMC_TARGET_PLUGIN_API_VERSION, "x86_64", "x86_64-unknown-linux-gnu", "x86-64",
    kFeatures, sizeof(kFeatures) / sizeof(kFeatures[0]),
    "x86-64 Linux (reference kernels; optimized kernels come with AVX2/AVX-512 levels)"};
} // namespace

extern "C" const slmc_target_desc_t *slmc_target_plugin_x86_64(void) { return &kDesc; }

// The same plugin description an external library exports, linked in: the host target claims no
// ops (its kernels are the runtime's own "ref" provider, with ISA overrides chosen at load).
namespace {
const slmc_target_desc_t *const kTargets[] = {&kDesc};
const slmc_plugin_t kPlugin = {SLMC_PLUGIN_API_VERSION, "x86_64", SLMC_VERSION, kTargets, 1, nullptr, nullptr, 0,
                               nullptr, nullptr, nullptr, nullptr, nullptr};
} // namespace

extern "C" uint32_t slmc_builtin_plugin_api_version_x86_64(void) { return SLMC_PLUGIN_API_VERSION; }
extern "C" const slmc_plugin_t *slmc_builtin_plugin_x86_64(void) { return &kPlugin; }
