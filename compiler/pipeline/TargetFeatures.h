// Feature levels: resolves `--cpu` and `--features=+a,-b` for a target into the CPU features an artifact requires.
#pragma once

#include "pipeline/Targets.h"

#include <string>
#include <vector>

namespace slmc {

// What an artifact is compiled for and what it needs of the CPU it runs on.
struct FeatureLevel {
  std::string cpu;                     // LLVM CPU name ("x86-64", "cortex-a76", "generic-rv64")
  std::vector<std::string> required;   // known features the code may use; the runtime refuses CPUs lacking one
  std::vector<std::string> excluded;   // features turned off with --features=-x (and those implying them):
                                       // the runtime never selects kernels that use them
  std::string llvmFeatures;            // "+a,-b" feature string for LLVM's TargetMachine
};

// The features the runtime can check for `target` (LLVM spelling), or an empty list for targets
// without a feature table (plugin targets: their description's features are used as they are).
const std::vector<std::string> &knownFeatures(const std::string &target);

// Resolves --cpu (empty: the target's default; "native": this machine, only for its own target) and
// --features for `target` with LLVM's CPU tables (MCSubtargetInfo), so a CPU name brings its features
// and "+avx512vnni" brings "avx512f". Returns false with *error naming the unknown CPU or feature and
// listing the valid ones.
bool resolveFeatureLevel(const TargetInfo &target, const std::string &cpu, const std::string &features,
                         FeatureLevel *out, std::string *error);

// The CPU names LLVM knows for the target's triple (for messages and `slmc targets --cpus`).
std::vector<std::string> knownCpus(const TargetInfo &target);

} // namespace slmc
