// `slmc compile --prune`: parses the spec, gathers calibration statistics through the runtime,
// runs the pruning passes, measures the output error, and renders the per-layer report.
#pragma once

#include "pipeline/Pipeline.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace slmc {

// "" when --prune, --calibration-data and --prune-bias-correction are consistent, else a message.
std::string checkPruneOptions(const CompileOptions &options);

// Prunes `module` (after fusion, before quantization) as options.prune says. With
// options.calibrationData the unpruned model is run on the host through the runtime first
// (activation statistics for importance and bias correction), and the pruned one after it (the
// per-layer and model-output errors). Messages go to stderr; returns an ExitCode (bad calibration
// data: kExitBadInput).
int runPruning(mlir::ModuleOp module, const CompileOptions &options);

// The per-layer table (layer, what was removed, importance, bytes before/after, output error).
void printPruneReport(mlir::ModuleOp module, llvm::raw_ostream &os);
// After quantization: with --prune=2:4 or magnitude:S, stores each int8-activation matmul whose codes
// are zero enough masked (slm-sparsify-a8) and prints what was stored how; other schemes keep the
// zeros dense (a note says so). Returns an exit code.
int storePrunedQuantized(mlir::ModuleOp module, const CompileOptions &options);
// The same as JSON ({"spec", "calibration_sets", "layers": [...], "outputs": [...]}), kept in the
// artifact's metadata under "prune".
std::string pruneReportJson(mlir::ModuleOp module);

} // namespace slmc
