"""Smoke tests of the benchmark harness on tiny_llama: `slmc bench` JSON fields, and the peers (ONNX Runtime, GGUF + llama.cpp). Never asserts a time.

  bench_smoke.py slmc  --slmc SLMC --model tiny_llama.onnx --work DIR
  bench_smoke.py peers --model tiny_llama.onnx --work DIR [--peers-prefix DIR]

`peers` exits 77 (CTest: skipped) when node-llama-cpp is not installed.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PEERS = os.path.join(REPO, "benchmarks", "peers")
FIELDS = ["size_bytes", "load_ms", "prefill_ms", "decode_ms_per_token", "tokens_per_s",
          "peak_rss_bytes", "threads", "prompt_len", "decode"]
SIZES = ["--prompt-len", "6", "--decode", "3", "--threads", "2", "--repeat", "2"]


def run(cmd):
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def check_json(path, engine):
    with open(path) as f:
        doc = json.load(f)
    entry = doc["models"][0]
    bad = [k for k in FIELDS if not (isinstance(entry.get(k), (int, float)) and entry[k] > 0)]
    if bad or not entry.get("name"):
        sys.exit(f"{engine}: fields missing or not positive in {path}: {bad} ({entry})")
    print(f"{engine}: ok: " + ", ".join(f"{k}={entry[k]:.4g}" for k in FIELDS))


def test_slmc(args):
    art = os.path.join(args.work, "tiny_llama.slm")
    out = os.path.join(args.work, "slmc.json")
    run([args.slmc, "compile", args.model, "--target=x86_64", "-o", art, "--dim", "seq=8", "--dim", "past=16"])
    run([args.slmc, "bench", art, *SIZES, "--json", out])
    check_json(out, "slmc")
    # Bounds too small for the request: a clear usage error, exit code 2.
    rc = subprocess.run([args.slmc, "bench", art, "--prompt-len", "9"]).returncode
    if rc != 2:
        sys.exit(f"slmc bench with --prompt-len beyond the seq bound returned {rc}, expected 2")


def test_peers(args):
    if not os.path.exists(os.path.join(args.peers_prefix, "node_modules", "node-llama-cpp")):
        print("node-llama-cpp not installed (scripts/install-peers.sh); skipping")
        sys.exit(77)
    ort_json = os.path.join(args.work, "ort.json")
    run(["node", os.path.join(PEERS, "ort_bench.js"), "--model", args.model, *SIZES, "--json", ort_json,
         "--ort-prefix", args.peers_prefix])
    check_json(ort_json, "onnxruntime")
    for t in ("f32", "q8_0", "q4_0"):
        gguf = os.path.join(args.work, f"tiny_llama.{t}.gguf")
        run([sys.executable, os.path.join(PEERS, "onnx_to_gguf.py"), args.model, gguf, "--type", t])
    f32 = os.path.join(args.work, "tiny_llama.f32.gguf")
    # The converter is right if llama.cpp's logits match ONNX Runtime's on the same ids.
    run(["node", os.path.join(PEERS, "llama_bench.mjs"), "--model", f32, "--check-onnx", args.model,
         "--peers-prefix", args.peers_prefix])
    ll_json = os.path.join(args.work, "llama.json")
    run(["node", os.path.join(PEERS, "llama_bench.mjs"), "--model",
         os.path.join(args.work, "tiny_llama.q4_0.gguf"), *SIZES, "--json", ll_json,
         "--peers-prefix", args.peers_prefix])
    check_json(ll_json, "llama.cpp")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["slmc", "peers"])
    ap.add_argument("--slmc")
    ap.add_argument("--model", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--peers-prefix", default=os.path.join(REPO, "build", "peers"))
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    test_slmc(args) if args.what == "slmc" else test_peers(args)


if __name__ == "__main__":
    main()
