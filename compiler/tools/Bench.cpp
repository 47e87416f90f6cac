// Bench.cpp — `slmc bench`: load, prefill and cached-decode timing of an LM artifact through the
// runtime C API.
#include "tools/Bench.h"

#include "slm_runtime.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <sys/resource.h>
#include <sys/stat.h>
#include <thread>
#include <vector>

namespace slmc {
namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// A "<key>: N kB" line of /proc/self/status in bytes (0 if absent).
uint64_t procStatusBytes(const char *key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(key, 0) == 0 && line[std::strlen(key)] == ':')
      return std::stoull(line.substr(std::strlen(key) + 1)) * 1024;
  return 0;
}

// Peak resident set of this process: VmHWM, else getrusage's ru_maxrss (KiB on Linux).
uint64_t peakRssBytes() {
  if (uint64_t hwm = procStatusBytes("VmHWM"))
    return hwm;
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return uint64_t(ru.ru_maxrss) * 1024;
}

std::string stem(const std::string &path) {
  std::string base = path.substr(path.find_last_of('/') + 1);
  auto dot = base.rfind('.');
  return dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
}

std::string jsonString(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// One cache input and the output that feeds it on the next step.
struct CacheSlot {
  std::string pastName;   // past_key_values.<i>.<kind>
  size_t presentIndex;    // output index of present.<i>.<kind>
  slm_tensor_t value{};   // what is fed as the past input (dims, dtype)
  std::vector<char> host; // copy of the last present (outputs die at the next set_input)
  int pastAxis = -1;
};

// The LM interface of an artifact, found by input/output names.
struct LmInterface {
  int64_t maxSeq = 0, maxPast = 0, vocab = 0;
  size_t logitsIndex = 0;
  std::vector<CacheSlot> caches;
};

// Fills `io` from the model's signature; returns an error message or "".
std::string findInterface(const slm_model_t *model, LmInterface &io) {
  slm_tensor_info_t info;
  bool haveIds = false;
  for (size_t i = 0; i < slm_model_input_count(model); ++i) {
    slm_model_input_info(model, i, &info);
    std::string name = info.name;
    if (name == "input_ids") {
      if (info.dtype != SLM_DTYPE_INT64 || info.rank != 2)
        return "input_ids must be int64 [batch, seq]";
      io.maxSeq = info.max_dims[1];
      haveIds = true;
    } else if (name.rfind("past_key_values.", 0) == 0) {
      CacheSlot slot;
      slot.pastName = name;
      slot.value.dtype = info.dtype;
      slot.value.rank = info.rank;
      for (int d = 0; d < info.rank; ++d) {
        const char *dn = info.dim_names[d];
        bool batch = dn && std::strstr(dn, "batch");
        slot.value.dims[d] = batch ? 1 : info.max_dims[d];
        if (dn && !batch)
          slot.pastAxis = d;
      }
      if (slot.pastAxis < 0)
        return "input '" + name + "' has no symbolic past dim";
      io.maxPast = io.caches.empty() ? info.max_dims[slot.pastAxis]
                                     : std::min(io.maxPast, info.max_dims[slot.pastAxis]);
      io.caches.push_back(std::move(slot));
    } else {
      return "unexpected input '" + name + "' (expected input_ids and past_key_values.*)";
    }
  }
  if (!haveIds)
    return "no input named input_ids";
  for (auto &slot : io.caches) {
    std::string want = "present." + slot.pastName.substr(std::strlen("past_key_values."));
    size_t n = slm_model_output_count(model), k = 0;
    for (; k < n; ++k) {
      slm_model_output_info(model, k, &info);
      if (want == info.name)
        break;
    }
    if (k == n)
      return "no output " + want + " for input " + slot.pastName;
    slot.presentIndex = k;
  }
  for (size_t k = 0; k < slm_model_output_count(model); ++k) {
    slm_model_output_info(model, k, &info);
    if (std::string(info.name) == "logits") {
      io.logitsIndex = k;
      io.vocab = info.max_dims[info.rank - 1];
      return "";
    }
  }
  return "no output named logits";
}

// Results of one timed repetition.
struct RepeatTimes {
  double prefillMs = 0;
  double decodeMsPerToken = 0;
};

class Runner {
public:
  Runner(slm_session_t *session, LmInterface &io, uint64_t seed)
      : session_(session), io_(io), rng_(seed) {}

  // Prefill of P tokens from an empty cache, then N decode steps; false on a runtime error.
  bool once(int promptLen, int decode, RepeatTimes &t) {
    for (auto &slot : io_.caches)
      slot.value.dims[slot.pastAxis] = 0;
    auto t0 = Clock::now();
    if (!step(promptLen))
      return false;
    t.prefillMs = msSince(t0);
    t0 = Clock::now();
    for (int i = 0; i < decode; ++i)
      if (!step(1))
        return false;
    t.decodeMsPerToken = decode ? msSince(t0) / decode : 0;
    return true;
  }

private:
  // One run: feed `seq` random ids and the caches, run, read logits, keep the presents.
  bool step(int seq) {
    ids_.resize(seq);
    std::uniform_int_distribution<int64_t> pick(0, io_.vocab - 1);
    for (auto &id : ids_)
      id = pick(rng_);
    slm_tensor_t in{};
    in.dtype = SLM_DTYPE_INT64;
    in.rank = 2;
    in.dims[0] = 1;
    in.dims[1] = seq;
    in.data = ids_.data();
    in.nbytes = ids_.size() * sizeof(int64_t);
    if (slm_session_set_input(session_, "input_ids", &in) != SLM_OK)
      return false;
    for (auto &slot : io_.caches) {
      slot.value.data = slot.host.data();
      slot.value.nbytes = 1;
      for (int d = 0; d < slot.value.rank; ++d)
        slot.value.nbytes *= size_t(slot.value.dims[d]);
      slot.value.nbytes *= slm_dtype_size(slot.value.dtype);
      if (slm_session_set_input(session_, slot.pastName.c_str(), &slot.value) != SLM_OK)
        return false;
    }
    if (slm_session_run(session_) != SLM_OK)
      return false;
    slm_tensor_t out;
    if (slm_session_get_output(session_, io_.logitsIndex, &out) != SLM_OK)
      return false;
    for (auto &slot : io_.caches) {
      if (slm_session_get_output(session_, slot.presentIndex, &out) != SLM_OK)
        return false;
      slot.host.assign(static_cast<const char *>(out.data),
                       static_cast<const char *>(out.data) + out.nbytes);
      slot.value.dims[slot.pastAxis] = out.dims[slot.pastAxis];
    }
    return true;
  }

  slm_session_t *session_;
  LmInterface &io_;
  std::mt19937_64 rng_;
  std::vector<int64_t> ids_;
};

struct BenchResult {
  std::string name;
  uint64_t sizeBytes = 0, peakRss = 0, arenaBytes = 0;
  uint64_t rssBeforeLoad = 0; // the slmc process itself (it links MLIR/LLVM), before the artifact
  double loadMs = 0, prefillMs = 0, decodeMs = 0;
  std::vector<double> prefillRuns, decodeRuns;
  int threads = 0;
};

std::string listJson(const std::vector<double> &v) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < v.size(); ++i)
    os << (i ? ", " : "") << v[i];
  return os.str() + "]";
}

