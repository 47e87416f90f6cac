#!/usr/bin/python3
"""Fusion e2e cases: patterns that match are fused, near misses are left alone, and both still match ONNX Runtime.

Usage:
  tests/e2e/fusion_cases.py --slmc build/compiler/slmc --models benchmarks/models --work DIR [--ort-prefix P]

Each case writes a small ONNX model (or the tiny LM with an intermediate exposed as an extra graph
output), runs it through run_model_case.py (compile, run, compare with ONNX Runtime within 1e-4),
then checks `slmc inspect --json` op_counts: the fused op is there for a match and absent (or
fewer) for a near miss. Exit 0: all cases pass; 1 otherwise.
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


def const(name, value):
    return numpy_helper.from_array(np.asarray(value, dtype=np.float32), name)


def rms_norm_model(axis=-1, expose_sqrt=False):
    """x * 1/sqrt(mean(x^2) + eps) * w over `axis` of a [2, 4, 8] input."""
    rng = np.random.default_rng(0)
    nodes = [
        helper.make_node("Mul", ["x", "x"], ["sq"]),
        helper.make_node("ReduceMean", ["sq"], ["mean"], axes=[axis], keepdims=1),
        helper.make_node("Add", ["mean", "eps"], ["var"]),
        helper.make_node("Sqrt", ["var"], ["std"]),
        helper.make_node("Div", ["one", "std"], ["inv"]),
        helper.make_node("Mul", ["x", "inv"], ["n"]),
        helper.make_node("Mul", ["n", "w"], ["y"]),
    ]
    outs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4, 8])]
    if expose_sqrt:
        outs.append(helper.make_tensor_value_info("std", TensorProto.FLOAT, [2, 4, 1]))
    inits = [const("eps", 1e-5), const("one", 1.0), const("w", rng.normal(size=8))]
    return helper.make_graph(nodes, "rms", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4, 8])],
                             outs, inits)


def layer_norm_model(expose_centred=False):
    """LayerNorm over the last axis of a [2, 4, 8] input as written before opset 17, plus a bias."""
    rng = np.random.default_rng(2)
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["mu"], axes=[-1], keepdims=1),
        helper.make_node("Sub", ["x", "mu"], ["d"]),
        helper.make_node("Pow", ["d", "two"], ["sq"]),
        helper.make_node("ReduceMean", ["sq"], ["var"], axes=[-1], keepdims=1),
        helper.make_node("Add", ["var", "eps"], ["ve"]),
        helper.make_node("Sqrt", ["ve"], ["std"]),
        helper.make_node("Div", ["d", "std"], ["n"]),
        helper.make_node("Mul", ["n", "w"], ["g"]),
        helper.make_node("Add", ["g", "b"], ["y"]),
    ]
    outs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4, 8])]
    if expose_centred:
        outs.append(helper.make_tensor_value_info("d", TensorProto.FLOAT, [2, 4, 8]))
    inits = [const("eps", 1e-5), const("two", 2.0), const("w", rng.normal(size=8)), const("b", rng.normal(size=8))]
    return helper.make_graph(nodes, "ln", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4, 8])],
                             outs, inits)


def mlp_model(expose_matmul=False):
    """relu(x @ W + b) + x, and a SwiGLU silu(x @ Wg) * (x @ Wu)."""
    rng = np.random.default_rng(1)
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["mm"]),
        helper.make_node("Add", ["mm", "b"], ["biased"]),
        helper.make_node("Relu", ["biased"], ["act"]),
        helper.make_node("Add", ["x", "act"], ["y"]),
        helper.make_node("MatMul", ["x", "Wg"], ["g"]),
        helper.make_node("Sigmoid", ["g"], ["sg"]),
        helper.make_node("Mul", ["g", "sg"], ["silu"]),
        helper.make_node("MatMul", ["x", "Wu"], ["u"]),
        helper.make_node("Mul", ["silu", "u"], ["z"]),
    ]
    outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [3, 8]) for n in ("y", "z")]
    if expose_matmul:
        outs.append(helper.make_tensor_value_info("mm", TensorProto.FLOAT, [3, 8]))
    inits = [const(n, rng.normal(size=s) * 0.3) for n, s in (("W", (8, 8)), ("b", (8,)), ("Wg", (8, 8)), ("Wu", (8, 8)))]
    return helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 8])], outs,
                             inits)


def conv_model(expose_conv=False):
    """Relu(BatchNormalization(Conv(x))) on a [1, 3, 8, 8] input."""
    rng = np.random.default_rng(2)
    nodes = [
        helper.make_node("Conv", ["x", "W", "B"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c", "scale", "beta", "mean", "var"], ["n"], epsilon=1e-5),
        helper.make_node("Relu", ["n"], ["y"]),
    ]
    outs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8, 8])]
    if expose_conv:
        outs.append(helper.make_tensor_value_info("c", TensorProto.FLOAT, [1, 4, 8, 8]))
    inits = [const("W", rng.normal(size=(4, 3, 3, 3)) * 0.3), const("B", rng.normal(size=4)),
             const("scale", rng.uniform(0.5, 2, size=4)), const("beta", rng.normal(size=4)),
             const("mean", rng.normal(size=4)), const("var", rng.uniform(0.5, 2, size=4))]
    return helper.make_graph(nodes, "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                             outs, inits)


def save(graph, path):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def lm_with_output(src, path, tensor, shape):
    """The LM with one intermediate also returned: an extra consumer the fusion must respect."""
    model = onnx.load(src)
    model.graph.output.append(helper.make_tensor_value_info(tensor, TensorProto.FLOAT, shape))
    onnx.save(model, path)
    return path


def op_counts(slmc, artifact):
    out = subprocess.run([slmc, "inspect", artifact, "--json"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)["op_counts"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--slmc", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--ort-prefix", default=None)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    w = lambda n: os.path.join(args.work, n)
    llama = os.path.join(args.models, "tiny_llama.onnx")
    lm_args = ["--seq", "3", "--past", "2", "--dim", "seq=16", "--dim", "past=16"]
    # (name, model path, extra run_model_case args, check on op_counts, what the check means)
    cases = [
        ("rms_norm", save(rms_norm_model(), w("rms.onnx")), [], lambda c: c.get("rms_norm") == 1, "fused"),
        ("rms_norm_wrong_axis", save(rms_norm_model(axis=1), w("rms_axis.onnx")), [],
         lambda c: not c.get("rms_norm"), "left alone"),
        ("rms_norm_extra_consumer", save(rms_norm_model(expose_sqrt=True), w("rms_use.onnx")), [],
         lambda c: not c.get("rms_norm"), "left alone"),
        ("layer_norm", save(layer_norm_model(), w("ln.onnx")), [],
         lambda c: c.get("LayerNormalization") == 1 and not c.get("ReduceMean") and not c.get("Add"), "fused"),
        ("layer_norm_extra_consumer", save(layer_norm_model(expose_centred=True), w("ln_use.onnx")), [],
         lambda c: not c.get("LayerNormalization") and c.get("Sub") == 1, "left alone"),
        ("mlp", save(mlp_model(), w("mlp.onnx")), [],
         lambda c: c.get("fused_matmul") == 3 and not c.get("Relu") and not c.get("Sigmoid"), "fused"),
        ("mlp_extra_consumer", save(mlp_model(expose_matmul=True), w("mlp_use.onnx")), [],
         # The matmul keeps no epilogue; its bias Add + Relu stay outside it (as one slm.elementwise since
         # slm-fuse-elementwise, the residual Add separate).
         lambda c: c.get("fused_matmul") == 3 and (c.get("Relu") == 1 or (c.get("elementwise") == 1 and c.get("Add") == 1)),
         "bias + Relu left out of the matmul"),
        ("conv_bn_relu", save(conv_model(), w("conv.onnx")), [],
         lambda c: c == {"fused_conv": 1}, "fused"),
        ("conv_extra_consumer", save(conv_model(expose_conv=True), w("conv_use.onnx")), [],
         lambda c: c.get("BatchNormalization") == 1 and c.get("Relu") == 1, "left alone"),
        ("llama_probs_returned",
         lm_with_output(llama, w("llama_probs.onnx"), "/layers.0/self_attn/Softmax_output_0",
                        ["batch", 4, "seq", "total"]), lm_args,
         lambda c: c.get("attention") == 1 and c.get("Softmax") == 1, "layer 0 attention left alone"),
        ("llama_norm_returned",
         lm_with_output(llama, w("llama_sqrt.onnx"), "/layers.1/input_layernorm/Sqrt_output_0",
                        ["batch", "seq", 1]), lm_args,
         lambda c: c.get("rms_norm") == 4 and c.get("attention") == 2, "that norm left alone"),
    ]
    failed = 0
    for name, model, extra, check, meaning in cases:
        cmd = [sys.executable, os.path.join(HERE, "run_model_case.py"), "--slmc", args.slmc, "--model", model,
               "--case", name, "--work", w(name)] + extra
        if args.ort_prefix:
            cmd += ["--ort-prefix", args.ort_prefix]
        run = subprocess.run(cmd, capture_output=True, text=True)
        counts = op_counts(args.slmc, os.path.join(w(name), "model.slm")) if run.returncode == 0 else {}
        ok = run.returncode == 0 and check(counts)
        failed += not ok
        print(f"{'PASS' if ok else 'FAIL'} {name}: matches ONNX Runtime: {run.returncode == 0}; "
              f"{meaning}: {check(counts)}; ops {json.dumps(counts, sort_keys=True)}")
        if run.returncode:
            print(run.stdout[-2000:] + run.stderr[-2000:])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
