// Matmul epilogues shared by fused kernels: y = act(acc + bias) * mul + residual.
#pragma once

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

// Output row m, columns [n0, n0+nn) of an [rows, n] matmul: out = act(acc + bias) * mul + residual,
// with bias, mul and residual the op's inputs first, first+1, first+2 (each optional).
inline void epilogue_at(KernelContext *ctx, int first, const float *acc, int64_t m, int64_t n0, int64_t nn, int64_t n,
                        float *out) {
  Act act = Act::kNone;
  parse_activation(*ctx->attrs, &act);
  float lo = ctx->attrs->get_float("clip_min", -INFINITY), hi = ctx->attrs->get_float("clip_max", INFINITY);
  auto in = [&](int i) { return i < ctx->num_inputs ? ctx->inputs[i] : nullptr; };
  const Tensor *bias = in(first), *mul = in(first + 1), *res = in(first + 2);
  for (int64_t j = 0; j < nn; ++j) {
    int64_t o = m * n + n0 + j;
    float v = apply_activation(act, acc[j] + (bias ? static_cast<const float *>(bias->data)[n0 + j] : 0.0f), lo, hi);
    if (mul) v *= static_cast<const float *>(mul->data)[o];
    if (res) v += static_cast<const float *>(res->data)[o];
    out[j] = v;
  }
}

// slm.matmul_wq: bias, mul, residual are inputs 4, 5, 6.
inline void matmul_epilogue(KernelContext *ctx, const float *acc, int64_t m, int64_t n0, int64_t nn, int64_t n,
                            float *out) {
  epilogue_at(ctx, 4, acc, m, n0, nn, n, out);
}
// slm.fused_matmul: bias, mul, residual are inputs 2, 3, 4.
inline void fused_matmul_epilogue(KernelContext *ctx, const float *acc, int64_t m, int64_t n0, int64_t nn, int64_t n,
                                  float *out) {
  epilogue_at(ctx, 2, acc, m, n0, nn, n, out);
}

} // namespace slm
