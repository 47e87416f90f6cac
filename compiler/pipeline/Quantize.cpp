// `--quantize`: validates the scheme, runs slm-quantize-weights (within --max-accuracy-drop), and renders its
// per-layer report.
#include "pipeline/Quantize.h"

#include "pipeline/Awq.h"
#include "pipeline/Calibration.h"
#include "passes/common/Passes.h"
#include "passes/quant/Passes.h"
#include "passes/quant/WeightQuantizer.h"
#include "ConstantData.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace slmc {
namespace {

int64_t effectiveGroup(const CompileOptions &o) {
  if (o.groupSize >= 0) return o.groupSize;
  return o.quantize == "w4" || o.quantize == "w4a8" ? 32 : 0;
}

mlir::ArrayAttr reportOf(mlir::ModuleOp module) {
  return module->getAttrOfType<mlir::ArrayAttr>(kQuantReportAttr);
}

template <typename T> T field(mlir::DictionaryAttr d, llvm::StringRef name) { return d.getAs<T>(name); }

} // namespace

std::string checkQuantOptions(const CompileOptions &o) {
  if (o.quantize.empty()) {
    if (o.groupSize >= 0 || o.asymmetric || !o.keepFloat.empty() || o.maxAccuracyDrop >= 0 || o.quantMethod != "rtn")
      return "--group-size, --asymmetric, --keep-float, --quant-method and --max-accuracy-drop need --quantize";
    return "";
  }
  if (o.quantMethod != "rtn" && o.quantMethod != "awq" && o.quantMethod != "gptq")
    return "--quant-method must be rtn, awq or gptq, not '" + o.quantMethod + "'";
  if (o.quantMethod != "rtn" && (o.calibrationData.empty() || o.quantize == "fp16" || o.quantize == "bf16"))
    return "--quant-method=" + o.quantMethod + " needs --calibration-data DIR and an integer weight scheme (w8, w4, w8a8, w4a8)";
  if (o.maxAccuracyDrop >= 0 && o.calibrationData.empty())
    return "--max-accuracy-drop needs --calibration-data DIR (the inputs the quantized model is measured on)";
  static const char *kAvailable = "(available: w8, w4, w8a8, w4a8, fp16, bf16, int8)";
  if (o.quantize == "int8") {
    if (o.calibrationData.empty())
      return "--quantize=int8 (static activations) needs --calibration-data DIR to measure the activation ranges";
    if (o.groupSize >= 0 || o.asymmetric || o.maxAccuracyDrop >= 0 || o.quantMethod != "rtn")
      return "--group-size, --asymmetric, --max-accuracy-drop and --quant-method do not apply to --quantize=int8";
    return "";
  }
  if (o.quantize != "w8" && o.quantize != "w4" && o.quantize != "w8a8" && o.quantize != "w4a8" && o.quantize != "fp16" &&
      o.quantize != "bf16")
    return "unknown --quantize scheme '" + o.quantize + "' " + kAvailable;
  if ((o.quantize == "fp16" || o.quantize == "bf16") && (o.groupSize >= 0 || o.asymmetric))
    return "--group-size and --asymmetric do not apply to --quantize=" + o.quantize;
  if (o.actScales != "group" && o.actScales != "row")
    return "--act-scales must be group or row, got '" + o.actScales + "'";
  if (o.actScales != "group" && o.quantize != "w8a8" && o.quantize != "w4a8")
    return "--act-scales applies only to --quantize=w8a8|w4a8";
  if (o.asymmetric && (o.quantize == "w8a8" || o.quantize == "w4a8"))
    return "--asymmetric is not supported with --quantize=" + o.quantize + " (its weights are symmetric)";
  int64_t g = effectiveGroup(o);
  if (g != 0 && g != 32 && g != 64 && g != 128) return "--group-size must be 0, 32, 64 or 128";
  return "";
}

mlir::LogicalResult runQuantization(mlir::ModuleOp module, const CompileOptions &o) {
  if (o.quantize.empty()) return mlir::success();
  QuantizeWeightsOptions qo;
  qo.bits = o.quantize == "w8" || o.quantize == "w8a8" ? 8 : 4;
  qo.actBits = o.quantize == "w8a8" || o.quantize == "w4a8" ? 8 : 0;
  qo.actGroupScales = o.actScales == "group";
  if (o.quantize == "fp16" || o.quantize == "bf16") qo.storage = o.quantize == "fp16" ? "f16" : "bf16";
  qo.groupSize = effectiveGroup(o);
  qo.symmetric = !o.asymmetric;
  qo.keepFloat = o.keepFloat;
  mlir::PassManager pm(module.getContext());
  pm.addPass(createQuantizeWeights(qo));
  return pm.run(module);
}

