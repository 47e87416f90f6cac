// run_tool.h — the `run` command shared by slm-run and `slmc run`: feed files to an artifact, dump outputs as .npy.
//
// `slmc run` parses its own flags (Boost) and calls run_artifact(); slm-run,
// which must not depend on Boost, calls run_main() with its argv.
// Thread safety: both functions touch the filesystem and stderr; run one at a
// time per output directory. Neither throws.
#ifndef SLM_TOOLS_RUN_TOOL_H_
#define SLM_TOOLS_RUN_TOOL_H_

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "slm_runtime.h"

namespace slm_tools {

// Process exit codes of the run command.
enum RunExitCode : int {
  kRunExitOk = 0,
  kRunExitRuntime = 1,  // SLM_ERROR_RUNTIME, SLM_ERROR_OUT_OF_MEMORY
  kRunExitUsage = 2,    // bad usage, input, artifact or file (INVALID_ARGUMENT/ARTIFACT, UNSUPPORTED, IO)
};

struct RunOptions {
  std::string prog = "slm-run";  // prefixes every message: "<prog>: error: ..."
  std::string artifact;          // path of the .slm file
  // Explicit NAME=FILE inputs; mutually exclusive with input_dir.
  std::vector<std::pair<std::string, std::string>> inputs;
  // Directory holding <input name>.npy files or ONNX test data input_<i>.pb.
  std::string input_dir;
  std::string output_dir;  // created if missing; receives <output name>.npy
  int threads = 0;         // 0: runtime default (all cores)
  std::vector<std::string> plugins;  // plugin libraries whose kernel providers are registered first
};

// Maps a runtime status to the exit code above.
int run_exit_code(slm_status_t status);
// File name stem for a tensor name: '/' and ':' become '_' (names like
// "past_key_values.0/key" must not create subdirectories).
std::string tensor_file_stem(const std::string& name);

// Loads opt.artifact, runs it once and writes every output to opt.output_dir.
// Either all outputs are written or none is (temporaries are removed on
// failure). Errors go to stderr, name the file/tensor at fault and include
// slm_last_error(). Returns a RunExitCode.
int run_artifact(const RunOptions& opt);

// Parses `ART.slm (--input NAME=FILE)... | --input-dir DIR --output-dir DIR
// [--threads N]` (both "--flag value" and "--flag=value"), then calls
// run_artifact. --help prints usage to stdout and returns 0; usage errors
// return 2.
int run_main(int argc, char** argv, const char* prog);
void print_run_usage(std::FILE* out, const char* prog);

}  // namespace slm_tools

#endif  // SLM_TOOLS_RUN_TOOL_H_
