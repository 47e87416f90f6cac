// Maps a .slm file, verifies the FlatBuffer and every offset/size, and decodes it into slm_model.
#include "core/model.h"
#include "core/provider.h"
#include "core/status.h"
#include "slm_generated.h"
#include "core/host_kernels.h"
#include "core/code_segment.h"
#include "core/cpu_features.h"
#include "elementwise_steps.h"
#include "sparse_f32.h"
#include "slm_kernel_abi.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace slm {
namespace {

constexpr uint32_t kFormatVersion = 1;
constexpr uint64_t kSegmentAlign = 64;

struct Loader {
  const char *path;
  slm_model *m;
  const uint8_t *seg_area = nullptr; // start of the segment area
  uint64_t seg_area_size = 0;
  const uint8_t *weights = nullptr;
  uint64_t weights_size = 0;
  const uint8_t *code = nullptr; // the code segment (generated kernels), null without one
  uint64_t code_size = 0;
  // The CPU's best ISA level, read once per load; it picks optimized overrides where they exist.
  int isa_level = host_isa() ? host_isa()->cpu_level() : 0;

  slm_status_t bad(const char *fmt, const char *detail) {
    char msg[512];
    snprintf(msg, sizeof msg, fmt, detail);
    return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: %s", path, msg);
  }
};

// The target name this runtime build executes.
const char *host_target() {
#if defined(__x86_64__)
  return "x86_64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#else
  return "unknown";
#endif
}

bool mul_overflows(uint64_t a, uint64_t b, uint64_t *out) {
  return __builtin_mul_overflow(a, b, out);
}

// Checks that [offset, offset+size) lies within [0, limit).
bool range_ok(uint64_t offset, uint64_t size, uint64_t limit) {
  return offset <= limit && size <= limit - offset;
}

slm_status_t map_file(const char *path, slm_model *m) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return set_error(SLM_ERROR_IO, "%s: cannot open: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return set_error(SLM_ERROR_IO, "%s: not a regular file", path);
  }
  if (st.st_size < 16) {
    close(fd);
    return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: file is %lld bytes, too small for a .slm header",
                     path, (long long)st.st_size);
  }
  void *p = mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (p == MAP_FAILED)
    return set_error(SLM_ERROR_IO, "%s: cannot map: %s", path, strerror(errno));
  m->map_base = p;
  m->map_size = size_t(st.st_size);
  return SLM_OK;
}

// The FlatBuffer verifier checks a vector's length field but not that 8-byte elements are 8-byte
// aligned; the builder always aligns them, so a misaligned int64 vector is a corrupt artifact.
template <typename T> bool aligned_vector(const flatbuffers::Vector<T> *v) {
  return !v || v->size() == 0 || reinterpret_cast<uintptr_t>(v->data()) % alignof(T) == 0; // empty: nothing is read
}

