// slm-prune-ffn and slm-prune-heads: structured pruning that removes FFN channels and attention
// heads from the weights and shapes, with magnitude or calibration importance.
#include "passes/prune/Passes.h"
#include "passes/prune/PruneSites.h"

#include "mlir/IR/Builders.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace slmc {
#define GEN_PASS_DEF_PRUNEFFN
#define GEN_PASS_DEF_PRUNEHEADS
#include "passes/prune/Passes.h.inc"

namespace {

using namespace mlir;

double colNorm2(const Weight &w, int64_t col0, int64_t cols) {
  double s = 0;
  for (int64_t r = 0; r < w.k; ++r)
    for (int64_t c = col0; c < col0 + cols; ++c) s += double(w.at(r, c)) * w.at(r, c);
  return s;
}

double rowNorm2(const Weight &w, int64_t row0, int64_t rows) {
  double s = 0;
  for (int64_t r = row0; r < row0 + rows; ++r)
    for (int64_t c = 0; c < w.n; ++c) s += double(w.at(r, c)) * w.at(r, c);
  return s;
}

// Indices of the `count` highest scores, ascending (ties keep the lower index, so the result is
// deterministic).
std::vector<int64_t> topIndices(const std::vector<double> &score, int64_t count) {
  std::vector<int64_t> idx(score.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return score[size_t(a)] > score[size_t(b)]; });
  idx.resize(size_t(count));
  std::sort(idx.begin(), idx.end());
  return idx;
}

// Channels kept out of n: the microkernels work in blocks of 16 columns, so a kept width that is
// not a multiple of 16 costs a partial block for no saving; round the kept count up to one.
int64_t keptChannels(int64_t n, double fraction) {
  int64_t kept = n - std::llround(fraction * double(n));
  if (n >= 64 && kept % 16) kept = std::min(n, (kept + 15) / 16 * 16);
  return std::max<int64_t>(kept, 1);
}

LogicalResult checkFraction(Operation *root, double f, const char *pass) {
  if (f >= 0 && f < 1) return success();
  return root->emitError() << pass << ": fraction must be in [0, 1), got " << f;
}

// Builds the report rows and appends them to the module's slm.prune_report.
struct Report {
  ModuleOp module;
  Builder b;
  SmallVector<Attribute> rows;
  explicit Report(ModuleOp m) : module(m), b(m.getContext()) {}

  void pruned(const std::string &layer, const std::string &kind, const char *importance, int64_t removed, int64_t total,
              const std::string &detail, int64_t before, int64_t after, bool biasCorrected) {
    rows.push_back(b.getDictionaryAttr({
        b.getNamedAttr("layer", b.getStringAttr(layer)),
        b.getNamedAttr("kind", b.getStringAttr(kind)),
        b.getNamedAttr("importance", b.getStringAttr(importance)),
        b.getNamedAttr("removed", b.getI64IntegerAttr(removed)),
        b.getNamedAttr("total", b.getI64IntegerAttr(total)),
        b.getNamedAttr("detail", b.getStringAttr(detail)),
        b.getNamedAttr("bytes_before", b.getI64IntegerAttr(before)),
        b.getNamedAttr("bytes_after", b.getI64IntegerAttr(after)),
        b.getNamedAttr("bias_corrected", b.getBoolAttr(biasCorrected)),
    }));
  }
  void skipped(const std::string &layer, const std::string &kind, const std::string &why) {
    rows.push_back(b.getDictionaryAttr({b.getNamedAttr("layer", b.getStringAttr(layer)),
                                        b.getNamedAttr("kind", b.getStringAttr(kind)),
                                        b.getNamedAttr("skipped", b.getStringAttr(why))}));
  }
  ~Report() {
    SmallVector<Attribute> all;
    if (auto old = module->getAttrOfType<ArrayAttr>(kPruneReportAttr)) all.append(old.begin(), old.end());
    all.append(rows.begin(), rows.end());
    module->setAttr(kPruneReportAttr, b.getArrayAttr(all));
  }
};

void dropStats(Operation *op) {
  op->removeAttr(kActSqAttr);
  op->removeAttr(kActMeanAttr);
}

bool hasActivation(slm::FusedMatMulOp op) { return op.getActivation() && !op.getActivation()->empty(); }

