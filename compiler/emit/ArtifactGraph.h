// The flat graph the emitter builds from @main: tensors and ops in execution order, as the artifact stores them.
#pragma once

#include "KernelBridge.h"
#include "ref_kernel.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace slmc {

enum class StorageKind : int { Arena = 0, Constant = 1, Input = 2, Output = 3, State = 4 };

struct ArtifactTensor {
  std::string name;
  int32_t dtype = 0;
  std::vector<int64_t> maxShape;      // per-dim upper bound (filled by bound inference)
  std::vector<std::string> dimNames;  // symbolic name per dim of graph inputs ("" when static)
  StorageKind storage = StorageKind::Arena;
  const char *constData = nullptr;    // Constant: bytes (owned by the IR or ownedData)
  std::vector<char> ownedData;        // Constant: bytes the emitter had to materialize
  uint64_t byteSize = 0;              // Constant: exact; others: planned bytes at maxShape
  uint64_t offset = 0;                // Constant: in the weights segment; others: in the arena
  int firstUse = -1, lastUse = -1;    // op indices (inputs: -1; outputs: ops.size())
  bool used = false;
};

// A kernel attribute (KernelBridge.h); a tensor attribute is stored as the graph's constant tensor `index`.
struct ArtifactAttr : slm::KernelAttr {
  int index = -1;
};

struct ArtifactOp {
  std::string kind;   // ONNX op type or slm op name
  std::string domain; // "" for ONNX ops
  std::string name;   // source node name
  std::vector<int> inputs, outputs; // -1 for absent optionals
  std::vector<ArtifactAttr> attrs;  // sorted by name
  const ::slm::OpKernel *kernel = nullptr;
  std::string provider; // kernel provider of a plugin that claimed the op; "" = host kernels ("ref")
  std::string codeSymbol; // provider "gen": the generated kernel's name in the code segment
};

struct ArtifactGraph {
  std::vector<ArtifactTensor> tensors;
  std::vector<ArtifactOp> ops;
  std::vector<int> inputs, outputs;
  uint64_t arenaBytes = 0;
  uint64_t weightsBytes = 0;
  std::string code; // the code segment (generated kernels' shared object), empty without one
};

// Computes every tensor's max shape from the graph inputs' bounds by running the
// reference kernels' shape functions (and small integer ops, for shape arithmetic).
// `bounds` maps symbolic dim names to their maximum; unnamed dims use defaults that
// are reported through `notes`. Returns false with *error set.
bool inferBounds(ArtifactGraph &g, const std::map<std::string, int64_t> &bounds, std::vector<std::string> &notes,
                 std::string *error);

// Assigns arena offsets to non-constant tensors (lifetime-aware, 64-byte aligned)
// and weights-segment offsets to constants.
void planMemory(ArtifactGraph &g);

struct TargetInfo;
// For a plugin target: places the ops the plugin claims on its kernel provider and packs their
// constant operands into its layout (after inferBounds, before planMemory); a no-op for built-in
// targets. Adds a placement summary to `notes`. Returns false with *error naming node, op and plugin.
bool partitionForTarget(ArtifactGraph &g, const TargetInfo &target, std::vector<std::string> &notes,
                        std::string *error);

} // namespace slmc
