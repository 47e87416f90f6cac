// tensor_io.cc — .npy and ONNX TensorProto readers/writers for the runtime tools (see tensor_io.h).
#include "tensor_io.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <new>

// Tensor data is stored little-endian in both formats and copied verbatim.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "tensor_io assumes a little-endian host"
#endif

namespace slm_tools {
namespace {

struct DtypeEntry {
  int32_t dtype;
  const char* name;
  size_t size;
  const char* npy;  // descr numpy writes; nullptr if .npy cannot hold it
};

const DtypeEntry kDtypes[] = {
    {SLM_DTYPE_FLOAT32, "float32", 4, "<f4"}, {SLM_DTYPE_UINT8, "uint8", 1, "|u1"},
    {SLM_DTYPE_INT8, "int8", 1, "|i1"},       {SLM_DTYPE_UINT16, "uint16", 2, "<u2"},
    {SLM_DTYPE_INT16, "int16", 2, "<i2"},     {SLM_DTYPE_INT32, "int32", 4, "<i4"},
    {SLM_DTYPE_INT64, "int64", 8, "<i8"},     {SLM_DTYPE_BOOL, "bool", 1, "|b1"},
    {SLM_DTYPE_FLOAT16, "float16", 2, "<f2"}, {SLM_DTYPE_FLOAT64, "float64", 8, "<f8"},
    {SLM_DTYPE_UINT32, "uint32", 4, "<u4"},   {SLM_DTYPE_UINT64, "uint64", 8, "<u8"},
    {SLM_DTYPE_BFLOAT16, "bfloat16", 2, nullptr},
};

const DtypeEntry* find_dtype(int32_t dtype) {
  for (const DtypeEntry& e : kDtypes)
    if (e.dtype == dtype) return &e;
  return nullptr;
}

bool fail(std::string* err, const std::string& what, const std::string& msg) {
  if (err) *err = what + ": " + msg;
  return false;
}

// Bool tensors must hold 0/1 bytes for the kernels; other writers may use any nonzero.
void normalize_bools(HostTensor* t) {
  if (t->dtype != SLM_DTYPE_BOOL) return;
  for (uint8_t& b : t->data) b = b ? 1 : 0;
}

// Checks the data matches dims exactly; `source` names where the data came from.
bool check_data_size(const HostTensor& t, size_t have_bytes, const std::string& source,
                     const std::string& what, std::string* err, bool npy_header = false) {
  size_t esize = tensor_dtype_size(t.dtype);
  int64_t count = 0;
  if (!checked_element_count(t.dims, esize, &count))
    return fail(err, what, "shape " + format_dims(t.dims) + " is negative or too large");
  if (have_bytes == static_cast<size_t>(count) * esize) return true;
  std::string msg = (npy_header ? "header says " : "dims " + format_dims(t.dims) + " give ") +
                    std::to_string(count) + " elements but " + source;
  if (have_bytes % esize == 0)
    msg += " holds " + std::to_string(have_bytes / esize);
  else
    msg += " holds " + std::to_string(have_bytes) + " bytes (expected " +
           std::to_string(static_cast<size_t>(count) * esize) + ")";
  return fail(err, what, msg);
}

// ---------------------------------------------------------------- .npy header

// Cursor over the Python dict literal numpy writes as the header.
struct PyLit {
  const char* p;
  const char* end;
  void skip_ws() {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) ++p;
  }
  bool eat(char c) {
    skip_ws();
    if (p < end && *p == c) { ++p; return true; }
    return false;
  }
  bool peek(char c) { skip_ws(); return p < end && *p == c; }
  bool string(std::string* out) {
    skip_ws();
    if (p >= end || (*p != '\'' && *p != '"')) return false;
    char q = *p++;
    const char* start = p;
    while (p < end && *p != q) ++p;
    if (p >= end) return false;
    out->assign(start, p++);
    return true;
  }
  bool word(const char* w) {
    skip_ws();
    size_t n = std::strlen(w);
    if (static_cast<size_t>(end - p) < n || std::strncmp(p, w, n) != 0) return false;
    p += n;
    return true;
  }
  // Non-negative int; Python 2 numpy wrote a trailing 'L'.
  bool dim(int64_t* out) {
    skip_ws();
    if (p >= end || *p < '0' || *p > '9') return false;
    int64_t v = 0;
    for (; p < end && *p >= '0' && *p <= '9'; ++p) {
      if (v > (std::numeric_limits<int64_t>::max() - (*p - '0')) / 10) return false;
      v = v * 10 + (*p - '0');
    }
    if (p < end && *p == 'L') ++p;
    *out = v;
    return true;
  }
  bool shape(std::vector<int64_t>* dims) {
    if (!eat('(')) return false;
    dims->clear();
    while (!eat(')')) {
      int64_t d = 0;
      if (!dim(&d)) return false;
      dims->push_back(d);
      if (!eat(',') && !peek(')')) return false;
    }
    return true;
  }
};

struct NpyHeader {
  std::string descr;
  bool fortran = false;
  std::vector<int64_t> dims;
};

bool parse_npy_dict(const char* s, size_t n, NpyHeader* h, std::string* msg) {
  PyLit lit{s, s + n};
  bool seen_descr = false, seen_order = false, seen_shape = false;
  if (!lit.eat('{')) return *msg = "header is not a dict", false;
  while (!lit.eat('}')) {
    std::string key;
    if (!lit.string(&key) || !lit.eat(':')) return *msg = "malformed header dict", false;
    if (key == "descr") {
      if (lit.peek('[')) return *msg = "structured dtypes are not supported", false;
      if (!lit.string(&h->descr)) return *msg = "malformed 'descr' in header", false;
      seen_descr = true;
    } else if (key == "fortran_order") {
      if (lit.word("True")) h->fortran = true;
      else if (lit.word("False")) h->fortran = false;
      else return *msg = "malformed 'fortran_order' in header", false;
      seen_order = true;
    } else if (key == "shape") {
      if (!lit.shape(&h->dims)) return *msg = "malformed 'shape' in header", false;
      seen_shape = true;
    } else {
      return *msg = "unexpected key '" + key + "' in header", false;
    }
    if (!lit.eat(',') && !lit.peek('}')) return *msg = "malformed header dict", false;
  }
  lit.skip_ws();
  if (lit.p != lit.end) return *msg = "trailing characters after header dict", false;
  if (!seen_descr || !seen_order || !seen_shape)
    return *msg = "header lacks 'descr', 'fortran_order' or 'shape'", false;
  return true;
}

// Maps a numpy descr ("<f4", "|u1", ...) to an slm dtype.
bool npy_descr_to_dtype(const std::string& descr, int32_t* dtype, std::string* msg) {
  if (descr.size() < 2) return *msg = "unsupported dtype '" + descr + "'", false;
  char order = descr[0];
  std::string code = descr.substr(1);
  for (const DtypeEntry& e : kDtypes) {
    if (!e.npy || code != e.npy + 1) continue;
    if (order == '>' && e.size > 1)
      return *msg = "big-endian dtype '" + descr + "' is not supported; save with arr.astype('" +
                    e.npy + "')", false;
    if (order != '<' && order != '=' && order != '|' && order != '>') break;
    if (order == '|' && e.size > 1) break;
    *dtype = e.dtype;
    return true;
  }
  return *msg = "unsupported dtype '" + descr +
                "' (supported: f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1, little-endian)", false;
}

uint32_t read_le(const uint8_t* p, int n) {
  uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Returns the header's byte length (prefix included) or 0 with *msg set.
size_t npy_header_end(const uint8_t* b, size_t size, std::string* msg) {
  static const uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (size < 10 || std::memcmp(b, kMagic, 6) != 0) return *msg = "not a .npy file (bad magic)", 0;
  int major = b[6], minor = b[7];
  if (major < 1 || major > 3 || minor != 0)
    return *msg = "unsupported .npy format version " + std::to_string(major) + "." +
                  std::to_string(minor), 0;
  size_t prefix = major == 1 ? 10 : 12;
  if (size < prefix) return *msg = "truncated .npy header", 0;
  size_t hlen = read_le(b + 8, major == 1 ? 2 : 4);
  if (hlen > size - prefix)
    return *msg = "truncated .npy header (says " + std::to_string(hlen) + " bytes, file has " +
                  std::to_string(size - prefix) + ")", 0;
  return prefix + hlen;
}

// ------------------------------------------------------- protobuf wire format

struct Wire {
  const uint8_t* p;
  const uint8_t* end;
  bool varint(uint64_t* out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (p >= end) return false;
      uint8_t byte = *p++;
      if (shift == 63 && byte > 1) return false;  // would overflow 64 bits
      v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80)) { *out = v; return true; }
    }
    return false;
  }
  bool bytes(size_t n, const uint8_t** out) {
    if (static_cast<size_t>(end - p) < n) return false;
    *out = p;
    p += n;
    return true;
  }
  bool length_delimited(Wire* sub) {
    uint64_t n = 0;
    const uint8_t* start = nullptr;
    if (!varint(&n) || n > static_cast<uint64_t>(end - p) || !bytes(n, &start)) return false;
    *sub = Wire{start, start + n};
    return true;
  }
  bool skip(int wire_type) {
    uint64_t v = 0;
    const uint8_t* q = nullptr;
    Wire sub{};
    switch (wire_type) {
      case 0: return varint(&v);
      case 1: return bytes(8, &q);
      case 2: return length_delimited(&sub);
      case 5: return bytes(4, &q);
      default: return false;  // groups (3/4) are not used by onnx.proto
    }
  }
};

