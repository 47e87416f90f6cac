// Sessions: one arena per session, per-run shape resolution within the planned bounds, the op loop.
#include "core/code_segment.h"
#include "core/model.h"
#include "core/provider.h"
#include "core/status.h"
#include "kernel_util.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <cstring>
#include <new>
#ifdef _OPENMP
#include <omp.h>
#endif

struct slm_session {
  slm_model *model = nullptr;
  int num_threads = 1;
  uint8_t *arena = nullptr;
  std::vector<slm::Tensor> values;   // current dtype/shape/data of every tensor
  std::vector<bool> input_set;       // per graph input
  bool ran = false;
  ~slm_session() { std::free(arena); }
};

namespace slm {
namespace {

// The executor's parallel loop: static chunks over OpenMP threads.
void omp_parallel_for(void *runner, int64_t n, int64_t grain, TaskFn fn, void *arg) {
  auto *s = static_cast<slm_session *>(runner);
  int64_t chunks = grain > 0 ? (n + grain - 1) / grain : n;
  if (chunks > s->num_threads) chunks = s->num_threads;
  if (chunks <= 1) {
    fn(arg, 0, n);
    return;
  }
#ifdef _OPENMP
#pragma omp parallel for num_threads(int(chunks)) schedule(static, 1)
  for (int64_t c = 0; c < chunks; ++c)
    fn(arg, n * c / chunks, n * (c + 1) / chunks);
#else
  fn(arg, 0, n);
#endif
}

std::string shape_str(const int64_t *dims, int rank) {
  std::string s = "[";
  for (int i = 0; i < rank; ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

int default_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// KV caches start empty: [B, H, 0, D] at their bounds otherwise (the position axis is dim 2).
void reset_state(slm_session *s) {
  for (int idx : s->model->states) {
    Tensor &t = s->values[idx];
    for (int k = 0; k < t.rank; ++k) t.dims[k] = s->model->tensors[idx].max_dims[k];
    t.dims[2] = 0;
  }
}

void init_values(slm_session *s) {
  const slm_model *m = s->model;
  s->values.resize(m->tensors.size());
  for (size_t i = 0; i < m->tensors.size(); ++i) {
    const TensorDesc &d = m->tensors[i];
    Tensor &t = s->values[i];
    t.dtype = d.dtype;
    t.rank = d.rank;
    for (int k = 0; k < d.rank; ++k) t.dims[k] = d.max_dims[k];
    t.data = d.storage == kStorageConstant ? const_cast<void *>(d.constant_data) : s->arena + d.arena_offset;
  }
  reset_state(s);
}

// Runs one op: infer shapes, check them against the plan, run the kernel.
slm_status_t run_op(slm_session *s, const OpDesc &op) {
  const slm_model *m = s->model;
  const Tensor *ins[32];
  Tensor *outs[32];
  if (op.inputs.size() > 32 || op.outputs.size() > 32)
    return set_error(SLM_ERROR_UNSUPPORTED, "op '%s' (%s): more than 32 inputs or outputs", op.name.c_str(), op.kind.c_str());
  for (size_t i = 0; i < op.inputs.size(); ++i) ins[i] = op.inputs[i] < 0 ? nullptr : &s->values[op.inputs[i]];
  for (size_t i = 0; i < op.outputs.size(); ++i) outs[i] = op.outputs[i] < 0 ? nullptr : &s->values[op.outputs[i]];
  char err[512] = {0};
  KernelContext ctx;
  ctx.attrs = &op.attr_list;
  ctx.inputs = ins;
  ctx.num_inputs = int(op.inputs.size());
  ctx.outputs = outs;
  ctx.num_outputs = int(op.outputs.size());
  ctx.parallel_for = omp_parallel_for;
  ctx.runner = s;
  ctx.error = err;
  ctx.error_size = sizeof err;
  int rc = op.provider ? provider_infer(op, &ctx) : op.kernel->infer(&ctx);
  // Shapes, attributes or dtypes the op refuses come from the artifact or the inputs (bad input,
  // e.g. a hostile artifact's attribute or a prompt beyond the KV cache); anything else is run time.
  if (rc != SLM_REF_OK)
    return set_error(rc == SLM_REF_INVALID       ? SLM_ERROR_INVALID_ARGUMENT
                     : rc == SLM_REF_UNSUPPORTED ? SLM_ERROR_UNSUPPORTED
                                                 : SLM_ERROR_RUNTIME,
                     "op '%s' (%s): %s", op.name.c_str(), op.kind.c_str(), err);
  for (size_t i = 0; i < op.outputs.size(); ++i) {
    if (op.outputs[i] < 0) continue;
    const TensorDesc &d = m->tensors[op.outputs[i]];
    const Tensor &t = *outs[i];
    if (t.dtype != d.dtype)
      return set_error(SLM_ERROR_RUNTIME, "op '%s' (%s): output '%s' is %s but the artifact planned %s", op.name.c_str(),
                       op.kind.c_str(), d.name.c_str(), dtype_name(t.dtype), dtype_name(d.dtype));
    // Checked, not t.nbytes(): a hostile artifact's attributes can make a shape function return
    // dims whose product overflows.
    uint64_t bytes = dtype_size(t.dtype);
    bool overflow = false;
    for (int k = 0; k < t.rank && !overflow; ++k)
      overflow = t.dims[k] < 0 || __builtin_mul_overflow(bytes, uint64_t(t.dims[k]), &bytes);
    if (overflow || bytes > d.byte_size)
      return set_error(SLM_ERROR_INVALID_ARGUMENT,
                       "op '%s' (%s): output '%s' has shape %s (%s bytes), beyond its planned bound %s (%llu bytes); "
                       "recompile with larger --dim bounds",
                       op.name.c_str(), op.kind.c_str(), d.name.c_str(), shape_str(t.dims, t.rank).c_str(),
                       overflow ? "overflowing" : std::to_string(bytes).c_str(), shape_str(d.max_dims, d.rank).c_str(),
                       (unsigned long long)d.byte_size);
  }
  rc = op.gen_fn ? run_generated_kernel(op, &ctx) : op.provider ? provider_run(op, &ctx) : op.kernel->run(&ctx);
  if (rc != SLM_REF_OK)
    return set_error(SLM_ERROR_RUNTIME, "op '%s' (%s): %s", op.name.c_str(), op.kind.c_str(), err);
  return SLM_OK;
}

} // namespace

slm_status_t session_create(slm_model *model, const slm_session_options_t *options, slm_session **out) {
  auto *s = new (std::nothrow) slm_session;
  if (!s) return set_error(SLM_ERROR_OUT_OF_MEMORY, "out of memory creating a session");
  s->model = model;
  s->num_threads = options && options->num_threads > 0 ? options->num_threads : default_threads();
  size_t bytes = (model->arena_bytes + 63) / 64 * 64;
  s->arena = static_cast<uint8_t *>(std::aligned_alloc(64, bytes ? bytes : 64));
  if (!s->arena) {
    delete s;
    return set_error(SLM_ERROR_OUT_OF_MEMORY, "cannot allocate the %llu-byte arena", (unsigned long long)bytes);
  }
  init_values(s);
  s->input_set.assign(model->inputs.size(), false);
  *out = s;
  return SLM_OK;
}

slm_status_t session_set_input(slm_session *s, const char *name, const slm_tensor_t *v) {
  const slm_model *m = s->model;
  for (size_t k = 0; k < m->inputs.size(); ++k) {
    const TensorDesc &d = m->tensors[m->inputs[k]];
    if (d.name != name) continue;
    if (v->dtype != d.dtype)
      return set_error(SLM_ERROR_INVALID_ARGUMENT, "input '%s': dtype %s given, the model expects %s", name,
                       dtype_name(v->dtype), dtype_name(d.dtype));
    if (v->rank != d.rank)
      return set_error(SLM_ERROR_INVALID_ARGUMENT, "input '%s': rank %d given (shape %s), the model expects rank %d (%s)",
                       name, v->rank, shape_str(v->dims, v->rank).c_str(), d.rank, shape_str(d.max_dims, d.rank).c_str());
    for (int i = 0; i < d.rank; ++i) {
      bool is_static = d.dim_names[i].empty();
      if (v->dims[i] < 0 || (is_static && v->dims[i] != d.max_dims[i]))
        return set_error(SLM_ERROR_INVALID_ARGUMENT, "input '%s': shape %s given, dim %d must be %lld", name,
                         shape_str(v->dims, v->rank).c_str(), i, (long long)d.max_dims[i]);
      if (v->dims[i] > d.max_dims[i])
        return set_error(SLM_ERROR_INVALID_ARGUMENT,
                         "input '%s': dim %d ('%s') is %lld, beyond its bound %lld; recompile with --dim %s=%lld", name, i,
                         d.dim_names[i].c_str(), (long long)v->dims[i], (long long)d.max_dims[i], d.dim_names[i].c_str(),
                         (long long)v->dims[i]);
    }
    Tensor &t = s->values[m->inputs[k]];
    t.rank = v->rank;
    for (int i = 0; i < v->rank; ++i) t.dims[i] = v->dims[i];
    if (v->nbytes != t.nbytes())
      return set_error(SLM_ERROR_INVALID_ARGUMENT, "input '%s': %zu bytes given for shape %s (%zu expected)", name,
                       v->nbytes, shape_str(v->dims, v->rank).c_str(), t.nbytes());
    if (v->nbytes) std::memcpy(t.data, v->data, v->nbytes);
    s->input_set[k] = true;
    return SLM_OK;
  }
  std::string names;
  for (int idx : m->inputs) names += (names.empty() ? "" : ", ") + m->tensors[idx].name;
  return set_error(SLM_ERROR_INVALID_ARGUMENT, "no input named '%s' (the model's inputs: %s)", name, names.c_str());
}

slm_status_t session_run(slm_session *s) {
  const slm_model *m = s->model;
  for (size_t k = 0; k < m->inputs.size(); ++k)
    if (!s->input_set[k])
      return set_error(SLM_ERROR_INVALID_ARGUMENT, "input '%s' was not set", m->tensors[m->inputs[k]].name.c_str());
  s->ran = false;
  // SLM_PROFILE=1: per-op-kind wall time of each run on stderr (a diagnostic, off by default).
  static const bool profile = std::getenv("SLM_PROFILE") != nullptr;
  std::map<std::string, std::pair<double, int>> times;
  for (const OpDesc &op : m->ops) {
    auto t0 = profile ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
    slm_status_t st = run_op(s, op);
    if (st != SLM_OK) return st;
    if (profile) {
      auto &e = times[op.kind];
      e.first += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      ++e.second;
    }
  }
  if (profile) {
    std::string line = "slm profile:";
    for (auto &[kind, t] : times) line += " " + kind + "=" + std::to_string(t.first) + "ms/" + std::to_string(t.second);
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  s->ran = true;
  return SLM_OK;
}

slm_status_t session_reset_state(slm_session *s) {
  reset_state(s);
  s->ran = false;
  return SLM_OK;
}

slm_status_t session_get_output(slm_session *s, size_t index, slm_tensor_t *out) {
  const slm_model *m = s->model;
  if (index >= m->outputs.size())
    return set_error(SLM_ERROR_INVALID_ARGUMENT, "output index %zu out of range (%zu outputs)", index, m->outputs.size());
  if (!s->ran) return set_error(SLM_ERROR_INVALID_ARGUMENT, "no successful run yet");
  const Tensor &t = s->values[m->outputs[index]];
  out->dtype = t.dtype;
  out->rank = t.rank;
  for (int i = 0; i < t.rank; ++i) out->dims[i] = t.dims[i];
  out->data = t.data;
  out->nbytes = t.nbytes();
  return SLM_OK;
}

} // namespace slm

namespace slm {
void session_destroy(slm_session *s) { delete s; }
} // namespace slm
