// Builds generated kernels as linalg on strided memrefs and lowers them to the LLVM dialect (math expanded to polynomials).
#include "codegen/KernelGen.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/Passes.h"

#include "elementwise_steps.h"

#include <limits>

namespace slmc {
namespace {

using namespace mlir;

constexpr int64_t kDyn = ShapedType::kDynamic;

// The ABI's views: row-major with unit column stride; rows may be any stride (the executor
// hands each thread a slice of rows by moving the offset).
MemRefType view2dType(MLIRContext *ctx) {
  return MemRefType::get({kDyn, kDyn}, Float32Type::get(ctx), StridedLayoutAttr::get(ctx, kDyn, {kDyn, 1}));
}
MemRefType view1dType(MLIRContext *ctx) {
  return MemRefType::get({kDyn}, Float32Type::get(ctx), StridedLayoutAttr::get(ctx, kDyn, {1}));
}

// Reassociation lets LLVM vectorize the reductions; contraction lets it use FMA where the target has it.
constexpr arith::FastMathFlags kReduceFlags = arith::FastMathFlags::reassoc | arith::FastMathFlags::contract;

struct KernelBuilder {
  OpBuilder &b;
  Location loc;
  MLIRContext *ctx;

  Value row(Value view2d, Value r, Value cols) {
    return b.create<memref::SubViewOp>(loc, view1dType(ctx), view2d, ArrayRef<OpFoldResult>{r, b.getIndexAttr(0)},
                                       ArrayRef<OpFoldResult>{b.getIndexAttr(1), cols},
                                       ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
  }

  // acc = reduce(combine, init, map(x)) over a row, into a 0-d stack scalar.
  Value reduce(Value x, float init, function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
    auto scalarType = MemRefType::get({}, b.getF32Type());
    Value acc = b.create<memref::AllocaOp>(loc, scalarType);
    Value initV = b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(init));
    b.create<linalg::FillOp>(loc, ValueRange{initV}, ValueRange{acc});
    AffineMap id = b.getDimIdentityMap();
    AffineMap toScalar = AffineMap::get(1, 0, {}, ctx);
    b.create<linalg::GenericOp>(loc, ValueRange{x}, ValueRange{acc}, ArrayRef<AffineMap>{id, toScalar},
                                ArrayRef<utils::IteratorType>{utils::IteratorType::reduction},
                                [&](OpBuilder &nb, Location l, ValueRange args) {
                                  nb.create<linalg::YieldOp>(l, combine(nb, l, args[0], args[1]));
                                });
    return b.create<memref::LoadOp>(loc, acc, ValueRange{});
  }

  // out[i] = fn(ins[0][i], ins[1][i], ...) over a row.
  void map(ValueRange ins, Value out, function_ref<Value(OpBuilder &, Location, ValueRange)> fn) {
    SmallVector<AffineMap> maps(ins.size() + 1, b.getDimIdentityMap());
    b.create<linalg::GenericOp>(loc, ins, ValueRange{out}, maps,
                                ArrayRef<utils::IteratorType>{utils::IteratorType::parallel},
                                [&](OpBuilder &nb, Location l, ValueRange args) {
                                  nb.create<linalg::YieldOp>(l, fn(nb, l, args.drop_back()));
                                });
  }

