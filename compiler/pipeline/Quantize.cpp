// `--quantize`: validates the scheme, runs slm-quantize-weights, and renders its per-layer report.
#include "pipeline/Quantize.h"

#include "passes/quant/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FormatVariadic.h"

#include <cstdio>
#include "llvm/Support/JSON.h"

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
    if (o.groupSize >= 0 || o.asymmetric || !o.keepFloat.empty())
      return "--group-size, --asymmetric and --keep-float need --quantize";
    return "";
  }
  static const char *kAvailable = "(available: w8, w4, w8a8, w4a8, fp16, bf16)";
  if (o.quantize == "int8") return "--quantize=int8 is not implemented yet " + std::string(kAvailable);
  if (o.quantize != "w8" && o.quantize != "w4" && o.quantize != "w8a8" && o.quantize != "w4a8" && o.quantize != "fp16" &&
      o.quantize != "bf16")
    return "unknown --quantize scheme '" + o.quantize + "' " + kAvailable;
  if ((o.quantize == "fp16" || o.quantize == "bf16") && (o.groupSize >= 0 || o.asymmetric))
    return "--group-size and --asymmetric do not apply to --quantize=" + o.quantize;
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
  if (o.quantize == "fp16" || o.quantize == "bf16") qo.storage = o.quantize == "fp16" ? "f16" : "bf16";
  qo.groupSize = effectiveGroup(o);
  qo.symmetric = !o.asymmetric;
  qo.keepFloat = o.keepFloat;
  mlir::PassManager pm(module.getContext());
  pm.addPass(createQuantizeWeights(qo));
  return pm.run(module);
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
                               : llvm::formatv("max |w - q(w)| = {0:e2}",
                                               field<mlir::FloatAttr>(d, "max_abs_error").getValueAsDouble()).str();
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
                             {"max_abs_error", field<mlir::FloatAttr>(d, "max_abs_error").getValueAsDouble()}};
      if (auto s = field<mlir::StringAttr>(d, "skipped")) row["skipped"] = s.str();
      rows.push_back(std::move(row));
    }
  std::string out;
  llvm::raw_string_ostream os(out);
  os << llvm::json::Value(std::move(rows));
  return out;
}

} // namespace slmc
