#!/usr/bin/python3
"""Artifact bytes: reproducible (same model + options → same bytes) and atomic (a kill or a failed
write never leaves a partial .slm, and never clobbers the previous one).

Usage: artifact_bytes_cases.py --slmc build/compiler/slmc --models benchmarks/models --work DIR [--only reproducible|atomic]

reproducible: tiny_llama (fp32 and w4) and tiny_cnn compiled with --threads 1, 2 and 0 (all cores), from
  two copies of the model in different folders, from different working folders and locales: every
  artifact of one model and options must be byte-identical.
atomic: a 64 MiB-weight model compiled over an existing artifact, (a) killed by SIGXFSZ when its
  write passes a 1 MiB file-size limit (deterministically mid-write), (b) with SIGXFSZ ignored so the
  write fails with EFBIG, (c) SIGKILLed as soon as its temporary file appears. In every case the old
  artifact must be left byte-identical (or, in (c) if the kill landed after the rename, be the
  complete new artifact), and (b) must exit non-zero, name the file, and remove its temporary file.
"""
import argparse
import hashlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import time

import numpy as np


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def compile_cmd(slmc, model, out, extra=()):
    return [slmc, "compile", model, "--target=x86_64", "-o", out, *extra]


def must_compile(cmd, cwd=None, env=None):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=env)
    if p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()[-500:]}")


def reproducible(args):
    work = os.path.join(args.work, "reproducible")
    shutil.rmtree(work, ignore_errors=True)
    cases = [("tiny_llama.onnx", ["--dim", "seq=16", "--dim", "past=16"]),
             ("tiny_llama.onnx", ["--dim", "seq=16", "--dim", "past=16", "--quantize=w4", "--asymmetric"]),
             ("tiny_cnn.onnx", [])]
    failures = []
    for ci, (model, flags) in enumerate(cases):
        digests = {}
        for vi, (threads, folder, cwd_kind, lang) in enumerate(
                [("1", "a", "work", "C"), ("2", "b", "root", "C.UTF-8"), ("0", "a", "model", "C")]):
            d = os.path.join(work, f"case{ci}", folder)
            os.makedirs(d, exist_ok=True)
            src = os.path.join(d, model)
            if not os.path.exists(src):
                shutil.copyfile(os.path.join(args.models, model), src)
            out = os.path.join(work, f"case{ci}", f"out_{vi}.slm")
            cwd = {"work": work, "root": "/", "model": d}[cwd_kind]
            env = dict(os.environ, LC_ALL=lang, TZ="Pacific/Chatham" if vi % 2 else "UTC")
            must_compile(compile_cmd(args.slmc, src, out, [*flags, "--threads", threads]), cwd=cwd, env=env)
            digests[f"--threads {threads}, copy {folder}, cwd {cwd_kind}, LC_ALL={lang}"] = sha(out)
        if len(set(digests.values())) != 1:
            failures.append(f"{model} {' '.join(flags)}: artifacts differ: {digests}")
        else:
            print(f"PASS reproducible {model} {' '.join(flags)}: {len(digests)} compiles, sha256 "
                  f"{next(iter(digests.values()))[:16]}")
    if failures:
        raise AssertionError("; ".join(failures))


def big_model(path):
    """One MatMul with a 4096x4096 float weight: 64 MiB to write, so a kill can land mid-write."""
    from onnx import TensorProto, helper, numpy_helper
    w = numpy_helper.from_array(np.random.default_rng(0).standard_normal((4096, 4096)).astype(np.float32), "W")
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 4096])
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 4096])
    g = helper.make_graph([helper.make_node("MatMul", ["X", "W"], ["Y"], name="mm")], "big", [x], [y], [w])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    with open(path, "wb") as f:
        f.write(m.SerializeToString())


def leftovers(d, keep):
    return sorted(f for f in os.listdir(d) if f not in keep)


