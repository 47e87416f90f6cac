// The compile pipeline: import the ONNX model, run the slm passes, emit the artifact for the target.
#include "pipeline/Pipeline.h"

#include "emit/ArtifactWriter.h"
#include "import/OnnxImporter.h"
#include "pipeline/PassPipeline.h"
#include "pipeline/Prune.h"
#include "pipeline/Quantize.h"
#include "pipeline/TargetFeatures.h"
#include "pipeline/Targets.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "passes/common/Passes.h"
#include "passes/fusion/Passes.h"
#include "passes/prune/Passes.h"
#include "passes/quant/Passes.h"
#include "slmc/plugin.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/ThreadPool.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <mutex>

namespace slmc {
namespace {

std::string fileSha256(const std::string &path) {
  auto buf = llvm::MemoryBuffer::getFile(path, false, false);
  if (!buf) return "";
  auto digest = llvm::SHA256::hash(llvm::arrayRefFromStringRef((*buf)->getBuffer()));
  std::string hex;
  for (uint8_t b : digest) {
    static const char *d = "0123456789abcdef";
    hex += d[b >> 4];
    hex += d[b & 15];
  }
  return hex;
}

// The passes a plugin's `passes` pipeline may name: slm's families plus canonicalize and cse.
void registerPluginVisiblePasses() {
  static std::once_flag once;
  std::call_once(once, [] {
    registerSlmCommonPasses();
    registerSlmFusionPasses();
    registerSlmQuantPasses();
    registerSlmPrunePasses();
    mlir::registerCanonicalizerPass();
    mlir::registerCSEPass();
  });
}

} // namespace

int compileModel(const CompileOptions &options) {
  for (const auto &path : options.plugins) {
    std::string error;
    if (!loadPlugin(path, &error)) {
      llvm::errs() << "slmc: error: " << error << "\n";
      return kExitBadInput;
    }
  }
  const TargetInfo *target = findTarget(options.target);
  if (!target) {
    llvm::errs() << "slmc: error: unknown target '" << options.target << "' (see `slmc targets`)\n";
    return kExitBadInput;
  }
  FeatureLevel level;
  if (std::string bad; !resolveFeatureLevel(*target, options.cpu, options.features, &level, &bad)) {
    llvm::errs() << "slmc: error: " << bad << "\n";
    return kExitBadInput;
  }
  // The target at the chosen feature level: its CPU and required features go into the artifact.
  TargetInfo resolvedTarget = *target;
  resolvedTarget.cpu = level.cpu;
  resolvedTarget.features = level.required;
  if (std::string bad = checkPassNames(options); !bad.empty()) {
    llvm::errs() << "slmc: error: " << bad << "\n";
    return kExitBadInput;
  }
  if (std::string bad = checkQuantOptions(options); !bad.empty()) {
    llvm::errs() << "slmc: error: " << bad << "\n";
    return kExitBadInput;
  }
  if (std::string bad = checkPruneOptions(options); !bad.empty()) {
    llvm::errs() << "slmc: error: " << bad << "\n";
    return kExitBadInput;
  }
  if (options.printPipeline) {
    printPipeline(options, llvm::outs());
    if (options.prune.find("heads") != std::string::npos) llvm::outs() << "slm-prune-heads\n";
    if (options.prune.find("ffn") != std::string::npos) llvm::outs() << "slm-prune-ffn\n";
    if (!options.quantize.empty()) llvm::outs() << "slm-quantize-weights\n";
    return kExitOk;
  }
  // The pool outlives the context that borrows it. One thread by default: the machine is small.
  std::unique_ptr<llvm::DefaultThreadPool> pool;
  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  if (options.threads != 1) {
    pool = std::make_unique<llvm::DefaultThreadPool>(llvm::hardware_concurrency(unsigned(options.threads)));
    context.setThreadPool(*pool);
  }
  ImportResult imported = importOnnxFile(context, options.input);
  if (!imported.module) {
    llvm::errs() << "slmc: error: " << imported.error << "\n";
    return kExitBadInput;
  }
  if (mlir::failed(runPasses(*imported.module, options))) {
    llvm::errs() << "slmc: error: " << options.input << ": the pass pipeline failed\n";
    return kExitRuntime;
  }
  // Prune before quantizing: the quantizer then sees (and reports) the smaller matrices.
  if (int rc = runPruning(*imported.module, options); rc != kExitOk) return rc;
  if (!options.prune.empty()) printPruneReport(*imported.module, llvm::errs());
  if (const char *extra = target->plugin ? target->plugin->passes : nullptr; extra && *extra) {
    // The plugin's own pipeline (passes registered in slmc), after slmc's.
    registerPluginVisiblePasses();
    mlir::PassManager pm(&context);
    std::string msg;
    llvm::raw_string_ostream os(msg);
    if (mlir::failed(mlir::parsePassPipeline(extra, pm, os))) {
      llvm::errs() << "slmc: error: " << target->pluginPath << ": plugin passes '" << extra << "' do not parse: " << msg
                   << "\n";
      return kExitBadInput;
    }
    if (mlir::failed(pm.run(*imported.module))) {
      llvm::errs() << "slmc: error: " << options.input << ": plugin passes '" << extra << "' failed\n";
      return kExitRuntime;
    }
  }
  if (int rc = quantizeWithinBudget(*imported.module, options); rc != kExitOk) return rc;
  if (!options.quantize.empty()) printQuantReport(*imported.module, llvm::errs());
  if (int rc = storePrunedQuantized(*imported.module, options); rc != kExitOk) return rc;
  EmitOptions emit;
  emit.target = &resolvedTarget;
  emit.excludedFeatures = level.excluded;
  emit.generateKernels = options.codegen || options.emitC;
  if (options.emitC) {
    llvm::StringRef out(options.output);
    emit.emitCPath = (out.ends_with(".slm") ? out.drop_back(4) : out).str() + ".kernels.c";
  }
  emit.llvmFeatures = level.llvmFeatures;
  emit.dimBounds = options.dimBounds;
  emit.metadata.push_back({"source_sha256", fileSha256(options.input)});
  std::string bounds;
  for (auto &[k, v] : options.dimBounds) bounds += (bounds.empty() ? "" : ",") + k + "=" + std::to_string(v);
  emit.metadata.push_back({"dim_bounds", bounds});
  emit.metadata.push_back({"onnx_opset", std::to_string(imported.opset)});
  if (!options.quantize.empty()) {
    emit.metadata.push_back({"quantize", options.quantize});
    emit.metadata.push_back({"quant", quantReportJson(*imported.module)});
  }
  if (!options.prune.empty()) {
    emit.metadata.push_back({"prune_spec", options.prune});
    emit.metadata.push_back({"prune", pruneReportJson(*imported.module)});
  }
  EmitStats stats;
  std::string error;
  if (!writeArtifact(*imported.module, emit, options.output, &stats, &error)) {
    if (stats.outputFailed) { // the model was fine; the environment refused the file
      llvm::errs() << "slmc: error: " << error << "\n";
      return kExitRuntime;
    }
    llvm::errs() << "slmc: error: " << options.input << ": " << error << "\n";
    return kExitBadInput;
  }
  for (const auto &n : stats.notes) llvm::errs() << "slmc: note: " << n << "\n";
  if (options.verbose)
    llvm::errs() << "slmc: " << options.output << ": " << imported.nodeCount << " ONNX nodes -> " << stats.ops
                 << " ops, weights " << stats.weightsBytes << " B, arena " << stats.arenaBytes << " B, file "
                 << stats.fileBytes << " B\n";
  return kExitOk;
}

} // namespace slmc
