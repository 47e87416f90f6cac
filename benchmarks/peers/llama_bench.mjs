#!/usr/bin/env node
// llama_bench.mjs — the `slmc bench` measurement (load, prefill of P tokens, N cached decode steps) with llama.cpp (node-llama-cpp) on a GGUF file.
//
// Usage: node benchmarks/peers/llama_bench.mjs --model M.gguf [--prompt-len 64] [--decode 32]
//          [--threads 2] [--repeat 5] [--warmup 1] [--seed 0] [--json FILE] [--peers-prefix DIR]
//        node benchmarks/peers/llama_bench.mjs --model M.gguf --check-onnx M.onnx [--check-len 16]
//
// node-llama-cpp@3.22.1 comes from DIR/node_modules (default <repo>/build/peers, see
// scripts/install-peers.sh). CPU only (gpu: false), prebuilt binaries only; the
// libggml-cpu variant that llama.cpp picked for this CPU is read from /proc/self/maps
// and reported (field `ggml_cpu_variant`). Prefill evaluates P random ids in one batch and
// asks for the next token after the last one; each decode step evaluates one id and asks
// for the next token, so the output projection runs on every step as in the ONNX graph
// (llama.cpp computes logits only for tokens that need them; the ONNX graph computes all P).
//
// --check-onnx runs the same ids through ONNX Runtime and llama.cpp and prints the
// largest logit difference (relative to the logits' range) and top-1 agreement per
// position; exit code 1 if they disagree beyond --check-tol (use an f32 GGUF).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const C = require('./bench_common.js');

const USAGE = 'usage: llama_bench.mjs --model M.gguf [--prompt-len P] [--decode N] [--threads T] ' +
  '[--repeat R] [--warmup W] [--seed S] [--json FILE] [--peers-prefix DIR] [--check-onnx M.onnx ' +
  '[--check-len L] [--check-tol X]]';

async function loadLlama(prefix, threads) {
  const entry = path.join(prefix, 'node_modules', 'node-llama-cpp', 'dist', 'index.js');
  if (!fs.existsSync(entry)) {
    process.stderr.write(`llama_bench: no node-llama-cpp in ${prefix}; run scripts/install-peers.sh\n`);
    process.exit(2);
  }
  const { getLlama, LlamaLogLevel } = await import(pathToFileURL(entry).href);
  return getLlama({ gpu: false, build: 'never', usePrebuiltBinaries: true, maxThreads: threads,
    logLevel: LlamaLogLevel.error, progressLogs: false });
}

// Which libggml-cpu-<variant>.so this process mapped (llama.cpp loads the best one for the CPU).
function ggmlCpuVariant() {
  const maps = fs.readFileSync('/proc/self/maps', 'utf8');
  const m = /libggml-cpu-([A-Za-z0-9_]+)\.so/.exec(maps);
  return m ? m[1] : (/libggml-cpu\.so/.test(maps) ? 'generic' : 'unknown');
}

async function openModel(llama, opts, contextSize) {
  const t0 = C.nowMs();
  const model = await llama.loadModel({ modelPath: opts.model, gpuLayers: 0, useMmap: true });
  const context = await model.createContext({ contextSize, batchSize: Math.max(opts['prompt-len'], 16),
    sequences: 1, threads: opts.threads, flashAttention: false });
  const loadMs = C.nowMs() - t0;
  return { model, context, seq: context.getSequence(), loadMs };
}

function vocabSize(model) {
  const md = model.fileInfo.metadata;
  return md.llama?.vocab_size ?? md.tokenizer.ggml.tokens.length;
}

// One prefill + decode; `ids` supplies random token ids.
async function once(seq, ids, opts) {
  await seq.clearHistory();
  const prompt = ids(opts['prompt-len']);
  const items = prompt.map((t, i) => (i === prompt.length - 1 ? [t, { generateNext: { token: true } }] : t));
  let t0 = C.nowMs();
  await seq.controlledEvaluate(items);
  const prefill = C.nowMs() - t0;
  t0 = C.nowMs();
  for (let i = 0; i < opts.decode; i++) {
    await seq.controlledEvaluate([[ids(1)[0], { generateNext: { token: true } }]]);
  }
  const decode = opts.decode ? (C.nowMs() - t0) / opts.decode : 0;
  return { prefill, decode };
}

