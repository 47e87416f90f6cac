// tensor_io_test.cc — unit tests for runtime/tools/tensor_io: .npy and ONNX TensorProto reading and writing.
#include "tensor_io.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace slm_tools {
namespace {

// Fixtures below were produced once by the python packages named in each comment
// (the tests cannot run python), so they pin the real writers' byte layout.
// numpy 1.24.2, onnx 1.12.0
// np.save(np.arange(6, dtype=np.float32).reshape(2, 3))
const uint8_t kNumpyF32_2x3[] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73,
    0x63, 0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x34, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f,
    0x72, 0x74, 0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46,
    0x61, 0x6c, 0x73, 0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20,
    0x28, 0x32, 0x2c, 0x20, 0x33, 0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80,
    0x3f, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x80, 0x40, 0x00, 0x00,
    0xa0, 0x40,
};
// np.lib.format.write_array(np.array([-1, 2, 3], dtype=np.int16), version=(2, 0))
const uint8_t kNumpyI16V2[] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x02, 0x00, 0x74, 0x00, 0x00, 0x00, 0x7b, 0x27, 0x64,
    0x65, 0x73, 0x63, 0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x69, 0x32, 0x27, 0x2c, 0x20, 0x27,
    0x66, 0x6f, 0x72, 0x74, 0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a,
    0x20, 0x46, 0x61, 0x6c, 0x73, 0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27,
    0x3a, 0x20, 0x28, 0x33, 0x2c, 0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a, 0xff, 0xff, 0x02, 0x00, 0x03, 0x00,
};
// np.save(np.asfortranarray(np.zeros((2, 2), np.float32)))
const uint8_t kNumpyFortran[] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73,
    0x63, 0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x34, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f,
    0x72, 0x74, 0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x54,
    0x72, 0x75, 0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28,
    0x32, 0x2c, 0x20, 0x32, 0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
// np.save(np.array([1.0, 2.0], dtype='>f8'))
const uint8_t kNumpyBigEndian[] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73,
    0x63, 0x72, 0x27, 0x3a, 0x20, 0x27, 0x3e, 0x66, 0x38, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f,
    0x72, 0x74, 0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46,
    0x61, 0x6c, 0x73, 0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20,
    0x28, 0x32, 0x2c, 0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a, 0x3f, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
