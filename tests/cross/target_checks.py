#!/usr/bin/python3
"""Host-side checks of the cross targets: `slmc targets` lists x86_64, arm64 and riscv64, and the
host runtime refuses an artifact compiled for another target with a message naming both targets.

  tests/cross/target_checks.py --slmc build/bin/slmc --slm-run build/runtime/slm-run \
      --model benchmarks/models/tiny_cnn.onnx --work build/cross/target_checks
Exit 0 when every check passes, 1 otherwise.
"""
import argparse
import os
import platform
import subprocess
import sys

HOST = {"x86_64": "x86_64", "aarch64": "arm64", "riscv64": "riscv64"}.get(platform.machine(), platform.machine())


def run(cmd):
    print("+ " + " ".join(cmd), flush=True)
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slmc", required=True)
    ap.add_argument("--slm-run", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    failures = []

    p = run([args.slmc, "targets"])
    print(p.stdout, end="")
    listed = [line.split()[0] for line in p.stdout.splitlines() if line.strip()]
    for name in ("x86_64", "arm64", "riscv64"):
        if p.returncode != 0 or name not in listed:
            failures.append(f"`slmc targets` does not list {name}")

    for target in ("x86_64", "arm64", "riscv64"):
        if target == HOST:
            continue
        slm = os.path.join(args.work, f"cnn-{target}.slm")
        p = run([args.slmc, "compile", args.model, f"--target={target}", "-o", slm])
        if p.returncode != 0:
            failures.append(f"compile --target={target} failed: {p.stderr.strip()}")
            continue
        p = run([args.slm_run, slm, "--input-dir", args.work, "--output-dir", os.path.join(args.work, "out")])
        msg = p.stderr.strip()
        print(f"  exit {p.returncode}: {msg}")
        if p.returncode == 0 or f"'{target}'" not in msg or f"'{HOST}'" not in msg:
            failures.append(f"host slm-run on a {target} artifact: want a refusal naming '{target}' and "
                            f"'{HOST}', got exit {p.returncode}: {msg}")

    for f in failures:
        print("FAIL: " + f)
    print("target checks: " + ("FAILED" if failures else "OK"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
