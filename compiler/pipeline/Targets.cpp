// Collects the built-in targets through their plugin entry points (the same path an external plugin takes).
#include "pipeline/Targets.h"

#include "slmc/target_plugin.h"

extern "C" const slmc_target_desc_t *slmc_target_plugin_x86_64(void);
extern "C" const slmc_target_desc_t *slmc_target_plugin_arm64(void);
extern "C" const slmc_target_desc_t *slmc_target_plugin_riscv64(void);

namespace slmc {
namespace {

TargetInfo fromDesc(const slmc_target_desc_t &d) {
  TargetInfo t{d.name, d.triple, d.default_cpu, d.description, {}};
  for (size_t i = 0; i < d.num_features; ++i) t.features.push_back(d.features[i]);
  return t;
}

} // namespace

const std::vector<TargetInfo> &registeredTargets() {
  static const std::vector<TargetInfo> targets = [] {
    std::vector<TargetInfo> v;
    for (slmc_target_plugin_fn fn : {&slmc_target_plugin_x86_64, &slmc_target_plugin_arm64, &slmc_target_plugin_riscv64}) {
      const slmc_target_desc_t *d = fn();
      if (d && d->api_version == SLMC_TARGET_PLUGIN_API_VERSION) v.push_back(fromDesc(*d));
    }
    return v;
  }();
  return targets;
}

const TargetInfo *findTarget(const std::string &name) {
  for (const auto &t : registeredTargets())
    if (t.name == name) return &t;
  return nullptr;
}

} // namespace slmc