  Value f32(float v) { return b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(v)); }
};

// y = x / sqrt(mean(x^2) + eps) * scale, per row.
void buildRmsNormRow(KernelBuilder &k, Value xr, Value yr, Value scale, Value cols, float eps) {
  OpBuilder &b = k.b;
  Value ss = k.reduce(xr, 0.0f, [](OpBuilder &nb, Location l, Value x, Value acc) {
    Value sq = nb.create<arith::MulFOp>(l, x, x, kReduceFlags);
    return nb.create<arith::AddFOp>(l, acc, sq, kReduceFlags).getResult();
  });
  Value n = b.create<arith::SIToFPOp>(k.loc, b.getF32Type(),
                                      b.create<arith::IndexCastOp>(k.loc, b.getI64Type(), cols));
  Value mean = b.create<arith::DivFOp>(k.loc, ss, n);
  Value root = b.create<math::SqrtOp>(k.loc, b.create<arith::AddFOp>(k.loc, mean, k.f32(eps)));
  Value inv = b.create<arith::DivFOp>(k.loc, k.f32(1.0f), root);
  k.map(ValueRange{xr, scale}, yr, [&](OpBuilder &nb, Location l, ValueRange a) {
    Value t = nb.create<arith::MulFOp>(l, a[0], inv);
    return nb.create<arith::MulFOp>(l, t, a[1]).getResult();
  });
}

// y = (x - mean) / sqrt(var + eps) * scale (+ bias), per row; var is the biased variance, as ONNX's.
void buildLayerNormRow(KernelBuilder &k, Value xr, Value yr, Value scale, Value bias, Value cols, float eps,
                       bool hasBias) {
  OpBuilder &b = k.b;
  Value n = b.create<arith::SIToFPOp>(k.loc, b.getF32Type(),
                                      b.create<arith::IndexCastOp>(k.loc, b.getI64Type(), cols));
  Value sum = k.reduce(xr, 0.0f, [](OpBuilder &nb, Location l, Value x, Value acc) {
    return nb.create<arith::AddFOp>(l, acc, x, kReduceFlags).getResult();
  });
  Value mean = b.create<arith::DivFOp>(k.loc, sum, n);
  Value ss = k.reduce(xr, 0.0f, [&](OpBuilder &nb, Location l, Value x, Value acc) {
    Value d = nb.create<arith::SubFOp>(l, x, mean);
    Value sq = nb.create<arith::MulFOp>(l, d, d, kReduceFlags);
    return nb.create<arith::AddFOp>(l, acc, sq, kReduceFlags).getResult();
  });
  Value var = b.create<arith::DivFOp>(k.loc, ss, n);
  Value root = b.create<math::SqrtOp>(k.loc, b.create<arith::AddFOp>(k.loc, var, k.f32(eps)));
  Value inv = b.create<arith::DivFOp>(k.loc, k.f32(1.0f), root);
  SmallVector<Value> ins = {xr, scale};
  if (hasBias) ins.push_back(bias);
  k.map(ins, yr, [&](OpBuilder &nb, Location l, ValueRange a) {
    Value t = nb.create<arith::MulFOp>(l, nb.create<arith::SubFOp>(l, a[0], mean), inv);
    Value s = nb.create<arith::MulFOp>(l, t, a[1]);
    return hasBias ? nb.create<arith::AddFOp>(l, s, a[2]).getResult() : s;
  });
}

// y = exp(x - max(x)) / sum(exp(x - max(x))), per row.
void buildSoftmaxRow(KernelBuilder &k, Value xr, Value yr) {
  Value mx = k.reduce(xr, -std::numeric_limits<float>::infinity(), [](OpBuilder &nb, Location l, Value x, Value acc) {
    return nb.create<arith::MaxNumFOp>(l, acc, x).getResult();
  });
  k.map(ValueRange{xr}, yr, [&](OpBuilder &nb, Location l, ValueRange a) {
    return nb.create<math::ExpOp>(l, nb.create<arith::SubFOp>(l, a[0], mx)).getResult();
  });
  Value sum = k.reduce(yr, 0.0f, [](OpBuilder &nb, Location l, Value x, Value acc) {
    return nb.create<arith::AddFOp>(l, acc, x, kReduceFlags).getResult();
  });
  Value inv = k.b.create<arith::DivFOp>(k.loc, k.f32(1.0f), sum);
  k.map(ValueRange{yr}, yr, [&](OpBuilder &nb, Location l, ValueRange a) {
    return nb.create<arith::MulFOp>(l, a[0], inv).getResult();
  });
}

// One elementwise step on v: c is the step's constant (p[col], q[col] or the baked scalar).
Value applyStep(OpBuilder &b, Location l, const ElementwiseStep &s, Value v, Value c) {
  auto f32c = [&](float f) { return b.create<arith::ConstantOp>(l, b.getF32FloatAttr(f)).getResult(); };
  Value lhs = s.reversed ? c : v, rhs = s.reversed ? v : c;
  switch (s.kind) {
  case ::slm::kEwRelu: {
    Value pos = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, v, f32c(0));
    return b.create<arith::SelectOp>(l, pos, v, f32c(0));
  }
  case ::slm::kEwSigmoid: {
    Value e = b.create<math::ExpOp>(l, b.create<arith::NegFOp>(l, v));
    return b.create<arith::DivFOp>(l, f32c(1), b.create<arith::AddFOp>(l, f32c(1), e));
  }
  case ::slm::kEwTanh: return b.create<math::TanhOp>(l, v);
  case ::slm::kEwExp: return b.create<math::ExpOp>(l, v);
  case ::slm::kEwNeg: return b.create<arith::NegFOp>(l, v);
  case ::slm::kEwAbs: return b.create<math::AbsFOp>(l, v);
  case ::slm::kEwSqrt: return b.create<math::SqrtOp>(l, v);
  case ::slm::kEwCos: return b.create<math::CosOp>(l, v);
  case ::slm::kEwSin: return b.create<math::SinOp>(l, v);
  case ::slm::kEwErf: return b.create<math::ErfOp>(l, v);
  case ::slm::kEwAdd: return b.create<arith::AddFOp>(l, lhs, rhs);
  case ::slm::kEwSub: return b.create<arith::SubFOp>(l, lhs, rhs);
  case ::slm::kEwMul: return b.create<arith::MulFOp>(l, lhs, rhs);
  default: return b.create<arith::DivFOp>(l, lhs, rhs);
  }
}

