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
    def compile_rejects(self, name, model_path, expect):
        out = os.path.join(self.work, name, "out.slm")
        p = run_cmd([self.slmc, "compile", model_path, "--target=x86_64", "-o", out])
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
]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slmc", help="path of the slmc binary")
    ap.add_argument("--slm-run", help="path of the slm-run binary (its scenarios are skipped without it)")
    ap.add_argument("--models", default=os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "benchmarks", "models"), help="directory with tiny_cnn.onnx and tiny_llama.onnx")
    ap.add_argument("--work", help="scratch directory")
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
