/* slmc/plugin.h — the versioned plugin API: what a target plugin library exports to slmc and the runtime.
 *
 * A plugin is a shared library exporting two C functions:
 *
 *   uint32_t slmc_plugin_api_version(void);     -- returns SLMC_PLUGIN_API_VERSION as built
 *   const slmc_plugin_t *slmc_plugin_get(void);  -- returns the plugin's static description
 *
 * SLMC_PLUGIN_DEFINE(desc) writes both. slmc, slm-run and slm_plugin_load() (slm_runtime.h)
 * look the symbols up with dlsym: a library without slmc_plugin_api_version is refused as "not
 * an slmc plugin", one returning another version is refused naming both versions (exit 2 in
 * the tools). The version is bumped whenever a field's meaning changes; new fields are only
 * appended.
 *
 * Built-in targets (x86_64, arm64, riscv64) describe themselves with the same slmc_plugin_t,
 * linked statically instead of loaded (compiler/pipeline/Targets.cpp).
 *
 * Compile side: the target descriptions, which ops the plugin claims and at what cost
 * (partitioning), how it packs the constant operands of the ops it claims (its weight layout),
 * and extra passes. Runtime side: a kernel provider (slmc/kernel_provider.h) that runs the
 * claimed ops. Ops the plugin does not claim run on the host target's kernels in the same
 * artifact.
 *
 * Lifetime: everything returned by slmc_plugin_get() is static, immutable and valid while the
 * library is loaded; slmc and the runtime never unload a plugin. Thread safety: the compile
 * side entries are called from one thread at a time; see kernel_provider.h for the runtime.
 */
#ifndef SLMC_PLUGIN_H_
#define SLMC_PLUGIN_H_

#include <stddef.h>
#include <stdint.h>

#include "slmc/kernel_provider.h"
#include "slmc/target_plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The plugin API version this header describes. Defined here only; the #ifndef lets the SDK's
 * own tests build a plugin "against another version" to check that it is refused. */
#ifndef SLMC_PLUGIN_API_VERSION
#define SLMC_PLUGIN_API_VERSION 2
#endif

/* One op the partitioner asks about: its key, attributes, and operands at their planned upper
 * bounds. Constant operands (weights) have data set; activations have data == NULL. All
 * borrowed for the call. */
typedef struct slmc_op_query {
  const char *target;  /* the --target being compiled for (one of the plugin's targets) */
  const char *op_key;  /* "MatMul", "slm.fused_matmul", ... */
  const char *op_name; /* source node name */
  const slm_provider_attr_t *attrs;
  size_t num_attrs;
  const slm_provider_tensor_t *const *inputs; /* NULL for absent optional inputs */
  int num_inputs;
  const slm_provider_tensor_t *const *outputs;
  int num_outputs;
} slmc_op_query_t;

/* A constant operand in the plugin's layout, produced by pack_input. data is allocated by the
 * plugin and released by its free_packed after slmc copied it into the artifact. dims describe
 * the stored bytes (nbytes must equal the product of dims times the dtype size); the plugin's
 * runtime infer() reads whatever it needs from them or from the data. */
typedef struct slmc_packed_tensor {
  int32_t dtype;
  int32_t rank;
  int64_t dims[SLM_PROVIDER_MAX_RANK];
  void *data;
  size_t nbytes;
} slmc_packed_tensor_t;

/* Results of pack_input. */
typedef enum slmc_pack_result {
  SLMC_PACK_KEEP = 0,  /* store the operand unchanged */
  SLMC_PACK_DONE = 1,  /* *out holds the packed form; it replaces the operand for this op */
  SLMC_PACK_ERROR = 2  /* failed; message written to error */
} slmc_pack_result_t;

typedef struct slmc_plugin {
  uint32_t api_version; /* SLMC_PLUGIN_API_VERSION */
  const char *name;     /* plugin name, also its kernel provider name in artifacts */
  const char *version;  /* plugin's own version string, recorded in artifacts */
  const slmc_target_desc_t *const *targets; /* the --target names it offers */
  size_t num_targets;
  /* Built-in target whose kernels run every op the plugin does not claim ("x86_64"); an
   * artifact for one of the plugin's targets loads on runtimes of this host target. NULL for a
   * built-in target (which is its own host). */
  const char *host_target;
  /* Op keys the plugin may claim, for listings and the conformance suite (slmc-plugin-test). */
  const char *const *op_keys;
  size_t num_op_keys;

  /* ---- compile side ---- */
  /* (optional) Partitioning: returns 1 and sets *out_cost when the plugin can run this op as
   * given (dtypes, shapes, constant operands, attributes), 0 when it cannot. The cost is the
   * estimated run time relative to the host CPU's kernels (1.0: same); slmc places the op on
   * the plugin when the cost is below 1. NULL: the plugin claims nothing. */
  int (*op_cost)(const slmc_op_query_t *query, double *out_cost);
  /* (optional) Weight layout: called for every constant input `index` of an op the plugin
   * claimed. Returns an slmc_pack_result_t. NULL: operands are stored as they are. */
  int (*pack_input)(const slmc_op_query_t *query, int index, slmc_packed_tensor_t *out, char *error,
                    size_t error_size);
  /* (optional, required with pack_input) Frees what pack_input allocated in *packed. */
  void (*free_packed)(slmc_packed_tensor_t *packed);
  /* (optional) Extra passes, an MLIR textual pipeline of passes registered in slmc (e.g.
   * "func.func(canonicalize)"), run after slmc's own pipeline when compiling for this plugin's
   * targets. NULL or "": none. */
  const char *passes;

  /* ---- runtime side ---- */
  /* (optional) The kernel provider running the claimed ops; its name equals `name`. NULL for
   * a compile-only plugin (then it must claim no ops). */
  const slm_kernel_provider_t *provider;
} slmc_plugin_t;

typedef uint32_t (*slmc_plugin_api_version_fn)(void);
typedef const slmc_plugin_t *(*slmc_plugin_get_fn)(void);

#if defined(__GNUC__)
#define SLMC_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define SLMC_PLUGIN_EXPORT
#endif

#ifdef __cplusplus
#define SLMC_PLUGIN_EXTERN_C extern "C"
#else
#define SLMC_PLUGIN_EXTERN_C
#endif

/* Defines the two exported entry points of a plugin library from a static slmc_plugin_t. */
#define SLMC_PLUGIN_DEFINE(desc)                                                                   \
  SLMC_PLUGIN_EXTERN_C SLMC_PLUGIN_EXPORT uint32_t slmc_plugin_api_version(void) {                 \
    return SLMC_PLUGIN_API_VERSION;                                                                \
  }                                                                                                \
  SLMC_PLUGIN_EXTERN_C SLMC_PLUGIN_EXPORT const slmc_plugin_t *slmc_plugin_get(void) { return &(desc); }

#ifdef __cplusplus
}
#endif

#endif /* SLMC_PLUGIN_H_ */
