// Generate.h — `slmc generate`: text from an LM artifact, streamed token by token, then its speed.
#ifndef SLMC_TOOLS_GENERATE_H
#define SLMC_TOOLS_GENERATE_H

namespace slmc {

// `slmc generate ART.slm --prompt TEXT [--max-tokens N] [--temperature T] [--top-k K] [--seed S]
// [--tokenizer bytes|tokenizer.json] [--threads N]` with its argv (argv[0] is "generate").
// Prints the prompt and each new token's text to stdout as it comes (flushed), then prefill and
// decode speed to stderr. Sampling is seeded: the same arguments give the same text (temperature
// 0 is greedy). Returns 0, 1 on a runtime failure, 2 on bad usage, artifact or tokenizer.
int generateMain(int argc, char **argv);

} // namespace slmc

#endif // SLMC_TOOLS_GENERATE_H
