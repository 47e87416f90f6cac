#!/usr/bin/python3
"""Writes softmax_rows.onnx: last-axis Softmax (a generated kernel with --codegen) beside a Softmax over
axis 1 (stays on the reference kernel), rows of 1000 so the executor splits them among threads.

  x [1, seq, 1000] -> s = Softmax(x, axis=-1), y = s + Softmax(x, axis=1); outputs s, y
"""
import os
import sys

import onnx
from onnx import TensorProto, helper


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "softmax_rows.onnx")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "seq", 1000])
    s = helper.make_tensor_value_info("s", TensorProto.FLOAT, [1, "seq", 1000])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, "seq", 1000])
    nodes = [
        helper.make_node("Softmax", ["x"], ["s"], name="softmax_last", axis=-1),
        helper.make_node("Softmax", ["x"], ["t"], name="softmax_axis1", axis=1),
        helper.make_node("Add", ["s", "t"], ["y"], name="add"),
    ]
    graph = helper.make_graph(nodes, "softmax_rows", [x], [s, y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="slmc-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, out)


if __name__ == "__main__":
    main()
