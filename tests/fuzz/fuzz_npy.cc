// libFuzzer target: bytes → the .npy reader of slm-run / slmc run (runtime/tools/tensor_io).
#include "tensor_io.h"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  slm_tools::HostTensor t;
  std::string err;
  if (slm_tools::parse_npy(data, size, "fuzz.npy", &t, &err)) {
    // A parsed tensor must hold exactly the bytes its shape says, or the runtime would read past it.
    int64_t count = 0;
    if (!slm_tools::checked_element_count(t.dims, slm_tools::tensor_dtype_size(t.dtype), &count) ||
        t.data.size() != size_t(count) * slm_tools::tensor_dtype_size(t.dtype))
      abort();
    std::vector<uint8_t> again;
    std::string err2;
    // Every tensor the reader accepts must encode to the same tensor again (bfloat16 is widened).
    if (t.dtype != SLM_DTYPE_BFLOAT16 && slm_tools::encode_npy(t, "fuzz.npy", &again, &err2)) {
      slm_tools::HostTensor back;
      if (!slm_tools::parse_npy(again.data(), again.size(), "fuzz.npy", &back, &err2) || back.data != t.data ||
          back.dims != t.dims || back.dtype != t.dtype)
        abort();
    }
  } else if (err.empty()) {
    abort(); // a refusal must say why
  }
  return 0;
}