// numpy_helper.from_array(np.array([[1.5, -2.0, 3.25]], np.float32), 'x')  (raw_data)
const uint8_t kOnnxRawF32[] = {
    0x08, 0x01, 0x08, 0x03, 0x10, 0x01, 0x42, 0x01, 0x78, 0x4a, 0x0c, 0x00, 0x00, 0xc0, 0x3f,
    0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x50, 0x40,
};
// helper.make_tensor('w', FLOAT, [2, 2], [1, 2, 3, 4])  (float_data)
const uint8_t kOnnxFloatData[] = {
    0x08, 0x02, 0x08, 0x02, 0x10, 0x01, 0x22, 0x10, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00,
    0x40, 0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x80, 0x40, 0x42, 0x01, 0x77,
};
// helper.make_tensor('ids', INT64, [3], [-1, 0, 1 << 40])  (int64_data)
const uint8_t kOnnxInt64Data[] = {
    0x08, 0x03, 0x10, 0x07, 0x3a, 0x11, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x01, 0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x42, 0x03, 0x69, 0x64, 0x73,
};
// helper.make_tensor('q', INT8, [4], [-128, -1, 0, 127])  (int32_data)
const uint8_t kOnnxInt8Data[] = {
    0x08, 0x04, 0x10, 0x03, 0x2a, 0x16, 0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00, 0x7f, 0x42, 0x01,
    0x71,
};
// helper.make_tensor('h', FLOAT16, [2], np.array([1.0, -2.0], np.float16))  (int32_data bits)
const uint8_t kOnnxF16Data[] = {
    0x08, 0x02, 0x10, 0x0a, 0x2a, 0x05, 0x80, 0x78, 0x80, 0x80, 0x03, 0x42, 0x01, 0x68,
};
// helper.make_tensor('d', DOUBLE, [], [2.5])  (0-d, double_data)
const uint8_t kOnnxScalarF64[] = {
    0x10, 0x0b, 0x42, 0x01, 0x64, 0x52, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x40,
};
// helper.make_tensor('s', STRING, [1], [b'hi'])
const uint8_t kOnnxString[] = {
    0x08, 0x01, 0x10, 0x08, 0x32, 0x02, 0x68, 0x69, 0x42, 0x01, 0x73,
};
// from_array(np.zeros(4, np.float32), 'ext') with data_location = EXTERNAL
const uint8_t kOnnxExternal[] = {
    0x08, 0x04, 0x10, 0x01, 0x42, 0x03, 0x65, 0x78, 0x74, 0x6a, 0x17, 0x0a, 0x08, 0x6c, 0x6f,
    0x63, 0x61, 0x74, 0x69, 0x6f, 0x6e, 0x12, 0x0b, 0x77, 0x65, 0x69, 0x67, 0x68, 0x74, 0x73,
    0x2e, 0x62, 0x69, 0x6e, 0x70, 0x01,
};
// helper.make_tensor('e', FLOAT, [0, 3], [])  (zero-size)
const uint8_t kOnnxEmpty[] = {
    0x08, 0x00, 0x08, 0x03, 0x10, 0x01, 0x42, 0x01, 0x65,
};
// np.save(np.array(2.5))  (0-d float64)
const uint8_t kNumpyScalarF64[] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73,
    0x63, 0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x38, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f,
    0x72, 0x74, 0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46,
    0x61, 0x6c, 0x73, 0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20,
    0x28, 0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04,
    0x40,
};
// np.save(np.zeros((0, 3), np.int16))  (zero-size)
const uint8_t kNumpyEmptyI16[] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73,
    0x63, 0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x69, 0x32, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f,
    0x72, 0x74, 0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46,
    0x61, 0x6c, 0x73, 0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20,
    0x28, 0x30, 0x2c, 0x20, 0x33, 0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a,
};
// np.save(np.array([True, False, True]))
const uint8_t kNumpyBool[] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73,
    0x63, 0x72, 0x27, 0x3a, 0x20, 0x27, 0x7c, 0x62, 0x31, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f,
    0x72, 0x74, 0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46,
    0x61, 0x6c, 0x73, 0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20,
    0x28, 0x33, 0x2c, 0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a, 0x01, 0x00, 0x01,
};

template <size_t N>
std::vector<uint8_t> bytes_of(const uint8_t (&a)[N]) {
  return std::vector<uint8_t>(a, a + N);
}

bool parse_npy_bytes(const std::vector<uint8_t>& b, HostTensor* t, std::string* err) {
  return parse_npy(b.data(), b.size(), "t.npy", t, err);
}

bool parse_pb_bytes(const std::vector<uint8_t>& b, HostTensor* t, std::string* err) {
  return parse_tensor_proto(b.data(), b.size(), "t.pb", t, err);
}

template <typename T>
std::vector<T> values_of(const HostTensor& t) {
  std::vector<T> v(t.data.size() / sizeof(T));
  std::memcpy(v.data(), t.data.data(), v.size() * sizeof(T));
  return v;
}

// A fresh directory per test so files never collide between runs.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/tensor_io_test.XXXXXX";
    path_ = mkdtemp(tmpl) ? tmpl : "/tmp";
  }
  ~TempDir() {
    for (const std::string& f : files_) std::remove(f.c_str());
    rmdir(path_.c_str());
  }
  std::string file(const std::string& name) {
    files_.push_back(path_ + "/" + name);
    return files_.back();
  }

 private:
  std::string path_;
  std::vector<std::string> files_;
};

// Minimal protobuf writer for hand-made TensorProtos the onnx package would not emit.
struct PbWriter {
  std::vector<uint8_t> out;
  void varint(uint64_t v) {
    do {
      uint8_t b = v & 0x7f;
      v >>= 7;
      out.push_back(b | (v ? 0x80 : 0));
    } while (v);
  }
  void tag(int field, int wt) { varint(static_cast<uint64_t>(field) << 3 | wt); }
  void field_varint(int field, uint64_t v) { tag(field, 0), varint(v); }
  void field_bytes(int field, const std::vector<uint8_t>& b) {
    tag(field, 2), varint(b.size()), out.insert(out.end(), b.begin(), b.end());
  }
  void field_fixed32(int field, float f) {
    tag(field, 5);
    uint8_t b[4];
    std::memcpy(b, &f, 4);
    out.insert(out.end(), b, b + 4);
  }
};

