// Emits the artifact: @main → ArtifactGraph → bounds → memory plan → FlatBuffer + weights, written atomically.
#include "emit/ArtifactWriter.h"
#include "emit/CodeSegment.h"
#include "slm_kernel_abi.h"
#include "gemm_f32_ukernel.h"

#include "KernelBridge.h"
#include "SlmDialect.h"
#include "emit/ArtifactGraph.h"
#include "import/OnnxImporter.h"
#include "pipeline/Targets.h"
#include "slm_generated.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <unistd.h>

using namespace mlir;

namespace slmc {
namespace {

constexpr uint32_t kFormatVersion = 1;

class GraphBuilder {
public:
  GraphBuilder(ArtifactGraph &g, std::string *error) : g(g), error(error) {}
  bool build(func::FuncOp func);

private:
  int addTensor(Value v, const std::string &name, StorageKind storage);
  bool addConstant(ElementsAttr attr, const std::string &name, int *index);
  bool addOp(Operation *op);
  std::string valueName(Value v, Operation *op, unsigned i);
  bool fail(const std::string &m) {
    *error = m;
    return false;
  }

  ArtifactGraph &g;
  std::string *error;
  llvm::DenseMap<Value, int> index;
};

int GraphBuilder::addTensor(Value v, const std::string &name, StorageKind storage) {
  ArtifactTensor t;
  t.name = name;
  auto type = cast<TensorType>(v.getType());
  t.dtype = slm::kernelDtype(type.getElementType());
  if (type.hasRank()) t.maxShape.assign(type.getShape().begin(), type.getShape().end());
  t.dimNames.assign(t.maxShape.size(), "");
  t.storage = storage;
  g.tensors.push_back(std::move(t));
  index[v] = int(g.tensors.size() - 1);
  return int(g.tensors.size() - 1);
}

bool GraphBuilder::addConstant(ElementsAttr attr, const std::string &name, int *out) {
  auto type = cast<ShapedType>(attr.getType());
  ArtifactTensor t;
  t.name = name;
  t.dtype = slm::kernelDtype(type.getElementType());
  if (!::slm::dtype_size(t.dtype)) return fail("constant '" + name + "' has an unsupported element type");
  t.maxShape.assign(type.getShape().begin(), type.getShape().end());
  t.dimNames.assign(t.maxShape.size(), "");
  t.storage = StorageKind::Constant;
  t.byteSize = uint64_t(type.getNumElements()) * ::slm::dtype_size(t.dtype);
  if (auto r = dyn_cast<DenseResourceElementsAttr>(attr)) { // used in place, not copied
    AsmResourceBlob *blob = r.getRawHandle().getBlob();
    if (!blob || blob->getData().size() != t.byteSize) return fail("constant '" + name + "' has no or short data");
    t.constData = blob->getData().data();
  } else if (auto bytes = slm::constantBytes(attr)) {
    t.ownedData = std::move(*bytes);
  } else {
    return fail("constant '" + name + "' uses an unsupported attribute kind or has inconsistent data");
  }
  g.tensors.push_back(std::move(t));
  static const char kNoBytes[1] = {0}; // an empty constant is still a known value (bound inference)
  if (g.tensors.back().byteSize == 0) g.tensors.back().constData = kNoBytes;
  else if (!g.tensors.back().ownedData.empty()) g.tensors.back().constData = g.tensors.back().ownedData.data();
  *out = int(g.tensors.size() - 1);
  return true;
}

std::string GraphBuilder::valueName(Value v, Operation *op, unsigned i) {
  if (auto names = op->getAttrOfType<ArrayAttr>(slm::kOutputNamesAttr))
    if (i < names.size())
      if (auto s = dyn_cast<StringAttr>(names[i])) return s.str();
  std::string base = op->getName().stripDialect().str();
  if (auto n = op->getAttrOfType<StringAttr>(slm::kNodeNameAttr)) base = n.str();
  return base + ":" + std::to_string(i);
}

// Kernel key, positions and attributes of an op (KernelBridge.h); constant attributes (tensors)
// become constant tensors of the graph.
bool GraphBuilder::addOp(Operation *op) {
  ArtifactOp a;
  slm::KernelLayout layout = slm::kernelLayout(op);
  a.kind = layout.kind;
  a.domain = layout.domain;
  a.name = a.kind;
  if (auto n = op->getAttrOfType<StringAttr>(slm::kNodeNameAttr)) a.name = n.str();
  std::string key = layout.key();
  a.kernel = ::slm::find_ref_kernel(key.c_str());
  if (!a.kernel) return fail("node '" + a.name + "': op " + key + " has no kernel for this target");
  auto attn = dyn_cast<slm::AttentionOp>(op);
  bool kvInPlace = attn && attn.getKvInPlace();
  for (unsigned i = 0; i < op->getNumResults(); ++i) {
    if (kvInPlace && i > 0) { // the present results are the slm.kv_cache state tensors themselves
      index[op->getResult(i)] = index.lookup(i == 1 ? attn.getPastKey() : attn.getPastValue());
      continue;
    }
    addTensor(op->getResult(i), valueName(op->getResult(i), op, i), StorageKind::Arena);
  }
  for (int v : layout.inputs) a.inputs.push_back(v < 0 ? -1 : index.lookup(op->getOperand(unsigned(v))));
  for (int v : layout.outputs) a.outputs.push_back(v < 0 ? -1 : index.lookup(op->getResult(unsigned(v))));
  for (int idx : a.inputs)
    if (idx >= 0) g.tensors[idx].used = true;
  std::vector<slm::KernelAttr> attrs;
  if (std::string e = slm::kernelAttrs(op, &attrs); !e.empty()) return fail("op '" + a.name + "': " + e);
  for (slm::KernelAttr &k : attrs) {
    ArtifactAttr attr;
    static_cast<slm::KernelAttr &>(attr) = std::move(k);
    if (attr.kind == ::slm::kAttrTensor) {
      if (!addConstant(attr.tensor, a.name + "." + attr.name, &attr.index)) return false;
      g.tensors[attr.index].used = true;
    }
    a.attrs.push_back(std::move(attr));
  }
  g.ops.push_back(std::move(a));
  return true;
}

bool GraphBuilder::build(func::FuncOp func) {
  for (BlockArgument arg : func.getArguments()) {
    auto name = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), kArgNameAttr);
    int idx = addTensor(arg, name ? name.str() : "input" + std::to_string(arg.getArgNumber()), StorageKind::Input);
    if (auto dims = func.getArgAttrOfType<ArrayAttr>(arg.getArgNumber(), kArgDimsAttr))
      for (size_t i = 0; i < dims.size() && i < g.tensors[idx].dimNames.size(); ++i)
        g.tensors[idx].dimNames[i] = cast<StringAttr>(dims[i]).str();
    for (size_t i = 0; i < g.tensors[idx].maxShape.size(); ++i)
      if (g.tensors[idx].maxShape[i] == ShapedType::kDynamic && g.tensors[idx].dimNames[i].empty())
        g.tensors[idx].dimNames[i] = g.tensors[idx].name + ".dim" + std::to_string(i);
    g.inputs.push_back(idx);
  }
  for (Operation &op : func.getBody().front()) {
    if (auto c = dyn_cast<slm::ConstantOp>(op)) {
      int idx;
      std::string name = c.getName() ? c.getName()->str() : "const" + std::to_string(g.tensors.size());
      if (!addConstant(c.getValue(), name, &idx)) return false;
      index[c.getResult()] = idx;
      continue;
    }
    if (auto c = dyn_cast<slm::KvCacheOp>(op)) {
      int idx = addTensor(c.getResult(), c.getName().str(), StorageKind::State);
      ArtifactTensor &t = g.tensors[idx];
      for (size_t i = 0; i < t.maxShape.size(); ++i) {
        if (i < c.getDims().size()) t.dimNames[i] = cast<StringAttr>(c.getDims()[i]).str();
        if (t.maxShape[i] == ShapedType::kDynamic && t.dimNames[i].empty())
          t.dimNames[i] = t.name + ".dim" + std::to_string(i);
      }
      continue;
    }
    if (isa<func::ReturnOp>(op)) continue;
    if (!isa<slm::SlmDialect>(op.getDialect()))
      return fail("op " + op.getName().getStringRef().str() + " cannot be emitted (not an slm op)");
    if (!addOp(&op)) return false;
  }
  auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
  for (unsigned i = 0; i < ret.getNumOperands(); ++i) {
    auto name = func.getResultAttrOfType<StringAttr>(i, kArgNameAttr);
    std::string outName = name ? name.str() : "output" + std::to_string(i);
    int src = index.lookup(ret.getOperand(i));
    ArtifactTensor &t = g.tensors[src];
    bool needsCopy = t.storage != StorageKind::Arena || std::count(g.outputs.begin(), g.outputs.end(), src);
    if (needsCopy) { // an input, a constant or a repeated output: copy it into its own output tensor
      ArtifactOp copy;
      copy.kind = copy.name = "Identity";
      copy.kernel = ::slm::find_ref_kernel("Identity");
      if (!copy.kernel) return fail("graph output '" + outName + "' needs an Identity kernel");
      copy.inputs = {src};
      ArtifactTensor o = t;
      o.storage = StorageKind::Output;
      o.constData = nullptr;
      o.ownedData.clear();
      o.dimNames.assign(o.maxShape.size(), "");
      g.tensors.push_back(std::move(o));
      copy.outputs = {int(g.tensors.size() - 1)};
      g.tensors[src].used = true;
      g.ops.push_back(std::move(copy));
      src = int(g.tensors.size() - 1);
    }
    g.tensors[src].storage = StorageKind::Output;
    g.tensors[src].name = outName;
    g.outputs.push_back(src);
  }
  return true;
}

