// Static memory plan: arena offsets by greedy best-fit over tensor lifetimes; weights laid out in order.
#include "emit/ArtifactGraph.h"

#include <algorithm>
#include <numeric>

namespace slmc {
namespace {

constexpr uint64_t kAlign = 64;
uint64_t alignUp(uint64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

void computeLifetimes(ArtifactGraph &g) {
  int end = int(g.ops.size());
  for (auto &t : g.tensors) {
    t.firstUse = t.lastUse = -2;
  }
  for (int idx : g.inputs) g.tensors[idx].firstUse = g.tensors[idx].lastUse = -1;
  for (auto &t : g.tensors) // session state lives across runs: its space is never shared
    if (t.storage == StorageKind::State) t.firstUse = -1, t.lastUse = end;
  for (int k = 0; k < end; ++k) {
    for (int idx : g.ops[k].outputs)
      if (idx >= 0 && g.tensors[idx].firstUse == -2) g.tensors[idx].firstUse = g.tensors[idx].lastUse = k;
    for (int idx : g.ops[k].inputs)
      if (idx >= 0 && g.tensors[idx].storage != StorageKind::State)
        g.tensors[idx].lastUse = std::max(g.tensors[idx].lastUse, k);
  }
  for (int idx : g.outputs) g.tensors[idx].lastUse = end;
}

} // namespace

void planMemory(ArtifactGraph &g) {
  computeLifetimes(g);
  // Weights: in tensor order, each 64-byte aligned.
  uint64_t w = 0;
  for (auto &t : g.tensors) {
    if (t.storage != StorageKind::Constant || !t.used) continue;
    t.offset = w;
    w = alignUp(w + t.byteSize);
  }
  g.weightsBytes = w;

  // Arena: biggest tensors first, each at the lowest offset free during its lifetime.
  std::vector<int> order;
  for (int i = 0; i < int(g.tensors.size()); ++i)
    if (g.tensors[i].storage != StorageKind::Constant && g.tensors[i].firstUse != -2) order.push_back(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return g.tensors[a].byteSize > g.tensors[b].byteSize; });
  std::vector<int> placed;
  uint64_t total = 0;
  for (int i : order) {
    ArtifactTensor &t = g.tensors[i];
    uint64_t size = alignUp(std::max<uint64_t>(t.byteSize, 1));
    std::vector<std::pair<uint64_t, uint64_t>> busy; // [begin, end) of overlapping-in-time tensors
    for (int j : placed) {
      const ArtifactTensor &o = g.tensors[j];
      if (o.lastUse < t.firstUse || t.lastUse < o.firstUse) continue;
      busy.push_back({o.offset, o.offset + alignUp(std::max<uint64_t>(o.byteSize, 1))});
    }
    std::sort(busy.begin(), busy.end());
    uint64_t candidate = 0;
    for (auto [b, e] : busy) {
      if (candidate + size <= b) break;
      candidate = std::max(candidate, e);
    }
    t.offset = candidate;
    total = std::max(total, candidate + size);
    placed.push_back(i);
  }
  g.arenaBytes = total;
}

} // namespace slmc
