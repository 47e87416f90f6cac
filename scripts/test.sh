#!/usr/bin/env bash
# Sets up, builds and runs every test (unit, lit, e2e against ONNX Runtime, bad input).
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$repo_root/scripts/setup.sh"
"$repo_root/scripts/build.sh"
cd "${SLMC_BUILD_DIR:-$repo_root/build}"
ctest --output-on-failure -j "$(nproc)" "$@"