// The decoded fields of a TensorProto that this reader understands.
struct ProtoFields {
  std::vector<int64_t> dims;
  int64_t data_type = 0;
  std::vector<uint8_t> float_data, double_data;  // little-endian fixed32 / fixed64
  std::vector<uint64_t> int32_data, int64_data, uint64_data;  // raw varint values
  bool has_raw = false;
  std::vector<uint8_t> raw;
  std::string name;
  int64_t data_location = 0;
};

// A repeated varint field, packed (wire type 2) or one element (wire type 0).
bool read_varints(Wire* w, int wt, std::vector<uint64_t>* out) {
  uint64_t v = 0;
  if (wt == 0) return w->varint(&v) ? (out->push_back(v), true) : false;
  Wire sub{};
  if (!w->length_delimited(&sub)) return false;
  while (sub.p < sub.end) {
    if (!sub.varint(&v)) return false;
    out->push_back(v);
  }
  return true;
}

// A repeated fixed-width field, packed or one element (wire type 5 or 1).
bool read_fixed(Wire* w, int wt, size_t width, std::vector<uint8_t>* out) {
  const uint8_t* q = nullptr;
  if (wt != 2) return w->bytes(width, &q) ? (out->insert(out->end(), q, q + width), true) : false;
  Wire sub{};
  if (!w->length_delimited(&sub) || (sub.end - sub.p) % width != 0) return false;
  out->insert(out->end(), sub.p, sub.end);
  return true;
}