// y = steps(x), per row; the vector constants come from p and q, scalars are compiled in.
void buildElementwiseRow(KernelBuilder &k, Value xr, Value yr, Value p, Value q, const KernelSpec &spec) {
  bool useP = false, useQ = false;
  for (const auto &s : spec.steps) useP |= s.arg == 1, useQ |= s.arg == 2;
  SmallVector<Value> ins = {xr};
  if (useP) ins.push_back(p);
  if (useQ) ins.push_back(q);
  k.map(ins, yr, [&](OpBuilder &nb, Location l, ValueRange a) {
    Value v = a[0];
    for (const auto &s : spec.steps) {
      Value c;
      if (s.arg == -1) c = nb.create<arith::ConstantOp>(l, nb.getF32FloatAttr(s.scalar));
      else if (s.arg == 1) c = a[1];
      else if (s.arg == 2) c = a[useP ? 2 : 1];
      v = applyStep(nb, l, s, v, c);
    }
    return v;
  });
}

// math.fma -> mulf + addf allowed to contract: targets with FMA still fuse them, and targets without
// (baseline x86-64) get no call to libm's fmaf, which a code object cannot import.
struct ContractableFma : OpRewritePattern<math::FmaOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::FmaOp op, PatternRewriter &rw) const override {
    Value mul = rw.create<arith::MulFOp>(op.getLoc(), op.getA(), op.getB(), arith::FastMathFlags::contract);
    rw.replaceOpWithNewOp<arith::AddFOp>(op, mul, op.getC(), arith::FastMathFlags::contract);
    return success();
  }
};

// math.floor -> integer round trip (|x| < 2^23; larger floats are integers already, NaN passes
// through): baseline x86-64 has no SSE4.1 roundss, and LLVM would call libm's floorf there.
struct IntegerFloor : OpRewritePattern<math::FloorOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::FloorOp op, PatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Type t = op.getType();
    if (!t.isF32()) return failure();
    Value x = op.getOperand();
    Type i32 = rw.getI32Type();
    Value big = rw.create<arith::ConstantOp>(loc, rw.getF32FloatAttr(8388608.0f));
    Value one = rw.create<arith::ConstantOp>(loc, rw.getF32FloatAttr(1.0f));
    Value small = rw.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, rw.create<math::AbsFOp>(loc, x), big);
    Value trunc = rw.create<arith::SIToFPOp>(loc, t, rw.create<arith::FPToSIOp>(loc, i32, x));
    Value above = rw.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, trunc, x);
    Value floor = rw.create<arith::SelectOp>(loc, above, rw.create<arith::SubFOp>(loc, trunc, one), trunc);
    rw.replaceOpWithNewOp<arith::SelectOp>(op, small, floor, x);
    return success();
  }
};

