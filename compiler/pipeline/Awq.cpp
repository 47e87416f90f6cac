// `--quant-method=awq|gptq`: activation-aware scaling or error-compensating rounding on calibration activations.
#include "pipeline/Awq.h"

#include "pipeline/Calibration.h"

#include "ConstantData.h"
#include "SlmDialect.h"
#include "passes/quant/WeightQuantizer.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>

namespace slmc {
namespace {

using namespace mlir;

constexpr int64_t kMaxRows = 512; // calibration rows per group used in the search

// One scaling group: the producer of the shared activation and the matmuls reading it.
struct Group {
  Operation *producer;               // slm.rms_norm, slm.LayerNormalization or slm.fused_matmul
  SmallVector<slm::FusedMatMulOp> consumers;
  int64_t k = 0;
};

slm::ConstantOp constOf(Value v) { return v ? v.getDefiningOp<slm::ConstantOp>() : nullptr; }

// A consumer whose weight can take row scales: constant f32 [K, N], not transposed, reading the
// activation as `a` only.
bool scalableConsumer(slm::FusedMatMulOp mm, Value act) {
  auto w = constOf(mm.getB());
  auto wt = w ? dyn_cast<RankedTensorType>(w.getType()) : nullptr;
  if (!wt || wt.getRank() != 2 || !wt.getElementType().isF32() || (mm.getTransB() && *mm.getTransB() != 0)) return false;
  return mm.getA() == act && mm.getB() != act && mm.getMul() != act && mm.getResidual() != act;
}

std::vector<Group> findGroups(ModuleOp module) {
  std::vector<Group> groups;
  module.walk([&](Operation *op) {
    Value act;
    if (auto n = dyn_cast<slm::RmsNormOp>(op)) {
      if (constOf(n.getScale())) act = n.getOutput();
    } else if (op->getName().getStringRef() == "slm.LayerNormalization") {
      bool constParams = op->getNumOperands() >= 2 && constOf(op->getOperand(1)) &&
                         (op->getNumOperands() < 3 || !op->getOperand(2) || constOf(op->getOperand(2)));
      if (constParams && op->getNumResults() >= 1) act = op->getResult(0);
    } else if (auto up = dyn_cast<slm::FusedMatMulOp>(op)) {
      // SwiGLU's up projection: (x W_u + b) * gate, no activation, no residual, one consumer.
      bool plain = (!up.getActivation() || up.getActivation()->empty()) && !up.getResidual() && constOf(up.getB()) &&
                   (!up.getTransB() || *up.getTransB() == 0) && (!up.getBias() || constOf(up.getBias()));
      if (plain && up.getOutput().hasOneUse()) act = up.getOutput();
    }
    if (!act || act.use_empty()) return;
    Group g{op, {}, 0};
    for (Operation *user : act.getUsers()) {
      auto mm = dyn_cast<slm::FusedMatMulOp>(user);
      if (!mm || !scalableConsumer(mm, act)) return;
      if (!llvm::is_contained(g.consumers, mm)) g.consumers.push_back(mm);
    }
    auto t = dyn_cast<RankedTensorType>(act.getType());
    if (!t || t.getRank() < 1 || t.isDynamicDim(t.getRank() - 1)) return;
    g.k = t.getDimSize(t.getRank() - 1);
    groups.push_back(g);
  });
  return groups;
}

// ||X (W - W_eff)||^2 over the rows of X [rows, k] for W [k, n].
double outputError(const std::vector<float> &x, int64_t rows, int64_t k, const std::vector<float> &w,
                   const std::vector<float> &weff, int64_t n) {
  std::vector<float> d(w.size());
  for (size_t i = 0; i < w.size(); ++i) d[i] = w[i] - weff[i];
  std::vector<float> y(static_cast<size_t>(n));
  double err = 0;
  for (int64_t r = 0; r < rows; ++r) {
    std::fill(y.begin(), y.end(), 0.0f);
    for (int64_t p = 0; p < k; ++p) {
      float xv = x[size_t(r * k + p)];
      if (xv == 0.0f) continue;
      const float *dr = d.data() + p * n;
      for (int64_t j = 0; j < n; ++j) y[size_t(j)] += xv * dr[j];
    }
    for (float v : y) err += double(v) * v;
  }
  return err;
}

void replaceConstant(OpBuilder &b, slm::ConstantOp c, const std::vector<float> &values, Operation *user, unsigned operand) {
  auto t = cast<RankedTensorType>(c.getType());
  b.setInsertionPoint(user);
  auto fresh = b.create<slm::ConstantOp>(c.getLoc(), t, DenseElementsAttr::get(t, ArrayRef<float>(values)),
                                         c.getNameAttr());
  user->setOperand(operand, fresh);
}

QuantScheme schemeOf(const CompileOptions &o, int64_t k) {
  QuantScheme scheme;
  scheme.bits = o.quantize == "w8" || o.quantize == "w8a8" ? 8 : 4;
  scheme.groupSize = o.groupSize >= 0 ? o.groupSize : scheme.bits == 4 ? 32 : 0;
  scheme.symmetric = !o.asymmetric;
  if (o.quantize == "w8a8" || o.quantize == "w4a8") { // the int8-activation kernels' own groups
    int64_t kp, group;
    a8Geometry(k, scheme.groupSize, &kp, &group);
    scheme.groupSize = kp == k ? group : -1; // -1: K is padded, the groups do not line up
    scheme.symmetric = true;
  }
  return scheme;
}

} // namespace

int applyErrorCompensatingRounding(ModuleOp module, const CompileOptions &o) {
  std::vector<CalibSet> sets;
  if (std::string e = loadCalibration(o.calibrationData, &sets); !e.empty()) {
    llvm::errs() << "slmc: error: " << e << "\n";
    return kExitBadInput;
  }
  // Distinct inputs of fused matmuls with constant [K, N] float weights.
  std::vector<Value> inputs;
  std::vector<SmallVector<slm::FusedMatMulOp>> users;
  module.walk([&](slm::FusedMatMulOp mm) {
    if (!scalableConsumer(mm, mm.getA())) return;
    auto it = std::find(inputs.begin(), inputs.end(), mm.getA());
    if (it == inputs.end()) {
      inputs.push_back(mm.getA());
      users.emplace_back();
      it = inputs.end() - 1;
    }
    users[size_t(it - inputs.begin())].push_back(mm);
  });
  if (inputs.empty()) return kExitOk;
  SmallVector<Operation *> firstUsers;
  for (auto &u : users) firstUsers.push_back(u[0]);
  std::vector<Outputs> runs;
  size_t nOut = 0;
  auto input = [](Operation *mm) { return SmallVector<Value>{mm->getOperand(0)}; };
  if (std::string e = runCapturing(module, o, sets, firstUsers, input, &runs, &nOut); !e.empty()) {
    llvm::errs() << "slmc: error: --calibration-data " << o.calibrationData << ": " << e << "\n";
    return kExitBadInput;
  }
  OpBuilder b(module.getContext());
  int64_t done = 0, skipped = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto t = dyn_cast<RankedTensorType>(inputs[i].getType());
    int64_t k = t && t.getRank() >= 1 ? t.getDimSize(t.getRank() - 1) : ShapedType::kDynamic;
    QuantScheme scheme = schemeOf(o, k);
    if (ShapedType::isDynamic(k) || scheme.groupSize < 0 || !scheme.symmetric) {
      skipped += int64_t(users[i].size());
      continue;
    }
    std::vector<double> u;
    if (!inverseHessianFactor(runs, nOut + i, k, &u)) {
      skipped += int64_t(users[i].size());
      continue;
    }
    for (slm::FusedMatMulOp mm : users[i]) {
      auto c = constOf(mm.getB());
      std::vector<float> w = slm::constantFloats(c);
      gptqQuantizeForMatMul(w.data(), k, int64_t(w.size()) / k, scheme, u);
      replaceConstant(b, c, w, mm, 1);
      ++done;
    }
  }
  if (o.verbose)
    llvm::errs() << "slmc: gptq: " << done << " matmul weight(s) rounded with error compensation, " << skipped
                 << " left to round-to-nearest\n";
  return kExitOk;
}

