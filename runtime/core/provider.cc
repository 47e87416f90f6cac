// Kernel providers: plugin loading (dlopen + API version check), the provider registry, and calls into providers.
#include "core/provider.h"

#include "core/status.h"
#include "slm_runtime.h"
#include "slmc/plugin.h"

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <mutex>
#include <string>
#include <vector>

// Provider structures are handed the runtime's own tensors and attributes without copies.
static_assert(sizeof(slm_provider_tensor_t) == sizeof(slm::Tensor), "tensor layout");
static_assert(offsetof(slm_provider_tensor_t, data) == offsetof(slm::Tensor, data), "tensor layout");
static_assert(offsetof(slm_provider_tensor_t, dtype) == offsetof(slm::Tensor, dtype), "tensor layout");
static_assert(offsetof(slm_provider_tensor_t, rank) == offsetof(slm::Tensor, rank), "tensor layout");
static_assert(offsetof(slm_provider_tensor_t, dims) == offsetof(slm::Tensor, dims), "tensor layout");
static_assert(SLM_PROVIDER_MAX_RANK == slm::kMaxRank, "rank limit");
static_assert(sizeof(slm_provider_attr_t) == sizeof(slm::Attr), "attr layout");
static_assert(offsetof(slm_provider_attr_t, kind) == offsetof(slm::Attr, kind), "attr layout");
static_assert(offsetof(slm_provider_attr_t, i) == offsetof(slm::Attr, i), "attr layout");
static_assert(offsetof(slm_provider_attr_t, f) == offsetof(slm::Attr, f), "attr layout");
static_assert(offsetof(slm_provider_attr_t, s) == offsetof(slm::Attr, s), "attr layout");
static_assert(offsetof(slm_provider_attr_t, ints) == offsetof(slm::Attr, ints), "attr layout");
static_assert(offsetof(slm_provider_attr_t, floats) == offsetof(slm::Attr, floats), "attr layout");
static_assert(offsetof(slm_provider_attr_t, strings) == offsetof(slm::Attr, strings), "attr layout");
static_assert(offsetof(slm_provider_attr_t, count) == offsetof(slm::Attr, count), "attr layout");
static_assert(offsetof(slm_provider_attr_t, tensor) == offsetof(slm::Attr, tensor), "attr layout");

