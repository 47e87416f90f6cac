// LmSession.h — drives an LM artifact (input_ids + past_key_values.* → logits + present.*) one
// chunk at a time through the runtime C API; shared by `slmc bench` and `slmc generate`.
//
// The artifact must have the project's LM interface: an int64 `input_ids` [batch, seq] input,
// `past_key_values.<i>.<key|value>` inputs with one symbolic past dim, a `logits` output and
// `present.<i>.<key|value>` outputs (see benchmarks/models/make_tiny_llama.py). Batch is 1. After
// each run every `present.*` output is copied and fed back as the matching `past_key_values.*`
// input on the next run. An artifact compiled with --kv-cache=state has no past inputs or present
// outputs: its caches are session state that the runtime appends to in place, so a run only sets
// input_ids, and reset() resets the session state.
#ifndef SLMC_TOOLS_LMSESSION_H
#define SLMC_TOOLS_LMSESSION_H

#include "slm_runtime.h"

#include <cstdint>
#include <string>
#include <vector>

namespace slmc {

// One cache input and the output that feeds it on the next step.
struct LmCacheSlot {
  std::string pastName;   // past_key_values.<i>.<kind>
  size_t presentIndex = 0; // output index of present.<i>.<kind>
  slm_tensor_t value{};   // what is fed as the past input (dims, dtype)
  std::vector<char> host; // copy of the last present (outputs die at the next set_input)
  int pastAxis = -1;
};

// The LM interface of an artifact, found by input/output names.
struct LmInterface {
  int64_t maxSeq = 0, maxPast = 0, vocab = 0; // maxPast: most positions cached before a run
  bool stateCache = false;                     // caches are session state (--kv-cache=state)
  size_t logitsIndex = 0;
  std::vector<LmCacheSlot> caches;
};

// Fills `io` from the model's signature; returns "" or why the model is not an LM.
std::string findLmInterface(const slm_model_t *model, LmInterface &io);

// Runs chunks of token ids against a growing cache. Borrows the session; not thread safe.
class LmRunner {
public:
  LmRunner(slm_session_t *session, LmInterface io) : session_(session), io_(std::move(io)) { reset(); }

  // Forgets the cache (the next run starts at position 0).
  void reset();
  // Runs `seq` ids after the cached positions; on success logits() holds [seq, vocab] floats
  // (valid until the next run) and the cache grows by seq. Returns "" or an error message
  // (with slm_last_error()).
  std::string run(const int64_t *ids, int seq);
  const float *logits() const { return logits_; }
  int64_t cached() const { return cached_; }
  const LmInterface &interface() const { return io_; }

private:
  slm_session_t *session_;
  LmInterface io_;
  const float *logits_ = nullptr;
  int64_t cached_ = 0;
};

} // namespace slmc

#endif // SLMC_TOOLS_LMSESSION_H