slm_status_t decode_tensor(Loader &L, const fb::Tensor *t, size_t index, TensorDesc *d) {
  char what[160];
  snprintf(what, sizeof what, "tensor #%zu", index);
  if (!t->name()) return L.bad("%s has no name", what);
  d->name = t->name()->str();
  d->dtype = t->dtype();
  if (dtype_size(d->dtype) == 0)
    return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: tensor '%s' has unsupported dtype %d", L.path,
                     d->name.c_str(), d->dtype);
  const auto *shape = t->max_shape();
  if (!aligned_vector(shape))
    return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: tensor '%s' has a misaligned shape", L.path,
                     d->name.c_str());
  size_t rank = shape ? shape->size() : 0;
  if (rank > size_t(kMaxRank))
    return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: tensor '%s' has rank %zu > %d", L.path,
                     d->name.c_str(), rank, kMaxRank);
  d->rank = int32_t(rank);
  // The product of the nonzero dims bounds every partial product of any shape within these dims,
  // so Tensor::numel()'s signed running product cannot overflow even when a zero dim comes last.
  uint64_t nonzero = 1, numel = 1;
  for (size_t i = 0; i < rank; ++i) {
    int64_t v = shape->Get(flatbuffers::uoffset_t(i));
    if (v < 0 || (v > 0 && mul_overflows(nonzero, uint64_t(v), &nonzero)) || nonzero > uint64_t(INT64_MAX))
      return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: tensor '%s' has a bad dim %lld", L.path,
                       d->name.c_str(), (long long)v);
    numel *= uint64_t(v); // <= nonzero, or 0
    d->max_dims[i] = v;
  }
  uint64_t bound, bytes = numel * dtype_size(d->dtype);
  if (mul_overflows(nonzero, dtype_size(d->dtype), &bound) || bound > uint64_t(INT64_MAX))
    return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: tensor '%s' size overflows", L.path, d->name.c_str());
  d->dim_names.assign(rank, "");
  if (const auto *names = t->dim_names()) {
    if (names->size() != rank)
      return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: tensor '%s' has %u dim names for rank %zu",
                       L.path, d->name.c_str(), names->size(), rank);
    for (size_t i = 0; i < rank; ++i)
      d->dim_names[i] = names->Get(flatbuffers::uoffset_t(i)) ? names->Get(flatbuffers::uoffset_t(i))->str() : "";
  }
  for (auto &n : d->dim_names)
    d->dim_name_ptrs.push_back(n.empty() ? nullptr : n.c_str());
  d->storage = int(t->storage());
  d->byte_size = t->byte_size();
  // The planner puts every tensor at a 64-byte boundary; kernels rely on at least the element's
  // alignment, so an offset that is not aligned is corruption.
  if ((d->storage == kStorageConstant ? t->segment_offset() : t->arena_offset()) % kSegmentAlign != 0)
    return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: tensor '%s' is not %llu-byte aligned", L.path,
                     d->name.c_str(), (unsigned long long)kSegmentAlign);
  if (d->storage == kStorageConstant) {
    if (d->byte_size != bytes || !range_ok(t->segment_offset(), d->byte_size, L.weights_size))
      return set_error(SLM_ERROR_INVALID_ARTIFACT,
                       "%s: invalid artifact: constant '%s' (%llu bytes at %llu) does not fit the weights segment (%llu bytes)",
                       L.path, d->name.c_str(), (unsigned long long)d->byte_size,
                       (unsigned long long)t->segment_offset(), (unsigned long long)L.weights_size);
    d->constant_data = L.weights + t->segment_offset();
    return SLM_OK;
  }
  if (d->storage < kStorageArena || d->storage > kStorageState)
    return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: tensor '%s' has unknown storage %d", L.path,
                     d->name.c_str(), d->storage);
  d->arena_offset = t->arena_offset();
  if (d->byte_size < bytes || !range_ok(d->arena_offset, d->byte_size, L.m->arena_bytes))
    return set_error(SLM_ERROR_INVALID_ARTIFACT,
                     "%s: invalid artifact: tensor '%s' (%llu bytes at arena offset %llu) exceeds the arena (%llu bytes)",
                     L.path, d->name.c_str(), (unsigned long long)d->byte_size, (unsigned long long)d->arena_offset,
                     (unsigned long long)L.m->arena_bytes);
  return SLM_OK;
}

slm_status_t decode_attr(Loader &L, const fb::Attr *a, OpDesc *op, Attr *out) {
  if (!a->name())
    return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: op '%s' has an unnamed attribute", L.path, op->name.c_str());
  out->name = a->name()->c_str();
  out->kind = int32_t(a->kind());
  switch (a->kind()) {
  case fb::AttrKind::Int: out->i = a->i(); break;
  case fb::AttrKind::Float: out->f = a->f(); break;
  case fb::AttrKind::String:
    out->s = a->s() ? a->s()->c_str() : "";
    out->count = a->s() ? a->s()->size() : 0;
    break;
  case fb::AttrKind::Ints:
    op->attr_ints.emplace_back();
    if (!aligned_vector(a->ints()))
      return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: attribute '%s' of op '%s' is misaligned",
                       L.path, out->name, op->name.c_str());
    if (a->ints()) op->attr_ints.back().assign(a->ints()->begin(), a->ints()->end());
    break;
  case fb::AttrKind::Floats:
    op->attr_floats.emplace_back();
    if (a->floats()) op->attr_floats.back().assign(a->floats()->begin(), a->floats()->end());
    break;
  case fb::AttrKind::Strings: {
    std::vector<const char *> v;
    if (a->strings())
      for (auto s : *a->strings()) v.push_back(s ? s->c_str() : "");
    op->attr_strings.push_back(std::move(v));
    break;
  }
  case fb::AttrKind::Tensor: {
    int idx = a->tensor();
    if (idx < 0 || size_t(idx) >= L.m->tensors.size() || L.m->tensors[idx].storage != kStorageConstant)
      return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: attribute '%s' of op '%s' refers to bad tensor %d",
                       L.path, out->name, op->name.c_str(), idx);
    const TensorDesc &d = L.m->tensors[idx];
    auto t = std::make_unique<Tensor>();
    t->data = const_cast<void *>(d.constant_data);
    t->dtype = d.dtype;
    t->rank = d.rank;
    for (int i = 0; i < d.rank; ++i) t->dims[i] = d.max_dims[i];
    out->tensor = t.get();
    op->attr_tensors.push_back(std::move(t));
    break;
  }
  default:
    return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: attribute '%s' of op '%s' has unknown kind %d",
                     L.path, out->name, op->name.c_str(), int(a->kind()));
  }
  return SLM_OK;
}

