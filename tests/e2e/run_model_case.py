#!/usr/bin/python3
"""End-to-end case driver: compile an ONNX model with slmc, run it, and compare every output against ONNX Runtime.

Usage (run with Debian's /usr/bin/python3; needs numpy and the onnx package,
plus node + onnxruntime-node for the oracle, see scripts/install-peers.sh):

  tests/e2e/run_model_case.py --slmc build/bin/slmc --model benchmarks/models/tiny_llama.onnx \
      --case llama_prefill --ort-prefix build/peers --work build/e2e/llama_prefill \
      [--tol 1e-4] [--dim seq=64 --dim past=64] [--seq 8 --past 0] [--seed 0] [--threads N]
      [--target arm64 --runner "tests/cross/qemu_run.sh arm64 build-arm64/runtime/slm-run"]

Steps:
  (a) generate seeded inputs from the model's ONNX signature into WORK/inputs/<name>.npy
      - int64/int32 token inputs (input_ids): uniform in [0, vocab), shape [1, seq]
        (vocab from the static last dim of output `logits`, else --vocab)
      - past_key_values.*: normal float32 [1, kv_heads, past, head_dim], with
        kv_heads / head_dim taken from the static dims of the input's type
      - attention_mask: ones [1, past+seq]; position_ids: arange(past, past+seq)
      - anything else: normal (float) / small ints, symbolic dims resolved by
        name (batch->1, seq->--seq, past->--past, total->past+seq, else 1)
  (b) SLMC compile MODEL --target=TARGET -o WORK/model.slm [--dim NAME=MAX]...   (TARGET: x86_64)
  (c) SLMC run WORK/model.slm --input-dir WORK/inputs --output-dir WORK/out [--threads N]
      or, with --runner "CMD ARGS" (a runtime-only runner, e.g. a cross-built slm-run under qemu):
      CMD ARGS WORK/model.slm --input-dir ... (same flags)
  (d) node tests/e2e/ort_run.js --model MODEL --input-dir WORK/inputs --output-dir WORK/ref
  (e) per graph output: same shape, same dtype, and
      max|out - ref| / max|ref| <= tol (integer/bool outputs: exact).
Prints one line per output and a final verdict. Exit 0: all outputs match;
1: a mismatch or a failing step; 2: bad usage.
"""
import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
ORT_RUN = os.path.join(HERE, "ort_run.js")

# ONNX TensorProto.DataType -> numpy dtype (the ones a test input can have)
ONNX_TO_NP = {
    1: np.float32, 2: np.uint8, 3: np.int8, 4: np.uint16, 5: np.int16, 6: np.int32,
    7: np.int64, 9: np.bool_, 10: np.float16, 11: np.float64, 12: np.uint32, 13: np.uint64,
}

STEP_TIMEOUT = 900  # seconds for one compile / run / oracle step


def npy_name(tensor_name):
    """File name of a tensor: '/' and ':' become '_' (same rule as ort_run.js)."""
    return re.sub(r"[/:]", "_", tensor_name) + ".npy"


# ---- (a) input generation ------------------------------------------------------

def read_signature(model_path):
    """[(name, elem_type, [int | str])] for graph inputs (initializers excluded), and outputs."""
    import onnx

    model = onnx.load(model_path, load_external_data=False)
    inits = {i.name for i in model.graph.initializer}

    def sig(values):
        out = []
        for v in values:
            if v.name in inits:
                continue
            tt = v.type.tensor_type
            dims = []
            for d in tt.shape.dim:
                if d.HasField("dim_value"):
                    dims.append(int(d.dim_value))
                else:
                    dims.append(d.dim_param or "?")
            out.append((v.name, tt.elem_type, dims))
        return out

    return sig(model.graph.input), sig(model.graph.output)


def resolve_dim(d, seq, past):
    if isinstance(d, int):
        return d
    n = d.lower()
    if n in ("seq", "sequence", "sequence_length", "seq_len"):
        return seq
    if n in ("past", "past_sequence_length", "past_len", "past_seq"):
        return past
    if n in ("total", "total_sequence_length", "past+seq"):
        return past + seq
    return 1  # batch and anything unknown


