// The slm pass pipeline: the ordered pass list, --disable-pass, --dump-after and the -v per-pass summary.
#include "pipeline/PassPipeline.h"

#include "passes/common/Passes.h"
#include "passes/fusion/Passes.h"
#include "passes/quant/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <functional>

namespace slmc {
namespace {

struct PassEntry {
  const char *name;
  std::function<std::unique_ptr<mlir::Pass>()> create;
  bool kvStateOnly = false; // runs only with --kv-cache=state
};

// Cleanup first so single-use checks see no dead users; QDQ islands become integer ops before the
// float fusions can take their Conv/MatMul; fold again at the end to drop what fusion left; elementwise
// chains last, over what the other fusions did not absorb (MatMul epilogues, norms, rope) and what folding left.
const std::vector<PassEntry> &passList() {
  static const std::vector<PassEntry> kPasses = {
      {"slm-drop-identity", [] { return createDropIdentity(); }},
      {"slm-fold", [] { return createFold(); }},
      {"slm-fuse-qdq", [] { return createFuseQdq(); }},
      {"slm-fuse-norm", [] { return createFuseNorm(); }},
      {"slm-fuse-rope", [] { return createFuseRope(); }},
      {"slm-fuse-attention", [] { return createFuseAttention(); }},
      {"slm-fuse-matmul", [] { return createFuseMatMul(); }},
      {"slm-fuse-conv", [] { return createFuseConv(); }},
      {"slm-fold", [] { return createFold(); }},
      {"slm-fold-constants", [] { return createFoldConstants(); }},
      {"slm-fuse-elementwise", [] { return createFuseElementwise(); }},
      {"slm-kv-cache-state", [] { return createKvCacheState(); }, true},
  };
  return kPasses;
}

// Runtime ops in a function: everything but constants and the terminator.
int64_t countOps(mlir::Operation *root) {
  int64_t n = 0;
  root->walk([&](mlir::Operation *op) {
    if (op != root && op->getNumRegions() == 0 && !op->hasTrait<mlir::OpTrait::IsTerminator>() &&
        !op->hasTrait<mlir::OpTrait::ConstantLike>())
      ++n;
  });
  return n;
}

bool contains(const std::vector<std::string> &names, llvm::StringRef name) {
  return std::find(names.begin(), names.end(), name.str()) != names.end();
}

// Prints ops before/after each pass (-v) and the IR after the passes named in --dump-after.
struct Reporter : mlir::PassInstrumentation {
  const CompileOptions &options;
  int64_t before = 0;
  explicit Reporter(const CompileOptions &o) : options(o) {}
  void runBeforePass(mlir::Pass *pass, mlir::Operation *op) override {
    if (!pass->getArgument().empty()) before = countOps(op);
  }
  void runAfterPass(mlir::Pass *pass, mlir::Operation *op) override {
    llvm::StringRef arg = pass->getArgument();
    if (arg.empty()) return; // the pass manager's own adaptor
    if (options.verbose)
      llvm::errs() << "slmc: pass " << arg << ": " << before << " -> " << countOps(op) << " ops\n";
    if (contains(options.dumpAfter, arg)) {
      llvm::outs() << "// -----// IR after " << arg << " //----- //\n";
      op->print(llvm::outs(), mlir::OpPrintingFlags().elideLargeElementsAttrs(16).elideLargeResourceString(64));
      llvm::outs() << "\n";
    }
  }
};

} // namespace

std::vector<std::string> pipelinePassNames() {
  std::vector<std::string> names;
  for (const auto &p : passList())
    if (!contains(names, p.name)) names.push_back(p.name);
  return names;
}

std::string checkPassNames(const CompileOptions &options) {
  auto known = pipelinePassNames();
  for (const auto *list : {&options.dumpAfter, &options.disablePass})
    for (const auto &n : *list)
      if (!contains(known, n)) return "unknown pass '" + n + "' (see --print-pipeline)";
  return "";
}

void printPipeline(const CompileOptions &options, llvm::raw_ostream &os) {
  for (const auto &p : passList())
    os << p.name
       << (contains(options.disablePass, p.name)       ? "  (disabled)"
           : p.kvStateOnly && !options.kvState         ? "  (off: --kv-cache=io)"
                                                        : "")
       << "\n";
}

mlir::LogicalResult runPasses(mlir::ModuleOp module, const CompileOptions &options) {
  mlir::PassManager pm(module.getContext());
  for (const auto &p : passList())
    if (!contains(options.disablePass, p.name) && (!p.kvStateOnly || options.kvState))
      pm.addNestedPass<mlir::func::FuncOp>(p.create());
  pm.addInstrumentation(std::make_unique<Reporter>(options));
  return pm.run(module);
}

} // namespace slmc
