#!/usr/bin/python3
"""Self-tests of the e2e drivers (run_model_case.py, bad_input_cases.py) against fake_slmc.py, an ONNX Runtime-backed stand-in for slmc.

  /usr/bin/python3 -m unittest discover -s tests/e2e -p 'test_*.py' -v

Needs numpy and onnx; the tests that run models also need node and
onnxruntime-node ($SLMC_ORT_PREFIX or build/peers; scripts/install-peers.sh)
and are skipped without them.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MODELS = os.path.join(REPO, "benchmarks", "models")
FAKE = os.path.join(HERE, "fake_slmc.py")
PY = sys.executable
ORT_PREFIX = os.environ.get("SLMC_ORT_PREFIX", os.path.join(REPO, "build", "peers"))
HAVE_ORT = (shutil.which("node") is not None
            and os.path.isfile(os.path.join(ORT_PREFIX, "node_modules", "onnxruntime-node", "package.json")))
NEED_ORT = unittest.skipUnless(HAVE_ORT, f"node/onnxruntime-node not available in {ORT_PREFIX}")

sys.path.insert(0, HERE)
import run_model_case as rmc  # noqa: E402


class InputGeneration(unittest.TestCase):
    def test_llama_inputs(self):
        ins, outs = rmc.read_signature(os.path.join(MODELS, "tiny_llama.onnx"))
        feeds = rmc.make_inputs(ins, outs, seq=7, past=3, seed=0)
        self.assertEqual(list(feeds), ["input_ids"] + [f"past_key_values.{i}.{k}" for i in range(2)
                                                        for k in ("key", "value")])
        self.assertEqual(feeds["input_ids"].dtype, np.int64)
        self.assertEqual(feeds["input_ids"].shape, (1, 7))
        self.assertTrue(((feeds["input_ids"] >= 0) & (feeds["input_ids"] < 256)).all())
        for k, v in feeds.items():
            if k != "input_ids":
                self.assertEqual((v.dtype, v.shape), (np.float32, (1, 2, 3, 16)), k)
        again = rmc.make_inputs(ins, outs, seq=7, past=3, seed=0)
        for k in feeds:
            np.testing.assert_array_equal(feeds[k], again[k])

    def test_gpt2_kv_heads_from_signature(self):
        ins, outs = rmc.read_signature(os.path.join(MODELS, "tiny_gpt2.onnx"))
        feeds = rmc.make_inputs(ins, outs, seq=1, past=8, seed=1)
        self.assertEqual(feeds["input_ids"].shape, (1, 1))
        self.assertEqual(feeds["past_key_values.1.value"].shape, (1, 4, 8, 16))

    def test_cnn_inputs(self):
        ins, outs = rmc.read_signature(os.path.join(MODELS, "tiny_cnn.onnx"))
        feeds = rmc.make_inputs(ins, outs, seq=8, past=0, seed=0)
        self.assertEqual(list(feeds), ["input"])
        self.assertEqual((feeds["input"].dtype, feeds["input"].shape), (np.float32, (1, 3, 32, 32)))

    def test_npy_name(self):
        self.assertEqual(rmc.npy_name("a/b:c.d"), "a_b_c.d.npy")


class Compare(unittest.TestCase):
    def setUp(self):
        self.ref = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)

    def test_identical(self):
        self.assertTrue(rmc.compare("x", self.ref.copy(), self.ref, 1e-4)[0])

    def test_relative_error(self):
        scale = np.abs(self.ref).max()
        near = self.ref.copy(); near[0, 0, 0] += 0.5e-4 * scale
        far = self.ref.copy(); far[1, 2, 3] += 2e-4 * scale
        self.assertTrue(rmc.compare("x", near, self.ref, 1e-4)[0])
        ok, msg = rmc.compare("x", far, self.ref, 1e-4)
        self.assertFalse(ok)
        self.assertIn("[1, 2, 3]", msg)

    def test_shape_and_dtype(self):
        self.assertFalse(rmc.compare("x", self.ref.reshape(3, 2, 4), self.ref, 1e-4)[0])
        self.assertFalse(rmc.compare("x", self.ref.astype(np.float64), self.ref, 1e-4)[0])

    def test_nan_and_inf(self):
        bad = self.ref.copy(); bad[0, 0, 0] = np.nan
        self.assertFalse(rmc.compare("x", bad, self.ref, 1e-4)[0])
        ref = self.ref.copy(); ref[0, 0, 1] = -np.inf
        self.assertTrue(rmc.compare("x", ref.copy(), ref, 1e-4)[0])
        other = ref.copy(); other[0, 0, 1] = np.inf
        self.assertFalse(rmc.compare("x", other, ref, 1e-4)[0])

    def test_integers_exact(self):
        a = np.arange(10, dtype=np.int64)
        self.assertTrue(rmc.compare("x", a.copy(), a, 1e-4)[0])
        b = a.copy(); b[3] += 1
        self.assertFalse(rmc.compare("x", b, a, 1e-4)[0])

    def test_all_zero_reference(self):
        z = np.zeros(4, np.float32)
        self.assertTrue(rmc.compare("x", z.copy(), z, 1e-4)[0])
        self.assertFalse(rmc.compare("x", z + 1e-3, z, 1e-4)[0])


def run(cmd, env_extra=None):
    env = dict(os.environ, SLMC_ORT_PREFIX=ORT_PREFIX, **(env_extra or {}))
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@NEED_ORT
class RunModelCaseWithFake(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="e2e-driver-test-")

    def tearDown(self):
        shutil.rmtree(self.work, ignore_errors=True)

    def case(self, model, *extra, env=None):
        return run([PY, os.path.join(HERE, "run_model_case.py"), "--slmc", FAKE, "--model",
                    os.path.join(MODELS, model), "--case", model, "--ort-prefix", ORT_PREFIX,
                    "--work", self.work, *extra], env)

    def test_models_match(self):
        for model, extra in (("tiny_cnn.onnx", []), ("tiny_llama.onnx", ["--seq", "1", "--past", "8"]),
                             ("tiny_gpt2.onnx", ["--seq", "8", "--past", "0", "--dim", "seq=16"])):
            p = self.case(model, *extra)
            self.assertEqual(p.returncode, 0, model + "\n" + p.stdout + p.stderr)
            self.assertIn(": OK (", p.stdout)

    def test_runner_and_target(self):
        # --runner replaces `slmc run` (fake_slmc.py without a subcommand acts as slm-run).
        p = self.case("tiny_cnn.onnx", "--target", "arm64", "--runner", f"{PY} {FAKE}")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("--target=arm64", p.stdout)
        self.assertIn(f"+ {PY} {FAKE} ", p.stdout)

    def test_mismatch_detected(self):
        p = self.case("tiny_cnn.onnx", env={"FAKE_SLMC_PERTURB": "1e-3"})
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("FAIL logits", p.stdout)
        p = self.case("tiny_cnn.onnx", "--tol", "2e-3", env={"FAKE_SLMC_PERTURB": "1e-3"})
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_failing_compiler(self):
        p = self.case("tiny_cnn.onnx", "--slmc", "/nonexistent/slmc")  # last --slmc wins
        self.assertEqual(p.returncode, 1)
        self.assertIn("slmc compile", p.stderr)


@NEED_ORT
class BadInputCasesWithFake(unittest.TestCase):
    def test_all_scenarios_pass_against_a_conforming_fake(self):
        work = tempfile.mkdtemp(prefix="e2e-bad-test-")
        try:
            # The fake conforms to the usage and corrupt-file scenarios; the hostile_* ones need the
            # real importer and loader and run against them in e2e.bad_input.
            listed = run([PY, os.path.join(HERE, "bad_input_cases.py"), "--list"]).stdout.split()
            only = [a for name in listed if not name.startswith("hostile_") for a in ("--only", name)]
            self.assertEqual(len(only), 28)
            p = run([PY, os.path.join(HERE, "bad_input_cases.py"), "--slmc", FAKE, "--slm-run", FAKE,
                     "--models", MODELS, "--work", work, *only])
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("14 passed, 0 failed", p.stdout)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def test_scenarios_fail_against_an_accept_everything_tool(self):
        work = tempfile.mkdtemp(prefix="e2e-bad-test-")
        try:
            liar = os.path.join(work, "liar.sh")
            with open(liar, "w") as f:
                # exits 0, writes the -o file and an output .npy, says nothing
                f.write('#!/bin/sh\nprev=""\nfor a in "$@"; do\n'
                        '  [ "$prev" = "-o" ] && : > "$a"\n'
                        '  [ "$prev" = "--output-dir" ] && mkdir -p "$a" && : > "$a/logits.npy"\n'
                        '  prev="$a"\ndone\nexit 0\n')
            os.chmod(liar, 0o755)
            p = run([PY, os.path.join(HERE, "bad_input_cases.py"), "--slmc", liar, "--slm-run", liar,
                     "--models", MODELS, "--work", os.path.join(work, "w"), "--only", "garbage_onnx",
                     "--only", "wrong_dtype"])
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            self.assertIn("FAIL garbage_onnx: exit code 0, expected 2", p.stdout)
            self.assertIn("left output file", p.stdout)
            self.assertIn("left output files ['logits.npy']", p.stdout)
            self.assertIn("0 passed, 2 failed", p.stdout)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def test_only_prefix(self):
        p = run([PY, os.path.join(HERE, "bad_input_cases.py"), "--list"])
        names = p.stdout.split()
        self.assertEqual(len([n for n in names if not n.startswith("hostile_")]), 14)
        self.assertEqual(len([n for n in names if n.startswith("hostile_")]), 40)
        work = tempfile.mkdtemp(prefix="e2e-bad-test-")
        try:
            p = run([PY, os.path.join(HERE, "bad_input_cases.py"), "--slmc", FAKE, "--models", MODELS,
                     "--work", work, "--only", "corrupt_slm_truncated"])
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("PASS corrupt_slm_truncated_slmc_run", p.stdout)
            self.assertIn("SKIP corrupt_slm_truncated_slm_run: --slm-run not given", p.stdout)
            self.assertIn("1 passed, 0 failed, 1 skipped", p.stdout)
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
