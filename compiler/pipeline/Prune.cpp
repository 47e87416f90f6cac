// `--prune`: spec parsing, calibration statistics and error measurement through the runtime on the
// host, the slm-prune-heads/slm-prune-ffn passes, and the per-layer report.
#include "pipeline/Prune.h"

#include "pipeline/Calibration.h"

#include "emit/ArtifactWriter.h"
#include "import/OnnxImporter.h"
#include "passes/prune/Passes.h"
#include "passes/prune/PruneSites.h"
#include "passes/prune/Sp24Pack.h"
#include "passes/prune/SparsePack.h"
#include "pipeline/Targets.h"

#include "slm_runtime.h"
#include "tensor_io.h"

#include "mlir/IR/Builders.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace slmc {
namespace {

using namespace mlir;

constexpr const char *kSiteAttr = "slm.prune_site";       // consumer op of pruning site i (removed before emit)
constexpr const char *kOutputsAttr = "slm.prune_outputs"; // model-output errors on the calibration sets
constexpr const char *kMetaAttr = "slm.prune_meta";       // spec and calibration set count

struct PruneSpec {
  double ffn = -1, heads = -1;
  double magnitude = -1; // unstructured sparsity
  bool sp24 = false;     // 2:4 semi-structured
};

std::string parseSpec(const std::string &text, PruneSpec *spec) {
  llvm::SmallVector<llvm::StringRef> parts;
  llvm::StringRef(text).split(parts, ',', -1, false);
  if (parts.empty()) return "--prune needs a SPEC (ffn:F, heads:F, magnitude:S, 2:4)";
  for (llvm::StringRef p : parts) {
    p = p.trim();
    if (p == "2:4") {
      spec->sp24 = true;
      continue;
    }
    auto [kind, value] = p.split(':');
    double f = 0;
    if ((kind != "ffn" && kind != "heads" && kind != "magnitude") || value.empty() || value.getAsDouble(f) ||
        !(f > 0 && f < 1))
      return "--prune entry '" + p.str() + "' must be ffn:F, heads:F or magnitude:S with 0 < F, S < 1, or 2:4";
    (kind == "ffn" ? spec->ffn : kind == "heads" ? spec->heads : spec->magnitude) = f;
  }
  if (spec->sp24 && spec->magnitude > 0)
    return "--prune: 2:4 and magnitude:S both choose which weights of a matrix to zero; give one of them";
  return "";
}

func::FuncOp mainFunc(ModuleOp m) { return m.lookupSymbol<func::FuncOp>("main"); }

// Consumers (down / output projections) by site tag: fused_matmul, or matmul_sp24 after 2:4
// (either way operand 0 is the input and result 0 the output).
std::map<int64_t, Operation *> taggedSites(ModuleOp m) {
  std::map<int64_t, Operation *> sites;
  m.walk([&](Operation *op) {
    if (auto tag = op->getAttrOfType<IntegerAttr>(kSiteAttr)) sites[tag.getInt()] = op;
  });
  return sites;
}

// Removes the activation statistics (kActSqAttr, kActMeanAttr) from every op of `m`.
void dropActivationStatistics(ModuleOp m) {
  m.walk([](Operation *op) {
    op->removeAttr(kActSqAttr);
    op->removeAttr(kActMeanAttr);
  });
}

// Per channel of the last axis of runs[r][idx] over all runs and rows: E[x] and E[x^2].
void channelMoments(const std::vector<Outputs> &runs, size_t idx, int64_t k, std::vector<float> *mean,
                    std::vector<float> *meanSq) {
  std::vector<double> sum(static_cast<size_t>(k)), sq(static_cast<size_t>(k));
  double rows = 0;
  for (const Outputs &run : runs) {
    const slm_tools::HostTensor &in = run[idx];
    for (size_t i = 0; i < count(in); ++i) {
      double x = floats(in)[i];
      sum[i % size_t(k)] += x;
      sq[i % size_t(k)] += x * x;
    }
    rows += double(count(in) / size_t(k));
  }
  mean->assign(size_t(k), 0.0f);
  meanSq->assign(size_t(k), 0.0f);
  for (int64_t c = 0; c < k && rows > 0; ++c) {
    (*mean)[size_t(c)] = float(sum[size_t(c)] / rows);
    (*meanSq)[size_t(c)] = float(sq[size_t(c)] / rows);
  }
}


// E[x^2] and E[x] per last-axis channel of every consumer's input over all calibration tokens,
// attached to the consumer for the passes. Returns the consumers' outputs (reference for the
// per-layer error) and the model outputs.
std::string gatherStatistics(ModuleOp module, const CompileOptions &options, const std::vector<CalibSet> &sets,
                             std::vector<Outputs> *reference) {
  OwningOpRef<ModuleOp> probe(cast<ModuleOp>(module->clone()));
  auto sites = taggedSites(*probe);
  size_t nOut = mainFunc(*probe).getNumResults();
  std::vector<Value> extra;
  for (auto &[tag, op] : sites) extra.push_back(op->getOperand(0)), extra.push_back(op->getResult(0));
  appendResults(*probe, extra);
  std::vector<Outputs> runs;
  if (std::string err = runOnHost(*probe, options, sets, &runs); !err.empty()) return err;
  auto original = taggedSites(module);
  Builder b(module.getContext());
  size_t s = 0;
  for (auto &[tag, op] : original) {
    auto k = cast<ShapedType>(op->getOperand(0).getType()).getShape().back();
    std::vector<float> mean, meanSq;
    channelMoments(runs, nOut + 2 * s, k, &mean, &meanSq);
    op->setAttr(kActSqAttr, b.getDenseF32ArrayAttr(meanSq));
    op->setAttr(kActMeanAttr, b.getDenseF32ArrayAttr(mean));
    ++s;
  }
  // Keep what the error measurement compares against: model outputs, then each consumer's output.
  for (Outputs &run : runs) {
    Outputs keep(run.begin(), run.begin() + long(nOut));
    for (size_t i = 0; i < sites.size(); ++i) keep.push_back(std::move(run[nOut + 2 * i + 1]));
    reference->push_back(std::move(keep));
  }
  return "";
}

// Runs the pruned module on the same sets; writes each report row's "output_rel_error" (the
// consumer's output, i.e. the residual stream after the block, against the unpruned model's) and
// the model outputs' errors.
std::string measureErrors(ModuleOp module, const CompileOptions &options, const std::vector<CalibSet> &sets,
                          const std::vector<Outputs> &reference,
                          const std::map<int64_t, std::vector<std::string>> &tagKeys) {
  OwningOpRef<ModuleOp> probe(cast<ModuleOp>(module->clone()));
  auto sites = taggedSites(*probe);
  func::FuncOp f = mainFunc(*probe);
  size_t nOut = f.getNumResults();
  std::vector<Value> extra;
  for (auto &[tag, op] : sites) extra.push_back(op->getResult(0));
  appendResults(*probe, extra);
  std::vector<Outputs> runs;
  if (std::string err = runOnHost(*probe, options, sets, &runs); !err.empty()) return err;
  std::vector<ErrorSum> outErr(nOut), siteErr(sites.size());
  for (size_t r = 0; r < runs.size(); ++r) {
    for (size_t i = 0; i < nOut; ++i)
      if (runs[r][i].dims == reference[r][i].dims) outErr[i].add(runs[r][i], reference[r][i], runs[r][i].dims.size() >= 2);
    // A matmul whose output lost channels (2:4/magnitude on a gate/up after ffn:F) is not compared.
    for (size_t i = 0; i < sites.size(); ++i)
      if (runs[r][nOut + i].dims == reference[r][nOut + i].dims)
        siteErr[i].add(runs[r][nOut + i], reference[r][nOut + i], false);
  }
  Builder b(module.getContext());
  std::map<std::string, double> byKey;
  size_t i = 0;
  for (auto &[tag, op] : sites) {
    if (siteErr[i].compared)
      for (const std::string &key : tagKeys.at(tag)) byKey[key] = siteErr[i].rel();
    ++i;
  }
  SmallVector<Attribute> rows;
  if (auto report = module->getAttrOfType<ArrayAttr>(kPruneReportAttr))
    for (Attribute a : report) {
      auto d = cast<DictionaryAttr>(a);
      NamedAttrList attrs(d);
      std::string key = d.getAs<StringAttr>("kind").str() + " " + d.getAs<StringAttr>("layer").str();
      if (!d.get("skipped") && byKey.count(key)) attrs.set("output_rel_error", b.getF64FloatAttr(byKey[key]));
      rows.push_back(attrs.getDictionary(module.getContext()));
    }
  module->setAttr(kPruneReportAttr, b.getArrayAttr(rows));
  SmallVector<Attribute> outs;
  for (size_t o = 0; o < nOut; ++o) {
    auto name = f.getResultAttrOfType<StringAttr>(unsigned(o), kArgNameAttr);
    SmallVector<NamedAttribute> fields{b.getNamedAttr("name", b.getStringAttr(name ? name.str() : "output" + std::to_string(o)))};
    if (!outErr[o].compared) {
      fields.push_back(b.getNamedAttr("skipped", b.getStringAttr("shape changed by pruning")));
    } else {
      fields.push_back(b.getNamedAttr("rel_error", b.getF64FloatAttr(outErr[o].rel())));
      fields.push_back(b.getNamedAttr("max_abs_error", b.getF64FloatAttr(outErr[o].maxAbs)));
      if (outErr[o].rows)
        fields.push_back(b.getNamedAttr("top1_agreement", b.getF64FloatAttr(double(outErr[o].agree) / outErr[o].rows)));
    }
    outs.push_back(b.getDictionaryAttr(fields));
  }
  module->setAttr(kOutputsAttr, b.getArrayAttr(outs));
  return "";
}

// Sum over rows (last axis: classes, e.g. an LM's vocabulary) of KL(softmax(ref) || softmax(got)),
// the loss a removal adds to the model's predictions; *rows counts the rows.
double klSum(const slm_tools::HostTensor &got, const slm_tools::HostTensor &ref, double *rows) {
  if (ref.dims.empty() || got.dims != ref.dims || !count(ref)) return 0;
  size_t v = size_t(ref.dims.back()), n = count(ref);
  double total = 0;
  std::vector<double> lp(v), lq(v);
  auto logSoftmax = [v](const float *x, std::vector<double> &out) {
    double mx = *std::max_element(x, x + v), z = 0;
    for (size_t i = 0; i < v; ++i) z += std::exp(double(x[i]) - mx);
    for (size_t i = 0; i < v; ++i) out[i] = double(x[i]) - mx - std::log(z);
  };
  for (size_t r = 0; v && r + v <= n; r += v) {
    logSoftmax(floats(ref) + r, lp);
    logSoftmax(floats(got) + r, lq);
    for (size_t i = 0; i < v; ++i) total += std::exp(lp[i]) * (lp[i] - lq[i]);
    *rows += 1;
  }
  return total;
}

// Loss-based head importance: for each attention site, the mean KL divergence of the model's first
// output (an LM's logits) from the unpruned model's over the calibration sets when one removal unit
// is masked out at the output projection's input: a whole KV group when slm-prune-heads will remove
// whole groups, else a single head (planHeadRemoval). Unlike the activation statistics this sees
// what the later layers make of a head. The masks are inputs of one probe artifact, so it is
// emitted once and run (units x sets) times. Writes kHeadLossAttr on each output projection.
std::string scoreHeadsByLoss(ModuleOp module, const CompileOptions &options, const std::vector<CalibSet> &sets,
                             const std::vector<Outputs> &reference, double fraction) {
  OwningOpRef<ModuleOp> probe(cast<ModuleOp>(module->clone()));
  PruneSites sites = findPruneSites(module), probeSites = findPruneSites(*probe);
  func::FuncOp f = mainFunc(*probe);
  if (sites.heads.size() != probeSites.heads.size() || mainFunc(module).getNumResults() == 0) return "";
  dropActivationStatistics(*probe); // they are for the passes, not the emitter
  OpBuilder b(probe->getContext());
  struct Unit {
    size_t site;
    int64_t first, count; // query heads [first, first + count)
  };
  std::vector<Unit> units;
  std::vector<int64_t> maskSite(sites.heads.size(), -1); // site -> mask input index
  std::vector<std::string> maskNames;
  for (size_t i = 0; i < probeSites.heads.size(); ++i) {
    HeadSite &s = probeSites.heads[i];
    HeadPlan plan = planHeadRemoval(s.heads, s.kvHeads, fraction);
    if (!plan.groups && !plan.perGroup) continue;
    int64_t width = plan.groups ? s.heads / s.kvHeads : 1;
    for (int64_t h0 = 0; h0 < s.heads; h0 += width) units.push_back({i, h0, width});
    std::string name = "__prune_mask." + std::to_string(i);
    unsigned idx = f.getNumArguments();
    f.insertArgument(idx, RankedTensorType::get({s.heads * s.headDim}, b.getF32Type()),
                     b.getDictionaryAttr(b.getNamedAttr(kArgNameAttr, b.getStringAttr(name))), s.o.getLoc());
    b.setInsertionPoint(s.o);
    OperationState mul(s.o.getLoc(), "slm.Mul");
    mul.addOperands({s.o.getA(), f.getArgument(idx)});
    mul.addTypes(s.o.getA().getType());
    s.o.getAMutable().assign(b.create(mul)->getResult(0));
    maskSite[i] = int64_t(maskNames.size());
    maskNames.push_back(name);
  }
  if (units.empty()) return "";
  // Every (unit, set) pair is one run: the set's inputs plus all masks, ones except the unit's heads.
  std::vector<CalibSet> runs;
  for (const Unit &u : units)
    for (const CalibSet &set : sets) {
      CalibSet r = set;
      for (size_t i = 0; i < sites.heads.size(); ++i) {
        if (maskSite[i] < 0) continue;
        const HeadSite &s = sites.heads[i];
        std::vector<float> mask(size_t(s.heads * s.headDim), 1.0f);
        if (u.site == i)
          std::fill(mask.begin() + u.first * s.headDim, mask.begin() + (u.first + u.count) * s.headDim, 0.0f);
        slm_tools::HostTensor t;
        t.name = maskNames[size_t(maskSite[i])];
        t.dtype = SLM_DTYPE_FLOAT32;
        t.dims = {int64_t(mask.size())};
        t.data.assign(reinterpret_cast<const uint8_t *>(mask.data()),
                      reinterpret_cast<const uint8_t *>(mask.data() + mask.size()));
        r.inputs.push_back(std::move(t));
      }
      runs.push_back(std::move(r));
    }
  std::vector<double> kl(units.size()), rows(units.size());
  std::string err = runOnHost(*probe, options, runs, [&](size_t r, Outputs &&outs) {
    kl[r / sets.size()] += klSum(outs[0], reference[r % sets.size()][0], &rows[r / sets.size()]);
  });
  if (!err.empty()) return err;
  Builder ab(module.getContext());
  std::vector<std::vector<float>> loss(sites.heads.size());
  for (size_t i = 0; i < sites.heads.size(); ++i)
    if (maskSite[i] >= 0) loss[i].assign(size_t(sites.heads[i].heads), 0.0f);
  for (size_t u = 0; u < units.size(); ++u)
    for (int64_t h = units[u].first; h < units[u].first + units[u].count; ++h)
      loss[units[u].site][size_t(h)] = float(rows[u] ? kl[u] / rows[u] / double(units[u].count) : 0.0);
  for (size_t i = 0; i < sites.heads.size(); ++i)
    if (!loss[i].empty()) sites.heads[i].o->setAttr(kHeadLossAttr, ab.getDenseF32ArrayAttr(loss[i]));
  return "";
}

// SparseGPT with --calibration-data, 2:4 or unstructured (magnitude > 0: that fraction): every weight
// slm-prune-24 / slm-prune-magnitude will take (the same blockers) is pruned here, each zeroed
// weight's error pushed onto the input rows not yet visited through H = X^T X of the matmul's
// calibration inputs (measured on the model as the structured passes left it), and marked so the
// pass keeps its zeros. A matmul whose H cannot be factored, or a transposed weight, keeps magnitude.
std::string compensateSparse(ModuleOp module, const CompileOptions &options, const std::vector<CalibSet> &sets,
                             double magnitude) {
  dropActivationStatistics(module); // leftovers of the structured passes
  SmallVector<Operation *> ops;
  module.walk([&](slm::FusedMatMulOp op) {
    Weight w;
    if ((magnitude > 0 ? magnitudeBlocker(op, &w) : sp24Blocker(op, &w)).empty() && !w.transB) ops.push_back(op);
  });
  if (ops.empty()) return "";
  std::vector<Outputs> runs;
  size_t nOut = 0;
  if (std::string err = runCapturing(
          module, options, sets, ops, [](Operation *op) { return SmallVector<Value>{op->getOperand(0)}; }, &runs,
          &nOut);
      !err.empty())
    return err;
  Builder b(module.getContext());
  for (size_t i = 0; i < ops.size(); ++i) {
    auto mm = cast<slm::FusedMatMulOp>(ops[i]);
    Weight w;
    readWeight(mm, &w);
    std::vector<double> u;
    if (!inverseHessianFactor(runs, nOut + i, w.k, &u)) continue;
    if (magnitude > 0)
      sparseGptUnstructured(w.values.data(), w.k, w.n, magnitude, u);
    else
      sparseGpt24(w.values.data(), w.k, w.n, u);
    setWeight(mm, w.values);
    mm->setAttr(magnitude > 0 ? kSparseCompensatedAttr : kSp24CompensatedAttr, b.getUnitAttr());
  }
  return "";
}

LogicalResult runPasses(ModuleOp module, const PruneSpec &spec, bool biasCorrection) {
  PassManager pm(module.getContext());
  if (spec.heads > 0) {
    PruneHeadsOptions o;
    o.fraction = spec.heads;
    o.biasCorrection = biasCorrection;
    pm.addPass(createPruneHeads(o));
  }
  if (spec.ffn > 0) {
    PruneFfnOptions o;
    o.fraction = spec.ffn;
    o.biasCorrection = biasCorrection;
    pm.addPass(createPruneFfn(o));
  }
  return pm.run(module);
}

template <typename T> T field(DictionaryAttr d, llvm::StringRef name) { return d.getAs<T>(name); }

} // namespace

