// BenchInternal.h — pieces of `slmc bench` shared by its driver, worker and report writers.
#ifndef SLMC_TOOLS_BENCHINTERNAL_H
#define SLMC_TOOLS_BENCHINTERNAL_H

#include "tools/Bench.h"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace slmc::bench {

using Clock = std::chrono::steady_clock;
inline double msSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Nearest-rank percentile (p in [0, 100]) of v; 0 for an empty v.
double percentile(std::vector<double> v, double p);
double median(const std::vector<double> &v);
std::string jsonString(const std::string &s);
std::string jsonList(const std::vector<double> &v);
// A "<key>: N kB" line of /proc/self/status in bytes (0 if absent).
uint64_t procStatusBytes(const char *key);

// Runs one artifact in this process (the worker side) and writes DIR/result.json plus one .npy
// per compared output. Returns an exit code; errors go to stderr.
int runWorker(const BenchOptions &opt);

// Everything reported for one model.
struct ModelReport {
  std::string name, engine = "slmc", path, note;
  bool lm = false, reference = false;
  uint64_t sizeBytes = 0, peakRss = 0, rssBeforeLoad = 0, arenaBytes = 0;
  double loadMs = 0, p50 = 0, p90 = 0, p99 = 0;
  double prefillMs = 0, decodeMs = 0;
  std::vector<double> latencyRuns, prefillRuns, decodeRuns;
  std::optional<double> maxAbsErr, cosine, top1, perplexity;
  int64_t top1Rows = 0, evalTokens = 0;
};

struct ReportContext {
  const BenchOptions &opt;
  int threads = 0;
  std::string evalText, tokenizer;
};

std::string reportJson(const std::vector<ModelReport> &models, const ReportContext &ctx);
std::string reportTable(const std::vector<ModelReport> &models, const ReportContext &ctx);
std::string reportMarkdown(const std::vector<ModelReport> &models, const ReportContext &ctx);
std::string reportSvg(const std::vector<ModelReport> &models, const ReportContext &ctx);

} // namespace slmc::bench

#endif // SLMC_TOOLS_BENCHINTERNAL_H