namespace {

std::string regexEscape(const std::string &s) {
  std::string out;
  for (char c : s) {
    if (std::strchr(".^$|()[]{}*+?\\", c)) out += '\\';
    out += c;
  }
  return out;
}

// Quantizable layers of a quantized module's report, largest relative weight error first.
std::vector<std::string> layersByWeightError(mlir::ModuleOp q) {
  std::vector<std::pair<double, std::string>> rows;
  if (mlir::ArrayAttr report = reportOf(q))
    for (mlir::Attribute a : report) {
      auto d = llvm::cast<mlir::DictionaryAttr>(a);
      if (field<mlir::StringAttr>(d, "skipped")) continue;
      rows.push_back({field<mlir::FloatAttr>(d, "rel_rms_error").getValueAsDouble(), field<mlir::StringAttr>(d, "layer").str()});
    }
  std::stable_sort(rows.begin(), rows.end(), [](const auto &x, const auto &y) { return x.first > y.first; });
  std::vector<std::string> out;
  for (auto &r : rows) out.push_back(r.second);
  return out;
}

// The first output's error of `module` quantized with `o` against the float runs `ref`.
std::string measure(mlir::ModuleOp module, const CompileOptions &o, const std::vector<CalibSet> &sets,
                    const std::vector<Outputs> &ref, ErrorSum *err) {
  std::vector<Outputs> runs;
  if (std::string e = runOnHost(module, o, sets, &runs); !e.empty()) return e;
  for (size_t r = 0; r < runs.size(); ++r)
    if (!runs[r].empty() && !ref[r].empty()) err->add(runs[r][0], ref[r][0], ref[r][0].dims.size() >= 2);
  return "";
}

} // namespace

