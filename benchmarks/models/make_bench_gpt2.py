"""Generate a seeded gpt2-small-shaped benchmark LM (124M parameters) as ONNX with the tiny_gpt2 KV-cache interface.

Reuses make_tiny_gpt2.py (same modules, sanity check, exporter and lm_head
re-tying); only the hyperparameters and the init scale change:
  vocab 50257, d_model 768, 12 layers, 12 heads (head_dim 64), ffn 3072, 1024 positions, tied embeddings.

ONNX interface (opset 17), as tiny_gpt2.onnx:
  inputs : input_ids int64 [batch, seq], past_key_values.{i}.key/.value float32 [batch, 12, past, 64]
  outputs: logits float32 [batch, seq, 50257], present.{i}.key/.value float32 [batch, 12, total, 64]
  past + seq must be <= 1024.

The output is not committed (~500 MB); it goes to <repo>/build/models/ by default.
Run with Debian's python3-torch:  /usr/bin/python3 make_bench_gpt2.py [--out FILE]
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_tiny_gpt2 as tg  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def configure():
    """Point make_tiny_gpt2's module-level hyperparameters at gpt2-small."""
    tg.VOCAB = 50257
    tg.D_MODEL = 768
    tg.N_LAYERS = 12
    tg.N_HEADS = 12
    tg.HEAD_DIM = tg.D_MODEL // tg.N_HEADS
    tg.FFN_DIM = 4 * tg.D_MODEL
    tg.MAX_POS = 1024


def build_model():
    torch.manual_seed(0)
    m = tg.TinyGPT2()
    out_std = 0.02 / (2 * tg.N_LAYERS) ** 0.5  # GPT-2's scaled init of residual projections
    with torch.no_grad():
        for name, p in m.named_parameters():
            if ".ln_" in name or name.startswith("ln_f"):
                if name.endswith("weight"):
                    p.copy_(1.0 + 0.1 * torch.randn_like(p))
                else:
                    p.normal_(0.0, 0.05)
            elif name == "wte.weight":
                p.normal_(0.0, 0.1)
            elif name == "wpe.weight":
                p.normal_(0.0, 0.02)
            elif name.endswith("bias"):
                p.normal_(0.0, 0.02)
            elif name.endswith("c_proj.weight"):
                p.normal_(0.0, out_std)
            else:
                p.normal_(0.0, 0.02)
    m.eval()
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="output .onnx (default: <repo>/build/models/bench_gpt2.onnx)")
    args = ap.parse_args()
    out = args.out or os.path.join(REPO, "build", "models", "bench_gpt2.onnx")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    configure()
    m = build_model()
    # Tied: wte counted once, as in GPT-2's 124M.
    n_params = sum(p.numel() for p in m.parameters())
    print(f"bench_gpt2: {n_params / 1e6:.1f}M parameters")
    tg.sanity_check(m)
    model = tg.export(m, out)
    print(f"wrote {out}: {len(model.graph.node)} nodes, {os.path.getsize(out) / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
