// Loads the code segment (memfd + dlopen) and calls generated row-wise kernels over row slices per thread.
#include "core/code_segment.h"

#include "core/status.h"
#include "slm_kernel_abi.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

namespace slm {
namespace {

struct RowJob {
  slm_kabi_rowwise_fn fn;
  float *y;
  float *x;
  const float *p, *q;
  int64_t cols, p_len, q_len;
};

void run_rows(void *arg, int64_t begin, int64_t end) {
  const RowJob &j = *static_cast<const RowJob *>(arg);
  // Each thread gets views of its own rows: offset moves, the row count shrinks.
  slm_kabi_view2d_f32_t y = {j.y, j.y, begin * j.cols, {end - begin, j.cols}, {j.cols, 1}};
  slm_kabi_view2d_f32_t x = {j.x, j.x, begin * j.cols, {end - begin, j.cols}, {j.cols, 1}};
  float *p = const_cast<float *>(j.p), *q = const_cast<float *>(j.q); // kernels never write p, q
  slm_kabi_view1d_f32_t pv = {p, p, 0, {j.p_len}, {1}}, qv = {q, q, 0, {j.q_len}, {1}};
  j.fn(&y, &x, &pv, &qv);
}

} // namespace

slm_status_t code_segment_open(const char *path, const uint8_t *bytes, uint64_t size, void **out_handle) {
  int fd = memfd_create("slm_code", MFD_CLOEXEC);
  if (fd < 0)
    return set_error(SLM_ERROR_IO, "%s: cannot load the code segment: memfd_create: %s", path, strerror(errno));
  uint64_t done = 0;
  while (done < size) {
    ssize_t n = write(fd, bytes + done, size - done);
    if (n <= 0) {
      close(fd);
      return set_error(SLM_ERROR_IO, "%s: cannot load the code segment: write: %s", path, strerror(errno));
    }
    done += uint64_t(n);
  }
  char name[64];
  snprintf(name, sizeof name, "/proc/self/fd/%d", fd);
  void *handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  close(fd); // the mapping outlives the descriptor
  if (!handle) {
    const char *why = dlerror();
    return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: the code segment does not load: %s", path,
                     why ? why : "unknown dlopen error");
  }
  *out_handle = handle;
  return SLM_OK;
}

void code_segment_close(void *handle) {
  if (handle) dlclose(handle);
}

slm_status_t code_segment_bind(const char *path, void *handle, const char *symbol, OpDesc *op) {
  if (!handle)
    return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: op '%s' runs generated kernel '%s' but the "
                     "artifact has no code segment", path, op->name.c_str(), symbol);
  std::string entry = std::string(SLM_KERNEL_ABI_PREFIX) + symbol;
  void *fn = dlsym(handle, entry.c_str());
  if (!fn)
    return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: op '%s': the code segment has no kernel '%s'",
                     path, op->name.c_str(), entry.c_str());
  op->gen_fn = fn;
  return SLM_OK;
}

int run_generated_kernel(const OpDesc &op, KernelContext *ctx) {
  const Tensor *x = ctx->num_inputs > 0 ? ctx->inputs[0] : nullptr;
  Tensor *y = ctx->num_outputs > 0 ? ctx->outputs[0] : nullptr;
  const Tensor *p = ctx->num_inputs > 1 ? ctx->inputs[1] : nullptr;
  const Tensor *q = ctx->num_inputs > 2 ? ctx->inputs[2] : nullptr;
  if (!x || !y || x->dtype != kF32 || y->dtype != kF32 || x->rank < 1 || y->numel() != x->numel() ||
      (p && p->dtype != kF32) || (q && q->dtype != kF32)) {
    snprintf(ctx->error, ctx->error_size, "generated kernel: needs float32 x and y of equal size");
    return SLM_REF_INVALID;
  }
  int64_t cols = x->dims[x->rank - 1];
  if (cols == 0 || x->numel() == 0) return SLM_REF_OK;
  int64_t p_len = p ? p->numel() : 0, q_len = q ? q->numel() : 0;
  if ((p && p_len != cols) || (q && q_len != cols)) {
    snprintf(ctx->error, ctx->error_size, "generated kernel: parameters have %lld and %lld values for %lld columns",
             (long long)p_len, (long long)q_len, (long long)cols);
    return SLM_REF_INVALID;
  }
  RowJob job{reinterpret_cast<slm_kabi_rowwise_fn>(op.gen_fn), y->as<float>(), x->as<float>(),
             p ? p->as<float>() : nullptr, q ? q->as<float>() : nullptr, cols, p_len, q_len};
  // About 16K elements per chunk: below that a thread costs more than it saves.
  int64_t rows = x->numel() / cols, grain = cols >= 16384 ? 1 : 16384 / cols;
  ctx->parallel_for(ctx->runner, rows, grain, run_rows, &job);
  return SLM_REF_OK;
}

} // namespace slm
