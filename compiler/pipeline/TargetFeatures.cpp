// Feature levels per target: CPU names and +/- features resolved through LLVM's subtarget tables (MCSubtargetInfo).
#include "pipeline/TargetFeatures.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <algorithm>
#include <map>
#include <memory>

namespace slmc {
namespace {

// The features the runtime detects (runtime/core/cpu_features.cc), in LLVM's spelling. Keep the two
// lists in step: a recorded feature the runtime cannot detect would make every CPU refuse the artifact.
const std::map<std::string, std::vector<std::string>> &featureTables() {
  static const std::map<std::string, std::vector<std::string>> tables = {
      {"x86_64",
       {"sse2", "sse4.1", "sse4.2", "avx", "fma", "f16c", "avx2", "avx512f", "avx512dq", "avx512bw", "avx512vl",
        "avx512vnni", "avx512vbmi2", "avx512bf16", "avxvnni", "amx-tile", "amx-int8", "amx-bf16"}},
      {"arm64", {"fp-armv8", "neon", "fullfp16", "dotprod", "i8mm", "bf16", "sve", "sve2"}},
      {"riscv64", {"m", "a", "f", "d", "c", "v", "zvl128b", "zvl256b", "zvl512b", "zvl1024b"}},
  };
  return tables;
}

const llvm::Target *lookup(const TargetInfo &t, std::string *error) {
  static bool initialized = [] {
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargetMCs();
    return true;
  }();
  (void)initialized;
  std::string err;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(t.triple, err);
  if (!target) *error = "target '" + t.name + "': LLVM has no backend for triple '" + t.triple + "': " + err;
  return target;
}

std::unique_ptr<llvm::MCSubtargetInfo> subtarget(const llvm::Target *target, const TargetInfo &t,
                                                 const std::string &cpu, const std::string &features) {
  return std::unique_ptr<llvm::MCSubtargetInfo>(target->createMCSubtargetInfo(t.triple, cpu, features));
}

std::string joined(const std::vector<std::string> &v) {
  std::string s;
  for (const auto &x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

bool contains(const std::vector<std::string> &v, const std::string &x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// `--cpu=native`: LLVM's reading of this machine, as a CPU name and the known features it has.
bool nativeLevel(const TargetInfo &t, const std::vector<std::string> &known, std::string *cpu,
                 std::vector<std::string> *flags, std::string *error) {
  llvm::Triple host(llvm::sys::getProcessTriple()), want(t.triple);
  if (host.getArch() != want.getArch()) {
    *error = "--cpu=native describes this machine (" + host.getArchName().str() + "), not target '" + t.name + "'";
    return false;
  }
  *cpu = llvm::sys::getHostCPUName().str();
  for (const auto &kv : llvm::sys::getHostCPUFeatures())
    if (contains(known, kv.getKey().str())) flags->push_back((kv.getValue() ? "+" : "-") + kv.getKey().str());
  std::sort(flags->begin(), flags->end());
  return true;
}

} // namespace

const std::vector<std::string> &knownFeatures(const std::string &target) {
  static const std::vector<std::string> none;
  auto it = featureTables().find(target);
  return it == featureTables().end() ? none : it->second;
}

std::vector<std::string> knownCpus(const TargetInfo &t) {
  std::string error;
  std::vector<std::string> cpus;
  if (const llvm::Target *target = lookup(t, &error)) {
    auto sti = subtarget(target, t, "", "");
    for (const auto &kv : sti->getAllProcessorDescriptions()) cpus.push_back(kv.Key);
  }
  return cpus;
}

bool resolveFeatureLevel(const TargetInfo &t, const std::string &cpuOpt, const std::string &featuresOpt,
                         FeatureLevel *out, std::string *error) {
  const std::vector<std::string> &known = knownFeatures(t.name);
  if (known.empty()) {
    // A plugin target without a feature table: its description is the whole story.
    if ((!cpuOpt.empty() && cpuOpt != t.cpu) || !featuresOpt.empty()) {
      *error = "target '" + t.name + "' has no feature levels; --cpu and --features are not available for it";
      return false;
    }
    out->cpu = t.cpu;
    out->required = t.features;
    for (const auto &f : t.features) out->llvmFeatures += (out->llvmFeatures.empty() ? "+" : ",+") + f;
    return true;
  }
  const llvm::Target *target = lookup(t, error);
  if (!target) return false;

  std::string cpu = cpuOpt.empty() ? t.cpu : cpuOpt;
  std::vector<std::string> flags; // "+x" / "-x", in order: baseline, CPU (native), then the user's
  for (const auto &f : t.features) flags.push_back("+" + f);
  if (cpu == "native" && !nativeLevel(t, known, &cpu, &flags, error)) return false;
  if (!subtarget(target, t, "", "")->isCPUStringValid(cpu)) {
    *error = "--cpu='" + cpu + "' is not a CPU of target '" + t.name + "' (" + t.triple + "); known CPUs: " +
             joined(knownCpus(t));
    return false;
  }
  std::vector<std::string> userMinus;
  for (llvm::StringRef item : llvm::split(featuresOpt, ',')) {
    item = item.trim();
    if (item.empty()) continue;
    char sign = item.front();
    std::string name = item.drop_front().str();
    if ((sign != '+' && sign != '-') || !contains(known, name)) {
      *error = "--features: '" + item.str() + "' is not " + (sign == '+' || sign == '-' ? "a known feature" : "+NAME or -NAME") +
               " of target '" + t.name + "'; known features: " + joined(known);
      return false;
    }
    flags.push_back(std::string(1, sign) + name);
    if (sign == '-') userMinus.push_back(name);
  }

  std::string fs;
  for (const auto &f : flags) fs += (fs.empty() ? "" : ",") + f;
  auto sti = subtarget(target, t, cpu, fs);
  out->cpu = cpu;
  out->llvmFeatures = fs;
  out->required.clear();
  out->excluded.clear();
  for (const auto &f : known)
    if (sti->checkFeatures("+" + f)) out->required.push_back(f);
  // A turned-off feature also turns off every feature that implies it (-avx2 excludes avx512f).
  for (const auto &f : known) {
    if (contains(out->required, f)) continue;
    auto alone = subtarget(target, t, "", "+" + f);
    for (const auto &minus : userMinus)
      if (alone->checkFeatures("+" + minus)) {
        out->excluded.push_back(f);
        break;
      }
  }
  return true;
}

} // namespace slmc
