#!/usr/bin/env bash
# Sets up, builds and runs every test (unit, lit, e2e against ONNX Runtime, bad input), then the runtime under sanitizers.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$repo_root/scripts/setup.sh"
"$repo_root/scripts/build.sh"
cd "${SLMC_BUILD_DIR:-$repo_root/build}"
ctest --output-on-failure -j "$(nproc)" "$@"
# Sanitizers on the runtime (issue 11): ASan+UBSan over the unit tests, golden artifacts, concurrent
# sessions, fuzz regressions and 25 s fuzz runs; TSan over the same unit tests. The whole suite under
# ASan and the 30-minute fuzz runs are scripts/sanitize.sh asan and scripts/fuzz.sh. SLMC_SANITIZE=0 skips.
if [ "${SLMC_SANITIZE:-1}" != 0 ]; then
  "$repo_root/scripts/sanitize.sh" asan-runtime
  "$repo_root/scripts/sanitize.sh" tsan
fi