async function bench(llama, opts) {
  const { model, seq, loadMs } = await openModel(llama, opts, opts['prompt-len'] + opts.decode + 16);
  const next = C.rng(opts.seed);
  const ids = (n) => C.randomIds(next, n, vocabSize(model));
  const prefillRuns = [];
  const decodeRuns = [];
  for (let i = 0; i < opts.warmup + opts.repeat; i++) {
    const t = await once(seq, ids, opts);
    if (i < opts.warmup) continue;
    prefillRuns.push(t.prefill);
    decodeRuns.push(t.decode);
  }
  const type = /\.(f32|q8_0|q4_0|f16)\.gguf$/.exec(opts.model);
  const r = C.result({
    name: path.basename(opts.model).replace(/\.gguf$/, ''), engine: 'llama.cpp',
    size_bytes: fs.statSync(opts.model).size, load_ms: loadMs, threads: opts.threads,
    prompt_len: opts['prompt-len'], decode: opts.decode, repeat: opts.repeat,
    prefill_ms_runs: prefillRuns, decode_ms_per_token_runs: decodeRuns,
    weight_type: type ? type[1] : 'unknown', ggml_cpu_variant: ggmlCpuVariant(),
    ggml_system_info: llama.systemInfo,
  });
  C.report(r, opts.json);
  process.stdout.write(`llama.cpp CPU backend: libggml-cpu-${r.ggml_cpu_variant}.so (${r.ggml_system_info.trim()})\n`);
}

// Logits of every position of `tokens` from ONNX Runtime (past 0).
async function ortLogits(onnxPath, tokens, prefix) {
  const ort = require(path.join(prefix, 'node_modules', 'onnxruntime-node'));
  const s = await ort.InferenceSession.create(onnxPath, { intraOpNumThreads: 2 });
  const feeds = { input_ids: new ort.Tensor('int64', BigInt64Array.from(tokens, BigInt), [1, tokens.length]) };
  for (const m of s.inputMetadata) {
    if (!m.name.startsWith('past_key_values.')) continue;
    const dims = m.shape.map((d) => (typeof d === 'number' ? d : (/batch/.test(d) ? 1 : 0)));
    feeds[m.name] = new ort.Tensor('float32', new Float32Array(0), dims);
  }
  const out = (await s.run(feeds)).logits;
  const v = out.dims[2];
  return tokens.map((_, i) => out.data.subarray(i * v, (i + 1) * v));
}

async function check(llama, opts) {
  const { model, seq } = await openModel(llama, opts, opts['check-len'] + 16);
  const vocab = vocabSize(model);
  const tokens = C.randomIds(C.rng(opts.seed + 1), opts['check-len'], vocab);
  const out = await seq.controlledEvaluate(tokens.map((t) => [t, { generateNext: { logits: true } }]));
  const ref = await ortLogits(opts['check-onnx'], tokens, opts['peers-prefix']);
  let worst = 0;
  let agree = 0;
  tokens.forEach((_, i) => {
    const got = out[i].next.logits;
    const want = ref[i];
    let lo = Infinity;
    let hi = -Infinity;
    let diff = 0;
    let argmax = 0;
    for (let k = 0; k < want.length; k++) {
      lo = Math.min(lo, want[k]);
      hi = Math.max(hi, want[k]);
      if (want[k] > want[argmax]) argmax = k;
      diff = Math.max(diff, Math.abs((got.get(k) ?? NaN) - want[k]));
    }
    const rel = diff / (hi - lo);
    worst = Math.max(worst, Number.isNaN(rel) ? Infinity : rel);
    const top = got.entries().next().value[0];
    agree += top === argmax;
  });
  const ok = worst <= opts['check-tol'] && agree === tokens.length;
  process.stdout.write(`logits check ${path.basename(opts.model)} vs ONNX Runtime on ${tokens.length} tokens: ` +
    `max |diff| / logit range = ${worst.toExponential(2)}, top-1 agreement ${agree}/${tokens.length} ` +
    `(CPU backend libggml-cpu-${ggmlCpuVariant()}.so): ${ok ? 'OK' : 'MISMATCH'}\n`);
  return ok;
}

const opts = C.parseFlags(process.argv.slice(2), {
  model: '', 'prompt-len': 64, decode: 32, threads: 2, repeat: 5, warmup: 1, seed: 0, json: '',
  'peers-prefix': process.env.SLMC_PEERS_PREFIX || path.join(C.REPO, 'build', 'peers'),
  'check-onnx': '', 'check-len': 16, 'check-tol': 1e-3,
}, USAGE);
if (!opts.model) {
  process.stderr.write(`llama_bench: --model is required\n${USAGE}\n`);
  process.exit(2);
}
try {
  const llama = await loadLlama(opts['peers-prefix'], opts.threads);
  const ok = opts['check-onnx'] ? await check(llama, opts) : (await bench(llama, opts), true);
  await llama.dispose();
  process.exit(ok ? 0 : 1);
} catch (e) {
  process.stderr.write(`llama_bench: ${e.stack || e}\n`);
  process.exit(1);
}