std::string toJson(const BenchResult &r, const BenchOptions &opt) {
  std::ostringstream os;
  os.precision(6);
  double tps = r.decodeMs > 0 ? 1000.0 / r.decodeMs : 0;
  os << "{\"models\": [{\"name\": " << jsonString(r.name) << ", \"engine\": \"slmc\""
     << ", \"size_bytes\": " << r.sizeBytes << ", \"load_ms\": " << r.loadMs
     << ", \"prefill_ms\": " << r.prefillMs << ", \"decode_ms_per_token\": " << r.decodeMs
     << ", \"tokens_per_s\": " << tps << ", \"peak_rss_bytes\": " << r.peakRss
     << ", \"arena_bytes\": " << r.arenaBytes << ", \"rss_before_load_bytes\": " << r.rssBeforeLoad
     << ", \"threads\": " << r.threads << ", \"prompt_len\": " << opt.promptLen
     << ", \"decode\": " << opt.decode << ", \"repeat\": " << opt.repeat
     << ", \"prefill_ms_runs\": " << listJson(r.prefillRuns)
     << ", \"decode_ms_per_token_runs\": " << listJson(r.decodeRuns) << "}]}\n";
  return os.str();
}

void printTable(const BenchResult &r, const BenchOptions &opt) {
  std::printf("%-24s %10s %9s %12s %14s %9s %10s %7s\n", "model", "size_MB", "load_ms",
              "prefill_ms", "decode_ms/tok", "tok/s", "peakRSS_MB", "threads");
  std::printf("%-24s %10.1f %9.2f %12.2f %14.3f %9.2f %10.1f %7d\n", r.name.c_str(),
              r.sizeBytes / 1e6, r.loadMs, r.prefillMs, r.decodeMs,
              r.decodeMs > 0 ? 1000.0 / r.decodeMs : 0.0, r.peakRss / 1e6, r.threads);
  std::printf("(prompt %d tokens, %d decode steps, median of %d repeats after %d warmup)\n",
              opt.promptLen, opt.decode, opt.repeat, opt.warmup);
}

