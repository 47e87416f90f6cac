#!/usr/bin/python3
"""Feature levels and generated kernels (issue 7): what a user of --cpu/--features/--codegen would notice.

  tests/cross/codegen_checks.py --slmc SLMC --slm-run SLM_RUN --model tiny_llama.onnx --work DIR
      [--arm64-run CROSS_SLM_RUN] [--objdump llvm-objdump-19] [--readelf llvm-readelf-19]

Checks (each prints PASS/FAIL; exit 1 on any failure, 77 when a needed tool is missing):
  cli       bad --cpu / --features / --cpu=native for another ISA exit 2 naming the value
  x86       an artifact for skylake-avx512 is refused when SLM_CPU_FEATURES_MASK=-avx512f hides AVX-512
            (the message names avx512f); an amx-int8 artifact is refused on a CPU without AMX (or masked)
  arm64     (--arm64-run) an i8mm artifact refused under qemu-aarch64 -cpu cortex-a53 naming i8mm,
            and the same artifact loads under -cpu max
  disasm    the code segment of x86 (+avx512f: zmm; +avx2,+fma: ymm), arm64 (NEON .4s) and riscv64
            (+v: vsetvli, vfredusum.vs) artifacts, extracted from the .slm, is a shared object with no
            undefined symbols and no DT_NEEDED, and disassembles to those vector instructions
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys

FAILS = []


def check(name, ok, detail=""):
    print(f"[codegen] {'PASS' if ok else 'FAIL'} {name}" + (f": {detail}" if detail and not ok else ""))
    if not ok:
        FAILS.append(name)


def run(cmd, env=None):
    e = dict(os.environ)
    e.pop("SLM_CPU_FEATURES_MASK", None)
    e.update(env or {})
    p = subprocess.run(cmd, capture_output=True, text=True, env=e)
    return p.returncode, p.stdout + p.stderr


def compile_(args, model, out, *flags):
    return run([args.slmc, "compile", model, "-o", out, *flags])


def code_segment(path):
    """The artifact's code segment: the last 64-byte-aligned ELF image that ends the file."""
    data = open(path, "rb").read()
    for off in range(len(data) // 64 * 64, -1, -64):
        if data[off:off + 4] == b"\x7fELF" and data[off + 4] == 2:  # ELFCLASS64
            shoff, = struct.unpack_from("<Q", data, off + 0x28)
            shentsize, shnum = struct.unpack_from("<HH", data, off + 0x3A)
            if off + shoff + shentsize * shnum == len(data):
                return data[off:]
    return None


def cnn_inputs(work):
    import numpy as np
    d = os.path.join(work, "cnn_in")
    os.makedirs(d, exist_ok=True)
    np.save(os.path.join(d, "input.npy"), np.random.default_rng(0).random((1, 3, 32, 32), dtype=np.float32))
    return d


def check_cli(args):
    out = os.path.join(args.work, "cli.slm")
    rc, msg = compile_(args, args.cnn, out, "--cpu=pentium-9000")
    check("cli.bad_cpu", rc == 2 and "pentium-9000" in msg and "known CPUs" in msg, msg[-300:])
    rc, msg = compile_(args, args.cnn, out, "--features=+avx9000")
    check("cli.bad_feature", rc == 2 and "+avx9000" in msg and "avx512f" in msg, msg[-300:])
    rc, msg = compile_(args, args.cnn, out, "--target=arm64", "--features=avx2")
    check("cli.feature_without_sign", rc == 2 and "avx2" in msg, msg[-300:])
    rc, msg = compile_(args, args.cnn, out, "--target=arm64", "--cpu=native")
    check("cli.native_other_isa", rc == 2 and "native" in msg, msg[-300:])


def check_x86(args, inputs):
    out_dir = os.path.join(args.work, "x86_out")
    art = os.path.join(args.work, "cnn_skx.slm")
    rc, msg = compile_(args, args.cnn, art, "--cpu=skylake-avx512")
    check("x86.compile_skylake_avx512", rc == 0, msg[-300:])
    rc, msg = run([args.slm_run, art, "--input-dir", inputs, "--output-dir", out_dir],
                  {"SLM_CPU_FEATURES_MASK": "-avx512f,-avx512bw"})
    check("x86.avx512_refused_on_masked_cpu",
          rc != 0 and "avx512f" in msg and "lacks" in msg and "Illegal" not in msg, msg[-400:])
    art = os.path.join(args.work, "cnn_amx.slm")
    rc, msg = compile_(args, args.cnn, art, "--features=+amx-int8")
    check("x86.compile_amx", rc == 0, msg[-300:])
    rc, msg = run([args.slm_run, art, "--input-dir", inputs, "--output-dir", out_dir],
                  {"SLM_CPU_FEATURES_MASK": "-amx-int8"})
    check("x86.amx_refused", rc != 0 and "amx-int8" in msg, msg[-400:])
    # The default level (x86-64, SSE2) runs everywhere, mask or not.
    art = os.path.join(args.work, "cnn_default.slm")
    compile_(args, args.cnn, art)
    rc, msg = run([args.slm_run, art, "--input-dir", inputs, "--output-dir", out_dir],
                  {"SLM_CPU_FEATURES_MASK": "-avx512f,-avx2"})
    check("x86.default_level_runs", rc == 0, msg[-300:])


def check_arm64(args, inputs):
    if not args.arm64_run or not os.access(args.arm64_run, os.X_OK) or not shutil.which("qemu-aarch64"):
        print("[codegen] SKIP arm64: qemu-aarch64 or the cross-built slm-run is missing")
        return
    art = os.path.join(args.work, "cnn_i8mm.slm")
    rc, msg = compile_(args, args.cnn, art, "--target=arm64", "--features=+i8mm")
    check("arm64.compile_i8mm", rc == 0, msg[-300:])
    out_dir = os.path.join(args.work, "arm_out")
    base = ["-L", "/usr/aarch64-linux-gnu", args.arm64_run, art, "--input-dir", inputs, "--output-dir", out_dir]
    rc, msg = run(["qemu-aarch64", "-cpu", "cortex-a53"] + base)
    check("arm64.i8mm_refused_on_cortex_a53", rc != 0 and "i8mm" in msg and "lacks" in msg, msg[-400:])
    rc, msg = run(["qemu-aarch64", "-cpu", "max"] + base)
    check("arm64.i8mm_runs_on_max", rc == 0, msg[-400:])


def check_disasm(args):
    cases = [
        ("x86_64.avx512", ["--target=x86_64", "--features=+avx512f"], [r"zmm"]),
        ("x86_64.avx2", ["--target=x86_64", "--features=+avx2,+fma"], [r"ymm"]),
        ("arm64.neon", ["--target=arm64"], [r".4s"]),
        ("riscv64.rvv", ["--target=riscv64", "--features=+v"], ["vsetvli", "vfredusum.vs"]),
    ]
    for name, flags, needles in cases:
        art = os.path.join(args.work, f"llama_{name}.slm")
        rc, msg = compile_(args, args.model, art, "--codegen", "--dim", "seq=64", "--dim", "past=64", *flags)
        if rc != 0:
            check(f"disasm.{name}.compile", False, msg[-400:])
            continue
        code = code_segment(art)
        check(f"disasm.{name}.has_code_segment", code is not None)
        if code is None:
            continue
        rc, out = run([args.slmc, "inspect", "--json", art])
        try:
            info = json.loads(out) if rc == 0 else {}
        except ValueError:
            info = {}
        check(f"disasm.{name}.inspect", info.get("code_bytes") == len(code) and info.get("kernel_abi_version") == 1
              and info.get("placement", {}).get("gen", 0) >= 1, out[-300:])
        so = art + ".code.so"
        open(so, "wb").write(code)
        rc, syms = run([args.readelf, "--dyn-syms", "-d", "-W", so])
        undefined = [l for l in syms.splitlines() if " UND " in l and l.split()[-1] != "UND"]
        check(f"disasm.{name}.no_imports", rc == 0 and not undefined and "NEEDED" not in syms and "rms_norm" in syms,
              "\n".join(undefined) or syms[-400:])
        rc, dis = run([args.objdump, "-d", so])
        missing = [n for n in needles if n not in dis]
        check(f"disasm.{name}.vector_code", rc == 0 and not missing, f"no {missing} in the disassembly")
        print(f"[codegen] {name}: code segment {len(code)} bytes")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--slmc", required=True)
    ap.add_argument("--slm-run", required=True)
    ap.add_argument("--model", required=True, help="an LM with rms_norm (tiny_llama.onnx)")
    ap.add_argument("--cnn", required=True, help="a small model for the feature checks (tiny_cnn.onnx)")
    ap.add_argument("--work", required=True)
    ap.add_argument("--arm64-run", default=None, help="cross-built arm64 slm-run (checks skipped without it)")
    ap.add_argument("--objdump", default="llvm-objdump-19")
    ap.add_argument("--readelf", default="llvm-readelf-19")
    args = ap.parse_args()
    for tool in (args.objdump, args.readelf):
        if not shutil.which(tool):
            print(f"SKIP: {tool} not found (Debian package llvm-19)")
            return 77
    os.makedirs(args.work, exist_ok=True)
    inputs = cnn_inputs(args.work)
    check_cli(args)
    check_x86(args, inputs)
    check_arm64(args, inputs)
    check_disasm(args)
    print(f"codegen checks: {'FAILED ' + ', '.join(FAILS) if FAILS else 'OK'}")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
