#!/usr/bin/env python3
"""End-to-end cases of `slmc compile --prune` on tiny_llama (4 heads in 2 KV groups, FFN 128).

1. ffn:0.5 + heads:0.5 with calibration data: compiles, the report is printed and stored under
   `prune` in `inspect --json` (every FFN and attention block pruned, bytes after < before, the
   KV cache inputs lose a head), the artifact's weights shrink, and the pruned artifact gives the
   same outputs on the reference kernels (SLM_X86_LEVEL=ref) as on the default ones (1e-4).
2. Magnitude importance (no calibration) combined with --quantize=w8: prunes first, then the
   quantization table lists the smaller matrices; also matches its reference execution.
3. The pruned model compiles for arm64 and riscv64.
4. Bad usage exits 2 with a message: fraction out of range, 2:4 / magnitude (refused, no sparse
   kernel), --calibration-data without --prune, a missing calibration folder.
"""
import argparse
import json
import os
import re
import subprocess
import sys

import numpy as np

DIMS = ["--dim", "seq=16", "--dim", "past=16"]


def run(cmd, env=None, expect=0):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != expect:
        sys.exit(f"prune_cases: {' '.join(cmd)} exited {p.returncode}, expected {expect}:\n{p.stdout}\n{p.stderr}")
    return p


def check(cond, msg):
    if not cond:
        sys.exit("prune_cases: FAIL: " + msg)


def inspect(slmc, art):
    return json.loads(run([slmc, "inspect", art, "--json"]).stdout)


def weights_bytes(slmc, art):
    out = run([slmc, "inspect", art]).stdout
    return int(re.search(r"weights (\d+) bytes", out).group(1))


def write_inputs(folder, ids, kv_heads):
    os.makedirs(folder, exist_ok=True)
    np.save(os.path.join(folder, "input_ids.npy"), ids)
    rng = np.random.default_rng(5)
    for i in range(2):
        for kind in ("key", "value"):
            past = rng.standard_normal((1, kv_heads, 3, 16)).astype(np.float32)
            np.save(os.path.join(folder, f"past_key_values.{i}.{kind}.npy"), past)


