// Kernel provider registration (slm_provider_register / slm_plugin_load): the refusals a plugin author sees.
#include "slm_runtime.h"
#include "slmc/plugin.h"

#include <gtest/gtest.h>

#include <link.h>
#include <string>

namespace {

int available(void) { return 1; }
int prepare(const slm_provider_call_t *, void **state) {
  *state = nullptr;
  return SLM_PROVIDER_OK;
}
int execute(void *, const slm_provider_call_t *) { return SLM_PROVIDER_OK; }

slm_kernel_provider_t make(const char *name, uint32_t version = SLMC_PLUGIN_API_VERSION) {
  return slm_kernel_provider_t{version, name, available, prepare, nullptr, execute, nullptr};
}

TEST(PluginProvider, RegistersOnceAndAgainIsANoOp) {
  static const slm_kernel_provider_t p = make("unit_ok");
  EXPECT_EQ(slm_provider_register(&p), SLM_OK) << slm_last_error();
  EXPECT_EQ(slm_provider_register(&p), SLM_OK) << slm_last_error();
}

TEST(PluginProvider, RefusesAnotherApiVersionNamingBoth) {
  static const slm_kernel_provider_t p = make("unit_v99", 99);
  ASSERT_EQ(slm_provider_register(&p), SLM_ERROR_INVALID_ARGUMENT);
  std::string msg = slm_last_error();
  EXPECT_NE(msg.find("version 99"), std::string::npos) << msg;
  EXPECT_NE(msg.find("version " + std::to_string(SLMC_PLUGIN_API_VERSION)), std::string::npos) << msg;
}

TEST(PluginProvider, RefusesReservedAndMalformedNames) {
  for (const char *name : {"ref", "gen", "Npu", "npu-8", ""}) {
    static slm_kernel_provider_t p;
    p = make(name);
    EXPECT_EQ(slm_provider_register(&p), SLM_ERROR_INVALID_ARGUMENT) << name;
    EXPECT_NE(std::string(slm_last_error()).find("invalid"), std::string::npos) << slm_last_error();
  }
}

TEST(PluginProvider, RefusesADifferentProviderUnderATakenName) {
  static const slm_kernel_provider_t a = make("unit_dup"), b = make("unit_dup");
  ASSERT_EQ(slm_provider_register(&a), SLM_OK) << slm_last_error();
  EXPECT_EQ(slm_provider_register(&b), SLM_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(slm_last_error()).find("already registered"), std::string::npos) << slm_last_error();
}

TEST(PluginProvider, RefusesAVtableWithoutExecute) {
  static slm_kernel_provider_t p = make("unit_noexec");
  p.execute = nullptr;
  EXPECT_EQ(slm_provider_register(&p), SLM_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(slm_last_error()).find("execute"), std::string::npos) << slm_last_error();
}

// Full path of the C library this process loaded: a shared object that is no plugin.
std::string libc_path() {
  std::string path;
  dl_iterate_phdr(
      [](dl_phdr_info *info, size_t, void *out) {
        std::string name = info->dlpi_name ? info->dlpi_name : "";
        if (name.find("/libc.so") == std::string::npos) return 0;
        *static_cast<std::string *>(out) = name;
        return 1;
      },
      &path);
  return path;
}

TEST(PluginProvider, PluginLoadRefusesMissingFilesAndNonPlugins) {
  EXPECT_EQ(slm_plugin_load("/nonexistent/slmc_x.so", nullptr), SLM_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(slm_last_error()).find("cannot load plugin library"), std::string::npos) << slm_last_error();
  std::string libc = libc_path();
  ASSERT_FALSE(libc.empty());
  EXPECT_EQ(slm_plugin_load(libc.c_str(), nullptr), SLM_ERROR_INVALID_ARGUMENT);
  std::string msg = slm_last_error();
  EXPECT_NE(msg.find("not an slmc plugin: it does not export slmc_plugin_api_version"), std::string::npos) << msg;
}

} // namespace
