// Bench.h — `slmc bench`: time an LM artifact (load, prefill, cached decode) through the runtime C
// API only.
//
// The artifact must have the project's LM interface: an int64 `input_ids`
// [batch, seq] input, `past_key_values.<i>.<key|value>` inputs, a `logits`
// output and `present.<i>.<key|value>` outputs (see
// benchmarks/models/make_tiny_llama.py). Batch is 1. Each decode step copies
// every `present.*` output and feeds it back as the matching
// `past_key_values.*` input, since caches are graph inputs/outputs today.
#ifndef SLMC_TOOLS_BENCH_H
#define SLMC_TOOLS_BENCH_H

#include <cstdint>
#include <string>

namespace slmc {

struct BenchOptions {
  std::string artifact; // .slm file
  int promptLen = 64;   // P: prefill tokens (past 0)
  int decode = 32;      // N: decode steps after the prompt
  int threads = 2;      // session threads (0: runtime default, all cores)
  int repeat = 5;       // timed repetitions of prefill + decode; medians over these
  int warmup = 1;       // untimed repetitions before the timed ones
  uint64_t seed = 0;    // random prompt/decode token ids
  std::string jsonPath; // if set, write {"models": [...]} here
};

// Runs the benchmark, prints a table to stdout and optionally writes JSON.
// Errors (unreadable artifact, not an LM interface, bounds too small for P+N,
// runtime failures) are printed to stderr with slm_last_error(). Returns 0 on
// success, 1 on a runtime failure, 2 on bad usage or artifact. Not thread safe
// (reads process-wide peak RSS).
int benchArtifact(const BenchOptions &opt);

} // namespace slmc

#endif // SLMC_TOOLS_BENCH_H