slm_status_t decode_indices(Loader &L, const flatbuffers::Vector<int32_t> *v, std::vector<int> *out, bool allow_absent,
                            const std::string &op_name, const char *what) {
  if (!v) return SLM_OK;
  for (int32_t idx : *v) {
    if ((idx == -1 && allow_absent) || (idx >= 0 && size_t(idx) < L.m->tensors.size())) {
      out->push_back(idx);
      continue;
    }
    return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: op '%s' has bad %s tensor index %d", L.path,
                     op_name.c_str(), what, idx);
  }
  return SLM_OK;
}

// slm.matmul_sparse's kernels walk the value stream by the masks' popcounts and trust the offsets:
// the masks, offsets and values must be constants of the layout's shapes, and every panel's offsets
// must match its masks (targets/common/sparse_f32.h).
slm_status_t check_sparse_layout(Loader &L, const OpDesc *op) {
  auto bad = [&](const char *why) {
    return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: op '%s' (slm.matmul_sparse): %s", L.path,
                     op->name.c_str(), why);
  };
  int64_t k = op->attr_list.get_int("k", 0), n = op->attr_list.get_int("n", 0);
  if (k <= 0 || n <= 0 || k > (int64_t(1) << 40) || n > (int64_t(1) << 40)) return bad("bad k/n attributes");
  if (op->inputs.size() < 4) return bad("needs values, masks and offsets");
  const TensorDesc *t[3];
  for (int i = 0; i < 3; ++i) {
    int idx = op->inputs[size_t(i + 1)];
    if (idx < 0 || L.m->tensors[idx].storage != kStorageConstant) return bad("values, masks and offsets must be constants");
    t[i] = &L.m->tensors[idx];
  }
  int64_t panels = (n + 63) / 64;
  const TensorDesc &v = *t[0], &m = *t[1], &o = *t[2];
  if (v.dtype != kF32 || v.rank != 1) return bad("values must be a float32 vector");
  if (m.dtype != kU16 || m.rank != 2 || m.max_dims[0] != panels || m.max_dims[1] != k * 4)
    return bad("masks must be uint16 [ceil(n / 64), k * 4]");
  if (o.dtype != kI64 || o.rank != 1 || o.max_dims[0] != panels + 1) return bad("offsets must be int64 [ceil(n / 64) + 1]");
  int64_t first = slm_masked_layout_bad_unit(static_cast<const uint8_t *>(m.constant_data), k * 8,
                                             static_cast<const int64_t *>(o.constant_data), panels, v.max_dims[0]);
  if (first >= 0) {
    char why[160];
    std::snprintf(why, sizeof why, "offsets of panel %lld do not match its masks' nonzeros (or the value count)",
                  (long long)first);
    return bad(why);
  }
  return SLM_OK;
}

