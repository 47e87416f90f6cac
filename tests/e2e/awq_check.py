"""`slmc compile --quantize=w4 --quant-method=awq|gptq --calibration-data DIR` on a model built to need it.

The model (written here with onnx.helper, seeded): y = RMSNorm(x) @ W, where the norm's scale makes
four activation channels 20x larger than the rest, and the inputs lie near a 16-dimensional
subspace (correlated channels), as in trained LMs. Round-to-nearest w4 then
wastes its groups' range on the weight rows those channels read; activation-aware scaling moves
that range into the norm. On inputs outside the calibration sets, the AWQ artifact's output error
against fp32 (numpy, from `slmc run`) must be at most 0.7x RTN's (the model has one group, so this
is AWQ's scale search alone). GPTQ's error-compensating rounding, which uses the correlations, must
do the same.
The quant table must still report the layer as w4 for both.

  awq_check.py --slmc SLMC --work DIR
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

K, N, T = 64, 96, 16


def run(cmd, check=True):
    print("+", " ".join(cmd), flush=True)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check and r.returncode != 0:
        sys.exit(f"FAIL: exit {r.returncode}: {r.stderr[-2000:]}")
    return r


def make_model(path, rng):
    g = np.ones(K, np.float32)
    g[[3, 17, 40, 60]] = 20.0  # outlier channels
    w = (rng.standard_normal((K, N)) / np.sqrt(K)).astype(np.float32)
    inits = [numpy_helper.from_array(g, "g"), numpy_helper.from_array(w, "W"),
             numpy_helper.from_array(np.array(1e-5, np.float32), "eps")]
    nodes = [helper.make_node("Mul", ["x", "x"], ["sq"]),
             helper.make_node("ReduceMean", ["sq"], ["var"], axes=[-1], keepdims=1),
             helper.make_node("Add", ["var", "eps"], ["ve"]),
             helper.make_node("Sqrt", ["ve"], ["sd"]),
             helper.make_node("Div", ["x", "sd"], ["xn"]),
             helper.make_node("Mul", ["xn", "g"], ["h"]),
             helper.make_node("MatMul", ["h", "W"], ["y"])]
    graph = helper.make_graph(nodes, "awq", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, T, K])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, T, N])], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def outputs(args, art, sets):
    ys = []
    for s in sets:
        out = s + "." + os.path.basename(art)
        run([args.slmc, "run", art, "--input-dir", s, "--output-dir", out])
        ys.append(np.load(os.path.join(out, "y.npy")))
    return np.stack(ys)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slmc", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    rng = np.random.default_rng(5)
    model = os.path.join(args.work, "awq.onnx")
    make_model(model, rng)
    mix = rng.standard_normal((16, K)) / 4.0  # activations live near a 16-dim subspace, as in trained LMs

    def sets(prefix, n):
        out = []
        for i in range(n):
            d = os.path.join(args.work, prefix, f"s{i}")
            os.makedirs(d, exist_ok=True)
            x = rng.standard_normal((1, T, 16)) @ mix + 0.1 * rng.standard_normal((1, T, K))
            np.save(os.path.join(d, "x.npy"), x.astype(np.float32))
            out.append(d)
        return out
    cal, test = sets("cal", 16), sets("test", 4)
    arts = {}
    calib = ["--calibration-data", os.path.join(args.work, "cal")]
    for method, extra in (("fp32", []), ("rtn", ["--quantize=w4"]), ("awq", ["--quantize=w4", "--quant-method=awq", *calib]),
                          ("gptq", ["--quantize=w4", "--quant-method=gptq", *calib])):
        arts[method] = os.path.join(args.work, method + ".slm")
        r = run([args.slmc, "compile", model, "-o", arts[method], "-v", *extra])
        if method in ("awq", "gptq") and f"slmc: {method}:" not in r.stderr:
            sys.exit(f"FAIL: no {method} step reported:\n" + r.stderr)
        if method != "fp32" and "w4" not in run([args.slmc, "inspect", arts[method], "--json"]).stdout:
            sys.exit(f"FAIL: {method}: the layer is not w4")
    ref = outputs(args, arts["fp32"], test)
    err = {m: float(np.linalg.norm(outputs(args, arts[m], test) - ref) / np.linalg.norm(ref)) for m in ("rtn", "awq", "gptq")}
    print("relative output error vs fp32 on unseen inputs: " + ", ".join(f"{m} {e:.4g}" for m, e in err.items()))
    for m in ("awq", "gptq"):
        if not err[m] <= 0.7 * err["rtn"]:
            sys.exit(f"FAIL: {m} error {err[m]} is not at most 0.7x rtn's {err['rtn']}")
    print("awq_check: OK (awq and gptq)")


if __name__ == "__main__":
    main()
