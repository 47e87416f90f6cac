// Unit tests for the integer/quantized reference kernels and the losses, against the ONNX spec's
// examples (and small hand-computed cases).
#include "kernel_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace slm {
namespace {

struct Owned {
  std::vector<unsigned char> bytes;
  Tensor t;
};

Owned Make(int32_t dtype, std::vector<int64_t> dims, const std::vector<double> &vals) {
  Owned o;
  o.t.dtype = dtype;
  o.t.rank = int(dims.size());
  for (size_t i = 0; i < dims.size(); ++i)
    o.t.dims[i] = dims[i];
  o.bytes.resize(o.t.nbytes() + 1);
  o.t.data = o.bytes.data();
  EXPECT_EQ(int64_t(vals.size()), o.t.numel()) << "test data size";
  for (size_t i = 0; i < vals.size(); ++i)
    write_double(o.t, int64_t(i), vals[i]);
  return o;
}

struct NamedAttrs {
  std::vector<std::string> names, strs;
  std::vector<std::vector<int64_t>> ints;
  std::vector<Attr> items;
  NamedAttrs &i(const char *n, int64_t v) {
    Attr a;
    a.name = n;
    a.kind = kAttrInt;
    a.i = v;
    items.push_back(a);
    return *this;
  }
  NamedAttrs &s(const char *n, const char *v) {
    Attr a;
    a.name = n;
    a.kind = kAttrString;
    a.s = v;
    a.count = std::char_traits<char>::length(v);
    items.push_back(a);
    return *this;
  }
  NamedAttrs &v(const char *n, const std::vector<int64_t> *vals) {
    Attr a;
    a.name = n;
    a.kind = kAttrInts;
    a.ints = vals->data();
    a.count = vals->size();
    items.push_back(a);
    return *this;
  }
};

// Infers, allocates and runs op; returns the outputs (empty + failure on error).
std::vector<Owned> RunKernel(const char *op, std::vector<const Owned *> ins, const NamedAttrs &attrs,
                       int nout = 1) {
  const OpKernel *k = find_ref_kernel(op);
  EXPECT_NE(k, nullptr) << op;
  if (!k)
    return {};
  AttrList al{attrs.items.data(), attrs.items.size()};
  std::vector<const Tensor *> in;
  for (const Owned *o : ins)
    in.push_back(o ? &o->t : nullptr);
  std::vector<Owned> outs(static_cast<size_t>(nout));
  std::vector<Tensor *> out;
  for (auto &o : outs)
    out.push_back(&o.t);
  char err[512] = {};
  KernelContext ctx;
  ctx.attrs = &al;
  ctx.inputs = in.data();
  ctx.num_inputs = int(in.size());
  ctx.outputs = out.data();
  ctx.num_outputs = nout;
  ctx.error = err;
  ctx.error_size = sizeof err;
  int st = k->infer(&ctx);
  EXPECT_EQ(st, SLM_REF_OK) << err;
  if (st != SLM_REF_OK)
    return {};
  for (auto &o : outs) {
    o.bytes.assign(o.t.nbytes() + 1, 0xCD);
    o.t.data = o.bytes.data();
  }
  st = k->run(&ctx);
  EXPECT_EQ(st, SLM_REF_OK) << err;
  return st == SLM_REF_OK ? std::move(outs) : std::vector<Owned>{};
}

void ExpectValues(const Owned &o, int32_t dtype, std::vector<int64_t> dims,
                  const std::vector<double> &want, double tol = 0) {
  EXPECT_EQ(o.t.dtype, dtype);
  ASSERT_EQ(o.t.rank, int(dims.size()));
  for (size_t i = 0; i < dims.size(); ++i)
    EXPECT_EQ(o.t.dims[i], dims[i]);
  ASSERT_EQ(o.t.numel(), int64_t(want.size()));
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(read_double(o.t, int64_t(i)), want[i], tol) << "element " << i;
}

TEST(QuantKernels, QuantizeLinearRoundsHalfToEvenAndSaturates) {
  Owned x = Make(kF32, {6}, {0, 2, 3, 1000, -254, -1000});
  Owned s = Make(kF32, {}, {2});
  Owned z = Make(kU8, {}, {128});
  auto y = RunKernel("QuantizeLinear", {&x, &s, &z}, NamedAttrs());
  ASSERT_EQ(y.size(), 1u);
  // 3/2 = 1.5 rounds to 2; 1000/2 + 128 saturates at 255.
  ExpectValues(y[0], kU8, {6}, {128, 129, 130, 255, 1, 0});
}

TEST(QuantKernels, QuantizeLinearPerAxisInt8) {
  Owned x = Make(kF32, {1, 3, 2}, {-162, 10, -100, 232, -20, -80});
  Owned s = Make(kF32, {3}, {2, 4, 5});
  Owned z = Make(kI8, {3}, {84, 24, 0});
  auto y = RunKernel("QuantizeLinear", {&x, &s, &z}, NamedAttrs().i("axis", 1));
  ASSERT_EQ(y.size(), 1u);
  ExpectValues(y[0], kI8, {1, 3, 2}, {3, 89, -1, 82, -4, -16});
}

TEST(QuantKernels, DequantizeLinearPerAxis) {
  Owned x = Make(kU8, {1, 3, 2}, {3, 89, 34, 200, 74, 59});
  Owned s = Make(kF32, {3}, {2, 4, 5});
  Owned z = Make(kU8, {3}, {84, 24, 196});
  auto y = RunKernel("DequantizeLinear", {&x, &s, &z}, NamedAttrs().i("axis", 1));
  ASSERT_EQ(y.size(), 1u);
  ExpectValues(y[0], kF32, {1, 3, 2}, {-162, 10, 40, 704, -610, -685});
}

TEST(QuantKernels, DynamicQuantizeLinearSpecExample) {
  Owned x = Make(kF32, {6}, {0, 2, -3, -2.5, 1.34, 0.5});
  auto y = RunKernel("DynamicQuantizeLinear", {&x}, NamedAttrs(), 3);
  ASSERT_EQ(y.size(), 3u);
  ExpectValues(y[0], kU8, {6}, {153, 255, 0, 26, 221, 179});
  ExpectValues(y[1], kF32, {}, {0.0196078438}, 1e-9);
  ExpectValues(y[2], kU8, {}, {153});
}

TEST(QuantKernels, DynamicQuantizeLinearAllZeros) {
  Owned x = Make(kF32, {3}, {0, 0, 0});
  auto y = RunKernel("DynamicQuantizeLinear", {&x}, NamedAttrs(), 3);
  ASSERT_EQ(y.size(), 3u);
  ExpectValues(y[0], kU8, {3}, {0, 0, 0});
  ExpectValues(y[2], kU8, {}, {0});
}

TEST(QuantKernels, QLinearMatMulSpecExample) {
  Owned a = Make(kU8, {2, 4}, {208, 236, 0, 238, 3, 214, 255, 29});
  Owned as = Make(kF32, {}, {0.0066}), az = Make(kU8, {}, {113});
  Owned b = Make(kU8, {4, 3}, {152, 51, 244, 60, 26, 255, 0, 127, 246, 127, 254, 247});
  Owned bs = Make(kF32, {}, {0.00705}), bz = Make(kU8, {}, {114});
  Owned ys = Make(kF32, {}, {0.0107}), yz = Make(kU8, {}, {118});
  auto y = RunKernel("QLinearMatMul", {&a, &as, &az, &b, &bs, &bz, &ys, &yz}, NamedAttrs());
  ASSERT_EQ(y.size(), 1u);
  ExpectValues(y[0], kU8, {2, 3}, {168, 115, 255, 1, 66, 151});
}

TEST(QuantKernels, ConvIntegerWithPadsSpecExample) {
  Owned x = Make(kU8, {1, 1, 3, 3}, {2, 3, 4, 5, 6, 7, 8, 9, 10});
  Owned xz = Make(kU8, {}, {1});
  Owned w = Make(kU8, {1, 1, 2, 2}, {1, 1, 1, 1});
  std::vector<int64_t> pads{1, 1, 1, 1};
  auto y = RunKernel("ConvInteger", {&x, &w, &xz}, NamedAttrs().v("pads", &pads));
  ASSERT_EQ(y.size(), 1u);
  ExpectValues(y[0], kI32, {1, 1, 4, 4},
               {1, 3, 5, 3, 5, 12, 16, 9, 11, 24, 28, 15, 7, 15, 17, 9});
}

TEST(QuantKernels, QLinearConvPerChannelScalesAndBias) {
  Owned x = Make(kU8, {1, 1, 2, 2}, {10, 20, 30, 40});
  Owned xs = Make(kF32, {}, {0.5}), xz = Make(kU8, {}, {10});
  Owned w = Make(kI8, {2, 1, 1, 1}, {2, -1});
  Owned ws = Make(kF32, {2}, {0.1, 0.2}), wz = Make(kI8, {2}, {0, 0});
  Owned ys = Make(kF32, {}, {0.05}), yz = Make(kU8, {}, {128});
  Owned b = Make(kI32, {2}, {4, 0});
  auto y = RunKernel("QLinearConv", {&x, &xs, &xz, &w, &ws, &wz, &ys, &yz, &b}, NamedAttrs());
  ASSERT_EQ(y.size(), 1u);
  ExpectValues(y[0], kU8, {1, 2, 2, 2}, {132, 152, 172, 192, 128, 108, 88, 68});
}

TEST(LossKernels, NegativeLogLikelihoodMeanWeightedAndIgnored) {
  Owned x = Make(kF32, {2, 3}, {0.1, 0.2, 0.7, 0.5, 0.3, 0.2});
  Owned t = Make(kI64, {2}, {2, 0});
  Owned w = Make(kF32, {3}, {1, 2, 3});
  auto y = RunKernel("NegativeLogLikelihoodLoss", {&x, &t, &w}, NamedAttrs());
  ASSERT_EQ(y.size(), 1u);
  ExpectValues(y[0], kF32, {}, {-0.65}, 1e-6);
  y = RunKernel("NegativeLogLikelihoodLoss", {&x, &t, &w}, NamedAttrs().i("ignore_index", 0));
  ASSERT_EQ(y.size(), 1u);
  ExpectValues(y[0], kF32, {}, {-0.7}, 1e-6);
}

TEST(LossKernels, SoftmaxCrossEntropyNoneWithLogProb) {
  Owned x = Make(kF32, {1, 3}, {1, 2, 3});
  Owned t = Make(kI32, {1}, {2});
  auto y = RunKernel("SoftmaxCrossEntropyLoss", {&x, &t}, NamedAttrs().s("reduction", "none"), 2);
  ASSERT_EQ(y.size(), 2u);
  double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  ExpectValues(y[0], kF32, {1}, {lse - 3}, 1e-6);
  ExpectValues(y[1], kF32, {1, 3}, {1 - lse, 2 - lse, 3 - lse}, 1e-6);
}

} // namespace
} // namespace slm