// slm.matmul_a8_sparse (targets/common/sparse_s8.h): its kernels walk the values by the masks'
// popcounts without bounds checks, so the masks, offsets and values must be constants whose offsets
// match the masks exactly. Checked once here; a run then only checks shapes.
slm_status_t check_matmul_a8_sparse(Loader &L, const OpDesc &op) {
  auto bad = [&](const char *why) {
    return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: op '%s' (slm.matmul_a8_sparse): %s", L.path,
                     op.name.c_str(), why);
  };
  const int64_t n = op.attr_list.get_int("n", 0), kp = op.attr_list.get_int("kp", 0);
  if (n <= 0 || kp <= 0 || kp % 4 || n > INT64_MAX - 15) return bad("bad n/kp attributes");
  const int64_t strips = (n + 15) / 16, quads = kp / 4;
  if (op.inputs.size() < 7) return bad("needs values, masks and offsets");
  const TensorDesc *t[3];
  for (int i = 0; i < 3; ++i) {
    int idx = op.inputs[3 + i];
    if (idx < 0 || L.m->tensors[idx].storage != kStorageConstant) return bad("values, masks and offsets must be constants");
    t[i] = &L.m->tensors[idx];
  }
  const TensorDesc &values = *t[0], &masks = *t[1], &offsets = *t[2];
  uint64_t mask_count = 0;
  if (values.dtype != kU8 || masks.dtype != kU64 || offsets.dtype != kI64 ||
      mul_overflows(uint64_t(strips), uint64_t(quads), &mask_count) || mask_count > (UINT64_MAX >> 3) ||
      masks.byte_size != mask_count * 8 ||
      offsets.byte_size != uint64_t(strips + 1) * 8)
    return bad("masks must be uint64 [strips, kp / 4], offsets int64 [strips + 1], values uint8");
  if (values.byte_size > uint64_t(INT64_MAX)) return bad("too many values");
  int64_t first = slm_masked_layout_bad_unit(static_cast<const uint8_t *>(masks.constant_data), quads * 8,
                                             static_cast<const int64_t *>(offsets.constant_data), strips,
                                             int64_t(values.byte_size));
  if (first >= 0) {
    char why[160];
    std::snprintf(why, sizeof why, "offsets do not match the masks' popcounts (strip %lld, or the value count)",
                  (long long)first);
    return bad(why);
  }
  return SLM_OK;
}

