// slmc-plugin-test: the plugin conformance suite — every op a plugin (or the host ISA) claims, against the reference kernels, on random shapes.
//
//   slmc-plugin-test --plugin PATH.so [--cases N] [--seed S] [--tol T] [--min-cosine C] [-v]
//   slmc-plugin-test --host [--cases N] [--seed S] [--tol T] [--allow-uncovered] [-v]
//
// Plugin mode, per op key the plugin lists (slmc_plugin_t.op_keys) and per random case: asks op_cost
// (a declined case is counted, not failed, but an op must accept some), packs the constant operands
// with pack_input, binds with prepare, runs infer (shapes must equal the reference's) and execute,
// and compares with the reference kernel: max|y - ref| <= tol * max|ref| and cosine >= C.
// Host mode does the same for each ISA override of this runtime's host target at every ISA level
// the CPU has. An op without a case generator here is "uncovered" and fails the run unless
// --allow-uncovered. Exit: 0 all pass, 1 a failure, 2 bad usage or a refused plugin.
#include "core/host_kernels.h"
#include "kernel_util.h"
#include "quant_a8.h"
#include "ref_kernel.h"
#include "slm_runtime.h"
#include "slmc/plugin.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

using slm::Tensor;

// One generated op instance: inputs (some constant), attributes, and owned storage.
struct Case {
  std::string desc;
  std::vector<Tensor> inputs;      // dtype/rank/dims/data (data owned by `storage`)
  std::vector<bool> present;       // absent optional inputs: false
  std::vector<bool> constant;      // operands a compiler would see as constants
  std::vector<std::vector<uint8_t>> storage; // bytes of each input
  std::vector<slm::Attr> attrs;    // sorted by name
  std::vector<std::string> strs;   // string attribute storage
  int numOutputs = 1;
};

struct Options {
  std::string plugin;
  bool host = false, verbose = false, allowUncovered = false;
  int cases = 25;
  unsigned seed = 1;
  double tol = -1, minCosine = -1;
};

// Values ~ N(0, scale^2); weights get 1/sqrt(K) so products are O(1), as in trained layers.
Tensor *addInput(Case &c, std::mt19937 &rng, std::vector<int64_t> dims, bool constant, bool present = true,
                 float scale = 1.0f) {
  c.storage.emplace_back();
  Tensor t;
  t.dtype = slm::kF32;
  t.rank = int32_t(dims.size());
  int64_t n = 1;
  for (size_t i = 0; i < dims.size(); ++i) t.dims[i] = dims[i], n *= dims[i];
  std::normal_distribution<float> nd(0.0f, scale);
  c.storage.back().resize(size_t(n) * sizeof(float));
  float *v = reinterpret_cast<float *>(c.storage.back().data());
  for (int64_t i = 0; i < n; ++i) v[i] = nd(rng);
  t.data = present ? c.storage.back().data() : nullptr;
  c.inputs.push_back(t);
  c.present.push_back(present);
  c.constant.push_back(constant);
  return &c.inputs.back();
}

// A constant of any dtype with uniformly random bytes (quantized codes, zero points), or float16
// values ~ N(0, scale^2) when dtype is kF16.
void addBytes(Case &c, std::mt19937 &rng, int32_t dtype, std::vector<int64_t> dims, float scale = 0.0f) {
  Tensor t;
  t.dtype = dtype;
  t.rank = int32_t(dims.size());
  int64_t n = 1;
  for (size_t i = 0; i < dims.size(); ++i) t.dims[i] = dims[i], n *= dims[i];
  c.storage.emplace_back(size_t(n) * slm::dtype_size(dtype));
  if (dtype == slm::kF16) {
    std::normal_distribution<float> nd(0.0f, scale);
    for (int64_t i = 0; i < n; ++i) {
      uint16_t h = slm::float_to_half(std::fabs(nd(rng)) + scale * 0.1f);
      std::memcpy(c.storage.back().data() + 2 * i, &h, 2);
    }
  } else {
    for (auto &b : c.storage.back()) b = uint8_t(rng());
  }
  c.inputs.push_back(t);
  c.present.push_back(true);
  c.constant.push_back(true);
}

void addIntAttr(Case &c, const char *name, int64_t v) {
  slm::Attr a;
  a.name = name;
  a.kind = slm::kAttrInt;
  a.i = v;
  c.attrs.push_back(a);
}

void addStringAttr(Case &c, const char *name, const std::string &v) {
  c.strs.push_back(v);
  slm::Attr a;
  a.name = name;
  a.kind = slm::kAttrString;
  c.attrs.push_back(a); // s/count set in finalize (strs may reallocate)
}

void finalize(Case &c) {
  size_t si = 0;
  for (auto &a : c.attrs)
    if (a.kind == slm::kAttrString) a.s = c.strs[si].data(), a.count = c.strs[si].size(), ++si;
  std::stable_sort(c.attrs.begin(), c.attrs.end(), [](const slm::Attr &x, const slm::Attr &y) { return std::strcmp(x.name, y.name) < 0; });
  for (size_t i = 0; i < c.inputs.size(); ++i) c.inputs[i].data = c.present[i] ? c.storage[i].data() : nullptr;
}

