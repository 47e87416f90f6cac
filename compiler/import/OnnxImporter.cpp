// ONNX protobuf → slm dialect: parse, check, infer shapes, then map initializers and nodes to ops.
#include "import/OnnxImporter.h"

#include "OnnxOpInfo.h"
#include "SlmDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <fstream>
#include <optional>
#include <limits>

using namespace mlir;

namespace slmc {
namespace {

// Carries the first error; every helper returns failure() after setting it.
struct ImportError {
  std::string message;
  LogicalResult fail(const std::string &msg) {
    if (message.empty()) message = msg;
    return failure();
  }
};

Type elementType(MLIRContext *ctx, int32_t dt) {
  Builder b(ctx);
  switch (dt) {
  case onnx::TensorProto::FLOAT: return b.getF32Type();
  case onnx::TensorProto::DOUBLE: return b.getF64Type();
  case onnx::TensorProto::FLOAT16: return b.getF16Type();
  case onnx::TensorProto::BFLOAT16: return b.getBF16Type();
  case onnx::TensorProto::INT8: return b.getIntegerType(8);
  case onnx::TensorProto::INT16: return b.getIntegerType(16);
  case onnx::TensorProto::INT32: return b.getIntegerType(32);
  case onnx::TensorProto::INT64: return b.getIntegerType(64);
  case onnx::TensorProto::UINT8: return b.getIntegerType(8, /*isSigned=*/false);
  case onnx::TensorProto::UINT16: return b.getIntegerType(16, false);
  case onnx::TensorProto::UINT32: return b.getIntegerType(32, false);
  case onnx::TensorProto::UINT64: return b.getIntegerType(64, false);
  case onnx::TensorProto::BOOL: return b.getI1Type();
  default: return {};
  }
}

const char *onnxTypeName(int32_t dt) {
  return onnx::TensorProto_DataType_IsValid(dt)
             ? onnx::TensorProto_DataType_Name(onnx::TensorProto_DataType(dt)).c_str()
             : "INVALID";
}

size_t elementBytes(int32_t dt) {
  switch (dt) {
  case onnx::TensorProto::DOUBLE: case onnx::TensorProto::INT64: case onnx::TensorProto::UINT64: return 8;
  case onnx::TensorProto::FLOAT: case onnx::TensorProto::INT32: case onnx::TensorProto::UINT32: return 4;
  case onnx::TensorProto::FLOAT16: case onnx::TensorProto::BFLOAT16: case onnx::TensorProto::INT16:
  case onnx::TensorProto::UINT16: return 2;
  case onnx::TensorProto::INT8: case onnx::TensorProto::UINT8: case onnx::TensorProto::BOOL: return 1;
  default: return 0;
  }
}

constexpr int kMaxNodes = 1000000;

// Bytes of a ranked type whose dims are all static; false when the count overflows int64.
bool staticTypeBytes(TensorType t, uint64_t &bytes) {
  auto ranked = dyn_cast<RankedTensorType>(t);
  if (!ranked) return true;
  unsigned bits = ranked.getElementType().isIntOrFloat() ? ranked.getElementType().getIntOrFloatBitWidth() : 8;
  bytes = std::max(1u, bits / 8);
  for (int64_t d : ranked.getShape())
    if (!ShapedType::isDynamic(d) && (__builtin_mul_overflow(bytes, uint64_t(d), &bytes) || bytes > uint64_t(std::numeric_limits<int64_t>::max())))
      return false;
  return true;
}

class Importer {
public:
  Importer(MLIRContext &ctx, std::string path, std::optional<StringRef> bytes = std::nullopt)
      : ctx(ctx), b(&ctx), path(std::move(path)), bytes(bytes) {
    modelDir = llvm::sys::path::parent_path(this->path).str();
    if (modelDir.empty()) modelDir = ".";
  }

