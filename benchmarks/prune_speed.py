"""Weights and LM speed of `--prune` specs against the unpruned model, measured in the same run (issue 10).

  /usr/bin/python3 benchmarks/prune_speed.py --slmc build/compiler/slmc [--model llama60m]
      [--spec ffn:0.25 --spec heads:0.25 ...] [--quantize w8a8] [--prompt-len 64] [--decode 32]
      [--threads 2] [--repeat 3] [--rounds 3] [--json FILE]

For the model (an ONNX file run_all.py generates into build/models/), compiles the unpruned artifact
and one per --spec for x86_64 with --kv-cache=state (and --quantize when given, for all of them),
then runs `slmc bench` on all of them alternately, --rounds times, so a change in the machine's
state hits every artifact alike. Prints the weights bytes (`slmc inspect`), prefill ms and decode
ms/token (medians over rounds) and each artifact's ratio to the unpruned one: weights / unpruned
(smaller is better) and unpruned time / time (a speed-up, larger is better).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILES = {"llama60m": "bench_llama_60m.onnx", "llama220m": "bench_llama_220m.onnx", "gpt2": "bench_gpt2.onnx"}


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed: {r.stderr[-1500:]}")
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slmc", default=os.path.join(REPO, "build", "compiler", "slmc"))
    ap.add_argument("--model", default="llama60m", choices=sorted(FILES))
    ap.add_argument("--spec", action="append", default=[], help="--prune SPEC (default: ffn:0.25, heads:0.25)")
    ap.add_argument("--quantize", help="--quantize scheme for every artifact, the unpruned one too")
    ap.add_argument("--prompt-len", type=int, default=64)
    ap.add_argument("--decode", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json")
    ap.add_argument("--work", default=os.path.join(REPO, "build", "bench", "prune"))
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    onnx_path = os.path.join(REPO, "build", "models", FILES[args.model])
    if not os.path.isfile(onnx_path):
        sys.exit(f"prune_speed: {onnx_path} not found (benchmarks/run_all.py --model {args.model} makes it)")
    specs = [None] + (args.spec or ["ffn:0.25", "heads:0.25"])
    quant = [f"--quantize={args.quantize}"] if args.quantize else []
    arts, weights = {}, {}
    for spec in specs:
        name = spec or "unpruned"
        arts[name] = os.path.join(args.work, f"{args.model}.{re.sub(r'[^a-z0-9.]', '_', name)}"
                                             f"{'.' + args.quantize if args.quantize else ''}.slm")
        run([args.slmc, "compile", onnx_path, "-o", arts[name], "--dim", f"seq={args.prompt_len}",
             "--dim", f"past={args.prompt_len + args.decode}", "--kv-cache=state", *quant,
             *([f"--prune={spec}"] if spec else [])])
        weights[name] = int(re.search(r"weights (\d+) bytes", run([args.slmc, "inspect", arts[name]]).stdout).group(1))
    times = {n: {"prefill_ms": [], "decode_ms_per_token": []} for n in arts}
    for _ in range(args.rounds):
        for n, a in arts.items():
            out = os.path.join(args.work, f"{args.model}.bench.json")
            run([args.slmc, "bench", a, "--prompt-len", str(args.prompt_len), "--decode", str(args.decode),
                 "--threads", str(args.threads), "--repeat", str(args.repeat), "--json", out, "--quiet"])
            m = json.load(open(out))["models"][0]
            for k in times[n]:
                times[n][k].append(m[k])
    base = "unpruned"
    rows = []
    for n in arts:
        med = {k: statistics.median(x) for k, x in times[n].items()}
        rows.append({"model": args.model, "quantize": args.quantize or "fp32", "prune": n, "weights_bytes": weights[n],
                     "weights_ratio": weights[n] / weights[base], **med,
                     "prefill_rounds": times[n]["prefill_ms"], "decode_rounds": times[n]["decode_ms_per_token"],
                     "prefill_speedup": statistics.median(times[base]["prefill_ms"]) / med["prefill_ms"],
                     "decode_speedup": statistics.median(times[base]["decode_ms_per_token"]) / med["decode_ms_per_token"]})
    print(f"{args.model}, {args.quantize or 'fp32'}, {args.threads} threads, prompt {args.prompt_len}, "
          f"{args.decode} decode steps, medians of {args.rounds} alternating rounds")
    print(f"| --prune | weights (MB) | vs unpruned | prefill (ms) | decode (ms/tok) | prefill speed-up | decode speed-up |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['prune']} | {r['weights_bytes'] / 1e6:.2f} | {r['weights_ratio']:.3f} | {r['prefill_ms']:.1f} | "
              f"{r['decode_ms_per_token']:.2f} | {r['prefill_speedup']:.2f} | {r['decode_speedup']:.2f} |")
    if args.json:
        json.dump(rows, open(args.json, "w"), indent=1)


if __name__ == "__main__":
    main()
