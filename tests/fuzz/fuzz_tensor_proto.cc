// libFuzzer target: bytes → the ONNX TensorProto (.pb) reader of slm-run / slmc run (runtime/tools/tensor_io).
#include "tensor_io.h"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  slm_tools::HostTensor t;
  std::string err;
  if (slm_tools::parse_tensor_proto(data, size, "fuzz.pb", &t, &err)) {
    // A parsed tensor must hold exactly the bytes its shape says, or the runtime would read past it.
    int64_t count = 0;
    size_t esize = slm_tools::tensor_dtype_size(t.dtype);
    if (esize == 0 || !slm_tools::checked_element_count(t.dims, esize, &count) || t.data.size() != size_t(count) * esize)
      abort();
  } else if (err.empty()) {
    abort(); // a refusal must say why
  }
  return 0;
}
