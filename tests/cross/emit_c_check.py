"""`slmc compile --emit=c`: the generated kernels as C compile with gcc for x86_64 and with the
aarch64/riscv64 gcc cross compilers, and give the reference results (under qemu-user for the cross
builds).

The C comes from the models whose ops have generated kernels: tiny_llama (rms_norm, and
slm.elementwise Cos/Sin of the rope tables), tiny_gpt2 (LayerNormalization with bias), softmax_rows
(Softmax) and, with --elementwise-model, elementwise_chains (slm.elementwise). A harness written here calls
every `_mlir_ciface_<name>` entry point of the file through the slm_kernel_abi.h views (3 rows of
D columns, a row stride larger than D, seeded values) and prints the outputs; numpy computes each
kernel from its name (kind, epsilon bits, bias; an elementwise kernel from the "y = Mul(Add(x, p), 0.5)"
comment the C carries above its entry point) and the outputs must agree within 1e-5. A compiler
or qemu that is missing skips that ISA with a message.

  emit_c_check.py --slmc SLMC --models DIR --softmax-model ONNX --work DIR
"""
import argparse
import os
import re
import shutil
import struct
import subprocess
import sys

import numpy as np

D, ROWS, STRIDE = 24, 3, 29

HARNESS = r'''
#include <stdio.h>
#include "KERNELS"
static float x[ROWS * STRIDE], y[ROWS * STRIDE], p[D], q[D];
int main(void) {
  for (int i = 0; i < ROWS * STRIDE; ++i) x[i] = (float)((i * 37 % 101) - 50) / 17.0f;
  for (int i = 0; i < D; ++i) { p[i] = 0.5f + (float)i / D; q[i] = (float)(i % 5) - 2.0f; }
  slm_kabi_view2d_f32_t vy = {y, y, 0, {ROWS, D}, {STRIDE, 1}}, vx = {x, x, 0, {ROWS, D}, {STRIDE, 1}};
  slm_kabi_view1d_f32_t vp = {p, p, 0, {D}, {1}}, vq = {q, q, 0, {D}, {1}};
CALLS
  return 0;
}
'''


def run(cmd, check=True):
    print("+", " ".join(cmd), flush=True)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check and r.returncode != 0:
        sys.exit(f"FAIL: exit {r.returncode}: {r.stderr[-2000:]}")
    return r


def elementwise(expr, x, p, q):
    """Evaluates a "Sigmoid(Mul(x, p))" step expression (the C file's comment) in float64."""
    import math
    unary = {"Relu": lambda v: np.maximum(v, 0), "Sigmoid": lambda v: 1 / (1 + np.exp(-v)), "Tanh": np.tanh,
             "Exp": np.exp, "Neg": np.negative, "Abs": np.abs, "Sqrt": np.sqrt, "Cos": np.cos, "Sin": np.sin,
             "Erf": np.vectorize(math.erf)}
    binary = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}
    env = {"x": x, "p": p, "q": q}
    env.update(unary)
    env.update(binary)
    if not re.fullmatch(r"[A-Za-z(), .0-9eE+-]+", expr):
        sys.exit(f"FAIL: unexpected step expression {expr!r}")
    with np.errstate(all="ignore"):
        return eval(expr, {"__builtins__": {}}, env)  # noqa: S307 - the names are the step kinds above


def reference(name, exprs):
    idx = np.arange(ROWS * STRIDE)
    x = (((idx * 37) % 101) - 50).astype(np.float32) / np.float32(17.0)
    x = x.reshape(ROWS, STRIDE)[:, :D].astype(np.float64)
    p = 0.5 + np.arange(D) / D
    q = (np.arange(D) % 5) - 2.0
    m = re.search(r"eps([0-9a-f]{8})", name)
    eps = struct.unpack("<f", bytes.fromhex(m.group(1))[::-1])[0] if m else 0.0
    if name in exprs:
        return elementwise(exprs[name], x, p, q)
    if "softmax" in name:
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    if "rms_norm" in name:
        return x / np.sqrt((x * x).mean(axis=1, keepdims=True) + eps) * p
    mean = x.mean(axis=1, keepdims=True)
    y = (x - mean) / np.sqrt(((x - mean) ** 2).mean(axis=1, keepdims=True) + eps) * p
    return y + q if name.endswith("_bias") else y


