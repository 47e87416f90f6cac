#!/usr/bin/python3
"""Import edge cases: weights in external data files (small and >2 GiB), external paths that
leave the model's folder, and ops of a non-default domain.

Usage: /usr/bin/python3 tests/conformance/external_data_cases.py --slmc SLMC --work DIR CASE...
  CASE: external      MatMul + Add whose weights live in `weights.bin` next to the model;
                      compiled, run and compared with numpy.
        large         a Gather table of 2.3 GiB in `table.bin` (written at test time, deleted
                      after): compiles without putting >2 GiB into one protobuf, within a memory
                      budget (peak RSS of slmc <= --max-rss-gib), and gathers the right rows.
        refuse        external data at `../w.bin` and at an absolute path: exit 2, a message
                      saying the path leaves the model's folder / is absolute.
        domain        an ai.onnx.ml op (and a custom-domain op): exit 2 naming the domain.
Exit 0 when every case behaves, 1 otherwise.
"""
import argparse
import os
import resource
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper


def external_tensor(name, dtype, dims, location, offset=0, length=None):
    t = TensorProto()
    t.name = name
    t.data_type = dtype
    t.dims.extend(dims)
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", str(offset)), ("length", None if length is None else str(length))):
        if v is not None:
            e = t.external_data.add()
            e.key, e.value = k, v
    return t


def save(model, path):
    onnx.checker.check_model(path_free_copy(model))
    with open(path, "wb") as f:  # no onnx.save: it would try to resolve external data
        f.write(model.SerializeToString())


