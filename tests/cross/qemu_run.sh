#!/usr/bin/env bash
# Runs a cross-built binary under qemu-user on one CPU description; exits 77 (CTest: skipped) with a
# message when qemu or the binary is missing, so hosts without the cross setup skip instead of failing.
#
#   tests/cross/qemu_run.sh CPU BINARY [ARGS...]
#   CPU: arm64 (qemu -cpu max), arm64-a53 (cortex-a53: NEON without dotprod/i8mm), riscv64-vlen128 | riscv64-vlen512 (V 1.0 at that VLEN),
#        riscv64-novector (rv64gc without V: the RVV kernels must stay unused)
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 arm64|arm64-a53|riscv64-vlen128|riscv64-vlen512|riscv64-novector BINARY [ARGS...]" >&2
  exit 2
fi
cpu_name="$1"
shift
case "$cpu_name" in
  arm64) qemu=qemu-aarch64 cpu=max sysroot=/usr/aarch64-linux-gnu ;;
  arm64-a53) qemu=qemu-aarch64 cpu=cortex-a53 sysroot=/usr/aarch64-linux-gnu ;;
  riscv64-vlen*) qemu=qemu-riscv64 cpu="rv64,v=true,vext_spec=v1.0,vlen=${cpu_name#riscv64-vlen}"
                 sysroot=/usr/riscv64-linux-gnu ;;
  riscv64-novector) qemu=qemu-riscv64 cpu="rv64,v=false" sysroot=/usr/riscv64-linux-gnu ;;
  *) echo "qemu_run: unknown CPU '$cpu_name'" >&2; exit 2 ;;
esac
if ! command -v "$qemu" >/dev/null 2>&1; then
  echo "SKIP: $qemu not found (Debian package qemu-user; scripts/setup.sh installs it)"
  exit 77
fi
if [ ! -x "$1" ]; then
  echo "SKIP: $1 not built (scripts/build-runtime.sh ${cpu_name%%-*} builds it)"
  exit 77
fi
exec "$qemu" -cpu "$cpu" -L "$sysroot" "$@"
