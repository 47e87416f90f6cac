"""Generate tiny_cnn.onnx: a seeded small CNN (Conv/BatchNorm/Relu/Clip/MaxPool/depthwise Conv/AveragePool/Resize/Add/GlobalAveragePool/Flatten/Gemm) for slmc end-to-end tests.

Graph (eval mode, input `input` float32 [batch, 3, 32, 32], batch dynamic):
  Conv 3->16 3x3 + BatchNorm + Relu                       [16, 32, 32]
  Conv 16->32 3x3 stride 2 + BatchNorm + Clip(0, 6)       [32, 16, 16]
  MaxPool 2x2                                   (= skip)  [32, 8, 8]
  depthwise Conv 3x3 (groups 32) + Relu                   [32, 8, 8]
  AveragePool 2x2                                          [32, 4, 4]
  Resize nearest x2                                        [32, 8, 8]
  Add(skip)  + BatchNorm (standalone, not after a Conv)   [32, 8, 8]
  GlobalAveragePool, Flatten, Gemm 32->10      -> `logits` [batch, 10]

Exported with do_constant_folding=False in eval mode. BatchNorm running
statistics are randomized (seeded) so that BatchNorm changes the result.
Note: torch's exporter (1.13) fuses a BatchNorm that directly follows a Conv
into the Conv in eval mode even without constant folding; the standalone
BatchNorm after the residual Add is not fusable, so the graph keeps a
BatchNormalization node. The script prints what survived.

Run with Debian's python3-torch:  /usr/bin/python3 make_tiny_cnn.py --out tiny_cnn.onnx
"""
import argparse
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


class TinyCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, stride=2, padding=1)
        self.bn2 = nn.BatchNorm2d(32)
        self.relu6 = nn.ReLU6()
        self.pool = nn.MaxPool2d(2)
        self.dw = nn.Conv2d(32, 32, 3, padding=1, groups=32)
        self.avg = nn.AvgPool2d(2)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.bn3 = nn.BatchNorm2d(32)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.relu6(self.bn2(self.conv2(x)))
        skip = self.pool(x)
        y = F.relu(self.dw(skip))
        y = self.up(self.avg(y))
        x = self.bn3(skip + y)
        x = self.gap(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


def build_model():
    torch.manual_seed(0)
    m = TinyCNN()
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                c = mod.num_features
                mod.weight.copy_(1.0 + 0.2 * torch.randn(c))
                mod.bias.copy_(0.2 * torch.randn(c))
                mod.running_mean.copy_(0.3 * torch.randn(c))
                mod.running_var.copy_(0.5 + torch.rand(c))
            elif isinstance(mod, (nn.Conv2d, nn.Linear)):
                fan_in = mod.weight[0].numel()
                mod.weight.normal_(0.0, (2.0 / fan_in) ** 0.5)
                mod.bias.normal_(0.0, 0.05)
    m.eval()
    return m


def sanity_check(m):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 3, 32, 32, generator=g)
    with torch.no_grad():
        y = m(x)
        # BN must matter: resetting running stats must change the output.
        m2 = build_model()
        for mod in m2.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.reset_running_stats()
        y2 = m2(x)
    diff = (y - y2).abs().max().item()
    print(f"sanity: logits shape {tuple(y.shape)}, std {y.std().item():.3f}, "
          f"BN-stat influence {diff:.3g}")
    if tuple(y.shape) != (2, 10) or y.std().item() < 0.05 or diff < 1e-2:
        sys.exit("sanity check failed")


def export(m, out):
    import onnx

    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        torch.onnx.export(m, (x,), out, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                          opset_version=17, do_constant_folding=False)
    model = onnx.load(out)
    onnx.checker.check_model(model, full_check=True)
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny_cnn.onnx"))
    args = ap.parse_args()
    m = build_model()
    sanity_check(m)
    model = export(m, args.out)
    counts = {}
    for n in model.graph.node:
        counts[n.op_type] = counts.get(n.op_type, 0) + 1
    print(f"wrote {args.out}: {len(model.graph.node)} nodes: "
          + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    print(f"BatchNormalization nodes in graph: {counts.get('BatchNormalization', 0)} "
          f"(3 BatchNorm2d modules in the torch model)")


if __name__ == "__main__":
    main()