flatbuffers::Offset<::slm::fb::Attr> writeAttr(flatbuffers::FlatBufferBuilder &fbb, const ArtifactAttr &a) {
  std::vector<flatbuffers::Offset<flatbuffers::String>> strs;
  for (auto &s : a.strings) strs.push_back(fbb.CreateString(s));
  return ::slm::fb::CreateAttrDirect(fbb, a.name.c_str(), ::slm::fb::AttrKind(a.kind), a.i, a.f,
                                   a.kind == ::slm::kAttrString ? a.s.c_str() : nullptr,
                                   a.kind == ::slm::kAttrInts ? &a.ints : nullptr,
                                   a.kind == ::slm::kAttrFloats ? &a.floats : nullptr, a.index,
                                   a.kind == ::slm::kAttrStrings ? &strs : nullptr);
}

flatbuffers::Offset<::slm::fb::Graph> writeGraph(flatbuffers::FlatBufferBuilder &fbb, const ArtifactGraph &g) {
  std::vector<flatbuffers::Offset<::slm::fb::Tensor>> tensors;
  for (const auto &t : g.tensors) {
    std::vector<flatbuffers::Offset<flatbuffers::String>> dimNames;
    // One name per dim: an unranked IR tensor gets its rank only from bound inference.
    for (size_t i = 0; i < t.maxShape.size(); ++i)
      dimNames.push_back(fbb.CreateString(i < t.dimNames.size() ? t.dimNames[i] : std::string()));
    bool constant = t.storage == StorageKind::Constant;
    tensors.push_back(::slm::fb::CreateTensorDirect(
        fbb, t.name.c_str(), t.dtype, &t.maxShape, &dimNames, ::slm::fb::Storage(int(t.storage)),
        constant ? t.offset : 0, constant ? 0 : t.offset, t.byteSize, 0, constant));
  }
  std::vector<flatbuffers::Offset<::slm::fb::Op>> ops;
  for (const auto &op : g.ops) {
    std::vector<flatbuffers::Offset<::slm::fb::Attr>> attrs;
    for (const auto &a : op.attrs) attrs.push_back(writeAttr(fbb, a));
    std::string kernel = (op.provider.empty() ? std::string("ref") : op.provider) + "." +
                         (op.domain.empty() ? op.kind : op.domain + "." + op.kind);
    ops.push_back(::slm::fb::CreateOpDirect(fbb, op.kind.c_str(), op.domain.c_str(), kernel.c_str(), &op.inputs,
                                          &op.outputs, &attrs, op.name.c_str(),
                                          op.codeSymbol.empty() ? nullptr : op.codeSymbol.c_str()));
  }
  return ::slm::fb::CreateGraphDirect(fbb, &tensors, &ops, &g.inputs, &g.outputs, g.arenaBytes, 0);
}

