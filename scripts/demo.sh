#!/usr/bin/env bash
# The main job on the built-in default model (tiny llama-style LM): set up, build, compile it in fp32
# and compressed (int8 and int4 weights), run a prefill and a decode step of each, and compare every
# artifact's outputs with the original ONNX model run by ONNX Runtime.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SLMC_BUILD_DIR:-$repo_root/build}"
"$repo_root/scripts/setup.sh"
"$repo_root/scripts/build.sh" slmc slm-run
slmc="$build/compiler/slmc"
model="$repo_root/benchmarks/models/tiny_llama.onnx"
work="$build/demo"
peers="${SLMC_PEERS_DIR:-$repo_root/build/peers}" # where setup.sh installs onnxruntime-node
mkdir -p "$work"
dims=(--dim seq=64 --dim past=64)

for scheme in fp32 w8 w4; do
  echo "== compile $(basename "$model") for x86_64 ($scheme)"
  quant=()
  [ "$scheme" != fp32 ] && quant=(--quantize="$scheme")
  "$slmc" compile "$model" --target=x86_64 -o "$work/tiny_llama.$scheme.slm" "${dims[@]}" "${quant[@]}" -v
done
echo "== artifacts"
for scheme in fp32 w8 w4; do "$slmc" inspect "$work/tiny_llama.$scheme.slm"; done

for scheme in fp32 w8 w4; do
  check=(--tol 1e-4)
  [ "$scheme" != fp32 ] && check=(--compile-arg=--quantize="$scheme" --min-cosine 0.98)
  for case in "8 0 prefill" "1 8 decode"; do
    set -- $case
    echo "== $scheme $3 (seq $1, past $2): slmc vs ONNX Runtime on the original model"
    /usr/bin/python3 "$repo_root/tests/e2e/run_model_case.py" --slmc "$slmc" --model "$model" \
      --case "tiny_llama.$scheme.$3" --ort-prefix "$peers" --work "$work/$scheme.$3" --seq "$1" --past "$2" \
      "${dims[@]}" "${check[@]}" | grep -E "PASS|FAIL|OK|FAILED"
  done
done
echo "demo: OK"