namespace slm {
namespace {

struct Registry {
  std::mutex mu;
  std::vector<const slm_kernel_provider_t *> providers;
  std::vector<std::pair<std::string, const slmc_plugin_t *>> plugins; // by resolved path
};

Registry &registry() {
  static Registry r; // function-local: no static initializer order issues
  return r;
}

bool valid_provider_name(const char *n) {
  if (!n || !*n || std::strcmp(n, "ref") == 0 || std::strcmp(n, "gen") == 0) return false; // built-in providers
  for (const char *c = n; *c; ++c)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_')) return false;
  return true;
}

slm_status_t add_provider(const slm_kernel_provider_t *p, const char *origin) {
  if (!p->execute || !p->prepare || !p->is_available)
    return set_error(SLM_ERROR_INVALID_ARGUMENT, "%s: kernel provider '%s' lacks is_available, prepare or execute",
                     origin, p->name ? p->name : "?");
  if (!valid_provider_name(p->name))
    return set_error(SLM_ERROR_INVALID_ARGUMENT,
                     "%s: kernel provider name '%s' is invalid (lower-case letters, digits, '_'; not \"ref\" or \"gen\")", origin,
                     p->name ? p->name : "");
  Registry &r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  for (const slm_kernel_provider_t *q : r.providers) {
    if (q == p) return SLM_OK;
    if (std::strcmp(q->name, p->name) == 0)
      return set_error(SLM_ERROR_INVALID_ARGUMENT, "%s: a kernel provider named '%s' is already registered", origin,
                       p->name);
  }
  r.providers.push_back(p);
  return SLM_OK;
}

void to_call(const OpDesc &op, KernelContext *ctx, slm_provider_call_t *call) {
  call->op_key = op.key.c_str();
  call->op_name = op.name.c_str();
  call->attrs = reinterpret_cast<const slm_provider_attr_t *>(op.attr_list.items);
  call->num_attrs = op.attr_list.count;
  call->inputs = reinterpret_cast<const slm_provider_tensor_t *const *>(ctx->inputs);
  call->num_inputs = ctx->num_inputs;
  call->outputs = reinterpret_cast<slm_provider_tensor_t *const *>(ctx->outputs);
  call->num_outputs = ctx->num_outputs;
  call->parallel_for = reinterpret_cast<decltype(call->parallel_for)>(ctx->parallel_for);
  call->runner = ctx->runner;
  call->error = ctx->error;
  call->error_size = ctx->error_size;
}

void fallback_message(char *buf, size_t size, const char *what) {
  if (buf && size && !buf[0]) std::snprintf(buf, size, "%s failed without a message", what);
}

} // namespace

const slm_kernel_provider_t *find_provider(const std::string &name) {
  Registry &r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  for (const slm_kernel_provider_t *p : r.providers)
    if (name == p->name) return p;
  return nullptr;
}

slm_status_t prepare_provider_op(const char *path, const slm_model *m, const slm_kernel_provider_t *provider,
                                 OpDesc *op) {
  if (!provider->is_available())
    return set_error(SLM_ERROR_UNSUPPORTED, "%s: op '%s' (%s) runs on kernel provider '%s', which reports its device "
                     "is not available on this machine", path, op->name.c_str(), op->key.c_str(), provider->name);
  // Constants carry their data; activations only their planned bounds.
  std::vector<Tensor> ins(op->inputs.size()), outs(op->outputs.size());
  std::vector<const Tensor *> in_ptrs(op->inputs.size(), nullptr);
  std::vector<Tensor *> out_ptrs(op->outputs.size(), nullptr);
  auto fill = [&](int idx, Tensor *t) {
    const TensorDesc &d = m->tensors[size_t(idx)];
    t->dtype = d.dtype;
    t->rank = d.rank;
    for (int i = 0; i < d.rank; ++i) t->dims[i] = d.max_dims[i];
    t->data = d.storage == kStorageConstant ? const_cast<void *>(d.constant_data) : nullptr;
  };
  for (size_t i = 0; i < op->inputs.size(); ++i)
    if (op->inputs[i] >= 0) fill(op->inputs[i], &ins[i]), in_ptrs[i] = &ins[i];
  for (size_t i = 0; i < op->outputs.size(); ++i)
    if (op->outputs[i] >= 0) fill(op->outputs[i], &outs[i]), out_ptrs[i] = &outs[i];
  char err[512] = {0};
  KernelContext ctx;
  ctx.attrs = &op->attr_list;
  ctx.inputs = in_ptrs.data();
  ctx.num_inputs = int(in_ptrs.size());
  ctx.outputs = out_ptrs.data();
  ctx.num_outputs = int(out_ptrs.size());
  ctx.error = err;
  ctx.error_size = sizeof err;
  slm_provider_call_t call;
  to_call(*op, &ctx, &call);
  void *state = nullptr;
  int rc = provider->prepare(&call, &state);
  if (rc != SLM_PROVIDER_OK) {
    fallback_message(err, sizeof err, "prepare");
    return set_error(SLM_ERROR_UNSUPPORTED, "%s: op '%s' (%s): kernel provider '%s' refused it: %s", path,
                     op->name.c_str(), op->key.c_str(), provider->name, err);
  }
  op->provider = provider;
  op->provider_state = state;
  return SLM_OK;
}

int provider_infer(const OpDesc &op, KernelContext *ctx) {
  if (!op.provider->infer) return op.kernel->infer(ctx);
  slm_provider_call_t call;
  to_call(op, ctx, &call);
  int rc = op.provider->infer(op.provider_state, &call);
  if (rc != SLM_PROVIDER_OK) fallback_message(ctx->error, ctx->error_size, "provider infer");
  return rc;
}

int provider_run(const OpDesc &op, KernelContext *ctx) {
  slm_provider_call_t call;
  to_call(op, ctx, &call);
  int rc = op.provider->execute(op.provider_state, &call);
  if (rc != SLM_PROVIDER_OK) fallback_message(ctx->error, ctx->error_size, "provider execute");
  return rc;
}

void destroy_provider_states(slm_model *m) {
  for (OpDesc &op : m->ops)
    if (op.provider && op.provider_state && op.provider->destroy) {
      op.provider->destroy(op.provider_state);
      op.provider_state = nullptr;
    }
}

} // namespace slm

