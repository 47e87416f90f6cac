/* slmc/target_plugin.h — the description of one compile target (name, triple, CPU, features) a plugin offers.
 *
 * A plugin (built-in or a shared library loaded with --plugin) lists its targets in
 * slmc_plugin_t.targets (slmc/plugin.h, which also defines the exported entry points and the
 * API version check). Descriptions are static and immutable and live as long as the library
 * is loaded; no static initializers. Fields are append-only; api_version tells the host which
 * fields exist. Thread safety: read-only data, safe from any thread.
 */
#ifndef SLMC_TARGET_PLUGIN_H_
#define SLMC_TARGET_PLUGIN_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SLMC_TARGET_PLUGIN_API_VERSION 1

typedef struct slmc_target_desc {
  uint32_t api_version;         /* SLMC_TARGET_PLUGIN_API_VERSION the plugin was built against */
  const char *name;             /* --target name, e.g. "x86_64" */
  const char *triple;           /* LLVM target triple */
  const char *default_cpu;      /* CPU name used when --cpu is not given */
  const char *const *features;  /* CPU features the default configuration requires */
  size_t num_features;
  const char *description;      /* one line for `slmc targets` */
} slmc_target_desc_t;

typedef const slmc_target_desc_t *(*slmc_target_plugin_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* SLMC_TARGET_PLUGIN_H_ */
