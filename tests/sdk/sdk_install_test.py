#!/usr/bin/python3
"""Plugin SDK end to end: install slmc to a fresh prefix, build the example plugin and the C API example out of tree
against it, and check what a vendor and an application developer rely on.

Usage:
  tests/sdk/sdk_install_test.py --build BUILD_DIR --work WORK_DIR [--ort-prefix DIR] [--only STEP...]

Steps (all by default):
  install     cmake --install BUILD_DIR --prefix WORK/prefix (a fresh prefix)
  build       configure + build plugins/examples/npu8 and runtime/examples/c_api with only
              -DCMAKE_PREFIX_PATH=WORK/prefix (ccache launcher when present)
  targets     slmc targets --plugin slmc_npu8.so lists target npu8
  refusal     a plugin built against API version 99, and a shared library that is not a plugin
              (the installed libslm_runtime.so), are refused with exit 2 and a message naming
              both versions / the missing symbol, by slmc compile, slmc targets and slm-run
  models      tiny_llama, tiny_gpt2, tiny_cnn compiled with --plugin --target npu8, run by the
              installed slm-run --plugin, compared with ONNX Runtime (min cosine, int8 tolerance);
              slmc inspect --json shows ops on both npu8 and the host; slm-run without the plugin,
              and with the device absent (NPU8_ABSENT=1), refuse the artifact with exit 2
  c_api       the C example runs the npu8 CNN artifact and matches slm-run on the same inputs
  conformance the installed slmc-plugin-test passes for the example plugin
Exit 0: all pass; 1: a check failed; 2: bad usage.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MODELS = os.path.join(REPO, "benchmarks", "models")
RUN_CASE = os.path.join(REPO, "tests", "e2e", "run_model_case.py")
STEPS = ["install", "build", "targets", "refusal", "models", "c_api", "conformance"]

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)
    return ok


def run(cmd, env=None, timeout=900):
    full = dict(os.environ, **(env or {}))
    p = subprocess.run(cmd, capture_output=True, text=True, env=full, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def must(cmd, what, **kw):
    rc, out, err = run(cmd, **kw)
    if rc != 0:
        print(f"FAIL {what}: exit {rc}\n$ {' '.join(cmd)}\n{out[-3000:]}\n{err[-3000:]}", flush=True)
        failures.append(what)
        raise SystemExit(1)
    return out, err


def cmake_project(src, build, prefix, extra=()):
    cfg = ["cmake", "-S", src, "-B", build, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
           f"-DCMAKE_PREFIX_PATH={prefix}", *extra]
    if shutil.which("ccache"):
        cfg.append("-DCMAKE_C_COMPILER_LAUNCHER=ccache")
    must(cfg, f"configure {os.path.relpath(src, REPO)} against the installed SDK")
    must(["cmake", "--build", build], f"build {os.path.relpath(src, REPO)} out of tree")


def expect_refusal(cmd, needles, what, env=None):
    rc, out, err = run(cmd, env=env)
    msg = (out + err).strip().replace("\n", " | ")
    ok = rc == 2 and all(n in out + err for n in needles)
    check(ok, f"{what}: exit {rc}, message: {msg[:300]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", required=True, help="slmc build directory to install from")
    ap.add_argument("--work", required=True, help="work directory (prefix/, npu8/, c_api/, models/)")
    ap.add_argument("--ort-prefix", default=os.path.join(REPO, "build", "peers"), help="onnxruntime-node prefix")
    ap.add_argument("--only", nargs="*", choices=STEPS, default=None, help="run only these steps (install+build implied)")
    args = ap.parse_args()
    steps = set(args.only or STEPS) | {"install", "build"}
    work = os.path.abspath(args.work)
    prefix = os.path.join(work, "prefix")
    os.makedirs(work, exist_ok=True)

    if os.path.isdir(prefix):
        shutil.rmtree(prefix)
    must(["cmake", "--install", args.build, "--prefix", prefix], "cmake --install to a fresh prefix")
    for f in ["bin/slmc", "bin/slm-run", "bin/slmc-plugin-test", "include/slm_runtime.h", "include/slmc/plugin.h",
              "include/slmc/kernel_provider.h", "include/slmc/target_plugin.h", "lib/cmake/slmc/slmcConfig.cmake"]:
        check(os.path.exists(os.path.join(prefix, f)), f"installed {f}")
    runtime_lib = (glob.glob(os.path.join(prefix, "lib*", "libslm_runtime.so")) or [""])[0]
    check(bool(runtime_lib), "installed lib/libslm_runtime.so")
    slmc = os.path.join(prefix, "bin", "slmc")
    slm_run = os.path.join(prefix, "bin", "slm-run")

    npu8_build = os.path.join(work, "npu8")
    cmake_project(os.path.join(REPO, "plugins", "examples", "npu8"), npu8_build, prefix, ["-DNPU8_BUILD_WRONG_VERSION=ON"])
    plugin = os.path.join(npu8_build, "slmc_npu8.so")
    wrong = os.path.join(npu8_build, "slmc_npu8_v99.so")
    c_build = os.path.join(work, "c_api")
    cmake_project(os.path.join(REPO, "runtime", "examples", "c_api"), c_build, prefix)

    if "targets" in steps:
        out, _ = must([slmc, "targets", "--plugin", plugin], "slmc targets --plugin")
        check(any(line.split("\t")[0] == "npu8" for line in out.splitlines()), "slmc targets --plugin lists npu8")

    if "refusal" in steps:
        model = os.path.join(MODELS, "tiny_cnn.onnx")
        for cmd, what in [([slmc, "targets", "--plugin", wrong], "slmc targets"),
                          ([slmc, "compile", model, "--plugin", wrong, "--target", "npu8", "-o", os.path.join(work, "x.slm")],
                           "slmc compile"),
                          ([slm_run, "--plugin", wrong, "x.slm", "--input-dir", work, "--output-dir", work], "slm-run")]:
            expect_refusal(cmd, ["version 99", "version 2"], f"{what} refuses an API-version-99 plugin")
            expect_refusal(cmd[:cmd.index(wrong)] + [runtime_lib] + cmd[cmd.index(wrong) + 1:],
                           ["not an slmc plugin", "slmc_plugin_api_version"], f"{what} refuses a non-plugin library")
        expect_refusal([slmc, "targets", "--plugin", os.path.join(work, "missing.so")], ["missing.so", "cannot load"],
                       "slmc targets refuses a missing plugin file")

    if "models" in steps:
        cases = [("tiny_llama", ["--seq", "5", "--past", "3", "--dim", "seq=16", "--dim", "past=16"], 0.999),
                 ("tiny_gpt2", ["--seq", "5", "--past", "3", "--dim", "seq=16", "--dim", "past=16"], 0.999),
                 ("tiny_cnn", [], 0.999)]
        for name, extra, min_cos in cases:
            case_dir = os.path.join(work, "models", name)
            rc, out, err = run(["/usr/bin/python3", RUN_CASE, "--slmc", slmc, "--model", os.path.join(MODELS, name + ".onnx"),
                                "--case", "npu8." + name, "--ort-prefix", args.ort_prefix, "--work", case_dir,
                                "--target", "npu8", f"--compile-arg=--plugin={plugin}",
                                "--runner", f"{slm_run} --plugin {plugin}", "--min-cosine", str(min_cos), *extra])
            check(rc == 0, f"{name} on npu8 matches ONNX Runtime (min cosine {min_cos})" + ("" if rc == 0 else f":\n{out[-2000:]}{err[-2000:]}"))
            art = os.path.join(case_dir, "model.slm")
            if not os.path.exists(art):
                continue
            rc, out, _ = run([slmc, "inspect", art, "--json"])
            info = json.loads(out) if rc == 0 else {}
            place = info.get("placement", {})
            check(place.get("npu8", 0) > 0 and place.get("ref", 0) > 0 and info.get("target") == "npu8"
                  and info.get("host") == "x86_64", f"{name}: inspect shows the partition {place} (target {info.get('target')}, host {info.get('host')})")
            rc, out, _ = run([slmc, "inspect", art])
            check(rc == 0 and "placement:" in out and "on npu8:" in out, f"{name}: inspect text lists the ops on npu8")
            if name == "tiny_cnn":
                ins = os.path.join(case_dir, "inputs")
                expect_refusal([slm_run, art, "--input-dir", ins, "--output-dir", os.path.join(work, "noplugin")],
                               ["npu8", "not registered", "--plugin"], "slm-run without --plugin refuses an npu8 artifact")
                expect_refusal([slm_run, "--plugin", plugin, art, "--input-dir", ins, "--output-dir", os.path.join(work, "absent")],
                               ["npu8", "not available"], "slm-run refuses an npu8 artifact when the device is absent",
                               env={"NPU8_ABSENT": "1"})

    if "c_api" in steps:
        art = os.path.join(work, "models", "tiny_cnn", "model.slm")
        dump = os.path.join(work, "c_api_run")
        os.makedirs(dump, exist_ok=True)
        out, _ = must([os.path.join(c_build, "slm_run_c"), art, "--plugin", plugin, "--dump", dump], "C API example runs the npu8 CNN")
        print(out.strip())
        inputs = os.path.join(dump, "inputs")
        os.makedirs(inputs, exist_ok=True)
        for f in glob.glob(os.path.join(dump, "*.npy")):
            if not os.path.basename(f).startswith("out_"):
                shutil.move(f, os.path.join(inputs, os.path.basename(f)))
        ref_dir = os.path.join(dump, "slm_run")
        must([slm_run, "--plugin", plugin, art, "--input-dir", inputs, "--output-dir", ref_dir], "slm-run on the C example's inputs")
        outs = sorted(glob.glob(os.path.join(dump, "out_*.npy")))
        ok = bool(outs)
        for f in outs:
            a, b = np.load(f), np.load(os.path.join(ref_dir, os.path.basename(f)[4:]))
            ok = ok and a.shape == b.shape and np.allclose(a, b, rtol=1e-5, atol=1e-6) and float(np.abs(a).max()) > 0
        check(ok, f"C API example's outputs ({len(outs)}) equal slm-run's on the same inputs")

    if "conformance" in steps:
        rc, out, err = run([os.path.join(prefix, "bin", "slmc-plugin-test"), "--plugin", plugin, "--cases", "40",
                            "--tol", "0.05", "--min-cosine", "0.999"])
        print(out.strip())
        check(rc == 0, "slmc-plugin-test --plugin slmc_npu8.so" + ("" if rc == 0 else f": exit {rc} {err}"))
        rc, out, err = run([os.path.join(prefix, "bin", "slmc-plugin-test"), "--plugin", wrong])
        check(rc == 2 and "version 99" in err, "slmc-plugin-test refuses the version-99 plugin")

    print(f"sdk_install_test: {len(failures)} failed" + ("" if not failures else ": " + "; ".join(f.split(':')[0] for f in failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit as e:
        if e.code == 1:
            print(f"sdk_install_test: stopped after a failed step", flush=True)
        raise
