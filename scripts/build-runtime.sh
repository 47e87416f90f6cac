#!/usr/bin/env bash
# Cross-builds the runtime-only slm-run and the unit tests for one ISA (runs them under qemu-user).
#
#   scripts/build-runtime.sh arm64|riscv64 [BUILD_DIR]     default BUILD_DIR: build-<isa>/ in the repo
#   SLMC_JOBS=N ...                                        parallel jobs (default: nproc)
#
# Toolchains: cmake/toolchains/{aarch64,riscv64}-linux-gnu.cmake (Debian's gcc cross compilers;
# clang-19 for the RVV files). Exit 77 when the cross compiler is missing, so CTest can skip.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

isa="${1:-}"
case "$isa" in
  arm64) triple=aarch64-linux-gnu ;;
  riscv64) triple=riscv64-linux-gnu ;;
  *) echo "usage: $0 arm64|riscv64 [BUILD_DIR]" >&2; exit 2 ;;
esac
build="${2:-$repo_root/build-$isa}"

need=("$triple-g++")
[ "$isa" = riscv64 ] && need+=(clang-19)
for tool in "${need[@]}"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "build-runtime: $tool not found (scripts/setup.sh installs it); skipping the $isa build" >&2
    exit 77
  fi
done

export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/slmc-ccache}"
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$repo_root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE="$repo_root/cmake/toolchains/$triple.cmake" \
    -DSLMC_BUILD_COMPILER=OFF -DSLMC_BUILD_TESTS=ON -DSLMC_BUILD_BENCHMARKS=OFF
fi
cmake --build "$build" -j "${SLMC_JOBS:-$(nproc)}" --target slm-run slm_unit_tests slmc-plugin-test