def make_inputs(in_sig, out_sig, seq, past, seed, vocab=None):
    """Deterministic inputs for the model's signature: {name: ndarray}."""
    rng = np.random.default_rng(seed)
    if vocab is None:
        for name, _, dims in out_sig:
            if name == "logits" and dims and isinstance(dims[-1], int):
                vocab = dims[-1]
        if vocab is None:
            vocab = 256
    feeds = {}
    for name, et, dims in in_sig:
        if et not in ONNX_TO_NP:
            raise ValueError(f"input '{name}': unsupported ONNX element type {et}")
        dt = ONNX_TO_NP[et]
        lname = name.lower()
        if lname.startswith("past_key_values") or lname.startswith("past."):
            if len(dims) != 4:
                raise ValueError(f"input '{name}': expected rank 4 [batch, kv_heads, past, head_dim], got {dims}")
            for k in (1, 3):
                if not isinstance(dims[k], int):
                    raise ValueError(f"input '{name}': dim {k} must be static, got '{dims[k]}'")
            shape = [1, dims[1], past, dims[3]]
            arr = rng.standard_normal(shape).astype(dt)
        elif lname == "input_ids":
            shape = [resolve_dim(d, seq, past) for d in dims]
            if len(dims) == 2:
                shape = [1, seq]
            arr = rng.integers(0, vocab, size=shape).astype(dt)
        elif lname == "attention_mask":
            arr = np.ones([1, past + seq], dtype=dt)
        elif lname == "position_ids":
            arr = np.arange(past, past + seq, dtype=dt).reshape(1, seq)
        else:
            shape = [resolve_dim(d, seq, past) for d in dims]
            if np.issubdtype(dt, np.floating):
                arr = rng.standard_normal(shape).astype(dt)
            elif dt == np.bool_:
                arr = rng.integers(0, 2, size=shape).astype(np.bool_)
            else:
                arr = rng.integers(0, 10, size=shape).astype(dt)
        feeds[name] = np.ascontiguousarray(arr)
    return feeds


# ---- (e) comparison --------------------------------------------------------------

def compare(name, out, ref, tol):
    """(ok, message) for one output."""
    if out.dtype != ref.dtype:
        return False, f"dtype mismatch: slmc {out.dtype}, ort {ref.dtype}"
    if out.shape != ref.shape:
        return False, f"shape mismatch: slmc {list(out.shape)}, ort {list(ref.shape)}"
    if out.size == 0:
        return True, "empty"
    if not np.issubdtype(ref.dtype, np.floating):
        bad = int(np.count_nonzero(out != ref))
        return bad == 0, f"exact: {bad} of {ref.size} elements differ"
    o = out.astype(np.float64)
    r = ref.astype(np.float64)
    ref_nan, out_nan = np.isnan(r), np.isnan(o)
    if not np.array_equal(ref_nan, out_nan):
        return False, f"NaN pattern differs (slmc {int(out_nan.sum())} NaN, ort {int(ref_nan.sum())} NaN)"
    ref_inf = np.isinf(r)
    fin = ~ref_nan & ~ref_inf
    if not np.array_equal(o[ref_inf], r[ref_inf]) or np.isinf(o[fin]).any():
        return False, "Inf pattern differs"
    if not fin.any():
        return True, "no finite values"
    diff = np.abs(o[fin] - r[fin])
    max_abs = float(diff.max())
    scale = float(np.abs(r[fin]).max())
    rel = max_abs / scale if scale > 0 else max_abs
    full = np.full(r.shape, -1.0)
    full[fin] = np.abs(o[fin] - r[fin])
    where = np.unravel_index(int(np.argmax(full)), r.shape)
    msg = f"rel_err={rel:.3g} max_abs_err={max_abs:.3g} max|ref|={scale:.3g} (worst at {list(map(int, where))})"
    return rel <= tol, msg