using slm::set_error;

extern "C" {

slm_status_t slm_provider_register(const slm_kernel_provider_t *provider) {
  if (!provider) return set_error(SLM_ERROR_INVALID_ARGUMENT, "slm_provider_register: null provider");
  slm::clear_error();
  if (provider->api_version != SLMC_PLUGIN_API_VERSION)
    return set_error(SLM_ERROR_INVALID_ARGUMENT,
                     "kernel provider '%s' was built against plugin API version %u; this runtime supports version %u",
                     provider->name ? provider->name : "?", provider->api_version, unsigned(SLMC_PLUGIN_API_VERSION));
  return slm::add_provider(provider, "slm_provider_register");
}

slm_status_t slm_plugin_load(const char *path, const slmc_plugin_t **out_plugin) {
  if (!path) return set_error(SLM_ERROR_INVALID_ARGUMENT, "slm_plugin_load: null path");
  if (out_plugin) *out_plugin = nullptr;
  slm::clear_error();
  // A bare name would search the library path; plugins are always given as files.
  std::string file = std::strchr(path, '/') ? path : std::string("./") + path;
  void *lib = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *why = dlerror();
    return set_error(SLM_ERROR_INVALID_ARGUMENT, "%s: cannot load plugin library: %s", path, why ? why : "dlopen failed");
  }
  auto version_fn = reinterpret_cast<slmc_plugin_api_version_fn>(dlsym(lib, "slmc_plugin_api_version"));
  auto get_fn = reinterpret_cast<slmc_plugin_get_fn>(dlsym(lib, "slmc_plugin_get"));
  if (!version_fn || !get_fn) {
    dlclose(lib);
    return set_error(SLM_ERROR_INVALID_ARGUMENT, "%s: not an slmc plugin: it does not export %s", path,
                     !version_fn ? "slmc_plugin_api_version" : "slmc_plugin_get");
  }
  uint32_t v = version_fn();
  if (v != SLMC_PLUGIN_API_VERSION) {
    dlclose(lib);
    return set_error(SLM_ERROR_INVALID_ARGUMENT,
                     "%s: plugin was built against slmc plugin API version %u; this slmc supports version %u "
                     "(rebuild the plugin against this SDK)",
                     path, v, unsigned(SLMC_PLUGIN_API_VERSION));
  }
  const slmc_plugin_t *plugin = get_fn();
  if (!plugin || plugin->api_version != v || !plugin->name || !*plugin->name) {
    dlclose(lib);
    return set_error(SLM_ERROR_INVALID_ARGUMENT, "%s: slmc_plugin_get() returned %s", path,
                     !plugin ? "NULL" : "a description with another api_version or no name");
  }
  // The library stays loaded for the life of the process: providers and descriptions point into it.
  if (plugin->provider) {
    if (plugin->provider->api_version != v || !plugin->provider->name ||
        std::strcmp(plugin->provider->name, plugin->name) != 0)
      return set_error(SLM_ERROR_INVALID_ARGUMENT,
                       "%s: plugin '%s': its kernel provider must carry the same name and api_version", path,
                       plugin->name);
    slm_status_t st = slm::add_provider(plugin->provider, path);
    if (st != SLM_OK) return st;
  }
  if (out_plugin) *out_plugin = plugin;
  return SLM_OK;
}

} // extern "C"