bool wire_type_ok(int field, int wt) {
  switch (field) {
    case 1: case 5: case 7: case 11: return wt == 0 || wt == 2;
    case 2: case 14: return wt == 0;
    case 4: return wt == 5 || wt == 2;
    case 10: return wt == 1 || wt == 2;
    case 3: case 6: case 8: case 9: return wt == 2;
    default: return true;
  }
}

// Reads one known field; returns false with *msg set on malformed input.
bool read_proto_field(Wire* w, int field, int wt, ProtoFields* f, std::string* msg) {
  std::vector<uint64_t> tmp;
  Wire sub{};
  bool ok = true;
  switch (field) {
    case 1:
      ok = read_varints(w, wt, &tmp);
      for (uint64_t v : tmp) f->dims.push_back(static_cast<int64_t>(v));
      break;
    case 2: ok = read_varints(w, wt, &tmp) && (f->data_type = static_cast<int64_t>(tmp[0]), true); break;
    case 3: return *msg = "segmented tensors (TensorProto.segment) are not supported", false;
    case 4: ok = read_fixed(w, wt, 4, &f->float_data); break;
    case 5: ok = read_varints(w, wt, &f->int32_data); break;
    case 6: return *msg = "string tensors are not supported", false;
    case 7: ok = read_varints(w, wt, &f->int64_data); break;
    case 8: ok = w->length_delimited(&sub) && (f->name.assign(sub.p, sub.end), true); break;
    case 9:
      ok = w->length_delimited(&sub);
      if (ok) f->raw.assign(sub.p, sub.end), f->has_raw = true;
      break;
    case 10: ok = read_fixed(w, wt, 8, &f->double_data); break;
    case 11: ok = read_varints(w, wt, &f->uint64_data); break;
    case 14: ok = read_varints(w, wt, &tmp) && (f->data_location = static_cast<int64_t>(tmp[0]), true); break;
    default: ok = w->skip(wt); break;
  }
  if (!ok) *msg = "truncated or malformed field " + std::to_string(field);
  return ok;
}

