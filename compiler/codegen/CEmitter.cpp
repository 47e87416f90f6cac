// --emit=c: the generated kernels as C source through MLIR's EmitC (scf + arith + emitc → C), for vendor toolchains.
//
// MLIR 19's memref-to-emitc takes only static shapes and it has no math-to-emitc, so the kernels are
// built here directly on pointers: an emitc.func per kernel with row/column loops (scf.for on i64),
// element access through emitc.subscript, sqrtf/expf through emitc.call_opaque, the arithmetic in
// arith; scf-to-emitc and arith-to-emitc lower the rest and translateToCpp prints it. Each kernel
// gets the same ABI entry point as the code segment (`_mlir_ciface_<symbol>`, slm_kernel_abi.h)
// so a vendor build can stand in for the generated object.
#include "KernelGen.h"
#include "elementwise_steps.h"

#include "mlir/Conversion/ArithToEmitC/ArithToEmitCPass.h"
#include "mlir/Conversion/SCFToEmitC/SCFToEmitC.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/Cpp/CppEmitter.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>

namespace slmc {
namespace {

using namespace mlir;

struct KernelBuilder {
  OpBuilder &b;
  Location loc;
  Type f32, i64, ptr;

  Value i64c(int64_t v) { return b.create<arith::ConstantOp>(loc, b.getI64IntegerAttr(v)); }
  Value f32c(float v) { return b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(v)); }
  Value at(Value p, Value index) { return b.create<emitc::SubscriptOp>(loc, f32, p, ValueRange{index}); }
  Value load(Value p, Value index) { return at(p, index); }
  void store(Value p, Value index, Value v) { b.create<emitc::AssignOp>(loc, at(p, index), v); }
  Value call(StringRef fn, Value x) { return b.create<emitc::CallOpaqueOp>(loc, TypeRange{f32}, fn, ValueRange{x}).getResult(0); }

  // sum over c in [0, cols) of f(c), in a loop-carried f32.
  Value reduce(Value cols, Value init, llvm::function_ref<Value(Value c, Value acc)> step) {
    auto loop = b.create<scf::ForOp>(loc, i64c(0), cols, i64c(1), ValueRange{init},
                                     [&](OpBuilder &, Location, Value c, ValueRange acc) {
                                       b.create<scf::YieldOp>(loc, step(c, acc[0]));
                                     });
    return loop.getResult(0);
  }
  void each(Value cols, llvm::function_ref<void(Value c)> body) {
    b.create<scf::ForOp>(loc, i64c(0), cols, i64c(1), ValueRange{}, [&](OpBuilder &, Location, Value c, ValueRange) {
      body(c);
      b.create<scf::YieldOp>(loc);
    });
  }
};

// One elementwise step on v in C: libm for the math (the C compiler chooses its own expansion).
Value emitStep(KernelBuilder &k, const ElementwiseStep &s, Value v, Value c) {
  OpBuilder &b = k.b;
  Location loc = k.loc;
  Value lhs = s.reversed ? c : v, rhs = s.reversed ? v : c;
  switch (s.kind) {
  case ::slm::kEwRelu: {
    Value pos = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, v, k.f32c(0));
    return b.create<arith::SelectOp>(loc, pos, v, k.f32c(0));
  }
  case ::slm::kEwSigmoid: {
    Value e = k.call("expf", b.create<emitc::UnaryMinusOp>(loc, k.f32, v));
    return b.create<arith::DivFOp>(loc, k.f32c(1), b.create<arith::AddFOp>(loc, k.f32c(1), e));
  }
  case ::slm::kEwTanh: return k.call("tanhf", v);
  case ::slm::kEwExp: return k.call("expf", v);
  case ::slm::kEwNeg: return b.create<emitc::UnaryMinusOp>(loc, k.f32, v);
  case ::slm::kEwAbs: return k.call("fabsf", v);
  case ::slm::kEwSqrt: return k.call("sqrtf", v);
  case ::slm::kEwCos: return k.call("cosf", v);
  case ::slm::kEwSin: return k.call("sinf", v);
  case ::slm::kEwErf: return k.call("erff", v);
  case ::slm::kEwAdd: return b.create<arith::AddFOp>(loc, lhs, rhs);
  case ::slm::kEwSub: return b.create<arith::SubFOp>(loc, lhs, rhs);
  case ::slm::kEwMul: return b.create<arith::MulFOp>(loc, lhs, rhs);
  default: return b.create<arith::DivFOp>(loc, lhs, rhs);
  }
}

