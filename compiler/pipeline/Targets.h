// Target registry: built-in and loaded target plugins, all registered through the public plugin API (slmc/plugin.h).
#pragma once

#include <string>
#include <vector>

struct slmc_plugin;

namespace slmc {

struct TargetInfo {
  std::string name, triple, cpu, description;
  std::vector<std::string> features;
  // The plugin offering this target (built-ins too); never null for registered targets.
  const struct slmc_plugin *plugin = nullptr;
  // Built-in target whose kernels run the ops the plugin does not claim; equals name for built-ins.
  std::string host;
  bool builtin = true;
  std::string pluginPath; // the --plugin file, for loaded plugins
};

// Every registered target, built-ins first, then loaded plugins' in load order. The references
// stay valid until the next loadPlugin call. Not thread-safe (the CLI registers before compiling).
const std::vector<TargetInfo> &registeredTargets();
// nullptr when no target has that name.
const TargetInfo *findTarget(const std::string &name);
// Loads a plugin library (dlopen; API version checked by the runtime's slm_plugin_load), registers
// its kernel provider and its targets. On failure returns false with *error naming the file and the
// missing symbol or both API versions; callers exit with 2.
bool loadPlugin(const std::string &path, std::string *error);

} // namespace slmc