struct PruneFfnPass : impl::PruneFfnBase<PruneFfnPass> {
  using PruneFfnBase::PruneFfnBase;

  void runOnOperation() override {
    if (failed(checkFraction(getOperation(), fraction, "slm-prune-ffn"))) return signalPassFailure();
    PruneSites sites = findPruneSites(getOperation());
    Report report(getOperation());
    for (const FfnSite &s : sites.ffn) prune(s, report);
    for (const SkippedSite &s : sites.skipped)
      if (s.kind == "ffn") report.skipped(s.layer, s.kind, s.reason);
  }

  void prune(const FfnSite &s, Report &report) {
    Weight wg, wu, wd;
    readWeight(s.up, &wu);
    readWeight(s.down, &wd);
    if (s.gate) readWeight(s.gate, &wg);
    int64_t n = s.channels;
    std::vector<float> sq = floatArrayAttr(s.down, kActSqAttr, n), mean = floatArrayAttr(s.down, kActMeanAttr, n);
    dropStats(s.down);
    std::vector<double> score(static_cast<size_t>(n));
    for (int64_t c = 0; c < n; ++c)
      score[size_t(c)] = !sq.empty() ? double(sq[size_t(c)]) * rowNorm2(wd, c, 1)
                                     : std::sqrt(colNorm2(wu, c, 1) * (s.gate ? colNorm2(wg, c, 1) : 1.0) *
                                                 rowNorm2(wd, c, 1));
    int64_t kept = keptChannels(n, fraction);
    if (kept == n) return report.skipped(s.layer, "ffn", "the fraction removes no channel");
    std::vector<int64_t> keep = topIndices(score, kept);
    int64_t before = weightBytes(s.up) + weightBytes(s.down) + (s.gate ? weightBytes(s.gate) : 0);
    bool correct = biasCorrection && !mean.empty() && !hasActivation(s.down);
    if (s.gate) sliceOutputs(s.gate, keep);
    sliceOutputs(s.up, keep);
    sliceInputs(s.down, keep, correct ? &mean : nullptr);
    int64_t after = weightBytes(s.up) + weightBytes(s.down) + (s.gate ? weightBytes(s.gate) : 0);
    report.pruned(s.layer, "ffn", !sq.empty() ? "calibration" : "magnitude", n - kept, n,
                  llvm::formatv("{0} of {1} channels", n - kept, n).str(), before, after, correct);
  }
};

struct PruneHeadsPass : impl::PruneHeadsBase<PruneHeadsPass> {
  using PruneHeadsBase::PruneHeadsBase;

  void runOnOperation() override {
    if (failed(checkFraction(getOperation(), fraction, "slm-prune-heads"))) return signalPassFailure();
    PruneSites sites = findPruneSites(getOperation());
    {
      Report report(getOperation());
      for (const HeadSite &s : sites.heads) prune(s, report);
      for (const SkippedSite &s : sites.skipped)
        if (s.kind == "heads") report.skipped(s.layer, s.kind, s.reason);
    }
    // Removing KV groups changes the cache arguments and the present results: the function
    // types follow the values.
    getOperation().walk([](func::FuncOp f) {
      auto ret = cast<func::ReturnOp>(f.getBody().front().getTerminator());
      f.setType(FunctionType::get(f.getContext(), f.getBody().front().getArgumentTypes(), ret.getOperandTypes()));
    });
  }

