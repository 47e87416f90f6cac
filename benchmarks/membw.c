/* membw.c — memory-read bandwidth of this machine: T threads stream-read a large buffer; prints the
 * median GB/s (the decode roofline).
 *
 * Build: cc -O3 -march=native -fopenmp benchmarks/membw.c -o build/membw   (run_all.py does this)
 * Usage: membw [--threads T] [--mib M] [--repeat R] [--json FILE]
 *        defaults: 2 threads, 1024 MiB buffer (far beyond any cache), 15 repeats.
 * Each repeat sums the buffer as 64-bit integers (vectorized loads, no stores);
 * GB/s = bytes read / seconds (1 GB = 1e9 bytes). The buffer is first-touched
 * by the same threads, with the same static schedule, as the timed reads.
 */
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Each thread sums its contiguous share as STREAMS interleaved sub-streams: one
 * sequential stream per core leaves bandwidth unused (too few misses in flight). */
#define STREAMS 8
static uint64_t read_all(const uint64_t *buf, size_t n) {
  uint64_t sum = 0;
#pragma omp parallel reduction(+ : sum)
  {
    size_t per = n / (size_t)omp_get_num_threads(), q = per / STREAMS / 8 * 8;
    const uint64_t *base = buf + per * (size_t)omp_get_thread_num();
    uint64_t acc[STREAMS] = {0};
    for (size_t i = 0; i < q; i += 8)
      for (int s = 0; s < STREAMS; ++s) {
        const uint64_t *p = base + s * q + i;
        acc[s] += p[0] + p[1] + p[2] + p[3] + p[4] + p[5] + p[6] + p[7];
      }
    for (int s = 0; s < STREAMS; ++s)
      sum += acc[s];
  }
  return sum;
}

int main(int argc, char **argv) {
  int threads = 2, repeat = 15;
  size_t mib = 1024;
  const char *json = NULL;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--threads"))
      threads = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--mib"))
      mib = (size_t)atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--repeat"))
      repeat = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--json"))
      json = argv[i + 1];
    else {
      fprintf(stderr, "usage: membw [--threads T] [--mib M] [--repeat R] [--json FILE]\n");
      return 2;
    }
  }
  if (threads < 1 || repeat < 1 || mib < 1) {
    fprintf(stderr, "membw: --threads, --mib and --repeat must be positive\n");
    return 2;
  }
  omp_set_num_threads(threads);
  size_t bytes = mib << 20, n = bytes / sizeof(uint64_t);
  /* what read_all touches: whole 8-element groups of each thread's streams */
  double read_bytes = (double)((n / (size_t)threads / STREAMS / 8 * 8) * STREAMS * (size_t)threads *
                               sizeof(uint64_t));
  uint64_t *buf = aligned_alloc(64, bytes);
  double *gbs = malloc(sizeof(double) * (size_t)repeat);
  if (!buf || !gbs) {
    fprintf(stderr, "membw: cannot allocate %zu MiB\n", mib);
    return 1;
  }
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < n; ++i)
    buf[i] = i;
  uint64_t sink = read_all(buf, n); /* warm-up */
  for (int r = 0; r < repeat; ++r) {
    double t0 = now_s();
    sink += read_all(buf, n);
    gbs[r] = read_bytes / (now_s() - t0) / 1e9;
  }
  qsort(gbs, (size_t)repeat, sizeof(double), cmp_double);
  double med = repeat % 2 ? gbs[repeat / 2] : 0.5 * (gbs[repeat / 2 - 1] + gbs[repeat / 2]);
  printf("membw: %d threads, %zu MiB, median %.2f GB/s (min %.2f, max %.2f, %d repeats) [%llu]\n",
         threads, mib, med, gbs[0], gbs[repeat - 1], repeat, (unsigned long long)(sink & 1));
  if (json) {
    FILE *f = fopen(json, "w");
    if (!f) {
      fprintf(stderr, "membw: cannot write %s\n", json);
      return 1;
    }
    fprintf(f, "{\"threads\": %d, \"buffer_mib\": %zu, \"repeat\": %d, \"read_gb_per_s\": %.3f}\n",
            threads, mib, repeat, med);
    fclose(f);
  }
  free(gbs);
  free(buf);
  return 0;
}