def atomic(args):
    work = os.path.join(args.work, "atomic")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    model = os.path.join(work, "big.onnx")
    big_model(model)
    out = os.path.join(work, "out", "model.slm")
    os.makedirs(os.path.dirname(out))
    # The "previous" artifact that a broken compile must not clobber.
    must_compile(compile_cmd(args.slmc, os.path.join(args.models, "tiny_cnn.onnx"), out))
    old = sha(out)
    keep = {"model.slm"}

    def limit_fsize():
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))

    # (a) killed by SIGXFSZ in the middle of the write.
    p = subprocess.run(compile_cmd(args.slmc, model, out), preexec_fn=limit_fsize, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if p.returncode != -signal.SIGXFSZ:
        raise AssertionError(f"(a) expected death by SIGXFSZ, got exit {p.returncode}: {p.stderr[-300:]}")
    if sha(out) != old:
        raise AssertionError("(a) the previous artifact was changed by a compile killed mid-write")
    partial = leftovers(os.path.dirname(out), keep)
    if any(f.endswith(".slm") for f in partial):
        raise AssertionError(f"(a) a partial .slm was left: {partial}")
    print(f"PASS atomic (a) killed mid-write (SIGXFSZ at 1 MiB): previous artifact intact, "
          f"temporary files left by the kill: {partial}")
    for f in partial:
        os.remove(os.path.join(os.path.dirname(out), f))

    # (b) the write fails (EFBIG): a clean error, no temporary file, previous artifact intact.
    def limit_fsize_ignore():
        limit_fsize()
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    p = subprocess.run(compile_cmd(args.slmc, model, out), preexec_fn=limit_fsize_ignore, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if p.returncode != 1 or "model.slm" not in p.stderr:  # 1: a run-time (environment) failure, not bad input
        raise AssertionError(f"(b) expected exit 1 naming model.slm, got {p.returncode}: {p.stderr[-300:]}")
    if sha(out) != old or leftovers(os.path.dirname(out), keep):
        raise AssertionError(f"(b) failed write left {leftovers(os.path.dirname(out), keep)} or changed the artifact")
    print(f"PASS atomic (b) failed write: exit {p.returncode}, '{p.stderr.strip().splitlines()[-1]}', nothing left")

    # (c) SIGKILL as soon as the temporary file appears (a real kill; may land after the rename).
    mid = 0
    for attempt in range(3):
        proc = subprocess.Popen(compile_cmd(args.slmc, model, out), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.time() + 600
        while proc.poll() is None and time.time() < deadline:
            if leftovers(os.path.dirname(out), keep):
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.0005)
        proc.wait()
        now = sha(out)
        tmp = leftovers(os.path.dirname(out), keep)
        if proc.returncode == -signal.SIGKILL and now == old:
            mid += 1
        elif now != old:
            # The kill came after the rename: then the artifact must be the complete new one.
            p = subprocess.run([args.slmc, "inspect", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if p.returncode != 0:
                raise AssertionError(f"(c) the artifact in place is neither the old nor a valid new one: {p.stderr}")
            old = now
        if any(f.endswith(".slm") for f in tmp):
            raise AssertionError(f"(c) a partial .slm was left: {tmp}")
        for f in tmp:
            os.remove(os.path.join(os.path.dirname(out), f))
    print(f"PASS atomic (c) SIGKILL during the write: {mid} of 3 kills landed before the rename; "
          "the artifact in place was always a complete one")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slmc", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--only", choices=["reproducible", "atomic"])
    args = ap.parse_args()
    # Compiles run from other working folders.
    args.slmc, args.models, args.work = (os.path.abspath(p) for p in (args.slmc, args.models, args.work))
    failed = False
    for name, fn in (("reproducible", reproducible), ("atomic", atomic)):
        if args.only and args.only != name:
            continue
        try:
            fn(args)
        except AssertionError as e:
            print(f"FAIL {name}: {e}")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
