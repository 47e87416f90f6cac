// Runs weight quantization for `slmc compile --quantize` and reports what happened per layer.
#pragma once

#include "pipeline/Pipeline.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace slmc {

// "" when options.quantize/groupSize name a supported scheme, else a message.
std::string checkQuantOptions(const CompileOptions &options);
// Runs slm-quantize-weights with the scheme from options (no-op without --quantize).
mlir::LogicalResult runQuantization(mlir::ModuleOp module, const CompileOptions &options);
// With --max-accuracy-drop: quantizes, measures the first output against the float model on the
// calibration sets (run through the runtime on this host), and while the relative L2 error exceeds
// the budget keeps the layers with the largest relative weight error in float (1, 2, 4, ... of
// them); those rows of the report say so. Without the budget: runQuantization. Returns an ExitCode
// (1 when the budget cannot be met, or is exceeded with --no-accuracy-backoff).
int quantizeWithinBudget(mlir::ModuleOp module, const CompileOptions &options);
// The per-layer table (layer, shape, scheme, group, bytes before/after, skipped reason).
void printQuantReport(mlir::ModuleOp module, llvm::raw_ostream &os);
// The same table as a JSON array, kept in the artifact's metadata under "quant".
std::string quantReportJson(mlir::ModuleOp module);

} // namespace slmc
