#!/usr/bin/env python3
"""ONNX → ONNX Runtime MatMulNBits: every MatMul by a constant float32 [K, N] weight becomes com.microsoft
MatMulNBits (4 or 8 bits, block 32 along K, symmetric round-to-nearest, accuracy_level 4), so ONNX Runtime
runs the same weights as `slmc compile --quantize=w4a8|w8a8` (and llama.cpp's Q4_0/Q8_0).

Usage: onnx_to_matmulnbits.py IN.onnx OUT.onnx --bits 4|8 [--block 32] [--accuracy-level 4]
       onnx_to_matmulnbits.py --self-check

Rounding matches slmc's WeightQuantizer and GGUF Q4_0/Q8_0: int4 maps each block's value of largest
magnitude to -8 (scale = peak / -8), int8 uses scale = max|w| / 127; codes are stored offset by the
default zero point (8, 128), so no zero_points input is written. Embedding Gathers stay float32.
Exit codes: 0 ok, 2 bad input.
"""
import argparse
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper


def quantize_blocks(w, bits, block):
    """w [K, N] float32 → (B uint8 [N, blocks, block*bits/8], scales float32 [N * blocks])."""
    k, n = w.shape
    blocks = (k + block - 1) // block
    wt = np.zeros((n, blocks * block), np.float32)
    wt[:, :k] = w.T
    g = wt.reshape(n, blocks, block)
    if bits == 4:
        idx = np.abs(g).argmax(axis=2)
        peak = np.take_along_axis(g, idx[..., None], axis=2)[..., 0]
        scale = (peak / -8.0).astype(np.float16).astype(np.float32)  # fp16-rounded like slmc and Q4_0
        lo, hi, zp = -8, 7, 8
    else:
        scale = (np.abs(g).max(axis=2) / 127.0).astype(np.float16).astype(np.float32)
        lo, hi, zp = -127, 127, 128
    inv = np.divide(1.0, scale, out=np.zeros_like(scale), where=scale != 0)
    q = np.clip(np.rint(g * inv[..., None]), lo, hi).astype(np.int32) + zp
    q = q.astype(np.uint8)
    if bits == 4:  # element 2i in the low nibble, 2i + 1 in the high nibble
        q = (q[..., 0::2] & 0xF) | (q[..., 1::2] << 4)
    return np.ascontiguousarray(q), scale.reshape(-1)


def dequantize(b, scales, bits, block, k, n):
    blocks = b.shape[1]
    if bits == 4:
        q = np.empty((n, blocks, block), np.int32)
        q[..., 0::2] = b & 0xF
        q[..., 1::2] = b >> 4
        q -= 8
    else:
        q = b.astype(np.int32) - 128
    w = q * scales.reshape(n, blocks)[..., None]
    return w.reshape(n, blocks * block)[:, :k].T


def convert(model, bits, block, accuracy_level):
    inits = {t.name: t for t in model.graph.initializer}
    nodes, converted, kept = [], 0, []
    for node in model.graph.node:
        w = inits.get(node.input[1]) if node.op_type == "MatMul" and len(node.input) == 2 else None
        if w is None or w.data_type != onnx.TensorProto.FLOAT or len(w.dims) != 2:
            if node.op_type == "MatMul":
                kept.append(node.name or node.output[0])
            nodes.append(node)
            continue
        arr = numpy_helper.to_array(w)
        k, n = arr.shape
        b, s = quantize_blocks(arr, bits, block)
        base = (node.name or node.output[0]).replace("/", "_")
        b_init = numpy_helper.from_array(b, base + ".qweight")
        s_init = numpy_helper.from_array(s, base + ".scales")
        model.graph.initializer.extend([b_init, s_init])
        nodes.append(helper.make_node("MatMulNBits", [node.input[0], b_init.name, s_init.name], list(node.output),
                                      name=node.name, domain="com.microsoft", K=k, N=n, bits=bits,
                                      block_size=block, accuracy_level=accuracy_level))
        converted += 1
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    used = {i for nd in model.graph.node for i in nd.input}
    keep = [t for t in model.graph.initializer if t.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(keep)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return converted, kept


def self_check():
    rng = np.random.default_rng(0)
    for bits in (4, 8):
        for k, n in ((64, 48), (100, 7)):
            w = rng.standard_normal((k, n)).astype(np.float32)
            b, s = quantize_blocks(w, bits, 32)
            d = dequantize(b, s, bits, 32, k, n)
            step = np.repeat(s.reshape(n, -1), 32, axis=1)[:, :k].T
            err = np.abs(d - w) / np.maximum(np.abs(step), 1e-12)
            # int4 maps the peak to -8, so a value of the other sign near the peak clips to 7 (< 1 step off)
            assert err.max() <= (1.0 if bits == 4 else 0.5) + 1e-3, (bits, k, n, err.max())
            assert b.shape == (n, (k + 31) // 32, 32 * bits // 8)
    print("onnx_to_matmulnbits self-check: ok")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input", nargs="?")
    ap.add_argument("output", nargs="?")
    ap.add_argument("--bits", type=int, choices=(4, 8), default=4)
    ap.add_argument("--block", type=int, default=32)
    ap.add_argument("--accuracy-level", type=int, default=4)
    ap.add_argument("--self-check", action="store_true")
    args = ap.parse_args()
    if args.self_check:
        return self_check()
    if not args.input or not args.output:
        ap.print_usage(sys.stderr)
        return 2
    if args.block < 16 or args.block & (args.block - 1):
        print(f"onnx_to_matmulnbits: --block must be a power of two >= 16, got {args.block}", file=sys.stderr)
        return 2
    try:
        model = onnx.load(args.input)
    except Exception as e:  # noqa: BLE001 - any parse failure is bad input
        print(f"onnx_to_matmulnbits: {args.input}: cannot load: {e}", file=sys.stderr)
        return 2
    converted, kept = convert(model, args.bits, args.block, args.accuracy_level)
    if not converted:
        print(f"onnx_to_matmulnbits: {args.input}: no MatMul by a constant float32 matrix", file=sys.stderr)
        return 2
    big = model.ByteSize() > 1_800_000_000
    onnx.save(model, args.output, save_as_external_data=big,
              location=os.path.basename(args.output) + ".data" if big else None)
    print(f"{args.output}: {converted} MatMul -> MatMulNBits ({args.bits} bits, block {args.block}, "
          f"accuracy_level {args.accuracy_level}); MatMuls with a run-time B left as they are: {', '.join(kept) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