slm_status_t decode_op(Loader &L, const fb::Op *o, size_t index, OpDesc *op) {
  op->name = o->name() ? o->name()->str() : "op#" + std::to_string(index);
  if (!o->kind())
    return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: op '%s' has no kind", L.path, op->name.c_str());
  op->kind = o->kind()->str();
  std::string domain = o->domain() ? o->domain()->str() : "";
  // ONNX ops are keyed by their type; slm's own ops by "slm.<kind>".
  std::string key = domain.empty() ? op->kind : domain + "." + op->kind;
  if (domain.empty() || domain == "slm") op->kernel = find_host_kernel(key.c_str(), L.isa_level);
  if (!op->kernel)
    return set_error(SLM_ERROR_UNSUPPORTED, "%s: op '%s' (%s%s%s) has no kernel in this runtime", L.path,
                     op->name.c_str(), domain.c_str(), domain.empty() ? "" : "::", op->kind.c_str());
  op->key = key;
  // The kernel key "<provider>.<op key>" says who runs the op: "ref" is this runtime's own kernels,
  // anything else a plugin's kernel provider, bound once the operands are decoded.
  const slm_kernel_provider_t *provider = nullptr;
  if (o->kernel() && o->kernel()->size()) {
    std::string k = o->kernel()->str();
    size_t dot = k.find('.');
    if (dot == std::string::npos || k.compare(dot + 1, std::string::npos, key) != 0)
      return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: op '%s' has kernel key '%s', expected '<provider>.%s'",
                       L.path, op->name.c_str(), k.c_str(), key.c_str());
    std::string pname = k.substr(0, dot);
    // "gen": a kernel generated into the artifact's code segment (slm_kernel_abi.h); the host kernel
    // chosen above stays bound unless the code-segment loader replaces it.
    if (pname != "ref" && pname != "gen" && !(provider = find_provider(pname)))
      return set_error(SLM_ERROR_UNSUPPORTED,
                       "%s: op '%s' (%s) runs on kernel provider '%s', which is not registered; load its plugin "
                       "(--plugin PATH.so, or slm_plugin_load)", L.path, op->name.c_str(), key.c_str(), pname.c_str());
    if (pname == "gen") {
      slm_status_t bound = code_segment_bind(L.path, L.m->code_handle, o->code_symbol() ? o->code_symbol()->c_str() : "", op);
      if (bound != SLM_OK) return bound;
    }
  }
  slm_status_t st;
  if ((st = decode_indices(L, o->inputs(), &op->inputs, true, op->name, "input")) != SLM_OK) return st;
  if ((st = decode_indices(L, o->outputs(), &op->outputs, true, op->name, "output")) != SLM_OK) return st;
  // slm's own ops have no optional results: the compiler always emits every one, and their kernels
  // write them all. No supported ONNX op has an optional first result either (those that do, the
  // recurrent LSTM/GRU/RNN, have no kernel), and every shape function writes output 0.
  if (op->outputs.empty() || op->outputs[0] < 0 ||
      (domain == "slm" && std::count(op->outputs.begin(), op->outputs.end(), -1)))
    return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: op '%s' (%s) has an absent output", L.path,
                     op->name.c_str(), key.c_str());
  for (int idx : op->outputs)
    if (idx >= 0 && L.m->tensors[idx].storage == kStorageConstant)
      return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: op '%s' writes constant '%s'", L.path,
                       op->name.c_str(), L.m->tensors[idx].name.c_str());
  size_t n = o->attrs() ? o->attrs()->size() : 0;
  op->attrs.resize(n);
  // Reserve so pointers into these vectors stay stable while we fill them.
  op->attr_ints.reserve(n);
  op->attr_floats.reserve(n);
  op->attr_strings.reserve(n);
  for (size_t i = 0; i < n; ++i)
    if ((st = decode_attr(L, o->attrs()->Get(flatbuffers::uoffset_t(i)), op, &op->attrs[i])) != SLM_OK) return st;
  size_t ki = 0, fi = 0, si = 0;
  for (auto &a : op->attrs) {
    if (a.kind == kAttrInts) { a.ints = op->attr_ints[ki].data(); a.count = op->attr_ints[ki++].size(); }
    if (a.kind == kAttrFloats) { a.floats = op->attr_floats[fi].data(); a.count = op->attr_floats[fi++].size(); }
    if (a.kind == kAttrStrings) { a.strings = op->attr_strings[si].data(); a.count = op->attr_strings[si++].size(); }
  }
  op->attr_list.items = op->attrs.data();
  op->attr_list.count = op->attrs.size();
  // slm.elementwise interprets its step list: a malformed one is refused here, before any run.
  if (key == "slm.elementwise") {
    EwStep steps[kEwMaxSteps];
    int count = 0;
    char why[256] = {0};
    if (ew_decode_steps(&op->attr_list, int(op->inputs.size()) - 1, steps, &count, why, sizeof why) != SLM_REF_OK)
      return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: op '%s' (%s): %s", L.path, op->name.c_str(),
                       key.c_str(), why);
  }
  if (key == "slm.matmul_sparse")
    if ((st = check_sparse_layout(L, op)) != SLM_OK) return st;
  if (key == "slm.matmul_a8_sparse" && (st = check_matmul_a8_sparse(L, *op)) != SLM_OK) return st;
  if (provider) return prepare_provider_op(L.path, L.m, provider, op);
  return SLM_OK;
}

// State tensors (KV caches) keep their content across runs in the session's arena. Only an
// in-place slm.attention may write one (its present output aliasing its past input, its
// kv_capacity equal to the cache's bound) and only it and Shape may read one, so a cache's dims
// change only through that kernel's checked append.
slm_status_t check_state(Loader &L) {
  auto bad = [&](const OpDesc &op, const TensorDesc &d, const char *why) {
    return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: op '%s' (%s) uses state tensor '%s' %s", L.path,
                     op.name.c_str(), op.kind.c_str(), d.name.c_str(), why);
  };
  auto is_state = [&](int idx) { return idx >= 0 && L.m->tensors[idx].storage == kStorageState; };
  for (size_t i = 0; i < L.m->tensors.size(); ++i) {
    const TensorDesc &d = L.m->tensors[i];
    if (d.storage != kStorageState) continue;
    if (d.rank != 4 || d.dtype != kF32)
      return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: state tensor '%s' is not a float32 [B, H, T, D] cache",
                       L.path, d.name.c_str());
    L.m->states.push_back(int(i));
  }
  for (const OpDesc &op : L.m->ops) {
    bool in_place = op.key == "slm.attention" && op.attr_list.get_int("kv_in_place", 0) != 0;
    if (in_place) {
      if (op.inputs.size() < 5 || op.outputs.size() < 3 || !is_state(op.inputs[3]) || !is_state(op.inputs[4]) ||
          op.outputs[1] != op.inputs[3] || op.outputs[2] != op.inputs[4])
        return set_error(SLM_ERROR_INVALID_ARTIFACT,
                         "%s: invalid artifact: op '%s' appends in place but its past/present are not one state tensor each",
                         L.path, op.name.c_str());
      for (int k : {3, 4})
        if (op.attr_list.get_int("kv_capacity", -1) != L.m->tensors[op.inputs[k]].max_dims[2])
          return bad(op, L.m->tensors[op.inputs[k]], "with a kv_capacity other than its bound");
    }
    for (size_t i = 0; i < op.inputs.size(); ++i)
      if (is_state(op.inputs[i]) && !(in_place && (i == 3 || i == 4)) && !(op.key == "Shape" && i == 0))
        return bad(op, L.m->tensors[op.inputs[i]], "as an input (only an in-place attention and Shape may)");
    for (size_t i = 0; i < op.outputs.size(); ++i)
      if (is_state(op.outputs[i]) && !(in_place && (i == 1 || i == 2)))
        return bad(op, L.m->tensors[op.outputs[i]], "as an output (only an in-place attention may)");
  }
  return SLM_OK;
}

