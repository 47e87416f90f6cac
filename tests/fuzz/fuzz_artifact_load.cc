// libFuzzer target: bytes → .slm loader (FlatBuffer verifier + offset checks) → session → run on zero inputs.
#include "slm_runtime.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace {

// The harness's own budget, so a valid but huge plan is skipped rather than reported as an
// out-of-memory by libFuzzer: the loader is what is under test, not the machine's RAM.
constexpr size_t kMaxArenaBytes = size_t(64) << 20;
constexpr size_t kMaxInputBytes = size_t(16) << 20;

// The loader maps a path; a memfd gives the bytes one without touching the disk.
int artifact_fd() {
  static int fd = memfd_create("fuzz.slm", MFD_CLOEXEC);
  return fd;
}

// Symbolic dims run at 1 (small and always within a bound >= 1), static dims at their value.
bool zero_input(const slm_tensor_info_t &info, slm_tensor_t *v, std::vector<uint8_t> *buf) {
  v->dtype = info.dtype;
  v->rank = info.rank;
  size_t count = 1;
  for (int i = 0; i < info.rank; ++i) {
    int64_t d = info.dim_names && info.dim_names[i] ? (info.max_dims[i] > 0 ? 1 : 0) : info.max_dims[i];
    v->dims[i] = d;
    if (d < 0 || __builtin_mul_overflow(count, size_t(d), &count)) return false;
  }
  size_t bytes;
  if (__builtin_mul_overflow(count, slm_dtype_size(info.dtype), &bytes) || bytes > kMaxInputBytes) return false;
  buf->assign(bytes, 0);
  v->data = buf->data();
  v->nbytes = bytes;
  return true;
}

void run_model(slm_model_t *m) {
  if (slm_model_arena_bytes(m) > kMaxArenaBytes) return;
  slm_session_options_t opts = {1};
  slm_session_t *s = nullptr;
  if (slm_session_create(m, &opts, &s) != SLM_OK) return;
  std::vector<std::vector<uint8_t>> bufs(slm_model_input_count(m));
  bool ok = true;
  for (size_t i = 0; ok && i < bufs.size(); ++i) {
    slm_tensor_info_t info;
    slm_tensor_t v;
    ok = slm_model_input_info(m, i, &info) == SLM_OK && zero_input(info, &v, &bufs[i]) &&
         slm_session_set_input(s, info.name, &v) == SLM_OK;
  }
  if (ok && slm_session_run(s) == SLM_OK) {
    // Read every output byte so an output pointing outside the arena is caught by ASan.
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < slm_model_output_count(m); ++i) {
      slm_tensor_t out;
      if (slm_session_get_output(s, i, &out) != SLM_OK) abort(); // a run that succeeded has its outputs
      for (size_t k = 0; k < out.nbytes; ++k) sink = sink ^ static_cast<const uint8_t *>(out.data)[k];
    }
    (void)sink;
  } else if (slm_last_error()[0] == '\0') {
    abort(); // a failure must say why
  }
  slm_session_free(s);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int fd = artifact_fd();
  if (fd < 0 || ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != ssize_t(size))) {
    perror("fuzz_artifact_load: memfd");
    abort();
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  slm_model_t *m = nullptr;
  if (slm_model_load_file(path, &m) != SLM_OK) {
    if (slm_last_error()[0] == '\0') abort(); // a refusal must say why
    return 0;
  }
  run_model(m);
  slm_model_free(m);
  return 0;
}
