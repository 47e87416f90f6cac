// The slm pass pipeline run between import and emit, with the CLI's pass options.
#pragma once

#include "pipeline/Pipeline.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

namespace slmc {

// "" when every name in --dump-after / --disable-pass is a pipeline pass, else a message.
std::string checkPassNames(const CompileOptions &options);
// Writes the pass list, one per line, disabled ones marked.
void printPipeline(const CompileOptions &options, llvm::raw_ostream &os);
// Runs the enabled passes over module's functions; -v prints ops before/after each pass to stderr,
// --dump-after prints the IR to stdout. Fails when a pass fails.
mlir::LogicalResult runPasses(mlir::ModuleOp module, const CompileOptions &options);

} // namespace slmc
