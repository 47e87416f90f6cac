// The artifact's code segment: generated kernels for the graph's ops that have one (see codegen/KernelGen.h).
#pragma once

#include "codegen/KernelGen.h"
#include "emit/ArtifactGraph.h"

#include <string>
#include <vector>

namespace slmc {

// Gives every float32 slm.rms_norm and last-axis Softmax / LayerNormalization op not claimed by a
// plugin a generated kernel (provider "gen", codeSymbol set; ops with equal attributes share one),
// compiles them for `target` into g.code, and notes which ops it took. No such op: g.code stays empty.
// With `cSource`, the same kernels are also written there as C (--emit=c). Returns false with *error.
bool generateCodeSegment(ArtifactGraph &g, const CodegenTarget &target, std::vector<std::string> &notes,
                         std::string *error, std::string *cSource = nullptr);

} // namespace slmc