// The code segment follows the weights at the next 64-byte boundary.
uint64_t codeOffset(const ArtifactGraph &g) { return (g.weightsBytes + 63) / 64 * 64; }

bool writeFile(const std::string &outPath, const uint8_t *fb, size_t fbSize, const ArtifactGraph &g,
               uint64_t *fileBytes, std::string *error) {
  SmallString<256> tmp(outPath);
  std::string tmpName = "." + llvm::sys::path::filename(outPath).str() + ".tmp." + std::to_string(getpid());
  llvm::sys::path::remove_filename(tmp);
  llvm::sys::path::append(tmp, tmpName);
  std::string tmpPath(tmp);
  {
    std::ofstream out(tmpPath, std::ios::binary | std::ios::trunc);
    if (!out) {
      *error = outPath + ": cannot write: " + std::strerror(errno);
      return false;
    }
    out.write(reinterpret_cast<const char *>(fb), std::streamsize(fbSize));
    static const char zeros[64] = {0};
    size_t area = (fbSize + 63) / 64 * 64;
    out.write(zeros, std::streamsize(area - fbSize));
    uint64_t w = 0;
    for (const auto &t : g.tensors) {
      if (t.storage != StorageKind::Constant || !t.used) continue;
      out.write(zeros, std::streamsize(t.offset - w));
      if (t.byteSize) out.write(t.constData, std::streamsize(t.byteSize));
      w = t.offset + t.byteSize;
    }
    out.write(zeros, std::streamsize(g.weightsBytes - w));
    if (!g.code.empty()) {
      out.write(zeros, std::streamsize(codeOffset(g) - g.weightsBytes));
      out.write(g.code.data(), std::streamsize(g.code.size()));
    }
    out.flush();
    if (!out) {
      out.close();
      std::remove(tmpPath.c_str());
      *error = outPath + ": write failed: " + std::strerror(errno);
      return false;
    }
    *fileBytes = area + (g.code.empty() ? g.weightsBytes : codeOffset(g) + g.code.size());
  }
  if (std::rename(tmpPath.c_str(), outPath.c_str()) != 0) {
    std::remove(tmpPath.c_str());
    *error = outPath + ": cannot rename the temporary file into place: " + std::strerror(errno);
    return false;
  }
  return true;
}