int64_t pick(std::mt19937 &rng, std::initializer_list<int64_t> edge, int64_t lo, int64_t hi) {
  std::uniform_int_distribution<int> coin(0, 1);
  if (coin(rng)) return *(edge.begin() + std::uniform_int_distribution<size_t>(0, edge.size() - 1)(rng));
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

// MatMul: a [batch..., M, K] activation, b [K, N] constant.
Case genMatMul(std::mt19937 &rng) {
  Case c;
  int64_t m = pick(rng, {1, 2, 7}, 1, 12), k = pick(rng, {1, 15, 16, 17, 64, 130}, 1, 200),
          n = pick(rng, {1, 7, 8, 16, 33}, 1, 80);
  std::vector<int64_t> a = {m, k};
  if (std::uniform_int_distribution<int>(0, 2)(rng) == 0) a.insert(a.begin(), pick(rng, {1, 3}, 1, 3));
  addInput(c, rng, a, false);
  addInput(c, rng, {k, n}, true, true, 1.0f / std::sqrt(float(k)));
  c.desc = "a [" + std::to_string(a.size() == 3 ? a[0] : 1) + "," + std::to_string(m) + "," + std::to_string(k) +
           "] b [" + std::to_string(k) + "," + std::to_string(n) + "]";
  finalize(c);
  return c;
}

// slm.fused_matmul: y = act(a @ b + bias) * mul + residual, b constant (maybe transposed).
Case genFusedMatMul(std::mt19937 &rng) {
  Case c;
  static const char *const acts[] = {"", "relu", "gelu_erf", "gelu_tanh", "silu", "sigmoid", "tanh", "clip"};
  int64_t m = pick(rng, {1, 2, 5}, 1, 10), k = pick(rng, {1, 16, 17, 48, 96}, 1, 160), n = pick(rng, {1, 8, 16, 31}, 1, 70);
  bool trans = std::uniform_int_distribution<int>(0, 1)(rng), bias = std::uniform_int_distribution<int>(0, 1)(rng);
  bool mul = std::uniform_int_distribution<int>(0, 3)(rng) == 0, res = std::uniform_int_distribution<int>(0, 2)(rng) == 0;
  std::string act = acts[std::uniform_int_distribution<int>(0, 7)(rng)];
  addInput(c, rng, {m, k}, false);
  addInput(c, rng, trans ? std::vector<int64_t>{n, k} : std::vector<int64_t>{k, n}, true, true, 1.0f / std::sqrt(float(k)));
  addInput(c, rng, {n}, true, bias);
  addInput(c, rng, {m, n}, false, mul);
  addInput(c, rng, {m, n}, false, res);
  while (!c.present.back()) { // trailing absent optionals are left out, as the emitter does
    c.inputs.pop_back(), c.present.pop_back(), c.constant.pop_back(), c.storage.pop_back();
  }
  if (trans) {
    slm::Attr a;
    a.name = "trans_b";
    a.kind = slm::kAttrInt;
    a.i = 1;
    c.attrs.push_back(a);
  }
  if (!act.empty()) addStringAttr(c, "activation", act);
  if (act == "clip") {
    slm::Attr lo, hi;
    lo.name = "clip_min", lo.kind = slm::kAttrFloat, lo.f = -0.5f;
    hi.name = "clip_max", hi.kind = slm::kAttrFloat, hi.f = 1.5f;
    c.attrs.push_back(lo), c.attrs.push_back(hi);
  }
  c.desc = "a [" + std::to_string(m) + "," + std::to_string(k) + "] n " + std::to_string(n) + (trans ? " trans_b" : "") +
           (bias ? " bias" : "") + (mul ? " mul" : "") + (res ? " residual" : "") + " act '" + act + "'";
  finalize(c);
  return c;
}

// slm.attention: q/k/v packed [B, S, heads*D], a KV past [B, kv_heads, P, D] concatenated into the
// present outputs, grouped KV heads, causal or not (three outputs: attention, present key, value).
Case genAttention(std::mt19937 &rng) {
  Case c;
  int64_t kvh = pick(rng, {1, 2}, 1, 4), group = pick(rng, {1, 2}, 1, 3), d = pick(rng, {8, 16, 64}, 1, 40) * 2;
  int64_t b = pick(rng, {1}, 1, 2), sq = pick(rng, {1, 4}, 1, 9), past = pick(rng, {0, 1, 130}, 0, 40);
  bool causal = std::uniform_int_distribution<int>(0, 3)(rng) != 0;
  addInput(c, rng, {b, sq, kvh * group * d}, false);
  addInput(c, rng, {b, sq, kvh * d}, false);
  addInput(c, rng, {b, sq, kvh * d}, false);
  addInput(c, rng, {b, kvh, past, d}, false);
  addInput(c, rng, {b, kvh, past, d}, false);
  addIntAttr(c, "num_heads", kvh * group);
  addIntAttr(c, "kv_num_heads", kvh);
  addIntAttr(c, "causal", causal);
  slm::Attr scale;
  scale.name = "scale", scale.kind = slm::kAttrFloat, scale.f = 1.0f / std::sqrt(float(d));
  c.attrs.push_back(scale);
  c.numOutputs = 3;
  c.desc = "b " + std::to_string(b) + " s " + std::to_string(sq) + " past " + std::to_string(past) + " heads " +
           std::to_string(kvh * group) + "/" + std::to_string(kvh) + " d " + std::to_string(d) + (causal ? " causal" : "");
  finalize(c);
  return c;
}

// slm.matmul_wq: float activations times int8/int4 weight codes with group scales (float16, as the
// quantizer writes them, or float32), optional zero points and the fused_matmul epilogue.
Case genMatMulWq(std::mt19937 &rng) {
  Case c;
  static const char *const acts[] = {"", "relu", "silu", "gelu_tanh"};
  int64_t bits = std::uniform_int_distribution<int>(0, 1)(rng) ? 4 : 8;
  int64_t group = *(std::initializer_list<int64_t>{0, 32, 64, 128}.begin() + std::uniform_int_distribution<int>(0, 3)(rng));
  int64_t k = group ? group * pick(rng, {1, 2}, 1, 4) : pick(rng, {1, 31, 64, 100}, 1, 160);
  int64_t n = pick(rng, {1, 63, 64, 65, 130}, 1, 200), m = pick(rng, {1, 2, 7}, 1, 9), groups = group ? k / group : 1;
  bool f16 = std::uniform_int_distribution<int>(0, 3)(rng) != 0, zp = std::uniform_int_distribution<int>(0, 2)(rng) == 0;
  bool bias = std::uniform_int_distribution<int>(0, 1)(rng), res = std::uniform_int_distribution<int>(0, 2)(rng) == 0;
  std::string act = acts[std::uniform_int_distribution<int>(0, 3)(rng)];
  addInput(c, rng, {m, k}, false);
  addBytes(c, rng, slm::kU8, {k, bits == 8 ? n : (n + 63) / 64 * 32});
  float scale = (bits == 8 ? 1.0f / 64 : 1.0f / 4) / std::sqrt(float(k));
  if (f16) addBytes(c, rng, slm::kF16, {groups, n}, scale);
  else addInput(c, rng, {groups, n}, true, true, scale);
  if (zp) addBytes(c, rng, slm::kU8, {groups, n});
  else addInput(c, rng, {groups, n}, true, false); // absent optional
  addInput(c, rng, {n}, true, bias);
  addInput(c, rng, {m, n}, false, false); // mul: absent
  addInput(c, rng, {m, n}, false, res);
  while (!c.present.back()) c.inputs.pop_back(), c.present.pop_back(), c.constant.pop_back(), c.storage.pop_back();
  if (zp && bits == 4) // int4 zero points are codes 0..15
    for (auto &b : c.storage[3]) b &= 15;
  addIntAttr(c, "bits", bits);
  addIntAttr(c, "group_size", group);
  addIntAttr(c, "k", k);
  addIntAttr(c, "n", n);
  if (!act.empty()) addStringAttr(c, "activation", act);
  c.desc = "a [" + std::to_string(m) + "," + std::to_string(k) + "] n " + std::to_string(n) + " w" + std::to_string(bits) +
           " group " + std::to_string(group) + (f16 ? " f16" : " f32") + " scales" + (zp ? " zp" : "") + (bias ? " bias" : "") +
           (res ? " residual" : "") + " act '" + act + "'";
  finalize(c);
  return c;
}

// A8 layout attributes shared by slm.quantize_rows and slm.matmul_a8: K padded to kp, a multiple of
// the group (itself a multiple of 8), as the w8a8/w4a8 quantizer chooses them.
void a8Layout(std::mt19937 &rng, int64_t *k, int64_t *kp, int64_t *group) {
  *group = *(std::initializer_list<int64_t>{32, 64, 128}.begin() + std::uniform_int_distribution<int>(0, 2)(rng));
  *kp = *group * pick(rng, {1, 2}, 1, 3);
  *k = std::uniform_int_distribution<int64_t>(*kp - *group + 1, *kp)(rng);
}

// slm.quantize_rows: float rows -> int8 codes, row scales, group sums (three outputs, compared exactly).
Case genQuantizeRows(std::mt19937 &rng) {
  Case c;
  int64_t k, kp, group, m = pick(rng, {1, 3, 17}, 1, 40);
  a8Layout(rng, &k, &kp, &group);
  addInput(c, rng, {m, k}, false, true, std::uniform_int_distribution<int>(0, 1)(rng) ? 1.0f : 50.0f);
  addIntAttr(c, "group_size", group);
  addIntAttr(c, "k", k);
  addIntAttr(c, "kp", kp);
  if (std::uniform_int_distribution<int>(0, 1)(rng)) addIntAttr(c, "group_scales", 1);
  c.numOutputs = 3;
  c.desc = "a [" + std::to_string(m) + "," + std::to_string(k) + "] kp " + std::to_string(kp) + " group " + std::to_string(group);
  finalize(c);
  return c;
}

// slm.matmul_a8: int8 rows (made by quantize_row_s8 from random floats, so codes, scales and sums
// agree) times 16-column weight strips of int8/int4 codes with float16 group scales, plus epilogue.
Case genMatMulA8(std::mt19937 &rng) {
  Case c;
  static const char *const acts[] = {"", "relu", "silu"};
  int64_t k, kp, group, m = pick(rng, {1, 2, 5}, 1, 9), n = pick(rng, {1, 15, 16, 17, 64}, 1, 100);
  a8Layout(rng, &k, &kp, &group);
  int64_t bits = std::uniform_int_distribution<int>(0, 1)(rng) ? 4 : 8, groups = kp / group, strips = (n + 15) / 16;
  std::vector<float> x(size_t(m * k));
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (float &v : x) v = nd(rng);
  bool groupScales = std::uniform_int_distribution<int>(0, 1)(rng); // one activation scale per row and group
  addBytes(c, rng, slm::kI8, {m, kp});
  addInput(c, rng, {m, groupScales ? groups : 1}, false);
  addBytes(c, rng, slm::kI32, {m, groups});
  for (size_t i = 0; i < 3; ++i) c.constant[i] = false; // codes, scales, sums: activations
  for (int64_t r = 0; r < m; ++r) {
    int8_t *q = reinterpret_cast<int8_t *>(c.storage[0].data()) + r * kp;
    float *scale = reinterpret_cast<float *>(c.storage[1].data()) + r * (groupScales ? groups : 1);
    int32_t *sums = reinterpret_cast<int32_t *>(c.storage[2].data()) + r * groups;
    if (groupScales)
      slm::quantize_row_groups_s8(slm::quantize_row_s8, x.data() + r * k, k, kp, group, q, scale, sums);
    else
      slm::quantize_row_s8(x.data() + r * k, k, kp, group, q, scale, sums);
  }
  addBytes(c, rng, slm::kU8, {strips, bits == 8 ? kp * 16 : kp * 8}); // [strips, strip bytes], as packed
  // Rows past K hold the stored zero code, as the quantizer's packer writes them (WeightQuantizer.cpp).
  uint8_t *w = c.storage.back().data();
  int64_t stripBytes = bits == 8 ? kp * 16 : kp * 8;
  for (int64_t st = 0; st < strips; ++st)
    for (int64_t r = k; r < kp; ++r)
      for (int64_t lane = 0; lane < 16; ++lane) {
        uint8_t *strip = w + st * stripBytes;
        if (bits == 8) {
          strip[(r / 4) * 64 + lane * 4 + r % 4] = 128;
        } else {
          uint8_t &b = strip[(r / 8) * 64 + lane * 4 + r % 4];
          b = r % 8 < 4 ? uint8_t((b & 0xf0) | 8) : uint8_t((b & 0x0f) | 0x80);
        }
      }
  addBytes(c, rng, slm::kF16, {strips, groups * 16}, (bits == 8 ? 1.0f / 64 : 1.0f / 4) / std::sqrt(float(k)));
  bool bias = std::uniform_int_distribution<int>(0, 1)(rng), res = std::uniform_int_distribution<int>(0, 2)(rng) == 0;
  addInput(c, rng, {n}, true, bias);
  addInput(c, rng, {m, n}, false, false);
  addInput(c, rng, {m, n}, false, res);
  while (!c.present.back()) c.inputs.pop_back(), c.present.pop_back(), c.constant.pop_back(), c.storage.pop_back();
  std::string act = acts[std::uniform_int_distribution<int>(0, 2)(rng)];
  addIntAttr(c, "bits", bits);
  addIntAttr(c, "group_size", group);
  addIntAttr(c, "k", k);
  addIntAttr(c, "kp", kp);
  addIntAttr(c, "n", n);
  if (!act.empty()) addStringAttr(c, "activation", act);
  c.desc = "q [" + std::to_string(m) + "," + std::to_string(kp) + "] k " + std::to_string(k) + " n " + std::to_string(n) + " w" +
           std::to_string(bits) + " group " + std::to_string(group) + (groupScales ? " group-scales" : "") +
           (bias ? " bias" : "") + (res ? " residual" : "") + " act '" + act + "'";
  finalize(c);
  return c;
}

// slm.matmul_a8_sparse: genMatMulA8's case with 0, 50, 90 or 100% of the weight codes made the zero code (128 for
// int8, 8 for int4), the weight then in the masked-sparse form of targets/common/sparse_s8.h: per strip and K quad a
// uint64 mask of the codes that are not the zero code, those codes a byte each, int64 strip offsets.
Case genMatMulA8Sparse(std::mt19937 &rng) {
  Case c = genMatMulA8(rng);
  auto attr = [&](const char *name) {
    for (const slm::Attr &a : c.attrs)
      if (!std::strcmp(a.name, name)) return a.i;
    return int64_t(0);
  };
  const int64_t bits = attr("bits"), k = attr("k"), kp = attr("kp"), n = attr("n"), strips = (n + 15) / 16,
                quads = kp / 4, stripBytes = bits == 8 ? kp * 16 : kp * 8;
  const uint8_t zero = bits == 8 ? 128 : 8;
  static const double fractions[] = {0.0, 0.5, 0.9, 1.0};
  const double zeros = fractions[std::uniform_int_distribution<int>(0, 3)(rng)];
  std::uniform_real_distribution<double> u01(0, 1);
  std::vector<uint8_t> values;
  std::vector<uint64_t> masks(size_t(strips * quads), 0);
  std::vector<int64_t> offsets(1, 0);
  for (int64_t st = 0; st < strips; ++st) {
    const uint8_t *strip = c.storage[3].data() + st * stripBytes;
    for (int64_t i = 0; i < quads; ++i)
      for (int b = 0; b < 64; ++b) {
        int64_t lane = b / 4, j = b % 4;
        if (16 * st + lane >= n || 4 * i + j >= k) continue;
        uint8_t u = bits == 8 ? strip[i * 64 + b] : uint8_t(strip[i / 2 * 64 + b] >> (i % 2 ? 4 : 0) & 15);
        if (u01(rng) < zeros || u == zero) continue;
        masks[size_t(st * quads + i)] |= uint64_t(1) << b;
        values.push_back(u);
      }
    offsets.push_back(int64_t(values.size()));
  }
  auto bytesOf = [](const void *p, size_t size) {
    std::vector<uint8_t> v(std::max<size_t>(size, 1)); // an all-zero weight has no values, but its tensor needs a pointer
    if (size) std::memcpy(v.data(), p, size);
    v.resize(size);
    return v;
  };
  Tensor tv{}, tm{}, to{};
  tv.dtype = slm::kU8, tv.rank = 1, tv.dims[0] = int64_t(values.size());
  tm.dtype = slm::kU64, tm.rank = 2, tm.dims[0] = strips, tm.dims[1] = quads;
  to.dtype = slm::kI64, to.rank = 1, to.dims[0] = strips + 1;
  c.inputs.erase(c.inputs.begin() + 3);
  c.inputs.insert(c.inputs.begin() + 3, {tv, tm, to});
  c.storage.erase(c.storage.begin() + 3);
  c.storage.insert(c.storage.begin() + 3, {bytesOf(values.data(), values.size()), bytesOf(masks.data(), masks.size() * 8),
                                           bytesOf(offsets.data(), offsets.size() * 8)});
  c.present.insert(c.present.begin() + 3, 2, true);
  c.constant.insert(c.constant.begin() + 3, 2, true);
  c.desc += " zeros " + std::to_string(int(zeros * 100)) + "%";
  finalize(c);
  return c;
}

// slm.matmul_hw: float activations times float16 or bfloat16 weights [K, N] (signed, ~N(0, 1/K)),
// with the fused_matmul epilogue.
Case genMatMulHw(std::mt19937 &rng) {
  Case c;
  static const char *const acts[] = {"", "relu", "silu", "gelu_erf"};
  int64_t m = pick(rng, {1, 2, 7}, 1, 12), k = pick(rng, {1, 15, 16, 64, 130}, 1, 200), n = pick(rng, {1, 15, 16, 17, 64, 300}, 1, 320);
  bool bf16 = std::uniform_int_distribution<int>(0, 1)(rng), bias = std::uniform_int_distribution<int>(0, 1)(rng);
  bool mul = std::uniform_int_distribution<int>(0, 3)(rng) == 0, res = std::uniform_int_distribution<int>(0, 2)(rng) == 0;
  std::string act = acts[std::uniform_int_distribution<int>(0, 3)(rng)];
  addInput(c, rng, {m, k}, false);
  addBytes(c, rng, bf16 ? slm::kBF16 : slm::kF16, {k, n});
  std::normal_distribution<float> nd(0.0f, 1.0f / std::sqrt(float(k)));
  uint16_t *w = reinterpret_cast<uint16_t *>(c.storage.back().data());
  for (int64_t i = 0; i < k * n; ++i) {
    float v = nd(rng);
    w[i] = bf16 ? slm::float_to_bf16(v) : slm::float_to_half(v);
  }
  addInput(c, rng, {n}, true, bias);
  addInput(c, rng, {m, n}, false, mul);
  addInput(c, rng, {m, n}, false, res);
  while (!c.present.back()) c.inputs.pop_back(), c.present.pop_back(), c.constant.pop_back(), c.storage.pop_back();
  addIntAttr(c, "k", k);
  addIntAttr(c, "n", n);
  if (!act.empty()) addStringAttr(c, "activation", act);
  c.desc = "a [" + std::to_string(m) + "," + std::to_string(k) + "] n " + std::to_string(n) + (bf16 ? " bf16" : " f16") +
           (bias ? " bias" : "") + (mul ? " mul" : "") + (res ? " residual" : "") + " act '" + act + "'";
  finalize(c);
  return c;
}

// slm.matmul_sp24: float activations times a 2:4 sparse weight (targets/common/sp24_f32.h): random
// kept values ~N(0, 2/K) and random valid position pairs i0 < i1 per group and column, with the
// fused_matmul epilogue. K tails exercise the masked activation load (k >= K reads as zero).
Case genMatMulSp24(std::mt19937 &rng) {
  Case c;
  static const char *const acts[] = {"", "relu", "silu"};
  int64_t m = pick(rng, {1, 2, 5, 9}, 1, 12), k = pick(rng, {1, 15, 16, 17, 64, 100}, 1, 200),
          n = pick(rng, {1, 15, 64, 65, 130}, 1, 200);
  int64_t panels = (n + 63) / 64, groups = (k + 15) / 16 * 4;
  bool bias = std::uniform_int_distribution<int>(0, 1)(rng), res = std::uniform_int_distribution<int>(0, 2)(rng) == 0;
  std::string act = acts[std::uniform_int_distribution<int>(0, 2)(rng)];
  addInput(c, rng, {m, k}, false);
  addBytes(c, rng, slm::kF32, {panels, groups * 128});
  std::normal_distribution<float> nd(0.0f, std::sqrt(2.0f / float(k)));
  for (float *v = reinterpret_cast<float *>(c.storage.back().data()), *e = v + panels * groups * 128; v < e; ++v)
    *v = nd(rng);
  addBytes(c, rng, slm::kU8, {panels, groups * 64});
  static const int kPairs[6][2] = {{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}};
  uint8_t *ix = c.storage.back().data();
  for (int64_t p = 0; p < panels; ++p)
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t col = 0; col < 64; ++col) {
        const int *pair = kPairs[std::uniform_int_distribution<int>(0, 5)(rng)];
        int off = int(4 * (g % 4));
        ix[(p * groups + g) * 64 + col] = uint8_t((pair[0] + off) | ((pair[1] + off) << 4));
      }
  addInput(c, rng, {n}, true, bias);
  addInput(c, rng, {m, n}, false, false);
  addInput(c, rng, {m, n}, false, res);
  while (!c.present.back()) c.inputs.pop_back(), c.present.pop_back(), c.constant.pop_back(), c.storage.pop_back();
  addIntAttr(c, "k", k);
  addIntAttr(c, "n", n);
  if (!act.empty()) addStringAttr(c, "activation", act);
  c.desc = "a [" + std::to_string(m) + "," + std::to_string(k) + "] n " + std::to_string(n) + " 2:4" +
           (bias ? " bias" : "") + (res ? " residual" : "") + " act '" + act + "'";
  finalize(c);
  return c;
}