// void <symbol>_rows(float *y, const float *x, const float *p, const float *q, int64_t rows,
//                    int64_t cols, int64_t y_stride, int64_t x_stride)
void buildCKernel(ModuleOp module, const KernelSpec &spec) {
  MLIRContext *ctx = module.getContext();
  OpBuilder b(ctx);
  b.setInsertionPointToEnd(module.getBody());
  Location loc = b.getUnknownLoc();
  Type f32 = b.getF32Type(), i64 = b.getI64Type(), ptr = emitc::PointerType::get(f32);
  auto type = b.getFunctionType({ptr, ptr, ptr, ptr, i64, i64, i64, i64}, {});
  auto fn = b.create<emitc::FuncOp>(loc, spec.symbol + "_rows", type);
  Block *entry = fn.addEntryBlock();
  b.setInsertionPointToStart(entry);
  KernelBuilder k{b, loc, f32, i64, ptr};
  Value y = entry->getArgument(0), x = entry->getArgument(1), p = entry->getArgument(2), q = entry->getArgument(3);
  Value rows = entry->getArgument(4), cols = entry->getArgument(5), ys = entry->getArgument(6), xs = entry->getArgument(7);
  k.each(rows, [&](Value r) {
    Value xo = b.create<arith::MulIOp>(loc, r, xs), yo = b.create<arith::MulIOp>(loc, r, ys);
    auto xi = [&](Value c) { return b.create<arith::AddIOp>(loc, xo, c).getResult(); };
    auto yi = [&](Value c) { return b.create<arith::AddIOp>(loc, yo, c).getResult(); };
    if (spec.kind == "elementwise") {
      k.each(cols, [&](Value c) {
        Value v = k.load(x, xi(c));
        for (const ElementwiseStep &s : spec.steps) {
          Value operand;
          if (s.arg == -1) operand = k.f32c(s.scalar);
          else if (s.arg == 1) operand = k.load(p, c);
          else if (s.arg == 2) operand = k.load(q, c);
          v = emitStep(k, s, v, operand);
        }
        k.store(y, yi(c), v);
      });
      return;
    }
    Value n = b.create<emitc::CastOp>(loc, f32, cols);
    if (spec.kind == "softmax") {
      Value first = k.load(x, xi(k.i64c(0)));
      Value mx = k.reduce(cols, first, [&](Value c, Value acc) {
        Value v = k.load(x, xi(c));
        Value gt = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, v, acc);
        return b.create<arith::SelectOp>(loc, gt, v, acc).getResult();
      });
      Value sum = k.reduce(cols, k.f32c(0), [&](Value c, Value acc) {
        Value e = k.call("expf", b.create<arith::SubFOp>(loc, k.load(x, xi(c)), mx));
        k.store(y, yi(c), e);
        return b.create<arith::AddFOp>(loc, acc, e).getResult();
      });
      Value inv = b.create<arith::DivFOp>(loc, k.f32c(1), sum);
      k.each(cols, [&](Value c) { k.store(y, yi(c), b.create<arith::MulFOp>(loc, k.load(y, yi(c)), inv)); });
      return;
    }
    Value mean = k.f32c(0);
    if (spec.kind == "layer_norm") {
      Value s = k.reduce(cols, k.f32c(0), [&](Value c, Value acc) { return b.create<arith::AddFOp>(loc, acc, k.load(x, xi(c))).getResult(); });
      mean = b.create<arith::DivFOp>(loc, s, n);
    }
    Value ss = k.reduce(cols, k.f32c(0), [&](Value c, Value acc) {
      Value d = b.create<arith::SubFOp>(loc, k.load(x, xi(c)), mean);
      return b.create<arith::AddFOp>(loc, acc, b.create<arith::MulFOp>(loc, d, d)).getResult();
    });
    Value var = b.create<arith::AddFOp>(loc, b.create<arith::DivFOp>(loc, ss, n), k.f32c(spec.epsilon));
    Value inv = b.create<arith::DivFOp>(loc, k.f32c(1), k.call("sqrtf", var));
    k.each(cols, [&](Value c) {
      Value v = b.create<arith::MulFOp>(loc, b.create<arith::SubFOp>(loc, k.load(x, xi(c)), mean), inv);
      v = b.create<arith::MulFOp>(loc, v, k.load(p, c));
      if (spec.kind == "layer_norm" && spec.hasBias) v = b.create<arith::AddFOp>(loc, v, k.load(q, c));
      k.store(y, yi(c), v);
    });
  });
  b.create<emitc::ReturnOp>(loc, Value());
}

