#!/usr/bin/env bash
# Install the test-only peer dependencies of slmc's end-to-end tests:
# onnxruntime-node (the ONNX Runtime reference oracle used by
# tests/e2e/ort_run.js). Idempotent: does nothing if the pinned version is
# already installed.
#
# Usage: scripts/install-peers.sh [DEST]     (default DEST: <repo>/build/peers)
# Afterwards pass --ort-prefix DEST to tests/e2e/ort_run.js (or set
# SLMC_ORT_PREFIX=DEST).
set -euo pipefail

ORT_VERSION=1.30.0
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-$repo_root/build/peers}"
pkg="$dest/node_modules/onnxruntime-node"

installed_ok() {
  [ -f "$pkg/package.json" ] &&
    grep -Eq "\"version\"[[:space:]]*:[[:space:]]*\"${ORT_VERSION//./\\.}\"" "$pkg/package.json" &&
    [ -n "$(find "$pkg/bin" -name onnxruntime_binding.node -print -quit 2>/dev/null)" ]
}

if installed_ok; then
  echo "install-peers: onnxruntime-node@$ORT_VERSION already present in $dest"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "install-peers: npm not found; install Node.js and npm first (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi

mkdir -p "$dest"
echo "install-peers: installing onnxruntime-node@$ORT_VERSION into $dest"
# --ignore-scripts: the package ships its prebuilt native binding; its
# postinstall script would try to download extra (GPU) binaries.
npm install --ignore-scripts --no-audit --no-fund --prefix "$dest" "onnxruntime-node@$ORT_VERSION"

if ! installed_ok; then
  echo "install-peers: onnxruntime-node@$ORT_VERSION did not install correctly into $dest" >&2
  exit 1
fi
echo "install-peers: done"