int fail(const std::string &msg, int code) {
  std::cerr << "slmc bench: error: " << msg << "\n";
  return code;
}

int runtimeFail(const std::string &what, slm_status_t st) {
  int code = (st == SLM_ERROR_RUNTIME || st == SLM_ERROR_OUT_OF_MEMORY) ? 1 : 2;
  return fail(what + ": " + slm_last_error(), code);
}

// Times repeat runs and fills the medians; returns an exit code.
int measure(slm_session_t *session, LmInterface &io, const BenchOptions &opt, BenchResult &r) {
  Runner runner(session, io, opt.seed);
  RepeatTimes t;
  for (int i = 0; i < opt.warmup + opt.repeat; ++i) {
    if (!runner.once(opt.promptLen, opt.decode, t))
      return runtimeFail("run failed (repeat " + std::to_string(i) + ")", SLM_ERROR_RUNTIME);
    if (i < opt.warmup)
      continue;
    r.prefillRuns.push_back(t.prefillMs);
    r.decodeRuns.push_back(t.decodeMsPerToken);
  }
  r.prefillMs = median(r.prefillRuns);
  r.decodeMs = median(r.decodeRuns);
  return 0;
}

} // namespace

int benchArtifact(const BenchOptions &opt) {
  if (opt.promptLen < 1 || opt.decode < 0 || opt.repeat < 1 || opt.warmup < 0 || opt.threads < 0)
    return fail("need --prompt-len >= 1, --decode >= 0, --repeat >= 1, --threads >= 0", 2);
  BenchResult r;
  r.name = stem(opt.artifact);
  struct stat st {};
  if (stat(opt.artifact.c_str(), &st) != 0)
    return fail("cannot stat " + opt.artifact, 2);
  r.sizeBytes = uint64_t(st.st_size);

  r.rssBeforeLoad = procStatusBytes("VmRSS");
  auto t0 = Clock::now();
  slm_model_t *model = nullptr;
  if (slm_status_t s = slm_model_load_file(opt.artifact.c_str(), &model); s != SLM_OK)
    return runtimeFail("cannot load " + opt.artifact, s);
  slm_session_options_t so{opt.threads};
  slm_session_t *session = nullptr;
  if (slm_status_t s = slm_session_create(model, &so, &session); s != SLM_OK) {
    slm_model_free(model);
    return runtimeFail("cannot create a session", s);
  }
  r.loadMs = msSince(t0); // map + verify + arena: time until the first run could start
  r.arenaBytes = slm_model_arena_bytes(model);
  r.threads = opt.threads ? opt.threads : int(std::thread::hardware_concurrency());

  LmInterface io;
  std::string err = findInterface(model, io);
  int rc = 0;
  if (!err.empty()) {
    rc = fail(opt.artifact + ": not an LM artifact: " + err, 2);
  } else if (opt.promptLen > io.maxSeq || opt.promptLen + opt.decode - 1 > io.maxPast) {
    rc = fail(opt.artifact + ": bounds seq<=" + std::to_string(io.maxSeq) +
                  ", past<=" + std::to_string(io.maxPast) + " are too small for --prompt-len " +
                  std::to_string(opt.promptLen) + " --decode " + std::to_string(opt.decode) +
                  "; recompile with --dim seq=" + std::to_string(opt.promptLen) +
                  " --dim past=" + std::to_string(opt.promptLen + opt.decode),
              2);
  } else {
    rc = measure(session, io, opt, r);
  }
  r.peakRss = peakRssBytes();
  slm_session_free(session);
  slm_model_free(model);
  if (rc)
    return rc;

  printTable(r, opt);
  if (!opt.jsonPath.empty()) {
    std::ofstream f(opt.jsonPath);
    f << toJson(r, opt);
    if (!f.good())
      return fail("cannot write " + opt.jsonPath, 2);
  }
  return 0;
}

} // namespace slmc
