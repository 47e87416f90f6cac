// BenchWorker.cpp — the worker side of `slmc bench`: loads one artifact in a fresh process, times
// it, dumps the outputs compared against the original and the perplexity NLL, as result.json.
#include "tools/BenchInternal.h"
#include "tools/LmSession.h"

#include "run_tool.h"
#include "slm_runtime.h"
#include "tensor_io.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <sys/stat.h>

namespace slmc::bench {
namespace {

int fail(const std::string &msg, int code) {
  std::cerr << "slmc bench: error: " << msg << "\n";
  return code;
}

// Shows "name: what i/n" on one stderr line (only when the driver asked for progress).
void progress(const BenchOptions &opt, const std::string &what, int i, int n) {
  if (opt.quiet)
    return;
  std::string base = opt.models[0].substr(opt.models[0].find_last_of('/') + 1);
  std::fprintf(stderr, "\r\033[K  %s: %s %d/%d", base.c_str(), what.c_str(), i, n);
  std::fflush(stderr);
}

struct WorkerResult {
  bool lm = false;
  std::vector<double> latency, prefill, decode;
  double nllSum = 0;
  int64_t nllCount = 0;
  std::vector<std::pair<std::string, std::string>> outputs; // tensor name, .npy file
};

bool writeFloats(const std::string &path, const std::vector<float> &v, int64_t rows, int64_t cols,
                 std::string &err) {
  slm_tools::HostTensor t;
  t.dtype = SLM_DTYPE_FLOAT32;
  t.dims = {rows, cols};
  t.data.resize(v.size() * sizeof(float));
  std::memcpy(t.data.data(), v.data(), t.data.size());
  return slm_tools::write_npy(path, t, &err);
}

// Mean NLL terms of `ids` under the LM: windows of maxSeq + 1 ids overlapping by one, each run
// from an empty cache, so every id but the first is predicted once (as benchmarks/perplexity.py).
std::string perplexityNll(LmRunner &lm, const std::vector<int64_t> &ids, WorkerResult &r) {
  int64_t ctx = lm.interface().maxSeq + 1, vocab = lm.interface().vocab;
  for (int64_t s = 0; s + 1 < int64_t(ids.size());) {
    int64_t e = std::min<int64_t>(s + ctx, ids.size());
    lm.reset();
    if (std::string err = lm.run(ids.data() + s, int(e - s - 1)); !err.empty())
      return err;
    for (int64_t t = 0; t < e - s - 1; ++t) {
      const float *row = lm.logits() + t * vocab;
      double mx = row[0];
      for (int64_t v = 1; v < vocab; ++v)
        mx = std::max(mx, double(row[v]));
      double sum = 0;
      for (int64_t v = 0; v < vocab; ++v)
        sum += std::exp(double(row[v]) - mx);
      int64_t next = ids[s + t + 1];
      if (next < 0 || next >= vocab)
        return "token id " + std::to_string(next) + " is outside the model's vocab of " +
               std::to_string(vocab);
      r.nllSum += mx + std::log(sum) - double(row[next]);
      r.nllCount += 1;
    }
    s = e - 1;
  }
  return "";
}

// Prefill + cached decode of seeded random ids: one untimed pass that dumps the logits, then the
// warm-up and timed repetitions.
int runLm(const BenchOptions &opt, LmRunner &lm, WorkerResult &r) {
  const LmInterface &io = lm.interface();
  const std::string &art = opt.models[0];
  if (opt.promptLen > io.maxSeq || opt.promptLen + opt.decode - 1 > io.maxPast)
    return fail(art + ": bounds seq<=" + std::to_string(io.maxSeq) + ", past<=" +
                    std::to_string(io.maxPast) + " are too small for --prompt-len " +
                    std::to_string(opt.promptLen) + " --decode " + std::to_string(opt.decode) +
                    "; recompile with --dim seq=" + std::to_string(opt.promptLen) +
                    " --dim past=" + std::to_string(opt.promptLen + opt.decode),
                2);
  std::mt19937_64 rng(opt.seed);
  std::uniform_int_distribution<int64_t> pick(0, io.vocab - 1);
  std::vector<int64_t> ids(opt.promptLen + opt.decode);
  for (auto &id : ids)
    id = pick(rng);
  std::vector<float> dump;
  auto pass = [&](bool keep, double &prefillMs, double &decodeMs) -> std::string {
    lm.reset();
    auto t0 = Clock::now();
    if (std::string e = lm.run(ids.data(), opt.promptLen); !e.empty())
      return e;
    prefillMs = msSince(t0);
    if (keep)
      dump.assign(lm.logits(), lm.logits() + size_t(opt.promptLen) * io.vocab);
    t0 = Clock::now();
    for (int i = 0; i < opt.decode; ++i) {
      if (std::string e = lm.run(ids.data() + opt.promptLen + i, 1); !e.empty())
        return e;
      if (keep)
        dump.insert(dump.end(), lm.logits(), lm.logits() + io.vocab);
    }
    decodeMs = opt.decode ? msSince(t0) / opt.decode : 0;
    return "";
  };
  int total = 1 + std::max(0, opt.warmup - 1) + opt.repeat;
  for (int i = 0; i < total; ++i) {
    progress(opt, "prefill+decode", i + 1, total);
    double p = 0, d = 0;
    if (std::string e = pass(i == 0, p, d); !e.empty())
      return fail(art + ": run failed: " + e, 1);
    if (i < total - opt.repeat)
      continue;
    r.prefill.push_back(p);
    r.decode.push_back(d);
    r.latency.push_back(p + d * opt.decode);
  }
  std::string err, file = opt.workerOut + "/logits.npy";
  if (!writeFloats(file, dump, opt.promptLen + opt.decode, io.vocab, err))
    return fail(err, 1);
  r.outputs.push_back({"logits", file});
  if (!opt.evalIds.empty()) {
    slm_tools::HostTensor t;
    if (!slm_tools::read_tensor_file(opt.evalIds, &t, &err) || t.dtype != SLM_DTYPE_INT64)
      return fail(opt.evalIds + ": " + (err.empty() ? "expected int64 ids" : err), 2);
    std::vector<int64_t> evalIds(t.data.size() / sizeof(int64_t));
    std::memcpy(evalIds.data(), t.data.data(), t.data.size());
    progress(opt, "perplexity", 1, 1);
    if (std::string e = perplexityNll(lm, evalIds, r); !e.empty())
      return fail(art + ": perplexity: " + e, 1);
  }
  return 0;
}

// The input file of graph input `index`: --input NAME=FILE, else <name>.npy or input_<i>.pb in
// --input-dir.
std::string inputFile(const BenchOptions &opt, const std::string &name, size_t index) {
  for (const auto &kv : opt.inputs)
    if (kv.rfind(name + "=", 0) == 0)
      return kv.substr(name.size() + 1);
  if (opt.inputDir.empty())
    return "";
  struct stat st {};
  std::string npy = opt.inputDir + "/" + slm_tools::tensor_file_stem(name) + ".npy";
  if (stat(npy.c_str(), &st) == 0)
    return npy;
  std::string pb = opt.inputDir + "/input_" + std::to_string(index) + ".pb";
  return stat(pb.c_str(), &st) == 0 ? pb : "";
}

// Any model: one untimed run that dumps every output, then warm-up and timed runs (each
// including the input copies).
int runPlain(const BenchOptions &opt, slm_model_t *model, slm_session_t *session,
             WorkerResult &r) {
  const std::string &art = opt.models[0];
  std::vector<std::pair<std::string, slm_tools::HostTensor>> feeds;
  for (size_t i = 0; i < slm_model_input_count(model); ++i) {
    slm_tensor_info_t info;
    slm_model_input_info(model, i, &info);
    std::string file = inputFile(opt, info.name, i), err;
    if (file.empty())
      return fail(art + ": no input file for '" + info.name + "' (--input NAME=FILE or --input-dir)",
                  2);
    slm_tools::HostTensor t;
    if (!slm_tools::read_tensor_file(file, &t, &err))
      return fail(err, 2);
    feeds.push_back({info.name, std::move(t)});
  }
  auto once = [&]() -> std::string {
    for (auto &[name, t] : feeds) {
      slm_tensor_t v{};
      v.dtype = t.dtype;
      v.rank = int32_t(t.dims.size());
      for (size_t d = 0; d < t.dims.size() && d < SLM_MAX_RANK; ++d)
        v.dims[d] = t.dims[d];
      v.data = t.data.data();
      v.nbytes = t.data.size();
      if (slm_session_set_input(session, name.c_str(), &v) != SLM_OK)
        return "input '" + name + "': " + slm_last_error();
    }
    return slm_session_run(session) == SLM_OK ? "" : std::string(slm_last_error());
  };
  int total = 1 + std::max(0, opt.warmup - 1) + opt.repeat;
  for (int i = 0; i < total; ++i) {
    progress(opt, "run", i + 1, total);
    auto t0 = Clock::now();
    if (std::string e = once(); !e.empty())
      return fail(art + ": run failed: " + e, 1);
    double ms = msSince(t0);
    if (i == 0) {
      for (size_t k = 0; k < slm_model_output_count(model); ++k) {
        slm_tensor_info_t info;
        slm_model_output_info(model, k, &info);
        slm_tensor_t out;
        std::string err, file = opt.workerOut + "/out_" + std::to_string(k) + ".npy";
        if (slm_session_get_output(session, k, &out) != SLM_OK ||
            !slm_tools::write_npy(file, out, &err))
          return fail(art + ": output '" + info.name + "': " + (err.empty() ? slm_last_error() : err),
                      1);
        r.outputs.push_back({info.name, file});
      }
    }
    if (i >= total - opt.repeat)
      r.latency.push_back(ms);
  }
  return 0;
}

} // namespace

int runWorker(const BenchOptions &opt) {
  const std::string &art = opt.models[0];
  uint64_t rss0 = procStatusBytes("VmRSS");
  auto t0 = Clock::now();
  slm_model_t *model = nullptr;
  if (slm_model_load_file(art.c_str(), &model) != SLM_OK)
    return fail("cannot load " + art + ": " + slm_last_error(), 2);
  slm_session_options_t so{opt.threads};
  slm_session_t *session = nullptr;
  if (slm_session_create(model, &so, &session) != SLM_OK) {
    std::string e = slm_last_error();
    slm_model_free(model);
    return fail(art + ": cannot create a session: " + e, 1);
  }
  double loadMs = msSince(t0); // map + verify + arena: time until the first run could start
  WorkerResult r;
  LmInterface io;
  r.lm = findLmInterface(model, io).empty();
  int rc = 0;
  if (r.lm) {
    LmRunner lm(session, io);
    rc = runLm(opt, lm, r);
  } else {
    rc = runPlain(opt, model, session, r);
  }
  uint64_t peak = procStatusBytes("VmHWM");
  size_t arena = slm_model_arena_bytes(model);
  slm_session_free(session);
  slm_model_free(model);
  if (!opt.quiet)
    std::fprintf(stderr, "\r\033[K");
  if (rc)
    return rc;
  std::ostringstream os;
  os.precision(9);
  os << "{\"lm\": " << (r.lm ? "true" : "false") << ", \"load_ms\": " << loadMs
     << ", \"peak_rss_bytes\": " << peak << ", \"rss_before_load_bytes\": " << rss0
     << ", \"arena_bytes\": " << arena << ", \"latency_ms_runs\": " << jsonList(r.latency)
     << ", \"prefill_ms_runs\": " << jsonList(r.prefill)
     << ", \"decode_ms_per_token_runs\": " << jsonList(r.decode) << ", \"nll_sum\": " << r.nllSum
     << ", \"nll_count\": " << r.nllCount << ", \"outputs\": [";
  for (size_t i = 0; i < r.outputs.size(); ++i)
    os << (i ? ", " : "") << "{\"name\": " << jsonString(r.outputs[i].first)
       << ", \"file\": " << jsonString(r.outputs[i].second) << "}";
  os << "]}\n";
  std::ofstream f(opt.workerOut + "/result.json");
  f << os.str();
  if (!f.good())
    return fail("cannot write " + opt.workerOut + "/result.json", 1);
  return 0;
}

} // namespace slmc::bench