def path_free_copy(model):
    """The model with external initializers dropped, for the structural check in Python."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    keep = [t for t in m.graph.initializer if t.data_location != TensorProto.EXTERNAL]
    del m.graph.initializer[:]
    m.graph.initializer.extend(keep)
    for t in model.graph.initializer:
        if t.data_location == TensorProto.EXTERNAL:
            m.graph.input.append(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
    return m


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def compile_run(slmc, model, work, inputs, max_rss_gib=None):
    """Compiles and runs; returns ({output name: array}, peak compile RSS in GiB) or raises."""
    art = os.path.join(work, "model.slm")
    p = run([slmc, "compile", model, "--target=x86_64", "-o", art])
    # Largest child so far; the big compile dominates the small ones before it.
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # KiB -> GiB
    if p.returncode != 0:
        raise RuntimeError("compile failed (exit %d): %s" % (p.returncode, p.stderr.strip()))
    if max_rss_gib and rss > max_rss_gib:
        raise RuntimeError("compile peak RSS %.2f GiB exceeds %.2f GiB" % (rss, max_rss_gib))
    in_dir, out_dir = os.path.join(work, "in"), os.path.join(work, "out")
    os.makedirs(in_dir, exist_ok=True)
    for name, arr in inputs.items():
        np.save(os.path.join(in_dir, name + ".npy"), arr)
    p = run([slmc, "run", art, "--input-dir", in_dir, "--output-dir", out_dir])
    if p.returncode != 0:
        raise RuntimeError("run failed (exit %d): %s" % (p.returncode, p.stderr.strip()))
    outs = {f[:-4]: np.load(os.path.join(out_dir, f)) for f in os.listdir(out_dir)}
    return outs, rss


def case_external(slmc, work):
    rng = np.random.default_rng(0)
    w = rng.normal(size=(16, 8)).astype(np.float32)
    b = rng.normal(size=(8,)).astype(np.float32)
    with open(os.path.join(work, "weights.bin"), "wb") as f:
        f.write(b"\0" * 64)  # data starts at an offset, as tools that pack several tensors write it
        f.write(w.tobytes())
        f.write(b.tobytes())
    inits = [external_tensor("W", TensorProto.FLOAT, [16, 8], "weights.bin", 64, w.nbytes),
             external_tensor("B", TensorProto.FLOAT, [8], "weights.bin", 64 + w.nbytes, b.nbytes)]
    g = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["h"]),
                           helper.make_node("Add", ["h", "B"], ["y"])], "ext",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 16])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 8])], inits)
    model = os.path.join(work, "model.onnx")
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), model)
    x = rng.normal(size=(2, 16)).astype(np.float32)
    outs, _ = compile_run(slmc, model, work, {"x": x})
    err = float(np.max(np.abs(outs["y"] - (x @ w + b))))
    if err > 1e-4:
        raise RuntimeError("output differs from numpy by %g" % err)
    return "matches numpy (max abs err %.2g)" % err


def case_large(slmc, work, max_rss_gib):
    rows, cols = 600_000, 1024  # float32: 2.29 GiB in one tensor
    path = os.path.join(work, "table.bin")
    # Row r holds r + c / 1024, written in chunks so the test itself stays small in memory.
    col = (np.arange(cols, dtype=np.float32) / 1024).astype(np.float32)
    with open(path, "wb") as f:
        for r0 in range(0, rows, 20_000):
            r = np.arange(r0, min(rows, r0 + 20_000), dtype=np.float32)[:, None]
            f.write((r + col[None, :]).astype(np.float32).tobytes())
    table = external_tensor("table", TensorProto.FLOAT, [rows, cols], "table.bin")
    g = helper.make_graph([helper.make_node("Gather", ["table", "ids"], ["y"], axis=0)], "large",
                          [helper.make_tensor_value_info("ids", TensorProto.INT64, [3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, cols])], [table])
    model = os.path.join(work, "model.onnx")
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), model)
    if os.path.getsize(model) > 1 << 20:
        raise RuntimeError("the model protobuf itself should be tiny")
    ids = np.array([0, 123_457, rows - 1], np.int64)
    try:
        outs, rss = compile_run(slmc, model, work, {"ids": ids}, max_rss_gib)
    finally:
        for f in ("table.bin", "model.slm"):
            if os.path.exists(os.path.join(work, f)):
                os.remove(os.path.join(work, f))
    want = ids.astype(np.float32)[:, None] + col[None, :]
    if not np.array_equal(outs["y"], want):
        raise RuntimeError("gathered rows differ")
    return "2.29 GiB of weights compiled (peak RSS %.2f GiB) and gathered correctly" % rss


def refuse(slmc, work, location, want):
    d = os.path.join(work, "model_dir")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(work, "w.bin"), "wb") as f:  # exists, but outside the model's folder
        f.write(np.ones(4, np.float32).tobytes())
    t = external_tensor("W", TensorProto.FLOAT, [4], location)
    g = helper.make_graph([helper.make_node("Add", ["x", "W"], ["y"])], "refuse",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])], [t])
    model = os.path.join(d, "model.onnx")
    with open(model, "wb") as f:  # the ONNX checker would refuse it in Python already
        f.write(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString())
    p = run([slmc, "compile", model, "--target=x86_64", "-o", os.path.join(work, "r.slm")])
    msg = p.stderr.strip()
    if p.returncode != 2 or want not in msg:
        raise RuntimeError("%s: expected exit 2 with '%s', got exit %d: %s" % (location, want, p.returncode, msg))
    return "%s refused: %s" % (location, msg.splitlines()[0] if msg else "")


def case_refuse(slmc, work):
    a = refuse(slmc, work, "../w.bin", "leaves the model's folder")
    b = refuse(slmc, work, os.path.join(work, "w.bin"), "is absolute")
    return a + "\n    " + b


def case_domain(slmc, work):
    notes = []
    for domain, op, attrs in (("ai.onnx.ml", "Normalizer", {"norm": "L2"}), ("com.example", "MyOp", {})):
        g = helper.make_graph([helper.make_node(op, ["x"], ["y"], domain=domain, **attrs)], "dom",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid(domain, 1)])
        model = os.path.join(work, domain + ".onnx")
        with open(model, "wb") as f:
            f.write(m.SerializeToString())
        p = run([slmc, "compile", model, "--target=x86_64", "-o", os.path.join(work, "d.slm")])
        msg = p.stderr.strip()
        if p.returncode != 2 or ("domain '%s'" % domain) not in msg:
            raise RuntimeError("%s: expected exit 2 naming the domain, got exit %d: %s" % (domain, p.returncode, msg))
        notes.append(msg.splitlines()[0])
    return "\n    ".join(notes)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--slmc", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--max-rss-gib", type=float, default=8.0,
                    help="peak RSS allowed for compiling the 2.3 GiB model (default 8)")
    ap.add_argument("cases", nargs="+", choices=["external", "large", "refuse", "domain"])
    args = ap.parse_args(argv)
    failed = 0
    for case in args.cases:
        work = os.path.join(args.work, case)
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        try:
            if case == "large":
                note = case_large(args.slmc, work, args.max_rss_gib)
            else:
                note = {"external": case_external, "refuse": case_refuse, "domain": case_domain}[case](args.slmc, work)
            print("%s: OK: %s" % (case, note))
            shutil.rmtree(work, ignore_errors=True)
        except Exception as e:
            failed += 1
            print("%s: FAILED: %s" % (case, e))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
