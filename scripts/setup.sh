#!/usr/bin/env bash
# Installs everything slmc's build, tests and model generators need (Debian 12), idempotently.
#
#   scripts/setup.sh            apt packages + test peers (onnxruntime-node from npm)
#   SLMC_SKIP_APT=1 ...         skip apt (packages already there)
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

PACKAGES=(
  # build
  cmake ninja-build ccache g++ pkg-config
  llvm-19-dev libmlir-19-dev mlir-19-tools llvm-19-tools clang-19 lld-19 libomp-19-dev
  libclang-rt-19-dev  # ASan/UBSan/TSan runtimes and libFuzzer (scripts/sanitize.sh, scripts/fuzz.sh)
  flatbuffers-compiler libflatbuffers-dev libboost-program-options-dev
  libonnx-dev libprotobuf-dev protobuf-compiler libgtest-dev libbenchmark-dev
  # tests and model generators
  python3 python3-numpy python3-onnx python3-torch libopenblas0-pthread libonnx-testdata
  # cross targets (runtime builds under qemu)
  g++-aarch64-linux-gnu g++-riscv64-linux-gnu qemu-user
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [ "${SLMC_SKIP_APT:-0}" != 1 ] && [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: Debian packages present"
fi

"$repo_root/scripts/install-peers.sh" "$repo_root/build/peers"
"$repo_root/scripts/install-tokenizers.sh" "$repo_root/build/tokenizers"
