#!/usr/bin/env bash
# Sanitizer builds with clang-19 and their test runs: ASan+UBSan over the test suite, TSan over the threaded runtime tests.
#
# Usage: scripts/sanitize.sh [asan|asan-runtime|tsan] [--configure-only] [-- CTEST_ARGS...]
#   asan          build-asan: the whole project (compiler included) with ASan+UBSan, plus libFuzzer's
#                 coverage so scripts/fuzz.sh shares the tree; runs every CTest except the bench and
#                 cross labels and the fuzz.run.* tests (scripts/fuzz.sh runs those longer).
#   asan-runtime  build-asan-rt: the runtime only (SLMC_BUILD_COMPILER=OFF), ASan+UBSan; runs the
#                 unit tests (runtime kernels, tensor I/O, golden artifacts, concurrent sessions) and
#                 the fuzz regressions and short fuzz runs of the runtime targets. CI runs this and tsan.
#   tsan          build-tsan: the runtime only, ThreadSanitizer; runs the unit tests. OpenMP: libomp
#                 loads LLVM's Archer tool (libarcher), which tells TSan about OpenMP's barriers and
#                 tasks, so races between the executor's threads are reported and its sync is not.
# UBSan findings abort (-fno-sanitize-recover), so a finding fails its test.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode=asan configure_only=0 ctest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    asan|asan-runtime|tsan) mode="$1" ;;
    --configure-only) configure_only=1 ;;
    --) shift; ctest_args=("$@"); break ;;
    *) echo "usage: scripts/sanitize.sh [asan|asan-runtime|tsan] [--configure-only] [-- CTEST_ARGS...]" >&2; exit 2 ;;
  esac
  shift
done
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/slmc-ccache}"
ubsan="-fsanitize=undefined -fno-sanitize=vptr -fno-sanitize-recover=undefined"
common="-fno-omit-frame-pointer -gline-tables-only"
case "$mode" in
  asan)
    build="${SLMC_ASAN_BUILD_DIR:-$repo_root/build-asan}"
    flags="-fsanitize=address $ubsan -fsanitize=fuzzer-no-link $common"
    extra=(-DSLMC_FUZZ=ON) ;;
  asan-runtime)
    build="${SLMC_ASAN_RT_BUILD_DIR:-$repo_root/build-asan-rt}"
    flags="-fsanitize=address $ubsan -fsanitize=fuzzer-no-link $common"
    extra=(-DSLMC_FUZZ=ON -DSLMC_BUILD_COMPILER=OFF -DSLMC_BUILD_BENCHMARKS=OFF) ;;
  tsan)
    build="${SLMC_TSAN_BUILD_DIR:-$repo_root/build-tsan}"
    flags="-fsanitize=thread $common"
    extra=(-DSLMC_BUILD_COMPILER=OFF -DSLMC_BUILD_BENCHMARKS=OFF) ;;
esac
if [ ! -f "$build/build.ninja" ]; then
  # -O1: the sanitizers' recommended level; it also halves compile time against -O3.
  cmake -S "$repo_root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
    "-DCMAKE_C_FLAGS_RELEASE=-O1 -DNDEBUG" "-DCMAKE_CXX_FLAGS_RELEASE=-O1 -DNDEBUG" \
    "-DCMAKE_C_FLAGS=$flags" "-DCMAKE_CXX_FLAGS=$flags" "${extra[@]}"
fi
[ "$configure_only" = 1 ] && exit 0
# Build-time tools (flatc output, ODS generators) run instrumented too; their exit-time leaks are not ours.
ASAN_OPTIONS=detect_leaks=0 nice cmake --build "$build" -j "$(nproc)"
cd "$build"
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
case "$mode" in
  # sdk.install builds an out-of-tree program against the installed (instrumented) runtime without
  # the sanitizer flags, which cannot link; it is a packaging test, run by the normal build.
  asan) exec ctest --output-on-failure -j "$(nproc)" -LE "bench|cross" -E "^(fuzz\\.(run|seeds)|sdk\\.install)" "${ctest_args[@]}" ;;
  asan-runtime) exec ctest --output-on-failure -j "$(nproc)" -L "unit|fuzz" "${ctest_args[@]}" ;;
  tsan)
    export OMP_TOOL_LIBRARIES="${OMP_TOOL_LIBRARIES:-/usr/lib/llvm-19/lib/libarcher.so}"
    # ignore_noninstrumented_modules: libomp itself is not instrumented; Archer supplies its
    # synchronization, and its internal mutexes would otherwise be reported (Archer asks for this).
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:ignore_noninstrumented_modules=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
    exec ctest --output-on-failure -j "$(nproc)" -L unit "${ctest_args[@]}" ;;
esac