// In-place attentions get `kv_capacity`, the positions their caches hold (the bound of the past
// dim), which the runtime checks against the state tensors before any append.
void finishKvState(ArtifactGraph &g, std::vector<std::string> &notes) {
  int caches = 0;
  uint64_t bytes = 0;
  int64_t capacity = 0;
  for (const auto &t : g.tensors)
    if (t.storage == StorageKind::State) {
      ++caches;
      bytes += t.byteSize;
      capacity = t.maxShape.size() == 4 ? t.maxShape[2] : 0;
    }
  for (auto &op : g.ops) {
    if (op.domain != "slm" || op.kind != "attention" || op.inputs.size() < 5) continue;
    bool inPlace = false;
    for (const auto &a : op.attrs) inPlace |= a.name == "kv_in_place" && a.i != 0;
    if (!inPlace) continue;
    ArtifactAttr cap;
    cap.name = "kv_capacity";
    cap.kind = ::slm::kAttrInt;
    cap.i = g.tensors[op.inputs[3]].maxShape[2];
    op.attrs.push_back(cap);
    std::sort(op.attrs.begin(), op.attrs.end(), [](const ArtifactAttr &x, const ArtifactAttr &y) { return x.name < y.name; });
  }
  if (caches)
    notes.push_back("kv cache: " + std::to_string(caches) + " state tensors of " + std::to_string(capacity) +
                    " positions, " + std::to_string(bytes) + " bytes per session, appended in place");
}

