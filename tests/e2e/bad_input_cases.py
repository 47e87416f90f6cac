#!/usr/bin/python3
"""Bad-input driver: checks that slmc compile / slmc run / slm-run reject bad models, artifacts and inputs with exit code 2, a message naming the culprit, and no output files.

Usage (Debian's /usr/bin/python3; needs numpy and the onnx package):

  tests/e2e/bad_input_cases.py --slmc build/bin/slmc --slm-run build/bin/slm-run \
      --models benchmarks/models --work build/e2e/bad_inputs [--only NAME]...

--only NAME selects scenarios whose name equals NAME or starts with it
(e.g. --only corrupt_slm). --list prints the scenario names.

Every scenario requires: exit code 2 (not a crash, not 1), stderr containing
the expected distinctive substrings (file name, op type + domain, tensor or
dimension name), no .npy file in the --output-dir of a run, and no -o file
of a compile. One line per scenario (PASS name / FAIL name: why / SKIP
name: why) and a final line 'N passed, M failed[, K skipped]'. Exit 1 if any
scenario failed.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np

TIMEOUT = 600  # seconds per command


class ScenarioError(Exception):
    """A scenario failed; the message says why."""


class Skip(Exception):
    """A scenario cannot run here; the message says why."""


# ---- helpers -----------------------------------------------------------------

def run_cmd(cmd):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           errors="replace", timeout=TIMEOUT)
    except FileNotFoundError as e:
        raise ScenarioError(f"cannot execute {cmd[0]}: {e}")
    except subprocess.TimeoutExpired:
        raise ScenarioError(f"timed out after {TIMEOUT}s: {' '.join(cmd)}")
    return p


def short(text, n=300):
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n] + "..."


def npy_files(d):
    if not os.path.isdir(d):
        return []
    return sorted(f for f in os.listdir(d) if f.endswith(".npy"))


def expect_rejected(p, expect, *, out_dir=None, out_file=None):
    """Exit code 2, stderr matching every entry of `expect`, and no outputs.

    `expect` items: a str (case-insensitive substring) or a tuple of str
    (any one of them must occur)."""
    problems = []
    if p.returncode < 0:
        problems.append(f"crashed with signal {-p.returncode}")
    elif p.returncode != 2:
        problems.append(f"exit code {p.returncode}, expected 2")
    err = p.stderr.lower()
    for e in expect:
        alts = e if isinstance(e, tuple) else (e,)
        if not any(a.lower() in err for a in alts):
            problems.append("stderr does not mention " + " or ".join(repr(a) for a in alts))
    if p.returncode != 0 and not p.stderr.strip():
        problems.append("no message on stderr")
    if out_dir is not None and npy_files(out_dir):
        problems.append(f"left output files {npy_files(out_dir)} in {out_dir}")
    if out_file is not None and os.path.exists(out_file):
        problems.append(f"left output file {out_file}")
    if problems:
        raise ScenarioError("; ".join(problems) + f" [stderr: {short(p.stderr) or '<empty>'}]")


def fresh_dir(path):
    if os.path.isdir(path):
        shutil.rmtree(path)
    os.makedirs(path)
    return path


# ---- bad models built with onnx.helper ------------------------------------------------

def model_custom_op():
    from onnx import TensorProto, helper
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 4])
    node = helper.make_node("FooBar", ["X"], ["Y"], name="foo0", domain="com.example")
    g = helper.make_graph([node], "custom_op", [x], [y])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                               helper.make_opsetid("com.example", 1)])


def model_string_normalizer():
    from onnx import TensorProto, helper
    x = helper.make_tensor_value_info("X", TensorProto.STRING, [1, 3])
    y = helper.make_tensor_value_info("Y", TensorProto.STRING, [1, None])
    node = helper.make_node("StringNormalizer", ["X"], ["Y"], name="norm0", case_change_action="LOWER")
    g = helper.make_graph([node], "string_normalizer", [x], [y])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def model_missing_external_data():
    from onnx import TensorProto, helper
    w = TensorProto()
    w.name = "W"
    w.data_type = TensorProto.FLOAT
    w.dims.extend([4, 4])
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", "weights.bin"), ("offset", "0"), ("length", str(4 * 4 * 4))):
        e = w.external_data.add()
        e.key, e.value = k, v
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 4])
    node = helper.make_node("MatMul", ["X", "W"], ["Y"], name="mm0")
    g = helper.make_graph([node], "external_data", [x], [y], initializer=[w])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


# ---- hostile models (resource limits): each must be refused with a clear error, no huge
# allocation, no hang, no crash -----------------------------------------------------------

def _matmul_with(w):
    from onnx import TensorProto, helper
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 4])
    g = helper.make_graph([helper.make_node("MatMul", ["X", "W"], ["Y"], name="mm0")], "hostile", [x], [y], [w])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def _weight(dims, raw=None):
    from onnx import TensorProto
    w = TensorProto()
    w.name = "W"
    w.data_type = TensorProto.FLOAT
    w.dims.extend(dims)
    if raw is not None:
        w.raw_data = raw
    return w


def model_dims_overflow():
    """An initializer whose dims multiply past 2**64 (wrapping to 0), with 16 bytes of data."""
    return _matmul_with(_weight([1 << 32, 1 << 32, 1 << 32], b"\0" * 16))


def model_raw_data_short():
    """An initializer claiming 4x4 floats (64 bytes) holding 8."""
    return _matmul_with(_weight([4, 4], b"\0" * 8))


def model_input_shape_overflow():
    from onnx import TensorProto, helper
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [1 << 40, 1 << 40])
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1 << 40, 1 << 40])
    g = helper.make_graph([helper.make_node("Relu", ["X"], ["Y"], name="relu0")], "huge_input", [x], [y])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def model_cycle():
    from onnx import TensorProto, helper
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 4])
    nodes = [helper.make_node("Add", ["X", "Z"], ["Y"], name="add0"), helper.make_node("Relu", ["Y"], ["Z"], name="relu0")]
    return helper.make_model(helper.make_graph(nodes, "cycle", [x], [y]), opset_imports=[helper.make_opsetid("", 17)])


def model_nested_if(depth):
    """If nodes nested `depth` deep (each level is 3 protobuf messages: Node, Attribute, Graph)."""
    from onnx import TensorProto, helper
    vi = lambda n: helper.make_tensor_value_info(n, TensorProto.FLOAT, [1])
    g = helper.make_graph([helper.make_node("Identity", ["X"], ["o0"])], "b0", [], [vi("o0")])
    for d in range(1, depth + 1):
        other = helper.make_graph([helper.make_node("Identity", ["X"], [f"e{d}"])], f"e{d}", [], [vi(f"e{d}")])
        n = helper.make_node("If", ["cond"], [f"o{d}"], name=f"if{d}", then_branch=g, else_branch=other)
        g = helper.make_graph([n], f"b{d}", [], [vi(f"o{d}")])
    cond = helper.make_tensor_value_info("cond", TensorProto.BOOL, [])
    top = helper.make_graph(list(g.node), "nested", [vi("X"), cond], list(g.output))
    return helper.make_model(top, opset_imports=[helper.make_opsetid("", 17)])


def many_nodes_bytes(count):
    """Serialized ModelProto with `count` Relu nodes, built by concatenating one encoded node
    (protobuf merges repeated fields), so the file is made in a second."""
    from onnx import GraphProto, ModelProto, TensorProto, helper
    node = GraphProto()
    node.node.extend([helper.make_node("Relu", ["X"], ["X"])])
    tail = GraphProto(name="many", input=[helper.make_tensor_value_info("X", TensorProto.FLOAT, [1])],
                      output=[helper.make_tensor_value_info("X", TensorProto.FLOAT, [1])])
    graph = node.SerializeToString() * count + tail.SerializeToString()
    head = ModelProto(ir_version=8, opset_import=[helper.make_opsetid("", 17)]).SerializeToString()

    def varint(n):
        out = bytearray()
        while True:
            out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
            n >>= 7
            if not n:
                return bytes(out)
    return head + b"\x3a" + varint(len(graph)) + graph  # field 7 (graph), length-delimited


def model_external(location, offset=None, length=None):
    from onnx import TensorProto
    w = _weight([4, 4])
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", offset), ("length", length)):
        if v is not None:
            e = w.external_data.add()
            e.key, e.value = k, v
    return _matmul_with(w)


def write_model(model, path):
    # SerializeToString, not onnx.save: nothing may try to resolve external data.
    with open(path, "wb") as f:
        f.write(model.SerializeToString())


# ---- the driver ------------------------------------------------------------------------

class Driver:
    def __init__(self, args):
        self.slmc = args.slmc
        self.slm_run = args.slm_run
        self.models = args.models
        self.work = os.path.abspath(args.work)
        self._cnn_slm = None
        self._llama_slm = None
        self._pruned_slm = {}
        self._w8a8_slm = None
        self.flatc = args.flatc or shutil.which("flatc")
        self.schema = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                   "runtime", "schema", "slm.fbs")

    # setup shared by several scenarios (compiled once, lazily)
    def model(self, name):
        p = os.path.join(self.models, name)
        if not os.path.isfile(p):
            raise ScenarioError(f"setup: model not found: {p}")
        return p

    def compile_ok(self, model, out, dims=()):
        if os.path.exists(out):
            os.remove(out)
        cmd = [self.slmc, "compile", model, "--target=x86_64", "-o", out]
        for d in dims:
            cmd += ["--dim", d]
        p = run_cmd(cmd)
        if p.returncode != 0 or not os.path.isfile(out):
            raise ScenarioError(f"setup: '{' '.join(cmd)}' failed with exit code {p.returncode}: {short(p.stderr)}")
        return out

    def cnn_slm(self):
        if self._cnn_slm is None:
            d = os.path.join(self.work, "setup")
            os.makedirs(d, exist_ok=True)
            self._cnn_slm = self.compile_ok(self.model("tiny_cnn.onnx"), os.path.join(d, "tiny_cnn.slm"))
        return self._cnn_slm

    def llama_slm(self):
        if self._llama_slm is None:
            d = os.path.join(self.work, "setup")
            os.makedirs(d, exist_ok=True)
            self._llama_slm = self.compile_ok(self.model("tiny_llama.onnx"), os.path.join(d, "tiny_llama_b16.slm"),
                                              dims=("seq=16", "past=16"))
        return self._llama_slm

    def pruned_slm(self, spec):
        """tiny_llama compiled with --prune=spec (2:4: slm.matmul_sp24; magnitude:S: slm.matmul_sparse)."""
        if spec not in self._pruned_slm:
            d = os.path.join(self.work, "setup")
            os.makedirs(d, exist_ok=True)
            out = os.path.join(d, "tiny_llama_" + re.sub(r"[^a-z0-9]", "_", spec) + ".slm")
            if os.path.exists(out):
                os.remove(out)
            cmd = [self.slmc, "compile", self.model("tiny_llama.onnx"), "--target=x86_64", "-o", out,
                   "--prune=" + spec, "--dim", "seq=16", "--dim", "past=16"]
            p = run_cmd(cmd)
            if p.returncode != 0 or not os.path.isfile(out):
                raise ScenarioError(f"setup: '{' '.join(cmd)}' failed with exit code {p.returncode}: {short(p.stderr)}")
            self._pruned_slm[spec] = out
        return self._pruned_slm[spec]

    def w8a8_slm(self):
        if self._w8a8_slm is None:
            d = os.path.join(self.work, "setup")
            os.makedirs(d, exist_ok=True)
            out = os.path.join(d, "tiny_llama_w8a8.slm")
            if os.path.exists(out):
                os.remove(out)
            cmd = [self.slmc, "compile", self.model("tiny_llama.onnx"), "--target=x86_64", "-o", out,
                   "--quantize=w8a8", "--dim", "seq=16", "--dim", "past=16"]
            p = run_cmd(cmd)
            if p.returncode != 0 or not os.path.isfile(out):
                raise ScenarioError(f"setup: '{' '.join(cmd)}' failed with exit code {p.returncode}: {short(p.stderr)}")
            self._w8a8_slm = out
        return self._w8a8_slm

    def cnn_input(self, d, arr=None, fname="input.npy"):
        os.makedirs(d, exist_ok=True)
        if arr is None:
            arr = np.random.default_rng(0).standard_normal((1, 3, 32, 32)).astype(np.float32)
        path = os.path.join(d, fname)
        np.save(path, arr)
        return path

    def llama_inputs(self, d, seq, past):
        fresh_dir(d)
        rng = np.random.default_rng(0)
        np.save(os.path.join(d, "input_ids.npy"), rng.integers(0, 256, (1, seq)).astype(np.int64))
        for i in range(2):
            for kind in ("key", "value"):
                np.save(os.path.join(d, f"past_key_values.{i}.{kind}.npy"),
                        rng.standard_normal((1, 2, past, 16)).astype(np.float32))
        return d

    def sdir(self, name):
        return fresh_dir(os.path.join(self.work, name))

    # compile scenarios ------------------------------------------------------------
    def compile_rejects(self, name, model_path, expect, extra=()):
        out = os.path.join(self.work, name, "out.slm")
        p = run_cmd([self.slmc, "compile", model_path, "--target=x86_64", "-o", out, *extra])
        expect_rejected(p, expect, out_file=out)

    def s_truncated_onnx(self, name):
        d = self.sdir(name)
        with open(self.model("tiny_cnn.onnx"), "rb") as f:
            head = f.read(100)
        path = os.path.join(d, "truncated.onnx")
        with open(path, "wb") as f:
            f.write(head)
        self.compile_rejects(name, path, ["truncated.onnx"])

    def s_garbage_onnx(self, name):
        d = self.sdir(name)
        path = os.path.join(d, "garbage.onnx")
        junk = b"this is not an ONNX model\n" + np.random.default_rng(42).integers(0, 256, 4096, dtype=np.uint8).tobytes()
        with open(path, "wb") as f:
            f.write(junk)
        self.compile_rejects(name, path, ["garbage.onnx"])

    def s_unsupported_op_custom(self, name):
        d = self.sdir(name)
        path = os.path.join(d, "custom_op.onnx")
        write_model(model_custom_op(), path)
        self.compile_rejects(name, path, ["FooBar", "com.example"])

    def s_unsupported_op_string_normalizer(self, name):
        d = self.sdir(name)
        path = os.path.join(d, "string_normalizer.onnx")
        write_model(model_string_normalizer(), path)
        self.compile_rejects(name, path, ["StringNormalizer"])

    def s_missing_external_data(self, name):
        d = self.sdir(name)
        path = os.path.join(d, "external_data.onnx")
        write_model(model_missing_external_data(), path)
        assert not os.path.exists(os.path.join(d, "weights.bin"))
        self.compile_rejects(name, path, ["weights.bin"])

    # corrupted artifacts ------------------------------------------------------------
    def corrupt(self, d, how):
        with open(self.cnn_slm(), "rb") as f:
            data = bytearray(f.read())
        if how == "flip":
            # Size-prefixed FlatBuffer: uint32 length, then the buffer. XOR a
            # 64-byte window in the middle of the FlatBuffer (tables, vtables,
            # offsets, strings), not the weights segment after it.
            if len(data) < 16:
                raise ScenarioError(f"setup: compiled artifact is only {len(data)} bytes")
            fb_len = int.from_bytes(data[0:4], "little")
            if not 16 <= fb_len <= len(data) - 4:
                fb_len = len(data) - 4  # unknown layout: use the whole file
            mid = 4 + fb_len // 2
            lo, hi = max(12, mid - 32), min(4 + fb_len, mid + 32)
            for i in range(lo, hi):
                data[i] ^= 0xFF
            path = os.path.join(d, "flipped.slm")
        else:
            data = data[: len(data) // 2]
            path = os.path.join(d, "half.slm")
        with open(path, "wb") as f:
            f.write(data)
        return path

    def run_rejects(self, tool, slm, in_args, out_dir, expect):
        if tool == "slm-run":
            if not self.slm_run:
                raise Skip("--slm-run not given")
            cmd = [self.slm_run, slm]
        else:
            cmd = [self.slmc, "run", slm]
        p = run_cmd(cmd + in_args + ["--output-dir", out_dir])
        expect_rejected(p, expect, out_dir=out_dir)

    def corrupt_case(self, name, how, tool):
        if tool == "slm-run" and not self.slm_run:
            raise Skip("--slm-run not given")
        d = self.sdir(name)
        slm = self.corrupt(d, how)
        inp = os.path.join(d, "inputs")
        self.cnn_input(inp)
        out = fresh_dir(os.path.join(d, "out"))
        self.run_rejects(tool, slm, ["--input-dir", inp], out, [os.path.basename(slm)])

    def s_corrupt_slm_flip_slmc_run(self, name):
        self.corrupt_case(name, "flip", "slmc run")

    def s_corrupt_slm_flip_slm_run(self, name):
        self.corrupt_case(name, "flip", "slm-run")

    def s_corrupt_slm_truncated_slmc_run(self, name):
        self.corrupt_case(name, "truncate", "slmc run")

    def s_corrupt_slm_truncated_slm_run(self, name):
        self.corrupt_case(name, "truncate", "slm-run")

    # bad inputs to a good artifact ----------------------------------------------------
    def s_wrong_input_name(self, name):
        d = self.sdir(name)
        f = self.cnn_input(d, fname="good.npy")
        out = fresh_dir(os.path.join(d, "out"))
        self.run_rejects("slmc run", self.cnn_slm(), ["--input", f"bogus_name={f}"], out, ["bogus_name"])

    def s_wrong_dtype(self, name):
        d = self.sdir(name)
        inp = os.path.join(d, "inputs")
        self.cnn_input(inp, arr=np.zeros((1, 3, 32, 32), dtype=np.int32))
        out = fresh_dir(os.path.join(d, "out"))
        self.run_rejects("slmc run", self.cnn_slm(), ["--input-dir", inp], out, ["int32"])

    def s_wrong_rank(self, name):
        d = self.sdir(name)
        inp = os.path.join(d, "inputs")
        self.cnn_input(inp, arr=np.zeros((1, 3, 32), dtype=np.float32))
        out = fresh_dir(os.path.join(d, "out"))
        self.run_rejects("slmc run", self.cnn_slm(), ["--input-dir", inp], out, [("rank", "shape", "dimension")])

    def s_dim_within_bound_control(self, name):
        # Control for dim_beyond_bound: at the bound (seq 16, past 16) the run must succeed.
        d = self.sdir(name)
        inp = self.llama_inputs(os.path.join(d, "inputs"), seq=16, past=16)
        out = fresh_dir(os.path.join(d, "out"))
        p = run_cmd([self.slmc, "run", self.llama_slm(), "--input-dir", inp, "--output-dir", out])
        if p.returncode != 0:
            raise ScenarioError(f"run at the bound failed with exit code {p.returncode}: {short(p.stderr)}")
        want = ["logits.npy"] + [f"present.{i}.{k}.npy" for i in range(2) for k in ("key", "value")]
        missing = sorted(set(want) - set(npy_files(out)))
        if missing:
            raise ScenarioError(f"run at the bound wrote no {missing}")
        shape = np.load(os.path.join(out, "logits.npy")).shape
        if shape != (1, 16, 256):
            raise ScenarioError(f"logits shape {shape}, expected (1, 16, 256)")

    def s_dim_beyond_bound(self, name):
        d = self.sdir(name)
        inp = self.llama_inputs(os.path.join(d, "inputs"), seq=17, past=4)
        out = fresh_dir(os.path.join(d, "out"))
        self.run_rejects("slmc run", self.llama_slm(), ["--input-dir", inp], out,
                         [("seq", "input_ids"), "17"])

    # hostile models: resource limits ----------------------------------------------------
    def hostile_compile(self, name, model, expect, extra=(), fname="model.onnx"):
        d = self.sdir(name)
        path = os.path.join(d, fname)
        if isinstance(model, bytes):
            with open(path, "wb") as f:
                f.write(model)
        else:
            write_model(model, path)
        self.compile_rejects(name, path, [fname] + list(expect), extra)

    def s_hostile_onnx_dims_overflow(self, name):
        self.hostile_compile(name, model_dims_overflow(), [("tensor name: W", "'W'"), ("0-element", "overflow")])

    def s_hostile_onnx_raw_data_short(self, name):
        self.hostile_compile(name, model_raw_data_short(), ["'W'", ("holds 8 bytes", "size mismatch", "8 bytes")])

    def s_hostile_onnx_input_shape_overflow(self, name):
        self.hostile_compile(name, model_input_shape_overflow(), ["'X'", "overflows 64 bits"])

    def s_hostile_onnx_dim_bound_overflow(self, name):
        d = self.sdir(name)
        out = os.path.join(d, "out.slm")
        p = run_cmd([self.slmc, "compile", self.model("tiny_llama.onnx"), "--target=x86_64", "-o", out,
                     "--dim", "seq=4611686018427387904", "--dim", "past=4611686018427387904"])
        expect_rejected(p, ["tiny_llama.onnx", "overflows 64 bits", "--dim"], out_file=out)

    def s_hostile_onnx_cycle(self, name):
        self.hostile_compile(name, model_cycle(), ["'Z'", "topologically sorted"])

    def s_hostile_onnx_too_many_nodes(self, name):
        self.hostile_compile(name, many_nodes_bytes(1_000_001), ["1000001 nodes", "at most 1000000"])

    def s_hostile_onnx_deep_nesting(self, name):
        # 40 nested Ifs = 120+ nested messages: past protobuf's recursion limit, refused by the parser.
        self.hostile_compile(name, model_nested_if(40), ["nested deeper"])

    def s_hostile_onnx_nested_subgraphs(self, name):
        # 12 nested Ifs parse; the checker and shape inference walk them; the importer names the op.
        self.hostile_compile(name, model_nested_if(12), ["'if12'", "If"])

    def ext_case(self, name, location, expect, offset=None, length=None, in_subdir=False):
        d = self.sdir(name)
        with open(os.path.join(d, "weights.bin"), "wb") as f:
            f.write(b"\0" * 64)
        md = os.path.join(d, "model") if in_subdir else d
        os.makedirs(md, exist_ok=True)
        path = os.path.join(md, "ext.onnx")
        write_model(model_external(location, offset, length), path)
        self.compile_rejects(name, path, ["ext.onnx", "'W'"] + list(expect))

    def s_hostile_onnx_external_offset_not_number(self, name):
        self.ext_case(name, "weights.bin", ["offset 'abc' is not a byte count"], offset="abc")

    def s_hostile_onnx_external_offset_overflow(self, name):
        self.ext_case(name, "weights.bin", ["is not a byte count"], offset="99999999999999999999999")

    def s_hostile_onnx_external_length_beyond_file(self, name):
        # 2**60 bytes claimed from a 64-byte file: refused before any allocation.
        self.ext_case(name, "weights.bin", ["exceeds 'weights.bin' (64 bytes)"], offset="0",
                      length=str(1 << 60))

    def s_hostile_onnx_external_dotdot(self, name):
        self.ext_case(name, "../weights.bin", ["leaves the model's folder"], in_subdir=True)

    def s_hostile_onnx_external_absolute(self, name):
        self.ext_case(name, "/etc/passwd", ["is absolute"])

    def s_hostile_onnx_external_symlink_out(self, name):
        # A symlink inside the folder that points out of it: caught after resolving the real path.
        d = self.sdir(name)
        with open(os.path.join(d, "secret.bin"), "wb") as f:
            f.write(b"\0" * 64)
        md = os.path.join(d, "model")
        os.makedirs(md)
        os.symlink(os.path.join(d, "secret.bin"), os.path.join(md, "link.bin"))
        path = os.path.join(md, "ext.onnx")
        write_model(model_external("link.bin"), path)
        self.compile_rejects(name, path, ["ext.onnx", "'W'", "resolves outside the model's folder"])

    # hostile artifacts: every field the loader reads, set to a lie -------------------------
    def edit_artifact(self, name, edit, raw_edit=None, src=None):
        """Dumps tiny_cnn.slm (or `src`) to JSON with flatc, applies edit(dict), rebuilds the FlatBuffer
        and appends the original segment area: an artifact whose FlatBuffer verifies but lies."""
        if not self.flatc:
            raise Skip("flatc not found")
        d = self.sdir(name)
        src = src or self.cnn_slm()
        schema = self.schema
        p = run_cmd([self.flatc, "--json", "--raw-binary", "--size-prefixed", "--strict-json", "-o", d, schema, "--", src])
        if p.returncode != 0:
            raise ScenarioError(f"setup: flatc --json failed: {p.stderr}")
        js = os.path.join(d, os.path.splitext(os.path.basename(src))[0] + ".json")
        with open(js) as f:
            doc = json.load(f)
        edit(doc)
        with open(js, "w") as f:
            json.dump(doc, f)
        p = run_cmd([self.flatc, "-b", "--size-prefixed", "-o", d, schema, js])
        if p.returncode != 0:
            raise ScenarioError(f"setup: flatc -b failed: {p.stderr}")
        with open(os.path.splitext(js)[0] + ".slm", "rb") as f:  # flatc names it by the schema's file_extension
            fb = f.read()
        with open(src, "rb") as f:
            orig = f.read()
        seg_start = (int.from_bytes(orig[:4], "little") + 4 + 63) // 64 * 64
        data = bytearray(fb + b"\0" * ((len(fb) + 63) // 64 * 64 - len(fb)) + orig[seg_start:])
        if raw_edit:
            raw_edit(data)
        path = os.path.join(d, "hostile.slm")
        with open(path, "wb") as f:
            f.write(data)
        return d, path

    def hostile_run(self, name, edit, expect, raw_edit=None):
        d, slm = self.edit_artifact(name, edit, raw_edit)
        inp = os.path.join(d, "inputs")
        self.cnn_input(inp)
        out = fresh_dir(os.path.join(d, "out"))
        self.run_rejects("slm-run", slm, ["--input-dir", inp], out, ["hostile.slm"] + list(expect))

    @staticmethod
    def _tensor(doc, storage):
        return next(t for t in doc["graph"]["tensors"] if t.get("storage", "Arena") == storage)

    def s_hostile_slm_sp24_layout(self, name):
        # A 2:4 matmul whose n no longer matches its values/indices panels: refused at load by the
        # op's shape check, before a kernel could index a panel that is not there.
        def edit(doc):
            op = next(o for o in doc["graph"]["ops"] if o.get("kind") == "matmul_sp24")
            next(a for a in op["attrs"] if a["name"] == "n")["i"] += 64
        d, slm = self.edit_artifact(name, edit, src=self.pruned_slm("2:4"))
        inp = self.llama_inputs(os.path.join(d, "inputs"), 4, 0)
        out = fresh_dir(os.path.join(d, "out"))
        self.run_rejects("slm-run", slm, ["--input-dir", inp], out, ["hostile.slm", "matmul_sp24", "values must be"])

    def s_hostile_slm_sparse_masks(self, name):
        # An unstructured sparse matmul whose masks claim one more nonzero than its panel's offsets
        # hold: the kernels walk the value stream by the masks, so the loader refuses it by name.
        state = {}

        def edit(doc):
            t = next(t for t in doc["graph"]["tensors"] if t.get("name", "").endswith(".sparse_masks"))
            state["offset"] = int(t["segment_offset"])

        def raw_edit(data):
            seg = (int.from_bytes(data[:4], "little") + 4 + 63) // 64 * 64
            for i in range(seg + state["offset"], len(data)):  # the first mask byte with a clear bit
                if data[i] != 0xFF:
                    data[i] |= (~data[i] & 0xFF) & -(~data[i] & 0xFF)
                    return
        d, slm = self.edit_artifact(name, edit, raw_edit, src=self.pruned_slm("magnitude:0.5"))
        inp = self.llama_inputs(os.path.join(d, "inputs"), 4, 0)
        out = fresh_dir(os.path.join(d, "out"))
        self.run_rejects("slm-run", slm, ["--input-dir", inp], out,
                         ["hostile.slm", "matmul_sparse", "offsets of panel 0 do not match its masks"])

    def s_hostile_slm_sparse_shape(self, name):
        # The same with k grown past the masks' rows: refused by the layout's shapes.
        def edit(doc):
            op = next(o for o in doc["graph"]["ops"] if o.get("kind") == "matmul_sparse")
            next(a for a in op["attrs"] if a["name"] == "k")["i"] += 16
        d, slm = self.edit_artifact(name, edit, src=self.pruned_slm("magnitude:0.5"))
        inp = self.llama_inputs(os.path.join(d, "inputs"), 4, 0)
        out = fresh_dir(os.path.join(d, "out"))
        self.run_rejects("slm-run", slm, ["--input-dir", inp], out, ["hostile.slm", "matmul_sparse", "masks must be"])

    def sparse_a8_artifact(self, name, lie):
        """A w8a8 tiny_llama whose first matmul_a8 became matmul_a8_sparse: random masks, their offsets (with `lie`,
        the last strip's offset one more than its masks' popcount) and values written over the dense weight's
        bytes (which no op reads any more)."""
        where = {}

        def edit(doc):
            tensors, op = doc["graph"]["tensors"], next(o for o in doc["graph"]["ops"] if o.get("kind") == "matmul_a8")
            attr = {a["name"]: a.get("i", 0) for a in op["attrs"]}
            strips, quads = (attr["n"] + 15) // 16, attr["kp"] // 4
            w = tensors[op["inputs"][3]]
            rng = np.random.default_rng(1)
            masks = (rng.integers(0, 2**63, strips * quads, dtype=np.uint64) &
                     rng.integers(0, 2**63, strips * quads, dtype=np.uint64))
            pops = np.array([bin(int(m)).count("1") for m in masks]).reshape(strips, quads).sum(axis=1)
            offsets = np.concatenate([[0], np.cumsum(pops)]).astype(np.int64)
            nnz = int(offsets[-1])
            if lie:
                offsets[-1] += 1
            align = lambda v: (v + 63) // 64 * 64
            mo = w.get("segment_offset", 0)
            oo = mo + align(masks.nbytes)
            vo = oo + align(offsets.nbytes)
            if vo + nnz > mo + w["byte_size"]:
                raise ScenarioError("setup: the sparse form does not fit over the dense weight")
            where.update(weights=next(sg.get("offset", 0) for sg in doc["segments"] if sg["kind"] == "weights"),
                         blobs=[(mo, masks.tobytes()), (oo, offsets.tobytes())])
            first = len(tensors)
            for nm, dt, shape, off, size in [("values", 2, [nnz], vo, nnz),
                                             ("masks", 13, [strips, quads], mo, masks.nbytes),
                                             ("offsets", 7, [strips + 1], oo, offsets.nbytes)]:
                tensors.append({"name": "hostile.sparse_" + nm, "dtype": dt, "max_shape": shape, "storage": "Constant",
                                "segment_offset": off, "byte_size": size, "static_shape": True})
            op["kind"] = "matmul_a8_sparse"
            if op.get("kernel"):
                op["kernel"] = op["kernel"].replace("matmul_a8", "matmul_a8_sparse")
            op["inputs"] = op["inputs"][:3] + [first, first + 1, first + 2] + op["inputs"][4:]

        def raw_edit(data):
            seg_area = (int.from_bytes(data[:4], "little") + 4 + 63) // 64 * 64 + where["weights"]
            for off, blob in where["blobs"]:
                data[seg_area + off:seg_area + off + len(blob)] = blob

        return self.edit_artifact(name, edit, raw_edit, src=self.w8a8_slm())

    def s_hostile_slm_sparse_a8_layout(self, name):
        # A masked-sparse matmul_a8 whose last strip's offset claims one value more than its masks'
        # popcount: the kernels walk the values by popcounts, so the loader refuses it before any run.
        d, slm = self.sparse_a8_artifact(name, lie=True)
        inp = self.llama_inputs(os.path.join(d, "inputs"), 4, 0)
        out = fresh_dir(os.path.join(d, "out"))
        self.run_rejects("slm-run", slm, ["--input-dir", inp], out,
                         ["hostile.slm", "matmul_a8_sparse", "offsets do not match the masks"])

    def s_hostile_slm_sparse_a8_control(self, name):
        # Control: the same edit with true offsets loads and runs, with the same outputs on the reference
        # kernels as on the default ones (the AVX-512 VBMI2 kernel where the CPU has it).
        d, slm = self.sparse_a8_artifact(name, lie=False)
        inp = self.llama_inputs(os.path.join(d, "inputs"), 4, 0)
        outs = {}
        for level in ("ref", None):
            out = fresh_dir(os.path.join(d, "out_" + (level or "default")))
            env = dict(os.environ)
            if level:
                env["SLM_X86_LEVEL"] = level
            p = subprocess.run([self.slm_run, slm, "--input-dir", inp, "--output-dir", out], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, errors="replace", timeout=TIMEOUT, env=env)
            if p.returncode != 0 or not npy_files(out):
                raise ScenarioError(f"the true sparse form does not run ({level or 'default'}): {p.returncode}: "
                                    f"{short(p.stderr)}")
            outs[level] = {f: np.load(os.path.join(out, f)) for f in npy_files(out)}
        for f, want in outs["ref"].items():
            got = outs[None][f]
            tol = 1e-3 * (1 + float(np.max(np.abs(want))))
            if got.shape != want.shape or not np.all(np.abs(got - want) <= tol):
                raise ScenarioError(f"{f}: default kernels differ from the reference ones by "
                                    f"{float(np.max(np.abs(got - want)))} (tolerance {tol})")

    def s_hostile_slm_control(self, name):
        # Control: the JSON round trip without an edit gives an artifact that runs.
        d, slm = self.edit_artifact(name, lambda doc: None)
        inp = os.path.join(d, "inputs")
        self.cnn_input(inp)
        out = fresh_dir(os.path.join(d, "out"))
        p = run_cmd([self.slm_run, slm, "--input-dir", inp, "--output-dir", out])
        if p.returncode != 0 or not npy_files(out):
            raise ScenarioError(f"the unedited round trip does not run: {p.returncode}: {short(p.stderr)}")

    def s_hostile_slm_segment_outside_file(self, name):
        def edit(doc):
            doc["segments"][0]["size"] += 1 << 40
        self.hostile_run(name, edit, ["segment 'weights'", "outside the file"])

    def s_hostile_slm_constant_outside_segment(self, name):
        def edit(doc):
            self._tensor(doc, "Constant")["segment_offset"] = doc["segments"][0]["size"]
        self.hostile_run(name, edit, ["does not fit the weights segment"])

    def s_hostile_slm_dims_overflow(self, name):
        def edit(doc):
            self._tensor(doc, "Arena")["max_shape"] = [1 << 40, 1 << 40, 1 << 40, 1]
        self.hostile_run(name, edit, [("bad dim", "size overflows")])

    def s_hostile_slm_negative_dim(self, name):
        def edit(doc):
            self._tensor(doc, "Arena")["max_shape"][0] = -1
        self.hostile_run(name, edit, ["bad dim -1"])

    def s_hostile_slm_huge_rank(self, name):
        def edit(doc):
            t = self._tensor(doc, "Arena")
            t["max_shape"] = [1] * 9
            t["dim_names"] = [""] * 9
        self.hostile_run(name, edit, ["rank 9"])

    def s_hostile_slm_arena_claim(self, name):
        # 2**50 bytes claimed: refused at load, before any session allocates it.
        def edit(doc):
            doc["graph"]["arena_bytes"] = 1 << 50
        self.hostile_run(name, edit, ["1125899906842624-byte arena"])

    def s_hostile_slm_tensor_beyond_arena(self, name):
        def edit(doc):
            self._tensor(doc, "Arena")["arena_offset"] = doc["graph"]["arena_bytes"]
        self.hostile_run(name, edit, ["exceeds the arena"])

    def s_hostile_slm_bad_tensor_index(self, name):
        def edit(doc):
            doc["graph"]["ops"][0]["inputs"][0] = 1000000
        self.hostile_run(name, edit, ["bad input tensor index 1000000"])

    def s_hostile_slm_unknown_op(self, name):
        def edit(doc):
            doc["graph"]["ops"][0]["kind"] = "NoSuchOp"
        self.hostile_run(name, edit, ["NoSuchOp", "no kernel"])

    def s_hostile_slm_future_version(self, name):
        def edit(doc):
            doc["format_version"] = 2
        self.hostile_run(name, edit, ["format version 2"])

    def s_hostile_slm_other_target(self, name):
        def edit(doc):
            doc["target"]["name"] = "riscv64"
        self.hostile_run(name, edit, ["riscv64"])

    def s_hostile_slm_header_claims_more(self, name):
        def raw(data):
            data[0:4] = (0xFFFFFFF0).to_bytes(4, "little")
        self.hostile_run(name, lambda doc: None, ["header claims 4294967280 bytes"], raw_edit=raw)

    def s_hostile_slm_state_written_by_conv(self, name):
        # A rank-4 float activation relabelled as session state: only an in-place attention may
        # write a KV cache, so the loader refuses the op before any run appends garbage to it.
        def edit(doc):
            t = next(t for t in doc["graph"]["tensors"]
                     if t.get("storage", "Arena") == "Arena" and len(t.get("max_shape", [])) == 4)
            t["storage"] = "State"
        self.hostile_run(name, edit, ["uses state tensor", "only an in-place attention"])

    def s_hostile_slm_state_not_a_cache(self, name):
        def edit(doc):
            t = next(t for t in doc["graph"]["tensors"]
                     if t.get("storage", "Arena") == "Arena" and len(t.get("max_shape", [])) != 4)
            t["storage"] = "State"
        self.hostile_run(name, edit, ["is not a float32 [B, H, T, D] cache"])

    def elementwise_op(self, doc, steps, args, scalars, reversed_, params=0):
        """Turns the first op into an slm.elementwise of its first input (plus `params` more inputs)
        with the given step attributes, as a hostile artifact may claim them."""
        op = doc["graph"]["ops"][0]
        op.update(kind="elementwise", domain="slm", kernel="ref.slm.elementwise", name="chain_0",
                  inputs=op["inputs"][:1 + params], outputs=op["outputs"][:1])
        op["attrs"] = [
            {"name": "args", "kind": "Ints", "ints": args},
            {"name": "reversed", "kind": "Ints", "ints": reversed_},
            {"name": "scalars", "kind": "Floats", "floats": scalars},
            {"name": "steps", "kind": "Strings", "strings": steps},
        ]

    def s_hostile_slm_elementwise_unknown_step(self, name):
        def edit(doc):
            self.elementwise_op(doc, ["Mul", "Bogus"], [-1, 0], [2.0, 0.0], [0, 0])
        self.hostile_run(name, edit, ["cannot load artifact", "invalid artifact: op 'chain_0' (slm.elementwise)", "step 1 is 'Bogus'"])

    def s_hostile_slm_elementwise_arg_out_of_range(self, name):
        def edit(doc):
            self.elementwise_op(doc, ["Add", "Relu"], [7, 0], [0.0, 0.0], [0, 0])
        self.hostile_run(name, edit, ["cannot load artifact", "invalid artifact: op 'chain_0' (slm.elementwise)", "input 7, which does not exist"])

    def s_hostile_slm_elementwise_lengths_differ(self, name):
        def edit(doc):
            self.elementwise_op(doc, ["Sigmoid", "Tanh", "Exp"], [0, 0], [0.0], [0, 0, 0])
        self.hostile_run(name, edit, ["cannot load artifact", "invalid artifact: op 'chain_0' (slm.elementwise)", "must have the same length"])

    def s_hostile_slm_elementwise_no_steps(self, name):
        def edit(doc):
            self.elementwise_op(doc, [], [], [], [])
        self.hostile_run(name, edit, ["cannot load artifact", "invalid artifact: op 'chain_0' (slm.elementwise)", "0 steps"])

    # hostile input tensors ------------------------------------------------------------
    def s_hostile_npy_huge_shape(self, name):
        d = self.sdir(name)
        inp = os.path.join(d, "inputs")
        os.makedirs(inp)
        header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }"
        header += " " * (63 - (10 + len(header)) % 64) + "\n"
        with open(os.path.join(inp, "input.npy"), "wb") as f:
            f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + b"\0" * 128)
        out = fresh_dir(os.path.join(d, "out"))
        self.run_rejects("slm-run", self.cnn_slm(), ["--input-dir", inp], out, ["input.npy", ("too large", "header says")])

    def s_hostile_pb_huge_dims(self, name):
        from onnx import TensorProto
        d = self.sdir(name)
        inp = os.path.join(d, "inputs")
        os.makedirs(inp)
        t = TensorProto(name="input", data_type=TensorProto.FLOAT, dims=[1 << 31, 1 << 31, 1 << 31], raw_data=b"\0" * 16)
        with open(os.path.join(inp, "input_0.pb"), "wb") as f:
            f.write(t.SerializeToString())
        out = fresh_dir(os.path.join(d, "out"))
        self.run_rejects("slm-run", self.cnn_slm(), ["--input-dir", inp], out, ["input_0.pb", ("too large", "give")])


SCENARIOS = [
    "truncated_onnx",
    "garbage_onnx",
    "unsupported_op_custom",
    "unsupported_op_string_normalizer",
    "missing_external_data",
    "corrupt_slm_flip_slmc_run",
    "corrupt_slm_flip_slm_run",
    "corrupt_slm_truncated_slmc_run",
    "corrupt_slm_truncated_slm_run",
    "wrong_input_name",
    "wrong_dtype",
    "wrong_rank",
    "dim_within_bound_control",
    "dim_beyond_bound",
    "hostile_onnx_dims_overflow",
    "hostile_onnx_raw_data_short",
    "hostile_onnx_input_shape_overflow",
    "hostile_onnx_dim_bound_overflow",
    "hostile_onnx_cycle",
    "hostile_onnx_too_many_nodes",
    "hostile_onnx_deep_nesting",
    "hostile_onnx_nested_subgraphs",
    "hostile_onnx_external_offset_not_number",
    "hostile_onnx_external_offset_overflow",
    "hostile_onnx_external_length_beyond_file",
    "hostile_onnx_external_dotdot",
    "hostile_onnx_external_absolute",
    "hostile_onnx_external_symlink_out",
    "hostile_slm_control",
    "hostile_slm_segment_outside_file",
    "hostile_slm_constant_outside_segment",
    "hostile_slm_dims_overflow",
    "hostile_slm_negative_dim",
    "hostile_slm_huge_rank",
    "hostile_slm_arena_claim",
    "hostile_slm_tensor_beyond_arena",
    "hostile_slm_bad_tensor_index",
    "hostile_slm_unknown_op",
    "hostile_slm_future_version",
    "hostile_slm_other_target",
    "hostile_slm_header_claims_more",
    "hostile_slm_state_written_by_conv",
    "hostile_slm_sp24_layout",
    "hostile_slm_sparse_masks",
    "hostile_slm_sparse_shape",
    "hostile_slm_sparse_a8_layout",
    "hostile_slm_sparse_a8_control",
    "hostile_slm_state_not_a_cache",
    "hostile_slm_elementwise_unknown_step",
    "hostile_slm_elementwise_arg_out_of_range",
    "hostile_slm_elementwise_lengths_differ",
    "hostile_slm_elementwise_no_steps",
    "hostile_npy_huge_shape",
    "hostile_pb_huge_dims",
]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slmc", help="path of the slmc binary")
    ap.add_argument("--slm-run", help="path of the slm-run binary (its scenarios are skipped without it)")
    ap.add_argument("--models", default=os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "benchmarks", "models"), help="directory with tiny_cnn.onnx and tiny_llama.onnx")
    ap.add_argument("--work", help="scratch directory")
    ap.add_argument("--flatc", help="flatc, for the hostile artifact scenarios (default: flatc on PATH)")
    ap.add_argument("--only", action="append", default=[], metavar="NAME",
                    help="run only scenarios named NAME or starting with NAME (repeatable)")
    ap.add_argument("--list", action="store_true", help="print the scenario names and exit")
    args = ap.parse_args(argv)
    if args.list:
        print("\n".join(SCENARIOS))
        return 0
    if not args.slmc or not args.work:
        ap.error("--slmc and --work are required")
    selected = [s for s in SCENARIOS if not args.only or any(s == o or s.startswith(o) for o in args.only)]
    if not selected:
        ap.error(f"--only {args.only} matches no scenario; see --list")

    os.makedirs(args.work, exist_ok=True)
    drv = Driver(args)
    passed = failed = skipped = 0
    for name in selected:
        try:
            getattr(drv, "s_" + name)(name)
        except Skip as e:
            print(f"SKIP {name}: {e}", flush=True)
            skipped += 1
        except ScenarioError as e:
            print(f"FAIL {name}: {e}", flush=True)
            failed += 1
        except Exception as e:  # noqa: BLE001 - a driver bug is reported, not fatal to the others
            print(f"FAIL {name}: driver error {type(e).__name__}: {e}", flush=True)
            failed += 1
        else:
            print(f"PASS {name}", flush=True)
            passed += 1
    print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
