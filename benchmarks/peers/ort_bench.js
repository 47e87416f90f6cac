#!/usr/bin/env node
// ort_bench.js — the `slmc bench` measurement (load, prefill of P tokens, N cached decode steps) with ONNX Runtime on the same ONNX file.
//
// Usage: node benchmarks/peers/ort_bench.js --model M.onnx [--prompt-len 64] [--decode 32]
//          [--threads 2] [--repeat 5] [--warmup 1] [--seed 0] [--json FILE] [--ort-prefix DIR]
//
// onnxruntime-node comes from DIR/node_modules (default <repo>/build/peers, see
// scripts/install-peers.sh). Session: CPU, graphOptimizationLevel 'all',
// intraOpNumThreads = --threads, interOpNumThreads 1, sequential. Each decode
// step feeds the previous step's present.* tensors back as past_key_values.*.
// The JSON has the fields of `slmc bench --json`; peak_rss_bytes is the whole
// node process.
'use strict';

const fs = require('fs');
const path = require('path');
const C = require('./bench_common');

const USAGE = 'usage: ort_bench.js --model M.onnx [--prompt-len P] [--decode N] [--threads T] ' +
  '[--repeat R] [--warmup W] [--seed S] [--json FILE] [--ort-prefix DIR]';

function loadOrt(prefix) {
  const dir = path.join(prefix, 'node_modules', 'onnxruntime-node');
  if (!fs.existsSync(path.join(dir, 'package.json'))) {
    process.stderr.write(`ort_bench: no onnxruntime-node in ${prefix}; run scripts/install-peers.sh\n`);
    process.exit(2);
  }
  return require(dir);
}

// Finds input_ids, the past_key_values.* inputs with their empty shapes, and the vocab size.
function lmInterface(session) {
  const meta = Object.fromEntries(session.inputMetadata.map((m) => [m.name, m]));
  if (!meta.input_ids) throw new Error('model has no input_ids input');
  const pasts = session.inputNames.filter((n) => n.startsWith('past_key_values.')).map((name) => {
    const shape = meta[name].shape;
    // [batch, kv_heads, past, head_dim]: symbolic dims are batch (1) and past (0).
    const empty = shape.map((d) => (typeof d === 'number' ? d : (/batch/.test(d) ? 1 : 0)));
    return { name, present: 'present.' + name.slice('past_key_values.'.length), empty };
  });
  const logits = session.outputMetadata.find((m) => m.name === 'logits');
  if (!logits) throw new Error('model has no logits output');
  return { pasts, vocab: logits.shape[logits.shape.length - 1] };
}

async function once(ort, session, io, next, opts) {
  const ids = (n) => new ort.Tensor('int64', BigInt64Array.from(C.randomIds(next, n, io.vocab), BigInt), [1, n]);
  const feeds = { input_ids: ids(opts['prompt-len']) };
  for (const p of io.pasts) {
    const n = p.empty.reduce((a, b) => a * b, 1);
    feeds[p.name] = new ort.Tensor('float32', new Float32Array(n), p.empty);
  }
  let t0 = C.nowMs();
  let out = await session.run(feeds);
  const prefill = C.nowMs() - t0;
  t0 = C.nowMs();
  for (let i = 0; i < opts.decode; i++) {
    const step = { input_ids: ids(1) };
    for (const p of io.pasts) step[p.name] = out[p.present];
    out = await session.run(step);
  }
  const decode = opts.decode ? (C.nowMs() - t0) / opts.decode : 0;
  return { prefill, decode };
}

async function main() {
  const opts = C.parseFlags(process.argv.slice(2), {
    model: '', 'prompt-len': 64, decode: 32, threads: 2, repeat: 5, warmup: 1, seed: 0, json: '',
    'ort-prefix': process.env.SLMC_ORT_PREFIX || path.join(C.REPO, 'build', 'peers'),
  }, USAGE);
  if (!opts.model) {
    process.stderr.write(`ort_bench: --model is required\n${USAGE}\n`);
    process.exit(2);
  }
  const ort = loadOrt(opts['ort-prefix']);
  const t0 = C.nowMs();
  const session = await ort.InferenceSession.create(opts.model, {
    executionProviders: ['cpu'], graphOptimizationLevel: 'all', executionMode: 'sequential',
    intraOpNumThreads: opts.threads, interOpNumThreads: 1,
  });
  const loadMs = C.nowMs() - t0;
  const io = lmInterface(session);
  const next = C.rng(opts.seed);
  const prefillRuns = [];
  const decodeRuns = [];
  for (let i = 0; i < opts.warmup + opts.repeat; i++) {
    const t = await once(ort, session, io, next, opts);
    if (i < opts.warmup) continue;
    prefillRuns.push(t.prefill);
    decodeRuns.push(t.decode);
  }
  const r = C.result({
    name: path.basename(opts.model).replace(/\.onnx$/, ''), engine: 'onnxruntime',
    size_bytes: fs.statSync(opts.model).size, load_ms: loadMs, threads: opts.threads,
    prompt_len: opts['prompt-len'], decode: opts.decode, repeat: opts.repeat,
    prefill_ms_runs: prefillRuns, decode_ms_per_token_runs: decodeRuns,
  });
  C.report(r, opts.json);
}

main().catch((e) => {
  process.stderr.write(`ort_bench: ${e.stack || e}\n`);
  process.exit(1);
});
