#!/usr/bin/python3
"""Writes elementwise_chains.onnx: chains of float32 elementwise ops with constant operands that
slm-fuse-elementwise turns into slm.elementwise (generated kernels with --codegen), beside near misses.

  x [1, seq, 4, 128]
  y1 = Sigmoid(x * A + B) * 0.75                         A, B [128]: one op, p = A, q = B
  t  = x * F                                             F [128] in [0, 20]; t has two users: stays a Mul
  y2 = Cos(t), y3 = Sin(t)                               one-step ops each (range reduction up to |t| ~ 80)
  y4 = Erf(Sqrt(1 - Exp(-Abs(x)))) / 1.5                 Abs Neg Exp, 1 - . (constant on the left), Sqrt Erf Div
  y5 = Tanh(Relu(x - 0.1) * 2)
  y6 = Relu((x + V1) * V2 - V3)                          three vectors: one op, reference kernel only (ABI 1 has p, q)
  y7 = Sigmoid(x * K)                                    K [4, 1] broadcasts over axis 2: the Mul stays, Sigmoid alone fuses
  y8 = Cast(Exp(Cast(x, double) * 0.5), float)           float64: stays
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                               "elementwise_chains.onnx")
    rng = np.random.default_rng(7)
    c = 128
    consts = {
        "A": rng.uniform(0.5, 1.5, c), "B": rng.uniform(-1, 1, c), "F": rng.uniform(0, 20, c),
        "V1": rng.uniform(-1, 1, c), "V2": rng.uniform(0.5, 2, c), "V3": rng.uniform(-0.5, 0.5, c),
        "K": rng.uniform(0.5, 2, (4, 1)),
    }
    inits = [numpy_helper.from_array(v.astype(np.float32), k) for k, v in consts.items()]
    scalars = {"s075": 0.75, "one": 1.0, "s15": 1.5, "s01": 0.1, "two": 2.0}
    inits += [numpy_helper.from_array(np.array(v, np.float32), k) for k, v in scalars.items()]
    inits.append(numpy_helper.from_array(np.array(0.5, np.float64), "half64"))
    n = helper.make_node
    nodes = [
        n("Mul", ["x", "A"], ["m1"]), n("Add", ["m1", "B"], ["a1"]), n("Sigmoid", ["a1"], ["g1"]),
        n("Mul", ["g1", "s075"], ["y1"]),
        n("Mul", ["x", "F"], ["t"]), n("Cos", ["t"], ["y2"]), n("Sin", ["t"], ["y3"]),
        n("Abs", ["x"], ["b1"]), n("Neg", ["b1"], ["b2"]), n("Exp", ["b2"], ["b3"]), n("Sub", ["one", "b3"], ["b4"]),
        n("Sqrt", ["b4"], ["b5"]), n("Erf", ["b5"], ["b6"]), n("Div", ["b6", "s15"], ["y4"]),
        n("Sub", ["x", "s01"], ["r1"]), n("Relu", ["r1"], ["r2"]), n("Mul", ["r2", "two"], ["r3"]),
        n("Tanh", ["r3"], ["y5"]),
        n("Add", ["x", "V1"], ["v1"]), n("Mul", ["v1", "V2"], ["v2"]), n("Sub", ["v2", "V3"], ["v3"]),
        n("Relu", ["v3"], ["y6"]),
        n("Mul", ["x", "K"], ["k1"]), n("Sigmoid", ["k1"], ["y7"]),
        n("Cast", ["x"], ["d1"], to=TensorProto.DOUBLE), n("Mul", ["d1", "half64"], ["d2"]), n("Exp", ["d2"], ["d3"]),
        n("Cast", ["d3"], ["y8"], to=TensorProto.FLOAT),
    ]
    for i, node in enumerate(nodes):
        node.name = f"{node.op_type.lower()}_{i}"
    shape = [1, "seq", 4, c]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)
    outs = [helper.make_tensor_value_info(f"y{i}", TensorProto.FLOAT, shape) for i in range(1, 9)]
    graph = helper.make_graph(nodes, "elementwise_chains", [x], outs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="slmc-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, out)


if __name__ == "__main__":
    main()
