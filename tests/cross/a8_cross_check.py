#!/usr/bin/python3
"""A quantized (w8a8 / w4a8) artifact compiled for a cross target, run under qemu, against the x86_64 artifact.

  tests/cross/a8_cross_check.py --slmc SLMC --model tiny_llama.onnx --target arm64 --quantize w4a8 \
      --runner "tests/cross/qemu_run.sh arm64 build-arm64/runtime/slm-run" --work DIR \
      [--level-env SLM_ARM64_LEVEL=neon ...] [--seq 8 --past 4] [--dim seq=64 ...] [--max-rel 2e-3]

Compiles the model twice with the same options (--target=x86_64 and --target=TARGET), runs the x86_64 one with
`SLMC run` on the host and the other with RUNNER once per --level-env (a kernel level forced through the
environment, qemu passes it on; none given: the CPU's best level), on the same seeded inputs
(run_model_case.py's generator). Both runtimes quantize activations to the same bytes and their integer dot
products are exact, so the outputs differ only by float summation order (and the rare activation that rounds
the other way because of it): every float output must be within --max-rel of the x86 one (max |diff| / max |x86|)
and have cosine >= 0.99999. Exit 0 when all match, 1 otherwise.
"""
import argparse
import os
import shlex
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))
import run_model_case as rmc  # noqa: E402


def run(cmd, env=None):
    print("+ " + " ".join(cmd), flush=True)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, timeout=900)
    if p.returncode != 0:
        sys.exit(f"FAIL: exit {p.returncode}: {' '.join(cmd)}\n{p.stderr[-3000:]}")
    return p


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slmc", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--target", required=True, choices=["arm64", "riscv64"])
    ap.add_argument("--quantize", required=True, choices=["w8a8", "w4a8"])
    ap.add_argument("--runner", required=True, help="command words before the artifact (qemu + slm-run)")
    ap.add_argument("--work", required=True)
    ap.add_argument("--level-env", action="append", default=[], metavar="VAR=LEVEL")
    ap.add_argument("--seq", type=int, default=8)
    ap.add_argument("--past", type=int, default=4)
    ap.add_argument("--dim", action="append", default=[])
    ap.add_argument("--max-rel", type=float, default=2e-3)
    a = ap.parse_args()

    work = os.path.abspath(a.work)
    inputs = os.path.join(work, "inputs")
    for d in (work, inputs):
        os.makedirs(d, exist_ok=True)
    in_sig, out_sig = rmc.read_signature(a.model)
    for name, arr in rmc.make_inputs(in_sig, out_sig, a.seq, a.past, 0).items():
        np.save(os.path.join(inputs, rmc.npy_name(name)), arr)
    dims = [w for d in a.dim for w in ("--dim", d)]
    arts = {}
    for t in ("x86_64", a.target):
        arts[t] = os.path.join(work, f"{t}.slm")
        run([a.slmc, "compile", a.model, f"--target={t}", f"--quantize={a.quantize}", "-o", arts[t], *dims])
    ref_dir = os.path.join(work, "out-x86_64")
    rmc.fresh_dir(ref_dir)
    run([a.slmc, "run", arts["x86_64"], "--input-dir", inputs, "--output-dir", ref_dir])

    failures = 0
    for level in a.level_env or [""]:
        env = dict(os.environ)
        if level:
            var, _, value = level.partition("=")
            env[var] = value
        out_dir = os.path.join(work, "out-" + (level.replace("=", "-") or "default"))
        rmc.fresh_dir(out_dir)
        run(shlex.split(a.runner) + [arts[a.target], "--input-dir", inputs, "--output-dir", out_dir], env)
        for name, _, _ in out_sig:
            fn = rmc.npy_name(name)
            ref, out = np.load(os.path.join(ref_dir, fn)), np.load(os.path.join(out_dir, fn))
            if ref.shape != out.shape or ref.dtype != out.dtype:
                print(f"FAIL {level or 'default'} {name}: {out.dtype}{list(out.shape)} vs x86 {ref.dtype}{list(ref.shape)}")
                failures += 1
                continue
            r, o = ref.astype(np.float64).ravel(), out.astype(np.float64).ravel()
            rel = float(np.max(np.abs(o - r)) / max(np.max(np.abs(r)), 1e-30))
            cos = float(o @ r / max(np.linalg.norm(o) * np.linalg.norm(r), 1e-30))
            ok = rel <= a.max_rel and cos >= 0.99999
            failures += not ok
            print(f"{'PASS' if ok else 'FAIL'} {a.target} {a.quantize} {level or 'default'} {name}: "
                  f"rel_err={rel:.3g} cosine={cos:.7f} (max rel {a.max_rel:g})")
    print(f"{a.target} {a.quantize}: {'FAILED' if failures else 'OK'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