// Expands math ops (exp, tanh, ...) into polynomials so the code object calls no libm.
struct ExpandMathPass : PassWrapper<ExpandMathPass, OperationPass<>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(ExpandMathPass)
  StringRef getArgument() const final { return "slm-expand-math"; }
  StringRef getDescription() const final {
    return "Expand math ops (exp, tanh, erf, ...) into polynomial approximations (no libm calls)";
  }
  void getDependentDialects(DialectRegistry &r) const override {
    r.insert<arith::ArithDialect, math::MathDialect, vector::VectorDialect, scf::SCFDialect>();
  }
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns);
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns)))) return signalPassFailure();
    RewritePatternSet fma(&getContext());
    fma.add<ContractableFma, IntegerFloor>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(fma)))) signalPassFailure();
  }
};

void addLoweringPasses(OpPassManager &pm) {
  pm.addPass(createConvertLinalgToLoopsPass());
  pm.addPass(std::make_unique<ExpandMathPass>());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertSCFToCFPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void loadDialects(MLIRContext *ctx) {
  ctx->loadDialect<func::FuncDialect, linalg::LinalgDialect, memref::MemRefDialect, arith::ArithDialect,
                   math::MathDialect, scf::SCFDialect, affine::AffineDialect, cf::ControlFlowDialect,
                   LLVM::LLVMDialect, index::IndexDialect, vector::VectorDialect>();
}

// Test pass: outlines a kernel for each slm.rms_norm / slm.Softmax of the module's functions into a
// nested `module @slm_kernels` (the code segment's module); the graph ops stay as they are.
struct BuildKernelsPass : PassWrapper<BuildKernelsPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(BuildKernelsPass)
  StringRef getArgument() const final { return "slm-build-kernels"; }
  StringRef getDescription() const final {
    return "Outline generated kernels (linalg on memrefs) for rms_norm and last-axis Softmax into module @slm_kernels";
  }
  void getDependentDialects(DialectRegistry &r) const override {
    r.insert<func::FuncDialect, linalg::LinalgDialect, memref::MemRefDialect, arith::ArithDialect, math::MathDialect,
             scf::SCFDialect>();
  }
  void runOnOperation() override {
    ModuleOp top = getOperation();
    std::vector<KernelSpec> specs;
    top.walk([&](Operation *op) {
      StringRef name = op->getName().getStringRef();
      if (name == "slm.rms_norm") {
        auto eps = op->getAttrOfType<FloatAttr>("epsilon");
        specs.push_back({"rms_norm", "slm_gen_" + std::to_string(specs.size()) + "_rms_norm",
                         eps ? float(eps.getValueAsDouble()) : 0.0f});
      } else if (name == "slm.LayerNormalization" && op->getNumOperands() >= 2) {
        auto eps = op->getAttrOfType<FloatAttr>("epsilon");
        specs.push_back({"layer_norm", "slm_gen_" + std::to_string(specs.size()) + "_layer_norm",
                         eps ? float(eps.getValueAsDouble()) : 1e-5f, op->getNumOperands() > 2});
      } else if (name == "slm.elementwise" && op->getNumOperands() <= 3) {
        KernelSpec spec{"elementwise", "slm_gen_" + std::to_string(specs.size()) + "_elementwise", 0};
        auto steps = op->getAttrOfType<ArrayAttr>("steps"), args = op->getAttrOfType<ArrayAttr>("args");
        auto scalars = op->getAttrOfType<ArrayAttr>("scalars"), rev = op->getAttrOfType<ArrayAttr>("reversed");
        for (size_t i = 0; i < steps.size(); ++i)
          spec.steps.push_back({::slm::ew_step_kind(cast<StringAttr>(steps[i]).str().c_str()),
                                int(cast<IntegerAttr>(args[i]).getInt()),
                                float(cast<FloatAttr>(scalars[i]).getValueAsDouble()),
                                cast<IntegerAttr>(rev[i]).getInt() != 0});
        specs.push_back(spec);
      } else if (name == "slm.Softmax") {
        auto axis = op->getAttrOfType<IntegerAttr>("axis");
        auto type = dyn_cast<RankedTensorType>(op->getOperand(0).getType());
        int64_t a = axis ? axis.getInt() : -1;
        if (type && (a == -1 || a == type.getRank() - 1))
          specs.push_back({"softmax", "slm_gen_" + std::to_string(specs.size()) + "_softmax", 0});
      }
    });
    OpBuilder b(top.getBodyRegion());
    b.setInsertionPointToEnd(top.getBody());
    auto kernels = b.create<ModuleOp>(top.getLoc(), StringRef("slm_kernels"));
    kernels->setAttr("slm.kernels", b.getUnitAttr());
    for (const auto &s : specs) buildKernel(kernels, s);
  }
};

