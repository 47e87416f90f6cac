// Bench.cpp — `slmc bench`: the driver. Compiles the original (cached), runs each model in a worker
// process on the same inputs, compares outputs with the original's and writes the reports.
#include "tools/Bench.h"
#include "tools/BenchInternal.h"
#include "tools/LmSession.h"

#include "pipeline/Pipeline.h"
#include "tokenizer/Tokenizer.h"

#include "run_tool.h"
#include "slm_runtime.h"
#include "tensor_io.h"

#include "llvm/Support/JSON.h"

#include <boost/program_options.hpp>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace po = boost::program_options;

namespace slmc::bench {

double percentile(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  size_t rank = size_t(std::ceil(p / 100.0 * double(v.size())));
  return v[std::min(v.size() - 1, rank ? rank - 1 : 0)];
}

double median(const std::vector<double> &v) {
  if (v.empty())
    return 0;
  std::vector<double> s = v;
  std::sort(s.begin(), s.end());
  size_t n = s.size();
  return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
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

std::string jsonList(const std::vector<double> &v) {
  std::ostringstream os;
  os.precision(9);
  os << "[";
  for (size_t i = 0; i < v.size(); ++i)
    os << (i ? ", " : "") << v[i];
  return os.str() + "]";
}

uint64_t procStatusBytes(const char *key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(key, 0) == 0 && line[std::strlen(key)] == ':')
      return std::stoull(line.substr(std::strlen(key) + 1)) * 1024;
  return 0;
}

namespace {

int fail(const std::string &msg, int code) {
  std::cerr << "slmc bench: error: " << msg << "\n";
  return code;
}

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string stem(const std::string &path) {
  std::string base = path.substr(path.find_last_of('/') + 1);
  auto dot = base.rfind('.');
  return dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
}

const char *hostTarget() {
#if defined(__x86_64__)
  return "x86_64";
#elif defined(__aarch64__)
  return "arm64";
#else
  return "riscv64";
#endif
}

// One progress line on stderr, rewritten in place; silent off a terminal or with --quiet.
struct Progress {
  bool on;
  explicit Progress(const BenchOptions &opt) : on(!opt.quiet && isatty(2)) {}
  void show(int step, int steps, const std::string &what) const {
    if (!on)
      return;
    std::fprintf(stderr, "\r\033[K[%d/%d] %s", step, steps, what.c_str());
    std::fflush(stderr);
  }
  void done() const {
    if (on)
      std::fprintf(stderr, "\r\033[K");
  }
};

// FNV-1a over the model file's bytes: the cache key of a compiled original.
bool hashFile(const std::string &path, uint64_t &h) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    return false;
  h = 1469598103934665603ull;
  char buf[1 << 16];
  while (f.read(buf, sizeof buf) || f.gcount())
    for (std::streamsize i = 0; i < f.gcount(); ++i)
      h = (h ^ static_cast<unsigned char>(buf[i])) * 1099511628211ull;
  return true;
}

std::string defaultCacheDir() {
  if (const char *x = std::getenv("XDG_CACHE_HOME"); x && *x)
    return std::string(x) + "/slmc/bench";
  if (const char *home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/slmc/bench";
  return "/tmp/slmc-bench-cache";
}

bool makeDirs(const std::string &path) {
  for (size_t i = 1; i <= path.size(); ++i)
    if (i == path.size() || path[i] == '/') {
      std::string p = path.substr(0, i);
      if (mkdir(p.c_str(), 0755) != 0 && errno != EEXIST)
        return false;
    }
  return true;
}

// Symbolic dim bounds of an artifact's inputs (NAME -> MAX), so the original is compiled with the
// same bounds as the compressed artifacts.
std::string artifactBounds(const std::string &path, std::map<std::string, int64_t> &bounds) {
  slm_model_t *model = nullptr;
  if (slm_model_load_file(path.c_str(), &model) != SLM_OK)
    return "cannot load " + path + ": " + slm_last_error();
  for (size_t i = 0; i < slm_model_input_count(model); ++i) {
    slm_tensor_info_t info;
    slm_model_input_info(model, i, &info);
    for (int d = 0; d < info.rank; ++d)
      if (info.dim_names[d])
        bounds[info.dim_names[d]] = info.max_dims[d];
  }
  slm_model_free(model);
  return "";
}

// Compiles the original for the host without compression into the cache (reused when present).
int compileOriginal(const BenchOptions &opt, const std::string &onnx,
                    const std::map<std::string, int64_t> &bounds, std::string &out) {
  uint64_t h = 0;
  if (!hashFile(onnx, h))
    return fail("cannot read " + onnx, 2);
  std::ostringstream key;
  key << SLMC_VERSION << '|' << hostTarget();
  for (const auto &[k, v] : bounds)
    key << '|' << k << '=' << v;
  for (char c : key.str())
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  std::string dir = opt.cacheDir.empty() ? defaultCacheDir() : opt.cacheDir;
  if (!makeDirs(dir))
    return fail("cannot create the cache folder " + dir + ": " + std::strerror(errno), 2);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  out = dir + "/" + stem(onnx) + "-" + hex + ".slm";
  struct stat st {};
  if (stat(out.c_str(), &st) == 0)
    return 0;
  CompileOptions co;
  co.input = onnx;
  co.output = out;
  co.target = hostTarget();
  co.dimBounds = bounds;
  return compileModel(co);
}

// Writes seeded inputs for every graph input of `art` into dir/<name>.npy: symbolic dims at
// min(bound, 16) (batch dims at 1), floats N(0, 1), integers in [0, 10), bools 0/1.
int generateInputs(const std::string &art, const std::string &dir, uint64_t seed) {
  slm_model_t *model = nullptr;
  if (slm_model_load_file(art.c_str(), &model) != SLM_OK)
    return fail("cannot load " + art + ": " + slm_last_error(), 2);
  std::mt19937_64 rng(seed);
  int rc = 0;
  for (size_t i = 0; i < slm_model_input_count(model) && !rc; ++i) {
    slm_tensor_info_t info;
    slm_model_input_info(model, i, &info);
    slm_tools::HostTensor t;
    t.dtype = info.dtype;
    int64_t n = 1;
    for (int d = 0; d < info.rank; ++d) {
      const char *dn = info.dim_names[d];
      int64_t v = !dn ? info.max_dims[d] : std::strstr(dn, "batch") ? 1 : std::min<int64_t>(info.max_dims[d], 16);
      t.dims.push_back(v);
      n *= v;
    }
    std::normal_distribution<float> normal;
    std::uniform_int_distribution<int64_t> small(0, 9);
    size_t es = slm_tools::tensor_dtype_size(info.dtype);
    t.data.resize(size_t(n) * es);
    for (int64_t k = 0; k < n; ++k) {
      uint8_t *p = t.data.data() + k * es;
      if (info.dtype == SLM_DTYPE_FLOAT32) {
        float v = normal(rng);
        std::memcpy(p, &v, 4);
      } else if (info.dtype == SLM_DTYPE_INT64) {
        int64_t v = small(rng);
        std::memcpy(p, &v, 8);
      } else if (info.dtype == SLM_DTYPE_INT32) {
        int32_t v = int32_t(small(rng));
        std::memcpy(p, &v, 4);
      } else if (info.dtype == SLM_DTYPE_BOOL || info.dtype == SLM_DTYPE_UINT8 ||
                 info.dtype == SLM_DTYPE_INT8) {
        *p = uint8_t(small(rng) & 1);
      } else {
        rc = fail(art + ": cannot generate input '" + info.name + "' of dtype " +
                      slm_dtype_name(info.dtype) + "; give it with --input NAME=FILE",
                  2);
        break;
      }
    }
    std::string err;
    if (!rc && !slm_tools::write_npy(dir + "/" + slm_tools::tensor_file_stem(info.name) + ".npy", t, &err))
      rc = fail(err, 1);
  }
  slm_model_free(model);
  return rc;
}

// Runs `slmc bench ART --worker-out DIR ...` as a child process (a fresh exec, so its peak RSS
// is its own) and waits for it.
int spawnWorker(const BenchOptions &opt, const std::string &art, const std::string &dir,
                bool showProgress) {
  std::vector<std::string> args = {"slmc", "bench", art, "--worker-out", dir,
                                   "--prompt-len", std::to_string(opt.promptLen),
                                   "--decode", std::to_string(opt.decode),
                                   "--threads", std::to_string(opt.threads),
                                   "--repeat", std::to_string(opt.repeat),
                                   "--warmup", std::to_string(opt.warmup),
                                   "--seed", std::to_string(opt.seed)};
  for (const auto &in : opt.inputs)
    args.insert(args.end(), {"--input", in});
  if (!opt.inputDir.empty())
    args.insert(args.end(), {"--input-dir", opt.inputDir});
  if (!opt.evalIds.empty())
    args.insert(args.end(), {"--eval-ids", opt.evalIds});
  if (!showProgress)
    args.push_back("--quiet");
  std::vector<char *> argv;
  for (auto &a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0)
    return fail(std::string("fork: ") + std::strerror(errno), 1);
  if (pid == 0) {
    execv("/proc/self/exe", argv.data());
    std::perror("slmc bench: exec /proc/self/exe");
    _exit(1);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) < 0)
    return fail(std::string("waitpid: ") + std::strerror(errno), 1);
  if (WIFSIGNALED(status))
    return fail(art + ": the worker died with signal " + std::to_string(WTERMSIG(status)), 1);
  return WEXITSTATUS(status);
}

// Reads a worker's result.json into `r`; `outputs` gets (tensor name, .npy path) pairs.
int readWorker(const std::string &dir, ModelReport &r,
               std::vector<std::pair<std::string, std::string>> &outputs, double &nllSum,
               int64_t &nllCount) {
  std::ifstream f(dir + "/result.json");
  std::stringstream ss;
  ss << f.rdbuf();
  auto parsed = llvm::json::parse(ss.str());
  if (!parsed) {
    llvm::consumeError(parsed.takeError());
    return fail(dir + "/result.json: not valid JSON", 1);
  }
  const llvm::json::Object *o = parsed->getAsObject();
  auto num = [&](const char *k) { return o->getNumber(k).value_or(0); };
  auto list = [&](const char *k) {
    std::vector<double> v;
    if (const llvm::json::Array *a = o->getArray(k))
      for (const auto &x : *a)
        v.push_back(x.getAsNumber().value_or(0));
    return v;
  };
  r.lm = o->getBoolean("lm").value_or(false);
  r.loadMs = num("load_ms");
  r.peakRss = uint64_t(num("peak_rss_bytes"));
  r.rssBeforeLoad = uint64_t(num("rss_before_load_bytes"));
  r.arenaBytes = uint64_t(num("arena_bytes"));
  r.latencyRuns = list("latency_ms_runs");
  r.prefillRuns = list("prefill_ms_runs");
  r.decodeRuns = list("decode_ms_per_token_runs");
  r.p50 = percentile(r.latencyRuns, 50);
  r.p90 = percentile(r.latencyRuns, 90);
  r.p99 = percentile(r.latencyRuns, 99);
  r.prefillMs = median(r.prefillRuns);
  r.decodeMs = median(r.decodeRuns);
  nllSum = num("nll_sum");
  nllCount = int64_t(num("nll_count"));
  if (const llvm::json::Array *a = o->getArray("outputs"))
    for (const auto &x : *a)
      if (const llvm::json::Object *e = x.getAsObject())
        outputs.push_back({e->getString("name").value_or("").str(), e->getString("file").value_or("").str()});
  return 0;
}

// max_abs_err and cosine over every float output, top-1 agreement over the rows of their last dim,
// of `got` against `ref` (matched by output name).
int compareOutputs(const std::vector<std::pair<std::string, std::string>> &ref,
                   const std::vector<std::pair<std::string, std::string>> &got, ModelReport &r) {
  double maxErr = 0, dot = 0, nr = 0, ng = 0;
  int64_t rows = 0, agree = 0;
  for (const auto &[name, refFile] : ref) {
    auto it = std::find_if(got.begin(), got.end(), [&](const auto &g) { return g.first == name; });
    if (it == got.end())
      return fail(r.path + ": has no output '" + name + "' to compare with the original's", 2);
    slm_tools::HostTensor a, b;
    std::string err;
    if (!slm_tools::read_tensor_file(refFile, &a, &err) || !slm_tools::read_tensor_file(it->second, &b, &err))
      return fail(err, 1);
    if (a.dtype != SLM_DTYPE_FLOAT32)
      continue;
    if (b.dtype != a.dtype || b.dims != a.dims)
      return fail(r.path + ": output '" + name + "' is " + slm_tools::tensor_dtype_name(b.dtype) +
                      slm_tools::format_dims(b.dims) + ", the original's " +
                      slm_tools::tensor_dtype_name(a.dtype) + slm_tools::format_dims(a.dims),
                  2);
    const float *x = reinterpret_cast<const float *>(a.data.data());
    const float *y = reinterpret_cast<const float *>(b.data.data());
    size_t n = a.data.size() / 4;
    for (size_t i = 0; i < n; ++i) {
      maxErr = std::max(maxErr, std::fabs(double(x[i]) - double(y[i])));
      dot += double(x[i]) * y[i];
      nr += double(x[i]) * x[i];
      ng += double(y[i]) * y[i];
    }
    size_t cols = a.dims.empty() ? 1 : size_t(a.dims.back());
    if (cols < 2)
      continue;
    for (size_t row = 0; row + cols <= n; row += cols) {
      ++rows;
      agree += std::max_element(x + row, x + row + cols) - (x + row) ==
               std::max_element(y + row, y + row + cols) - (y + row);
    }
  }
  r.maxAbsErr = maxErr;
  r.cosine = (nr > 0 && ng > 0) ? dot / std::sqrt(nr * ng) : (nr == ng ? 1.0 : 0.0);
  if (rows) {
    r.top1 = double(agree) / double(rows);
    r.top1Rows = rows;
  }
  return 0;
}

// The repository root (for benchmarks/peers/), taken from the build.
std::string sourceDir() {
#ifdef SLMC_SOURCE_DIR
  return SLMC_SOURCE_DIR;
#else
  return ".";
#endif
}

// ONNX Runtime on the original through benchmarks/peers/ort_bench.js; a note when not possible.
void runOrt(const BenchOptions &opt, const std::string &onnx, const std::string &work,
            std::vector<ModelReport> &models) {
  ModelReport r;
  r.name = stem(onnx) + " (onnxruntime)";
  r.engine = "onnxruntime";
  r.path = onnx;
  r.lm = true;
  std::string prefix = opt.ortPrefix;
  if (prefix.empty())
    prefix = std::getenv("SLMC_PEERS_DIR") ? std::getenv("SLMC_PEERS_DIR") : sourceDir() + "/build/peers";
  std::string script = sourceDir() + "/benchmarks/peers/ort_bench.js";
  struct stat st {};
  if (stat((prefix + "/node_modules/onnxruntime-node/package.json").c_str(), &st) != 0) {
    std::cerr << "slmc bench: note: --compare-ort skipped: no onnxruntime-node in " << prefix
              << " (scripts/setup.sh installs it; or --ort-prefix DIR)\n";
    return;
  }
  if (!models.empty() && !models.front().lm) {
    std::cerr << "slmc bench: note: --compare-ort skipped: the peer harness times LMs only\n";
    return;
  }
  // node resolves require() paths against the script, not the cwd: pass absolute paths.
  char absPrefix[PATH_MAX], absOnnx[PATH_MAX];
  if (!realpath(prefix.c_str(), absPrefix) || !realpath(onnx.c_str(), absOnnx)) {
    std::cerr << "slmc bench: note: --compare-ort skipped: cannot resolve " << prefix << "\n";
    return;
  }
  prefix = absPrefix;
  std::string json = work + "/ort.json";
  std::ostringstream cmd;
  cmd << "node '" << script << "' --model '" << absOnnx << "' --prompt-len " << opt.promptLen
      << " --decode " << opt.decode << " --threads " << opt.threads << " --repeat " << opt.repeat
      << " --warmup " << opt.warmup << " --seed " << opt.seed << " --json '" << json
      << "' --ort-prefix '" << prefix << "' > '" << work << "/ort.log' 2>&1";
  if (std::system(cmd.str().c_str()) != 0) {
    std::ifstream log(work + "/ort.log");
    std::string line, last;
    while (std::getline(log, line))
      if (!line.empty() && last.empty())
        last = line; // the first line names the error
    std::cerr << "slmc bench: note: --compare-ort: ONNX Runtime run failed (" << last << "); skipped\n";
    return;
  }
  std::ifstream f(json);
  std::stringstream ss;
  ss << f.rdbuf();
  auto parsed = llvm::json::parse(ss.str());
  const llvm::json::Object *o = nullptr;
  if (parsed)
    if (const llvm::json::Object *doc = parsed->getAsObject())
      if (const llvm::json::Array *a = doc->getArray("models"); a && !a->empty())
        o = (*a)[0].getAsObject();
  if (!o) {
    if (!parsed)
      llvm::consumeError(parsed.takeError());
    std::cerr << "slmc bench: note: --compare-ort: unreadable " << json << "; skipped\n";
    return;
  }
  r.sizeBytes = stat(onnx.c_str(), &st) == 0 ? uint64_t(st.st_size) : 0;
  r.loadMs = o->getNumber("load_ms").value_or(0);
  r.peakRss = uint64_t(o->getNumber("peak_rss_bytes").value_or(0));
  r.rssBeforeLoad = uint64_t(o->getNumber("rss_before_load_bytes").value_or(0));
  r.prefillMs = o->getNumber("prefill_ms").value_or(0);
  r.decodeMs = o->getNumber("decode_ms_per_token").value_or(0);
  auto list = [&](const char *k) {
    std::vector<double> v;
    if (const llvm::json::Array *a = o->getArray(k))
      for (const auto &x : *a)
        v.push_back(x.getAsNumber().value_or(0));
    return v;
  };
  r.prefillRuns = list("prefill_ms_runs");
  r.decodeRuns = list("decode_ms_per_token_runs");
  for (size_t i = 0; i < r.prefillRuns.size() && i < r.decodeRuns.size(); ++i)
    r.latencyRuns.push_back(r.prefillRuns[i] + r.decodeRuns[i] * opt.decode);
  r.p50 = percentile(r.latencyRuns, 50);
  r.p90 = percentile(r.latencyRuns, 90);
  r.p99 = percentile(r.latencyRuns, 99);
  r.note = "ONNX Runtime (onnxruntime-node) on the original ONNX; peak RSS of the node process";
  models.push_back(r);
}

// Tokenizes the eval text into dir/eval_ids.npy (at most --eval-tokens ids).
int prepareEval(BenchOptions &opt, const std::string &dir, int64_t &count) {
  std::string err;
  std::unique_ptr<Tokenizer> tok = Tokenizer::load(opt.tokenizer, err);
  if (!tok)
    return fail(err, 2);
  std::ifstream f(opt.evalText, std::ios::binary);
  if (!f)
    return fail("cannot read --eval-text " + opt.evalText, 2);
  std::stringstream ss;
  ss << f.rdbuf();
  std::vector<int64_t> ids = tok->encode(ss.str());
  if (ids.size() > size_t(opt.evalTokens))
    ids.resize(size_t(opt.evalTokens));
  if (ids.size() < 2)
    return fail(opt.evalText + ": fewer than 2 tokens to evaluate", 2);
  slm_tools::HostTensor t;
  t.dtype = SLM_DTYPE_INT64;
  t.dims = {int64_t(ids.size())};
  t.data.resize(ids.size() * 8);
  std::memcpy(t.data.data(), ids.data(), t.data.size());
  opt.evalIds = dir + "/eval_ids.npy";
  count = int64_t(ids.size()) - 1;
  if (!slm_tools::write_npy(opt.evalIds, t, &err))
    return fail(err, 1);
  return 0;
}

int writeFile(const std::string &path, const std::string &text) {
  std::ofstream f(path);
  f << text;
  return f.good() ? 0 : fail("cannot write " + path, 2);
}

int parse(int argc, char **argv, BenchOptions &opt, bool &help) {
  po::options_description desc("slmc bench [ORIGINAL.onnx] ART.slm [ART2.slm ...]");
  desc.add_options()("help,h", "show help")(
      "model", po::value(&opt.models)->composing(), "ORIGINAL.onnx (first) and .slm artifacts")(
      "prompt-len", po::value(&opt.promptLen)->default_value(64), "LM: prompt tokens (prefill)")(
      "decode", po::value(&opt.decode)->default_value(32), "LM: decode steps")(
      "threads", po::value(&opt.threads)->default_value(2), "threads (0: all cores)")(
      "repeat", po::value(&opt.repeat)->default_value(5), "timed repetitions (medians, percentiles)")(
      "warmup", po::value(&opt.warmup)->default_value(1), "untimed repetitions first (at least 1 is run)")(
      "seed", po::value(&opt.seed)->default_value(0), "seed of the token ids and generated inputs")(
      "input", po::value(&opt.inputs)->composing(), "non-LM input NAME=FILE (.npy/.pb), repeatable")(
      "input-dir", po::value(&opt.inputDir), "non-LM inputs: <name>.npy or input_<i>.pb")(
      "eval-text", po::value(&opt.evalText), "LM: perplexity on this text file")(
      "tokenizer", po::value(&opt.tokenizer)->default_value("bytes"), "bytes or a tokenizer.json")(
      "eval-tokens", po::value(&opt.evalTokens)->default_value(4096), "perplexity over at most N tokens")(
      "json", po::value(&opt.jsonPath), "write results as JSON")(
      "markdown", po::value(&opt.markdownPath), "write a Markdown table")(
      "plot", po::value(&opt.plotPath), "write an SVG chart")(
      "compare-ort", po::bool_switch(&opt.compareOrt), "add ONNX Runtime on the original (LMs)")(
      "ort-prefix", po::value(&opt.ortPrefix), "folder with node_modules/onnxruntime-node")(
      "dim", po::value(&opt.dims)->composing(), "NAME=MAX bound for compiling the original")(
      "cache-dir", po::value(&opt.cacheDir), "compiled originals (default $XDG_CACHE_HOME/slmc/bench)")(
      "quiet,q", po::bool_switch(&opt.quiet), "no progress line");
  po::options_description hidden;
  hidden.add_options()("worker-out", po::value(&opt.workerOut))("eval-ids", po::value(&opt.evalIds));
  po::options_description all;
  all.add(desc).add(hidden);
  po::positional_options_description pos;
  pos.add("model", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
  po::notify(vm);
  help = vm.count("help");
  if (help)
    std::cout << desc;
  return 0;
}

} // namespace

// The driver: original first, then each artifact, each in a worker; then the reports.
int runDriver(BenchOptions opt) {
  Progress progress(opt);
  std::string original;
  std::vector<std::string> arts;
  for (size_t i = 0; i < opt.models.size(); ++i) {
    if (i == 0 && endsWith(opt.models[i], ".onnx"))
      original = opt.models[i];
    else
      arts.push_back(opt.models[i]);
  }
  for (const auto &a : arts) {
    struct stat st {};
    if (endsWith(a, ".onnx"))
      return fail(a + ": only the first model may be ONNX (the original); the others are .slm artifacts", 2);
    if (stat(a.c_str(), &st) != 0)
      return fail("cannot stat " + a, 2);
  }
  if (arts.empty() && original.empty())
    return fail("bench needs [ORIGINAL.onnx] ART.slm [ART2.slm ...]", 2);
  char tmpl[] = "/tmp/slmc-bench-XXXXXX";
  if (!mkdtemp(tmpl))
    return fail(std::string("mkdtemp: ") + std::strerror(errno), 1);
  std::string work = tmpl;
  int steps = int(arts.size()) + (original.empty() ? 0 : 2) + (opt.compareOrt ? 1 : 0), step = 0;

  std::vector<std::pair<std::string, std::string>> runList; // display name, artifact
  if (!original.empty()) {
    std::map<std::string, int64_t> bounds;
    if (!arts.empty())
      if (std::string e = artifactBounds(arts[0], bounds); !e.empty())
        return fail(e, 2);
    for (const auto &d : opt.dims) {
      auto eq = d.find('=');
      if (eq == std::string::npos || eq == 0)
        return fail("--dim '" + d + "' must be NAME=MAX", 2);
      bounds[d.substr(0, eq)] = std::atoll(d.c_str() + eq + 1);
    }
    progress.show(++step, steps, "compile " + original + " for " + hostTarget() + " (fp32, cached)");
    std::string compiled;
    if (int rc = compileOriginal(opt, original, bounds, compiled))
      return rc;
    runList.push_back({stem(original) + " (original)", compiled});
  }
  for (const auto &a : arts)
    runList.push_back({stem(a), a});

  // Same inputs for everyone: LMs use seeded ids; other models the given or generated files.
  bool needInputs = opt.inputs.empty() && opt.inputDir.empty();
  if (needInputs) {
    slm_model_t *probe = nullptr;
    if (slm_model_load_file(runList[0].second.c_str(), &probe) != SLM_OK)
      return fail("cannot load " + runList[0].second + ": " + slm_last_error(), 2);
    LmInterface io;
    bool lm = findLmInterface(probe, io).empty();
    slm_model_free(probe);
    if (!lm) {
      opt.inputDir = work + "/inputs";
      if (!makeDirs(opt.inputDir))
        return fail("cannot create " + opt.inputDir, 1);
      if (int rc = generateInputs(runList[0].second, opt.inputDir, opt.seed))
        return rc;
    }
  }
  int64_t evalCount = 0;
  if (!opt.evalText.empty())
    if (int rc = prepareEval(opt, work, evalCount))
      return rc;

  std::vector<ModelReport> models;
  std::vector<std::pair<std::string, std::string>> refOutputs;
  for (size_t i = 0; i < runList.size(); ++i) {
    ModelReport r;
    r.name = runList[i].first;
    r.path = runList[i].second;
    r.reference = !original.empty() && i == 0;
    struct stat st {};
    stat(r.path.c_str(), &st);
    r.sizeBytes = uint64_t(st.st_size);
    std::string dir = work + "/m" + std::to_string(i);
    makeDirs(dir);
    progress.show(++step, steps, r.name + ": load, run, time");
    if (progress.on)
      std::fprintf(stderr, "\n");
    if (int rc = spawnWorker(opt, r.path, dir, progress.on))
      return rc;
    std::vector<std::pair<std::string, std::string>> outs;
    double nllSum = 0;
    int64_t nllCount = 0;
    if (int rc = readWorker(dir, r, outs, nllSum, nllCount))
      return rc;
    if (nllCount) {
      r.perplexity = std::exp(nllSum / double(nllCount));
      r.evalTokens = nllCount;
    }
    if (r.reference)
      refOutputs = outs;
    if (!original.empty())
      if (int rc = compareOutputs(refOutputs, outs, r))
        return rc;
    models.push_back(r);
  }
  if (opt.compareOrt) {
    progress.show(++step, steps, "ONNX Runtime on " + original);
    if (original.empty())
      std::cerr << "slmc bench: note: --compare-ort needs the ORIGINAL.onnx; skipped\n";
    else
      runOrt(opt, original, work, models);
  }
  progress.done();

  ReportContext ctx{opt, 0, "", ""};
  ctx.threads = opt.threads ? opt.threads : int(std::thread::hardware_concurrency());
  ctx.evalText = opt.evalText;
  ctx.tokenizer = opt.tokenizer;
  std::cout << reportTable(models, ctx) << std::flush;
  int rc = 0;
  if (!opt.jsonPath.empty())
    rc |= writeFile(opt.jsonPath, reportJson(models, ctx));
  if (!opt.markdownPath.empty())
    rc |= writeFile(opt.markdownPath, reportMarkdown(models, ctx));
  if (!opt.plotPath.empty())
    rc |= writeFile(opt.plotPath, reportSvg(models, ctx));
  std::system(("rm -rf '" + work + "'").c_str());
  return rc ? 2 : 0;
}

} // namespace slmc::bench

namespace slmc {

int benchMain(int argc, char **argv) {
  BenchOptions opt;
  bool help = false;
  try {
    bench::parse(argc, argv, opt, help);
  } catch (const po::error &e) {
    std::cerr << "slmc bench: error: " << e.what() << "\n";
    return 2;
  }
  if (help)
    return 0;
  if (opt.promptLen < 1 || opt.decode < 0 || opt.repeat < 1 || opt.warmup < 0 || opt.threads < 0 ||
      opt.evalTokens < 2)
    return bench::fail("need --prompt-len >= 1, --decode >= 0, --repeat >= 1, --warmup >= 0, "
                       "--threads >= 0, --eval-tokens >= 2",
                       2);
  if (!opt.plotPath.empty() && !bench::endsWith(opt.plotPath, ".svg"))
    return bench::fail("--plot writes SVG: give a FILE.svg (got " + opt.plotPath + ")", 2);
  if (!opt.workerOut.empty()) {
    if (opt.models.size() != 1)
      return bench::fail("--worker-out takes one artifact", 2);
    return bench::runWorker(opt);
  }
  return bench::runDriver(opt);
}

} // namespace slmc