int applyActivationAwareScaling(ModuleOp module, const CompileOptions &o) {
  std::vector<CalibSet> sets;
  if (std::string e = loadCalibration(o.calibrationData, &sets); !e.empty()) {
    llvm::errs() << "slmc: error: " << e << "\n";
    return kExitBadInput;
  }
  std::vector<Group> groups = findGroups(module);
  if (groups.empty()) {
    llvm::errs() << "slmc: warning: --quant-method=awq: no scalable matmul group (norm or up projection feeding "
                    "constant weights); quantizing with round-to-nearest\n";
    return kExitOk;
  }
  // Capture each group's activation on the calibration sets.
  SmallVector<Operation *> producers;
  for (Group &g : groups) producers.push_back(g.producer);
  std::vector<Outputs> runs;
  size_t nOut = 0;
  auto output = [](Operation *op) { return SmallVector<Value>{op->getResult(0)}; };
  if (std::string e = runCapturing(module, o, sets, producers, output, &runs, &nOut); !e.empty()) {
    llvm::errs() << "slmc: error: --calibration-data " << o.calibrationData << ": " << e << "\n";
    return kExitBadInput;
  }
  OpBuilder b(module.getContext());
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    Group &g = groups[gi];
    // The scales are searched under the rounding the weights will get: schemeOf's groups (for
    // w8a8/w4a8 the int8-activation kernels' own). When K is padded there the groups do not line up
    // with K, and the nominal --group-size groups stand in.
    QuantScheme scheme = schemeOf(o, g.k);
    if (scheme.groupSize < 0) scheme.groupSize = o.groupSize >= 0 ? o.groupSize : scheme.bits == 4 ? 32 : 0;
    // Rows of the activation, evenly subsampled to kMaxRows.
    std::vector<float> all;
    for (const Outputs &r : runs) all.insert(all.end(), floats(r[nOut + gi]), floats(r[nOut + gi]) + count(r[nOut + gi]));
    int64_t total = int64_t(all.size()) / g.k, rows = std::min(total, kMaxRows);
    if (rows == 0) continue;
    std::vector<float> x(size_t(rows * g.k));
    for (int64_t r = 0; r < rows; ++r)
      std::copy_n(all.begin() + (r * total / rows) * g.k, g.k, x.begin() + r * g.k);
    std::vector<double> mean(static_cast<size_t>(g.k), 0.0);
    for (int64_t r = 0; r < total; ++r)
      for (int64_t c = 0; c < g.k; ++c) mean[size_t(c)] += std::fabs(all[size_t(r * g.k + c)]) / double(total);
    std::vector<std::vector<float>> weights;
    for (auto mm : g.consumers) weights.push_back(slm::constantFloats(constOf(mm.getB())));
    double bestErr = INFINITY, bestAlpha = 0;
    std::vector<float> bestS(static_cast<size_t>(g.k), 1.0f);
    for (int step = 0; step <= 10; ++step) {
      double alpha = step / 10.0;
      std::vector<float> s(static_cast<size_t>(g.k));
      double smax = 0, smin = INFINITY;
      for (int64_t c = 0; c < g.k; ++c) {
        s[size_t(c)] = float(std::pow(std::max(mean[size_t(c)], 1e-8), alpha));
        smax = std::max(smax, double(s[size_t(c)])), smin = std::min(smin, double(s[size_t(c)]));
      }
      float norm = float(std::sqrt(smax * smin));
      for (float &v : s) v /= norm;
      double err = 0;
      for (size_t m = 0; m < weights.size(); ++m) {
        int64_t n = int64_t(weights[m].size()) / g.k;
        std::vector<float> ws(weights[m].size()), q(weights[m].size());
        for (int64_t p = 0; p < g.k; ++p)
          for (int64_t j = 0; j < n; ++j) ws[size_t(p * n + j)] = weights[m][size_t(p * n + j)] * s[size_t(p)];
        fakeQuantizeForMatMul(ws.data(), g.k, n, scheme, q.data());
        for (int64_t p = 0; p < g.k; ++p)
          for (int64_t j = 0; j < n; ++j) q[size_t(p * n + j)] /= s[size_t(p)];
        err += outputError(x, rows, g.k, weights[m], q, n);
      }
      if (err < bestErr) bestErr = err, bestAlpha = alpha, bestS = s;
    }
    if (o.verbose) {
      auto name = g.producer->getAttrOfType<StringAttr>(slm::kNodeNameAttr);
      llvm::errs() << llvm::formatv("slmc: awq: {0} ({1} matmul(s)): alpha {2:f1}\n", name ? name.getValue() : "group",
                                    g.consumers.size(), bestAlpha);
    }
    if (bestAlpha == 0) continue; // s = 1: nothing to change
    // Weights' rows times s; the producer's outputs divided by s.
    for (size_t m = 0; m < g.consumers.size(); ++m) {
      int64_t n = int64_t(weights[m].size()) / g.k;
      for (int64_t p = 0; p < g.k; ++p)
        for (int64_t j = 0; j < n; ++j) weights[m][size_t(p * n + j)] *= bestS[size_t(p)];
      replaceConstant(b, constOf(g.consumers[m].getB()), weights[m], g.consumers[m], 1);
    }
    // Element i of a norm's scale/bias [K] or of the up projection's weight [K_up, K] / bias [K]
    // belongs to activation channel i % K.
    auto divide = [&](unsigned operand) {
      auto c = constOf(g.producer->getOperand(operand));
      std::vector<float> v = slm::constantFloats(c);
      for (size_t i = 0; i < v.size(); ++i) v[i] /= bestS[i % size_t(g.k)];
      replaceConstant(b, c, v, g.producer, operand);
    };
    if (isa<slm::RmsNormOp>(g.producer)) {
      divide(1);
    } else if (g.producer->getName().getStringRef() == "slm.LayerNormalization") {
      divide(1);
      if (g.producer->getNumOperands() > 2 && g.producer->getOperand(2)) divide(2);
    } else { // the up projection: its weight's columns (and bias) divided by s
      auto up = cast<slm::FusedMatMulOp>(g.producer);
      divide(1);
      if (up.getBias()) divide(2);
    }
  }
  return kExitOk;
}

} // namespace slmc
