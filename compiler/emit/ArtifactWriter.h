// Writes a verified slm module as a .slm artifact (FlatBuffer + 64-byte aligned weights segment).
#pragma once

#include "mlir/IR/BuiltinOps.h"

#include <map>
#include <string>
#include <vector>

namespace slmc {

struct TargetInfo;

struct EmitOptions {
  const TargetInfo *target = nullptr;
  std::map<std::string, int64_t> dimBounds;          // --dim NAME=MAX
  std::vector<std::pair<std::string, std::string>> metadata; // recorded in the artifact
  std::vector<std::string> excludedFeatures; // Target.excluded_features (--features=-x)
  bool generateKernels = false;              // --codegen: generated kernels in a code segment
  std::string emitCPath;                     // --emit=c: also write the generated kernels as C here
  std::string llvmFeatures;                  // LLVM feature string the code segment is compiled with
};

struct EmitStats {
  size_t ops = 0, tensors = 0;
  uint64_t weightsBytes = 0, arenaBytes = 0, fileBytes = 0, codeBytes = 0;
  std::vector<std::string> notes; // e.g. default dim bounds chosen
  bool outputFailed = false;      // the error is writing the output file (disk full, EFBIG), not the model
};

// Lowers @main to the artifact graph, infers bounds, plans memory and writes `outPath`
// atomically (temporary file in the same folder, then rename). On failure returns false,
// sets *error (naming the node/op/tensor) and leaves no file behind.
bool writeArtifact(mlir::ModuleOp module, const EmitOptions &options, const std::string &outPath,
                   EmitStats *stats, std::string *error);

} // namespace slmc