// Constant fp32 weights of slm.fused_matmul (untransposed, read by no other op) are stored in
// panels of SLM_GEMM_F32_PANEL columns, [ceil(N / 32), K, 32] zero-padded, with the op's attribute
// `n` = N: the built-in targets' GEMM tiles and GEMV then stream each panel contiguously instead
// of striding over rows of N columns.
void packMatMulWeights(ArtifactGraph &g, std::vector<std::string> &notes) {
  const int64_t w = SLM_GEMM_F32_PANEL;
  std::vector<std::vector<std::pair<size_t, size_t>>> uses(g.tensors.size()); // (op, input slot)
  for (size_t o = 0; o < g.ops.size(); ++o)
    for (size_t i = 0; i < g.ops[o].inputs.size(); ++i)
      if (g.ops[o].inputs[i] >= 0) uses[g.ops[o].inputs[i]].push_back({o, i});
  auto packable = [&](const ArtifactOp &op, size_t slot) {
    if (op.domain != "slm" || op.kind != "fused_matmul" || slot != 1) return false;
    for (const auto &a : op.attrs)
      if ((a.name == "trans_b" && a.i != 0) || a.name == "n") return false;
    return true;
  };
  int64_t packed = 0, padBytes = 0;
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    ArtifactTensor &c = g.tensors[t];
    if (c.storage != StorageKind::Constant || c.dtype != ::slm::kF32 || c.maxShape.size() != 2 || uses[t].empty() ||
        std::count(g.outputs.begin(), g.outputs.end(), int(t)))
      continue;
    bool ok = true;
    for (auto [o, slot] : uses[t]) ok &= packable(g.ops[o], slot);
    if (!ok) continue;
    int64_t k = c.maxShape[0], n = c.maxShape[1], panels = (n + w - 1) / w;
    std::vector<char> data(size_t(panels * k * w) * sizeof(float), 0);
    const float *src = reinterpret_cast<const float *>(c.constData);
    float *dst = reinterpret_cast<float *>(data.data());
    for (int64_t p = 0; p < panels; ++p)
      for (int64_t r = 0; r < k; ++r)
        for (int64_t j = 0; j < w && p * w + j < n; ++j) dst[(p * k + r) * w + j] = src[r * n + p * w + j];
    padBytes += int64_t(data.size()) - int64_t(c.byteSize);
    c.ownedData = std::move(data);
    c.constData = c.ownedData.data();
    c.byteSize = c.ownedData.size();
    c.maxShape = {panels, k, w};
    c.dimNames.assign(3, "");
    for (auto [o, slot] : uses[t]) {
      ArtifactAttr attr;
      attr.name = "n";
      attr.kind = ::slm::kAttrInt;
      attr.i = n;
      auto &attrs = g.ops[o].attrs;
      attrs.push_back(attr);
      std::sort(attrs.begin(), attrs.end(), [](const ArtifactAttr &x, const ArtifactAttr &y) { return x.name < y.name; });
    }
    ++packed;
  }
  if (packed)
    notes.push_back("packed " + std::to_string(packed) + " fp32 matmul weights into " + std::to_string(w) +
                    "-column panels (" + std::to_string(padBytes) + " bytes of padding)");
}

} // namespace