std::vector<uint8_t> make_npy(const std::string& dict, const std::vector<uint8_t>& data) {
  std::string h = dict;
  while ((10 + h.size() + 1) % 64) h += ' ';
  h += '\n';
  std::vector<uint8_t> b = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                            static_cast<uint8_t>(h.size()), static_cast<uint8_t>(h.size() >> 8)};
  b.insert(b.end(), h.begin(), h.end());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

const int32_t kNpyDtypes[] = {
    SLM_DTYPE_FLOAT32, SLM_DTYPE_UINT8,  SLM_DTYPE_INT8,    SLM_DTYPE_UINT16,
    SLM_DTYPE_INT16,   SLM_DTYPE_INT32,  SLM_DTYPE_INT64,   SLM_DTYPE_BOOL,
    SLM_DTYPE_FLOAT16, SLM_DTYPE_FLOAT64, SLM_DTYPE_UINT32, SLM_DTYPE_UINT64};

HostTensor pattern_tensor(int32_t dtype, std::vector<int64_t> dims) {
  HostTensor t;
  t.dtype = dtype;
  t.dims = std::move(dims);
  int64_t count = 0;
  EXPECT_TRUE(checked_element_count(t.dims, tensor_dtype_size(dtype), &count));
  t.data.resize(count * tensor_dtype_size(dtype));
  for (size_t i = 0; i < t.data.size(); ++i)
    t.data[i] = dtype == SLM_DTYPE_BOOL ? i % 2 : static_cast<uint8_t>(i * 37 + 11);
  return t;
}

// ------------------------------------------------------------------ .npy

TEST(NpyTest, RoundTripsEveryDtypeAndShape) {
  TempDir dir;
  const std::vector<std::vector<int64_t>> shapes = {{2, 3}, {}, {0}, {3, 0, 2}, {1, 1, 1, 1, 5}};
  for (int32_t dtype : kNpyDtypes) {
    for (const auto& dims : shapes) {
      SCOPED_TRACE(tensor_dtype_name(dtype) + " " + format_dims(dims));
      HostTensor in = pattern_tensor(dtype, dims);
      std::string path = dir.file(tensor_dtype_name(dtype) + std::to_string(dims.size()) + ".npy");
      std::string err;
      ASSERT_TRUE(write_npy(path, in, &err)) << err;
      HostTensor out;
      ASSERT_TRUE(read_tensor_file(path, &out, &err)) << err;
      EXPECT_EQ(out.dtype, dtype);
      EXPECT_EQ(out.dims, dims);
      EXPECT_EQ(out.data, in.data);
    }
  }
}

TEST(NpyTest, WritesBytesIdenticalToNumpy) {
  std::vector<uint8_t> got;
  std::string err;
  HostTensor f32{"", SLM_DTYPE_FLOAT32, {2, 3}, {}};
  for (float v : {0.f, 1.f, 2.f, 3.f, 4.f, 5.f}) {
    uint8_t b[4];
    std::memcpy(b, &v, 4);
    f32.data.insert(f32.data.end(), b, b + 4);
  }
  ASSERT_TRUE(encode_npy(f32, "t.npy", &got, &err)) << err;
  EXPECT_EQ(got, bytes_of(kNumpyF32_2x3));

  HostTensor scalar{"", SLM_DTYPE_FLOAT64, {}, std::vector<uint8_t>(8)};
  double v = 2.5;
  std::memcpy(scalar.data.data(), &v, 8);
  ASSERT_TRUE(encode_npy(scalar, "t.npy", &got, &err)) << err;
  EXPECT_EQ(got, bytes_of(kNumpyScalarF64));

  HostTensor empty{"", SLM_DTYPE_INT16, {0, 3}, {}};
  ASSERT_TRUE(encode_npy(empty, "t.npy", &got, &err)) << err;
  EXPECT_EQ(got, bytes_of(kNumpyEmptyI16));

  HostTensor b{"", SLM_DTYPE_BOOL, {3}, {1, 0, 1}};
  ASSERT_TRUE(encode_npy(b, "t.npy", &got, &err)) << err;
  EXPECT_EQ(got, bytes_of(kNumpyBool));
}