// The steps as nested calls, innermost first: "Mul(Add(x, p), 0.75)" (p, q: the column vectors).
std::string describeSteps(const KernelSpec &spec) {
  std::string e = "x";
  for (const ElementwiseStep &s : spec.steps) {
    if (!::slm::ew_is_binary(s.kind)) {
      e = std::string(::slm::ew_step_name(s.kind)) + "(" + e + ")";
      continue;
    }
    char c[32];
    if (s.arg == -1) snprintf(c, sizeof c, "%.9g", double(s.scalar));
    else snprintf(c, sizeof c, "%s", s.arg == 1 ? "p" : "q");
    e = std::string(::slm::ew_step_name(s.kind)) + "(" + (s.reversed ? std::string(c) + ", " + e : e + ", " + c) + ")";
  }
  return e;
}

} // namespace

bool emitKernelsAsC(const std::vector<KernelSpec> &specs, std::string *source, std::string *error) {
  MLIRContext ctx;
  ctx.loadDialect<emitc::EmitCDialect, arith::ArithDialect, scf::SCFDialect>();
  OwningOpRef<ModuleOp> module = ModuleOp::create(UnknownLoc::get(&ctx));
  for (const KernelSpec &s : specs) buildCKernel(*module, s);
  PassManager pm(&ctx);
  pm.addPass(createSCFToEmitC());
  pm.addPass(createConvertArithToEmitC());
  if (failed(pm.run(*module))) {
    *error = "lowering the kernels to EmitC failed";
    return false;
  }
  std::string body;
  llvm::raw_string_ostream os(body);
  if (failed(emitc::translateToCpp(*module, os))) {
    *error = "printing the EmitC kernels as C failed";
    return false;
  }
  std::string out =
      "/* Generated by slmc --emit=c: the artifact's generated kernels as portable C (MLIR EmitC).\n"
      " * Build with any C99 compiler (-O2 -lm); each _mlir_ciface_<name> entry point has the ABI of\n"
      " * runtime/schema/slm_kernel_abi.h (row-wise: y[r] = kernel(x[r], p, q) for every row). */\n"
      "#include <math.h>\n#include <stdbool.h>\n#include <stddef.h>\n#include <stdint.h>\n\n"
      "#ifndef SLM_KERNEL_ABI_H_\n"
      "typedef struct slm_kabi_view2d_f32 { float *allocated; float *aligned; int64_t offset; int64_t sizes[2]; "
      "int64_t strides[2]; } slm_kabi_view2d_f32_t;\n"
      "typedef struct slm_kabi_view1d_f32 { float *allocated; float *aligned; int64_t offset; int64_t sizes[1]; "
      "int64_t strides[1]; } slm_kabi_view1d_f32_t;\n"
      "#endif\n\n";
  out += body;
  out += "\n";
  for (const KernelSpec &s : specs) {
    if (s.kind == "elementwise") out += "/* " + s.symbol + ": y = " + describeSteps(s) + " */\n";
    out += "void _mlir_ciface_" + s.symbol + "(slm_kabi_view2d_f32_t *y, slm_kabi_view2d_f32_t *x, "
           "slm_kabi_view1d_f32_t *p, slm_kabi_view1d_f32_t *q) {\n  " + s.symbol +
           "_rows(y->aligned + y->offset, x->aligned + x->offset, p->aligned + p->offset, q->aligned + q->offset,\n"
           "      x->sizes[0], x->sizes[1], y->strides[0], x->strides[0]);\n}\n";
  }
  *source = std::move(out);
  return true;
}

} // namespace slmc
