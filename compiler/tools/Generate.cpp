// Generate.cpp — `slmc generate`: chunked prefill of the prompt, then seeded sampling (temperature,
// top-k) one cached decode step per token, each token's text streamed as it comes.
#include "tools/Generate.h"
#include "tools/LmSession.h"

#include "tokenizer/Tokenizer.h"

#include "slm_runtime.h"

#include <boost/program_options.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <numeric>
#include <random>

namespace po = boost::program_options;

namespace slmc {
namespace {

struct GenerateOptions {
  std::string artifact, prompt, tokenizer = "bytes";
  int maxTokens = 64, topK = 40, threads = 2;
  double temperature = 0.8;
  uint64_t seed = 0;
};

int fail(const std::string &msg, int code) {
  std::cerr << "slmc generate: error: " << msg << "\n";
  return code;
}

// The next id from one row of logits: argmax at temperature 0, else a draw from the softmax of
// logits / T over the top-k ids (k = 0: all).
int64_t sample(const float *logits, int64_t vocab, const GenerateOptions &opt, std::mt19937_64 &rng) {
  if (opt.temperature <= 0)
    return std::max_element(logits, logits + vocab) - logits;
  std::vector<int64_t> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  int64_t k = opt.topK > 0 ? std::min<int64_t>(opt.topK, vocab) : vocab;
  // Ties broken by id so the choice never depends on the sort's stability.
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) {
    return logits[a] != logits[b] ? logits[a] > logits[b] : a < b;
  });
  std::vector<double> p(k);
  double mx = logits[order[0]], sum = 0;
  for (int64_t i = 0; i < k; ++i)
    sum += p[i] = std::exp((double(logits[order[i]]) - mx) / opt.temperature);
  double u = std::uniform_real_distribution<double>(0, sum)(rng);
  for (int64_t i = 0; i < k; ++i)
    if ((u -= p[i]) <= 0)
      return order[i];
  return order[k - 1];
}

