// CPU feature detection and the ISA level cap the loader applies for an artifact's excluded features.
#include "core/cpu_features.h"
#include "core/host_kernels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

namespace {

TEST(CpuFeatures, SortedAndConsistent) {
  const auto &f = slm::cpu_features();
  EXPECT_TRUE(std::is_sorted(f.begin(), f.end()));
  for (const auto &name : f) EXPECT_TRUE(slm::cpu_has_feature(name)) << name;
  EXPECT_FALSE(slm::cpu_has_feature("no-such-feature"));
  auto missing = slm::missing_cpu_features({"no-such-feature", "also-missing"});
  ASSERT_EQ(missing.size(), 2u);
  EXPECT_EQ(missing[0], "no-such-feature");
  if (!f.empty()) EXPECT_TRUE(slm::missing_cpu_features({f.front()}).empty());
}

#if defined(__x86_64__)
TEST(CpuFeatures, X86Baseline) { EXPECT_TRUE(slm::cpu_has_feature("sse2")); }
#endif

// Nothing excluded: the cap never lowers what the ISA provider itself picks from the CPU.
TEST(CpuFeatures, CapAllowsTheProvidersLevel) {
  const slm::HostIsa *isa = slm::host_isa();
  if (!isa) GTEST_SKIP() << "runtime built without ISA kernels";
  // The mask hides features from the cap but not from the provider (the loader takes the min).
  if (std::getenv("SLM_CPU_FEATURES_MASK")) GTEST_SKIP() << "SLM_CPU_FEATURES_MASK is set";
  EXPECT_GE(slm::isa_level_cap({}), isa->cpu_level());
}

// Excluding a feature keeps every level that needs it out of kernel selection.
TEST(CpuFeatures, ExcludedFeaturesLowerTheCap) {
#if defined(__x86_64__)
  EXPECT_EQ(slm::isa_level_cap({"avx2"}), 0);
  EXPECT_EQ(slm::isa_level_cap({"fma"}), 0);
  EXPECT_LE(slm::isa_level_cap({"avx512f"}), 1);
  EXPECT_LE(slm::isa_level_cap({"avx512vnni"}), 2);
  EXPECT_LE(slm::isa_level_cap({"avx512vbmi2"}), 3);
#elif defined(__aarch64__)
  EXPECT_EQ(slm::isa_level_cap({"neon"}), 0);
  EXPECT_LE(slm::isa_level_cap({"dotprod"}), 1);
  EXPECT_LE(slm::isa_level_cap({"i8mm"}), 2);
#elif defined(__riscv)
  EXPECT_EQ(slm::isa_level_cap({"v"}), 0);
#endif
}

} // namespace