slm_status_t decode_graph(Loader &L, const fb::Graph *g) {
  if (!g || !g->tensors() || !g->ops())
    return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: graph is missing", L.path);
  L.m->arena_bytes = g->arena_bytes();
  L.m->tensors.resize(g->tensors()->size());
  slm_status_t st;
  for (size_t i = 0; i < L.m->tensors.size(); ++i)
    if ((st = decode_tensor(L, g->tensors()->Get(flatbuffers::uoffset_t(i)), i, &L.m->tensors[i])) != SLM_OK) return st;
  // The planner sizes the arena to its last tensor; a bigger claim is corruption, and refusing it
  // keeps a hostile artifact from making every session allocate whatever it states.
  uint64_t needed = 0;
  for (const TensorDesc &d : L.m->tensors)
    if (d.storage != kStorageConstant)
      needed = std::max(needed, d.arena_offset + (std::max<uint64_t>(d.byte_size, 1) + kSegmentAlign - 1) / kSegmentAlign * kSegmentAlign);
  if (L.m->arena_bytes > needed)
    return set_error(SLM_ERROR_INVALID_ARTIFACT,
                     "%s: invalid artifact: the graph claims a %llu-byte arena but its tensors use %llu bytes", L.path,
                     (unsigned long long)L.m->arena_bytes, (unsigned long long)needed);
  L.m->ops.resize(g->ops()->size());
  for (size_t i = 0; i < L.m->ops.size(); ++i)
    if ((st = decode_op(L, g->ops()->Get(flatbuffers::uoffset_t(i)), i, &L.m->ops[i])) != SLM_OK) return st;
  auto io = [&](const flatbuffers::Vector<int32_t> *v, std::vector<int> *out, int storage, const char *what) {
    if (!v) return SLM_OK;
    for (int32_t idx : *v) {
      if (idx < 0 || size_t(idx) >= L.m->tensors.size() || L.m->tensors[idx].storage != storage)
        return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: bad graph %s index %d", L.path, what, idx);
      out->push_back(idx);
    }
    return SLM_OK;
  };
  if ((st = io(g->inputs(), &L.m->inputs, kStorageInput, "input")) != SLM_OK) return st;
  if ((st = io(g->outputs(), &L.m->outputs, kStorageOutput, "output")) != SLM_OK) return st;
  return check_state(L);
}

// Refuses a CPU that lacks a required feature (never SIGILL), caps the ISA kernel level by the
// features the artifact excludes, and loads the code segment.
slm_status_t check_features_and_code(Loader &L, const fb::Target *t) {
  std::vector<std::string> required, excluded;
  if (t->required_features())
    for (const auto *f : *t->required_features()) required.push_back(f ? f->str() : "");
  if (t->excluded_features())
    for (const auto *f : *t->excluded_features()) excluded.push_back(f ? f->str() : "");
  // Plugin targets name features of their own chip; their kernel provider checks those.
  std::vector<std::string> missing = t->host() ? std::vector<std::string>() : missing_cpu_features(required);
  if (!missing.empty()) {
    std::string list;
    for (const auto &f : missing) list += (list.empty() ? "" : ", ") + f;
    return set_error(SLM_ERROR_UNSUPPORTED,
                     "%s: this CPU lacks the feature(s) %s, which the artifact requires (compiled for %s, cpu '%s'); "
                     "recompile with --cpu/--features for this CPU",
                     L.path, list.c_str(), L.m->target.c_str(), t->cpu() ? t->cpu()->c_str() : "?");
  }
  int cap = isa_level_cap(excluded);
  if (cap < L.isa_level) L.isa_level = cap;
  if (!L.code) return SLM_OK;
  if (t->kernel_abi_version() != SLM_KERNEL_ABI_VERSION)
    return set_error(SLM_ERROR_UNSUPPORTED, "%s: the code segment uses kernel ABI version %u; this runtime calls version %u",
                     L.path, t->kernel_abi_version(), SLM_KERNEL_ABI_VERSION);
  return code_segment_open(L.path, L.code, L.code_size, &L.m->code_handle);
}

