#!/usr/bin/env python3
"""Held-out perplexity of a byte-level ONNX LM under ONNX Runtime and of slmc artifacts of it.

  /usr/bin/python3 benchmarks/perplexity.py --onnx benchmarks/models/byte_lm.onnx \\
      --compile fp32 --compile w8 --compile w4 [--slm NAME=ART.slm]... [--bytes 8192]

Text: the first --bytes bytes of --text (default build/data/brown_eval.txt, written by
`benchmarks/models/brown_data.py` when missing). The bytes are cut into
windows of --context bytes overlapping by one, so every byte but the first is predicted
exactly once from up to context-1 bytes before it. Each window runs with no cache
(seq = window length, past = 0: empty past_key_values.* arrays [1, kv_heads, 0, head_dim]).
Perplexity = exp(mean NLL per predicted byte), computed in float64 from the logits.

The fp32 ONNX model runs under ONNX Runtime (tests/e2e/ort_run.js, onnxruntime-node from
--ort-prefix). `--compile SCHEME` compiles the model with slmc (fp32 = no --quantize, else
--quantize=SCHEME; --dim seq=C --dim past=C) and runs the artifact with `slmc run`; `--slm
NAME=PATH` runs an existing artifact. The report gives each model's perplexity and its relative
increase over the ONNX Runtime fp32 figure.

Checks (exit 1 when one fails; for CI):
  --max-rel-diff NAME=X      |ppl(NAME) - ppl(ort)| / ppl(ort) <= X   (e.g. fp32=1e-3)
  --max-increase NAME=PCT    ppl(NAME) <= ppl(ref) * (1 + PCT/100), ref = --increase-ref (default fp32)
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_TEXT = os.path.join(REPO, "build", "data", "brown_eval.txt")


def windows(n, ctx):
    """[start, end) windows over n bytes overlapping by one byte (as train_byte_lm.windows)."""
    out, s = [], 0
    while s + 1 < n:
        e = min(s + ctx, n)
        out.append((s, e))
        s = e - 1
    return out


def kv_signature(onnx_path):
    """Names of the past inputs and (kv_heads, head_dim) from the ONNX graph inputs."""
    import onnx

    m = onnx.load(onnx_path, load_external_data=False)
    past = []
    for vi in m.graph.input:
        if vi.name.startswith("past_key_values."):
            dims = [d.dim_value if d.HasField("dim_value") else None for d in vi.type.tensor_type.shape.dim]
            past.append((vi.name, dims[1], dims[3]))
    if not past:
        sys.exit(f"perplexity: {onnx_path} has no past_key_values.* inputs")
    return past


def nll_sum(logits, targets):
    """Sum of -log softmax(logits)[target], float64. logits [seq, vocab], targets [seq]."""
    x = logits.astype(np.float64)
    mx = x.max(axis=-1, keepdims=True)
    lse = mx[:, 0] + np.log(np.exp(x - mx).sum(axis=-1))
    return float((lse - x[np.arange(len(targets)), targets]).sum())


def run(cmd, what):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit(f"perplexity: {what} failed (exit {p.returncode}): {' '.join(cmd)}\n{p.stdout}{p.stderr}")
    return p.stdout


def evaluate(name, runner, data, wins, past, work):
    """runner(input_dir, output_dir) runs one window; returns (ppl, mean nll, seconds)."""
    tot, cnt = 0.0, 0
    t0 = time.time()
    for i, (s, e) in enumerate(wins):
        d_in = os.path.join(work, f"{name}.in{i}")
        d_out = os.path.join(work, f"{name}.out{i}")
        os.makedirs(d_in, exist_ok=True)
        ids = np.frombuffer(data[s:e - 1], dtype=np.uint8).astype(np.int64)[None]
        np.save(os.path.join(d_in, "input_ids.npy"), ids)
        for pname, kvh, hd in past:
            np.save(os.path.join(d_in, pname + ".npy"), np.zeros((1, kvh, 0, hd), np.float32))
        runner(d_in, d_out)
        logits = np.load(os.path.join(d_out, "logits.npy"))
        if logits.shape[:2] != (1, e - 1 - s):
            sys.exit(f"perplexity: {name}: logits shape {logits.shape} for a window of {e - 1 - s}")
        tgt = np.frombuffer(data[s + 1:e], dtype=np.uint8).astype(np.int64)
        tot += nll_sum(logits[0], tgt)
        cnt += len(tgt)
        shutil.rmtree(d_in)
        shutil.rmtree(d_out)
    nll = tot / cnt
    return math.exp(nll), nll, time.time() - t0


def parse_kv(items, conv, flag):
    out = {}
    for it in items:
        if "=" not in it:
            sys.exit(f"perplexity: {flag} wants NAME=VALUE, got '{it}'")
        k, v = it.split("=", 1)
        out[k] = conv(v)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--onnx", default=os.path.join(REPO, "benchmarks", "models", "byte_lm.onnx"))
    ap.add_argument("--text", default=DEFAULT_TEXT)
    ap.add_argument("--bytes", type=int, default=8192, help="first N bytes of the text")
    ap.add_argument("--context", type=int, default=256, help="window length (bytes)")
    ap.add_argument("--slmc", default=os.path.join(REPO, "build", "compiler", "slmc"))
    ap.add_argument("--ort-prefix", default=os.path.join(REPO, "build", "peers"))
    ap.add_argument("--compile", action="append", default=[], metavar="SCHEME",
                    help="compile with slmc: fp32 or a --quantize scheme (w8, w4, ...)")
    ap.add_argument("--compile-arg", action="append", default=[], help="extra slmc compile argument")
    ap.add_argument("--slm", action="append", default=[], metavar="NAME=ART", help="an existing artifact")
    ap.add_argument("--threads", type=int, default=2, help="slmc run --threads")
    ap.add_argument("--work", help="work folder (default: a temporary one)")
    ap.add_argument("--json", help="write the results as JSON here")
    ap.add_argument("--max-rel-diff", action="append", default=[], metavar="NAME=X")
    ap.add_argument("--max-increase", action="append", default=[], metavar="NAME=PCT")
    ap.add_argument("--increase-ref", default="fp32")
    args = ap.parse_args()
    for a in ("onnx", "text", "slmc", "ort_prefix"):
        setattr(args, a, os.path.abspath(getattr(args, a)))

    if not os.path.exists(args.text):
        if os.path.abspath(args.text) != DEFAULT_TEXT:
            sys.exit(f"perplexity: text not found: {args.text}")
        print("perplexity: preparing the Brown eval text (benchmarks/models/brown_data.py)", flush=True)
        sys.path.insert(0, os.path.join(HERE, "models"))
        import brown_data
        brown_data.prepare_data(None, brown_data.DEFAULT_HELDOUT)
    with open(args.text, "rb") as f:
        data = f.read()[:args.bytes]
    if len(data) < 2:
        sys.exit("perplexity: need at least 2 bytes of text")
    wins = windows(len(data), args.context)
    past = kv_signature(args.onnx)
    own_work = args.work is None
    work = tempfile.mkdtemp(prefix="slmc_ppl.") if own_work else args.work
    os.makedirs(work, exist_ok=True)
    print(f"text: {args.text}, {len(data)} bytes, {len(wins)} windows of <= {args.context} "
          f"({len(data) - 1} predicted bytes); model {args.onnx}", flush=True)

    node = shutil.which("node") or "node"
    ort_js = os.path.join(REPO, "tests", "e2e", "ort_run.js")

    def ort_runner(d_in, d_out):
        run([node, ort_js, "--model", args.onnx, "--input-dir", d_in, "--output-dir", d_out,
             "--ort-prefix", args.ort_prefix], "ort_run.js")

    def slm_runner(art):
        def r(d_in, d_out):
            run([args.slmc, "run", art, "--input-dir", d_in, "--output-dir", d_out,
                 "--threads", str(args.threads)], "slmc run")
        return r

    models = [("ort", "ONNX Runtime fp32", ort_runner, None)]
    for scheme in args.compile:
        art = os.path.join(work, f"model.{scheme}.slm")
        cmd = [args.slmc, "compile", args.onnx, "--target=x86_64", "-o", art,
               "--dim", f"seq={args.context}", "--dim", f"past={args.context}"]
        if scheme != "fp32":
            cmd.append(f"--quantize={scheme}")
        cmd += args.compile_arg
        run(cmd, f"slmc compile ({scheme})")
        models.append((scheme, f"slmc {scheme}", slm_runner(art), art))
    for name, art in parse_kv(args.slm, str, "--slm").items():
        models.append((name, f"slmc {name} ({os.path.basename(art)})", slm_runner(art), art))

    results = {}
    for key, label, runner, art in models:
        ppl, nll, secs = evaluate(key, runner, data, wins, past, work)
        results[key] = {"label": label, "ppl": ppl, "nll": nll, "bits_per_byte": nll / math.log(2),
                        "seconds": round(secs, 2)}
        if art:
            results[key]["artifact_bytes"] = os.path.getsize(art)
        print(f"  {label}: ppl {ppl:.5f} ({nll / math.log(2):.4f} bits/byte) [{secs:.1f}s]", flush=True)

    ref = results["ort"]["ppl"]
    print(f"\n| model | perplexity | vs ORT fp32 |{' artifact bytes |' if len(models) > 1 else ''}")
    print(f"|---|---|---|{'---|' if len(models) > 1 else ''}")
    for key, r in results.items():
        r["rel_vs_ort"] = r["ppl"] / ref - 1.0
        size = f" {r['artifact_bytes']} |" if "artifact_bytes" in r else (" - |" if len(models) > 1 else "")
        print(f"| {r['label']} | {r['ppl']:.4f} | {100 * r['rel_vs_ort']:+.3f}% |{size}")

    failures = []
    for name, tol in parse_kv(args.max_rel_diff, float, "--max-rel-diff").items():
        if name not in results:
            sys.exit(f"perplexity: --max-rel-diff: no model '{name}'")
        d = abs(results[name]["ppl"] - ref) / ref
        ok = d <= tol
        print(f"check: {name} vs ORT relative difference {d:.3g} <= {tol:g}: {'ok' if ok else 'FAIL'}")
        if not ok:
            failures.append(name)
    for name, pct in parse_kv(args.max_increase, float, "--max-increase").items():
        if name not in results or args.increase_ref not in results:
            sys.exit(f"perplexity: --max-increase: no model '{name}' or '{args.increase_ref}'")
        base = results[args.increase_ref]["ppl"]
        inc = 100.0 * (results[name]["ppl"] / base - 1.0)
        ok = inc <= pct
        print(f"check: {name} vs {args.increase_ref} increase {inc:+.4f}% <= +{pct:g}%: {'ok' if ok else 'FAIL'}")
        if not ok:
            failures.append(name)

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"onnx": args.onnx, "text": args.text, "bytes": len(data), "context": args.context,
                       "windows": len(wins), "results": results}, f, indent=2)
            f.write("\n")
    if own_work:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        sys.exit(f"perplexity: checks failed: {', '.join(failures)}")


if __name__ == "__main__":
    main()