std::string checkPruneOptions(const CompileOptions &o) {
  PruneSpec spec;
  if (!o.prune.empty() && parseSpec(o.prune, &spec).empty() && (spec.sp24 || spec.magnitude > 0) &&
      o.quantMethod == "gptq")
    return "--quant-method=gptq moves error onto the weights --prune=" + o.prune +
           " zeroed, refilling them; use rtn or awq with it";
  if (o.prune.empty()) {
    if (o.pruneBiasCorrection) return "--prune-bias-correction needs --prune";
    if (!o.calibrationData.empty() && o.maxAccuracyDrop < 0 && o.quantize != "int8" && o.quantMethod == "rtn")
      return "--calibration-data is used by --prune, --max-accuracy-drop, --quant-method=awq|gptq and --quantize=int8; give one of them";
    return "";
  }
  if (o.pruneBiasCorrection && o.calibrationData.empty())
    return "--prune-bias-correction needs --calibration-data (it folds activation means into the bias)";
  return parseSpec(o.prune, &spec);
}

int runPruning(ModuleOp module, const CompileOptions &options) {
  if (options.prune.empty()) return kExitOk;
  PruneSpec spec;
  parseSpec(options.prune, &spec);
  // Tag the consumers so the host runs before and after pruning can find them in their clones.
  PruneSites sites = findPruneSites(module);
  Builder b(module.getContext());
  std::map<int64_t, std::vector<std::string>> tagKeys; // tag -> "kind layer" of the report rows it belongs to
  int64_t tag = 0;
  if (spec.heads > 0)
    for (const HeadSite &s : sites.heads) s.o->setAttr(kSiteAttr, b.getI64IntegerAttr(tag)), tagKeys[tag++] = {"heads " + s.layer};
  if (spec.ffn > 0)
    for (const FfnSite &s : sites.ffn) s.down->setAttr(kSiteAttr, b.getI64IntegerAttr(tag)), tagKeys[tag++] = {"ffn " + s.layer};
  // With calibration, every matmul 2:4 or magnitude:S will take gets its own output error too (a
  // down/output projection already tagged shares its tag).
  if ((spec.sp24 || spec.magnitude > 0) && !options.calibrationData.empty())
    module.walk([&](slm::FusedMatMulOp op) {
      Weight w;
      if (!(spec.sp24 ? sp24Blocker(op, &w) : magnitudeBlocker(op, &w)).empty()) return;
      std::string key = std::string(spec.sp24 ? "2:4 " : "magnitude ") + matmulLayerName(op, w);
      if (auto t = op->getAttrOfType<IntegerAttr>(kSiteAttr)) {
        tagKeys[t.getInt()].push_back(key);
        return;
      }
      op->setAttr(kSiteAttr, b.getI64IntegerAttr(tag));
      tagKeys[tag++] = {key};
    });

  std::vector<CalibSet> sets;
  std::vector<Outputs> reference;
  if (!options.calibrationData.empty()) {
    if (std::string err = loadCalibration(options.calibrationData, &sets); !err.empty()) {
      llvm::errs() << "slmc: error: " << err << "\n";
      return kExitBadInput;
    }
    if (std::string err = gatherStatistics(module, options, sets, &reference); !err.empty()) {
      llvm::errs() << "slmc: error: --calibration-data " << options.calibrationData << ": " << err << "\n";
      return kExitBadInput;
    }
    if (spec.heads > 0)
      if (std::string err = scoreHeadsByLoss(module, options, sets, reference, spec.heads); !err.empty()) {
        llvm::errs() << "slmc: error: --calibration-data " << options.calibrationData << ": scoring heads: " << err
                     << "\n";
        return kExitBadInput;
      }
  }
  if (failed(runPasses(module, spec, options.pruneBiasCorrection))) {
    llvm::errs() << "slmc: error: " << options.input << ": pruning failed\n";
    return kExitRuntime;
  }
  if (spec.sp24 || spec.magnitude > 0) {
    if (!sets.empty())
      if (std::string err = compensateSparse(module, options, sets, spec.magnitude); !err.empty()) {
        llvm::errs() << "slmc: error: --calibration-data " << options.calibrationData << ": " << err << "\n";
        return kExitBadInput;
      }
    // With --quantize the zeros are written and the quantizer's weights keep them
    // (slm-sparsify-a8 then stores an int8 matmul masked where that pays).
    bool pack = options.quantize.empty();
    PassManager pm(module.getContext());
    if (spec.sp24) {
      Prune24Options o;
      o.pack = pack;
      pm.addPass(createPrune24(o));
    } else {
      PruneMagnitudeOptions o;
      o.sparsity = spec.magnitude;
      o.pack = pack;
      pm.addPass(createPruneMagnitude(o));
    }
    if (failed(pm.run(module))) {
      llvm::errs() << "slmc: error: " << options.input << ": " << (spec.sp24 ? "2:4" : "magnitude") << " pruning failed\n";
      return kExitRuntime;
    }
  }
  if (!sets.empty())
    if (std::string err = measureErrors(module, options, sets, reference, tagKeys); !err.empty()) {
      llvm::errs() << "slmc: error: measuring the pruned model on the calibration data: " << err << "\n";
      return kExitRuntime;
    }
  bool prunedAny = false;
  if (auto report = module->getAttrOfType<ArrayAttr>(kPruneReportAttr))
    for (Attribute a : report) prunedAny |= !cast<DictionaryAttr>(a).get("skipped");
  if (!prunedAny)
    llvm::errs() << "slmc: warning: --prune=" << options.prune << ": nothing was pruned (no fused FFN or attention "
                 << "block matched; see the table for the reasons)\n";
  dropActivationStatistics(module);
  module.walk([](Operation *op) {
    op->removeAttr(kSiteAttr);
    op->removeAttr(kHeadLossAttr);
  });
  module->setAttr(kMetaAttr, b.getDictionaryAttr({b.getNamedAttr("spec", b.getStringAttr(options.prune)),
                                                   b.getNamedAttr("calibration_sets", b.getI64IntegerAttr(int64_t(sets.size())))}));
  return kExitOk;
}

