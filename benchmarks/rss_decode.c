/* rss_decode.c — peak RSS of a runtime-only LM decode (issue 5: RSS <= 1.1 x (weights + arena)).
 *
 *   cc -O2 -I runtime/include benchmarks/rss_decode.c -L build -lslm_runtime -Wl,-rpath,$PWD/build -o rss_decode
 *   ./rss_decode ART.slm [PROMPT_LEN=64] [DECODE=32]
 *
 * ART must be compiled with --kv-cache=state (input_ids only). Loads it through the C API (mmap),
 * creates one session, runs a prompt of seeded ids and DECODE single-token steps, and prints
 * VmHWM before loading and after decoding, the artifact's weights (file size) and arena, and the
 * ratio (VmHWM_after - VmHWM_before) / (file + arena). No MLIR, no bench harness in the process.
 */
#include "slm_runtime.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static long vm_hwm_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "VmHWM:", 6) == 0) kb = strtol(line + 6, NULL, 10);
  if (f) fclose(f);
  return kb;
}

static int run(slm_session_t *s, const int64_t *ids, int n) {
  slm_tensor_t t = {SLM_DTYPE_INT64, 2, {1, n}, ids, (size_t)n * sizeof(int64_t)};
  if (slm_session_set_input(s, "input_ids", &t) != SLM_OK || slm_session_run(s) != SLM_OK) {
    fprintf(stderr, "rss_decode: %s\n", slm_last_error());
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: rss_decode ART.slm [PROMPT_LEN] [DECODE]\n");
    return 2;
  }
  int prompt = argc > 2 ? atoi(argv[2]) : 64, decode = argc > 3 ? atoi(argv[3]) : 32;
  long before = vm_hwm_kb();
  slm_model_t *m = NULL;
  slm_session_t *s = NULL;
  if (slm_model_load_file(argv[1], &m) != SLM_OK || slm_session_create(m, NULL, &s) != SLM_OK) {
    fprintf(stderr, "rss_decode: %s\n", slm_last_error());
    return 1;
  }
  int64_t ids[4096];
  for (int i = 0; i < prompt && i < 4096; ++i) ids[i] = (i * 7919 + 13) % 250;
  if (run(s, ids, prompt)) return 1;
  for (int i = 0; i < decode; ++i) {
    int64_t id = (i * 31 + 5) % 250;
    if (run(s, &id, 1)) return 1;
  }
  long after = vm_hwm_kb();
  struct stat st;
  stat(argv[1], &st);
  double file = (double)st.st_size, arena = (double)slm_model_arena_bytes(m);
  printf("%s: VmHWM %.1f MB before load, %.1f MB after %d + %d tokens; artifact %.1f MB + arena %.1f MB; "
         "ratio %.3f\n", argv[1], before / 1024.0, after / 1024.0, prompt, decode, file / 1e6, arena / 1e6,
         (after - before) * 1024.0 / (file + arena));
  slm_session_free(s);
  slm_model_free(m);
  return 0;
}
