// Merges the per-file reference kernel tables into one table sorted by op name.
#include "ref_kernel.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace slm {
namespace {

struct Table {
  std::vector<OpKernel> kernels;
  Table() {
    auto add = [&](const OpKernel *t, size_t n) { kernels.insert(kernels.end(), t, t + n); };
    add(kElementwiseKernels, kElementwiseKernels_count);
    add(kUnaryKernels, kUnaryKernels_count);
    add(kShapeKernels, kShapeKernels_count);
    add(kReduceKernels, kReduceKernels_count);
    add(kLinalgKernels, kLinalgKernels_count);
    add(kConvPoolKernels, kConvPoolKernels_count);
    add(kNormKernels, kNormKernels_count);
    add(kMiscKernels, kMiscKernels_count);
    add(kFusedKernels, kFusedKernels_count);
    add(kQuantKernels, kQuantKernels_count);
    add(kSparseKernels, kSparseKernels_count);
    add(kElementwiseChainKernels, kElementwiseChainKernels_count);
    std::sort(kernels.begin(), kernels.end(),
              [](const OpKernel &a, const OpKernel &b) { return std::strcmp(a.op, b.op) < 0; });
  }
};

// Built on first use (no static initializer runs at library load).
const Table &table() {
  static const Table t;
  return t;
}

} // namespace

const OpKernel *find_ref_kernel(const char *op) {
  const auto &k = table().kernels;
  auto it = std::lower_bound(k.begin(), k.end(), op, [](const OpKernel &a, const char *name) {
    return std::strcmp(a.op, name) < 0;
  });
  if (it != k.end() && std::strcmp(it->op, op) == 0)
    return &*it;
  return nullptr;
}

const OpKernel *ref_kernels(size_t *count) {
  *count = table().kernels.size();
  return table().kernels.data();
}

} // namespace slm
