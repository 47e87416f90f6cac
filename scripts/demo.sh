#!/usr/bin/env bash
# The main job on the built-in default model (tiny llama-style LM): set up, build, compile it,
# run a prefill and a decode step with slm-run, and compare against the original ONNX model run
# by ONNX Runtime.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SLMC_BUILD_DIR:-$repo_root/build}"
"$repo_root/scripts/setup.sh"
"$repo_root/scripts/build.sh" slmc slm-run
model="$repo_root/benchmarks/models/tiny_llama.onnx"
work="$build/demo"
mkdir -p "$work"
echo "== compile $model for x86_64"
"$build/compiler/slmc" compile "$model" --target=x86_64 -o "$work/tiny_llama.slm" --dim seq=64 --dim past=64 -v
"$build/compiler/slmc" inspect "$work/tiny_llama.slm"
for case in "8 0 prefill" "1 8 decode"; do
  set -- $case
  echo "== $3 (seq $1, past $2): slmc vs ONNX Runtime on the original model"
  /usr/bin/python3 "$repo_root/tests/e2e/run_model_case.py" --slmc "$build/compiler/slmc" --model "$model" \
    --case "tiny_llama.$3" --ort-prefix "$build/peers" --work "$work/$3" --seq "$1" --past "$2" \
    --dim seq=64 --dim past=64
done
echo "demo: OK (compression schemes arrive with the quantization work; this run is fp32)"
