#!/usr/bin/python3
"""Fusion acceptance check: a model compiles to at most --max-ratio as many runtime ops as it has ONNX nodes.

Usage:
  tests/e2e/op_count_ratio.py --slmc build/compiler/slmc --model benchmarks/models/tiny_llama.onnx \
      --work DIR [--max-ratio 0.15] [--require attention --require rms_norm,LayerNormalization ...]
      [--expect elementwise=6 ...] [--compile-arg=--codegen ...]

Compiles MODEL, reads `slmc inspect --json` op_counts, and checks the ratio of runtime ops to ONNX
nodes (every node, Constant nodes included) and that each --require group (comma-separated
alternatives) has at least one op present and each --expect KIND=N has exactly N ops. Prints the counts. Exit 0: pass, 1: fail, 2: bad usage.
"""
import argparse
import json
import os
import subprocess
import sys

import onnx


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--slmc", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--max-ratio", type=float, default=0.15)
    ap.add_argument("--require", action="append", default=[])
    ap.add_argument("--expect", action="append", default=[], metavar="KIND=N")
    ap.add_argument("--compile-arg", action="append", default=[], metavar="ARG")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    art = os.path.join(args.work, "model.slm")
    subprocess.run([args.slmc, "compile", args.model, "-o", art] + args.compile_arg, check=True)
    info = json.loads(subprocess.run([args.slmc, "inspect", art, "--json"], check=True,
                                     capture_output=True, text=True).stdout)
    counts = info["op_counts"]
    ops = sum(counts.values())
    nodes = len(onnx.load(args.model, load_external_data=False).graph.node)
    ratio = ops / nodes
    print(f"{os.path.basename(args.model)}: {nodes} ONNX nodes -> {ops} ops ({ratio:.1%}, limit "
          f"{args.max_ratio:.0%}): {json.dumps(counts, sort_keys=True)}")
    ok = ratio <= args.max_ratio
    for group in args.require:
        if not any(counts.get(k, 0) for k in group.split(",")):
            print(f"missing: none of {group} in the compiled ops")
            ok = False
    for e in args.expect:
        kind, n = e.rsplit("=", 1)
        if counts.get(kind, 0) != int(n):
            print(f"expected {n} {kind} ops, got {counts.get(kind, 0)}")
            ok = False
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
