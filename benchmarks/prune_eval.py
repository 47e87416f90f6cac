#!/usr/bin/env python3
"""Held-out perplexity of structurally pruned byte-LM artifacts: magnitude vs calibration importance.

  /usr/bin/python3 benchmarks/prune_eval.py [--onnx benchmarks/models/byte_lm.onnx] \\
      [--spec ffn:0.1 --spec ffn:0.25 --spec heads:0.25] [--bytes 8192] [--calib-sets 16]

For every --spec the model is compiled twice with `slmc compile --prune=SPEC`: importance from
the weights (magnitude) and from activations (`--calibration-data`, windows of the *training*
text build/data/brown_train.txt, never the held-out text), plus an unpruned fp32 baseline. Each
artifact's perplexity on the held-out text (build/data/brown_eval.txt, the same windows as
benchmarks/perplexity.py) is computed from `slmc run` logits. Pruned heads change the KV cache
inputs, so the empty past arrays are shaped from the artifact's pruning report.
"""
import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import perplexity as ppl_tool  # noqa: E402


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        sys.exit(f"prune_eval: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return p


def calibration_sets(train_path, out_dir, n, length):
    """n windows of `length` bytes spread evenly over the training text, one folder each."""
    with open(train_path, "rb") as f:
        data = f.read()
    step = max(1, (len(data) - length) // max(1, n))
    for i in range(n):
        d = os.path.join(out_dir, f"set{i:03d}")
        os.makedirs(d, exist_ok=True)
        ids = np.frombuffer(data[i * step:i * step + length], dtype=np.uint8).astype(np.int64)[None]
        np.save(os.path.join(d, "input_ids.npy"), ids)


def pruned_past(past, report):
    """past [(name, kv_heads, head_dim)] with the KV heads the report removed from layer i."""
    kv = {}
    for row in (report or {}).get("layers", []):
        m = re.search(r"layers\.(\d+)", row.get("layer", ""))
        g = re.search(r"(\d+) whole KV groups of (\d+)", row.get("detail", ""))
        if row.get("kind") == "heads" and m and g:
            kv[int(m.group(1))] = int(g.group(2)) - int(g.group(1))
    out = []
    for name, kvh, hd in past:
        layer = int(name.split(".")[1])
        out.append((name, kv.get(layer, kvh), hd))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--onnx", default=os.path.join(REPO, "benchmarks", "models", "byte_lm.onnx"))
    ap.add_argument("--slmc", default=os.path.join(REPO, "build", "compiler", "slmc"))
    ap.add_argument("--spec", action="append", default=[], help="--prune SPEC (default ffn:0.1, ffn:0.25, heads:0.25)")
    ap.add_argument("--text", default=ppl_tool.DEFAULT_TEXT)
    ap.add_argument("--train", default=os.path.join(REPO, "build", "data", "brown_train.txt"))
    ap.add_argument("--bytes", type=int, default=8192)
    ap.add_argument("--context", type=int, default=256)
    ap.add_argument("--calib-sets", type=int, default=16)
    ap.add_argument("--calib-len", type=int, default=256)
    ap.add_argument("--bias-correction", action="store_true", help="also compile calibration + --prune-bias-correction")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    specs = args.spec or ["ffn:0.1", "ffn:0.25", "heads:0.25"]
    for p in (args.onnx, args.slmc, args.text, args.train):
        if not os.path.exists(p):
            sys.exit(f"prune_eval: not found: {p} (benchmarks/models/brown_data.py writes the texts)")
    with open(args.text, "rb") as f:
        data = f.read()[:args.bytes]
    wins = ppl_tool.windows(len(data), args.context)
    past = ppl_tool.kv_signature(args.onnx)
    work = tempfile.mkdtemp(prefix="slmc_prune_eval.")
    calib = os.path.join(work, "calib")
    calibration_sets(args.train, calib, args.calib_sets, args.calib_len)
    dims = ["--dim", f"seq={args.context}", "--dim", f"past={args.context}"]

    variants = [("fp32", [])]
    for s in specs:
        variants.append((f"{s} magnitude", [f"--prune={s}"]))
        variants.append((f"{s} calibration", [f"--prune={s}", "--calibration-data", calib]))
        if args.bias_correction:
            variants.append((f"{s} calibration+bias", [f"--prune={s}", "--calibration-data", calib,
                                                      "--prune-bias-correction"]))
    results = {}
    print(f"held-out text {args.text}: {len(data)} bytes, {len(wins)} windows; calibration: {args.calib_sets} "
          f"windows of {args.calib_len} bytes of {args.train}", flush=True)
    for i, (name, extra) in enumerate(variants):
        art = os.path.join(work, f"v{i}.slm")
        run([args.slmc, "compile", args.onnx, "--target=x86_64", "-o", art] + dims + extra)
        report = json.loads(run([args.slmc, "inspect", art, "--json"]).stdout).get("prune")

        def runner(d_in, d_out, art=art):
            run([args.slmc, "run", art, "--input-dir", d_in, "--output-dir", d_out, "--threads", str(args.threads)])

        ppl, nll, secs = ppl_tool.evaluate(f"v{i}", runner, data, wins, pruned_past(past, report), work)
        outs = (report or {}).get("outputs", [])
        logit_err = next((o for o in outs if o.get("name") == "logits"), {})
        results[name] = {"ppl": ppl, "bits_per_byte": nll / math.log(2), "artifact_bytes": os.path.getsize(art),
                         "calib_logits_rel_error": logit_err.get("rel_error"),
                         "calib_top1_agreement": logit_err.get("top1_agreement")}
        print(f"  {name}: ppl {ppl:.4f}, {os.path.getsize(art)} bytes [{secs:.1f}s]", flush=True)
    base = results["fp32"]["ppl"]
    print("\n| model | held-out perplexity | vs fp32 | artifact bytes | logits rel. error on calibration |")
    print("|---|---|---|---|---|")
    for name, r in results.items():
        err = f"{r['calib_logits_rel_error']:.3e}" if r["calib_logits_rel_error"] is not None else "-"
        print(f"| {name} | {r['ppl']:.4f} | {100 * (r['ppl'] / base - 1):+.2f}% | {r['artifact_bytes']} | {err} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    shutil.rmtree(work)  # artifacts and calibration sets of this run only


if __name__ == "__main__":
    main()
