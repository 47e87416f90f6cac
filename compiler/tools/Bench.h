// Bench.h — `slmc bench`: compressed artifacts against their original model, side by side (size,
// load, peak RSS, latency percentiles, LM prefill/decode speed, accuracy, perplexity).
//
// `slmc bench [ORIGINAL.onnx] ART.slm [ART2.slm ...]`: the original is compiled for the host
// without compression (cached by content hash and options), every model runs in its own worker
// process (a fresh exec of slmc, so peak RSS is that model's alone plus the worker's baseline,
// which is reported as rss_before_load_bytes) on the same inputs, and the artifacts' outputs are
// compared with the original's. LM artifacts (input_ids + past_key_values.* → logits +
// present.*) are timed as prefill of --prompt-len seeded random ids + --decode cached steps;
// other models as single runs on --input/--input-dir or on inputs generated from the signature.
#ifndef SLMC_TOOLS_BENCH_H
#define SLMC_TOOLS_BENCH_H

#include <cstdint>
#include <string>
#include <vector>

namespace slmc {

struct BenchOptions {
  std::vector<std::string> models; // [ORIGINAL.onnx] ART.slm ...
  int promptLen = 64;   // LM: prefill tokens (past 0)
  int decode = 32;      // LM: decode steps after the prompt
  int threads = 2;      // session threads (0: runtime default, all cores)
  int repeat = 5;       // timed repetitions; medians and percentiles over these
  int warmup = 1;       // untimed repetitions before the timed ones
  uint64_t seed = 0;    // random prompt/decode token ids and generated inputs
  std::string jsonPath, markdownPath, plotPath;
  std::vector<std::string> inputs; // NAME=FILE (non-LM models)
  std::string inputDir;            // <name>.npy or input_<i>.pb (non-LM models)
  std::string evalText;            // perplexity text (LMs)
  std::string tokenizer = "bytes"; // "bytes" or a tokenizer.json path
  int evalTokens = 4096;           // perplexity over at most this many tokens of evalText
  bool compareOrt = false;         // add ONNX Runtime on the original (LMs, benchmarks/peers)
  std::string ortPrefix;           // where onnxruntime-node is installed
  bool quiet = false;              // no progress line
  std::string cacheDir;            // compiled originals (default $XDG_CACHE_HOME/slmc/bench)
  std::vector<std::string> dims;   // NAME=MAX overrides for compiling the original
  std::string workerOut;           // internal: run as the worker of one artifact, write here
  std::string evalIds;             // internal (worker): .npy of int64 token ids for perplexity
};

// `slmc bench` with its argv (argv[0] is "bench"). Prints a table to stdout, a progress line to
// stderr (a terminal only, unless --quiet), writes --json/--markdown/--plot files. Returns 0,
// 1 on a runtime failure, 2 on bad usage, model or artifact (the message names the file).
int benchMain(int argc, char **argv);

} // namespace slmc

#endif // SLMC_TOOLS_BENCH_H
