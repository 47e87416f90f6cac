#!/usr/bin/env bash
# Install the test-only peer dependencies of slmc's end-to-end tests and
# benchmarks: onnxruntime-node (the ONNX Runtime reference oracle used by
# tests/e2e/ort_run.js and benchmarks/peers/ort_bench.js) and node-llama-cpp
# with its prebuilt linux-x64 CPU binaries (llama.cpp, used by
# benchmarks/peers/llama_bench.mjs). Idempotent: installs only what is missing
# at the pinned versions.
#
# Usage: scripts/install-peers.sh [DEST]     (default DEST: <repo>/build/peers)
# Afterwards pass --ort-prefix DEST to tests/e2e/ort_run.js (or set
# SLMC_ORT_PREFIX=DEST).
set -euo pipefail

ORT_VERSION=1.30.0
NLC_VERSION=3.22.1
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-$repo_root/build/peers}"

# has_version DIR VERSION: DIR/package.json exists and pins VERSION.
has_version() {
  [ -f "$1/package.json" ] &&
    grep -Eq "\"version\"[[:space:]]*:[[:space:]]*\"${2//./\\.}\"" "$1/package.json"
}

ort_ok() {
  local pkg="$dest/node_modules/onnxruntime-node"
  has_version "$pkg" "$ORT_VERSION" &&
    [ -n "$(find "$pkg/bin" -name onnxruntime_binding.node -print -quit 2>/dev/null)" ]
}

nlc_ok() {
  has_version "$dest/node_modules/node-llama-cpp" "$NLC_VERSION" &&
    has_version "$dest/node_modules/@node-llama-cpp/linux-x64" "$NLC_VERSION" &&
    [ -f "$dest/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/llama-addon.node" ]
}

if ort_ok && nlc_ok; then
  echo "install-peers: onnxruntime-node@$ORT_VERSION and node-llama-cpp@$NLC_VERSION already present in $dest"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "install-peers: npm not found; install Node.js and npm first (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi

mkdir -p "$dest"
# --ignore-scripts: the packages ship prebuilt native binaries; their install
# scripts would download extra (GPU) binaries or try to build llama.cpp.
if ! ort_ok; then
  echo "install-peers: installing onnxruntime-node@$ORT_VERSION into $dest"
  npm install --ignore-scripts --no-audit --no-fund --prefix "$dest" "onnxruntime-node@$ORT_VERSION"
fi
if ! nlc_ok; then
  # The CPU prebuilt for linux-x64 ships one libggml-cpu per microarchitecture
  # (haswell ... sapphirerapids, zen4) and llama.cpp loads the best for this CPU.
  # --omit=optional skips the CUDA/Vulkan/ARM prebuilts (hundreds of MB).
  echo "install-peers: installing node-llama-cpp@$NLC_VERSION (+ linux-x64 CPU binaries) into $dest"
  npm install --ignore-scripts --no-audit --no-fund --omit=optional --prefix "$dest" \
    "node-llama-cpp@$NLC_VERSION" "@node-llama-cpp/linux-x64@$NLC_VERSION"
fi

if ! ort_ok || ! nlc_ok; then
  echo "install-peers: the peers did not install correctly into $dest" >&2
  exit 1
fi
echo "install-peers: done"
