// Collects targets through the plugin API: built-ins through their linked-in entry points, external plugins by dlopen.
#include "pipeline/Targets.h"

#include "slm_runtime.h"
#include "slmc/plugin.h"

#include <cstring>

extern "C" const slmc_plugin_t *slmc_builtin_plugin_x86_64(void);
extern "C" const slmc_plugin_t *slmc_builtin_plugin_arm64(void);
extern "C" const slmc_plugin_t *slmc_builtin_plugin_riscv64(void);
extern "C" uint32_t slmc_builtin_plugin_api_version_x86_64(void);
extern "C" uint32_t slmc_builtin_plugin_api_version_arm64(void);
extern "C" uint32_t slmc_builtin_plugin_api_version_riscv64(void);

namespace slmc {
namespace {

std::vector<TargetInfo> &targets() {
  static std::vector<TargetInfo> v = [] {
    std::vector<TargetInfo> out;
    struct Builtin {
      slmc_plugin_api_version_fn version;
      slmc_plugin_get_fn get;
    } builtins[] = {{&slmc_builtin_plugin_api_version_x86_64, &slmc_builtin_plugin_x86_64},
                    {&slmc_builtin_plugin_api_version_arm64, &slmc_builtin_plugin_arm64},
                    {&slmc_builtin_plugin_api_version_riscv64, &slmc_builtin_plugin_riscv64}};
    for (const Builtin &b : builtins) {
      // Same check as for a loaded plugin; a mismatch here is a build error of slmc itself.
      if (b.version() != SLMC_PLUGIN_API_VERSION) continue;
      const slmc_plugin_t *p = b.get();
      for (size_t i = 0; i < p->num_targets; ++i) {
        const slmc_target_desc_t &d = *p->targets[i];
        TargetInfo t{d.name, d.triple, d.default_cpu, d.description, {}, p, d.name, true, ""};
        for (size_t f = 0; f < d.num_features; ++f) t.features.push_back(d.features[f]);
        out.push_back(std::move(t));
      }
    }
    return out;
  }();
  return v;
}

} // namespace

const std::vector<TargetInfo> &registeredTargets() { return targets(); }

const TargetInfo *findTarget(const std::string &name) {
  for (const auto &t : targets())
    if (t.name == name) return &t;
  return nullptr;
}

bool loadPlugin(const std::string &path, std::string *error) {
  const slmc_plugin_t *p = nullptr;
  if (slm_plugin_load(path.c_str(), &p) != SLM_OK) {
    *error = slm_last_error();
    return false;
  }
  for (const auto &t : targets())
    if (t.plugin == p) return true; // loaded before
  if (!p->host_target || !findTarget(p->host_target) || !findTarget(p->host_target)->builtin) {
    *error = path + ": plugin '" + p->name + "' names host target '" + (p->host_target ? p->host_target : "") +
             "', which is not a built-in target";
    return false;
  }
  if (p->op_cost && !p->provider) {
    *error = path + ": plugin '" + p->name + "' claims ops (op_cost) but has no kernel provider";
    return false;
  }
  if (p->pack_input && !p->free_packed) {
    *error = path + ": plugin '" + p->name + "' has pack_input but no free_packed";
    return false;
  }
  std::vector<TargetInfo> added;
  for (size_t i = 0; i < p->num_targets; ++i) {
    const slmc_target_desc_t *d = p->targets ? p->targets[i] : nullptr;
    if (!d || !d->name || !d->triple) {
      *error = path + ": plugin '" + p->name + "': target #" + std::to_string(i) + " has no name or triple";
      return false;
    }
    if (findTarget(d->name)) {
      *error = path + ": plugin '" + p->name + "': target '" + d->name + "' is already registered";
      return false;
    }
    TargetInfo t{d->name, d->triple, d->default_cpu ? d->default_cpu : "generic",
                 d->description ? d->description : "", {}, p, p->host_target, false, path};
    for (size_t f = 0; f < d->num_features; ++f) t.features.push_back(d->features[f]);
    added.push_back(std::move(t));
  }
  if (added.empty()) {
    *error = path + ": plugin '" + p->name + "' offers no targets";
    return false;
  }
  for (auto &t : added) targets().push_back(std::move(t));
  return true;
}

} // namespace slmc
