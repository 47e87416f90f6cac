// bench_common.js — shared helpers of the peer benchmark scripts: flags, medians, random ids, peak RSS, JSON in `slmc bench`'s format.
'use strict';

const fs = require('fs');
const path = require('path');

const REPO = path.resolve(__dirname, '..', '..');

// Parses --name value / --name=value flags; `spec` maps name -> default (numbers stay numbers).
function parseFlags(argv, spec, usage) {
  const opts = { ...spec };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') {
      process.stdout.write(usage + '\n');
      process.exit(0);
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m || !(m[1] in spec)) {
      process.stderr.write(`error: unknown argument '${a}'\n${usage}\n`);
      process.exit(2);
    }
    let v = m[2];
    if (v === undefined) {
      if (i + 1 >= argv.length) {
        process.stderr.write(`error: missing value for --${m[1]}\n`);
        process.exit(2);
      }
      v = argv[++i];
    }
    opts[m[1]] = typeof spec[m[1]] === 'number' ? Number(v) : v;
  }
  return opts;
}

function median(xs) {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

// Small seeded PRNG (mulberry32) for reproducible token ids.
function rng(seed) {
  let a = (seed >>> 0) + 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomIds(next, n, vocab) {
  return Array.from({ length: n }, () => Math.floor(next() * vocab));
}

// Peak resident set of this process (the whole node process, runtime included).
function peakRssBytes() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch (e) { /* fall through */ }
  return process.resourceUsage().maxRSS * 1024;
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

// Builds the result entry with the same fields as `slmc bench --json`.
function result(fields) {
  const r = { ...fields };
  r.prefill_ms = median(fields.prefill_ms_runs);
  r.decode_ms_per_token = median(fields.decode_ms_per_token_runs);
  r.tokens_per_s = r.decode_ms_per_token > 0 ? 1000 / r.decode_ms_per_token : 0;
  r.peak_rss_bytes = peakRssBytes();
  return r;
}

function report(r, jsonPath) {
  const row = (c) => c.map((x, i) => String(x).padStart(i ? 13 : 28)).join(' ');
  process.stdout.write(row(['model', 'size_MB', 'load_ms', 'prefill_ms', 'decode_ms/tok', 'tok/s', 'peakRSS_MB', 'threads']) + '\n');
  process.stdout.write(row([`${r.name} (${r.engine})`, (r.size_bytes / 1e6).toFixed(1), r.load_ms.toFixed(2),
    r.prefill_ms.toFixed(2), r.decode_ms_per_token.toFixed(3), r.tokens_per_s.toFixed(2),
    (r.peak_rss_bytes / 1e6).toFixed(1), r.threads]) + '\n');
  process.stdout.write(`(prompt ${r.prompt_len} tokens, ${r.decode} decode steps, median of ${r.repeat} repeats)\n`);
  if (jsonPath) fs.writeFileSync(jsonPath, JSON.stringify({ models: [r] }, null, 1) + '\n');
}

module.exports = { REPO, parseFlags, median, rng, randomIds, peakRssBytes, nowMs, result, report };
