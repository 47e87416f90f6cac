#!/usr/bin/env python3
"""End-to-end cases of `slmc compile --prune` on tiny_llama (4 heads in 2 KV groups, FFN 128).

1. ffn:0.5 + heads:0.5 with calibration data: compiles, the report is printed and stored under
   `prune` in `inspect --json` (every FFN and attention block pruned, bytes after < before, the
   KV cache inputs lose a head), the artifact's weights shrink, and the pruned artifact gives the
   same outputs on the reference kernels (SLM_X86_LEVEL=ref) as on the default ones (1e-4).
2. Magnitude importance (no calibration) combined with --quantize=w8: prunes first, then the
   quantization table lists the smaller matrices; also matches its reference execution.
3. 2:4 after ffn:0.25 with calibration (SparseGPT-style): every wide enough matmul but the LM head
   becomes slm.matmul_sp24 (bytes as the layout says), the AVX-512 kernel matches the reference kernel,
   the logits stay near the unpruned model's. Magnitude 2:4 alone equals the dense model whose
   ONNX weights were 2:4-pruned in numpy (the semantics of pass + packing + kernel, 1e-4).
   magnitude:S the same against numpy's unstructured pruning (slm.matmul_sparse, masked layout
   bytes, AVX-512 kernel against the reference kernel); with calibration (SparseGPT) too; below
   the sparsity that pays it stays dense and says so. With --quantize=w8a8 the int8 codes of 2:4 and
   magnitude:0.5 are stored masked (slm.matmul_a8_sparse) and equal the numpy-pruned model
   quantized the same way; w4a8 and w8 keep the zeros dense and say so.
4. The pruned models compile for arm64 and riscv64.
5. Bad usage exits 2 with a message: fraction out of range, 2:4 with magnitude:S, pruning zeros
   with GPTQ (which would refill them), --calibration-data without --prune, a missing
   calibration folder.
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


def cosine(a, b):
    a, b = a.ravel(), b.ravel()
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def matches_numpy_pruned(a, model, art, keep_of, expect_changed, inputs, tag, extra=()):
    """The pruned artifact equals the dense model whose ONNX MatMul weights (all but the LM head's)
    were pruned in numpy by keep_of(w) (a bool mask, or None to leave w), compiled with `extra`
    (e.g. the same --quantize), within 1e-4."""
    import onnx
    from onnx import numpy_helper
    g = onnx.load(model)
    inits = {t.name: t for t in g.graph.initializer}
    outputs = {o.name for o in g.graph.output}
    changed = 0
    for node in g.graph.node:
        if node.op_type != "MatMul" or node.input[1] not in inits or node.output[0] in outputs:
            continue
        w = numpy_helper.to_array(inits[node.input[1]]).copy()
        keep = keep_of(w) if w.ndim == 2 else None
        if keep is None:
            continue
        w[~keep] = 0.0
        inits[node.input[1]].CopyFrom(numpy_helper.from_array(w, node.input[1]))
        changed += 1
    check(changed == expect_changed, f"{tag}: numpy pruned {changed} weights, expected {expect_changed}")
    dense_onnx = os.path.join(a.work, f"tiny_llama_{tag}.onnx")
    onnx.save(g, dense_onnx)
    dense = os.path.join(a.work, f"{tag}.dense.slm")
    run([a.slmc, "compile", dense_onnx, "-o", dense] + list(extra) + DIMS)
    for path, t in ((art, tag), (dense, tag + ".dense")):
        run([a.slmc, "run", path, "--input-dir", inputs, "--output-dir", os.path.join(a.work, t + ".out")])
    want = np.load(os.path.join(a.work, tag + ".dense.out", "logits.npy"))
    got = np.load(os.path.join(a.work, tag + ".out", "logits.npy"))
    err = float(np.max(np.abs(got - want)))
    check(err <= 1e-4 * max(1.0, float(np.max(np.abs(want)))), f"{tag}: artifact vs numpy-pruned dense model: {err}")


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

    # 1b. heads with the KV caches as session state (--kv-cache=state): the slm.kv_cache ops lose the
    # removed KV group too, and the pruned artifact runs (reference vs default kernels).
    arts = os.path.join(a.work, "pruned_state.slm")
    run([a.slmc, "compile", model, "-o", arts, "--prune=heads:0.5", "--kv-cache=state"] + DIMS)
    rows = [r for r in inspect(a.slmc, arts)["prune"]["layers"] if r["kind"] == "heads"]
    check(len(rows) == 2 and all("skipped" not in r and r["removed"] * 2 == r["total"] for r in rows),
          f"heads with state caches: {rows}")
    ids_only = os.path.join(a.work, "inputs.ids")
    os.makedirs(ids_only, exist_ok=True)
    np.save(os.path.join(ids_only, "input_ids.npy"), rng.integers(0, 256, (1, 5), dtype=np.int64))
    matches_reference(a.slmc, arts, ids_only, a.work, "pruned_state")

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

    # 3. 2:4 after ffn:0.25 (calibration importance): every matmul but the LM head becomes
    # slm.matmul_sp24, the weights shrink, the AVX-512 kernel matches the reference kernel, and the
    # model stays close to the unpruned one (cosine of the logits).
    art24 = os.path.join(a.work, "pruned24.slm")
    p = run([a.slmc, "compile", model, "-o", art24, "--prune=ffn:0.25,2:4", "--calibration-data", calib] + DIMS)
    rep24 = inspect(a.slmc, art24)["prune"]
    rows24 = [r for r in rep24["layers"] if r["kind"] == "2:4"]
    dense = sorted(r["skipped"].split(":")[0] for r in rows24 if "skipped" in r)
    # the LM head, and k/v (N = 32: padded to a 64-column panel the 2:4 form is no smaller) in both layers
    check(dense == ["its result is a model output (e.g. the LM head)"] + ["not smaller"] * 4, f"left dense: {dense}")
    sparse = [r for r in rows24 if "skipped" not in r]
    check(len(sparse) == 10, f"expected 10 matmuls in 2:4 (5 per layer), got {len(sparse)}")
    for r in sparse:  # with calibration: SparseGPT-style error compensation through H = X^T X
        check(r["importance"] == "calib-sparsegpt", f"{r['layer']}: importance {r['importance']}")
        check(r["removed"] * 2 == r["total"], f"{r['layer']}: removed {r['removed']} of {r['total']}")
        k, n = map(int, re.search(r"of (\d+)x(\d+)", r["detail"]).groups())
        # values + indices: 576 bytes per 64 columns and 4 rows, K padded to 16, N to 64 (sp24_f32.h)
        sparse_bytes = -(-n // 64) * (-(-k // 16) * 4) * 576
        check(r["bytes_after"] - (r["bytes_before"] - 4 * k * n) == sparse_bytes < 4 * k * n,
              f"{r['layer']}: {r['bytes_after']} bytes, expected {sparse_bytes} for {k}x{n}")
    ops = [o["kind"] for o in inspect(a.slmc, art24)["ops"]]
    check(ops.count("matmul_sp24") == 10, f"expected 10 slm.matmul_sp24 ops, got {ops.count('matmul_sp24')}")
    out24 = matches_reference(a.slmc, art24, inputs2, a.work, "pruned24")
    base_out = os.path.join(a.work, "base.out")
    run([a.slmc, "run", base, "--input-dir", inputs2, "--output-dir", base_out])
    want = np.load(os.path.join(base_out, "logits.npy")).ravel()
    got = out24["logits.npy"].ravel()
    cos = cosine(want, got)
    check(0.5 < cos < 1.0, f"2:4 logits cosine {cos} (expected close to, but not exactly, the unpruned model)")

    # 3b. magnitude 2:4 against numpy: keep the two largest |w| of every four along K in each MatMul
    # weight the pass takes (N > 32 and not the LM head), compile that model dense, compare logits.
    def keep24(w):
        if w.shape[1] <= 32 or w.shape[0] % 4:
            return None
        grp = np.abs(w).reshape(w.shape[0] // 4, 4, w.shape[1])
        order = np.argsort(-grp, axis=1, kind="stable")  # ties to the lower k, as the pass
        keep = np.zeros_like(grp, dtype=bool)
        np.put_along_axis(keep, order[:, :2, :], True, axis=1)
        return keep.reshape(w.shape)
    art24m = os.path.join(a.work, "pruned24m.slm")
    run([a.slmc, "compile", model, "-o", art24m, "--prune=2:4"] + DIMS)
    matches_numpy_pruned(a, model, art24m, keep24, 10, inputs2, "sp24m")

    # 3c. magnitude:0.5 (unstructured) against numpy: in every column of each MatMul weight but the
    # LM head's, the round(0.5 K) smallest |w| are zeroed (ties: the higher k first); all 14 become
    # slm.matmul_sparse, with the masked layout's bytes (sparse_f32.h), and the AVX-512 kernel
    # matches the reference kernel.
    def keep_magnitude(w, s=0.5):
        k = w.shape[0]
        keep = np.ones_like(w, dtype=bool)
        for c in range(w.shape[1]):
            order = np.lexsort((-np.arange(k), np.abs(w[:, c])))  # by |w|, then the higher k first
            keep[order[:round(s * k)], c] = False
        return keep
    artm = os.path.join(a.work, "pruned_mag.slm")
    run([a.slmc, "compile", model, "-o", artm, "--prune=magnitude:0.5"] + DIMS)
    repm = inspect(a.slmc, artm)["prune"]
    rowsm = [r for r in repm["layers"] if r["kind"] == "magnitude" and "skipped" not in r]
    check(len(rowsm) == 14 and all(r["stored"] == "sparse" for r in rowsm), f"magnitude rows: {repm['layers']}")
    for r in rowsm:
        k, n = map(int, re.search(r"of (\d+)x(\d+)", r["detail"]).groups())
        check(r["removed"] * 2 == r["total"] == k * n, f"{r['layer']}: removed {r['removed']} of {r['total']}")
        # values + 16-bit masks per k and 16 columns (N padded to 64) + int64 panel offsets
        panels = -(-n // 64)
        check(r["bytes_after"] == 4 * (k * n - r["removed"]) + panels * k * 8 + (panels + 1) * 8,
              f"{r['layer']}: {r['bytes_after']} bytes for {k}x{n}")
    ops = [o["kind"] for o in inspect(a.slmc, artm)["ops"]]
    check(ops.count("matmul_sparse") == 14, f"expected 14 slm.matmul_sparse ops, got {ops.count('matmul_sparse')}")
    matches_reference(a.slmc, artm, inputs2, a.work, "pruned_mag")
    matches_numpy_pruned(a, model, artm, keep_magnitude, 14, inputs2, "magm")

    # 3d. magnitude:0.7, by magnitude and with calibration (SparseGPT, unstructured); magnitude:0.1
    # is below the sparsity at which the masked kernel pays (0.5), so the zeros stay dense and the
    # report says so.
    cos_of = {}
    for tag, extra in (("mag70", []), ("sgpt70", ["--calibration-data", calib])):
        art70 = os.path.join(a.work, tag + ".slm")
        run([a.slmc, "compile", model, "-o", art70, "--prune=magnitude:0.7"] + extra + DIMS)
        rows70 = [r for r in inspect(a.slmc, art70)["prune"]["layers"] if "skipped" not in r]
        want_imp = "calib-sparsegpt" if extra else "magnitude"
        check(all(r["importance"] == want_imp and r["stored"] == "sparse" for r in rows70), f"{tag}: {rows70}")
        if extra:  # with calibration every pruned matmul's output is compared with the unpruned model's
            check(all(0 < r.get("output_rel_error", -1) < 10 for r in rows70), f"{tag}: per-layer errors {rows70}")
        out70 = matches_reference(a.slmc, art70, inputs2, a.work, tag)
        cos_of[tag] = cosine(np.load(os.path.join(base_out, "logits.npy")), out70["logits.npy"])
    # This random-weight model and 48 random calibration tokens say nothing about which is better
    # (benchmarks/prune_eval.py does, on the trained LM): both must stay near the unpruned logits.
    check(all(0.5 < c < 1.0 for c in cos_of.values()), f"magnitude:0.7 logits cosines {cos_of}")
    art10 = os.path.join(a.work, "pruned_mag10.slm")
    p = run([a.slmc, "compile", model, "-o", art10, "--prune=magnitude:0.1"] + DIMS)
    check("not worth it" in p.stderr, "magnitude:0.1 should be reported as not worth it:\n" + p.stderr)
    ops = [o["kind"] for o in inspect(a.slmc, art10)["ops"]]
    check("matmul_sparse" not in ops, "magnitude:0.1 should stay dense")
    matches_numpy_pruned(a, model, art10, lambda w: keep_magnitude(w, 0.1), 14, inputs2, "mag10")

    # 3e. with --quantize the pruning passes only write zeros; w8a8 stores the int8 codes of 2:4 and
    # magnitude:0.5 masked (slm.matmul_a8_sparse, the VBMI2 kernel against the reference) and equals
    # the numpy-pruned model quantized the same way; w4a8 keeps them dense (a byte per int4 code
    # would not be smaller at half zeros) and says so.
    for spec, keep, count in (("2:4", keep24, 10), ("magnitude:0.5", keep_magnitude, 14)):
        tag = "q8_" + spec.replace(":", "")
        artq8 = os.path.join(a.work, tag + ".slm")
        p = run([a.slmc, "compile", model, "-o", artq8, "--prune=" + spec, "--quantize=w8a8"] + DIMS)
        check(f"{count} quantized matmuls stored masked" in p.stderr, f"{tag}: {p.stderr[-2000:]}")
        ops = [o["kind"] for o in inspect(a.slmc, artq8)["ops"]]
        check(ops.count("matmul_a8_sparse") == count, f"{tag}: {ops.count('matmul_a8_sparse')} masked int8 matmuls")
        matches_reference(a.slmc, artq8, inputs2, a.work, tag)
        matches_numpy_pruned(a, model, artq8, keep, count, inputs2, tag + "np", extra=["--quantize=w8a8"])
    p = run([a.slmc, "compile", model, "-o", os.path.join(a.work, "q4_mag.slm"), "--prune=magnitude:0.5",
             "--quantize=w4a8"] + DIMS)
    check("0 quantized matmuls stored masked" in p.stderr and "int4 needs" in p.stderr, p.stderr[-2000:])
    p = run([a.slmc, "compile", model, "-o", os.path.join(a.work, "w8_mag.slm"), "--prune=magnitude:0.5",
             "--quantize=w8"] + DIMS)
    check("has no masked storage" in p.stderr, p.stderr[-2000:])

    # 4. other targets
    for target in ("arm64", "riscv64"):
        run([a.slmc, "compile", model, f"--target={target}", "-o", os.path.join(a.work, f"pruned.{target}.slm"),
             "--prune=ffn:0.5,heads:0.5"] + DIMS)
        run([a.slmc, "compile", model, f"--target={target}", "-o", os.path.join(a.work, f"pruned24.{target}.slm"),
             "--prune=2:4"] + DIMS)
        run([a.slmc, "compile", model, f"--target={target}", "-o", os.path.join(a.work, f"pruned_mag.{target}.slm"),
             "--prune=magnitude:0.5"] + DIMS)
        run([a.slmc, "compile", model, f"--target={target}", "-o", os.path.join(a.work, f"pruned_mag_q8.{target}.slm"),
             "--prune=magnitude:0.5", "--quantize=w8a8"] + DIMS)

    # 5. bad usage
    for args, words in ((["--prune=ffn:1.5"], "0 < F, S < 1"), (["--prune=2:4,magnitude:0.5"], "give one of them"),
                        (["--prune=magnitude:1"], "0 < F, S < 1"),
                        (["--prune=magnitude:0.5", "--quantize=w4", "--quant-method=gptq", "--calibration-data", calib],
                         "refilling them"), (["--prune=rows:0.5"], "ffn:F, heads:F or magnitude:S"),
                        (["--calibration-data", calib], "used by --prune, --max-accuracy-drop, --quant-method=awq|gptq and --quantize=int8"),
                        (["--prune=ffn:0.5", "--calibration-data", os.path.join(a.work, "nope")], "not a directory"),
                        (["--prune=ffn:0.5", "--prune-bias-correction"], "needs --calibration-data")):
        p = run([a.slmc, "compile", model, "-o", os.path.join(a.work, "bad.slm")] + args + DIMS, expect=2)
        check(words in p.stderr, f"{args}: message lacks '{words}': {p.stderr}")
    print("prune_cases: all cases passed")


if __name__ == "__main__":
    main()