TOOLCHAINS = [("x86_64", "gcc", None),
              ("arm64", "aarch64-linux-gnu-gcc", ["qemu-aarch64", "-cpu", "max", "-L", "/usr/aarch64-linux-gnu"]),
              ("riscv64", "riscv64-linux-gnu-gcc", ["qemu-riscv64", "-cpu", "rv64", "-L", "/usr/riscv64-linux-gnu"])]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slmc", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--softmax-model", required=True)
    ap.add_argument("--elementwise-model", help="elementwise_chains.onnx (slm.elementwise kernels)")
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    checked = 0
    for model in (os.path.join(args.models, "tiny_llama.onnx"), os.path.join(args.models, "tiny_gpt2.onnx"),
                  args.softmax_model) + ((args.elementwise_model,) if args.elementwise_model else ()):
        stem = os.path.join(args.work, os.path.splitext(os.path.basename(model))[0])
        run([args.slmc, "compile", model, "-o", stem + ".slm", "--emit=c", "--dim", "seq=8", "--dim", "past=8"])
        src = stem + ".kernels.c"
        text = open(src).read()
        names = re.findall(r"void _mlir_ciface_(\w+)\(", text)
        exprs = dict(re.findall(r"/\* (\w+): y = (.*) \*/", text))
        if not names:
            sys.exit(f"FAIL: {src} has no kernel entry point")
        calls = "\n".join(f'  _mlir_ciface_{n}(&vy, &vx, &vp, &vq);\n  printf("{n}");\n'
                          f'  for (int r = 0; r < ROWS; ++r) for (int c = 0; c < D; ++c) printf(" %.9g", y[r * STRIDE + c]);\n'
                          f'  printf("\\n");' for n in names)
        harness = stem + ".harness.c"
        with open(harness, "w") as f:
            f.write(HARNESS.replace("KERNELS", os.path.basename(src)).replace("CALLS", calls)
                    .replace("ROWS", str(ROWS)).replace("STRIDE", str(STRIDE)).replace("D]", f"{D}]")
                    .replace("D}", f"{D}}}").replace("< D;", f"< {D};").replace("/ D;", f"/ {D};"))
        for isa, cc, emulator in TOOLCHAINS:
            if not shutil.which(cc) or (emulator and not shutil.which(emulator[0])):
                print(f"SKIP {isa}: {cc} or its emulator is not installed")
                continue
            exe = f"{stem}.{isa}"
            run([cc, "-std=c99", "-O2", "-Wall", "-Werror", "-Wno-unused-variable", "-o", exe, harness, "-lm"])
            out = run((emulator or []) + [exe]).stdout
            for line in out.splitlines():
                name, *vals = line.split()
                got = np.array([float(v) for v in vals]).reshape(ROWS, D)
                want = reference(name, exprs)
                with np.errstate(invalid="ignore"):
                    both_nan = np.isnan(got) & np.isnan(want)
                    err = np.nanmax(np.where(both_nan, 0, np.abs(got - want) / (1 + np.abs(want))))
                if np.isnan(got[~both_nan]).any() or np.isnan(want[~both_nan]).any():
                    sys.exit(f"FAIL: {isa} {name}: NaN in one result only")
                print(f"{isa} {name}: max relative error {err:.3g}")
                if err > 1e-5:
                    sys.exit(f"FAIL: {isa} {name}: error {err}")
                checked += 1
    print(f"emit_c_check: OK ({checked} kernel runs)")


if __name__ == "__main__":
    main()
