#!/usr/bin/env bash
# The main job on the built-in default model (tiny llama-style LM): set up, build, compile it in fp32
# and compressed (int8 and int4 weights), run a prefill and a decode step of each, and compare every
# artifact's outputs with the original ONNX model run by ONNX Runtime; then `slmc bench` the two
# compressed artifacts against the original (size, load, RSS, latency, LM speed, accuracy) and
# `slmc generate` a line of text with the LM trained on the Brown corpus (benchmarks/models/byte_lm).
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
echo "== slmc bench: the original against its w8 and w4 artifacts (same prompts; a table, JSON, Markdown and an SVG chart)"
"$slmc" bench "$model" "$work/tiny_llama.w8.slm" "$work/tiny_llama.w4.slm" --prompt-len 16 --decode 16 \
  --repeat 3 --json "$work/bench.json" --markdown "$work/bench.md" --plot "$work/bench.svg" \
  --cache-dir "$work/cache" --quiet
echo "(written: $work/bench.json, bench.md, bench.svg)"

byte_lm="$repo_root/benchmarks/models/byte_lm.onnx"
echo "== slmc generate: a line from the byte-level LM trained on the Brown corpus (w8, KV cache as session state, seeded sampling)"
"$slmc" compile "$byte_lm" --target=x86_64 -o "$work/byte_lm.w8.slm" --dim seq=64 --dim past=160 --quantize=w8 --kv-cache=state \
  > /dev/null 2> "$work/byte_lm.compile.log" || { cat "$work/byte_lm.compile.log" >&2; exit 1; }
"$slmc" generate "$work/byte_lm.w8.slm" --prompt "The man said that " --max-tokens 120 --temperature 0.5 \
  --top-k 10 --seed 1
echo "demo: OK"
