// Build-time generator: writes ODS for the slm ops that mirror ONNX ops, from libonnx's schema registry.
//
// One slm op per ONNX op that has a reference kernel. The op is the union of the
// op's versions: operands by position (optional where some version lacks them),
// attributes by name (all optional; a name that clashes with an operand gets an
// `_attr` suffix), element types the union of every version's constraints. The
// importer keeps the node's opset in `slm.opset` so kernels can pick semantics.
#include "ref_kernel.h"

#include <onnx/defs/schema.h>

#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

std::string mlirElementType(const std::string &onnxType) {
  static const std::map<std::string, std::string> kMap = {
      {"tensor(float)", "F32"},   {"tensor(double)", "F64"}, {"tensor(float16)", "F16"},
      {"tensor(bfloat16)", "BF16"}, {"tensor(int8)", "I8"},  {"tensor(int16)", "I16"},
      {"tensor(int32)", "I32"},   {"tensor(int64)", "I64"},  {"tensor(uint8)", "UI8"},
      {"tensor(uint16)", "UI16"}, {"tensor(uint32)", "UI32"}, {"tensor(uint64)", "UI64"},
      {"tensor(bool)", "I1"}};
  auto it = kMap.find(onnxType);
  return it == kMap.end() ? "" : it->second;
}

struct Param {
  std::string name;
  std::set<std::string> types;
  bool optional = false;
  bool variadic = false;
  int versions = 0; // how many versions have this position
};

struct AttrInfo {
  std::string odsType;
};

std::string attrOdsType(onnx::AttributeProto::AttributeType t) {
  switch (t) {
  case onnx::AttributeProto::INT: return "I64Attr";
  case onnx::AttributeProto::FLOAT: return "F32Attr";
  case onnx::AttributeProto::STRING: return "StrAttr";
  case onnx::AttributeProto::INTS: return "I64ArrayAttr";
  case onnx::AttributeProto::FLOATS: return "F32ArrayAttr";
  case onnx::AttributeProto::STRINGS: return "StrArrayAttr";
  case onnx::AttributeProto::TENSOR: return "ElementsAttr";
  default: return "";
  }
}

// Collects the allowed element types of a formal parameter.
std::set<std::string> paramTypes(const onnx::OpSchema &s, const onnx::OpSchema::FormalParameter &p) {
  std::set<std::string> out;
  for (const auto &c : s.typeConstraintParams())
    if (c.type_param_str == p.GetTypeStr())
      for (const auto &t : c.allowed_type_strs)
        if (auto m = mlirElementType(t); !m.empty()) out.insert(m);
  if (auto m = mlirElementType(p.GetTypeStr()); !m.empty()) out.insert(m);
  return out;
}

void mergeParams(const onnx::OpSchema &s, const std::vector<onnx::OpSchema::FormalParameter> &formal,
                 std::vector<Param> &params) {
  for (size_t i = 0; i < formal.size(); ++i) {
    if (params.size() <= i) params.emplace_back();
    Param &p = params[i];
    const auto &f = formal[i];
    if (p.name.empty() || formal.size() >= params.size()) p.name = f.GetName();
    auto types = paramTypes(s, f);
    p.types.insert(types.begin(), types.end());
    p.optional |= f.GetOption() == onnx::OpSchema::Optional;
    p.variadic |= f.GetOption() == onnx::OpSchema::Variadic;
    ++p.versions;
  }
}

std::string typeConstraint(const Param &p) {
  std::string t;
  if (p.types.empty()) {
    t = "AnyTensor";
  } else {
    t = "TensorOf<[";
    bool first = true;
    for (const auto &e : p.types) {
      t += (first ? "" : ", ") + e;
      first = false;
    }
    t += "]>";
  }
  if (p.variadic) return "Variadic<" + t + ">";
  if (p.optional) return "Optional<" + t + ">";
  return t;
}

std::string identifier(const std::string &name) {
  std::string out;
  for (char c : name) out += (isalnum((unsigned char)c) || c == '_') ? c : '_';
  if (out.empty() || isdigit((unsigned char)out[0])) out = "p" + out;
  return out;
}

// The C++ getter ODS derives from a name ("keep_dims" → "KeepDims"); names must not collide on it.
std::string getter(const std::string &name) {
  std::string out;
  bool upper = true;
  for (char c : name) {
    if (c == '_') { upper = true; continue; }
    out += upper ? char(toupper((unsigned char)c)) : c;
    upper = false;
  }
  return out;
}

char kindChar(const Param &p) { return p.variadic ? 'v' : p.optional ? 'o' : 's'; }

