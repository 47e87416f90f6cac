#!/usr/bin/python3
"""Test double of the slmc / slm-run CLI (ONNX Runtime underneath) used only to self-test the e2e drivers before the real slmc exists.

Implements the CLI contract the drivers rely on:
  fake_slmc.py compile MODEL.onnx --target=x86_64 -o OUT.slm [--dim NAME=MAX]...
  fake_slmc.py run ART.slm (--input NAME=FILE)... | --input-dir DIR  --output-dir DIR [--threads N]
  fake_slmc.py ART.slm ...            (slm-run mode: same as `run`)
Exit codes: 0 ok, 1 runtime failure, 2 bad input/usage; messages on stderr
name the culprit; nothing is written on failure. The "artifact" is the ONNX
bytes plus a JSON header with a CRC. FAKE_SLMC_PERTURB=EPS adds EPS*max|y|
to every float output (to check that the drivers notice mismatches).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MAGIC = b"FAKESLM\0"
SUPPORTED = {
    "Add", "AveragePool", "BatchNormalization", "Cast", "Clip", "Concat", "Constant", "ConstantOfShape",
    "Conv", "Cos", "Div", "Equal", "Expand", "Flatten", "Gather", "Gemm", "GlobalAveragePool", "Greater",
    "LayerNormalization", "MatMul", "MaxPool", "Mul", "Neg", "Pad", "Range", "ReduceMean", "Relu",
    "Reshape", "Resize", "Shape", "Sigmoid", "Sin", "Slice", "Softmax", "Split", "Sqrt", "Tanh",
    "Transpose", "Unsqueeze", "Where",
}
NP_NAMES = {1: "float32", 2: "uint8", 3: "int8", 6: "int32", 7: "int64", 9: "bool", 10: "float16", 11: "float64"}


def die(code, msg):
    print(f"slmc: error: {msg}", file=sys.stderr)
    sys.exit(code)


def compile_cmd(argv):
    import onnx
    model_path, out, dims, target = None, None, {}, None
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "-o":
            out = argv[i + 1]; i += 2; continue
        if a.startswith("--target="):
            target = a.split("=", 1)[1]
        elif a == "--dim":
            m = re.fullmatch(r"(.+)=(\d+)", argv[i + 1])
            if not m:
                die(2, f"bad --dim '{argv[i + 1]}'")
            dims[m.group(1)] = int(m.group(2)); i += 2; continue
        elif a.startswith("-"):
            die(2, f"unknown option '{a}'")
        else:
            model_path = a
        i += 1
    if not model_path or not out or target not in ("x86_64", "arm64", "riscv64"):
        die(2, "usage: compile MODEL.onnx --target=x86_64 -o OUT.slm [--dim NAME=MAX]...")
    try:
        data = open(model_path, "rb").read()
    except OSError as e:
        die(2, f"{model_path}: cannot read: {e.strerror}")
    try:
        model = onnx.load_model_from_string(data)
    except Exception as e:  # noqa: BLE001
        die(2, f"{model_path}: not a valid ONNX model: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
    if not model.graph.node:
        die(2, f"{model_path}: not a valid ONNX model: empty graph")
    for n in model.graph.node:
        if n.domain not in ("", "ai.onnx") or n.op_type not in SUPPORTED:
            die(2, f"{model_path}: unsupported op {n.domain or 'ai.onnx'}::{n.op_type} (node '{n.name}')")
    for t in model.graph.initializer:
        if t.data_location == onnx.TensorProto.EXTERNAL:
            loc = {e.key: e.value for e in t.external_data}.get("location", "")
            if not os.path.exists(os.path.join(os.path.dirname(os.path.abspath(model_path)), loc)):
                die(2, f"{model_path}: initializer '{t.name}': external data file '{loc}' not found")
    try:
        onnx.checker.check_model(model)
    except Exception as e:  # noqa: BLE001
        die(2, f"{model_path}: invalid model: {e}")
    header = json.dumps({"crc": zlib.crc32(data), "size": len(data), "dims": dims}).encode()
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(MAGIC + len(header).to_bytes(4, "little") + header + data)
    os.replace(tmp, out)
    return 0


def run_cmd(argv):
    import onnx
    art, inputs, in_dir, out_dir = None, {}, None, None
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--input":
            k, _, v = argv[i + 1].partition("=")
            inputs[k] = v; i += 2; continue
        if a == "--input-dir":
            in_dir = argv[i + 1]; i += 2; continue
        if a == "--output-dir":
            out_dir = argv[i + 1]; i += 2; continue
        if a == "--threads":
            i += 2; continue
        if a.startswith("-"):
            die(2, f"unknown option '{a}'")
        art = a
        i += 1
    if not art or not out_dir or (not inputs and not in_dir):
        die(2, "usage: run ART.slm (--input NAME=FILE)... | --input-dir DIR --output-dir DIR")
    try:
        blob = open(art, "rb").read()
    except OSError as e:
        die(2, f"{art}: cannot read: {e.strerror}")
    if blob[:8] != MAGIC or len(blob) < 12:
        die(2, f"{art}: not a .slm artifact")
    hl = int.from_bytes(blob[8:12], "little")
    try:
        header = json.loads(blob[12:12 + hl])
    except Exception:  # noqa: BLE001
        die(2, f"{art}: invalid artifact: corrupted header")
    data = blob[12 + hl:]
    if len(data) != header["size"]:
        die(2, f"{art}: invalid artifact: truncated ({len(data)} of {header['size']} bytes)")
    if zlib.crc32(data) != header["crc"]:
        die(2, f"{art}: invalid artifact: checksum mismatch")
    model = onnx.load_model_from_string(data)
    inits = {t.name for t in model.graph.initializer}
    sig = [v for v in model.graph.input if v.name not in inits]
    names = [v.name for v in sig]
    files = dict(inputs)
    if in_dir:
        for n in names:
            files.setdefault(n, os.path.join(in_dir, re.sub(r"[/:]", "_", n) + ".npy"))
    for k in files:
        if k not in names:
            die(2, f"unknown input '{k}' (model inputs: {', '.join(names)})")
    staged = tempfile.mkdtemp(prefix="fake-slmc-")
    try:
        for v in sig:
            f = files.get(v.name)
            if not f or not os.path.exists(f):
                die(2, f"missing input '{v.name}' ({f})")
            try:
                arr = np.load(f, allow_pickle=False)
            except Exception as e:  # noqa: BLE001
                die(2, f"{f}: cannot read .npy: {e}")
            tt = v.type.tensor_type
            want = NP_NAMES.get(tt.elem_type, str(tt.elem_type))
            if str(arr.dtype) != want:
                die(2, f"input '{v.name}': dtype {arr.dtype}, expected {want}")
            dims = list(tt.shape.dim)
            if arr.ndim != len(dims):
                die(2, f"input '{v.name}': rank {arr.ndim} (shape {list(arr.shape)}), expected rank {len(dims)}")
            for ax, (d, n) in enumerate(zip(dims, arr.shape)):
                if d.HasField("dim_value") and d.dim_value != n:
                    die(2, f"input '{v.name}': shape {list(arr.shape)}, dim {ax} must be {d.dim_value}")
                bound = header["dims"].get(d.dim_param)
                if d.dim_param and bound is not None and n > bound:
                    die(2, f"input '{v.name}': dimension '{d.dim_param}' is {n}, beyond its bound {bound}")
            shutil.copy(f, os.path.join(staged, re.sub(r"[/:]", "_", v.name) + ".npy"))
        mpath = os.path.join(staged, "model.onnx")
        with open(mpath, "wb") as fh:
            fh.write(data)
        ref = os.path.join(staged, "out")
        p = subprocess.run(["node", os.path.join(HERE, "ort_run.js"), "--model", mpath, "--input-dir", staged,
                            "--output-dir", ref], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            die(1, f"execution failed: {p.stderr.strip()}")
        eps = float(os.environ.get("FAKE_SLMC_PERTURB", "0"))
        os.makedirs(out_dir, exist_ok=True)
        for fn in sorted(os.listdir(ref)):
            y = np.load(os.path.join(ref, fn))
            if eps and np.issubdtype(y.dtype, np.floating) and y.size:
                y = (y + eps * np.abs(y).max()).astype(y.dtype)
            np.save(os.path.join(out_dir, fn), y)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return 0


def main():
    argv = sys.argv[1:]
    if not argv:
        die(2, "usage: compile ... | run ...")
    if argv[0] == "compile":
        return compile_cmd(argv[1:])
    if argv[0] == "run":
        return run_cmd(argv[1:])
    return run_cmd(argv)  # slm-run mode


if __name__ == "__main__":
    sys.exit(main())