def matches_reference(slmc, art, inputs, work, tag):
    outs = {}
    for level in ("ref", None):
        env = dict(os.environ)
        if level:
            env["SLM_X86_LEVEL"] = level
        d = os.path.join(work, f"{tag}.out.{level or 'default'}")
        run([slmc, "run", art, "--input-dir", inputs, "--output-dir", d], env=env)
        outs[level] = {f: np.load(os.path.join(d, f)) for f in sorted(os.listdir(d))}
    check(outs["ref"].keys() == outs[None].keys() and outs["ref"], f"{tag}: output sets differ")
    for name, ref in outs["ref"].items():
        got = outs[None][name]
        check(got.shape == ref.shape, f"{tag}: {name} shape {got.shape} vs reference {ref.shape}")
        err = float(np.max(np.abs(got - ref))) if ref.size else 0.0
        check(err <= 1e-4 * max(1.0, float(np.max(np.abs(ref))) if ref.size else 1.0),
              f"{tag}: {name} differs from the reference kernels by {err}")
    return outs[None]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--slmc", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    model = os.path.join(a.models, "tiny_llama.onnx")
    rng = np.random.default_rng(0)

    # Calibration: four sets of 12 token ids; the KV cache inputs are left out (fed empty).
    calib = os.path.join(a.work, "calib")
    for s in range(4):
        os.makedirs(os.path.join(calib, f"set{s}"), exist_ok=True)
        np.save(os.path.join(calib, f"set{s}", "input_ids.npy"), rng.integers(0, 256, (1, 12), dtype=np.int64))

    base = os.path.join(a.work, "base.slm")
    run([a.slmc, "compile", model, "-o", base] + DIMS)

    # 1. structured, calibration importance
    art = os.path.join(a.work, "pruned.slm")
    p = run([a.slmc, "compile", model, "-o", art, "--prune=ffn:0.5,heads:0.5", "--calibration-data", calib] + DIMS)
    check("output rel. error" in p.stderr and "top-1 agreement" in p.stderr, "compile did not print the report:\n" + p.stderr)
    rep = inspect(a.slmc, art)["prune"]
    layers = [r for r in rep["layers"] if "skipped" not in r]
    kinds = sorted(r["kind"] for r in layers)
    check(kinds == ["ffn", "ffn", "heads", "heads"], f"expected 2 ffn + 2 heads rows, got {rep['layers']}")
    for r in layers:
        # FFN channels by activation statistics; heads by the loss their removal causes (ablation)
        want = "calibration" if r["kind"] == "ffn" else "calib-loss"
        check(r["importance"] == want, f"{r['layer']}: importance {r['importance']}, expected {want}")
        check(r["bytes_after"] < r["bytes_before"], f"{r['layer']}: bytes did not shrink")
        check(r["removed"] * 2 == r["total"], f"{r['layer']}: removed {r['removed']} of {r['total']}")
        check(0 < r["output_rel_error"] < 10, f"{r['layer']}: output error {r.get('output_rel_error')}")
    check(rep["calibration_sets"] == 4, "calibration set count")
    logits = [o for o in rep["outputs"] if o["name"] == "logits"]
    check(logits and 0 <= logits[0]["top1_agreement"] <= 1, f"logits error missing: {rep['outputs']}")
    wb, wp = weights_bytes(a.slmc, base), weights_bytes(a.slmc, art)
    check(wp < 0.85 * wb, f"weights {wp} not below 0.85x the unpruned {wb}")
    # heads:0.5 of 4 heads in 2 groups removes one whole KV group: the cache inputs have 1 head.
    inputs = os.path.join(a.work, "inputs.pruned")
    write_inputs(inputs, rng.integers(0, 256, (1, 5), dtype=np.int64), kv_heads=1)
    out = matches_reference(a.slmc, art, inputs, a.work, "pruned")
    check(out["present.0.key.npy"].shape == (1, 1, 8, 16), f"present shape {out['present.0.key.npy'].shape}")
    bad = os.path.join(a.work, "inputs.unpruned_kv")
    write_inputs(bad, rng.integers(0, 256, (1, 5), dtype=np.int64), kv_heads=2)
    p = run([a.slmc, "run", art, "--input-dir", bad, "--output-dir", os.path.join(a.work, "bad.out")], expect=2)
    check("past_key_values" in p.stderr, "a 2-head cache for the pruned model is not named in the error")

    # 2. magnitude importance, then w8 quantization of the pruned matrices
    artq = os.path.join(a.work, "pruned_w8.slm")
    p = run([a.slmc, "compile", model, "-o", artq, "--prune=ffn:0.25", "--quantize=w8"] + DIMS)
    check("n/a (no --calibration-data)" in p.stderr, "magnitude run should say the error is not measured")
    info = inspect(a.slmc, artq)
    check(all(r["importance"] == "magnitude" for r in info["prune"]["layers"] if "skipped" not in r), "importance")
    shapes = [r["shape"] for r in info["quant"] if 96 in r.get("shape", [])]
    check(len(shapes) == 6, f"expected 6 quantized FFN matrices with 96 channels, got {info['quant']}")
    inputs2 = os.path.join(a.work, "inputs.full")
    write_inputs(inputs2, rng.integers(0, 256, (1, 5), dtype=np.int64), kv_heads=2)
    matches_reference(a.slmc, artq, inputs2, a.work, "pruned_w8")

    # 3. other targets
    for target in ("arm64", "riscv64"):
        run([a.slmc, "compile", model, f"--target={target}", "-o", os.path.join(a.work, f"pruned.{target}.slm"),
             "--prune=ffn:0.5,heads:0.5"] + DIMS)

    # 4. bad usage
    for args, words in ((["--prune=ffn:1.5"], "0 < F < 1"), (["--prune=2:4"], "2:4 is not implemented yet"),
                        (["--prune=magnitude:0.5"], "magnitude:S"), (["--prune=rows:0.5"], "ffn:F or heads:F"),
                        (["--calibration-data", calib], "used by --prune, --max-accuracy-drop, --quant-method=awq|gptq and --quantize=int8"),
                        (["--prune=ffn:0.5", "--calibration-data", os.path.join(a.work, "nope")], "not a directory"),
                        (["--prune=ffn:0.5", "--prune-bias-correction"], "needs --calibration-data")):
        p = run([a.slmc, "compile", model, "-o", os.path.join(a.work, "bad.slm")] + args + DIMS, expect=2)
        check(words in p.stderr, f"{args}: message lacks '{words}': {p.stderr}")
    print("prune_cases: all cases passed")


if __name__ == "__main__":
    main()
