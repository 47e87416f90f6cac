#!/usr/bin/python3
"""Seeded generator of small pre-quantized ONNX models, as other tools' quantizers write them.

Usage: /usr/bin/python3 tests/conformance/make_quantized_models.py OUT_DIR [--seed 0]

Writes into OUT_DIR:
  qdq_cnn.onnx        QDQ format (ONNX Runtime's static quantization): int8 weights with
                      per-channel scales behind DequantizeLinear, activations through
                      QuantizeLinear/DequantizeLinear pairs (uint8), Conv/Relu/MaxPool/
                      GlobalAveragePool/Gemm in between.  x [1, 3, 16, 16] -> logits [1, 10]
  qlinear_cnn.onnx    QOperator format: QuantizeLinear -> QLinearConv -> QLinearConv ->
                      QLinearMatMul -> DequantizeLinear (int8 arithmetic throughout).
                      x [1, 3, 12, 12] -> y [1, 8]
  matmulinteger_linear.onnx
                      dynamic quantization (ONNX Runtime's quantize_dynamic): DynamicQuantizeLinear
                      on the activations, MatMulInteger with int8 weights, the scales folded back
                      with Cast/Mul, then bias; two layers.
                      x [batch, 4, 32] -> y [batch, 4, 16]
Every weight is drawn from numpy's seeded RNG and quantized here, so reruns write identical bytes.
"""
import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13


