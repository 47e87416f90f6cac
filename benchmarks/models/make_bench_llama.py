"""Generate a seeded llama-style benchmark LM (about 60M or 220M parameters) as ONNX with the tiny_llama KV-cache interface.

Reuses make_tiny_llama.py (same modules, sanity check and exporter): only the
hyperparameters change, and the weights are drawn with a scale that keeps the
activations of a deeper, wider model in a sane range.

  size   vocab  d_model layers heads kv_heads head_dim ffn   params
  60m    32000  512     8      8     8        64       1536  ~60.0M
  220m   32000  960     16     15    5        64       2560  ~218.7M

ONNX interface (opset 17), as tiny_llama.onnx:
  inputs : input_ids int64 [batch, seq], past_key_values.{i}.key/.value float32 [batch, kv_heads, past, 64]
  outputs: logits float32 [batch, seq, 32000], present.{i}.key/.value float32 [batch, kv_heads, total, 64]

The output is not committed (hundreds of MB); it goes to <repo>/build/models/ by default.
Run with Debian's python3-torch:  /usr/bin/python3 make_bench_llama.py --size 60m [--out FILE]
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_tiny_llama as tl  # noqa: E402

SIZES = {
    "60m": dict(D_MODEL=512, N_LAYERS=8, N_HEADS=8, N_KV_HEADS=8, FFN_DIM=1536),
    "220m": dict(D_MODEL=960, N_LAYERS=16, N_HEADS=15, N_KV_HEADS=5, FFN_DIM=2560),
}
VOCAB = 32000
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def configure(size):
    """Point make_tiny_llama's module-level hyperparameters at the chosen size;
    its classes read them when the model is built and traced."""
    for k, v in SIZES[size].items():
        setattr(tl, k, v)
    tl.VOCAB = VOCAB
    tl.HEAD_DIM = tl.D_MODEL // tl.N_HEADS


def build_model():
    torch.manual_seed(0)
    m = tl.TinyLlama()
    # std 0.02 like GPT-2/llama inits; output projections scaled by depth so the
    # residual stream does not grow with the number of layers.
    out_std = 0.02 / (2 * tl.N_LAYERS) ** 0.5
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("layernorm.weight") or name == "norm.weight":
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            elif name == "embed_tokens.weight":
                p.normal_(0.0, 1.0)
            elif name.endswith(("o_proj.weight", "down_proj.weight")):
                p.normal_(0.0, out_std)
            elif name == "lm_head.weight":
                p.normal_(0.0, 2.0 / tl.D_MODEL ** 0.5)  # logits std ~2
            else:
                p.normal_(0.0, 0.02)
    m.eval()
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="60m")
    ap.add_argument("--out", help="output .onnx (default: <repo>/build/models/bench_llama_<size>.onnx)")
    args = ap.parse_args()
    out = args.out or os.path.join(REPO, "build", "models", f"bench_llama_{args.size}.onnx")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    configure(args.size)
    m = build_model()
    n_params = sum(p.numel() for p in m.parameters())
    print(f"bench_llama_{args.size}: {n_params / 1e6:.1f}M parameters")
    tl.sanity_check(m)
    model = tl.export(m, out)
    print(f"wrote {out}: {len(model.graph.node)} nodes, {os.path.getsize(out) / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
