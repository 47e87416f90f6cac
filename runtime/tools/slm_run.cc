// slm_run.cc — entry point of slm-run, the runtime-only command that runs a .slm artifact on input files.
#include <cstdio>
#include <cstring>

#include "run_tool.h"
#include "slm_runtime.h"

// CMake may pass the project version; a bare compile still builds.
#ifndef SLMC_VERSION
#define SLMC_VERSION "0.0.0-dev"
#endif

int main(int argc, char** argv) {
  for (int i = 1; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
    if (std::strcmp(argv[i], "--version") == 0) {
      std::printf("slm-run %s (runtime API %d)\n", SLMC_VERSION, SLM_RUNTIME_API_VERSION);
      return 0;
    }
  }
  return slm_tools::run_main(argc, argv, "slm-run");
}