bool writeArtifact(ModuleOp module, const EmitOptions &options, const std::string &outPath, EmitStats *stats,
                   std::string *error) {
  auto func = module.lookupSymbol<func::FuncOp>("main");
  if (!func) {
    *error = "the module has no @main function";
    return false;
  }
  ArtifactGraph g;
  GraphBuilder builder(g, error);
  if (!builder.build(func)) return false;
  if (!inferBounds(g, options.dimBounds, stats->notes, error)) return false;
  finishKvState(g, stats->notes);
  if (options.target->builtin) packMatMulWeights(g, stats->notes);
  if (!partitionForTarget(g, *options.target, stats->notes, error)) return false;
  std::string cSource;
  if (options.generateKernels &&
      !generateCodeSegment(g, {options.target->triple, options.target->cpu, options.llvmFeatures}, stats->notes, error,
                           options.emitCPath.empty() ? nullptr : &cSource))
    return false;
  if (!options.emitCPath.empty()) {
    std::ofstream c(options.emitCPath, std::ios::binary | std::ios::trunc);
    c << cSource;
    if (!c.flush()) {
      *error = options.emitCPath + ": cannot write the C kernels: " + std::strerror(errno);
      stats->outputFailed = true;
      return false;
    }
    stats->notes.push_back("wrote the generated kernels as C to " + options.emitCPath +
                           (cSource.empty() ? " (empty: no op has a generated kernel)" : ""));
  }
  planMemory(g);

  flatbuffers::FlatBufferBuilder fbb(1 << 16);
  auto graph = writeGraph(fbb, g);
  const TargetInfo &t = *options.target;
  std::vector<flatbuffers::Offset<flatbuffers::String>> features;
  for (const auto &f : t.features) features.push_back(fbb.CreateString(f));
  std::vector<flatbuffers::Offset<flatbuffers::String>> excluded;
  for (const auto &f : options.excludedFeatures) excluded.push_back(fbb.CreateString(f));
  auto target = ::slm::fb::CreateTargetDirect(fbb, t.name.c_str(), t.triple.c_str(), t.cpu.c_str(), &features,
                                            g.code.empty() ? 0u : SLM_KERNEL_ABI_VERSION,
                                            t.builtin ? nullptr : t.host.c_str(), excluded.empty() ? nullptr : &excluded);
  std::vector<flatbuffers::Offset<::slm::fb::Segment>> segments;
  if (g.weightsBytes) segments.push_back(::slm::fb::CreateSegmentDirect(fbb, "weights", 0, g.weightsBytes));
  if (!g.code.empty()) segments.push_back(::slm::fb::CreateSegmentDirect(fbb, "code", codeOffset(g), g.code.size()));
  auto meta = options.metadata;
  std::sort(meta.begin(), meta.end());
  std::vector<flatbuffers::Offset<::slm::fb::KeyValue>> kvs;
  for (auto &[k, v] : meta) kvs.push_back(::slm::fb::CreateKeyValueDirect(fbb, k.c_str(), v.c_str()));
  std::string producer = "slmc " SLMC_VERSION;
  auto model = ::slm::fb::CreateModelDirect(fbb, kFormatVersion, producer.c_str(), target, graph, &segments, &kvs);
  fbb.FinishSizePrefixed(model, ::slm::fb::ModelIdentifier());

  stats->ops = g.ops.size();
  stats->tensors = g.tensors.size();
  stats->weightsBytes = g.weightsBytes;
  stats->arenaBytes = g.arenaBytes;
  stats->codeBytes = g.code.size();
  if (writeFile(outPath, fbb.GetBufferPointer(), fbb.GetSize(), g, &stats->fileBytes, error)) return true;
  stats->outputFailed = true;
  return false;
}

} // namespace slmc