bool writeOp(std::ostream &os, std::ostream &info, const std::string &op,
             const std::vector<const onnx::OpSchema *> &versions) {
  std::vector<Param> ins, outs;
  std::map<std::string, AttrInfo> attrs;
  int minInputs = 1 << 30, minOutputs = 1 << 30;
  for (const auto *s : versions) {
    mergeParams(*s, s->inputs(), ins);
    mergeParams(*s, s->outputs(), outs);
    minInputs = std::min<int>(minInputs, s->inputs().size());
    minOutputs = std::min<int>(minOutputs, s->outputs().size());
    for (const auto &[name, a] : s->attributes()) {
      std::string t = attrOdsType(a.type);
      if (t.empty()) {
        std::cerr << "slm-onnx-odsgen: skipping " << op << ": attribute '" << name << "' has an unsupported kind\n";
        return false;
      }
      attrs[name] = {t};
    }
  }
  // Positions some version lacks become optional (e.g. Slice's starts in opset 1).
  for (size_t i = 0; i < ins.size(); ++i)
    if (int(i) >= minInputs && !ins[i].variadic) ins[i].optional = true;
  for (size_t i = 0; i < outs.size(); ++i)
    if (int(i) >= minOutputs && !outs[i].variadic) outs[i].optional = true;
  int variadicIns = 0, variadicOuts = 0;
  for (auto &p : ins) variadicIns += p.optional || p.variadic;
  for (auto &p : outs) variadicOuts += p.optional || p.variadic;

  std::set<std::string> used;
  static const std::set<std::string> kReserved = {"operands", "results", "type", "name", "attributes",
                                                  "location", "context", "properties", "default", "operation"};
  os << "def Slm_Onnx" << op << "Op : Slm_Op<\"" << op << "\", [";
  std::vector<std::string> traits;
  if (variadicIns > 1) traits.push_back("AttrSizedOperandSegments");
  if (variadicOuts > 1) traits.push_back("AttrSizedResultSegments");
  for (size_t i = 0; i < traits.size(); ++i) os << (i ? ", " : "") << traits[i];
  os << "]> {\n  let summary = \"ONNX " << op << " (opsets " << versions.front()->SinceVersion() << "+)\";\n";
  os << "  let arguments = (ins";
  bool first = true;
  for (auto &p : ins) {
    std::string n = identifier(p.name);
    while (used.count(getter(n))) n += "_";
    used.insert(getter(n));
    os << (first ? "\n    " : ",\n    ") << typeConstraint(p) << ":$" << n;
    first = false;
  }
  for (auto &[name, a] : attrs) {
    std::string n = identifier(name);
    if (used.count(getter(n)) || kReserved.count(n)) n += "_attr";
    used.insert(getter(n));
    os << (first ? "\n    " : ",\n    ") << "OptionalAttr<" << a.odsType << ">:$" << n;
    first = false;
  }
  os << ");\n  let results = (outs";
  first = true;
  for (auto &p : outs) {
    std::string n = identifier(p.name);
    while (used.count(getter(n))) n += "_";
    used.insert(getter(n));
    os << (first ? "\n    " : ",\n    ") << typeConstraint(p) << ":$" << n;
    first = false;
  }
  os << ");\n}\n\n";
  info << "SLM_ONNX_OP(\"" << op << "\", \"";
  for (auto &p : ins) info << kindChar(p);
  info << "\", \"";
  for (auto &p : outs) info << kindChar(p);
  info << "\")\n";
  return true;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 5 || std::string(argv[1]) != "-o" || std::string(argv[3]) != "-info") {
    std::cerr << "usage: slm-onnx-odsgen -o OUT.td -info OUT.inc\n";
    return 2;
  }
  std::map<std::string, std::vector<const onnx::OpSchema *>> byName;
  static const auto all = onnx::OpSchemaRegistry::get_all_schemas_with_history();
  for (const auto &s : all)
    if (s.domain().empty()) byName[s.Name()].push_back(&s);
  std::ofstream os(argv[2]), info(argv[4]);
  info << "// Generated by slm-onnx-odsgen: SLM_ONNX_OP(op, operand kinds, result kinds), one char per\n"
       << "// ODS operand/result: s single, o optional, v variadic. Do not edit.\n";
  os << "// Generated by slm-onnx-odsgen from libonnx's schema registry. Do not edit.\n\n"
     << "#ifndef SLM_ONNX_OPS\n#define SLM_ONNX_OPS\n\ninclude \"SlmBase.td\"\n\n";
  size_t count = 0;
  const slm::OpKernel *kernels = slm::ref_kernels(&count);
  int written = 0;
  for (size_t i = 0; i < count; ++i) {
    auto it = byName.find(kernels[i].op);
    if (it == byName.end()) continue; // an slm-only kernel
    auto versions = it->second;
    std::sort(versions.begin(), versions.end(),
              [](const onnx::OpSchema *a, const onnx::OpSchema *b) { return a->SinceVersion() < b->SinceVersion(); });
    written += writeOp(os, info, it->first, versions);
  }
  os << "#endif // SLM_ONNX_OPS\n";
  if (!os || !info) {
    std::cerr << "slm-onnx-odsgen: cannot write " << argv[2] << "\n";
    return 1;
  }
  std::cerr << "slm-onnx-odsgen: " << written << " ops\n";
  return 0;
}
