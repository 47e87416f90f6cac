// Reads this CPU's features (cpuid/xgetbv, HWCAP) for the loader's required-feature check; see cpu_features.h.
#include "core/cpu_features.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#elif defined(__aarch64__) || defined(__riscv)
#include <sys/auxv.h>
#endif

namespace slm {
namespace {

void add(std::vector<std::string> &v, bool has, const char *name) {
  if (has) v.push_back(name);
}

#if defined(__x86_64__)
uint64_t read_xcr0() {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t(hi) << 32) | lo;
}

std::vector<std::string> detect() {
  std::vector<std::string> v;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return v;
  const unsigned c1 = c, d1 = d;
  unsigned b7 = 0, c7 = 0, d7 = 0, a71 = 0;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    b7 = b;
    c7 = c;
    d7 = d;
  }
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) a71 = a;
  // A feature's registers are usable only when the OS enabled their state in XCR0 (OSXSAVE first).
  const uint64_t xcr0 = (c1 & (1u << 27)) ? read_xcr0() : 0;
  const bool os_avx = (xcr0 & 0x6) == 0x6;              // XMM + YMM state
  const bool os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0; // opmask + ZMM_Hi256 + Hi16_ZMM
  const bool os_amx = (xcr0 & 0x60000) == 0x60000;       // XTILECFG + XTILEDATA
  add(v, d1 & (1u << 26), "sse2");
  add(v, c1 & (1u << 19), "sse4.1");
  add(v, c1 & (1u << 20), "sse4.2");
  add(v, os_avx && (c1 & (1u << 28)), "avx");
  add(v, os_avx && (c1 & (1u << 12)), "fma");
  add(v, os_avx && (c1 & (1u << 29)), "f16c");
  add(v, os_avx && (b7 & (1u << 5)), "avx2");
  add(v, os_avx && (a71 & (1u << 4)), "avxvnni");
  add(v, os_avx512 && (b7 & (1u << 16)), "avx512f");
  add(v, os_avx512 && (b7 & (1u << 17)), "avx512dq");
  add(v, os_avx512 && (b7 & (1u << 30)), "avx512bw");
  add(v, os_avx512 && (b7 & (1u << 31)), "avx512vl");
  add(v, os_avx512 && (c7 & (1u << 11)), "avx512vnni");
  add(v, os_avx512 && (c7 & (1u << 6)), "avx512vbmi2");
  add(v, os_avx512 && (a71 & (1u << 5)), "avx512bf16");
  add(v, os_amx && (d7 & (1u << 24)), "amx-tile");
  add(v, os_amx && (d7 & (1u << 25)), "amx-int8");
  add(v, os_amx && (d7 & (1u << 22)), "amx-bf16");
  return v;
}
#elif defined(__aarch64__)
std::vector<std::string> detect() {
  // Linux arm64 uapi bit numbers (asm/hwcap.h), spelled out so older sysroots build too.
  const unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
  std::vector<std::string> v;
  add(v, hw & (1ul << 0), "fp-armv8");
  add(v, hw & (1ul << 1), "neon");
  add(v, hw & (1ul << 10), "fullfp16");
  add(v, hw & (1ul << 20), "dotprod");
  add(v, hw & (1ul << 22), "sve");
  add(v, hw2 & (1ul << 1), "sve2");
  add(v, hw2 & (1ul << 13), "i8mm");
  add(v, hw2 & (1ul << 14), "bf16");
  return v;
}
#elif defined(__riscv) && __riscv_xlen == 64
std::vector<std::string> detect() {
  // Linux reports single-letter extensions in AT_HWCAP as bit (letter - 'a').
  const unsigned long hw = getauxval(AT_HWCAP);
  std::vector<std::string> v;
  for (char ext : {'m', 'a', 'f', 'd', 'c', 'v'})
    if (hw & (1ul << (ext - 'a'))) v.push_back(std::string(1, ext));
  if (hw & (1ul << ('v' - 'a'))) {
    // vlenb (CSR 0xc22) exists only with V; the number, not the name, so no -march=..v is needed.
    unsigned long vlenb;
    __asm__ volatile("csrr %0, 0xc22" : "=r"(vlenb));
    for (unsigned long bits = 128; bits <= 1024; bits *= 2)
      if (vlenb * 8 >= bits) v.push_back("zvl" + std::to_string(bits) + "b");
  }
  return v;
}
#else
std::vector<std::string> detect() { return {}; }
#endif

void apply_mask(std::vector<std::string> &v, const char *mask) {
  if (!mask) return;
  std::string s(mask);
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t comma = s.find(',', pos);
    std::string item = s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (item.size() > 1 && item[0] == '-') v.erase(std::remove(v.begin(), v.end(), item.substr(1)), v.end());
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
}

bool contains(const std::vector<std::string> &v, const char *f) { return std::find(v.begin(), v.end(), f) != v.end(); }

// True when every listed feature is on the CPU and none is excluded.
bool usable(const std::vector<std::string> &excluded, std::initializer_list<const char *> features) {
  for (const char *f : features)
    if (!cpu_has_feature(f) || contains(excluded, f)) return false;
  return true;
}

} // namespace

const std::vector<std::string> &cpu_features() {
  static const std::vector<std::string> features = [] {
    std::vector<std::string> v = detect();
    apply_mask(v, std::getenv("SLM_CPU_FEATURES_MASK"));
    std::sort(v.begin(), v.end());
    return v;
  }();
  return features;
}

bool cpu_has_feature(const std::string &feature) { return contains(cpu_features(), feature.c_str()); }

std::vector<std::string> missing_cpu_features(const std::vector<std::string> &required) {
  std::vector<std::string> missing;
  for (const auto &f : required)
    if (!cpu_has_feature(f)) missing.push_back(f);
  return missing;
}

int isa_level_cap(const std::vector<std::string> &excluded) {
  // Mirrors the checks of x86_cpu_level(), arm64_cpu_level() and riscv64_cpu_level().
#if defined(__x86_64__)
  int level = 0;
  if (usable(excluded, {"avx2", "fma"})) level = 1;
  if (level == 1 && usable(excluded, {"avx512f", "avx512bw", "avx512vl"})) level = 2;
  if (level == 2 && usable(excluded, {"avx512vnni"})) level = 3;
  if (level == 3 && usable(excluded, {"avx512vbmi2"})) level = 4;
  return level;
#elif defined(__aarch64__)
  int level = 0;
  if (usable(excluded, {"neon"})) level = 1;
  if (level == 1 && usable(excluded, {"dotprod"})) level = 2;
  if (level == 2 && usable(excluded, {"i8mm"})) level = 3;
  return level;
#elif defined(__riscv)
  return usable(excluded, {"v"}) ? 1 : 0;
#else
  (void)excluded;
  return 0;
#endif
}

} // namespace slm
