"""`slmc bench ORIGINAL.onnx ART.slm ...` end to end: accuracy fields on a case with a known error, every
JSON field for every entry, the LM path with perplexity, the reports and the bad-input exits. Never
asserts a time.

  bench_compare.py --slmc SLMC --work DIR [--ort-prefix DIR]

known error: the original is Y = X @ W (+ a Relu-free second output Z = X @ W[:, :3]); the artifact is
the same graph with W + D for a seeded D, compiled by slmc. max_abs_err, cosine and top1_agreement
must match numpy's figures for X @ W against X @ (W + D) on the same X.
LM: tiny_llama original vs its w8 artifact with --eval-text: every field present for both, and the
original's perplexity equal to benchmarks/perplexity.py's ONNX Runtime figure on the same bytes and
windows (within 1e-3 relative; that part is skipped when onnxruntime-node is not installed).
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
COMMON = ["size_bytes", "load_ms", "peak_rss_bytes", "rss_before_load_bytes", "p50_ms", "p90_ms",
          "p99_ms", "max_abs_err", "cosine", "top1_agreement"]
LM = ["prefill_ms", "decode_ms_per_token", "tokens_per_s", "perplexity"]


def run(cmd, **kw):
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, **kw)


def matmul_model(path, w):
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [6, w.shape[0]])
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [6, w.shape[1]])
    z = helper.make_tensor_value_info("Z", TensorProto.FLOAT, [6, 3])
    nodes = [helper.make_node("MatMul", ["X", "W"], ["Y"]),
             helper.make_node("MatMul", ["X", "W3"], ["Z"])]
    g = helper.make_graph(nodes, "mm", [x], [y, z],
                          [numpy_helper.from_array(w, "W"), numpy_helper.from_array(np.ascontiguousarray(w[:, :3]), "W3")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(m, path)


def expect_close(name, got, want, rtol, atol=0.0, source="numpy"):
    if got is None or abs(got - want) > atol + rtol * abs(want):
        sys.exit(f"FAIL: {name}: got {got}, {source} says {want}")
    print(f"ok: {name} = {got:.9g} ({source} {want:.9g})")


def check_fields(doc, names, lm):
    models = doc["models"]
    if [m["name"] for m in models][:len(names)] != names:
        sys.exit(f"FAIL: models {[m['name'] for m in models]}, expected {names} (original first)")
    if not models[0]["reference"]:
        sys.exit("FAIL: the first entry is not marked as the reference")
    for m in models:
        for k in COMMON + (LM if lm else []):
            v = m.get(k)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
                sys.exit(f"FAIL: {m['name']}: field {k} missing or not a number >= 0: {v!r}")
        for k in ("size_bytes", "load_ms", "peak_rss_bytes", "p50_ms") + (("prefill_ms", "decode_ms_per_token") if lm else ()):
            if m[k] <= 0:
                sys.exit(f"FAIL: {m['name']}: {k} = {m[k]} is not positive")
        if not m["p50_ms"] <= m["p90_ms"] <= m["p99_ms"]:
            sys.exit(f"FAIL: {m['name']}: percentiles out of order")
    ref = models[0]
    if ref["max_abs_err"] != 0 or abs(ref["cosine"] - 1) > 1e-12 or ref["top1_agreement"] != 1:
        sys.exit(f"FAIL: the original against itself: {ref['max_abs_err']}, {ref['cosine']}, {ref['top1_agreement']}")
    print(f"ok: all fields present for {len(models)} entries")


def known_error(args):
    work = os.path.join(args.work, "known")
    os.makedirs(os.path.join(work, "inputs"), exist_ok=True)
    rng = np.random.default_rng(7)
    w = rng.standard_normal((16, 10)).astype(np.float32)
    d = (0.35 * rng.standard_normal((16, 10))).astype(np.float32)
    x = rng.standard_normal((6, 16)).astype(np.float32)
    np.save(os.path.join(work, "inputs", "X.npy"), x)
    orig, pert = os.path.join(work, "orig.onnx"), os.path.join(work, "pert.onnx")
    matmul_model(orig, w)
    matmul_model(pert, w + d)
    art = os.path.join(work, "pert.slm")
    run([args.slmc, "compile", pert, "--target=x86_64", "-o", art], check=True)
    out = os.path.join(work, "bench.json")
    run([args.slmc, "bench", orig, art, "--input-dir", os.path.join(work, "inputs"), "--repeat", "3",
         "--json", out, "--markdown", os.path.join(work, "bench.md"), "--plot", os.path.join(work, "bench.svg"),
         "--cache-dir", os.path.join(work, "cache"), "--quiet"], check=True)
    doc = json.load(open(out))
    check_fields(doc, ["orig (original)", "pert"], lm=False)
    # numpy in float64 over both outputs, as the tool compares them (Y then Z, rows of the last dim)
    ref = [x.astype(np.float64) @ w.astype(np.float64), x.astype(np.float64) @ w[:, :3].astype(np.float64)]
    got = [x.astype(np.float64) @ (w + d).astype(np.float64), x.astype(np.float64) @ (w + d)[:, :3].astype(np.float64)]
    a, b = np.concatenate([r.ravel() for r in ref]), np.concatenate([g.ravel() for g in got])
    max_err = float(np.max(np.abs(a - b)))
    cosine = float(a @ b / np.sqrt((a @ a) * (b @ b)))
    agree = np.concatenate([r.argmax(-1) == g.argmax(-1) for r, g in zip(ref, got)])
    for r in ref + got:  # a near tie would make the float32 argmax ambiguous
        s = np.sort(r, -1)
        assert np.all(s[:, -1] - s[:, -2] > 1e-3), "seeded data has a near tie; pick another seed"
    m = doc["models"][1]
    expect_close("max_abs_err", m["max_abs_err"], max_err, 1e-4, 1e-5)
    expect_close("cosine", m["cosine"], cosine, 0, 1e-6)
    expect_close("top1_agreement", m["top1_agreement"], float(agree.mean()), 0, 1e-8)
    if not 0 < agree.mean() < 1 or cosine > 0.999:
        sys.exit("FAIL: the known-error case should disagree on some rows (test data is too easy)")
    md = open(os.path.join(work, "bench.md")).read()
    svg = open(os.path.join(work, "bench.svg")).read()
    if "| pert |" not in md or "<svg" not in svg or "cosine to original" not in svg:
        sys.exit("FAIL: markdown or SVG report incomplete")
    print("ok: markdown and SVG reports")
    # bad input: a second ONNX, a missing artifact, an unknown flag
    for bad in ([orig, orig], [orig, os.path.join(work, "missing.slm")], [orig, art, "--bogus"]):
        rc = run([args.slmc, "bench", *bad, "--quiet"]).returncode
        if rc != 2:
            sys.exit(f"FAIL: slmc bench {bad} returned {rc}, expected 2")
    print("ok: bad input exits 2")


def lm_case(args):
    work = os.path.join(args.work, "lm")
    os.makedirs(work, exist_ok=True)
    model = os.path.join(REPO, "benchmarks", "models", "tiny_llama.onnx")
    art = os.path.join(work, "tiny_llama.w8.slm")
    ctx = 32  # eval windows of seq+1 bytes
    run([args.slmc, "compile", model, "--target=x86_64", "-o", art, "--dim", f"seq={ctx - 1}",
         "--dim", f"past={ctx}", "--quantize=w8"], check=True)
    text = os.path.join(work, "eval.txt")
    with open(text, "w") as f:
        f.write("The committee said the report was due in the spring, and the members agreed to "
                "meet again after the holidays to discuss the budget and the new school. " * 4)
    out = os.path.join(work, "bench.json")
    run([args.slmc, "bench", model, art, "--prompt-len", "8", "--decode", "4", "--repeat", "2",
         "--eval-text", text, "--tokenizer", "bytes", "--json", out, "--cache-dir",
         os.path.join(work, "cache"), "--quiet"], check=True)
    doc = json.load(open(out))
    check_fields(doc, ["tiny_llama (original)", "tiny_llama.w8"], lm=True)
    ppl = doc["models"][0]["perplexity"]
    if not os.path.exists(os.path.join(args.ort_prefix, "node_modules", "onnxruntime-node")):
        print(f"note: no onnxruntime-node in {args.ort_prefix}; perplexity cross-check skipped")
        return
    pj = os.path.join(work, "ppl.json")
    run([sys.executable, os.path.join(REPO, "benchmarks", "perplexity.py"), "--onnx", model, "--text", text,
         "--bytes", str(os.path.getsize(text)), "--context", str(ctx), "--slmc", args.slmc,
         "--ort-prefix", args.ort_prefix, "--json", pj, "--work", os.path.join(work, "ppl")], check=True)
    expect_close("perplexity of the original", ppl, json.load(open(pj))["results"]["ort"]["ppl"], 1e-3,
                 source="ONNX Runtime via perplexity.py")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slmc", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--ort-prefix", default=os.path.join(REPO, "build", "peers"))
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    known_error(args)
    lm_case(args)
    print("bench_compare: OK")


if __name__ == "__main__":
    main()
