"""Generate tiny_gpt2.onnx: a seeded 2-layer GPT-2-style decoder LM (LayerNorm, learned positions, tanh-GELU, fused QKV, tied embeddings, KV cache) for slmc end-to-end tests.

Architecture (plain torch, no transformers package):
  wte (vocab 256, d 64) + wpe (128 positions; positions = arange(past_len,
  past_len + seq)) -> 2 x [LayerNorm -> causal MHA (4 heads, head_dim 16,
  fused qkv Linear with bias, causal mask built in-graph) -> residual ->
  LayerNorm -> MLP (64 -> 256, tanh-approximation GELU written out, -> 64)
  -> residual] -> final LayerNorm -> lm_head tied to wte (logits = x @ wte^T).

ONNX interface (opset 17), same names as tiny_llama.onnx (kv heads = heads):
  inputs : input_ids int64 [batch, seq],
           past_key_values.{i}.key / .value float32 [batch, 4, past, 16]
  outputs: logits float32 [batch, seq, 256],
           present.{i}.key / .value float32 [batch, 4, total, 16]
  past + seq must be <= 128 (max positions).

Run with Debian's python3-torch:  /usr/bin/python3 make_tiny_gpt2.py --out tiny_gpt2.onnx
"""
import argparse
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB = 256
D_MODEL = 64
N_LAYERS = 2
N_HEADS = 4
HEAD_DIM = D_MODEL // N_HEADS  # 16
FFN_DIM = 4 * D_MODEL
MAX_POS = 128
EPS = 1e-5
MASK_VALUE = -1e9


def gelu_tanh(x):
    # 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))), written out
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)))


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_attn = nn.Linear(D_MODEL, 3 * D_MODEL, bias=True)
        self.c_proj = nn.Linear(D_MODEL, D_MODEL, bias=True)

    def forward(self, x, mask, past_k, past_v):
        b, s, _ = x.shape
        qkv = self.c_attn(x)
        q, k, v = qkv.split(D_MODEL, dim=2)
        q = q.view(b, s, N_HEADS, HEAD_DIM).transpose(1, 2)
        k = k.view(b, s, N_HEADS, HEAD_DIM).transpose(1, 2)
        v = v.view(b, s, N_HEADS, HEAD_DIM).transpose(1, 2)
        k = torch.cat((past_k, k), dim=2)
        v = torch.cat((past_v, v), dim=2)
        scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(HEAD_DIM))
        scores = scores.masked_fill(mask, MASK_VALUE)
        probs = torch.softmax(scores, dim=-1)
        out = torch.matmul(probs, v).transpose(1, 2).reshape(b, s, D_MODEL)
        return self.c_proj(out), k, v


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_fc = nn.Linear(D_MODEL, FFN_DIM, bias=True)
        self.c_proj = nn.Linear(FFN_DIM, D_MODEL, bias=True)

    def forward(self, x):
        return self.c_proj(gelu_tanh(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(D_MODEL, eps=EPS)
        self.attn = Attention()
        self.ln_2 = nn.LayerNorm(D_MODEL, eps=EPS)
        self.mlp = MLP()

    def forward(self, x, mask, past_k, past_v):
        a, k, v = self.attn(self.ln_1(x), mask, past_k, past_v)
        x = x + a
        x = x + self.mlp(self.ln_2(x))
        return x, k, v


class TinyGPT2(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(VOCAB, D_MODEL)
        self.wpe = nn.Embedding(MAX_POS, D_MODEL)
        self.h = nn.ModuleList([Block() for _ in range(N_LAYERS)])
        self.ln_f = nn.LayerNorm(D_MODEL, eps=EPS)

    def forward(self, input_ids, *past):
        seq = input_ids.shape[1]
        past_len = past[0].shape[2]
        total = past_len + seq
        q_pos = torch.arange(past_len, total, dtype=torch.int64)
        k_pos = torch.arange(0, total, dtype=torch.int64)
        mask = k_pos[None, :] > q_pos[:, None]  # [seq, total], True = blocked
        x = self.wte(input_ids) + self.wpe(q_pos)[None, :, :]
        presents = []
        for i, block in enumerate(self.h):
            x, k, v = block(x, mask, past[2 * i], past[2 * i + 1])
            presents += [k, v]
        x = self.ln_f(x)
        logits = torch.matmul(x, self.wte.weight.t())  # tied lm_head
        return (logits, *presents)


def build_model():
    torch.manual_seed(0)
    m = TinyGPT2()
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
                p.normal_(0.0, 0.05)
            elif name.endswith("bias"):
                p.normal_(0.0, 0.02)
            else:
                p.normal_(0.0, 0.08)
    m.eval()
    return m


def empty_past(batch, past_len):
    return [torch.zeros(batch, N_HEADS, past_len, HEAD_DIM) for _ in range(2 * N_LAYERS)]


def sanity_check(m):
    """prefill(8) + decode(1) with the cache must equal one 9-token pass."""
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, VOCAB, (2, 9), generator=g)
    with torch.no_grad():
        full = m(ids, *empty_past(2, 0))
        pre = m(ids[:, :8], *empty_past(2, 0))
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

    in_names = ["input_ids"]
    out_names = ["logits"]
    dyn = {"input_ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}}
    for i in range(N_LAYERS):
        for kind in ("key", "value"):
            pin, pout = f"past_key_values.{i}.{kind}", f"present.{i}.{kind}"
            in_names.append(pin)
            out_names.append(pout)
            dyn[pin] = {0: "batch", 2: "past"}
            dyn[pout] = {0: "batch", 2: "total"}
    # Trace with past > 0 and seq > 1 so no size specializes to a constant.
    g = torch.Generator().manual_seed(2)
    ids = torch.randint(0, VOCAB, (1, 5), generator=g)
    past = [torch.randn(1, N_HEADS, 3, HEAD_DIM, generator=g) for _ in range(2 * N_LAYERS)]
    with torch.no_grad():
        torch.onnx.export(m, (ids, *past), out, input_names=in_names, output_names=out_names,
                          dynamic_axes=dyn, opset_version=17, do_constant_folding=True)
    model = onnx.load(out)
    retie_lm_head(model, m)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, out)
    return model


def retie_lm_head(model, m):
    """Constant folding turns Transpose(wte) into a second, untied initializer.
    Put the tie back: the lm_head MatMul reads Transpose(wte.weight), so the
    graph holds the embedding matrix once, as in real tied-embedding exports."""
    from onnx import helper, numpy_helper

    wte_t = m.wte.weight.detach().t().contiguous().numpy()
    graph = model.graph
    logits_node = next(n for n in graph.node if "logits" in n.output)
    assert logits_node.op_type == "MatMul", logits_node.op_type
    folded = next(i for i in graph.initializer if i.name == logits_node.input[1])
    if not np.array_equal(numpy_helper.to_array(folded), wte_t):
        sys.exit("lm_head initializer is not wte^T; cannot re-tie")
    graph.initializer.remove(folded)
    tname = "lm_head.weight_t"
    idx = list(graph.node).index(logits_node)
    graph.node.insert(idx, helper.make_node("Transpose", ["wte.weight"], [tname],
                                            name="lm_head_tied_transpose", perm=[1, 0]))
    logits_node.input[1] = tname


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny_gpt2.onnx"))
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