TEST(NpyTest, ReadsNumpyWrittenFiles) {
  HostTensor t;
  std::string err;
  ASSERT_TRUE(parse_npy_bytes(bytes_of(kNumpyF32_2x3), &t, &err)) << err;
  EXPECT_EQ(t.dtype, SLM_DTYPE_FLOAT32);
  EXPECT_EQ(t.dims, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(values_of<float>(t), (std::vector<float>{0, 1, 2, 3, 4, 5}));

  ASSERT_TRUE(parse_npy_bytes(bytes_of(kNumpyI16V2), &t, &err)) << err;  // format 2.0
  EXPECT_EQ(t.dtype, SLM_DTYPE_INT16);
  EXPECT_EQ(values_of<int16_t>(t), (std::vector<int16_t>{-1, 2, 3}));

  ASSERT_TRUE(parse_npy_bytes(bytes_of(kNumpyScalarF64), &t, &err)) << err;
  EXPECT_TRUE(t.dims.empty());
  EXPECT_EQ(values_of<double>(t), std::vector<double>{2.5});

  ASSERT_TRUE(parse_npy_bytes(bytes_of(kNumpyEmptyI16), &t, &err)) << err;
  EXPECT_EQ(t.dims, (std::vector<int64_t>{0, 3}));
  EXPECT_TRUE(t.data.empty());
}

TEST(NpyTest, WritesBfloat16AsExactFloat32) {
  HostTensor bf{"", SLM_DTYPE_BFLOAT16, {2}, {0x80, 0x3f, 0x00, 0xc0}};  // 1.0, -2.0
  std::vector<uint8_t> img;
  std::string err;
  ASSERT_TRUE(encode_npy(bf, "t.npy", &img, &err)) << err;
  HostTensor t;
  ASSERT_TRUE(parse_npy_bytes(img, &t, &err)) << err;
  EXPECT_EQ(t.dtype, SLM_DTYPE_FLOAT32);
  EXPECT_EQ(values_of<float>(t), (std::vector<float>{1.0f, -2.0f}));
}

TEST(NpyTest, RejectsFortranOrderAndBigEndian) {
  HostTensor t;
  std::string err;
  EXPECT_FALSE(parse_npy_bytes(bytes_of(kNumpyFortran), &t, &err));
  EXPECT_NE(err.find("t.npy: Fortran-order"), std::string::npos) << err;
  EXPECT_FALSE(parse_npy_bytes(bytes_of(kNumpyBigEndian), &t, &err));
  EXPECT_NE(err.find("big-endian"), std::string::npos) << err;
}

TEST(NpyTest, ReportsDataSizeMismatch) {
  HostTensor t;
  std::string err;
  std::vector<uint8_t> b = bytes_of(kNumpyF32_2x3);
  b.resize(b.size() - 4);
  EXPECT_FALSE(parse_npy_bytes(b, &t, &err));
  EXPECT_EQ(err, "t.npy: header says 6 elements but file holds 5");
  b.resize(b.size() + 6);
  EXPECT_FALSE(parse_npy_bytes(b, &t, &err));
  EXPECT_NE(err.find("holds 26 bytes (expected 24)"), std::string::npos) << err;
}

TEST(NpyTest, RejectsTruncatedAndGarbageHeaders) {
  HostTensor t;
  std::string err;
  const std::vector<uint8_t> full = bytes_of(kNumpyF32_2x3);
  for (size_t n = 0; n < 128; ++n) {  // every cut inside the header
    std::vector<uint8_t> b(full.begin(), full.begin() + n);
    EXPECT_FALSE(parse_npy_bytes(b, &t, &err)) << n;
    EXPECT_EQ(err.rfind("t.npy: ", 0), 0u) << err;
  }
  std::string junk = "hello, this is not numpy";
  EXPECT_FALSE(parse_npy_bytes(std::vector<uint8_t>(junk.begin(), junk.end()), &t, &err));
  EXPECT_NE(err.find("bad magic"), std::string::npos) << err;
}

TEST(NpyTest, ParsesHeaderVariantsAndRejectsBadOnes) {
  HostTensor t;
  std::string err;
  // Python 2 numpy wrote long ints with an L suffix.
  EXPECT_TRUE(parse_npy_bytes(make_npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2L, 1L), }",
                                       {7, 8}), &t, &err)) << err;
  EXPECT_EQ(t.dims, (std::vector<int64_t>{2, 1}));
  EXPECT_TRUE(parse_npy_bytes(make_npy("{\"shape\": (2,), \"fortran_order\": False, \"descr\": \"<u2\"}",
                                       {1, 0, 2, 0}), &t, &err)) << err;
  EXPECT_FALSE(parse_npy_bytes(make_npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }",
                                        std::vector<uint8_t>(8)), &t, &err));
  EXPECT_NE(err.find("unsupported dtype '<c8'"), std::string::npos) << err;
  EXPECT_FALSE(parse_npy_bytes(make_npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }",
                                        std::vector<uint8_t>(4)), &t, &err));
  EXPECT_NE(err.find("structured"), std::string::npos) << err;
  EXPECT_FALSE(parse_npy_bytes(make_npy("{'descr': '<f4', 'shape': (1,), }", std::vector<uint8_t>(4)), &t, &err));
  EXPECT_FALSE(parse_npy_bytes(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", {}), &t, &err));
  EXPECT_FALSE(parse_npy_bytes(make_npy("{'descr': '<f4', 'fortran_order': False, "
                                        "'shape': (99999999999, 99999999999), }", {}), &t, &err));
  EXPECT_NE(err.find("too large"), std::string::npos) << err;
}

TEST(NpyTest, NormalizesBoolsToZeroOrOne) {
  HostTensor t;
  std::string err;
  ASSERT_TRUE(parse_npy_bytes(make_npy("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }",
                                       {0, 2, 255}), &t, &err)) << err;
  EXPECT_EQ(t.data, (std::vector<uint8_t>{0, 1, 1}));
}

// ------------------------------------------------------------------ TensorProto

TEST(TensorProtoTest, DecodesRawData) {
  HostTensor t;
  std::string err;
  ASSERT_TRUE(parse_pb_bytes(bytes_of(kOnnxRawF32), &t, &err)) << err;
  EXPECT_EQ(t.name, "x");
  EXPECT_EQ(t.dtype, SLM_DTYPE_FLOAT32);
  EXPECT_EQ(t.dims, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(values_of<float>(t), (std::vector<float>{1.5f, -2.0f, 3.25f}));
}

TEST(TensorProtoTest, DecodesTypedFields) {
  HostTensor t;
  std::string err;
  ASSERT_TRUE(parse_pb_bytes(bytes_of(kOnnxFloatData), &t, &err)) << err;
  EXPECT_EQ(t.name, "w");
  EXPECT_EQ(values_of<float>(t), (std::vector<float>{1, 2, 3, 4}));

  ASSERT_TRUE(parse_pb_bytes(bytes_of(kOnnxInt64Data), &t, &err)) << err;
  EXPECT_EQ(t.dtype, SLM_DTYPE_INT64);
  EXPECT_EQ(values_of<int64_t>(t), (std::vector<int64_t>{-1, 0, int64_t{1} << 40}));

  ASSERT_TRUE(parse_pb_bytes(bytes_of(kOnnxInt8Data), &t, &err)) << err;
  EXPECT_EQ(t.dtype, SLM_DTYPE_INT8);
  EXPECT_EQ(values_of<int8_t>(t), (std::vector<int8_t>{-128, -1, 0, 127}));

  ASSERT_TRUE(parse_pb_bytes(bytes_of(kOnnxF16Data), &t, &err)) << err;
  EXPECT_EQ(t.dtype, SLM_DTYPE_FLOAT16);
  EXPECT_EQ(values_of<uint16_t>(t), (std::vector<uint16_t>{0x3c00, 0xc000}));

  ASSERT_TRUE(parse_pb_bytes(bytes_of(kOnnxScalarF64), &t, &err)) << err;
  EXPECT_TRUE(t.dims.empty());
  EXPECT_EQ(values_of<double>(t), std::vector<double>{2.5});

  ASSERT_TRUE(parse_pb_bytes(bytes_of(kOnnxEmpty), &t, &err)) << err;
  EXPECT_EQ(t.dims, (std::vector<int64_t>{0, 3}));
  EXPECT_TRUE(t.data.empty());
}

TEST(TensorProtoTest, DecodesPackedDimsAndUnpackedFloats) {
  PbWriter w;
  PbWriter dims;
  dims.varint(2), dims.varint(1);
  w.field_bytes(1, dims.out);  // packed dims
  w.field_varint(2, SLM_DTYPE_FLOAT32);
  w.field_fixed32(4, 0.5f);  // unpacked float_data
  w.field_fixed32(4, -1.0f);
  w.field_varint(99, 5);  // unknown fields are skipped
  HostTensor t;
  std::string err;
  ASSERT_TRUE(parse_pb_bytes(w.out, &t, &err)) << err;
  EXPECT_EQ(t.dims, (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(values_of<float>(t), (std::vector<float>{0.5f, -1.0f}));
}

TEST(TensorProtoTest, RejectsUnsupportedTensors) {
  HostTensor t;
  std::string err;
  EXPECT_FALSE(parse_pb_bytes(bytes_of(kOnnxString), &t, &err));
  EXPECT_EQ(err, "t.pb: string tensors are not supported");
  EXPECT_FALSE(parse_pb_bytes(bytes_of(kOnnxExternal), &t, &err));
  EXPECT_NE(err.find("EXTERNAL"), std::string::npos) << err;
  PbWriter w;
  w.field_varint(2, 14);  // complex64
  EXPECT_FALSE(parse_pb_bytes(w.out, &t, &err));
  EXPECT_NE(err.find("data_type 14 is not supported"), std::string::npos) << err;
}

TEST(TensorProtoTest, RejectsInconsistentData) {
  HostTensor t;
  std::string err;
  PbWriter w;
  w.field_varint(1, 3);
  w.field_varint(2, SLM_DTYPE_FLOAT32);
  w.field_fixed32(4, 1.0f);
  EXPECT_FALSE(parse_pb_bytes(w.out, &t, &err));
  EXPECT_EQ(err, "t.pb: dims [3] give 3 elements but float_data holds 1");

  PbWriter both = w;
  both.field_bytes(9, std::vector<uint8_t>(12));
  EXPECT_FALSE(parse_pb_bytes(both.out, &t, &err));
  EXPECT_NE(err.find("both"), std::string::npos) << err;

  PbWriter wrong;
  wrong.field_varint(2, SLM_DTYPE_INT64);
  wrong.field_fixed32(4, 1.0f);
  EXPECT_FALSE(parse_pb_bytes(wrong.out, &t, &err));
  EXPECT_NE(err.find("float_data given for a int64 tensor"), std::string::npos) << err;

  PbWriter range;
  range.field_varint(1, 1);
  range.field_varint(2, SLM_DTYPE_UINT8);
  range.field_varint(5, 300);
  EXPECT_FALSE(parse_pb_bytes(range.out, &t, &err));
  EXPECT_NE(err.find("out of range for uint8"), std::string::npos) << err;

  PbWriter huge;
  huge.field_varint(1, uint64_t{1} << 40);
  huge.field_varint(1, uint64_t{1} << 40);
  huge.field_varint(2, SLM_DTYPE_FLOAT32);
  EXPECT_FALSE(parse_pb_bytes(huge.out, &t, &err));
  EXPECT_NE(err.find("too large"), std::string::npos) << err;

  PbWriter neg;
  neg.field_varint(1, static_cast<uint64_t>(int64_t{-2}));
  neg.field_varint(2, SLM_DTYPE_FLOAT32);
  EXPECT_FALSE(parse_pb_bytes(neg.out, &t, &err));

  PbWriter nodata;
  nodata.field_varint(1, 2);
  nodata.field_varint(2, SLM_DTYPE_FLOAT32);
  EXPECT_FALSE(parse_pb_bytes(nodata.out, &t, &err));
  EXPECT_NE(err.find("give 2 elements"), std::string::npos) << err;
}

TEST(TensorProtoTest, RejectsEveryTruncation) {
  const std::vector<uint8_t> full = bytes_of(kOnnxRawF32);
  HostTensor t;
  std::string err;
  for (size_t n = 0; n < full.size(); ++n) {
    std::vector<uint8_t> b(full.begin(), full.begin() + n);
    EXPECT_FALSE(parse_pb_bytes(b, &t, &err)) << "prefix " << n;
    EXPECT_EQ(err.rfind("t.pb: ", 0), 0u) << err;
  }
}

TEST(TensorProtoTest, SurvivesGarbage) {
  HostTensor t;
  std::string err;
  std::string junk = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff";
  EXPECT_FALSE(parse_pb_bytes(std::vector<uint8_t>(junk.begin(), junk.end()), &t, &err));
  uint32_t seed = 12345;  // deterministic noise; must never crash or over-read
  for (int iter = 0; iter < 2000; ++iter) {
    std::vector<uint8_t> b = bytes_of(kOnnxFloatData);
    for (int k = 0; k < 3; ++k) {
      seed = seed * 1103515245u + 12345u;
      b[(seed >> 8) % b.size()] = static_cast<uint8_t>(seed >> 16);
    }
    parse_pb_bytes(b, &t, &err);
  }
}

TEST(TensorProtoTest, ReadsOnnxBackendTestData) {
  const std::string dir = "/usr/share/libonnx-testdata/data/node/test_add/test_data_set_0/";
  if (access((dir + "input_0.pb").c_str(), R_OK) != 0) GTEST_SKIP() << "libonnx-testdata not installed";
  HostTensor x, y, sum;
  std::string err;
  ASSERT_TRUE(read_tensor_file(dir + "input_0.pb", &x, &err)) << err;
  ASSERT_TRUE(read_tensor_file(dir + "input_1.pb", &y, &err)) << err;
  ASSERT_TRUE(read_tensor_file(dir + "output_0.pb", &sum, &err)) << err;
  EXPECT_EQ(x.name, "x");
  EXPECT_EQ(x.dtype, SLM_DTYPE_FLOAT32);
  EXPECT_EQ(x.dims, (std::vector<int64_t>{3, 4, 5}));
  std::vector<float> xv = values_of<float>(x), yv = values_of<float>(y), sv = values_of<float>(sum);
  ASSERT_EQ(xv.size(), 60u);
  EXPECT_FLOAT_EQ(xv[0], 1.7640524f);
  for (size_t i = 0; i < xv.size(); ++i) EXPECT_FLOAT_EQ(xv[i] + yv[i], sv[i]) << i;
}

// ------------------------------------------------------------------ files

TEST(TensorFileTest, NamesTheFileInErrors) {
  HostTensor t;
  std::string err;
  EXPECT_FALSE(read_tensor_file("/nonexistent/x.npy", &t, &err));
  EXPECT_EQ(err.rfind("/nonexistent/x.npy: ", 0), 0u) << err;
  EXPECT_FALSE(read_tensor_file("x.txt", &t, &err));
  EXPECT_NE(err.find("expected .npy or .pb"), std::string::npos) << err;
  EXPECT_FALSE(write_npy("/nonexistent/dir/y.npy", pattern_tensor(SLM_DTYPE_INT8, {2}), &err));
  EXPECT_EQ(err.rfind("/nonexistent/dir/y.npy: ", 0), 0u) << err;
}

TEST(TensorFileTest, WritesRuntimeTensors) {
  TempDir dir;
  int32_t vals[6] = {1, 2, 3, 4, 5, 6};
  slm_tensor_t st{};
  st.dtype = SLM_DTYPE_INT32;
  st.rank = 2;
  st.dims[0] = 3, st.dims[1] = 2;
  st.data = vals;
  st.nbytes = sizeof vals;
  std::string path = dir.file("out.npy"), err;
  ASSERT_TRUE(write_npy(path, st, &err)) << err;
  HostTensor t;
  ASSERT_TRUE(read_tensor_file(path, &t, &err)) << err;
  EXPECT_EQ(t.dims, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(values_of<int32_t>(t), std::vector<int32_t>(vals, vals + 6));

  st.nbytes = 20;  // a runtime bug must not produce a silently short file
  EXPECT_FALSE(write_npy(dir.file("bad.npy"), st, &err));
  EXPECT_NE(err.find("dims [3, 2] give 6 elements but tensor holds 5"), std::string::npos) << err;
}

}  // namespace
}  // namespace slm_tools