// --quantize=int8: activation ranges of every Conv / fused_conv(relu) from the calibration sets, then
// slm-quantize-static + slm-fuse-qdq + slm-fold (QLinearConv islands); a report row per candidate.
int quantizeStatic(mlir::ModuleOp module, const CompileOptions &o) {
  std::vector<CalibSet> sets;
  if (std::string e = loadCalibration(o.calibrationData, &sets); !e.empty()) {
    llvm::errs() << "slmc: error: " << e << "\n";
    return kExitBadInput;
  }
  mlir::Builder b(module.getContext());
  llvm::SmallVector<mlir::Operation *> sites;
  llvm::SmallVector<mlir::Attribute> report;
  auto row = [&](mlir::Operation *op, const std::string &scheme, int64_t before, int64_t after, const std::string &why) {
    auto wt = llvm::cast<mlir::RankedTensorType>(op->getOperand(1).getType());
    auto name = op->getAttrOfType<mlir::StringAttr>(slm::kNodeNameAttr);
    llvm::SmallVector<mlir::NamedAttribute> f{
        b.getNamedAttr("layer", b.getStringAttr(name ? name.str() : op->getName().getStringRef().str())),
        b.getNamedAttr("shape", b.getI64ArrayAttr(wt.getShape())), b.getNamedAttr("scheme", b.getStringAttr(scheme)),
        b.getNamedAttr("group_size", b.getI64IntegerAttr(0)), b.getNamedAttr("bytes_before", b.getI64IntegerAttr(before)),
        b.getNamedAttr("bytes_after", b.getI64IntegerAttr(after)), b.getNamedAttr("max_abs_error", b.getF64FloatAttr(0)),
        b.getNamedAttr("rel_rms_error", b.getF64FloatAttr(0))};
    if (!why.empty()) f.push_back(b.getNamedAttr("skipped", b.getStringAttr(why)));
    report.push_back(b.getDictionaryAttr(f));
  };
  module.walk([&](mlir::Operation *op) {
    bool conv = op->getName().getStringRef() == "slm.Conv" || op->getName().getStringRef() == "slm.fused_conv";
    bool matmul = op->getName().getStringRef() == "slm.fused_matmul" || op->getName().getStringRef() == "slm.MatMul";
    if (!conv && !matmul) return;
    auto wt = llvm::dyn_cast<mlir::RankedTensorType>(op->getOperand(1).getType());
    if (!wt || !wt.hasStaticShape()) return;
    int64_t bytes = wt.getNumElements() * 4;
    auto act = op->getAttrOfType<mlir::StringAttr>("activation");
    if (matmul) row(op, "float", bytes, bytes, "static int8 covers Conv layers; matmuls stay float");
    else if (!op->getOperand(1).getDefiningOp<slm::ConstantOp>()) row(op, "float", bytes, bytes, "weight is not a constant");
    else if (act && act.getValue() != "relu" &&
             !(act.getValue() == "clip" && op->getAttrOfType<mlir::FloatAttr>("clip_min") &&
               op->getAttrOfType<mlir::FloatAttr>("clip_min").getValueAsDouble() == 0.0))
      row(op, "float", bytes, bytes, "activation '" + act.str() + "' has no int8 form");
    else sites.push_back(op);
  });
  // Ranges: run a clone whose results also return every site's input and output.
  std::vector<Outputs> runs;
  size_t nOut = 0;
  auto inAndOut = [](mlir::Operation *op) { return llvm::SmallVector<mlir::Value>{op->getOperand(0), op->getResult(0)}; };
  if (std::string e = runCapturing(module, o, sets, sites, inAndOut, &runs, &nOut); !e.empty()) {
    llvm::errs() << "slmc: error: --calibration-data " << o.calibrationData << ": " << e << "\n";
    return kExitBadInput;
  }
  for (size_t i = 0; i < sites.size(); ++i) {
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
    for (const Outputs &r : runs)
      for (int k = 0; k < 2; ++k)
        for (size_t j = 0; j < count(r[nOut + i * 2 + k]); ++j) {
          double v = floats(r[nOut + i * 2 + k])[j];
          lo[k] = std::min(lo[k], v), hi[k] = std::max(hi[k], v);
        }
    if (!(lo[0] <= hi[0]) || !(lo[1] <= hi[1])) {
      row(sites[i], "float", 0, 0, "no calibration values reached it");
      continue;
    }
    sites[i]->setAttr("slm.range_x", b.getF64ArrayAttr({lo[0], hi[0]}));
    sites[i]->setAttr("slm.range_y", b.getF64ArrayAttr({lo[1], hi[1]}));
    auto wt = llvm::cast<mlir::RankedTensorType>(sites[i]->getOperand(1).getType());
    std::vector<float> w = slm::constantFloats(sites[i]->getOperand(1).getDefiningOp<slm::ConstantOp>()), scales;
    QuantizedMatrix q = quantizePerChannelInt8(w.data(), wt.getDimSize(0), wt.getNumElements() / std::max<int64_t>(1, wt.getDimSize(0)), &scales);
    row(sites[i], "int8", wt.getNumElements() * 4, wt.getNumElements() + wt.getDimSize(0) * 5, "");
    auto last = llvm::cast<mlir::DictionaryAttr>(report.back());
    mlir::NamedAttrList fields(last);
    fields.set("max_abs_error", b.getF64FloatAttr(q.maxAbsError));
    fields.set("rel_rms_error", b.getF64FloatAttr(q.relRmsError()));
    report.back() = fields.getDictionary(module.getContext());
  }
  mlir::PassManager pm(module.getContext());
  pm.addNestedPass<mlir::func::FuncOp>(createQuantizeStatic());
  pm.addNestedPass<mlir::func::FuncOp>(createFuseQdq());
  pm.addNestedPass<mlir::func::FuncOp>(createFold());
  if (mlir::failed(pm.run(module))) {
    llvm::errs() << "slmc: error: " << o.input << ": static int8 quantization failed\n";
    return kExitRuntime;
  }
  module->setAttr(kQuantReportAttr, b.getArrayAttr(report));
  return kExitOk;
}