  void prune(const HeadSite &s, Report &report) {
    Weight wv, wo;
    readWeight(s.v, &wv);
    readWeight(s.o, &wo);
    int64_t h = s.heads, kvh = s.kvHeads, g = h / kvh, d = s.headDim;
    std::vector<float> sq = floatArrayAttr(s.o, kActSqAttr, h * d), mean = floatArrayAttr(s.o, kActMeanAttr, h * d),
                       loss = floatArrayAttr(s.o, kHeadLossAttr, h);
    dropStats(s.o);
    s.o->removeAttr(kHeadLossAttr);
    std::vector<double> score(static_cast<size_t>(h));
    for (int64_t i = 0; i < h; ++i) {
      if (!loss.empty()) {
        score[size_t(i)] = loss[size_t(i)];
      } else if (!sq.empty()) {
        for (int64_t c = i * d; c < (i + 1) * d; ++c) score[size_t(i)] += double(sq[size_t(c)]) * rowNorm2(wo, c, 1);
      } else {
        score[size_t(i)] = std::sqrt(colNorm2(wv, (i / g) * d, d) * rowNorm2(wo, i * d, d));
      }
    }
    HeadPlan plan = planHeadRemoval(h, kvh, fraction);
    int64_t bestGroups = plan.groups, bestPerGroup = plan.perGroup;
    if (!bestGroups && !bestPerGroup)
      return report.skipped(s.layer, "heads",
                            llvm::formatv("no whole KV group or per-group share of {0} heads in {1} KV groups is "
                                          "near the fraction", h, kvh).str());
    std::vector<int64_t> keepKv, keepHeads;
    if (bestGroups) {
      std::vector<double> groupScore(static_cast<size_t>(kvh));
      for (int64_t i = 0; i < h; ++i) groupScore[size_t(i / g)] += score[size_t(i)];
      keepKv = topIndices(groupScore, kvh - bestGroups);
      for (int64_t kv : keepKv)
        for (int64_t i = kv * g; i < (kv + 1) * g; ++i) keepHeads.push_back(i);
    } else {
      for (int64_t kv = 0; kv < kvh; ++kv) {
        keepKv.push_back(kv);
        std::vector<double> inGroup(score.begin() + kv * g, score.begin() + (kv + 1) * g);
        for (int64_t i : topIndices(inGroup, g - bestPerGroup)) keepHeads.push_back(kv * g + i);
      }
    }
    auto channels = [d](const std::vector<int64_t> &heads) {
      std::vector<int64_t> cols;
      for (int64_t i : heads)
        for (int64_t c = i * d; c < (i + 1) * d; ++c) cols.push_back(c);
      return cols;
    };
    int64_t before = weightBytes(s.q) + weightBytes(s.k) + weightBytes(s.v) + weightBytes(s.o);
    bool correct = biasCorrection && !mean.empty() && !hasActivation(s.o);
    std::vector<int64_t> qCols = channels(keepHeads);
    sliceOutputs(s.q, qCols);
    if (int64_t(keepKv.size()) < kvh) {
      std::vector<int64_t> kvCols = channels(keepKv);
      sliceOutputs(s.k, kvCols);
      sliceOutputs(s.v, kvCols);
      slm::AttentionOp att = s.attention;
      for (Value v : {Value(att.getPastKey()), Value(att.getPastValue()), Value(att.getPresentKey()),
                      Value(att.getPresentValue())})
        if (v) setHeadDim(v, int64_t(keepKv.size()));
    }
    sliceInputs(s.o, qCols, correct ? &mean : nullptr);
    slm::AttentionOp att = s.attention;
    att.setNumHeads(uint64_t(keepHeads.size()));
    att.setKvNumHeads(uint64_t(keepKv.size()));
    auto outType = cast<RankedTensorType>(att.getOutput().getType());
    SmallVector<int64_t> shape(outType.getShape());
    shape.back() = int64_t(qCols.size());
    att.getOutput().setType(RankedTensorType::get(shape, outType.getElementType()));
    int64_t after = weightBytes(s.q) + weightBytes(s.k) + weightBytes(s.v) + weightBytes(s.o);
    std::string detail =
        bestGroups ? llvm::formatv("{0} of {1} query heads: {2} whole KV groups of {3}", h - int64_t(keepHeads.size()),
                                   h, bestGroups, kvh).str()
                   : llvm::formatv("{0} of {1} query heads: {2} per KV group, {3} KV heads kept",
                                   h - int64_t(keepHeads.size()), h, bestPerGroup, kvh).str();
    report.pruned(s.layer, "heads", !loss.empty() ? "calib-loss" : !sq.empty() ? "calibration" : "magnitude",
                  h - int64_t(keepHeads.size()), h, detail, before, after, correct);
  }

  // [B, kv_heads, P, D] values (cache arguments and presents) lose heads on axis 1.
  static void setHeadDim(Value v, int64_t kvHeads) {
    auto t = cast<RankedTensorType>(v.getType());
    SmallVector<int64_t> shape(t.getShape());
    if (shape.size() == 4) shape[1] = kvHeads;
    v.setType(RankedTensorType::get(shape, t.getElementType()));
  }
};

} // namespace
} // namespace slmc
