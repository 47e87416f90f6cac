#!/usr/bin/env bash
# Configures (Ninja, ccache) and builds slmc into build/. Arguments name targets to build (default: all).
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SLMC_BUILD_DIR:-$repo_root/build}"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/slmc-ccache}"
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$repo_root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
if [ $# -gt 0 ]; then
  cmake --build "$build" -j "$(nproc)" --target "$@"
else
  cmake --build "$build" -j "$(nproc)"
fi