def compare_cosine(name, out, ref, min_cosine):
    """(ok, message) for a quantized model's output: cosine similarity and, for logits, top-1 agreement."""
    if out.shape != ref.shape or out.dtype != ref.dtype:
        return False, f"shape/dtype mismatch: slmc {out.dtype}{list(out.shape)}, ort {ref.dtype}{list(ref.shape)}"
    o, r = out.astype(np.float64).ravel(), ref.astype(np.float64).ravel()
    denom = np.linalg.norm(o) * np.linalg.norm(r)
    cos = float(o @ r / denom) if denom > 0 else float(np.array_equal(o, r))
    msg = f"cosine={cos:.5f}"
    if out.ndim >= 2 and out.shape[-1] > 1:
        agree = float(np.mean(np.argmax(out, -1) == np.argmax(ref, -1)))
        msg += f" top1_agreement={agree:.3f}"
    return cos >= min_cosine, msg


# ---- steps -----------------------------------------------------------------------

def run_step(what, cmd):
    print(f"+ {' '.join(cmd)}", flush=True)
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=STEP_TIMEOUT)
    except FileNotFoundError as e:
        return False, f"{what}: cannot execute {cmd[0]}: {e}"
    except subprocess.TimeoutExpired:
        return False, f"{what}: timed out after {STEP_TIMEOUT}s"
    if p.returncode != 0:
        tail = (p.stderr or p.stdout).strip().splitlines()[-20:]
        return False, f"{what} failed with exit code {p.returncode}:\n    " + "\n    ".join(tail)
    return True, ""


def fresh_dir(path):
    if os.path.isdir(path):
        shutil.rmtree(path)
    os.makedirs(path)


