"""Generate tiny_llama.onnx: a seeded 2-layer llama-style decoder LM (GQA, RMSNorm, RoPE, SwiGLU, KV cache) for slmc end-to-end tests.

Architecture (plain torch, no transformers package):
  token embedding (vocab 256, d_model 64) -> 2 x [RMSNorm -> GQA attention
  (4 query heads, 2 KV heads, head_dim 16, rotary embeddings computed in-graph
  from positions arange(past_len, past_len + seq), causal mask built in-graph)
  -> residual -> RMSNorm -> SwiGLU MLP (silu(gate) * up -> down) -> residual]
  -> final RMSNorm -> untied lm_head.

ONNX interface (opset 17):
  inputs : input_ids int64 [batch, seq],
           past_key_values.{i}.key / .value float32 [batch, 2, past, 16]
  outputs: logits float32 [batch, seq, 256],
           present.{i}.key / .value float32 [batch, 2, total, 16]
           (total = past + seq; present = concat(past, new) along axis 2)

Run with Debian's python3-torch:  /usr/bin/python3 make_tiny_llama.py --out tiny_llama.onnx
"""
import argparse
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB = 256
D_MODEL = 64
N_LAYERS = 2
N_HEADS = 4
N_KV_HEADS = 2
HEAD_DIM = D_MODEL // N_HEADS  # 16
FFN_DIM = 128
ROPE_THETA = 10000.0
EPS = 1e-5
MASK_VALUE = -1e9  # finite so that no runtime has to handle -inf arithmetic


class Config:
    """Hyperparameters of the decoder; the defaults are tiny_llama's. Other scripts
    (train_byte_lm.py) build the same architecture at other sizes through this."""

    def __init__(self, vocab=VOCAB, d_model=D_MODEL, n_layers=N_LAYERS, n_heads=N_HEADS,
                 n_kv_heads=N_KV_HEADS, ffn_dim=FFN_DIM, rope_theta=ROPE_THETA, eps=EPS):
        assert d_model % n_heads == 0 and n_heads % n_kv_heads == 0
        self.vocab, self.d_model, self.n_layers = vocab, d_model, n_layers
        self.n_heads, self.n_kv_heads, self.ffn_dim = n_heads, n_kv_heads, ffn_dim
        self.head_dim = d_model // n_heads
        self.rope_theta, self.eps = rope_theta, eps

    def as_dict(self):
        return dict(vocab=self.vocab, d_model=self.d_model, n_layers=self.n_layers,
                    n_heads=self.n_heads, n_kv_heads=self.n_kv_heads, head_dim=self.head_dim,
                    ffn_dim=self.ffn_dim, rope_theta=self.rope_theta, eps=self.eps)


TINY = Config()


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=EPS):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        # Written out: x * rsqrt(mean(x^2) + eps) * w
        var = (x * x).mean(-1, keepdim=True)
        return x * torch.rsqrt(var + self.eps) * self.weight


def rotate_half(x, head_dim=HEAD_DIM):
    x1 = x[..., :head_dim // 2]
    x2 = x[..., head_dim // 2:]
    return torch.cat((-x2, x1), dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg=TINY):
        super().__init__()
        self.cfg = cfg
        D_MODEL, N_HEADS, N_KV_HEADS, HEAD_DIM = cfg.d_model, cfg.n_heads, cfg.n_kv_heads, cfg.head_dim
        self.q_proj = nn.Linear(D_MODEL, N_HEADS * HEAD_DIM, bias=False)
        self.k_proj = nn.Linear(D_MODEL, N_KV_HEADS * HEAD_DIM, bias=False)
        self.v_proj = nn.Linear(D_MODEL, N_KV_HEADS * HEAD_DIM, bias=False)
        self.o_proj = nn.Linear(N_HEADS * HEAD_DIM, D_MODEL, bias=False)

    def forward(self, x, cos, sin, mask, past_k, past_v):
        N_HEADS, N_KV_HEADS, HEAD_DIM = self.cfg.n_heads, self.cfg.n_kv_heads, self.cfg.head_dim
        b, s, _ = x.shape
        q = self.q_proj(x).view(b, s, N_HEADS, HEAD_DIM).transpose(1, 2)
        k = self.k_proj(x).view(b, s, N_KV_HEADS, HEAD_DIM).transpose(1, 2)
        v = self.v_proj(x).view(b, s, N_KV_HEADS, HEAD_DIM).transpose(1, 2)
        # cos/sin: [seq, head_dim] broadcast over [b, heads, seq, head_dim]
        q = q * cos + rotate_half(q, HEAD_DIM) * sin
        k = k * cos + rotate_half(k, HEAD_DIM) * sin
        k_all = torch.cat((past_k, k), dim=2)  # [b, kvh, total, hd]
        v_all = torch.cat((past_v, v), dim=2)
        present_k, present_v = k_all, v_all
        # Grouped-query attention: repeat each KV head N_HEADS // N_KV_HEADS times
        # (expand + reshape == repeat_interleave on the head axis).
        n_rep = N_HEADS // N_KV_HEADS
        t = k_all.shape[2]
        k_rep = k_all[:, :, None, :, :].expand(b, N_KV_HEADS, n_rep, t, HEAD_DIM)
        k_rep = k_rep.reshape(b, N_HEADS, t, HEAD_DIM)
        v_rep = v_all[:, :, None, :, :].expand(b, N_KV_HEADS, n_rep, t, HEAD_DIM)
        v_rep = v_rep.reshape(b, N_HEADS, t, HEAD_DIM)
        scores = torch.matmul(q, k_rep.transpose(-1, -2)) * (1.0 / math.sqrt(HEAD_DIM))
        scores = scores.masked_fill(mask, MASK_VALUE)  # mask: [seq, total], True = blocked
        probs = torch.softmax(scores, dim=-1)
        out = torch.matmul(probs, v_rep)  # [b, h, s, hd]
        out = out.transpose(1, 2).reshape(b, s, N_HEADS * HEAD_DIM)
        return self.o_proj(out), present_k, present_v


class MLP(nn.Module):
    def __init__(self, cfg=TINY):
        super().__init__()
        self.gate_proj = nn.Linear(cfg.d_model, cfg.ffn_dim, bias=False)
        self.up_proj = nn.Linear(cfg.d_model, cfg.ffn_dim, bias=False)
        self.down_proj = nn.Linear(cfg.ffn_dim, cfg.d_model, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, cfg=TINY):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.d_model, cfg.eps)
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.d_model, cfg.eps)
        self.mlp = MLP(cfg)

    def forward(self, x, cos, sin, mask, past_k, past_v):
        a, pk, pv = self.self_attn(self.input_layernorm(x), cos, sin, mask, past_k, past_v)
        x = x + a
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x, pk, pv