int generate(const GenerateOptions &opt) {
  std::string err;
  std::unique_ptr<Tokenizer> tok = Tokenizer::load(opt.tokenizer, err);
  if (!tok)
    return fail(err, 2);
  slm_model_t *model = nullptr;
  if (slm_model_load_file(opt.artifact.c_str(), &model) != SLM_OK)
    return fail("cannot load " + opt.artifact + ": " + slm_last_error(), 2);
  LmInterface io;
  if (std::string e = findLmInterface(model, io); !e.empty()) {
    slm_model_free(model);
    return fail(opt.artifact + ": not an LM artifact: " + e, 2);
  }
  if (tok->vocabSize() > io.vocab) {
    slm_model_free(model);
    return fail(opt.tokenizer + ": " + std::to_string(tok->vocabSize()) + " ids but " + opt.artifact +
                    " has logits for " + std::to_string(io.vocab),
                2);
  }
  std::vector<int64_t> ids = tok->encode(opt.prompt);
  if (ids.empty()) {
    slm_model_free(model);
    return fail("--prompt gives no tokens", 2);
  }
  // Positions available: the prompt and each generated token but the last are cached.
  int64_t room = io.maxPast + 1 - int64_t(ids.size());
  if (room < 1) {
    slm_model_free(model);
    return fail("the prompt has " + std::to_string(ids.size()) + " tokens; " + opt.artifact +
                    " caches at most " + std::to_string(io.maxPast) + " (recompile with --dim past=N)",
                2);
  }
  int maxTokens = int(std::min<int64_t>(opt.maxTokens, room));
  if (maxTokens < opt.maxTokens)
    std::cerr << "slmc generate: note: " << opt.artifact << " caches " << io.maxPast
              << " positions; generating " << maxTokens << " tokens\n";
  slm_session_options_t so{opt.threads};
  slm_session_t *session = nullptr;
  if (slm_session_create(model, &so, &session) != SLM_OK) {
    std::string e = slm_last_error();
    slm_model_free(model);
    return fail("cannot create a session: " + e, 1);
  }
  LmRunner lm(session, io);
  std::mt19937_64 rng(opt.seed);
  using Clock = std::chrono::steady_clock;
  std::fwrite(opt.prompt.data(), 1, opt.prompt.size(), stdout);
  std::fflush(stdout);
  int rc = 0;
  auto t0 = Clock::now();
  for (size_t at = 0; at < ids.size() && !rc;) { // prefill in chunks of at most the seq bound
    int n = int(std::min<int64_t>(io.maxSeq, int64_t(ids.size() - at)));
    if (std::string e = lm.run(ids.data() + at, n); !e.empty())
      rc = fail(opt.artifact + ": prefill: " + e, 1);
    at += size_t(n);
  }
  double prefillMs = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  std::vector<int64_t> produced;
  auto t1 = Clock::now();
  int decodeSteps = 0;
  int64_t lastRow = 0;
  if (!rc)
    lastRow = (int64_t(ids.size()) - 1) % io.maxSeq; // last row of the last prefill chunk
  for (int i = 0; i < maxTokens && !rc; ++i) {
    int64_t next = sample(lm.logits() + lastRow * io.vocab, io.vocab, opt, rng);
    std::string piece = tok->streamPiece(produced, next);
    produced.push_back(next);
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    if (i + 1 == maxTokens)
      break;
    if (std::string e = lm.run(&next, 1); !e.empty())
      rc = fail(opt.artifact + ": decode: " + e, 1);
    lastRow = 0;
    ++decodeSteps;
  }
  double decodeMs = std::chrono::duration<double, std::milli>(Clock::now() - t1).count();
  std::printf("\n");
  std::fflush(stdout);
  slm_session_free(session);
  slm_model_free(model);
  if (rc)
    return rc;
  std::fprintf(stderr,
               "prefill: %zu tokens in %.2f ms (%.1f tokens/s); decode: %d tokens in %.2f ms "
               "(%.1f tokens/s, %.3f ms/token); %d threads\n",
               ids.size(), prefillMs, ids.size() * 1000.0 / std::max(prefillMs, 1e-9), decodeSteps,
               decodeMs, decodeSteps * 1000.0 / std::max(decodeMs, 1e-9),
               decodeSteps ? decodeMs / decodeSteps : 0.0, opt.threads);
  return 0;
}

} // namespace

int generateMain(int argc, char **argv) {
  GenerateOptions opt;
  po::options_description desc("slmc generate ART.slm --prompt TEXT");
  desc.add_options()("help,h", "show help")("artifact", po::value(&opt.artifact), ".slm artifact of an LM")(
      "prompt", po::value(&opt.prompt), "text to continue")(
      "max-tokens", po::value(&opt.maxTokens)->default_value(64), "tokens to generate")(
      "temperature", po::value(&opt.temperature)->default_value(0.8), "sampling temperature (0: greedy)")(
      "top-k", po::value(&opt.topK)->default_value(40), "sample among the k most likely (0: all)")(
      "seed", po::value(&opt.seed)->default_value(0), "sampling seed")(
      "tokenizer", po::value(&opt.tokenizer)->default_value("bytes"), "bytes or a tokenizer.json")(
      "threads", po::value(&opt.threads)->default_value(2), "threads (0: all cores)");
  po::positional_options_description pos;
  pos.add("artifact", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error &e) {
    return fail(e.what(), 2);
  }
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  if (opt.artifact.empty() || !vm.count("prompt"))
    return fail("generate needs ART.slm and --prompt TEXT", 2);
  if (opt.maxTokens < 1 || opt.topK < 0 || opt.temperature < 0 || opt.threads < 0)
    return fail("need --max-tokens >= 1, --top-k >= 0, --temperature >= 0, --threads >= 0", 2);
  return generate(opt);
}

} // namespace slmc