slm_status_t verify_and_decode(Loader &L) {
  const uint8_t *base = static_cast<const uint8_t *>(L.m->map_base);
  uint64_t size = L.m->map_size;
  uint32_t fb_len;
  std::memcpy(&fb_len, base, 4);
  if (uint64_t(fb_len) + 4 > size)
    return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: header claims %u bytes but the file holds %llu (truncated?)",
                     L.path, fb_len, (unsigned long long)size);
  if (fb_len < 8 || !flatbuffers::BufferHasIdentifier(base, fb::ModelIdentifier(), /*size_prefixed=*/true))
    return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: not a .slm artifact (missing SLMC identifier)", L.path);
  // The builder aligned the buffer including its size prefix, so verify it as one piece.
  flatbuffers::Verifier verifier(base, uint64_t(fb_len) + 4, /*max_depth=*/64, /*max_tables=*/10000000);
  if (!fb::VerifySizePrefixedModelBuffer(verifier))
    return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: the FlatBuffer does not verify (corrupt file)", L.path);
  const fb::Model *model = fb::GetSizePrefixedModel(base);
  if (model->format_version() != kFormatVersion)
    return set_error(SLM_ERROR_UNSUPPORTED, "%s: artifact format version %u is not supported by this runtime (it reads %u)",
                     L.path, model->format_version(), kFormatVersion);
  uint64_t area = (uint64_t(fb_len) + 4 + kSegmentAlign - 1) / kSegmentAlign * kSegmentAlign;
  if (area > size) area = size;
  L.seg_area = base + area;
  L.seg_area_size = size - area;
  if (model->segments()) {
    for (const fb::Segment *s : *model->segments()) {
      if (!s->kind() || s->offset() % kSegmentAlign != 0 || !range_ok(s->offset(), s->size(), L.seg_area_size))
        return set_error(SLM_ERROR_INVALID_ARTIFACT,
                         "%s: invalid artifact: segment '%s' (%llu bytes at %llu) lies outside the file (truncated?)", L.path,
                         s->kind() ? s->kind()->c_str() : "?", (unsigned long long)s->size(), (unsigned long long)s->offset());
      if (s->kind()->str() == "weights") {
        L.weights = L.seg_area + s->offset();
        L.weights_size = s->size();
      }
      if (s->kind()->str() == "code") {
        L.code = L.seg_area + s->offset();
        L.code_size = s->size();
      }
    }
  }
  if (!model->target() || !model->target()->name())
    return set_error(SLM_ERROR_INVALID_ARTIFACT, "%s: invalid artifact: no target", L.path);
  L.m->target = model->target()->name()->str();
  // A plugin target's artifact runs here when its host target is this runtime's.
  std::string host = model->target()->host() ? model->target()->host()->str() : L.m->target;
  if (host != host_target() && L.m->target != host_target())
    return set_error(SLM_ERROR_UNSUPPORTED, "%s: the artifact was compiled for target '%s'; this runtime runs '%s' artifacts",
                     L.path, L.m->target.c_str(), host_target());
  slm_status_t st = check_features_and_code(L, model->target());
  if (st != SLM_OK) return st;
  return decode_graph(L, model->graph());
}

} // namespace

slm_status_t load_model(const char *path, slm_model *m) {
  m->path = path;
  slm_status_t st = map_file(path, m);
  if (st != SLM_OK) return st;
  Loader L{path, m};
  return verify_and_decode(L);
}

} // namespace slm

slm_model::~slm_model() {
  slm::destroy_provider_states(this);
  slm::code_segment_close(code_handle);
  if (map_base) munmap(map_base, map_size);
}