int storePrunedQuantized(ModuleOp module, const CompileOptions &options) {
  PruneSpec spec;
  if (options.prune.empty() || options.quantize.empty() || !parseSpec(options.prune, &spec).empty() ||
      !(spec.sp24 || spec.magnitude > 0))
    return kExitOk;
  bool a8 = false;
  module.walk([&](slm::MatMulA8Op) { a8 = true; });
  if (!a8) {
    llvm::errs() << "slmc: note: --quantize=" << options.quantize << " has no masked storage: the zeros of --prune="
                 << options.prune << " are stored densely (w8a8/w4a8 weights can be stored masked)\n";
    return kExitOk;
  }
  // Masked int8 codes (slm.matmul_a8_sparse, benchmarks/kernels/sparse_a8_bench): at half zeros
  // 0.62x the bytes, decode 1.14-1.19x faster when the weights stream from memory, prefill about
  // 0.8x as fast; int4 codes take a byte each in that form, so they need over 75% zeros.
  size_t before = 0;
  if (auto r = module->getAttrOfType<ArrayAttr>(kPruneReportAttr)) before = r.size();
  PassManager pm(module.getContext());
  SparsifyA8Options o;
  o.maxRatio = 0.65;
  pm.addPass(createSparsifyA8(o));
  if (failed(pm.run(module))) {
    llvm::errs() << "slmc: error: " << options.input << ": storing the pruned int8 weights masked failed\n";
    return kExitRuntime;
  }
  auto report = module->getAttrOfType<ArrayAttr>(kPruneReportAttr);
  int64_t bytesBefore = 0, bytesAfter = 0, masked = 0, dense = 0;
  for (size_t i = before; report && i < report.size(); ++i) {
    auto d = cast<DictionaryAttr>(report[i]);
    if (d.get("skipped")) {
      ++dense;
      llvm::errs() << llvm::formatv("{0,-32} codes stored dense: {1}\n", field<StringAttr>(d, "layer").str(),
                                    field<StringAttr>(d, "skipped").str());
      continue;
    }
    ++masked;
    bytesBefore += field<IntegerAttr>(d, "bytes_before").getInt();
    bytesAfter += field<IntegerAttr>(d, "bytes_after").getInt();
    llvm::errs() << llvm::formatv("{0,-32} codes stored masked: {1}, {2} -> {3} bytes\n",
                                  field<StringAttr>(d, "layer").str(), field<StringAttr>(d, "detail").str(),
                                  field<IntegerAttr>(d, "bytes_before").getInt(),
                                  field<IntegerAttr>(d, "bytes_after").getInt());
  }
  llvm::errs() << llvm::formatv("slmc: {0} quantized matmuls stored masked ({1} -> {2} weight-code bytes), {3} dense\n",
                                masked, bytesBefore, bytesAfter, dense);
  return kExitOk;
}

