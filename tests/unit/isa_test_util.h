// What the ISA kernel tests share: the levels of this build's kernel providers, tensor views,
// attribute lists and a parallel_for that runs chunks in reverse order.
#pragma once

#include "kernel_util.h"
#include "ref_kernel.h"
#ifdef SLM_WITH_X86_KERNELS
#include "x86_kernels.h"
#endif
#ifdef SLM_WITH_ARM64_KERNELS
#include "arm64_kernels.h"
#endif
#ifdef SLM_WITH_RISCV64_KERNELS
#include "riscv64_kernels.h"
#endif

#include <algorithm>
#include <cstring>
#include <deque>
#include <ostream>
#include <string>
#include <vector>

namespace slm::isa_test {

// One ISA level of one provider; a new target adds its levels to isa_levels(), not a new test.
struct IsaLevel {
  const char *isa;
  int level;
  const char *env; // environment variable that caps the provider's level
  const char *(*level_name)(int);
  int (*cpu_level)();
  const OpKernel *(*find)(const char *key, int level);
  std::string name() const { return std::string(isa) + "_" + level_name(level); }
};

// gtest prints parameters in test listings (and CTest's test names); a name beats a byte dump.
inline void PrintTo(const IsaLevel &l, std::ostream *os) { *os << l.name(); }

// Every level of every provider in this build, lowest first per ISA.
inline std::vector<IsaLevel> isa_levels() {
  std::vector<IsaLevel> v;
#ifdef SLM_WITH_X86_KERNELS
  for (int l : {int(kX86Avx2), int(kX86Avx512), int(kX86Avx512Vnni), int(kX86Avx512Vbmi2)})
    v.push_back({"x86_64", l, "SLM_X86_LEVEL", x86_level_name, x86_cpu_level, find_x86_kernel});
#endif
#ifdef SLM_WITH_ARM64_KERNELS
  for (int l : {int(kArm64Neon), int(kArm64Dotprod), int(kArm64I8mm)})
    v.push_back({"arm64", l, "SLM_ARM64_LEVEL", arm64_level_name, arm64_cpu_level, find_arm64_kernel});
#endif
#ifdef SLM_WITH_RISCV64_KERNELS
  v.push_back({"riscv64", kRiscv64Rvv, "SLM_RISCV64_LEVEL", riscv64_level_name, riscv64_cpu_level,
               find_riscv64_kernel});
#endif
  return v;
}

// The levels of isa_levels() whose provider overrides `key` with a kernel of its own (a level that
// only inherits the level below's kernel adds nothing to test).
inline std::vector<IsaLevel> isa_levels_overriding(const char *key) {
  std::vector<IsaLevel> v;
  const OpKernel *below = nullptr;
  const char *isa = "";
  for (const IsaLevel &l : isa_levels()) {
    if (std::strcmp(l.isa, isa)) below = nullptr, isa = l.isa;
    const OpKernel *k = l.find(key, l.level);
    if (k && (!below || k->run != below->run)) v.push_back(l);
    below = k;
  }
  return v;
}

inline Tensor tensor(const void *data, int32_t dtype, std::vector<int64_t> dims) {
  Tensor t;
  t.data = const_cast<void *>(data);
  t.dtype = dtype;
  t.rank = int(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) t.dims[i] = dims[i];
  return t;
}

// An attribute list built by chaining; the strings live as long as the Attrs.
struct Attrs {
  std::deque<std::string> strings;
  std::vector<Attr> items;
  AttrList list;
  Attrs &i(const char *name, int64_t v) {
    Attr a;
    a.name = name, a.kind = kAttrInt, a.i = v;
    return add(a);
  }
  Attrs &s(const char *name, const std::string &v) {
    strings.push_back(v);
    Attr a;
    a.name = name, a.kind = kAttrString, a.s = strings.back().data(), a.count = strings.back().size();
    return add(a);
  }
  Attrs &add(const Attr &a) {
    items.push_back(a);
    list = {items.data(), items.size()};
    return *this;
  }
};

// A parallel_for that runs chunks in reverse order, like a real pool might.
inline void reverse_pool(void *, int64_t n, int64_t grain, TaskFn fn, void *arg) {
  int64_t chunk = std::max<int64_t>(grain, (n + 2) / 3);
  for (int64_t b = ((n - 1) / chunk) * chunk; b >= 0; b -= chunk) fn(arg, b, std::min(n, b + chunk));
}

} // namespace slm::isa_test
