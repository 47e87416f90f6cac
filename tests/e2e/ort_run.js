#!/usr/bin/env node
// ONNX Runtime reference oracle for slmc end-to-end tests.
//
// Usage:
//   node tests/e2e/ort_run.js --model M.onnx --input-dir D --output-dir O
//                             [--ort-prefix DIR]
//
// Reads `<input name>.npy` from D for every graph input, runs the model with
// onnxruntime-node on CPU (graphOptimizationLevel 'all', intraOpNumThreads 1)
// and writes `<output name>.npy` into O for every graph output. Characters
// '/' and ':' in tensor names are replaced by '_' in file names.
//
// onnxruntime-node is required from DIR/node_modules, where DIR is
// --ort-prefix, else $SLMC_ORT_PREFIX, else <repo>/build/peers (see
// scripts/install-peers.sh); a normal require() is tried last.
//
// Exit codes: 0 ok, 1 runtime failure, 2 bad usage / bad input / bad model.
'use strict';

const fs = require('fs');
const path = require('path');

class UsageError extends Error {}

function fail(code, msg) {
  process.stderr.write(`ort_run: ${msg}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const opts = {};
  const known = new Set(['model', 'input-dir', 'output-dir', 'ort-prefix']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') {
      process.stdout.write('usage: ort_run.js --model M.onnx --input-dir D --output-dir O [--ort-prefix DIR]\n');
      process.exit(0);
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m || !known.has(m[1])) throw new UsageError(`unknown argument '${a}'`);
    let v = m[2];
    if (v === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`missing value for --${m[1]}`);
      v = argv[++i];
    }
    opts[m[1]] = v;
  }
  for (const k of ['model', 'input-dir', 'output-dir']) {
    if (!opts[k]) throw new UsageError(`--${k} is required`);
  }
  return opts;
}

function loadOrt(prefix) {
  const candidates = [];
  if (prefix) candidates.push(prefix);
  if (process.env.SLMC_ORT_PREFIX) candidates.push(process.env.SLMC_ORT_PREFIX);
  candidates.push(path.resolve(__dirname, '..', '..', 'build', 'peers'));
  const tried = [];
  for (const p of candidates) {
    for (const dir of [path.join(p, 'node_modules', 'onnxruntime-node'),
                       path.join(p, 'onnxruntime-node'), p]) {
      if (fs.existsSync(path.join(dir, 'package.json'))) {
        try {
          const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
          if (pkg.name !== 'onnxruntime-node') continue;
        } catch (e) { continue; }
        return require(dir);
      }
      tried.push(dir);
    }
  }
  try {
    return require('onnxruntime-node');
  } catch (e) {
    throw new UsageError('cannot find onnxruntime-node (tried ' + tried.join(', ') +
      '); install it with scripts/install-peers.sh and pass --ort-prefix or set SLMC_ORT_PREFIX');
  }
}

// ---- .npy reading / writing ------------------------------------------------

// numpy descr (without byte-order char) -> [ort type, bytes per element]
const DESCR = {
  f4: ['float32', 4], f8: ['float64', 8], f2: ['float16', 2],
  i8: ['int64', 8], i4: ['int32', 4], i2: ['int16', 2], i1: ['int8', 1],
  u8: ['uint64', 8], u4: ['uint32', 4], u2: ['uint16', 2], u1: ['uint8', 1],
  b1: ['bool', 1],
};
const ORT_TO_DESCR = {
  float32: '<f4', float64: '<f8', float16: '<f2', int64: '<i8', int32: '<i4',
  int16: '<i2', int8: '|i1', uint64: '<u8', uint32: '<u4', uint16: '<u2',
  uint8: '|u1', bool: '|b1',
};

function typedArray(type, buf) {
  // buf: a freshly allocated (aligned) ArrayBuffer holding exactly the data.
  switch (type) {
    case 'float32': return new Float32Array(buf);
    case 'float64': return new Float64Array(buf);
    case 'float16': return new Uint16Array(buf); // raw IEEE half bits
    case 'int64': return new BigInt64Array(buf);
    case 'int32': return new Int32Array(buf);
    case 'int16': return new Int16Array(buf);
    case 'int8': return new Int8Array(buf);
    case 'uint64': return new BigUint64Array(buf);
    case 'uint32': return new Uint32Array(buf);
    case 'uint16': return new Uint16Array(buf);
    case 'uint8': return new Uint8Array(buf);
    case 'bool': return new Uint8Array(buf);
    default: throw new UsageError(`unsupported type ${type}`);
  }
}

function readNpy(file) {
  const b = fs.readFileSync(file);
  const bad = (why) => new UsageError(`${file}: not a valid .npy file: ${why}`);
  if (b.length < 10 || b[0] !== 0x93 || b.toString('latin1', 1, 6) !== 'NUMPY') throw bad('bad magic');
  const major = b[6];
  let hlen, hstart;
  if (major === 1) { hlen = b.readUInt16LE(8); hstart = 10; }
  else if (major === 2 || major === 3) {
    if (b.length < 12) throw bad('truncated header');
    hlen = b.readUInt32LE(8); hstart = 12;
  } else throw bad(`unsupported format version ${major}`);
  if (hstart + hlen > b.length) throw bad('truncated header');
  const header = b.toString(major === 3 ? 'utf8' : 'latin1', hstart, hstart + hlen);
  const dm = /'descr'\s*:\s*'([^']*)'/.exec(header);
  const fm = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const sm = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!dm || !fm || !sm) throw bad(`cannot parse header ${JSON.stringify(header.trim())}`);
  if (fm[1] === 'True') throw bad('Fortran-order arrays are not supported (save a C-order array)');
  const descr = dm[1];
  const order = descr[0];
  const code = descr.slice(1);
  if (!'<|='.includes(order) || !(code in DESCR)) {
    throw bad(`unsupported dtype '${descr}' (expected little-endian float32/float64/float16/int64/int32/int16/int8/uint*/bool)`);
  }
  if (order === '=' && require('os').endianness() !== 'LE') throw bad('native byte order is not little endian');
  const [type, size] = DESCR[code];
  const dims = sm[1].split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => {
    if (!/^\d+L?$/.test(s)) throw bad(`bad shape entry '${s}'`);
    return parseInt(s, 10);
  });
  const count = dims.reduce((a, d) => a * d, 1);
  const dstart = hstart + hlen;
  const nbytes = count * size;
  if (b.length - dstart < nbytes) {
    throw bad(`data truncated: shape [${dims}] ${type} needs ${nbytes} bytes, file has ${b.length - dstart}`);
  }
  if (b.length - dstart > nbytes) throw bad(`${b.length - dstart - nbytes} trailing bytes after data`);
  const ab = new ArrayBuffer(nbytes);
  new Uint8Array(ab).set(b.subarray(dstart, dstart + nbytes));
  return { type, dims, data: typedArray(type, ab) };
}

function writeNpy(file, type, dims, data) {
  const descr = ORT_TO_DESCR[type];
  if (!descr) throw new Error(`cannot write output of type ${type} as .npy`);
  const shape = dims.length === 0 ? '()' : dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre[0] = 0x93; pre.write('NUMPY', 1, 'latin1'); pre[6] = 1; pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), body]));
}

function fileName(tensorName) {
  return tensorName.replace(/[/:]/g, '_') + '.npy';
}

// ---- main ------------------------------------------------------------------

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    fail(2, `${e.message}\nusage: ort_run.js --model M.onnx --input-dir D --output-dir O [--ort-prefix DIR]`);
  }
  if (!fs.existsSync(opts.model)) fail(2, `model file not found: ${opts.model}`);
  if (!fs.existsSync(opts['input-dir']) || !fs.statSync(opts['input-dir']).isDirectory()) {
    fail(2, `input directory not found: ${opts['input-dir']}`);
  }
  let ort;
  try { ort = loadOrt(opts['ort-prefix']); } catch (e) { fail(2, e.message); }

  let session;
  try {
    session = await ort.InferenceSession.create(opts.model, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    });
  } catch (e) {
    fail(2, `cannot load model ${opts.model}: ${e.message}`);
  }

  const feeds = {};
  for (const name of session.inputNames) {
    const f = path.join(opts['input-dir'], fileName(name));
    if (!fs.existsSync(f)) fail(2, `missing input file for input '${name}': ${f}`);
    let arr;
    try { arr = readNpy(f); } catch (e) { fail(2, e.message); }
    try {
      feeds[name] = new ort.Tensor(arr.type, arr.data, arr.dims);
    } catch (e) {
      fail(2, `input '${name}' (${f}): ${e.message}`);
    }
  }

  let results;
  try {
    results = await session.run(feeds);
  } catch (e) {
    // ORT reports type/rank/shape mismatches of the feeds as run errors.
    const msg = String(e.message || e);
    const isInputError = /input|type|rank|dimension|shape/i.test(msg) && /invalid|unexpected|got|expected/i.test(msg);
    fail(isInputError ? 2 : 1, `inference failed: ${msg}`);
  }

  fs.mkdirSync(opts['output-dir'], { recursive: true });
  for (const name of session.outputNames) {
    const t = results[name];
    const f = path.join(opts['output-dir'], fileName(name));
    try {
      writeNpy(f, t.type, t.dims, t.data);
    } catch (e) {
      fail(1, `output '${name}': ${e.message}`);
    }
    process.stdout.write(`${name}: ${t.type} [${t.dims.join(', ')}] -> ${f}\n`);
  }
}

main().catch((e) => fail(1, e && e.stack ? e.stack : String(e)));