// slm.matmul_sparse: float activations times an unstructured sparse weight stored masked
// (targets/common/sparse_f32.h): per k and 16 columns a random mask at a random density (from a
// few nonzeros to all), the offsets they imply, values ~N(0, 2/(density K)), and the fused_matmul
// epilogue. N tails leave padding columns' mask bits clear, as the packer does.
Case genMatMulSparse(std::mt19937 &rng) {
  Case c;
  static const char *const acts[] = {"", "relu", "silu"};
  int64_t m = pick(rng, {1, 2, 4, 5, 9}, 1, 12), k = pick(rng, {1, 15, 16, 17, 64, 100}, 1, 200),
          n = pick(rng, {1, 15, 16, 64, 65, 130}, 1, 200);
  int64_t panels = (n + 63) / 64;
  static const double kDensity[] = {0.05, 0.3, 0.5, 0.9, 1.0};
  double density = kDensity[std::uniform_int_distribution<int>(0, 4)(rng)];
  bool bias = std::uniform_int_distribution<int>(0, 1)(rng), res = std::uniform_int_distribution<int>(0, 2)(rng) == 0;
  std::string act = acts[std::uniform_int_distribution<int>(0, 2)(rng)];
  std::bernoulli_distribution keep(density);
  std::vector<uint16_t> masks(size_t(panels * k * 4), 0);
  std::vector<int64_t> offsets(size_t(panels + 1), 0);
  for (int64_t p = 0; p < panels; ++p) {
    int64_t count = 0;
    for (int64_t i = 0; i < k * 4; ++i) {
      uint16_t bits = 0;
      for (int c16 = 0; c16 < 16; ++c16)
        if (64 * p + 16 * (i % 4) + c16 < n && keep(rng)) bits = uint16_t(bits | 1u << c16);
      masks[size_t(p * k * 4 + i)] = bits;
      count += __builtin_popcount(bits);
    }
    offsets[size_t(p + 1)] = offsets[size_t(p)] + count;
  }
  if (offsets.back() == 0) { // at least one value: a zero-sized constant is not a case worth the plumbing
    masks[0] = 1;
    for (int64_t p = 1; p <= panels; ++p) offsets[size_t(p)] += 1;
  }
  addInput(c, rng, {m, k}, false);
  addBytes(c, rng, slm::kF32, {offsets.back()});
  std::normal_distribution<float> nd(0.0f, std::sqrt(2.0f / float(std::max<double>(1.0, density * double(k)))));
  for (float *v = reinterpret_cast<float *>(c.storage.back().data()), *e = v + offsets.back(); v < e; ++v) *v = nd(rng);
  addBytes(c, rng, slm::kU16, {panels, k * 4});
  std::memcpy(c.storage.back().data(), masks.data(), masks.size() * 2);
  addBytes(c, rng, slm::kI64, {panels + 1});
  std::memcpy(c.storage.back().data(), offsets.data(), offsets.size() * 8);
  addInput(c, rng, {n}, true, bias);
  addInput(c, rng, {m, n}, false, false);
  addInput(c, rng, {m, n}, false, res);
  while (!c.present.back()) c.inputs.pop_back(), c.present.pop_back(), c.constant.pop_back(), c.storage.pop_back();
  addIntAttr(c, "k", k);
  addIntAttr(c, "n", n);
  if (!act.empty()) addStringAttr(c, "activation", act);
  c.desc = "a [" + std::to_string(m) + "," + std::to_string(k) + "] n " + std::to_string(n) + " sparse density " +
           std::to_string(density) + (bias ? " bias" : "") + (res ? " residual" : "") + " act '" + act + "'";
  finalize(c);
  return c;
}

