// Tests of the ONNX Runtime oracle tests/e2e/ort_run.js (node's test runner):
//   node --test tests/e2e/
// Needs onnxruntime-node (scripts/install-peers.sh); the ORT-dependent tests
// are skipped when it is not installed. Location: $SLMC_ORT_PREFIX, else
// <repo>/build/peers.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const repo = path.resolve(__dirname, '..', '..');
const script = path.join(__dirname, 'ort_run.js');
const cnn = path.join(repo, 'benchmarks', 'models', 'tiny_cnn.onnx');
const ortPrefix = process.env.SLMC_ORT_PREFIX || path.join(repo, 'build', 'peers');
const haveOrt = fs.existsSync(path.join(ortPrefix, 'node_modules', 'onnxruntime-node', 'package.json'));
const skip = haveOrt ? false : `onnxruntime-node not installed in ${ortPrefix} (run scripts/install-peers.sh)`;

function npyBytes(descr, shape, body, version = 1) {
  const shp = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shp}, }`;
  const pre = version === 1 ? 10 : 12;
  header += ' '.repeat((64 - ((pre + header.length + 1) % 64)) % 64) + '\n';
  const p = Buffer.alloc(pre);
  p[0] = 0x93; p.write('NUMPY', 1, 'latin1'); p[6] = version; p[7] = 0;
  if (version === 1) p.writeUInt16LE(header.length, 8); else p.writeUInt32LE(header.length, 8);
  return Buffer.concat([p, Buffer.from(header, 'latin1'), body]);
}

function randomFloats(n, seed) {
  // xorshift32 -> uniform in [-1, 1); deterministic.
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    a[i] = (s / 4294967296) * 2 - 1;
  }
  return Buffer.from(a.buffer);
}

function parseNpyHeader(buf) {
  assert.strictEqual(buf.toString('latin1', 1, 6), 'NUMPY');
  const hlen = buf.readUInt16LE(8);
  const h = buf.toString('latin1', 10, 10 + hlen);
  const descr = /'descr': '([^']*)'/.exec(h)[1];
  const shape = /'shape': \(([^)]*)\)/.exec(h)[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  return { descr, shape, dataOffset: 10 + hlen };
}

function run(inputDir, outputDir, extra = []) {
  return spawnSync(process.execPath, [script, '--model', cnn, '--input-dir', inputDir,
    '--output-dir', outputDir, '--ort-prefix', ortPrefix, ...extra], { encoding: 'utf8' });
}

function tmp() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ort-run-test-'));
}

test('tiny_cnn: logits have shape [batch, 10] (npy v1 input, batch 1)', { skip }, () => {
  const d = tmp();
  fs.mkdirSync(path.join(d, 'in'));
  fs.writeFileSync(path.join(d, 'in', 'input.npy'), npyBytes('<f4', [1, 3, 32, 32], randomFloats(3 * 32 * 32, 7)));
  const r = run(path.join(d, 'in'), path.join(d, 'out'));
  assert.strictEqual(r.status, 0, r.stderr);
  const out = fs.readFileSync(path.join(d, 'out', 'logits.npy'));
  const h = parseNpyHeader(out);
  assert.strictEqual(h.descr, '<f4');
  assert.deepStrictEqual(h.shape, [1, 10]);
  assert.strictEqual(h.dataOffset % 64, 0, 'data should be 64-byte aligned like numpy writes it');
  assert.strictEqual(out.length - h.dataOffset, 40);
  const vals = new Float32Array(out.buffer.slice(out.byteOffset + h.dataOffset, out.byteOffset + out.length));
  assert.ok(vals.every(Number.isFinite));
  assert.ok(Math.max(...vals) - Math.min(...vals) > 1e-3, 'logits should not be constant');
  fs.rmSync(d, { recursive: true, force: true });
});

test('tiny_cnn: npy v2 header and batch 3', { skip }, () => {
  const d = tmp();
  fs.mkdirSync(path.join(d, 'in'));
  fs.writeFileSync(path.join(d, 'in', 'input.npy'), npyBytes('<f4', [3, 3, 32, 32], randomFloats(3 * 3 * 32 * 32, 9), 2));
  const r = run(path.join(d, 'in'), path.join(d, 'out'));
  assert.strictEqual(r.status, 0, r.stderr);
  assert.deepStrictEqual(parseNpyHeader(fs.readFileSync(path.join(d, 'out', 'logits.npy'))).shape, [3, 10]);
  fs.rmSync(d, { recursive: true, force: true });
});

test('bad inputs exit 2 with a message', { skip }, () => {
  const cases = [
    ['missing input file', null, /missing input file for input 'input'/],
    ['bad magic', Buffer.from('not an npy file at all'), /not a valid \.npy file: bad magic/],
    ['truncated data', npyBytes('<f4', [1, 3, 32, 32], Buffer.alloc(100)), /data truncated/],
    ['big endian', npyBytes('>f4', [1, 3, 32, 32], Buffer.alloc(3 * 32 * 32 * 4)), /unsupported dtype '>f4'/],
    ['wrong dtype', npyBytes('<f8', [1, 3, 32, 32], Buffer.alloc(3 * 32 * 32 * 8)), /Unexpected input data type/],
    ['wrong rank', npyBytes('<f4', [1, 3, 32], Buffer.alloc(3 * 32 * 4)), /Invalid rank/],
  ];
  for (const [name, content, re] of cases) {
    const d = tmp();
    fs.mkdirSync(path.join(d, 'in'));
    if (content) fs.writeFileSync(path.join(d, 'in', 'input.npy'), content);
    const r = run(path.join(d, 'in'), path.join(d, 'out'));
    assert.strictEqual(r.status, 2, `${name}: status ${r.status}, stderr ${r.stderr}`);
    assert.match(r.stderr, re, name);
    assert.ok(!fs.existsSync(path.join(d, 'out', 'logits.npy')), `${name}: no output expected`);
    fs.rmSync(d, { recursive: true, force: true });
  }
});

test('usage errors exit 2', () => {
  let r = spawnSync(process.execPath, [script, '--model', cnn], { encoding: 'utf8' });
  assert.strictEqual(r.status, 2);
  assert.match(r.stderr, /--input-dir is required/);
  r = spawnSync(process.execPath, [script, '--bogus', 'x'], { encoding: 'utf8' });
  assert.strictEqual(r.status, 2);
  assert.match(r.stderr, /unknown argument '--bogus'/);
  r = spawnSync(process.execPath, [script, '--model', '/nonexistent.onnx', '--input-dir', '.', '--output-dir', '.'],
    { encoding: 'utf8' });
  assert.strictEqual(r.status, 2);
  assert.match(r.stderr, /model file not found/);
});
