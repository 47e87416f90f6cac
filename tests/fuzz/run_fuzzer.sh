#!/usr/bin/env bash
# Runs one libFuzzer target for SECONDS (under CI=true: a fixed seed and run count) over its seed corpus;
# a crash leaves its input in WORK/crashes/NAME/.
# Usage: run_fuzzer.sh FUZZER_BINARY NAME SECONDS WORK   (WORK holds seeds/NAME from make_seeds.py)
set -euo pipefail
bin="$1" name="$2" seconds="$3" work="$4"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
corpus="$work/corpus/$name"
crashes="$work/crashes/$name"
mkdir -p "$corpus" "$crashes"
args=(-timeout=60 -rss_limit_mb=2560 -print_final_stats=1 -artifact_prefix="$crashes/")
# CI replays a fixed exploration (seed and run count) so a landing is judged on the same inputs on any
# machine at any load; new ground is covered by the timed runs of scripts/fuzz.sh.
if [ "${CI:-}" = true ]; then
  args+=(-seed="${SLMC_FUZZ_SEED:-1}" -runs="${SLMC_FUZZ_RUNS:-2000}")
else
  args+=(-max_total_time="$seconds")
fi
[ -f "$here/$name.dict" ] && args+=(-dict="$here/$name.dict")
# Large seeds (the LMs) are kept for their structure, but mutations stay small enough to be fast.
case "$name" in
  onnx_import|artifact_load) args+=(-max_len=131072) ;;
  *) args+=(-max_len=8192) ;;
esac
seeds=()
[ -d "$work/seeds/$name" ] && seeds=("$work/seeds/$name")
# allocator_may_return_null: a refused huge allocation must surface as the code's own error, which
# is what these targets check; libFuzzer's -rss_limit_mb/-malloc_limit_mb still flag real blowups.
export ASAN_OPTIONS="allocator_may_return_null=1:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
exec nice -n 19 "$bin" "${args[@]}" "$corpus" "${seeds[@]}"