const std::map<std::string, std::function<Case(std::mt19937 &)>> &generators() {
  static const std::map<std::string, std::function<Case(std::mt19937 &)>> g = {
      {"MatMul", genMatMul}, {"slm.fused_matmul", genFusedMatMul}, {"slm.matmul_wq", genMatMulWq},
      {"slm.quantize_rows", genQuantizeRows}, {"slm.matmul_a8", genMatMulA8},
      {"slm.matmul_a8_sparse", genMatMulA8Sparse}, {"slm.matmul_hw", genMatMulHw},
      {"slm.matmul_sp24", genMatMulSp24}, {"slm.matmul_sparse", genMatMulSparse}, {"slm.attention", genAttention}};
  return g;
}

// Chunks the range like a 3-thread executor would, serially, so providers see partial ranges.
void serialParallelFor(void *, int64_t n, int64_t grain, slm::TaskFn fn, void *arg) {
  int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(3, grain > 0 ? (n + grain - 1) / grain : n));
  for (int64_t c = 0; c < chunks; ++c) fn(arg, n * c / chunks, n * (c + 1) / chunks);
}

struct Output {
  Tensor t;
  std::vector<float> data; // the output's bytes (float-aligned storage for any dtype)
};

// Runs infer + run of an OpKernel on the case; false with *err on failure.
bool runKernel(const slm::OpKernel *k, const Case &c, std::vector<Output> *out, std::string *err) {
  std::vector<const Tensor *> ins;
  for (size_t i = 0; i < c.inputs.size(); ++i) ins.push_back(c.present[i] ? &c.inputs[i] : nullptr);
  slm::AttrList attrs{c.attrs.data(), c.attrs.size()};
  out->assign(size_t(c.numOutputs), Output());
  std::vector<Tensor *> outs;
  for (Output &o : *out) outs.push_back(&o.t);
  char msg[512] = {0};
  slm::KernelContext ctx;
  ctx.attrs = &attrs;
  ctx.inputs = ins.data();
  ctx.num_inputs = int(ins.size());
  ctx.outputs = outs.data();
  ctx.num_outputs = int(outs.size());
  ctx.parallel_for = serialParallelFor;
  ctx.error = msg;
  ctx.error_size = sizeof msg;
  if (k->infer(&ctx) != slm::SLM_REF_OK) return *err = std::string("infer: ") + msg, false;
  for (Output &o : *out) {
    o.data.assign((o.t.nbytes() + 3) / 4, NAN);
    o.t.data = o.data.data();
  }
  if (k->run(&ctx) != slm::SLM_REF_OK) return *err = std::string("run: ") + msg, false;
  return true;
}