bool decode_proto_fields(const uint8_t* bytes, size_t size, ProtoFields* f, std::string* msg) {
  Wire w{bytes, bytes + size};
  while (w.p < w.end) {
    uint64_t tag = 0;
    if (!w.varint(&tag)) return *msg = "truncated field tag", false;
    int field = static_cast<int>(tag >> 3), wt = static_cast<int>(tag & 7);
    if (tag >> 3 == 0 || tag >> 3 > 536870911u) return *msg = "invalid field number", false;
    if (!wire_type_ok(field, wt))
      return *msg = "field " + std::to_string(field) + " has unexpected wire type " +
                    std::to_string(wt) + " (not a TensorProto?)", false;
    if (!read_proto_field(&w, field, wt, f, msg)) return false;
  }
  return true;
}

// Narrows int32_data values into the element type ONNX stores in that field.
bool narrow_int32_data(const std::vector<uint64_t>& vals, int32_t dtype, std::vector<uint8_t>* out,
                       std::string* msg) {
  size_t esize = tensor_dtype_size(dtype);
  int64_t lo = INT32_MIN, hi = INT32_MAX;
  switch (dtype) {
    case SLM_DTYPE_INT8: lo = -128, hi = 127; break;
    case SLM_DTYPE_UINT8: lo = 0, hi = 255; break;
    case SLM_DTYPE_INT16: lo = -32768, hi = 32767; break;
    case SLM_DTYPE_UINT16: lo = 0, hi = 65535; break;
    // float16/bfloat16 hold bit patterns; tolerate writers that sign-extended them.
    case SLM_DTYPE_FLOAT16: case SLM_DTYPE_BFLOAT16: lo = -32768, hi = 65535; break;
    default: break;
  }
  out->resize(vals.size() * esize);
  for (size_t i = 0; i < vals.size(); ++i) {
    int64_t v = static_cast<int32_t>(static_cast<uint32_t>(vals[i]));  // protobuf int32 semantics
    if (dtype == SLM_DTYPE_BOOL) v = v != 0;
    if (v < lo || v > hi)
      return *msg = "int32_data[" + std::to_string(i) + "] = " + std::to_string(v) +
                    " is out of range for " + tensor_dtype_name(dtype), false;
    uint32_t u = static_cast<uint32_t>(v);
    std::memcpy(out->data() + i * esize, &u, esize);  // low bytes: little-endian host
  }
  return true;
}

