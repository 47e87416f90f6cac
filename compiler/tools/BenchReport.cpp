// BenchReport.cpp — `slmc bench` reports: terminal table, JSON, Markdown and an SVG bar chart.
#include "tools/BenchInternal.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <sstream>

namespace slmc::bench {
namespace {

std::string num(double v, int prec = 6) {
  std::ostringstream os;
  os.precision(prec);
  os << v;
  return os.str();
}

std::string opt(const std::optional<double> &v) { return v ? num(*v, 9) : "null"; }

std::string fmt(const char *f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string cell(const std::optional<double> &v, const char *f) { return v ? fmt(f, *v) : "-"; }

std::string xml(const std::string &s) {
  std::string out;
  for (char c : s)
    out += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : c == '\'' ? "&apos;" : std::string(1, c);
  return out;
}

double tps(const ModelReport &m) { return m.decodeMs > 0 ? 1000.0 / m.decodeMs : 0; }

// Column texts of one model, shared by the terminal and Markdown tables.
std::vector<std::string> row(const ModelReport &m) {
  return {m.name,
          fmt("%.2f", m.sizeBytes / 1e6),
          fmt("%.2f", m.loadMs),
          fmt("%.1f", m.peakRss / 1e6) +
              (m.rssBeforeLoad ? " (" + fmt("%.1f", m.rssBeforeLoad / 1e6) + ")" : std::string()),
          fmt("%.3f", m.p50),
          fmt("%.3f", m.p90),
          fmt("%.3f", m.p99),
          m.lm ? fmt("%.2f", m.prefillMs) : "-",
          m.lm ? fmt("%.3f", m.decodeMs) : "-",
          m.lm ? fmt("%.1f", tps(m)) : "-",
          cell(m.maxAbsErr, "%.4g"),
          cell(m.cosine, "%.6f"),
          cell(m.top1, "%.4f"),
          cell(m.perplexity, "%.4f")};
}

const std::vector<std::string> kHeads = {"model",  "size_MB", "load_ms", "peakRSS_MB (base)",
                                         "p50_ms", "p90_ms",  "p99_ms",  "prefill_ms",
                                         "decode_ms/tok", "tok/s", "max_abs_err", "cosine",
                                         "top1", "perplexity"};

std::string settings(const std::vector<ModelReport> &models, const ReportContext &ctx) {
  bool lm = std::any_of(models.begin(), models.end(), [](const ModelReport &m) { return m.lm; });
  std::ostringstream os;
  if (lm)
    os << "LM: prompt " << ctx.opt.promptLen << " tokens + " << ctx.opt.decode
       << " decode steps (seeded ids); latency = prefill + all decode steps; ";
  os << ctx.opt.repeat << " timed repeats after " << std::max(1, ctx.opt.warmup) << " warm-up, "
     << ctx.threads << " threads. peakRSS: VmHWM of a fresh worker process per model, (base) = its "
     << "RSS before loading the model. Accuracy against the first model (the original).";
  if (!ctx.evalText.empty())
    os << " Perplexity on " << ctx.evalText << " (" << ctx.tokenizer << ").";
  return os.str();
}

} // namespace

std::string reportTable(const std::vector<ModelReport> &models, const ReportContext &ctx) {
  std::vector<std::vector<std::string>> rows = {kHeads};
  for (const auto &m : models)
    rows.push_back(row(m));
  std::vector<size_t> width(kHeads.size(), 0);
  for (const auto &r : rows)
    for (size_t c = 0; c < r.size(); ++c)
      width[c] = std::max(width[c], r[c].size());
  std::ostringstream os;
  for (const auto &r : rows) {
    for (size_t c = 0; c < r.size(); ++c) {
      std::string pad(width[c] - r[c].size(), ' ');
      os << (c ? "  " : "") << (c ? pad + r[c] : r[c] + pad);
    }
    os << "\n";
  }
  os << "(" << settings(models, ctx) << ")\n";
  return os.str();
}

std::string reportMarkdown(const std::vector<ModelReport> &models, const ReportContext &ctx) {
  std::ostringstream os;
  os << "|";
  for (const auto &h : kHeads)
    os << " " << h << " |";
  os << "\n|";
  for (size_t c = 0; c < kHeads.size(); ++c)
    os << (c ? "---:|" : "---|");
  os << "\n";
  for (const auto &m : models) {
    os << "|";
    for (const auto &c : row(m))
      os << " " << c << " |";
    os << "\n";
  }
  os << "\n" << settings(models, ctx) << "\n";
  return os.str();
}

std::string reportJson(const std::vector<ModelReport> &models, const ReportContext &ctx) {
  std::ostringstream os;
  os << "{\"models\": [";
  for (size_t i = 0; i < models.size(); ++i) {
    const ModelReport &m = models[i];
    auto lmNum = [&](double v) { return m.lm ? num(v, 9) : std::string("null"); };
    os << (i ? ",\n  " : "\n  ") << "{\"name\": " << jsonString(m.name)
       << ", \"engine\": " << jsonString(m.engine) << ", \"path\": " << jsonString(m.path)
       << ", \"reference\": " << (m.reference ? "true" : "false")
       << ", \"lm\": " << (m.lm ? "true" : "false") << ", \"size_bytes\": " << m.sizeBytes
       << ", \"load_ms\": " << num(m.loadMs, 9) << ", \"peak_rss_bytes\": " << m.peakRss
       << ", \"rss_before_load_bytes\": " << m.rssBeforeLoad
       << ", \"arena_bytes\": " << m.arenaBytes << ", \"p50_ms\": " << num(m.p50, 9)
       << ", \"p90_ms\": " << num(m.p90, 9) << ", \"p99_ms\": " << num(m.p99, 9)
       << ", \"latency_ms_runs\": " << jsonList(m.latencyRuns)
       << ", \"prefill_ms\": " << lmNum(m.prefillMs)
       << ", \"decode_ms_per_token\": " << lmNum(m.decodeMs)
       << ", \"tokens_per_s\": " << lmNum(tps(m))
       << ", \"prefill_ms_runs\": " << jsonList(m.prefillRuns)
       << ", \"decode_ms_per_token_runs\": " << jsonList(m.decodeRuns)
       << ", \"prompt_len\": " << ctx.opt.promptLen << ", \"decode\": " << ctx.opt.decode
       << ", \"repeat\": " << ctx.opt.repeat << ", \"threads\": " << ctx.threads
       << ", \"max_abs_err\": " << opt(m.maxAbsErr) << ", \"cosine\": " << opt(m.cosine)
       << ", \"top1_agreement\": " << opt(m.top1) << ", \"top1_rows\": " << m.top1Rows
       << ", \"perplexity\": " << opt(m.perplexity) << ", \"eval_tokens\": " << m.evalTokens;
    if (!m.note.empty())
      os << ", \"note\": " << jsonString(m.note);
    os << "}";
  }
  os << "\n], \"settings\": " << jsonString(settings(models, ctx)) << "}\n";
  return os.str();
}

// One horizontal bar panel per metric that some model has; bars scaled to the panel's maximum.
std::string reportSvg(const std::vector<ModelReport> &models, const ReportContext &ctx) {
  struct Panel {
    std::string title;
    std::function<std::optional<double>(const ModelReport &)> value;
  };
  std::vector<Panel> panels = {
      {"size (MB)", [](const ModelReport &m) { return std::optional<double>(m.sizeBytes / 1e6); }},
      {"peak RSS (MB)", [](const ModelReport &m) { return std::optional<double>(m.peakRss / 1e6); }},
      {"latency p50 (ms)", [](const ModelReport &m) { return std::optional<double>(m.p50); }},
      {"prefill (ms)", [](const ModelReport &m) { return m.lm ? std::optional<double>(m.prefillMs) : std::nullopt; }},
      {"decode (ms/token)", [](const ModelReport &m) { return m.lm ? std::optional<double>(m.decodeMs) : std::nullopt; }},
      {"cosine to original", [](const ModelReport &m) { return m.cosine; }},
      {"top-1 agreement", [](const ModelReport &m) { return m.top1; }},
      {"perplexity", [](const ModelReport &m) { return m.perplexity; }}};
  const int barH = 18, labelW = 230, barW = 360, panelGap = 34;
  const char *colors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948"};
  std::ostringstream body;
  int y = 40;
  for (const auto &p : panels) {
    double mx = 0;
    bool any = false;
    for (const auto &m : models)
      if (auto v = p.value(m)) {
        any = true;
        mx = std::max(mx, *v);
      }
    if (!any)
      continue;
    body << "<text x='10' y='" << y << "' font-weight='bold'>" << p.title << "</text>\n";
    y += 8;
    for (size_t i = 0; i < models.size(); ++i) {
      auto v = p.value(models[i]);
      if (!v)
        continue;
      int w = mx > 0 ? int(barW * (*v / mx)) : 0;
      body << "<text x='10' y='" << y + 13 << "'>" << xml(models[i].name) << "</text>"
           << "<rect x='" << labelW << "' y='" << y << "' width='" << std::max(w, 1)
           << "' height='" << barH - 4 << "' fill='" << colors[i % 6] << "'/>"
           << "<text x='" << labelW + w + 6 << "' y='" << y + 13 << "'>" << fmt("%.4g", *v)
           << "</text>\n";
      y += barH;
    }
    y += panelGap;
  }
  std::ostringstream os;
  int width = labelW + barW + 120;
  os << "<svg xmlns='http://www.w3.org/2000/svg' width='" << width << "' height='" << y + 40
     << "' font-family='sans-serif' font-size='12'>\n<rect width='100%' height='100%' fill='white'/>\n"
     << "<text x='10' y='20' font-size='14' font-weight='bold'>slmc bench</text>\n"
     << body.str() << "<text x='10' y='" << y + 10 << "' font-size='10'>"
     << xml(settings(models, ctx).substr(0, 160)) << "</text>\n</svg>\n";
  return os.str();
}

} // namespace slmc::bench
