#!/usr/bin/env bash
# Evidence that a cross-built kernel library is vectorized: disassembles it with llvm-objdump and
# requires each given mnemonic (e.g. fmla, vfmacc.vf) to appear; prints the counts per mnemonic.
#
#   tests/cross/check_disasm.sh LIBRARY MNEMONIC...     exit 77 (skipped) when LIBRARY is not built
set -euo pipefail
lib="$1"
shift
objdump="$(command -v llvm-objdump-19 || command -v llvm-objdump || true)"
if [ -z "$objdump" ]; then
  echo "SKIP: llvm-objdump-19 not found (Debian package llvm-19)"
  exit 77
fi
if [ ! -f "$lib" ]; then
  echo "SKIP: $lib not built (scripts/build-runtime.sh)"
  exit 77
fi
dis="$("$objdump" -d "$lib")"
status=0
for m in "$@"; do
  n="$(grep -cE "[[:space:]]${m//./\\.}[[:space:]]" <<<"$dis" || true)"
  echo "$(basename "$lib"): $n x $m"
  [ "$n" -gt 0 ] || { echo "FAIL: no '$m' instruction in $lib" >&2; status=1; }
done
exit $status
