// tensor_io.h — read and write host tensors as .npy files and ONNX TensorProto .pb files.
//
// Used by slm-run and `slmc run` to feed inputs and dump outputs. Needs no
// external library (no protobuf, no numpy): the runtime tools must build for
// cross targets with SLMC_BUILD_COMPILER=OFF.
//
// Conventions shared by every function here:
//  - dtype codes are ONNX TensorProto.DataType numbers (slm_dtype_t).
//  - HostTensor::data holds the elements densely, C order, little-endian
//    (bool is one byte, 0 or 1). Only little-endian hosts are supported.
//  - Functions return true on success. On failure they return false, leave
//    *out unspecified and set *err to a message that starts with the file
//    path, e.g. "inputs/x.npy: header says 120 elements but file holds 64".
//  - No exceptions escape (allocation failure is reported through *err).
//  - Thread safety: all functions are reentrant; they keep no state.
#ifndef SLM_TOOLS_TENSOR_IO_H_
#define SLM_TOOLS_TENSOR_IO_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "slm_runtime.h"

namespace slm_tools {

// A tensor owned by the host program. An empty dims vector is a 0-d scalar
// (one element); a zero in dims makes an empty tensor (no data).
struct HostTensor {
  std::string name;  // TensorProto name for .pb; empty for .npy
  int32_t dtype = SLM_DTYPE_UNDEFINED;
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;
};

// Bytes per element of an slm dtype, 0 for unknown codes. Mirrors
// slm_dtype_size() so the tools need no runtime library to link.
size_t tensor_dtype_size(int32_t dtype);
// Short name ("float32", ...), "dtype(N)" for unknown codes.
std::string tensor_dtype_name(int32_t dtype);
// "[2, 3]"; "[]" for a scalar. For error messages.
std::string format_dims(const std::vector<int64_t>& dims);
// Product of dims with overflow and negativity checks. Returns false if any
// dim is negative or the product (times elem_size, when nonzero) does not
// fit in int64/size_t.
bool checked_element_count(const std::vector<int64_t>& dims, size_t elem_size, int64_t* out_count);

// Parses an in-memory .npy file. `what` names the source in error messages.
bool parse_npy(const uint8_t* bytes, size_t size, const std::string& what, HostTensor* out,
               std::string* err);
// Parses an in-memory serialized onnx.TensorProto.
bool parse_tensor_proto(const uint8_t* bytes, size_t size, const std::string& what, HostTensor* out,
                        std::string* err);
// Serializes t as a .npy v1.0 file image, byte-identical to numpy.save.
// bfloat16 has no .npy dtype and is widened to float32 (exact).
bool encode_npy(const HostTensor& t, const std::string& what, std::vector<uint8_t>* out,
                std::string* err);

// Reads a whole file. Errors name the path and strerror.
bool read_file_bytes(const std::string& path, std::vector<uint8_t>* out, std::string* err);
// Reads `.npy` or `.pb` (chosen by extension, case-sensitive).
bool read_tensor_file(const std::string& path, HostTensor* out, std::string* err);
// Writes t to path (created or truncated). Write and close errors are
// reported, so a full disk does not leave a silently short file.
bool write_npy(const std::string& path, const HostTensor& t, std::string* err);
// Same for a runtime tensor; t.nbytes must match dtype and dims exactly.
bool write_npy(const std::string& path, const slm_tensor_t& t, std::string* err);
// Copies a runtime tensor into a HostTensor, validating rank and nbytes.
bool host_tensor_from_slm(const slm_tensor_t& t, const std::string& what, HostTensor* out,
                          std::string* err);

}  // namespace slm_tools

#endif  // SLM_TOOLS_TENSOR_IO_H_