def parse_dim(s):
    m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_.:/+-]*)=(\d+)", s)
    if not m:
        raise argparse.ArgumentTypeError(f"--dim expects NAME=MAX, got '{s}'")
    return s


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slmc", required=True, help="path of the slmc binary")
    ap.add_argument("--model", required=True, help="ONNX model")
    ap.add_argument("--case", required=True, help="case name, for messages")
    ap.add_argument("--ort-prefix", default=os.environ.get("SLMC_ORT_PREFIX", os.path.join(REPO, "build", "peers")),
                    help="directory whose node_modules holds onnxruntime-node")
    ap.add_argument("--work", required=True, help="work directory (inputs/, out/, ref/, model.slm)")
    ap.add_argument("--tol", type=float, default=1e-4, help="max relative error (default 1e-4)")
    ap.add_argument("--dim", action="append", default=[], type=parse_dim, metavar="NAME=MAX",
                    help="symbolic-dimension bound passed to slmc compile (repeatable)")
    ap.add_argument("--seq", type=int, default=8, help="LM: new tokens (default 8)")
    ap.add_argument("--past", type=int, default=0, help="LM: cached tokens (default 0)")
    ap.add_argument("--seed", type=int, default=0, help="input RNG seed (default 0)")
    ap.add_argument("--vocab", type=int, default=None, help="token id range (default: from logits)")
    ap.add_argument("--threads", type=int, default=None, help="passed to slmc run --threads")
    ap.add_argument("--node", default=os.environ.get("NODE", "node"), help="node executable")
    ap.add_argument("--target", default="x86_64", help="slmc compile --target (default x86_64)")
    ap.add_argument("--runner", default=None, metavar="CMD",
                    help="run the artifact with this command (shell-quoted words, then the artifact and "
                         "slm-run's flags) instead of `SLMC run`, e.g. a cross-built slm-run under qemu")
    ap.add_argument("--compile-arg", action="append", default=[], metavar="ARG",
                    help="extra argument for slmc compile (repeatable), e.g. --compile-arg=--quantize=w4")
    ap.add_argument("--min-cosine", type=float, default=None,
                    help="compare float outputs by cosine similarity >= this (quantized models) instead of --tol")
    args = ap.parse_args(argv)

    tag = f"[{args.case}]"
    if not os.path.isfile(args.model):
        print(f"{tag} FAIL: model not found: {args.model}", file=sys.stderr)
        return 2
    if args.seq < 1 or args.past < 0:
        print(f"{tag} FAIL: need --seq >= 1 and --past >= 0", file=sys.stderr)
        return 2

    work = os.path.abspath(args.work)
    inputs, out_dir, ref_dir = (os.path.join(work, d) for d in ("inputs", "out", "ref"))
    slm = os.path.join(work, "model.slm")
    os.makedirs(work, exist_ok=True)
    for d in (inputs, out_dir, ref_dir):
        fresh_dir(d)
    if os.path.exists(slm):
        os.remove(slm)

    # (a)
    in_sig, out_sig = read_signature(args.model)
    try:
        feeds = make_inputs(in_sig, out_sig, args.seq, args.past, args.seed, args.vocab)
    except ValueError as e:
        print(f"{tag} FAIL: cannot generate inputs: {e}", file=sys.stderr)
        return 1
    for name, arr in feeds.items():
        np.save(os.path.join(inputs, npy_name(name)), arr)
        print(f"{tag} input {name}: {arr.dtype} {list(arr.shape)}")

    # (b), (c), (d)
    dims = [a for d in args.dim for a in ("--dim", d)]
    runner = shlex.split(args.runner) if args.runner else [args.slmc, "run"]
    steps = [
        ("slmc compile", [args.slmc, "compile", args.model, f"--target={args.target}", "-o", slm] + dims + args.compile_arg),
        ("slmc run" if not args.runner else "runner", runner + [slm, "--input-dir", inputs, "--output-dir", out_dir]
         + (["--threads", str(args.threads)] if args.threads else [])),
        ("onnxruntime oracle", [args.node, ORT_RUN, "--model", args.model, "--input-dir", inputs,
                                "--output-dir", ref_dir, "--ort-prefix", args.ort_prefix]),
    ]
    for what, cmd in steps:
        ok, msg = run_step(what, cmd)
        if not ok:
            print(f"{tag} FAIL: {msg}", file=sys.stderr)
            print(f"{args.case}: FAILED ({what})")
            return 1

    # (e)
    failures = 0
    for name, _, _ in out_sig:
        fn = npy_name(name)
        ref_path, out_path = os.path.join(ref_dir, fn), os.path.join(out_dir, fn)
        if not os.path.exists(ref_path):
            print(f"{tag} FAIL {name}: the oracle wrote no {fn}")
            failures += 1
            continue
        if not os.path.exists(out_path):
            print(f"{tag} FAIL {name}: slmc run wrote no {fn} into {out_dir}")
            failures += 1
            continue
        try:
            out = np.load(out_path, allow_pickle=False)
        except Exception as e:  # noqa: BLE001 - any parse failure is a mismatch
            print(f"{tag} FAIL {name}: cannot read slmc output {out_path}: {e}")
            failures += 1
            continue
        ref = np.load(ref_path, allow_pickle=False)
        if args.min_cosine is not None and np.issubdtype(ref.dtype, np.floating):
            ok, msg = compare_cosine(name, out, ref, args.min_cosine)
        else:
            ok, msg = compare(name, out, ref, args.tol)
        print(f"{tag} {'PASS' if ok else 'FAIL'} {name}: {ref.dtype} {list(ref.shape)} {msg}"
              + ("" if ok else f" (tol {args.tol:g})" if args.min_cosine is None else f" (min cosine {args.min_cosine:g})"))
        failures += 0 if ok else 1
    extra = sorted(set(f for f in os.listdir(out_dir) if f.endswith(".npy")) - {npy_name(n) for n, _, _ in out_sig})
    if extra:
        print(f"{tag} note: slmc run also wrote {', '.join(extra)} (not graph outputs)")
    if failures:
        print(f"{args.case}: FAILED ({failures} of {len(out_sig)} outputs mismatch)")
        return 1
    bound = f"tol {args.tol:g}" if args.min_cosine is None else f"min cosine {args.min_cosine:g}"
    print(f"{args.case}: OK ({len(out_sig)} outputs within {bound})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
