"""Op counts and LM speed with and without the fusion passes (issue 4's note), on the benchmark LMs.

  /usr/bin/python3 benchmarks/fusion_effect.py --slmc build/compiler/slmc [--model llama60m] [--model gpt2]
      [--prompt-len 64] [--decode 32] [--threads 2] [--repeat 3] [--json FILE]

For each model (the ONNX files run_all.py generates into build/models/), compiles it twice for
x86_64 with --kv-cache=state: with the default pipeline and with every fusion pass disabled, then
runs `slmc bench` on both alternately (--rounds times) and prints ONNX nodes, runtime ops
(`slmc inspect --json` op_counts), prefill ms and decode ms/token (medians over rounds).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

import onnx

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILES = {"llama60m": "bench_llama_60m.onnx", "llama220m": "bench_llama_220m.onnx", "gpt2": "bench_gpt2.onnx",
         "tiny_llama": os.path.join(REPO, "benchmarks", "models", "tiny_llama.onnx")}
FUSION = ["slm-fuse-norm", "slm-fuse-rope", "slm-fuse-attention", "slm-fuse-matmul", "slm-fuse-conv",
          "slm-fuse-elementwise"]


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed: {r.stderr[-1500:]}")
    return r.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slmc", required=True)
    ap.add_argument("--model", action="append", default=[])
    ap.add_argument("--prompt-len", type=int, default=64)
    ap.add_argument("--decode", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json")
    ap.add_argument("--work", default=os.path.join(REPO, "build", "bench", "fusion"))
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    rows = []
    for name in args.model or ["llama60m", "gpt2"]:
        onnx_path = FILES[name] if os.path.isabs(FILES[name]) else os.path.join(REPO, "build", "models", FILES[name])
        nodes = len(onnx.load(onnx_path, load_external_data=False).graph.node)
        arts = {}
        for variant, extra in (("fused", []), ("unfused", [f"--disable-pass={p}" for p in FUSION])):
            arts[variant] = os.path.join(args.work, f"{name}.{variant}.slm")
            run([args.slmc, "compile", onnx_path, "-o", arts[variant], "--dim", f"seq={args.prompt_len}",
                 "--dim", f"past={args.prompt_len + args.decode}", "--kv-cache=state", *extra])
        ops = {v: sum(json.loads(run([args.slmc, "inspect", a, "--json"]))["op_counts"].values()) for v, a in arts.items()}
        times = {v: {"prefill_ms": [], "decode_ms_per_token": []} for v in arts}
        for _ in range(args.rounds):
            for v, a in arts.items():
                out = os.path.join(args.work, f"{name}.{v}.json")
                run([args.slmc, "bench", a, "--prompt-len", str(args.prompt_len), "--decode", str(args.decode),
                     "--threads", str(args.threads), "--repeat", str(args.repeat), "--json", out, "--quiet"])
                m = json.load(open(out))["models"][0]
                for k in times[v]:
                    times[v][k].append(m[k])
        for v in arts:
            rows.append({"model": name, "variant": v, "onnx_nodes": nodes, "ops": ops[v],
                         "ops_per_node": ops[v] / nodes,
                         **{k: statistics.median(x) for k, x in times[v].items()}})
    print(f"{'model':<10} {'variant':<8} {'nodes':>6} {'ops':>5} {'ops/nodes':>9} {'prefill ms':>11} {'decode ms/tok':>14}")
    for r in rows:
        print(f"{r['model']:<10} {r['variant']:<8} {r['onnx_nodes']:>6} {r['ops']:>5} {r['ops_per_node']:>9.3f} "
              f"{r['prefill_ms']:>11.2f} {r['decode_ms_per_token']:>14.3f}")
    if args.json:
        json.dump(rows, open(args.json, "w"), indent=1)


if __name__ == "__main__":
    main()