void printPruneReport(ModuleOp module, llvm::raw_ostream &os) {
  auto report = module->getAttrOfType<ArrayAttr>(kPruneReportAttr);
  if (!report) return;
  auto row = [&](const std::string &layer, const std::string &kind, const std::string &removed, const std::string &imp,
                 const std::string &before, const std::string &after, const std::string &err) {
    char line[640];
    snprintf(line, sizeof line, "%-32s %-9s %-46s %-15s %12s %12s  %s\n", layer.c_str(), kind.c_str(), removed.c_str(),
             imp.c_str(), before.c_str(), after.c_str(), err.c_str());
    os << line;
  };
  row("layer", "kind", "removed", "importance", "bytes before", "bytes after", "output rel. error");
  int64_t before = 0, after = 0;
  for (Attribute a : report) {
    auto d = cast<DictionaryAttr>(a);
    std::string layer = field<StringAttr>(d, "layer").str(), kind = field<StringAttr>(d, "kind").str();
    if (kind == "sparse-a8") continue; // storage of quantized codes, printed by storePrunedQuantized
    if (auto why = field<StringAttr>(d, "skipped")) {
      row(layer, kind, "skipped: " + why.str(), "", "", "", "");
      continue;
    }
    int64_t b = field<IntegerAttr>(d, "bytes_before").getInt(), f = field<IntegerAttr>(d, "bytes_after").getInt();
    before += b;
    after += f;
    auto err = field<FloatAttr>(d, "output_rel_error");
    std::string imp = field<StringAttr>(d, "importance").str();
    if (field<BoolAttr>(d, "bias_corrected").getValue()) imp += "+bias";
    bool calibrated = module->getAttrOfType<DictionaryAttr>(kMetaAttr) &&
                      field<IntegerAttr>(module->getAttrOfType<DictionaryAttr>(kMetaAttr), "calibration_sets").getInt() > 0;
    std::string detail = field<StringAttr>(d, "detail").str();
    if (auto stored = field<StringAttr>(d, "stored"); stored && stored.getValue() != "sparse")
      detail += " [" + stored.str() + "]";
    row(layer, kind, detail, imp, std::to_string(b), std::to_string(f),
        err            ? llvm::formatv("{0:e2}", err.getValueAsDouble()).str()
        : !calibrated ? "n/a (no --calibration-data)"
                       : "- (not compared: the output's shape changed; model outputs below)");
  }
  row("total (pruned matrices)", "", "", "", std::to_string(before), std::to_string(after),
      llvm::formatv("{0:f3}x the bytes", before ? double(after) / double(before) : 1.0).str());
  if (auto outs = module->getAttrOfType<ArrayAttr>(kOutputsAttr))
    for (Attribute a : outs) {
      auto d = cast<DictionaryAttr>(a);
      os << "output " << field<StringAttr>(d, "name").getValue() << " vs unpruned on the calibration sets: ";
      if (auto why = field<StringAttr>(d, "skipped")) {
        os << "not compared (" << why.getValue() << ")\n";
        continue;
      }
      os << llvm::formatv("rel. error {0:e2}, max |diff| {1:e2}", field<FloatAttr>(d, "rel_error").getValueAsDouble(),
                          field<FloatAttr>(d, "max_abs_error").getValueAsDouble());
      if (auto t = field<FloatAttr>(d, "top1_agreement"))
        os << llvm::formatv(", top-1 agreement {0:f1}%", 100 * t.getValueAsDouble());
      os << "\n";
    }
}