// Compares y with the reference; returns "" or what differs.
std::string compare(const Output &y, const Output &ref, double tol, double minCos) {
  if (y.t.dtype != ref.t.dtype || y.t.rank != ref.t.rank) return "output dtype/rank differ from the reference";
  for (int i = 0; i < y.t.rank; ++i)
    if (y.t.dims[i] != ref.t.dims[i]) return "output shape differs from the reference";
  if (ref.t.dtype != slm::kF32) { // integer outputs (quantized codes, sums) must match exactly
    if (std::memcmp(y.data.data(), ref.data.data(), ref.t.nbytes()) == 0) return "";
    return std::string(slm::dtype_name(ref.t.dtype)) + " output differs from the reference";
  }
  double maxRef = 0, maxErr = 0, dot = 0, ny = 0, nr = 0;
  for (size_t i = 0; i < ref.data.size(); ++i) {
    double a = y.data[i], b = ref.data[i];
    if (!std::isfinite(a)) return "non-finite output at element " + std::to_string(i);
    maxRef = std::max(maxRef, std::fabs(b));
    maxErr = std::max(maxErr, std::fabs(a - b));
    dot += a * b, ny += a * a, nr += b * b;
  }
  double cosine = ny > 0 && nr > 0 ? dot / std::sqrt(ny * nr) : (ny == nr ? 1.0 : 0.0);
  char buf[200];
  if (maxErr > tol * std::max(maxRef, 1e-6) || cosine < minCos) {
    std::snprintf(buf, sizeof buf, "max error %.3g (%.3g of max |ref| %.3g; tolerance %.3g), cosine %.6f (min %.6f)", maxErr,
                  maxErr / std::max(maxRef, 1e-30), maxRef, tol, cosine, minCos);
    return buf;
  }
  return "";
}