class TinyLlama(nn.Module):
    def __init__(self, cfg=TINY):
        super().__init__()
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(cfg.vocab, cfg.d_model)
        self.layers = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layers)])
        self.norm = RMSNorm(cfg.d_model, cfg.eps)
        self.lm_head = nn.Linear(cfg.d_model, cfg.vocab, bias=False)
        hd = cfg.head_dim
        inv_freq = 1.0 / (cfg.rope_theta ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def forward(self, input_ids, *past):
        seq = input_ids.shape[1]
        past_len = past[0].shape[2]
        total = past_len + seq
        # Absolute positions of the new tokens and of all keys.
        q_pos = torch.arange(past_len, total, dtype=torch.int64)
        k_pos = torch.arange(0, total, dtype=torch.int64)
        freqs = q_pos.to(torch.float32)[:, None] * self.inv_freq[None, :]  # [seq, hd/2]
        emb = torch.cat((freqs, freqs), dim=-1)  # [seq, hd]
        cos, sin = emb.cos(), emb.sin()
        # query i (absolute past_len+i) may attend keys 0..past_len+i
        mask = k_pos[None, :] > q_pos[:, None]  # [seq, total]
        x = self.embed_tokens(input_ids)
        presents = []
        for i, layer in enumerate(self.layers):
            x, pk, pv = layer(x, cos, sin, mask, past[2 * i], past[2 * i + 1])
            presents += [pk, pv]
        logits = self.lm_head(self.norm(x))
        return (logits, *presents)


def build_model():
    torch.manual_seed(0)
    m = TinyLlama()
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("layernorm.weight") or name == "norm.weight":
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            elif name == "embed_tokens.weight":
                p.normal_(0.0, 1.0)
            else:
                p.normal_(0.0, 0.08)
    m.eval()
    return m


def empty_past(batch, past_len, cfg=TINY):
    return [torch.zeros(batch, cfg.n_kv_heads, past_len, cfg.head_dim) for _ in range(2 * cfg.n_layers)]


def sanity_check(m):
    """prefill(8) + decode(1) with the cache must equal one 9-token pass."""
    cfg = m.cfg
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, cfg.vocab, (2, 9), generator=g)
    with torch.no_grad():
        full = m(ids, *empty_past(2, 0, cfg))
        pre = m(ids[:, :8], *empty_past(2, 0, cfg))
        dec = m(ids[:, 8:], *pre[1:])
    err_prefill = (pre[0] - full[0][:, :8]).abs().max().item()
    err_decode = (dec[0] - full[0][:, 8:]).abs().max().item()
    err_cache = max((a - b).abs().max().item() for a, b in zip(dec[1:], full[1:]))
    tol = 1e-4
    print(f"sanity: prefill err {err_prefill:.3g}, decode err {err_decode:.3g}, "
          f"cache err {err_cache:.3g}, logits std {full[0].std().item():.3f}")
    if not (err_prefill < tol and err_decode < tol and err_cache < tol):
        sys.exit("sanity check failed: cached decode differs from full pass")
    if full[0].std().item() < 0.1:
        sys.exit("sanity check failed: logits are nearly constant")


def export(m, out):
    import onnx

    cfg = m.cfg
    in_names = ["input_ids"]
    out_names = ["logits"]
    dyn = {"input_ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}}
    for i in range(cfg.n_layers):
        for kind in ("key", "value"):
            pin, pout = f"past_key_values.{i}.{kind}", f"present.{i}.{kind}"
            in_names.append(pin)
            out_names.append(pout)
            dyn[pin] = {0: "batch", 2: "past"}
            dyn[pout] = {0: "batch", 2: "total"}
    # Trace with past > 0 and seq > 1 so no size specializes to a constant.
    g = torch.Generator().manual_seed(2)
    ids = torch.randint(0, cfg.vocab, (1, 5), generator=g)
    past = [torch.randn(1, cfg.n_kv_heads, 3, cfg.head_dim, generator=g) for _ in range(2 * cfg.n_layers)]
    with torch.no_grad():
        torch.onnx.export(m, (ids, *past), out, input_names=in_names, output_names=out_names,
                          dynamic_axes=dyn, opset_version=17, do_constant_folding=True)
    model = onnx.load(out)
    onnx.checker.check_model(model, full_check=True)
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny_llama.onnx"))
    args = ap.parse_args()
    m = build_model()
    sanity_check(m)
    model = export(m, args.out)
    counts = {}
    for n in model.graph.node:
        counts[n.op_type] = counts.get(n.op_type, 0) + 1
    print(f"wrote {args.out}: {len(model.graph.node)} nodes: "
          + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