def qparams_u8(lo, hi):
    """uint8 scale/zero point for an activation range (widened to include 0)."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = np.float32((hi - lo) / 255.0)
    zp = np.uint8(np.clip(np.round(-lo / scale), 0, 255))
    return scale, zp


def quant_weight(w, axis=0):
    """Symmetric per-channel int8 weight along `axis`: (int8 values, float32 scales)."""
    red = tuple(i for i in range(w.ndim) if i != axis)
    scale = (np.abs(w).max(axis=red) / 127.0).astype(np.float32)
    shape = [1] * w.ndim
    shape[axis] = -1
    q = np.clip(np.round(w / scale.reshape(shape)), -127, 127).astype(np.int8)
    return q, scale


class Builder:
    def __init__(self):
        self.nodes, self.inits = [], []

    def init(self, name, arr):
        self.inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def node(self, op, ins, outs, **attrs):
        self.nodes.append(helper.make_node(op, ins, outs, name=outs[0] + "_" + op, **attrs))
        return outs[0]

    def qdq(self, x, name, lo, hi):
        """QuantizeLinear + DequantizeLinear of activation x with range [lo, hi]."""
        s, z = qparams_u8(lo, hi)
        self.init(name + "_s", s)
        self.init(name + "_z", z)
        q = self.node("QuantizeLinear", [x, name + "_s", name + "_z"], [name + "_q"])
        return self.node("DequantizeLinear", [q, name + "_s", name + "_z"], [name + "_dq"])

    def dq_weight(self, name, w, axis=0):
        q, s = quant_weight(w, axis)
        self.init(name + "_q", q)
        self.init(name + "_s", s)
        self.init(name + "_z", np.zeros_like(s, dtype=np.int8))
        return self.node("DequantizeLinear", [name + "_q", name + "_s", name + "_z"], [name + "_dq"],
                         axis=axis)

    def model(self, name, inputs, outputs):
        g = helper.make_graph(self.nodes, name, inputs, outputs, self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="slmc-make-quantized-models")
        m.ir_version = 7
        onnx.checker.check_model(m)
        return m


def qdq_cnn(rng):
    b = Builder()
    x = b.qdq("x", "in", -3.0, 3.0)
    w1 = b.dq_weight("w1", rng.normal(0, 0.3, (8, 3, 3, 3)).astype(np.float32))
    b.init("b1", rng.normal(0, 0.1, 8).astype(np.float32))
    h = b.node("Conv", [x, w1, "b1"], ["c1"], pads=[1, 1, 1, 1])
    h = b.node("Relu", [h], ["r1"])
    h = b.qdq(h, "a1", 0.0, 4.0)
    h = b.node("MaxPool", [h], ["p1"], kernel_shape=[2, 2], strides=[2, 2])
    w2 = b.dq_weight("w2", rng.normal(0, 0.2, (16, 8, 3, 3)).astype(np.float32))
    b.init("b2", rng.normal(0, 0.1, 16).astype(np.float32))
    h = b.node("Conv", [h, w2, "b2"], ["c2"], pads=[1, 1, 1, 1], strides=[2, 2])
    h = b.node("Relu", [h], ["r2"])
    h = b.qdq(h, "a2", 0.0, 6.0)
    h = b.node("GlobalAveragePool", [h], ["gap"])
    h = b.node("Flatten", [h], ["flat"])
    h = b.qdq(h, "a3", 0.0, 4.0)
    w3 = b.dq_weight("w3", rng.normal(0, 0.3, (10, 16)).astype(np.float32), axis=0)
    b.init("b3", rng.normal(0, 0.1, 10).astype(np.float32))
    b.node("Gemm", [h, w3, "b3"], ["logits"], transB=1)
    return b.model("qdq_cnn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
                   [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])])


def qlinear_cnn(rng):
    b = Builder()
    xs, xz = qparams_u8(-3.0, 3.0)
    b.init("x_s", xs)
    b.init("x_z", xz)
    q = b.node("QuantizeLinear", ["x", "x_s", "x_z"], ["xq"])
    layers = [("c1", (8, 3, 3, 3), 0.0, 5.0, 1), ("c2", (8, 8, 3, 3), 0.0, 5.0, 2)]
    prev_s, prev_z = "x_s", "x_z"
    for name, shape, lo, hi, stride in layers:
        wq, ws = quant_weight(rng.normal(0, 0.3, shape).astype(np.float32))
        b.init(name + "_w", wq)
        b.init(name + "_ws", ws)
        b.init(name + "_wz", np.zeros(shape[0], np.int8))
        bias = rng.normal(0, 0.2, shape[0]).astype(np.float32)
        in_scale = float(numpy_helper.to_array([t for t in b.inits if t.name == prev_s][0]))
        b.init(name + "_b", np.round(bias / (in_scale * ws)).astype(np.int32))
        ys, yz = qparams_u8(lo, hi)
        b.init(name + "_ys", ys)
        b.init(name + "_yz", yz)
        q = b.node("QLinearConv", [q, prev_s, prev_z, name + "_w", name + "_ws", name + "_wz",
                                   name + "_ys", name + "_yz", name + "_b"], [name + "_y"],
                   pads=[1, 1, 1, 1], strides=[stride, stride])
        prev_s, prev_z = name + "_ys", name + "_yz"
    # [1, 8, 6, 6] -> [1, 8, 36] -> QLinearMatMul with [36, 8] -> [1, 8, 8] -> flatten head
    b.init("shape", np.array([1, 8, 36], np.int64))
    q = b.node("Reshape", [q, "shape"], ["flat"])
    wq, ws = quant_weight(rng.normal(0, 0.2, (36, 8)).astype(np.float32), axis=1)
    b.init("m_w", wq)
    b.init("m_ws", np.float32(ws.max()))  # QLinearMatMul: per-tensor b scale
    b.init("m_wz", np.int8(0))
    ys, yz = qparams_u8(-8.0, 8.0)
    b.init("m_ys", ys)
    b.init("m_yz", yz)
    q = b.node("QLinearMatMul", [q, prev_s, prev_z, "m_w", "m_ws", "m_wz", "m_ys", "m_yz"], ["mm"])
    b.node("DequantizeLinear", [q, "m_ys", "m_yz"], ["y"])
    return b.model("qlinear_cnn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 12, 12])],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 8])])


def matmulinteger_linear(rng):
    b = Builder()
    h = "x"
    for name, (k, n) in (("l1", (32, 24)), ("l2", (24, 16))):
        wq, ws = quant_weight(rng.normal(0, 0.3, (k, n)).astype(np.float32), axis=1)
        b.init(name + "_w", wq)
        b.init(name + "_ws", ws)
        b.init(name + "_wz", np.zeros(n, np.int8))
        b.init(name + "_b", rng.normal(0, 0.1, n).astype(np.float32))
        b.node("DynamicQuantizeLinear", [h], [name + "_xq", name + "_xs", name + "_xz"])
        b.node("MatMulInteger", [name + "_xq", name + "_w", name + "_xz", name + "_wz"], [name + "_acc"])
        b.node("Cast", [name + "_acc"], [name + "_accf"], to=TensorProto.FLOAT)
        b.node("Mul", [name + "_xs", name + "_ws"], [name + "_scale"])
        b.node("Mul", [name + "_accf", name + "_scale"], [name + "_mm"])
        h = b.node("Add", [name + "_mm", name + "_b"], [name + "_y"])
        if name == "l1":
            h = b.node("Relu", [h], ["l1_r"])
    b.node("Identity", [h], ["y"])
    batch = "batch"
    return b.model("matmulinteger_linear",
                   [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 4, 32])],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 4, 16])])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    for i, make in enumerate((qdq_cnn, qlinear_cnn, matmulinteger_linear)):
        m = make(np.random.default_rng(args.seed + i))
        path = os.path.join(args.out_dir, make.__name__ + ".onnx")
        onnx.save(m, path)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