struct Tally {
  int passed = 0, failed = 0, declined = 0;
};

// Plugin path of one case: query, pack, prepare, infer, execute; "" or the failure.
std::string runPluginCase(const slmc_plugin_t &p, const std::string &key, const Case &c, const Output &ref, const Options &o,
                          bool *declined) {
  std::vector<slm_provider_tensor_t> views(c.inputs.size());
  std::vector<const slm_provider_tensor_t *> ptrs(c.inputs.size(), nullptr);
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    std::memcpy(&views[i], &c.inputs[i], sizeof views[i]);
    if (!c.constant[i]) views[i].data = nullptr; // the compiler knows only bounds of activations
    if (c.present[i]) ptrs[i] = &views[i];
  }
  slm_provider_tensor_t outView;
  std::memcpy(&outView, &ref.t, sizeof outView);
  outView.data = nullptr;
  const slm_provider_tensor_t *outPtr = &outView;
  slmc_op_query_t q{p.targets[0]->name, key.c_str(), "conformance", reinterpret_cast<const slm_provider_attr_t *>(c.attrs.data()),
                    c.attrs.size(), ptrs.data(), int(ptrs.size()), &outPtr, 1};
  double cost = 1.0;
  if (!p.op_cost || !p.op_cost(&q, &cost) || !(cost < 1.0)) return *declined = true, "";
  // Pack constants; packed copies replace them for prepare/execute.
  std::vector<slmc_packed_tensor_t> packed(c.inputs.size());
  std::vector<bool> isPacked(c.inputs.size(), false);
  std::vector<slm_provider_tensor_t> bound(views);
  std::string failure;
  char err[512] = {0};
  for (size_t i = 0; i < c.inputs.size() && failure.empty() && p.pack_input; ++i) {
    if (!c.present[i] || !c.constant[i]) continue;
    int rc = p.pack_input(&q, int(i), &packed[i], err, sizeof err);
    if (rc == SLMC_PACK_ERROR || (rc != SLMC_PACK_KEEP && rc != SLMC_PACK_DONE))
      failure = "pack_input " + std::to_string(i) + ": " + err;
    else if (rc == SLMC_PACK_DONE) {
      isPacked[i] = true;
      bound[i].data = packed[i].data, bound[i].dtype = packed[i].dtype, bound[i].rank = packed[i].rank;
      std::memcpy(bound[i].dims, packed[i].dims, sizeof bound[i].dims);
    }
  }
  std::vector<const slm_provider_tensor_t *> bptrs(c.inputs.size(), nullptr);
  for (size_t i = 0; i < c.inputs.size(); ++i)
    if (c.present[i]) bptrs[i] = &bound[i];
  slm_provider_tensor_t y{};
  slm_provider_tensor_t *yptr = &y;
  slm_provider_call_t call{key.c_str(), "conformance", q.attrs, q.num_attrs, bptrs.data(), int(bptrs.size()), &yptr, 1,
                           nullptr, nullptr, err, sizeof err};
  void *state = nullptr;
  bool prepared = false;
  if (failure.empty()) {
    std::memcpy(&y, &outView, sizeof y); // prepare sees the output's bounds
    if (p.provider->prepare(&call, &state) != SLM_PROVIDER_OK) failure = std::string("prepare: ") + err;
    else prepared = true;
  }
  Output out;
  if (failure.empty()) {
    for (size_t i = 0; i < c.inputs.size(); ++i) // activations now carry their values
      if (c.present[i] && !c.constant[i]) bound[i].data = c.inputs[i].data;
    call.parallel_for = reinterpret_cast<decltype(call.parallel_for)>(&serialParallelFor);
    y = slm_provider_tensor_t{};
    int rc = p.provider->infer ? p.provider->infer(state, &call) : SLM_PROVIDER_OK;
    if (!p.provider->infer) std::memcpy(&y, &ref.t, sizeof y); // the runtime would use the reference shape function
    if (rc != SLM_PROVIDER_OK) failure = std::string("infer: ") + err;
  }
  if (failure.empty()) {
    out.t.dtype = y.dtype;
    out.t.rank = y.rank;
    std::copy(y.dims, y.dims + SLM_PROVIDER_MAX_RANK, out.t.dims);
    out.data.assign(size_t(std::max<int64_t>(0, out.t.numel())), NAN);
    if (out.t.dtype != ref.t.dtype || out.t.rank != ref.t.rank || out.t.numel() != ref.t.numel())
      failure = "infer gave another output shape than the reference";
    else {
      y.data = out.data.data();
      if (p.provider->execute(state, &call) != SLM_PROVIDER_OK) failure = std::string("execute: ") + err;
      else failure = compare(out, ref, o.tol, o.minCosine);
    }
  }
  if (prepared && state && p.provider->destroy) p.provider->destroy(state);
  for (size_t i = 0; i < packed.size(); ++i)
    if (isPacked[i]) p.free_packed(&packed[i]);
  return failure;
}

