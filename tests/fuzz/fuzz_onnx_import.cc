// libFuzzer target: bytes → ONNX importer (protobuf parse, ONNX checker, shape inference, slm ops) → verify.
#include "import/OnnxImporter.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>

namespace {

// The model's folder: holds one external-data file so fuzzed external references can resolve.
std::string model_path;

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  char dir[] = "/tmp/slmc-fuzz-onnx-XXXXXX";
  if (!mkdtemp(dir)) {
    perror("fuzz_onnx_import: mkdtemp");
    abort();
  }
  std::ofstream(std::string(dir) + "/weights.bin", std::ios::binary) << std::string(256, '\x01');
  model_path = std::string(dir) + "/model.onnx";
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (model_path.empty()) LLVMFuzzerInitialize(nullptr, nullptr); // replay driver without libFuzzer
  mlir::MLIRContext ctx(mlir::MLIRContext::Threading::DISABLED);
  ctx.printOpOnDiagnostic(false);
  slmc::ImportResult r = slmc::importOnnxBuffer(ctx, llvm::StringRef(reinterpret_cast<const char *>(data), size),
                                                model_path);
  if (r.error.empty() != bool(r.module)) abort(); // exactly one of a module or a message
  if (r.module && mlir::failed(mlir::verify(*r.module))) abort(); // the importer promises a verified module
  return 0;
}