int quantizeWithinBudget(mlir::ModuleOp module, const CompileOptions &o) {
  if (o.quantize == "int8") return quantizeStatic(module, o);
  if (o.quantMethod == "awq")
    if (int rc = applyActivationAwareScaling(module, o); rc != kExitOk) return rc;
  if (o.quantMethod == "gptq")
    if (int rc = applyErrorCompensatingRounding(module, o); rc != kExitOk) return rc;
  if (o.maxAccuracyDrop < 0) {
    if (mlir::succeeded(runQuantization(module, o))) return kExitOk;
    llvm::errs() << "slmc: error: " << o.input << ": quantization failed\n";
    return kExitRuntime;
  }
  std::vector<CalibSet> sets;
  std::vector<Outputs> ref;
  if (std::string e = loadCalibration(o.calibrationData, &sets); !e.empty()) {
    llvm::errs() << "slmc: error: " << e << "\n";
    return kExitBadInput;
  }
  if (std::string e = runOnHost(module, o, sets, &ref); !e.empty()) {
    llvm::errs() << "slmc: error: --calibration-data " << o.calibrationData << ": " << e << "\n";
    return kExitBadInput;
  }
  auto outName = [&] {
    auto f = module.lookupSymbol<mlir::func::FuncOp>("main");
    auto n = f && f.getNumResults() ? f.getResultAttrOfType<mlir::StringAttr>(0, "slm.name") : mlir::StringAttr();
    return n ? n.str() : std::string("output 0");
  }();
  char budget[32];
  std::snprintf(budget, sizeof budget, "%g", o.maxAccuracyDrop);
  // One attempt: quantize a clone with the `count` worst layers of `ranking` kept in float, measure it.
  std::vector<std::string> ranking;
  auto attempt = [&](size_t count, mlir::OwningOpRef<mlir::ModuleOp> *q, ErrorSum *err) -> int {
    CompileOptions qo = o;
    std::string backoff;
    for (size_t i = 0; i < count; ++i) backoff += (backoff.empty() ? "^(" : "|") + regexEscape(ranking[i]);
    if (!backoff.empty()) backoff += ")$";
    qo.keepFloat = o.keepFloat.empty() ? backoff : backoff.empty() ? o.keepFloat : "(" + o.keepFloat + ")|" + backoff;
    *q = mlir::OwningOpRef<mlir::ModuleOp>(llvm::cast<mlir::ModuleOp>(module->clone()));
    if (mlir::failed(runQuantization(**q, qo))) {
      llvm::errs() << "slmc: error: " << o.input << ": quantization failed\n";
      return kExitRuntime;
    }
    if (std::string e = measure(**q, o, sets, ref, err); !e.empty()) {
      llvm::errs() << "slmc: error: measuring the quantized model on the calibration data: " << e << "\n";
      return kExitRuntime;
    }
    llvm::errs() << llvm::formatv("slmc: accuracy: {0} layer(s) kept in float: '{1}' relative error {2:e3} (budget "
                                  "{3}){4} on {5} calibration set(s)\n",
                                  count, outName, err->rel(), budget,
                                  err->rows ? llvm::formatv(", top-1 agreement {0:f4}", double(err->agree) / err->rows).str()
                                            : std::string(),
                                  sets.size());
    return kExitOk;
  };
  mlir::OwningOpRef<mlir::ModuleOp> best;
  ErrorSum err;
  if (int rc = attempt(0, &best, &err); rc != kExitOk) return rc;
  ranking = layersByWeightError(*best);
  size_t kept = 0;
  if (err.rel() > o.maxAccuracyDrop) {
    if (!o.accuracyBackoff) {
      llvm::errs() << llvm::formatv("slmc: error: the quantized model's '{0}' relative error {1:e3} exceeds "
                                    "--max-accuracy-drop {2} (--no-accuracy-backoff: no layer kept in float)\n",
                                    outName, err.rel(), budget);
      return kExitRuntime;
    }
    // Double the float layers until the budget holds, then bisect down to the fewest that meet it.
    size_t fail = 0, pass = 0;
    for (size_t n = 1;; n = std::min(ranking.size(), n * 2)) {
      mlir::OwningOpRef<mlir::ModuleOp> q;
      ErrorSum e;
      if (int rc = attempt(n, &q, &e); rc != kExitOk) return rc;
      if (e.rel() <= o.maxAccuracyDrop) {
        pass = n, best = std::move(q);
        break;
      }
      fail = n;
      if (n == ranking.size()) {
        llvm::errs() << llvm::formatv("slmc: error: the quantized model's '{0}' relative error {1:e3} exceeds "
                                      "--max-accuracy-drop {2} even with all {3} quantized layers kept in float "
                                      "(what remains is not from weight quantization, e.g. int8 activations)\n",
                                      outName, e.rel(), budget, ranking.size());
        return kExitRuntime;
      }
    }
    while (pass - fail > 1) {
      size_t mid = fail + (pass - fail) / 2;
      mlir::OwningOpRef<mlir::ModuleOp> q;
      ErrorSum e;
      if (int rc = attempt(mid, &q, &e); rc != kExitOk) return rc;
      if (e.rel() <= o.maxAccuracyDrop) pass = mid, best = std::move(q);
      else fail = mid;
    }
    kept = pass;
    if (kept == ranking.size())
      llvm::errs() << "slmc: warning: --max-accuracy-drop " << budget
                   << " kept every quantizable layer in float: the artifact is not quantized\n";
  }
  // Keep the chosen quantization: move its body and attributes into the caller's module.
  module.getBody()->getOperations().clear();
  module.getBody()->getOperations().splice(module.getBody()->end(), best->getBody()->getOperations());
  module->setAttrs(best->getOperation()->getAttrDictionary());
  if (kept) { // the report says why those layers stayed float
    mlir::Builder b(module.getContext());
    llvm::SmallVector<mlir::Attribute> rows;
    for (mlir::Attribute a : reportOf(module)) {
      auto d = llvm::cast<mlir::DictionaryAttr>(a);
      mlir::NamedAttrList f(d);
      if (std::find(ranking.begin(), ranking.begin() + kept, field<mlir::StringAttr>(d, "layer").str()) !=
          ranking.begin() + kept)
        f.set("skipped", b.getStringAttr(std::string("kept in float to meet --max-accuracy-drop ") + budget));
      rows.push_back(f.getDictionary(module.getContext()));
    }
    module->setAttr(kQuantReportAttr, b.getArrayAttr(rows));
  }
  return kExitOk;
}

