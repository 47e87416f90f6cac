#!/usr/bin/python3
"""Pre-quantized models end to end: generate them, check they compile to int8 ops and weights,
and compare their outputs with ONNX Runtime's within int8 tolerance.

Usage: /usr/bin/python3 tests/conformance/quantized_cases.py --slmc SLMC --work DIR
           --ort-prefix PEERS [--tol 0.03]

Models come from make_quantized_models.py (seeded). Per model:
  - `slmc inspect --json` must show the quantized ops themselves (QuantizeLinear/
    DequantizeLinear, QLinearConv/QLinearMatMul, DynamicQuantizeLinear/MatMulInteger) and none
    of the float ops they replace (the QDQ CNN's Conv islands run as QLinearConv, not as float
    Conv/fused_conv between DequantizeLinear and QuantizeLinear), and the artifact's weights
    must be stored as 8-bit (weights_bytes well below the float32 size);
  - tests/e2e/run_model_case.py compares every output with ONNX Runtime: max|out - ref| /
    max|ref| <= tol. Both sides round to 8 bits at the same places, so they differ only where
    float sums land on the other side of a rounding boundary: a few output steps at most.
Exit 0 when every model passes, 1 otherwise.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
RUN_MODEL_CASE = os.path.join(os.path.dirname(HERE), "e2e", "run_model_case.py")

# model -> (ops that must appear in the artifact, ops that must not, extra run_model_case.py args)
MODELS = {
    "qdq_cnn": ({"QuantizeLinear", "DequantizeLinear", "QLinearConv"}, {"Conv", "fused_conv"}, []),
    "qlinear_cnn": ({"QuantizeLinear", "QLinearConv", "QLinearMatMul", "DequantizeLinear"}, set(), []),
    "matmulinteger_linear": ({"DynamicQuantizeLinear", "MatMulInteger"}, set(), ["--dim", "batch=4"]),
}


def check_int8(slmc, model_path, art, want_ops, float_ops):
    p = subprocess.run([slmc, "inspect", art, "--json"], capture_output=True, text=True)
    if p.returncode != 0:
        return "inspect failed: " + p.stderr.strip()
    info = json.loads(p.stdout)
    missing = sorted(want_ops - set(info.get("op_counts", {})))
    if missing:
        return "artifact lacks ops %s (has %s)" % (missing, sorted(info.get("op_counts", {})))
    left = sorted(float_ops & set(info["op_counts"]))
    if left:
        return "artifact still runs float ops %s (op counts %s)" % (left, info["op_counts"])
    model = onnx.load(model_path)
    q8 = sum(numpy_helper.to_array(t).size for t in model.graph.initializer
             if t.data_type in (onnx.TensorProto.INT8, onnx.TensorProto.UINT8))
    # Scales, int32 biases and 64-byte alignment of each constant come on top of the 8-bit
    # weights; float32 weights alone would take q8 * 4 bytes.
    if info["weights_bytes"] >= q8 * 3:
        return "weights take %d bytes; %d weights stored as 8-bit should take well under %d" % (
            info["weights_bytes"], q8, q8 * 3)
    return None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--slmc", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--ort-prefix", required=True)
    ap.add_argument("--tol", type=float, default=0.03)
    args = ap.parse_args(argv)
    models_dir = os.path.join(args.work, "models")
    subprocess.run([sys.executable, os.path.join(HERE, "make_quantized_models.py"), models_dir],
                   check=True, stdout=subprocess.DEVNULL)
    failed = 0
    for name, (ops, float_ops, extra) in MODELS.items():
        model = os.path.join(models_dir, name + ".onnx")
        work = os.path.join(args.work, name)
        p = subprocess.run([sys.executable, RUN_MODEL_CASE, "--slmc", args.slmc, "--model", model,
                            "--case", name, "--ort-prefix", args.ort_prefix, "--work", work,
                            "--tol", str(args.tol)] + extra, capture_output=True, text=True)
        sys.stdout.write(p.stdout)
        if p.returncode != 0:
            failed += 1
            sys.stdout.write(p.stderr)
            print("%s: FAILED against ONNX Runtime" % name)
            continue
        why = check_int8(args.slmc, model, os.path.join(work, "model.slm"), ops, float_ops)
        if why:
            failed += 1
            print("%s: FAILED: %s" % (name, why))
        else:
            print("%s: int8 ops and 8-bit weights in the artifact" % name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
