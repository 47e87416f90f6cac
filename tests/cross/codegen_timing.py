#!/usr/bin/python3
"""Generated vs reference kernels: median per-op time (SLM_PROFILE) of last-axis Softmax, RMSNorm, LayerNorm, elementwise chains.

  tests/cross/codegen_timing.py --slmc SLMC --runner "SLM_RUN" [--target x86_64] [--compile-arg ARG]...
      [--rows 256] [--cols 1024] [--repeat 7] [--work DIR]

Builds three one-op ONNX models (Softmax over the last axis; the exporter's RMSNorm pattern, which
slm-fuse-norm turns into slm.rms_norm; LayerNormalization with bias) and two elementwise chains that
slm-fuse-elementwise turns into slm.elementwise ((x*a+b) -> Sigmoid -> *0.75; Cos(x*3)), compiles each with
and without --codegen, runs each artifact --repeat times with SLM_PROFILE=1 and prints the median time of
the op per variant and the ratio; for the chains also the unfused ops' total (--disable-pass=slm-fuse-elementwise).
A measurement, not a test: the numbers depend on the machine's load (quote them with it).
"""
import argparse
import os
import re
import shlex
import statistics
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def softmax_model(rows, cols, path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [rows, cols])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [rows, cols])
    g = helper.make_graph([helper.make_node("Softmax", ["x"], ["y"], axis=-1)], "sm", [x], [y])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)


def rmsnorm_model(rows, cols, path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [rows, cols])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [rows, cols])
    inits = [numpy_helper.from_array(np.full([cols], 1.5, np.float32), "w"),
             numpy_helper.from_array(np.array(1e-5, np.float32), "eps"),
             numpy_helper.from_array(np.array(1.0, np.float32), "one")]
    nodes = [helper.make_node("Mul", ["x", "x"], ["sq"]),
             helper.make_node("ReduceMean", ["sq"], ["ms"], axes=[-1], keepdims=1),
             helper.make_node("Add", ["ms", "eps"], ["mse"]),
             helper.make_node("Sqrt", ["mse"], ["rms"]),
             helper.make_node("Div", ["one", "rms"], ["inv"]),
             helper.make_node("Mul", ["x", "inv"], ["xn"]),
             helper.make_node("Mul", ["xn", "w"], ["y"])]
    g = helper.make_graph(nodes, "rms", [x], [y], inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)


def layernorm_model(rows, cols, path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [rows, cols])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [rows, cols])
    inits = [numpy_helper.from_array(np.full([cols], 1.5, np.float32), "w"),
             numpy_helper.from_array(np.full([cols], 0.25, np.float32), "b")]
    g = helper.make_graph([helper.make_node("LayerNormalization", ["x", "w", "b"], ["y"], axis=-1)], "ln", [x], [y], inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)


def chain_model(rows, cols, path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [rows, cols])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [rows, cols])
    inits = [numpy_helper.from_array(np.linspace(0.5, 1.5, cols, dtype=np.float32), "a"),
             numpy_helper.from_array(np.linspace(-1, 1, cols, dtype=np.float32), "b"),
             numpy_helper.from_array(np.array(0.75, np.float32), "c")]
    nodes = [helper.make_node("Mul", ["x", "a"], ["m"]), helper.make_node("Add", ["m", "b"], ["s"]),
             helper.make_node("Sigmoid", ["s"], ["g"]), helper.make_node("Mul", ["g", "c"], ["y"])]
    g = helper.make_graph(nodes, "chain", [x], [y], inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)


def cos_model(rows, cols, path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [rows, cols])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [rows, cols])
    inits = [numpy_helper.from_array(np.array(3.0, np.float32), "k")]
    nodes = [helper.make_node("Mul", ["x", "k"], ["t"]), helper.make_node("Cos", ["t"], ["y"])]
    g = helper.make_graph(nodes, "cos", [x], [y], inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--slmc", required=True)
    ap.add_argument("--runner", required=True, help="slm-run command (e.g. 'tests/cross/qemu_run.sh arm64 build-arm64/runtime/slm-run')")
    ap.add_argument("--target", default="x86_64")
    ap.add_argument("--compile-arg", action="append", default=[])
    ap.add_argument("--rows", type=int, default=256)
    ap.add_argument("--cols", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--work", default="/tmp/slmc-codegen-timing")
    args = ap.parse_args()
    os.makedirs(os.path.join(args.work, "in"), exist_ok=True)
    np.save(os.path.join(args.work, "in", "x.npy"),
            np.random.default_rng(0).standard_normal((args.rows, args.cols), dtype=np.float32))
    for name, make, kind in (("softmax", softmax_model, "Softmax"), ("rms_norm", rmsnorm_model, "rms_norm"),
                             ("layer_norm", layernorm_model, "LayerNormalization"),
                             ("elementwise_chain", chain_model, "elementwise"), ("cos", cos_model, "elementwise")):
        model = os.path.join(args.work, name + ".onnx")
        make(args.rows, args.cols, model)
        med = {}
        variants = [("reference", []), ("generated", ["--codegen"])]
        if kind == "elementwise":
            variants.append(("unfused", ["--disable-pass=slm-fuse-elementwise"]))
        for variant, flags in variants:
            art = os.path.join(args.work, f"{name}.{variant}.slm")
            subprocess.run([args.slmc, "compile", model, "--target", args.target, "-o", art, *args.compile_arg, *flags],
                           check=True, capture_output=True)
            times = []
            for _ in range(args.repeat):
                p = subprocess.run(shlex.split(args.runner) + [art, "--input-dir", os.path.join(args.work, "in"),
                                   "--output-dir", os.path.join(args.work, "out"), "--threads", str(args.threads)],
                                   capture_output=True, text=True, env=dict(os.environ, SLM_PROFILE="1"))
                if p.returncode != 0:
                    sys.exit(f"{art}: {p.stderr}")
                found = re.findall(r"\b(\w+)=([0-9.]+)ms", p.stderr)
                # unfused: every op of the chain (the graph holds nothing else)
                times.append(sum(float(t) for k, t in found if variant == "unfused" or k == kind))
            med[variant] = statistics.median(times)
        print(f"{name} [{args.rows}x{args.cols}] {args.target} {' '.join(args.compile_arg)}: reference "
              f"{med['reference']:.3f} ms, generated {med['generated']:.3f} ms, "
              f"reference/generated {med['reference'] / med['generated']:.2f}x"
              + (f", unfused ops {med['unfused']:.3f} ms" if "unfused" in med else "") + f" (median of {args.repeat})")


if __name__ == "__main__":
    main()