// Test pass: lowers every nested module marked slm.kernels to the LLVM dialect.
struct LowerKernelsPass : PassWrapper<LowerKernelsPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(LowerKernelsPass)
  StringRef getArgument() const final { return "slm-lower-kernels"; }
  StringRef getDescription() const final {
    return "Lower module @slm_kernels: linalg -> loops -> LLVM dialect, math expanded to polynomials";
  }
  void getDependentDialects(DialectRegistry &r) const override {
    r.insert<LLVM::LLVMDialect, cf::ControlFlowDialect, affine::AffineDialect, index::IndexDialect,
             vector::VectorDialect>();
  }
  void runOnOperation() override {
    SmallVector<ModuleOp> mods;
    getOperation().walk([&](ModuleOp m) {
      if (m->hasAttr("slm.kernels")) mods.push_back(m);
    });
    for (ModuleOp m : mods) {
      OpPassManager pm(ModuleOp::getOperationName());
      addLoweringPasses(pm);
      if (failed(runPipeline(pm, m))) return signalPassFailure();
    }
  }
};

} // namespace

bool elementwiseStepGenerated(int kind) { return kind >= 0 && kind < ::slm::kEwKindCount; }

bool hasGeneratedKernel(const std::string &domain, const std::string &kind) {
  return (domain == "slm" && (kind == "rms_norm" || kind == "elementwise")) ||
         (domain.empty() && (kind == "Softmax" || kind == "LayerNormalization"));
}

void buildKernel(ModuleOp module, const KernelSpec &spec) {
  MLIRContext *ctx = module.getContext();
  loadDialects(ctx);
  OpBuilder b(ctx);
  b.setInsertionPointToEnd(module.getBody());
  Location loc = module.getLoc();
  auto v2 = view2dType(ctx), v1 = view1dType(ctx);
  auto fn = b.create<func::FuncOp>(loc, spec.symbol, b.getFunctionType({v2, v2, v1, v1}, {}));
  fn->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  Block *entry = fn.addEntryBlock();
  b.setInsertionPointToStart(entry);
  Value y = entry->getArgument(0), x = entry->getArgument(1), p = entry->getArgument(2), q = entry->getArgument(3);
  Value c0 = b.create<arith::ConstantIndexOp>(loc, 0), c1 = b.create<arith::ConstantIndexOp>(loc, 1);
  Value rows = b.create<memref::DimOp>(loc, x, 0), cols = b.create<memref::DimOp>(loc, x, 1);
  auto loop = b.create<scf::ForOp>(loc, c0, rows, c1);
  b.setInsertionPointToStart(loop.getBody());
  KernelBuilder k{b, loc, ctx};
  Value r = loop.getInductionVar();
  Value xr = k.row(x, r, cols), yr = k.row(y, r, cols);
  if (spec.kind == "rms_norm")
    buildRmsNormRow(k, xr, yr, p, cols, spec.epsilon);
  else if (spec.kind == "elementwise")
    buildElementwiseRow(k, xr, yr, p, q, spec);
  else if (spec.kind == "layer_norm")
    buildLayerNormRow(k, xr, yr, p, q, cols, spec.epsilon, spec.hasBias);
  else
    buildSoftmaxRow(k, xr, yr);
  b.setInsertionPointToEnd(entry);
  b.create<func::ReturnOp>(loc);
}

LogicalResult lowerKernelsToLLVM(ModuleOp module) {
  loadDialects(module.getContext());
  PassManager pm(module.getContext(), ModuleOp::getOperationName());
  addLoweringPasses(pm);
  return pm.run(module);
}

void registerCodegenPasses() {
  PassRegistration<BuildKernelsPass>();
  PassRegistration<LowerKernelsPass>();
  PassRegistration<ExpandMathPass>();
}

} // namespace slmc
