// In-memory form of a loaded artifact: verified tensors and ops, ready for sessions.
#pragma once

#include "ref_kernel.h"
#include "slm_runtime.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct slm_kernel_provider; // slmc/kernel_provider.h

namespace slm {

// Storage classes, same numbering as slm.fbs Storage.
enum StorageKind : int { kStorageArena = 0, kStorageConstant = 1, kStorageInput = 2, kStorageOutput = 3, kStorageState = 4 };

struct TensorDesc {
  std::string name;
  int32_t dtype = 0;
  int32_t rank = 0;
  int64_t max_dims[kMaxRank] = {};
  std::vector<std::string> dim_names; // "" for static dims
  std::vector<const char *> dim_name_ptrs; // for slm_tensor_info_t (nullptr when static)
  int storage = kStorageArena;
  uint64_t arena_offset = 0;
  uint64_t byte_size = 0;
  const void *constant_data = nullptr; // kStorageConstant: inside the mapping
};

struct OpDesc {
  std::string name;  // source node name
  std::string kind;  // op kind ("MatMul")
  const OpKernel *kernel = nullptr;
  std::vector<int> inputs;  // -1: absent
  std::vector<int> outputs; // -1: absent
  // Attribute storage: Attr entries point into the strings/vectors below or the mapping.
  std::vector<Attr> attrs;
  std::vector<std::vector<int64_t>> attr_ints;
  std::vector<std::vector<float>> attr_floats;
  std::vector<std::vector<const char *>> attr_strings;
  std::vector<std::unique_ptr<Tensor>> attr_tensors;
  AttrList attr_list;
  // Ops a plugin claimed: its kernel provider and the state its prepare() returned (kernel
  // then holds the reference kernel, for messages only). key: "MatMul", "slm.fused_matmul".
  const struct slm_kernel_provider *provider = nullptr;
  void *provider_state = nullptr;
  std::string key;
  // Kernel key "gen.<key>": the generated kernel's entry point in the code segment (slm_kernel_abi.h).
  void *gen_fn = nullptr;
};

} // namespace slm

struct slm_model {
  std::string path;
  void *map_base = nullptr;
  size_t map_size = 0;
  std::string target;
  std::vector<slm::TensorDesc> tensors;
  std::vector<slm::OpDesc> ops;
  std::vector<int> inputs;
  std::vector<int> outputs;
  std::vector<int> states; // session state (KV caches appended in place), in tensor order
  uint64_t arena_bytes = 0;
  void *code_handle = nullptr; // the loaded code segment (dlopen handle), null without one
  ~slm_model();
};

namespace slm {
// Maps, verifies and decodes the artifact; fills *out on success.
slm_status_t load_model(const char *path, slm_model *out);
} // namespace slm