void printQuantReport(mlir::ModuleOp module, llvm::raw_ostream &os) {
  mlir::ArrayAttr report = reportOf(module);
  if (!report) return;
  int64_t before = 0, after = 0;
  auto row = [&](const std::string &layer, const std::string &shape, const std::string &scheme,
                 const std::string &group, const std::string &before, const std::string &after, const std::string &note) {
    char line[512];
    snprintf(line, sizeof line, "%-48s %-14s %-10s %6s %12s %12s  %s\n", layer.c_str(), shape.c_str(), scheme.c_str(),
             group.c_str(), before.c_str(), after.c_str(), note.c_str());
    os << line;
  };
  row("layer", "shape", "scheme", "group", "bytes before", "bytes after", "note");
  for (mlir::Attribute a : report) {
    auto d = llvm::cast<mlir::DictionaryAttr>(a);
    std::string shape;
    for (mlir::Attribute s : field<mlir::ArrayAttr>(d, "shape"))
      shape += (shape.empty() ? "" : "x") + std::to_string(llvm::cast<mlir::IntegerAttr>(s).getInt());
    auto skipped = field<mlir::StringAttr>(d, "skipped");
    int64_t b = field<mlir::IntegerAttr>(d, "bytes_before").getInt(), f = field<mlir::IntegerAttr>(d, "bytes_after").getInt();
    before += b;
    after += f;
    std::string note = skipped ? "skipped: " + skipped.str()
                               : llvm::formatv("max |w - q(w)| = {0:e2}, |w - q(w)|/|w| = {1:e2}",
                                               field<mlir::FloatAttr>(d, "max_abs_error").getValueAsDouble(),
                                               field<mlir::FloatAttr>(d, "rel_rms_error").getValueAsDouble()).str();
    row(field<mlir::StringAttr>(d, "layer").str(), shape, field<mlir::StringAttr>(d, "scheme").str(),
        std::to_string(field<mlir::IntegerAttr>(d, "group_size").getInt()), std::to_string(b), std::to_string(f), note);
  }
  row("total", "", "", "", std::to_string(before), std::to_string(after),
      llvm::formatv("{0:f2}x smaller", after ? double(before) / double(after) : 0.0).str());
}

std::string quantReportJson(mlir::ModuleOp module) {
  llvm::json::Array rows;
  if (mlir::ArrayAttr report = reportOf(module))
    for (mlir::Attribute a : report) {
      auto d = llvm::cast<mlir::DictionaryAttr>(a);
      llvm::json::Array shape;
      for (mlir::Attribute s : field<mlir::ArrayAttr>(d, "shape")) shape.push_back(llvm::cast<mlir::IntegerAttr>(s).getInt());
      llvm::json::Object row{{"layer", field<mlir::StringAttr>(d, "layer").str()},
                             {"shape", std::move(shape)},
                             {"scheme", field<mlir::StringAttr>(d, "scheme").str()},
                             {"group_size", field<mlir::IntegerAttr>(d, "group_size").getInt()},
                             {"bytes_before", field<mlir::IntegerAttr>(d, "bytes_before").getInt()},
                             {"bytes_after", field<mlir::IntegerAttr>(d, "bytes_after").getInt()},
                             {"max_abs_error", field<mlir::FloatAttr>(d, "max_abs_error").getValueAsDouble()},
                             {"rel_rms_error", field<mlir::FloatAttr>(d, "rel_rms_error").getValueAsDouble()}};
      if (auto s = field<mlir::StringAttr>(d, "skipped")) row["skipped"] = s.str();
      rows.push_back(std::move(row));
    }
  std::string out;
  llvm::raw_string_ostream os(out);
  os << llvm::json::Value(std::move(rows));
  return out;
}

} // namespace slmc
