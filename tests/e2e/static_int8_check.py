"""`slmc compile --quantize=int8 --calibration-data DIR` on the test CNN (static activations).

Every Conv with a Relu or ReLU6 runs as QLinearConv (a Conv feeding a Conv hands over uint8), the
weights shrink, and on inputs that were not in the calibration set the int8 artifact's outputs
keep cosine similarity >= 0.99 to the fp32 artifact's (numpy, from `slmc run`). Without
--calibration-data the scheme is refused with exit 2.

  static_int8_check.py --slmc SLMC --work DIR
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.join(os.path.dirname(os.path.dirname(HERE)), "benchmarks", "models", "tiny_cnn.onnx")


def run(cmd, check=True):
    print("+", " ".join(cmd), flush=True)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check and r.returncode != 0:
        sys.exit(f"FAIL: exit {r.returncode}: {r.stderr[-2000:]}")
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slmc", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    cal = os.path.join(args.work, "cal")
    for i in range(8):
        os.makedirs(os.path.join(cal, f"set{i}"), exist_ok=True)
        np.save(os.path.join(cal, f"set{i}", "input.npy"), rng.standard_normal((1, 3, 32, 32)).astype(np.float32))
    fp32, int8 = os.path.join(args.work, "fp32.slm"), os.path.join(args.work, "int8.slm")
    run([args.slmc, "compile", MODEL, "-o", fp32])
    run([args.slmc, "compile", MODEL, "-o", int8, "--quantize=int8", "--calibration-data", cal])
    info = json.loads(run([args.slmc, "inspect", int8, "--json"]).stdout)
    convs = [q for q in info["quant"] if q["scheme"] == "int8"]
    if info["op_counts"].get("QLinearConv", 0) != len(convs) or len(convs) < 3:
        sys.exit(f"FAIL: {info['op_counts']} for int8 layers {[q['layer'] for q in convs]}")
    base = json.loads(run([args.slmc, "inspect", fp32, "--json"]).stdout)
    print(f"weights {base['weights_bytes']} -> {info['weights_bytes']} bytes, ops {info['op_counts']}")
    if info["weights_bytes"] >= base["weights_bytes"] / 2:
        sys.exit("FAIL: the int8 weights are not smaller")
    worst = 1.0
    for i in range(4):  # inputs outside the calibration set
        d = os.path.join(args.work, f"test{i}")
        os.makedirs(d, exist_ok=True)
        np.save(os.path.join(d, "input.npy"), rng.standard_normal((1, 3, 32, 32)).astype(np.float32))
        outs = []
        for art in (fp32, int8):
            od = os.path.join(d, os.path.basename(art))
            run([args.slmc, "run", art, "--input-dir", d, "--output-dir", od])
            outs.append(np.concatenate([np.load(os.path.join(od, f)).ravel() for f in sorted(os.listdir(od))]))
        cos = float(np.dot(outs[0], outs[1]) / (np.linalg.norm(outs[0]) * np.linalg.norm(outs[1])))
        worst = min(worst, cos)
        print(f"test input {i}: cosine {cos:.6f}, max abs diff {np.max(np.abs(outs[0] - outs[1])):.4g}")
    if worst < 0.99:
        sys.exit(f"FAIL: cosine {worst} < 0.99")
    r = run([args.slmc, "compile", MODEL, "-o", os.path.join(args.work, "bad.slm"), "--quantize=int8"], check=False)
    if r.returncode != 2 or "--calibration-data" not in r.stderr:
        sys.exit(f"FAIL: int8 without calibration data: exit {r.returncode}: {r.stderr}")
    print(f"static_int8_check: OK (worst cosine {worst:.6f})")


if __name__ == "__main__":
    main()