std::string pruneReportJson(ModuleOp module) {
  auto toJson = [](Attribute a) -> llvm::json::Value {
    if (auto s = dyn_cast<StringAttr>(a)) return s.str();
    if (auto b = dyn_cast<BoolAttr>(a)) return b.getValue();
    if (auto i = dyn_cast<IntegerAttr>(a)) return i.getInt();
    if (auto f = dyn_cast<FloatAttr>(a)) return f.getValueAsDouble();
    return nullptr;
  };
  auto objects = [&](llvm::StringRef attr) {
    llvm::json::Array out;
    if (auto arr = module->getAttrOfType<ArrayAttr>(attr))
      for (Attribute a : arr) {
        llvm::json::Object o;
        for (NamedAttribute na : cast<DictionaryAttr>(a)) o[na.getName().str()] = toJson(na.getValue());
        out.push_back(std::move(o));
      }
    return out;
  };
  llvm::json::Object root;
  if (auto meta = module->getAttrOfType<DictionaryAttr>(kMetaAttr))
    for (NamedAttribute na : meta) root[na.getName().str()] = toJson(na.getValue());
  root["layers"] = objects(kPruneReportAttr);
  root["outputs"] = objects(kOutputsAttr);
  std::string out;
  llvm::raw_string_ostream os(out);
  os << llvm::json::Value(std::move(root));
  return out;
}

} // namespace slmc
