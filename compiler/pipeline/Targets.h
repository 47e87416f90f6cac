// Target registry: built-in target plugins registered through the public plugin entry point.
#pragma once

#include <string>
#include <vector>

namespace slmc {

struct TargetInfo {
  std::string name, triple, cpu, description;
  std::vector<std::string> features;
};

// Every registered target, in registration order.
const std::vector<TargetInfo> &registeredTargets();
// nullptr when no target has that name.
const TargetInfo *findTarget(const std::string &name);

} // namespace slmc
