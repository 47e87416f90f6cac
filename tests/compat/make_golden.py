#!/usr/bin/python3
"""Writes the golden artifacts of this artifact format version into tests/compat/golden/v<N>/.

Each case folder holds model.slm (compiled from a committed tiny model), inputs/<input>.npy
(seeded) and expected/<output>.npy (what this version's runtime computes; the e2e tests check those
against ONNX Runtime). Later versions must keep loading and running them (compat_test.cc), or refuse
them by format version. Run it once per format version, never to refresh an existing folder: the
point of the files is that they were written by an older slmc.

Usage: make_golden.py --slmc build/compiler/slmc --slm-run build/runtime/slm-run --version 1
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(os.path.dirname(os.path.dirname(HERE)), "benchmarks", "models")


def llama_inputs(seq, past, seed):
    rng = np.random.default_rng(seed)
    ins = {"input_ids": rng.integers(0, 256, (1, seq)).astype(np.int64)}
    for i in range(2):
        for kind in ("key", "value"):
            ins[f"past_key_values.{i}.{kind}"] = rng.standard_normal((1, 2, past, 16)).astype(np.float32)
    return ins


CASES = {
    "cnn_fp32": ("tiny_cnn.onnx", [],
                 lambda: {"input": np.random.default_rng(1).standard_normal((1, 3, 32, 32)).astype(np.float32)}),
    "llama_fp32": ("tiny_llama.onnx", ["--dim", "seq=8", "--dim", "past=8"], lambda: llama_inputs(5, 3, 2)),
    "llama_w4": ("tiny_llama.onnx", ["--dim", "seq=8", "--dim", "past=8", "--quantize=w4"],
                 lambda: llama_inputs(4, 4, 3)),
}


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit(f"make_golden: {' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
    return p


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slmc", required=True)
    ap.add_argument("--slm-run", required=True)
    ap.add_argument("--version", type=int, required=True, help="artifact format version these files are")
    ap.add_argument("--out", default=os.path.join(HERE, "golden"))
    args = ap.parse_args()
    root = os.path.join(args.out, f"v{args.version}")
    if os.path.exists(root):
        sys.exit(f"make_golden: {root} exists; golden files are never rewritten")
    commit = subprocess.run(["git", "-C", HERE, "rev-parse", "HEAD"], stdout=subprocess.PIPE, text=True).stdout.strip()
    for name, (model, flags, make_inputs) in CASES.items():
        d = os.path.join(root, name)
        os.makedirs(os.path.join(d, "inputs"))
        cmd = [args.slmc, "compile", os.path.join(MODELS, model), "--target=x86_64", "-o", os.path.join(d, "model.slm"),
               *flags]
        run(cmd)
        for k, v in make_inputs().items():
            np.save(os.path.join(d, "inputs", k + ".npy"), v)
        run([args.slm_run, os.path.join(d, "model.slm"), "--input-dir", os.path.join(d, "inputs"), "--output-dir",
             os.path.join(d, "expected"), "--threads", "1"])
        with open(os.path.join(d, "case.json"), "w") as f:
            json.dump({"format_version": args.version, "model": model, "slmc_commit": commit,
                       "compile": ["slmc", "compile", model, "--target=x86_64", "-o", "model.slm", *flags]},
                      f, indent=1)
            f.write("\n")
        print(f"make_golden: {d}: {os.path.getsize(os.path.join(d, 'model.slm'))} bytes")
    shutil.copyfile(os.path.join(os.path.dirname(os.path.dirname(HERE)), "runtime", "schema", "slm.fbs"),
                    os.path.join(root, "slm.fbs"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