// Which typed field ONNX uses for each dtype when raw_data is absent.
const char* typed_field_for(int32_t dtype) {
  switch (dtype) {
    case SLM_DTYPE_FLOAT32: return "float_data";
    case SLM_DTYPE_FLOAT64: return "double_data";
    case SLM_DTYPE_INT64: return "int64_data";
    case SLM_DTYPE_UINT32: case SLM_DTYPE_UINT64: return "uint64_data";
    default: return "int32_data";
  }
}

bool typed_data_to_bytes(const ProtoFields& f, int32_t dtype, const char* field,
                         std::vector<uint8_t>* out, std::string* msg) {
  std::string name = field;
  if (name == "float_data" || name == "double_data") {
    *out = name == "float_data" ? f.float_data : f.double_data;
    return true;
  }
  if (name == "int32_data") return narrow_int32_data(f.int32_data, dtype, out, msg);
  const std::vector<uint64_t>& v = name == "int64_data" ? f.int64_data : f.uint64_data;
  size_t esize = tensor_dtype_size(dtype);
  out->resize(v.size() * esize);
  for (size_t i = 0; i < v.size(); ++i) {
    if (esize == 4 && v[i] > UINT32_MAX)
      return *msg = "uint64_data[" + std::to_string(i) + "] is out of range for uint32", false;
    std::memcpy(out->data() + i * esize, &v[i], esize);
  }
  return true;
}

// Picks the one data source present and converts it to dense bytes.
bool proto_data(const ProtoFields& f, HostTensor* t, std::string* msg) {
  struct Src { const char* name; size_t count; } srcs[] = {
      {"float_data", f.float_data.size() / 4}, {"int32_data", f.int32_data.size()},
      {"int64_data", f.int64_data.size()},     {"double_data", f.double_data.size() / 8},
      {"uint64_data", f.uint64_data.size()}};
  const Src* typed = nullptr;
  for (const Src& s : srcs) {
    if (!s.count) continue;
    if (typed || f.has_raw)
      return *msg = std::string("tensor has both ") + (typed ? typed->name : "raw_data") + " and " +
                    s.name, false;
    typed = &s;
  }
  if (f.has_raw || !typed) {
    t->data = f.raw;
    return true;
  }
  const char* want = typed_field_for(t->dtype);
  if (std::strcmp(want, typed->name) != 0)
    return *msg = std::string(typed->name) + " given for a " + tensor_dtype_name(t->dtype) +
                  " tensor (ONNX stores it in " + want + ")", false;
  return typed_data_to_bytes(f, t->dtype, typed->name, &t->data, msg);
}

std::string proto_source_name(const ProtoFields& f) {
  if (f.has_raw) return "raw_data";
  if (!f.float_data.empty()) return "float_data";
  if (!f.int32_data.empty()) return "int32_data";
  if (!f.int64_data.empty()) return "int64_data";
  if (!f.double_data.empty()) return "double_data";
  if (!f.uint64_data.empty()) return "uint64_data";
  return "the tensor";
}

bool check_proto_dtype(const ProtoFields& f, std::string* msg) {
  if (f.data_type == 8) return *msg = "string tensors are not supported", false;
  if (f.data_type == 0) return *msg = "data_type is missing (UNDEFINED)", false;
  if (f.data_type < 0 || f.data_type > INT32_MAX || !find_dtype(static_cast<int32_t>(f.data_type)))
    return *msg = "data_type " + std::to_string(f.data_type) + " is not supported", false;
  if (f.data_location == 1)
    return *msg = "external data (data_location=EXTERNAL) is not supported; "
                  "re-save the tensor with its data inline", false;
  return true;
}

// Appends the header's text, byte-identical to numpy 1.24's _write_array_header.
std::string npy_header_text(const char* descr, const std::vector<int64_t>& dims) {
  std::string shape = "(";
  for (size_t i = 0; i < dims.size(); ++i)
    shape += (i ? ", " : "") + std::to_string(dims[i]);
  shape += dims.size() == 1 ? ",)" : ")";
  std::string h = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " +
                  shape + ", }";
  // numpy leaves room to grow the first dim in place (GROWTH_AXIS_MAX_DIGITS = 21).
  if (!dims.empty()) h.append(21 - std::to_string(dims[0]).size(), ' ');
  size_t hlen = h.size() + 1;
  size_t pad = 64 - (10 + hlen) % 64;
  h.append(pad, ' ');
  h += '\n';
  return h;
}

}  // namespace

