// Matmul epilogues shared by fused kernels: y = act(acc + bias) * mul + residual.
#pragma once

#include "gemm_f32_ukernel.h"
#include "ref_kernel.h"

#include <cmath>
#include <cstring>

namespace slm {

enum class Act { kNone, kRelu, kGeluErf, kGeluTanh, kSilu, kSigmoid, kTanh, kClip };

// Reads the "activation" attribute ("" when absent); false for an unknown name.
inline bool parse_activation(const AttrList &attrs, Act *out) {
  char buf[32];
  const char *s = attrs.get_string("activation", "", buf, sizeof buf);
  static const struct {
    const char *name;
    Act act;
  } kActs[] = {{"", Act::kNone},          {"relu", Act::kRelu}, {"gelu_erf", Act::kGeluErf},
               {"gelu_tanh", Act::kGeluTanh}, {"silu", Act::kSilu}, {"sigmoid", Act::kSigmoid},
               {"tanh", Act::kTanh},      {"clip", Act::kClip}};
  for (const auto &a : kActs)
    if (std::strcmp(s, a.name) == 0) {
      *out = a.act;
      return true;
    }
  return false;
}

inline float apply_activation(Act act, float x, float lo, float hi) {
  switch (act) {
  case Act::kNone: return x;
  case Act::kRelu: return x > 0.0f ? x : 0.0f;
  case Act::kGeluErf: return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f));
  case Act::kGeluTanh: return 0.5f * x * (1.0f + std::tanh(0.7978845608028654f * (x + 0.044715f * x * x * x)));
  case Act::kSilu: return x / (1.0f + std::exp(-x));
  case Act::kSigmoid: return 1.0f / (1.0f + std::exp(-x));
  case Act::kTanh: return std::tanh(x);
  case Act::kClip: return x < lo ? lo : (x > hi ? hi : x);
  }
  return x;
}

// A matmul epilogue out = act(acc + bias) * mul + residual, with bias, mul and residual the op's
// inputs first, first+1, first+2 (each optional; slm.fused_matmul: 2, slm.matmul_wq: 4). Built once
// per run, so the activation name and clip bounds are not re-read for every output block.
struct Epilogue {
  Act act = Act::kNone;
  float lo = -INFINITY, hi = INFINITY;
  const float *bias = nullptr, *mul = nullptr, *res = nullptr;

  Epilogue(KernelContext *ctx, int first) {
    parse_activation(*ctx->attrs, &act);
    lo = ctx->attrs->get_float("clip_min", -INFINITY);
    hi = ctx->attrs->get_float("clip_max", INFINITY);
    auto in = [&](int i) {
      return i < ctx->num_inputs && ctx->inputs[i] ? static_cast<const float *>(ctx->inputs[i]->data) : nullptr;
    };
    bias = in(first);
    mul = in(first + 1);
    res = in(first + 2);
  }

  // An ISA's vectorized activations (gemm_f32_ukernel.h); null: the scalar ones above.
  slm_act_f32_fn vector_act = nullptr;

  // Output row m, columns [n0, n0+nn) of an [rows, n] result; acc and out may alias.
  void apply(const float *acc, int64_t m, int64_t n0, int64_t nn, int64_t n, float *out) const {
    if (vector_act && act != Act::kNone && act != Act::kRelu && act != Act::kClip) {
      for (int64_t j = 0; j < nn; ++j) out[j] = acc[j] + (bias ? bias[n0 + j] : 0.0f);
      if (vector_act(int(act), out, nn)) {
        const int64_t o = m * n + n0;
        if (mul)
          for (int64_t j = 0; j < nn; ++j) out[j] *= mul[o + j];
        if (res)
          for (int64_t j = 0; j < nn; ++j) out[j] += res[o + j];
        return;
      }
      acc = out; // the bias is in: finish with the scalar path below
      for (int64_t j = 0; j < nn; ++j) out[j] = finish(apply_activation(act, acc[j], lo, hi), m * n + n0 + j);
      return;
    }
    for (int64_t j = 0; j < nn; ++j)
      out[j] = finish(apply_activation(act, acc[j] + (bias ? bias[n0 + j] : 0.0f), lo, hi), m * n + n0 + j);
  }

private:
  float finish(float v, int64_t o) const {
    if (mul) v *= mul[o];
    if (res) v += res[o];
    return v;
  }
};

} // namespace slm