  ImportResult run();

private:
  LogicalResult parse();
  LogicalResult checkDomains();
  LogicalResult checkGraph();
  LogicalResult buildFunction();
  LogicalResult importInitializer(const onnx::TensorProto &t);
  LogicalResult importNode(const onnx::NodeProto &node, size_t index);
  LogicalResult importConstantNode(const onnx::NodeProto &node);
  LogicalResult readTensorBytes(const onnx::TensorProto &t, std::vector<char> &out);
  LogicalResult readExternal(const onnx::TensorProto &t, std::vector<char> &out);
  LogicalResult checkExternalLocation(const onnx::TensorProto &t);
  LogicalResult checkConvTransposeRanks();
  FailureOr<ElementsAttr> tensorAttr(const onnx::TensorProto &t, const std::string &what, bool resource);
  FailureOr<Attribute> convertAttr(const onnx::AttributeProto &a, const std::string &where);
  FailureOr<TensorType> valueType(const std::string &name, const std::string &where);
  TensorType typeFromProto(const onnx::TypeProto &tp, SmallVectorImpl<Attribute> *dimNames);
  std::string nodeDesc(const onnx::NodeProto &node, size_t index);

  MLIRContext &ctx;
  OpBuilder b;
  std::string path, modelDir;
  std::optional<StringRef> bytes; // the model in memory; read from `path` when absent
  onnx::ModelProto model;
  int opset = 0;
  ImportError err;
  OwningOpRef<ModuleOp> module;
  llvm::StringMap<Value> values;
  llvm::StringMap<const onnx::TypeProto *> types;
  int unnamedDims = 0;
};

LogicalResult Importer::parse() {
  std::unique_ptr<llvm::MemoryBuffer> file;
  StringRef data;
  if (bytes) {
    data = *bytes;
  } else {
    auto buf = llvm::MemoryBuffer::getFile(path, /*IsText=*/false, /*RequiresNullTerminator=*/false);
    if (!buf) return err.fail(path + ": cannot read: " + buf.getError().message());
    file = std::move(*buf);
    data = file->getBuffer();
  }
  if (data.size() > size_t(std::numeric_limits<int>::max()))
    return err.fail(path + ": the protobuf is over 2 GiB; keep large weights in external data files");
  if (!model.ParseFromArray(data.data(), int(data.size())))
    return err.fail(path + ": not a valid ONNX model (protobuf parsing failed: truncated, not an .onnx file, or "
                           "messages nested deeper than protobuf's limit of 100)");
  if (!model.has_graph() || model.ir_version() <= 0)
    return err.fail(path + ": not a valid ONNX model (no graph or no ir_version)");
  // Far beyond any real model (LMs have ~1e4 nodes); refused before the checker and the IR,
  // whose memory and time grow with it.
  if (model.graph().node_size() > kMaxNodes || model.graph().initializer_size() > kMaxNodes)
    return err.fail(path + ": the graph has " + std::to_string(model.graph().node_size()) + " nodes and " +
                    std::to_string(model.graph().initializer_size()) + " initializers; slmc accepts at most " +
                    std::to_string(kMaxNodes) + " of each");
  for (const auto &o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") opset = int(o.version());
  return success();
}

// ONNX's own structural checks (names defined before use, attribute kinds, tensor data).
LogicalResult Importer::checkGraph() {
  try {
    onnx::checker::CheckerContext cc;
    cc.set_ir_version(int(model.ir_version()));
    std::unordered_map<std::string, int> opsets;
    for (const auto &o : model.opset_import()) opsets[o.domain()] = int(o.version());
    cc.set_opset_imports(opsets);
    cc.set_model_dir(modelDir);
    onnx::checker::LexicalScopeContext lex;
    onnx::checker::check_graph(model.graph(), cc, lex);
  } catch (const std::exception &e) {
    return err.fail(path + ": invalid ONNX model: " + e.what());
  }
  return success();
}

std::string Importer::nodeDesc(const onnx::NodeProto &node, size_t index) {
  std::string domain = node.domain().empty() ? "ai.onnx" : node.domain();
  int version = 0;
  for (const auto &o : model.opset_import())
    if (o.domain() == node.domain() || (node.domain().empty() && o.domain() == "ai.onnx")) version = int(o.version());
  return path + ": node '" + (node.name().empty() ? "#" + std::to_string(index) : node.name()) + "' (op " +
         node.op_type() + ", domain " + domain + ", opset " + std::to_string(version) + ")";
}

LogicalResult Importer::checkDomains() {
  const auto &g = model.graph();
  for (int i = 0; i < g.node_size(); ++i) {
    const auto &n = g.node(i);
    if (!n.domain().empty() && n.domain() != "ai.onnx")
      return err.fail(nodeDesc(n, i) + ": domain '" + n.domain() + "' is not supported (only the default ONNX domain is)");
    if (n.op_type() == "Constant") continue;
    if (!slm::lookupOnnxOpInfo(n.op_type())) {
      bool known = onnx::OpSchemaRegistry::Schema(n.op_type(), opset, "") != nullptr;
      return err.fail(nodeDesc(n, i) + ": op '" + n.op_type() + "' is not supported" +
                      (known ? "" : " (and is not an ONNX op of this opset)"));
    }
  }
  // After the node checks, so a model of another domain only (e.g. ai.onnx.preview.training)
  // is refused naming that domain.
  if (opset == 0) return err.fail(path + ": the model imports no default-domain (ai.onnx) opset");
  return success();
}

TensorType Importer::typeFromProto(const onnx::TypeProto &tp, SmallVectorImpl<Attribute> *dimNames) {
  if (!tp.has_tensor_type()) return {};
  Type et = elementType(&ctx, tp.tensor_type().elem_type());
  if (!et) return {};
  if (!tp.tensor_type().has_shape()) return UnrankedTensorType::get(et);
  SmallVector<int64_t> dims;
  for (const auto &d : tp.tensor_type().shape().dim()) {
    bool known = d.has_dim_value() && d.dim_value() >= 0;
    dims.push_back(known ? d.dim_value() : ShapedType::kDynamic);
    if (dimNames) {
      std::string name = known ? "" : d.has_dim_param() && !d.dim_param().empty() ? d.dim_param()
                                                                                  : "dim" + std::to_string(unnamedDims++);
      dimNames->push_back(b.getStringAttr(name));
    }
  }
  return RankedTensorType::get(dims, et);
}

FailureOr<TensorType> Importer::valueType(const std::string &name, const std::string &where) {
  auto it = types.find(name);
  if (it == types.end()) return err.fail(where + ": the type of '" + name + "' is unknown (shape inference failed)");
  TensorType t = typeFromProto(*it->second, nullptr);
  uint64_t bytes = 0;
  if (t && !staticTypeBytes(t, bytes))
    return err.fail(where + ": tensor '" + name + "' has a shape whose size overflows 64 bits");
  if (!t) {
    int32_t et = it->second->has_tensor_type() ? it->second->tensor_type().elem_type() : 0;
    return err.fail(where + ": tensor '" + name + "' has unsupported type " +
                    (it->second->has_tensor_type() ? std::string(onnxTypeName(et)) : std::string("(not a tensor)")));
  }
  return t;
}

// libonnx's conv/pool shape inference indexes its per-axis attributes by the weight's spatial
// rank without checking them against the input's (found by fuzzing: a rank-2 ConvTranspose input
// and a rank-3 ConvInteger input with a rank-4 weight segfault in it). Ranks declared in the model
// are checked here, before ONNX sees them; ranks only inference can tell are not (a known gap).
LogicalResult Importer::checkConvTransposeRanks() {
  const auto &g = model.graph();
  llvm::StringMap<int> ranks;
  auto note = [&](const onnx::ValueInfoProto &vi) {
    if (vi.type().has_tensor_type() && vi.type().tensor_type().has_shape())
      ranks[vi.name()] = vi.type().tensor_type().shape().dim_size();
  };
  for (const auto &vi : g.input()) note(vi);
  for (const auto &vi : g.value_info()) note(vi);
  for (const auto &t : g.initializer()) ranks[t.name()] = t.dims_size();
  for (int i = 0; i < g.node_size(); ++i) {
    const auto &n = g.node(i);
    // The conv/pool family: libonnx's convPoolShapeInference has the same unchecked indexing
    // (a ConvInteger with a rank-3 input and a rank-4 weight segfaults in it).
    static const llvm::StringMap<int> weightInput = {{"ConvTranspose", 1}, {"Conv", 1}, {"ConvInteger", 1},
                                                     {"QLinearConv", 3}, {"MaxPool", -1}, {"AveragePool", -1},
                                                     {"LpPool", -1}};
    auto kind = weightInput.find(n.op_type());
    if (kind == weightInput.end() || n.input_size() < 1 || n.input_size() <= kind->second) continue;
    auto x = ranks.find(n.input(0));
    auto w = kind->second >= 0 ? ranks.find(n.input(kind->second)) : ranks.end();
    int spatial = x != ranks.end() ? x->second - 2 : w != ranks.end() ? w->second - 2 : -1;
    if ((x != ranks.end() && x->second < 3) || (w != ranks.end() && w->second < 3) ||
        (x != ranks.end() && w != ranks.end() && x->second != w->second))
      return err.fail(nodeDesc(n, i) + ": input and weight need the same rank >= 3 (N, C, spatial...), got " +
                      (x != ranks.end() ? std::to_string(x->second) : "?") + " and " +
                      (w != ranks.end() ? std::to_string(w->second) : "?"));
    for (const auto &a : n.attribute()) {
      size_t want = a.name() == "pads" ? 2 * size_t(spatial) : size_t(spatial);
      bool perAxis = a.name() == "kernel_shape" || a.name() == "strides" || a.name() == "dilations" ||
                     a.name() == "output_padding" || a.name() == "pads";
      if (perAxis && spatial >= 0 && size_t(a.ints_size()) != want)
        return err.fail(nodeDesc(n, i) + ": attribute '" + a.name() + "' has " + std::to_string(a.ints_size()) +
                        " values for " + std::to_string(spatial) + " spatial axes");
    }
  }
  return success();
}

// Confines external data to the model's folder: no absolute paths, no "..". Run before ONNX's
// checker too, whose message for such paths only says the file is missing.
LogicalResult Importer::checkExternalLocation(const onnx::TensorProto &t) {
  if (t.data_location() != onnx::TensorProto::EXTERNAL) return success();
  std::string location;
  for (const auto &kv : t.external_data())
    if (kv.key() == "location") location = kv.value();
  std::string what = path + ": initializer '" + t.name() + "'";
  if (location.empty()) return err.fail(what + ": external data without a location");
  if (llvm::sys::path::is_absolute(location))
    return err.fail(what + ": external data path '" + location + "' is absolute; it must stay inside the model's folder");
  for (auto it = llvm::sys::path::begin(location), e = llvm::sys::path::end(location); it != e; ++it)
    if (*it == "..")
      return err.fail(what + ": external data path '" + location + "' leaves the model's folder");
  return success();
}

// A decimal byte count from external_data; false for anything else (sign, junk, overflow).
bool parseByteCount(const std::string &text, uint64_t &out) {
  if (text.empty() || text.size() > 20) return false;
  out = 0;
  for (char c : text)
    if (c < '0' || c > '9' || __builtin_mul_overflow(out, 10u, &out) || __builtin_add_overflow(out, uint64_t(c - '0'), &out))
      return false;
  return true;
}

LogicalResult Importer::readExternal(const onnx::TensorProto &t, std::vector<char> &out) {
  std::string location;
  uint64_t offset = 0, length = 0;
  bool hasLength = false;
  std::string what = path + ": initializer '" + t.name() + "'";
  for (const auto &kv : t.external_data()) {
    if (kv.key() == "location") location = kv.value();
    if ((kv.key() == "offset" && !parseByteCount(kv.value(), offset)) ||
        (kv.key() == "length" && !parseByteCount(kv.value(), length)))
      return err.fail(what + ": external data " + kv.key() + " '" + kv.value() + "' is not a byte count");
    if (kv.key() == "length") hasLength = true;
  }
  if (failed(checkExternalLocation(t))) return failure();
  SmallString<256> full(modelDir);
  llvm::sys::path::append(full, location);
  SmallString<256> realDir, realFile;
  if (llvm::sys::fs::real_path(full, realFile))
    return err.fail(what + ": external data file '" + std::string(full) + "' is missing or unreadable");
  if (!llvm::sys::fs::real_path(modelDir, realDir) && !StringRef(realFile).starts_with(std::string(realDir) + "/"))
    return err.fail(what + ": external data path '" + location + "' resolves outside the model's folder");
  std::ifstream in(std::string(realFile), std::ios::binary);
  in.seekg(0, std::ios::end);
  uint64_t fileSize = uint64_t(in.tellg());
  if (!hasLength) length = fileSize >= offset ? fileSize - offset : 0;
  if (offset > fileSize || length > fileSize - offset)
    return err.fail(what + ": external data range [" + std::to_string(offset) + ", +" + std::to_string(length) +
                    ") exceeds '" + location + "' (" + std::to_string(fileSize) + " bytes)");
  out.resize(length);
  in.seekg(std::streamoff(offset));
  in.read(out.data(), std::streamsize(length));
  if (!in) return err.fail(what + ": cannot read external data file '" + location + "'");
  return success();
}

template <typename Src, typename Dst> void convertInto(const Src &src, std::vector<char> &out) {
  out.resize(size_t(src.size()) * sizeof(Dst));
  auto *p = reinterpret_cast<Dst *>(out.data());
  for (int i = 0; i < src.size(); ++i) p[i] = Dst(src.Get(i));
}

LogicalResult Importer::readTensorBytes(const onnx::TensorProto &t, std::vector<char> &out) {
  std::string what = path + ": tensor '" + t.name() + "'";
  size_t esize = elementBytes(t.data_type());
  if (!esize) return err.fail(what + ": data type " + onnxTypeName(t.data_type()) + " is not supported");
  uint64_t numel = 1;
  for (int64_t d : t.dims()) {
    if (d < 0 || __builtin_mul_overflow(numel, uint64_t(d), &numel))
      return err.fail(what + ": bad dims");
  }
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    if (failed(readExternal(t, out))) return failure();
  } else if (t.has_raw_data()) {
    out.assign(t.raw_data().begin(), t.raw_data().end());
  } else {
    switch (t.data_type()) {
    case onnx::TensorProto::FLOAT: convertInto<decltype(t.float_data()), float>(t.float_data(), out); break;
    case onnx::TensorProto::DOUBLE: convertInto<decltype(t.double_data()), double>(t.double_data(), out); break;
    case onnx::TensorProto::INT64: convertInto<decltype(t.int64_data()), int64_t>(t.int64_data(), out); break;
    case onnx::TensorProto::UINT64: convertInto<decltype(t.uint64_data()), uint64_t>(t.uint64_data(), out); break;
    case onnx::TensorProto::UINT32: convertInto<decltype(t.uint64_data()), uint32_t>(t.uint64_data(), out); break;
    case onnx::TensorProto::INT32: convertInto<decltype(t.int32_data()), int32_t>(t.int32_data(), out); break;
    case onnx::TensorProto::INT16: convertInto<decltype(t.int32_data()), int16_t>(t.int32_data(), out); break;
    case onnx::TensorProto::UINT16: case onnx::TensorProto::FLOAT16: case onnx::TensorProto::BFLOAT16:
      convertInto<decltype(t.int32_data()), uint16_t>(t.int32_data(), out); break;
    case onnx::TensorProto::INT8: convertInto<decltype(t.int32_data()), int8_t>(t.int32_data(), out); break;
    case onnx::TensorProto::UINT8: case onnx::TensorProto::BOOL:
      convertInto<decltype(t.int32_data()), uint8_t>(t.int32_data(), out); break;
    default: return err.fail(what + ": data type " + onnxTypeName(t.data_type()) + " is not supported");
    }
  }
  if (out.size() != numel * esize)
    return err.fail(what + ": holds " + std::to_string(out.size()) + " bytes but its shape needs " +
                    std::to_string(numel * esize));
  return success();
}

FailureOr<ElementsAttr> Importer::tensorAttr(const onnx::TensorProto &t, const std::string &what, bool resource) {
  Type et = elementType(&ctx, t.data_type());
  if (!et) return err.fail(what + ": data type " + std::string(onnxTypeName(t.data_type())) + " is not supported");
  std::vector<char> bytes;
  if (failed(readTensorBytes(t, bytes))) return failure();
  SmallVector<int64_t> dims(t.dims().begin(), t.dims().end());
  auto type = RankedTensorType::get(dims, et);
  if (et.isInteger(1)) { // MLIR packs i1; build from bools
    SmallVector<bool> v(bytes.begin(), bytes.end());
    return ElementsAttr(DenseElementsAttr::get(type, ArrayRef<bool>(v)));
  }
  // Large tensors go into a resource blob so the context holds one aligned copy.
  if (resource && bytes.size() >= 1024) {
    auto blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(ArrayRef<char>(bytes), 64);
    std::string key = t.name().empty() ? "tensor" : t.name();
    return ElementsAttr(DenseResourceElementsAttr::get(type, key, std::move(blob)));
  }
  bool splat = false;
  if (!DenseElementsAttr::isValidRawBuffer(type, ArrayRef<char>(bytes), splat))
    return err.fail(what + ": raw data does not match its shape");
  return ElementsAttr(DenseElementsAttr::getFromRawBuffer(type, ArrayRef<char>(bytes)));
}

LogicalResult Importer::importInitializer(const onnx::TensorProto &t) {
  auto attr = tensorAttr(t, path + ": initializer '" + t.name() + "'", /*resource=*/true);
  if (failed(attr)) return failure();
  auto op = b.create<slm::ConstantOp>(NameLoc::get(b.getStringAttr(t.name())), attr->getType(), *attr,
                                      b.getStringAttr(t.name()));
  values[t.name()] = op.getResult();
  return success();
}

FailureOr<Attribute> Importer::convertAttr(const onnx::AttributeProto &a, const std::string &where) {
  switch (a.type()) {
  case onnx::AttributeProto::INT: return Attribute(b.getI64IntegerAttr(a.i()));
  case onnx::AttributeProto::FLOAT: return Attribute(b.getF32FloatAttr(a.f()));
  case onnx::AttributeProto::STRING: return Attribute(b.getStringAttr(a.s()));
  case onnx::AttributeProto::INTS: {
    SmallVector<int64_t> v(a.ints().begin(), a.ints().end());
    return Attribute(b.getI64ArrayAttr(v));
  }
  case onnx::AttributeProto::FLOATS: {
    SmallVector<float> v(a.floats().begin(), a.floats().end());
    return Attribute(b.getF32ArrayAttr(v));
  }
  case onnx::AttributeProto::STRINGS: {
    SmallVector<StringRef> v(a.strings().begin(), a.strings().end());
    return Attribute(b.getStrArrayAttr(v));
  }
  case onnx::AttributeProto::TENSOR: {
    auto t = tensorAttr(a.t(), where + ": attribute '" + a.name() + "'", /*resource=*/false);
    if (failed(t)) return failure();
    return Attribute(*t);
  }
  default:
    return err.fail(where + ": attribute '" + a.name() + "' has kind " +
                    onnx::AttributeProto_AttributeType_Name(a.type()) + ", which is not supported");
  }
}

LogicalResult Importer::importConstantNode(const onnx::NodeProto &node) {
  std::string where = nodeDesc(node, 0);
  if (node.attribute_size() != 1 || node.output_size() != 1)
    return err.fail(where + ": a Constant needs exactly one value attribute and one output");
  const auto &a = node.attribute(0);
  ElementsAttr value;
  Type f32 = b.getF32Type(), i64 = b.getI64Type();
  if (a.name() == "value") {
    auto t = tensorAttr(a.t(), where, /*resource=*/true);
    if (failed(t)) return failure();
    value = *t;
  } else if (a.name() == "value_float") {
    value = DenseElementsAttr::get(RankedTensorType::get({}, f32), a.f());
  } else if (a.name() == "value_floats") {
    SmallVector<float> v(a.floats().begin(), a.floats().end());
    value = DenseElementsAttr::get(RankedTensorType::get({int64_t(v.size())}, f32), ArrayRef<float>(v));
  } else if (a.name() == "value_int") {
    value = DenseElementsAttr::get(RankedTensorType::get({}, i64), int64_t(a.i()));
  } else if (a.name() == "value_ints") {
    SmallVector<int64_t> v(a.ints().begin(), a.ints().end());
    value = DenseElementsAttr::get(RankedTensorType::get({int64_t(v.size())}, i64), ArrayRef<int64_t>(v));
  } else {
    return err.fail(where + ": Constant attribute '" + a.name() + "' is not supported (string and sparse constants)");
  }
  auto op = b.create<slm::ConstantOp>(NameLoc::get(b.getStringAttr(node.output(0))), value.getType(), value,
                                      b.getStringAttr(node.output(0)));
  values[node.output(0)] = op.getResult();
  return success();
}

// Splits the node's positional inputs/outputs over the op's ODS operands/results.
LogicalResult segment(const char *kinds, const google::protobuf::RepeatedPtrField<std::string> &names,
                      SmallVectorImpl<int32_t> &sizes, SmallVectorImpl<std::string> &used, std::string &why) {
  int n = names.size(), pos = 0;
  for (const char *k = kinds; *k; ++k) {
    if (*k == 'v') {
      int count = 0;
      for (; pos < n; ++pos, ++count) used.push_back(names.Get(pos));
      sizes.push_back(count);
    } else if (*k == 'o') {
      bool present = pos < n && !names.Get(pos).empty();
      if (present) used.push_back(names.Get(pos));
      sizes.push_back(present ? 1 : 0);
      ++pos;
    } else {
      if (pos >= n || names.Get(pos).empty()) {
        why = "required position " + std::to_string(pos) + " is missing";
        return failure();
      }
      used.push_back(names.Get(pos++));
      sizes.push_back(1);
    }
  }
  for (; pos < n; ++pos)
    if (!names.Get(pos).empty()) {
      why = "has more positions (" + std::to_string(n) + ") than the op allows";
      return failure();
    }
  return success();
}

LogicalResult Importer::importNode(const onnx::NodeProto &node, size_t index) {
  if (node.op_type() == "Constant") return importConstantNode(node);
  std::string where = nodeDesc(node, index);
  const slm::OnnxOpInfo *info = slm::lookupOnnxOpInfo(node.op_type());
  auto opName = RegisteredOperationName::lookup(("slm." + node.op_type()), &ctx);
  if (!info || !opName) return err.fail(where + ": op '" + node.op_type() + "' is not supported");
  SmallVector<int32_t> inSizes, outSizes;
  SmallVector<std::string> ins, outs;
  std::string why;
  if (failed(segment(info->operandKinds, node.input(), inSizes, ins, why)))
    return err.fail(where + ": input " + why);
  if (failed(segment(info->resultKinds, node.output(), outSizes, outs, why)))
    return err.fail(where + ": output " + why);

  OperationState state(NameLoc::get(b.getStringAttr(node.name().empty() ? node.op_type() : node.name())), *opName);
  for (const auto &name : ins) {
    auto it = values.find(name);
    if (it == values.end()) return err.fail(where + ": input '" + name + "' is not produced by any earlier node");
    state.operands.push_back(it->second);
  }
  for (const auto &name : outs) {
    auto t = valueType(name, where);
    if (failed(t)) return failure();
    state.types.push_back(*t);
  }
  if (std::count(info->operandKinds, info->operandKinds + strlen(info->operandKinds), 's') + 1 <
      int(strlen(info->operandKinds)))
    state.addAttribute("operandSegmentSizes", b.getDenseI32ArrayAttr(inSizes));
  if (std::count(info->resultKinds, info->resultKinds + strlen(info->resultKinds), 's') + 1 <
      int(strlen(info->resultKinds)))
    state.addAttribute("resultSegmentSizes", b.getDenseI32ArrayAttr(outSizes));

  // Attributes given on the node, then the schema's defaults for this opset.
  auto attrNames = opName->getAttributeNames();
  auto odsName = [&](const std::string &n) -> std::string {
    for (auto a : attrNames)
      if (a.getValue() == n) return n;
    for (auto a : attrNames)
      if (a.getValue() == n + "_attr") return n + "_attr";
    return "";
  };
  llvm::StringSet<> seen;
  for (const auto &a : node.attribute()) {
    std::string n = odsName(a.name());
    if (n.empty()) return err.fail(where + ": attribute '" + a.name() + "' is not an attribute of " + node.op_type());
    auto attr = convertAttr(a, where);
    if (failed(attr)) return failure();
    state.addAttribute(n, *attr);
    seen.insert(a.name());
  }
  if (const auto *schema = onnx::OpSchemaRegistry::Schema(node.op_type(), opset, "")) {
    for (const auto &[name, def] : schema->attributes()) {
      if (seen.count(name) || def.default_value.name().empty()) continue; // no default
      std::string n = odsName(name);
      if (n.empty()) continue;
      auto attr = convertAttr(def.default_value, where);
      if (failed(attr)) return failure();
      state.addAttribute(n, *attr);
    }
  }
  state.addAttribute(slm::kOpsetAttr, b.getI64IntegerAttr(opset));
  if (!node.name().empty()) state.addAttribute(slm::kNodeNameAttr, b.getStringAttr(node.name()));
  SmallVector<StringRef> outNames(outs.begin(), outs.end());
  state.addAttribute(slm::kOutputNamesAttr, b.getStrArrayAttr(outNames));
  Operation *op = b.create(state);
  for (size_t i = 0; i < outs.size(); ++i) values[outs[i]] = op->getResult(unsigned(i));
  return success();
}

LogicalResult Importer::buildFunction() {
  const auto &g = model.graph();
  for (const auto &vi : g.input()) types[vi.name()] = &vi.type();
  for (const auto &vi : g.value_info()) types[vi.name()] = &vi.type();
  for (const auto &vi : g.output()) types[vi.name()] = &vi.type();
  llvm::StringSet<> initNames;
  for (const auto &t : g.initializer()) initNames.insert(t.name());

  SmallVector<Type> argTypes, resultTypes;
  SmallVector<Attribute> argAttrs, resultAttrs;
  SmallVector<std::string> argNames;
  for (const auto &vi : g.input()) {
    if (initNames.count(vi.name())) continue; // IR < 4 lists initializers as inputs too
    SmallVector<Attribute> dimNames;
    TensorType t = typeFromProto(vi.type(), &dimNames);
    if (!t || !isa<RankedTensorType>(t))
      return err.fail(path + ": graph input '" + vi.name() + "' has an unsupported or unranked type");
    uint64_t bytes = 0;
    if (!staticTypeBytes(t, bytes))
      return err.fail(path + ": graph input '" + vi.name() + "' has a shape whose size overflows 64 bits");
    argTypes.push_back(t);
    argNames.push_back(vi.name());
    argAttrs.push_back(b.getDictionaryAttr({b.getNamedAttr(kArgNameAttr, b.getStringAttr(vi.name())),
                                            b.getNamedAttr(kArgDimsAttr, b.getArrayAttr(dimNames))}));
  }
  for (const auto &vi : g.output()) {
    auto t = valueType(vi.name(), path + ": graph output");
    if (failed(t)) return failure();
    resultTypes.push_back(*t);
    resultAttrs.push_back(b.getDictionaryAttr({b.getNamedAttr(kArgNameAttr, b.getStringAttr(vi.name()))}));
  }
  module = ModuleOp::create(b.getUnknownLoc());
  b.setInsertionPointToEnd(module->getBody());
  auto func = b.create<func::FuncOp>(FileLineColLoc::get(&ctx, path, 0, 0), "main",
                                     b.getFunctionType(argTypes, resultTypes));
  func.setAllArgAttrs(argAttrs);
  func.setAllResultAttrs(resultAttrs);
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  for (size_t i = 0; i < argNames.size(); ++i) values[argNames[i]] = entry->getArgument(unsigned(i));
  for (const auto &t : g.initializer())
    if (failed(importInitializer(t))) return failure();
  for (int i = 0; i < g.node_size(); ++i)
    if (failed(importNode(g.node(i), size_t(i)))) return failure();
  SmallVector<Value> results;
  for (const auto &vi : g.output()) {
    auto it = values.find(vi.name());
    if (it == values.end()) return err.fail(path + ": graph output '" + vi.name() + "' is not produced by any node");
    results.push_back(it->second);
  }
  b.create<func::ReturnOp>(b.getUnknownLoc(), results);
  return success();
}

ImportResult Importer::run() {
  ImportResult result;
  ctx.loadDialect<slm::SlmDialect, func::FuncDialect>();
  auto checkExternalLocations = [&]() -> LogicalResult {
    for (const auto &t : model.graph().initializer())
      if (failed(checkExternalLocation(t))) return failure();
    return success();
  };
  if (succeeded(parse()) && succeeded(checkDomains()) && succeeded(checkExternalLocations()) &&
      succeeded(checkGraph()) && succeeded(checkConvTransposeRanks())) {
    try {
      onnx::ShapeInferenceOptions opts{/*check_type=*/false, /*error_mode=*/0, /*enable_data_propagation=*/true};
      onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), opts);
    } catch (const std::exception &e) {
      (void)err.fail(path + ": ONNX shape inference failed: " + e.what());
    }
    if (err.message.empty() && succeeded(buildFunction())) {
      std::string diag;
      ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
        llvm::raw_string_ostream os(diag);
        os << d.getLocation() << ": " << d << "\n";
        return success();
      });
      if (failed(verify(*module))) (void)err.fail(path + ": imported IR does not verify:\n" + diag);
    }
  }
  result.error = err.message;
  result.opset = opset;
  result.nodeCount = model.has_graph() ? size_t(model.graph().node_size()) : 0;
  if (result.error.empty()) result.module = std::move(module);
  return result;
}

} // namespace

ImportResult importOnnxFile(MLIRContext &context, const std::string &path) {
  Importer importer(context, path);
  return importer.run();
}

ImportResult importOnnxBuffer(MLIRContext &context, StringRef bytes, const std::string &path) {
  Importer importer(context, path, bytes);
  return importer.run();
}

} // namespace slmc
