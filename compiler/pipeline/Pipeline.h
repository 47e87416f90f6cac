// Builds and runs the compile pipeline (import → passes → emit) from CLI options.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace slmc {

struct CompileOptions {
  std::string input, output, target = "x86_64";
  std::map<std::string, int64_t> dimBounds;
  bool verbose = false;
  bool printPipeline = false;          // list the passes (in order, marking disabled ones) and stop
  std::vector<std::string> dumpAfter;  // pass names whose output IR is printed to stdout
  std::vector<std::string> disablePass; // pass names left out of the pipeline
  std::string quantize;                // "" (fp32), "w8"/"w4" (weight-only, dequantized in the kernel), "w8a8"/"w4a8" (int8 activations)
  int64_t groupSize = -1;              // -1: the scheme's default (w4: 32, w8: per channel)
  bool asymmetric = false;             // groups with zero points
  std::string keepFloat;               // regex of layer names left in float
  std::string actScales = "group";     // w8a8/w4a8 activation scales: "group" (per row and weight group) or "row"
  std::string cpu;                     // --cpu: LLVM CPU name or "native" ("": the target's default)
  std::string features;                // --features=+a,-b on top of the CPU's
  bool emitC = false;                  // --emit=c: also write the generated kernels as C (<output stem>.kernels.c); implies codegen
  bool codegen = false;                // --codegen: generated kernels (rms_norm, Softmax, LayerNormalization) in a code segment
  std::vector<std::string> plugins;    // --plugin PATH.so: target plugin libraries loaded before --target is resolved
  std::string prune;                   // "" or SPEC[,SPEC]: ffn:F, heads:F (structured, before quantization)
  std::string calibrationData;         // folder of .npy input sets: activation importance + pruning error
  bool pruneBiasCorrection = false;    // fold removed channels' mean contribution into the next bias
  std::string quantMethod = "rtn";     // rtn, or awq (activation-aware scaling first; needs --calibration-data)
  double maxAccuracyDrop = -1;         // --max-accuracy-drop: budget for the first output's relative L2 error (< 0: none)
  bool accuracyBackoff = true;         // keep the worst layers in float until the budget is met (--no-accuracy-backoff: fail)
  bool kvState = false;                // --kv-cache=state: attention KV caches become session state (slm-kv-cache-state)
  int threads = 1;                     // compiler threads (MLIR's pool); 0: all cores. Never changes the bytes
};

// Exit codes of the CLI contract.
enum ExitCode { kExitOk = 0, kExitRuntime = 1, kExitBadInput = 2 };

// Names of the passes of the compile pipeline, in order.
std::vector<std::string> pipelinePassNames();

// Compiles options.input into options.output; messages go to stderr. Returns an ExitCode.
int compileModel(const CompileOptions &options);

} // namespace slmc