// ------------------------------------------------------------------ public API

size_t tensor_dtype_size(int32_t dtype) {
  const DtypeEntry* e = find_dtype(dtype);
  return e ? e->size : 0;
}

std::string tensor_dtype_name(int32_t dtype) {
  const DtypeEntry* e = find_dtype(dtype);
  return e ? e->name : "dtype(" + std::to_string(dtype) + ")";
}

std::string format_dims(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

bool checked_element_count(const std::vector<int64_t>& dims, size_t elem_size, int64_t* out_count) {
  int64_t count = 1;
  for (int64_t d : dims)
    if (d < 0) return false;
  for (int64_t d : dims) {
    if (d == 0) { count = 0; break; }
    if (count > std::numeric_limits<int64_t>::max() / d) return false;
    count *= d;
  }
  if (elem_size && static_cast<uint64_t>(count) > std::numeric_limits<size_t>::max() / elem_size)
    return false;
  if (elem_size && static_cast<uint64_t>(count) * elem_size >
                       static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return false;
  *out_count = count;
  return true;
}

bool parse_npy(const uint8_t* bytes, size_t size, const std::string& what, HostTensor* out,
               std::string* err) try {
  std::string msg;
  size_t hend = npy_header_end(bytes, size, &msg);
  if (!hend) return fail(err, what, msg);
  size_t prefix = bytes[6] == 1 ? 10 : 12;
  NpyHeader h;
  if (!parse_npy_dict(reinterpret_cast<const char*>(bytes) + prefix, hend - prefix, &h, &msg))
    return fail(err, what, msg);
  HostTensor t;
  if (!npy_descr_to_dtype(h.descr, &t.dtype, &msg)) return fail(err, what, msg);
  t.dims = h.dims;
  // 0-d and 1-d arrays are the same in both orders; numpy marks them C order anyway.
  if (h.fortran && t.dims.size() > 1)
    return fail(err, what, "Fortran-order arrays are not supported; save with np.ascontiguousarray()");
  if (!check_data_size(t, size - hend, "file", what, err, true)) return false;
  t.data.assign(bytes + hend, bytes + size);
  normalize_bools(&t);
  *out = std::move(t);
  return true;
} catch (const std::bad_alloc&) {
  return fail(err, what, "out of memory");
}

bool parse_tensor_proto(const uint8_t* bytes, size_t size, const std::string& what, HostTensor* out,
                        std::string* err) try {
  ProtoFields f;
  std::string msg;
  if (!decode_proto_fields(bytes, size, &f, &msg) || !check_proto_dtype(f, &msg))
    return fail(err, what, msg);
  HostTensor t;
  t.name = f.name;
  t.dtype = static_cast<int32_t>(f.data_type);
  t.dims = f.dims;
  int64_t count = 0;
  if (!checked_element_count(t.dims, tensor_dtype_size(t.dtype), &count))
    return fail(err, what, "dims " + format_dims(t.dims) + " are negative or too large");
  if (!proto_data(f, &t, &msg)) return fail(err, what, msg);
  if (!check_data_size(t, t.data.size(), proto_source_name(f), what, err)) return false;
  normalize_bools(&t);
  *out = std::move(t);
  return true;
} catch (const std::bad_alloc&) {
  return fail(err, what, "out of memory");
}

bool encode_npy(const HostTensor& t, const std::string& what, std::vector<uint8_t>* out,
                std::string* err) try {
  const DtypeEntry* e = find_dtype(t.dtype);
  if (!e) return fail(err, what, "cannot write " + tensor_dtype_name(t.dtype) + " as .npy");
  if (!check_data_size(t, t.data.size(), "data", what, err)) return false;
  bool widen = t.dtype == SLM_DTYPE_BFLOAT16;
  std::string header = npy_header_text(widen ? "<f4" : e->npy, t.dims);
  if (header.size() > 65535) return fail(err, what, "too many dims for a .npy v1.0 header");
  out->assign({0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, static_cast<uint8_t>(header.size() & 0xff),
               static_cast<uint8_t>(header.size() >> 8)});
  out->insert(out->end(), header.begin(), header.end());
  if (!widen) {
    out->insert(out->end(), t.data.begin(), t.data.end());
    return true;
  }
  for (size_t i = 0; i + 1 < t.data.size(); i += 2) {
    // bfloat16 is the top half of a float32, so widening is exact.
    uint8_t f32[4] = {0, 0, t.data[i], t.data[i + 1]};
    out->insert(out->end(), f32, f32 + 4);
  }
  return true;
} catch (const std::bad_alloc&) {
  return fail(err, what, "out of memory");
}

bool read_file_bytes(const std::string& path, std::vector<uint8_t>* out, std::string* err) try {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return fail(err, path, std::strerror(errno));
  out->clear();
  uint8_t buf[1 << 16];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out->insert(out->end(), buf, buf + n);
  int saved = errno;
  bool bad = std::ferror(f);
  std::fclose(f);
  if (bad) return fail(err, path, std::string("read failed: ") + std::strerror(saved));
  return true;
} catch (const std::bad_alloc&) {
  return fail(err, path, "out of memory");
}

bool read_tensor_file(const std::string& path, HostTensor* out, std::string* err) {
  auto ends_with = [&](const char* s) {
    size_t n = std::strlen(s);
    return path.size() >= n && path.compare(path.size() - n, n, s) == 0;
  };
  bool npy = ends_with(".npy");
  if (!npy && !ends_with(".pb"))
    return fail(err, path, "unknown tensor file type (expected .npy or .pb)");
  std::vector<uint8_t> bytes;
  if (!read_file_bytes(path, &bytes, err)) return false;
  return npy ? parse_npy(bytes.data(), bytes.size(), path, out, err)
             : parse_tensor_proto(bytes.data(), bytes.size(), path, out, err);
}

bool write_npy(const std::string& path, const HostTensor& t, std::string* err) {
  std::vector<uint8_t> bytes;
  if (!encode_npy(t, path, &bytes, err)) return false;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return fail(err, path, std::strerror(errno));
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  int saved = errno;
  // fclose flushes; a full disk often shows up only here.
  if (std::fclose(f) != 0 && ok) ok = false, saved = errno;
  if (!ok) return fail(err, path, std::string("write failed: ") + std::strerror(saved));
  return true;
}

bool host_tensor_from_slm(const slm_tensor_t& t, const std::string& what, HostTensor* out,
                          std::string* err) try {
  if (t.rank < 0 || t.rank > SLM_MAX_RANK)
    return fail(err, what, "invalid rank " + std::to_string(t.rank));
  if (!find_dtype(t.dtype)) return fail(err, what, "unsupported " + tensor_dtype_name(t.dtype));
  HostTensor h;
  h.dtype = t.dtype;
  h.dims.assign(t.dims, t.dims + t.rank);
  if (!check_data_size(h, t.nbytes, "tensor", what, err)) return false;
  if (t.nbytes && !t.data) return fail(err, what, "tensor has no data pointer");
  const uint8_t* p = static_cast<const uint8_t*>(t.data);
  h.data.assign(p, p + t.nbytes);
  *out = std::move(h);
  return true;
} catch (const std::bad_alloc&) {
  return fail(err, what, "out of memory");
}

bool write_npy(const std::string& path, const slm_tensor_t& t, std::string* err) {
  HostTensor h;
  return host_tensor_from_slm(t, path, &h, err) && write_npy(path, h, err);
}

}  // namespace slm_tools