int usage(const char *msg) {
  std::fprintf(stderr, "slmc-plugin-test: error: %s\nusage: slmc-plugin-test (--plugin PATH.so | --host) [--cases N] "
                       "[--seed S] [--tol T] [--min-cosine C] [--allow-uncovered] [-v]\n", msg);
  return 2;
}

} // namespace

int main(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char *flag) -> const char * { return i + 1 < argc ? argv[++i] : (usage((std::string(flag) + " expects a value").c_str()), nullptr); };
    if (a == "--plugin") { const char *v = value("--plugin"); if (!v) return 2; o.plugin = v; }
    else if (a == "--host") o.host = true;
    else if (a == "--cases") { const char *v = value("--cases"); if (!v) return 2; o.cases = std::atoi(v); }
    else if (a == "--seed") { const char *v = value("--seed"); if (!v) return 2; o.seed = unsigned(std::atoi(v)); }
    else if (a == "--tol") { const char *v = value("--tol"); if (!v) return 2; o.tol = std::atof(v); }
    else if (a == "--min-cosine") { const char *v = value("--min-cosine"); if (!v) return 2; o.minCosine = std::atof(v); }
    else if (a == "--allow-uncovered") o.allowUncovered = true;
    else if (a == "-v") o.verbose = true;
    else return usage(("unknown argument '" + a + "'").c_str());
  }
  if (o.plugin.empty() == !o.host) return usage("give exactly one of --plugin PATH.so or --host");
  if (o.cases <= 0) return usage("--cases must be positive");
  if (o.tol < 0) o.tol = 1e-4;
  if (o.minCosine < 0) o.minCosine = 0.0;

  const slmc_plugin_t *plugin = nullptr;
  if (!o.plugin.empty() && slm_plugin_load(o.plugin.c_str(), &plugin) != SLM_OK) {
    std::fprintf(stderr, "slmc-plugin-test: error: %s\n", slm_last_error());
    return 2;
  }
  if (plugin && (!plugin->provider || !plugin->num_targets)) {
    std::fprintf(stderr, "slmc-plugin-test: error: %s: plugin '%s' has no kernel provider or no target\n", o.plugin.c_str(), plugin->name);
    return 2;
  }
  // The op keys under test and, per key, the kernels to compare (host mode: one per ISA level).
  struct Subject {
    std::string key, label;
    const slm::OpKernel *kernel = nullptr; // host mode
  };
  std::vector<Subject> subjects;
  std::vector<std::string> uncovered;
  if (plugin) {
    for (size_t i = 0; i < plugin->num_op_keys; ++i) subjects.push_back({plugin->op_keys[i], std::string(plugin->name), nullptr});
  } else if (const slm::HostIsa *isa = slm::host_isa()) {
    size_t n = 0;
    const slm::OpKernel *all = slm::ref_kernels(&n);
    for (int level = 1; level <= isa->cpu_level(); ++level)
      for (size_t i = 0; i < n; ++i)
        if (const slm::OpKernel *k = isa->find(all[i].op, level))
          subjects.push_back({all[i].op, std::string(isa->isa) + "/" + isa->level_name(level), k});
  }
  if (subjects.empty()) {
    std::printf("slmc-plugin-test: nothing to test (%s)\n", plugin ? "the plugin lists no op keys" : "no ISA overrides on this CPU");
    return plugin ? 1 : 0;
  }
  int failures = 0;
  for (const Subject &s : subjects) {
    auto gen = generators().find(s.key);
    if (gen == generators().end()) {
      uncovered.push_back(s.label + " " + s.key);
      std::printf("UNCOVERED %s %s: no case generator in slmc-plugin-test\n", s.label.c_str(), s.key.c_str());
      continue;
    }
    const slm::OpKernel *ref = slm::find_ref_kernel(s.key.c_str());
    std::mt19937 rng(o.seed);
    Tally t;
    for (int n = 0; n < o.cases; ++n) {
      Case c = gen->second(rng);
      std::vector<Output> want;
      std::string err;
      if (!ref || !runKernel(ref, c, &want, &err)) {
        std::printf("FAIL %s %s [%s]: reference kernel: %s\n", s.label.c_str(), s.key.c_str(), c.desc.c_str(), err.c_str());
        ++t.failed;
        continue;
      }
      bool declined = false;
      std::string failure;
      if (plugin) {
        failure = c.numOutputs == 1 ? runPluginCase(*plugin, s.key, c, want[0], o, &declined)
                                    : "slmc-plugin-test checks plugin ops with one output only";
      } else {
        std::vector<Output> got;
        if (!runKernel(s.kernel, c, &got, &err)) failure = err;
        for (size_t i = 0; failure.empty() && i < got.size(); ++i)
          if (std::string d = compare(got[i], want[i], o.tol, o.minCosine); !d.empty())
            failure = "output " + std::to_string(i) + ": " + d;
      }
      if (declined) ++t.declined;
      else if (failure.empty()) ++t.passed;
      else ++t.failed;
      if (!failure.empty() || o.verbose)
        std::printf("%s %s %s [%s]%s%s\n", declined ? "DECLINED" : failure.empty() ? "ok" : "FAIL", s.label.c_str(),
                    s.key.c_str(), c.desc.c_str(), failure.empty() ? "" : ": ", failure.c_str());
    }
    bool ok = t.failed == 0 && t.passed > 0;
    std::printf("%s %s %s: %d passed, %d declined, %d failed%s\n", ok ? "PASS" : "FAIL", s.label.c_str(), s.key.c_str(),
                t.passed, t.declined, t.failed, t.passed == 0 && t.failed == 0 ? " (accepted no case)" : "");
    if (!ok) ++failures;
  }
  if (!uncovered.empty() && !o.allowUncovered) ++failures;
  std::printf("slmc-plugin-test: %zu op kernels, %d failed, %zu uncovered%s\n", subjects.size(), failures - (!uncovered.empty() && !o.allowUncovered),
              uncovered.size(), uncovered.empty() || o.allowUncovered ? "" : " (fails without --allow-uncovered)");
  return failures ? 1 : 0;
}
