// LLVM-dialect kernels -> LLVM IR -> O3 + object code for the target (TargetMachine) -> freestanding shared object (ld.lld).
#include "codegen/KernelGen.h"

#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/Analysis/TargetLibraryInfo.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Triple.h"

#include <cstdlib>
#include <memory>

namespace slmc {
namespace {

std::unique_ptr<llvm::TargetMachine> makeTargetMachine(const CodegenTarget &t, std::string *error) {
  static bool initialized = [] {
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargets();
    llvm::InitializeAllTargetMCs();
    llvm::InitializeAllAsmPrinters();
    return true;
  }();
  (void)initialized;
  std::string err;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(t.triple, err);
  if (!target) {
    *error = "no LLVM backend for '" + t.triple + "': " + err;
    return nullptr;
  }
  llvm::TargetOptions options;
  // Position-independent: the runtime dlopens the object at an address of the loader's choosing.
  return std::unique_ptr<llvm::TargetMachine>(target->createTargetMachine(
      t.triple, t.cpu, t.features, options, llvm::Reloc::PIC_, std::nullopt, llvm::CodeGenOptLevel::Aggressive));
}

void optimizeO3(llvm::Module &m, llvm::TargetMachine *tm) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = true;
  tuning.SLPVectorization = true;
  llvm::PassBuilder pb(tm, tuning);
  // No library calls may appear (no memset/memcpy idioms, no libm): the object imports nothing.
  llvm::TargetLibraryInfoImpl tlii(llvm::Triple(m.getTargetTriple()));
  tlii.disableAllFunctions();
  fam.registerPass([&] { return llvm::TargetLibraryAnalysis(tlii); });
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3).run(m, mam);
}

std::string lldPath() {
  if (const char *env = std::getenv("SLMC_LLD")) return env;
  for (const char *name : {"ld.lld-19", "ld.lld"})
    if (auto p = llvm::sys::findProgramByName(name)) return *p;
  for (const char *p : {"/usr/lib/llvm-19/bin/ld.lld", "/usr/bin/ld.lld-19"})
    if (llvm::sys::fs::can_execute(p)) return p;
  return "";
}

// Links `object` into a shared object with nothing undefined (no libc, no libm, no DT_NEEDED).
bool linkSharedObject(llvm::StringRef object, std::string *soBytes, std::string *error) {
  std::string lld = lldPath();
  if (lld.empty()) {
    *error = "ld.lld-19 not found (Debian package lld-19; or set SLMC_LLD)";
    return false;
  }
  llvm::SmallString<128> dir;
  if (auto ec = llvm::sys::fs::createUniqueDirectory("slmc-code", dir)) {
    *error = "cannot create a temporary folder: " + ec.message();
    return false;
  }
  std::string obj = (dir + "/kernels.o").str(), so = (dir + "/kernels.so").str(), log = (dir + "/lld.log").str();
  bool ok = false;
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(obj, ec);
    if (!ec) os << object;
    if (ec) *error = "cannot write " + obj + ": " + ec.message();
    ok = !ec;
  }
  if (ok) {
    llvm::SmallVector<llvm::StringRef> args = {lld, "-shared", "--no-undefined", "-z", "noexecstack", "--build-id=none",
                                               "--hash-style=gnu", "-soname", "slm_kernels.so", "-o", so, obj};
    std::optional<llvm::StringRef> redirects[] = {std::nullopt, llvm::StringRef(log), llvm::StringRef(log)};
    std::string msg;
    int rc = llvm::sys::ExecuteAndWait(lld, args, std::nullopt, redirects, 0, 0, &msg);
    auto buf = llvm::MemoryBuffer::getFile(rc == 0 ? so : log);
    if (rc != 0) {
      *error = "linking the code object with " + lld + " failed" + (msg.empty() ? "" : ": " + msg) +
               (buf ? ": " + (*buf)->getBuffer().str() : "");
    } else if (!buf) {
      *error = "cannot read " + so;
    } else {
      *soBytes = (*buf)->getBuffer().str();
      ok = true;
    }
    if (rc != 0) ok = false;
  }
  for (const std::string &f : {obj, so, log}) llvm::sys::fs::remove(f);
  llvm::sys::fs::remove(dir);
  return ok;
}

} // namespace

bool compileKernelsToSharedObject(mlir::ModuleOp module, const CodegenTarget &target, std::string *soBytes,
                                  std::string *error) {
  mlir::DialectRegistry registry;
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  module->getContext()->appendDialectRegistry(registry);
  llvm::LLVMContext llvmCtx;
  std::unique_ptr<llvm::Module> m = mlir::translateModuleToLLVMIR(module, llvmCtx, "slm_kernels");
  if (!m) {
    *error = "translating the kernels to LLVM IR failed";
    return false;
  }
  std::unique_ptr<llvm::TargetMachine> tm = makeTargetMachine(target, error);
  if (!tm) return false;
  m->setTargetTriple(target.triple);
  m->setDataLayout(tm->createDataLayout());
  for (llvm::Function &f : *m) {
    if (f.isDeclaration()) continue;
    f.addFnAttr("target-cpu", target.cpu);
    if (!target.features.empty()) f.addFnAttr("target-features", target.features);
    f.addFnAttr(llvm::Attribute::NoUnwind);
    // Only the ABI entry points are exported; the memref-expanded bodies inline into them.
    if (!f.getName().starts_with("_mlir_ciface_")) f.setLinkage(llvm::GlobalValue::InternalLinkage);
  }
  optimizeO3(*m, tm.get());
  llvm::SmallVector<char, 0> object;
  llvm::raw_svector_ostream os(object);
  llvm::legacy::PassManager codegen;
  if (tm->addPassesToEmitFile(codegen, os, nullptr, llvm::CodeGenFileType::ObjectFile)) {
    *error = "LLVM cannot emit object code for " + target.triple;
    return false;
  }
  codegen.run(*m);
  return linkSharedObject(llvm::StringRef(object.data(), object.size()), soBytes, error);
}

} // namespace slmc
