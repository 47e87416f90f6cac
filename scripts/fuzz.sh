#!/usr/bin/env bash
# Long fuzz runs: builds the libFuzzer targets (clang-19, ASan+UBSan) and runs each for SECONDS (default 1800).
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]     TARGET: npy tensor_proto artifact_load onnx_import (default all)
# Build dir: $SLMC_FUZZ_BUILD_DIR (default build-asan, shared with scripts/sanitize.sh). Corpora grow in
# <build>/tests/fuzz/corpus/<target>; a crash leaves its input in <build>/tests/fuzz/crashes/<target>/ and
# the script exits 1. Each run's last libFuzzer stats line (exec/s, corpus size) is printed at the end.
# A crash input, once fixed, goes to tests/fuzz/regressions/<target>/ (replayed by CTest in every build).
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-1800}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(npy tensor_proto artifact_load onnx_import)
build="${SLMC_FUZZ_BUILD_DIR:-$repo_root/build-asan}"
"$repo_root/scripts/sanitize.sh" asan --configure-only
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/slmc-ccache}"
ASAN_OPTIONS=detect_leaks=0 nice cmake --build "$build" -j "$(nproc)" --target slmc $(printf 'fuzz_%s ' "${targets[@]}")
work="$build/tests/fuzz"
ASAN_OPTIONS=detect_leaks=0 /usr/bin/python3 "$repo_root/tests/fuzz/make_seeds.py" --slmc "$build/compiler/slmc" \
  --models "$repo_root/benchmarks/models" --out "$work/seeds"
status=0
summary=()
for t in "${targets[@]}"; do
  log="$work/fuzz_$t.log"
  echo "== fuzz_$t for ${seconds}s (log: $log)"
  if "$repo_root/tests/fuzz/run_fuzzer.sh" "$work/fuzz_$t" "$t" "$seconds" "$work" >"$log" 2>&1; then
    result=ok
  else
    result="FAILED (see $log and $work/crashes/$t/)"
    status=1
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  corpus=$(find "$work/corpus/$t" -type f | wc -l)
  cov=$(grep -E '^#[0-9]+' "$log" | tail -1 | grep -o 'cov: [0-9]*' || echo 'cov: ?')
  summary+=("fuzz_$t: $result, ${seconds}s, $execs execs, $rate exec/s, corpus $corpus files, $cov")
done
printf '%s\n' "${summary[@]}"
exit $status
