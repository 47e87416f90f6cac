"""Convert the project's llama-style ONNX LM (make_tiny_llama.py / make_bench_llama.py) to GGUF v3 for llama.cpp: f32, Q8_0 or Q4_0.

Written from the GGUF format description (ggml docs/gguf.md), numpy only:
  header      magic "GGUF", version 3 (u32), tensor count (u64), KV count (u64)
  KV pairs    key (u64 length + UTF-8), value type (u32), value; arrays: elem type (u32), count (u64), elems
  tensor info name, n_dims (u32), ne[0..n) (u64, ne[0] = innermost/contiguous), ggml type (u32),
              offset (u64, relative to the data section, a multiple of general.alignment)
  padding to general.alignment, then the tensor data, each tensor padded to the alignment.

Weights are read from the ONNX initializers by name: `embed_tokens.weight`, the RMSNorm
weights (`layers.N.input_layernorm.weight`, ...), and each projection either as an
initializer `<module>.weight` or, as torch.onnx exports nn.Linear, as the initializer
feeding the MatMul node `/<module path>/MatMul` ([in, out], transposed back here).
They map to llama.cpp names (token_embd, blk.N.attn_q, ..., output). q/k rows are
permuted from the rotate-half RoPE layout (HF/torch) to ggml's interleaved-pair layout,
exactly as llama.cpp's convert_hf_to_gguf.py does. The tokenizer is a dummy SPM ("llama")
vocab of the model's size: <unk>, <s>, </s>, the byte tokens <0x00>.. (as many as fit), then
"<tok_N>" placeholders; benchmarks feed token ids directly.

Quantizers follow ggml's reference (quantize_row_q8_0_ref / quantize_row_q4_0_ref):
  Q8_0 block of 32: d = max|x| / 127 (fp16), q = round(x / d) (int8)             -> 34 bytes
  Q4_0 block of 32: m = the x with max |x|, d = m / -8 (fp16), q = min(15, trunc(x / d + 8.5)),
                    byte j = q[j] | q[j + 16] << 4                                -> 18 bytes
1-D tensors (norms) stay f32.

Usage: /usr/bin/python3 onnx_to_gguf.py MODEL.onnx OUT.gguf [--type f32|q8_0|q4_0] [--rope-theta 10000] [--rms-eps 1e-5]
"""
import argparse
import os
import struct
import sys

import numpy as np
import onnx
from onnx import numpy_helper

ALIGNMENT = 32
QK = 32  # block size of Q8_0 and Q4_0

# GGUF metadata value types.
GGUF_UINT32, GGUF_INT32, GGUF_FLOAT32, GGUF_BOOL, GGUF_STRING, GGUF_ARRAY = 4, 5, 6, 7, 8, 9
# ggml tensor types and llama file types (general.file_type).
GGML_F32, GGML_Q4_0, GGML_Q8_0 = 0, 2, 8
TYPES = {"f32": (GGML_F32, 0), "q8_0": (GGML_Q8_0, 7), "q4_0": (GGML_Q4_0, 2)}
# llama.cpp token types.
TOKEN_NORMAL, TOKEN_UNKNOWN, TOKEN_CONTROL, TOKEN_BYTE = 1, 2, 3, 6


# ---------------------------------------------------------------- quantizers

def quantize_q8_0(x):
    """[rows, k] f32 (k % 32 == 0) -> bytes of Q8_0 blocks, row-major."""
    b = x.reshape(-1, QK).astype(np.float32)
    amax = np.abs(b).max(axis=1)
    d = amax / 127.0
    inv = np.divide(1.0, d, out=np.zeros_like(d), where=d != 0)
    v = b * inv[:, None]
    q = np.trunc(v + np.copysign(0.5, v)).astype(np.int8)  # roundf: half away from zero
    out = np.empty(len(b), dtype=[("d", "<f2"), ("qs", "i1", QK)])
    out["d"] = d.astype(np.float16)
    out["qs"] = q
    return out.tobytes()


def quantize_q4_0(x):
    """[rows, k] f32 (k % 32 == 0) -> bytes of Q4_0 blocks, row-major."""
    b = x.reshape(-1, QK).astype(np.float32)
    idx = np.abs(b).argmax(axis=1)
    m = b[np.arange(len(b)), idx]  # signed value of largest magnitude
    d = m / -8.0
    inv = np.divide(1.0, d, out=np.zeros_like(d), where=d != 0)
    q = np.minimum(15, np.trunc(b * inv[:, None] + 8.5)).astype(np.uint8)
    out = np.empty(len(b), dtype=[("d", "<f2"), ("qs", "u1", QK // 2)])
    out["d"] = d.astype(np.float16)
    out["qs"] = q[:, : QK // 2] | (q[:, QK // 2:] << 4)
    return out.tobytes()


def dequantize(raw, ggml_type, shape):
    """Inverse of the quantizers (for self-checks)."""
    if ggml_type == GGML_Q8_0:
        blk = np.frombuffer(raw, dtype=[("d", "<f2"), ("qs", "i1", QK)])
        return (blk["d"].astype(np.float32)[:, None] * blk["qs"]).reshape(shape)
    blk = np.frombuffer(raw, dtype=[("d", "<f2"), ("qs", "u1", QK // 2)])
    q = np.concatenate([blk["qs"] & 0xF, blk["qs"] >> 4], axis=1).astype(np.float32) - 8.0
    return (blk["d"].astype(np.float32)[:, None] * q).reshape(shape)


# ---------------------------------------------------------------- GGUF writer

def _str(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


class GGUFWriter:
    def __init__(self):
        self.kv = []       # encoded KV pairs
        self.tensors = []  # (name, ne, ggml_type, bytes)

    def add(self, key, vtype, value):
        fmt = {GGUF_UINT32: "<I", GGUF_INT32: "<i", GGUF_FLOAT32: "<f", GGUF_BOOL: "<?"}
        enc = _str(value) if vtype == GGUF_STRING else struct.pack(fmt[vtype], value)
        self.kv.append(_str(key) + struct.pack("<I", vtype) + enc)

    def add_array(self, key, etype, values):
        if etype == GGUF_STRING:
            body = b"".join(_str(v) for v in values)
        else:
            body = np.asarray(values, dtype={GGUF_FLOAT32: "<f4", GGUF_INT32: "<i4"}[etype]).tobytes()
        self.kv.append(_str(key) + struct.pack("<IIQ", GGUF_ARRAY, etype, len(values)) + body)

    def add_tensor(self, name, array, ggml_type):
        """array: numpy in row-major layout; GGUF's ne is the reversed shape."""
        a = np.ascontiguousarray(array, dtype=np.float32)
        if ggml_type == GGML_F32:
            raw = a.tobytes()
        elif ggml_type == GGML_Q8_0:
            raw = quantize_q8_0(a)
        else:
            raw = quantize_q4_0(a)
        self.tensors.append((name, tuple(reversed(a.shape)), ggml_type, raw))

    def write(self, path):
        pad = lambda n: (-n) % ALIGNMENT  # noqa: E731
        infos, offset = [], 0
        for name, ne, t, raw in self.tensors:
            infos.append(_str(name) + struct.pack("<I", len(ne)) + struct.pack(f"<{len(ne)}Q", *ne)
                         + struct.pack("<IQ", t, offset))
            offset += len(raw) + pad(len(raw))
        head = b"GGUF" + struct.pack("<IQQ", 3, len(self.tensors), len(self.kv))
        meta = head + b"".join(self.kv) + b"".join(infos)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(meta + b"\0" * pad(len(meta)))
            for _, _, _, raw in self.tensors:
                f.write(raw + b"\0" * pad(len(raw)))
        os.replace(tmp, path)


# ---------------------------------------------------------------- ONNX side

class OnnxWeights:
    """Initializers by name, with the torch-export MatMul naming as fallback."""

    def __init__(self, model):
        self.model = model
        self.init = {i.name: i for i in model.graph.initializer}
        self.matmul_rhs = {n.name: n.input[1] for n in model.graph.node if n.op_type == "MatMul"}

    def __getitem__(self, name):
        return numpy_helper.to_array(self.init[name]).astype(np.float32)

    def linear(self, module):
        """nn.Linear weight of `module` (e.g. layers.0.self_attn.q_proj) as [out, in]."""
        if module + ".weight" in self.init:
            return self[module + ".weight"]
        parts = module.split(".")
        path = "/" + "/".join(f"{a}.{b}" if a == "layers" else a
                              for a, b in _pairs(parts)) + "/MatMul"
        rhs = self.matmul_rhs.get(path)
        if rhs is None or rhs not in self.init:
            sys.exit(f"onnx_to_gguf: no weight for {module} (no initializer {module}.weight, no MatMul {path})")
        return self[rhs].T  # MatMul computes x @ W with W = [in, out]

    def input_shape(self, name):
        for i in self.model.graph.input:
            if i.name == name:
                return [d.dim_value if d.HasField("dim_value") else d.dim_param
                        for d in i.type.tensor_type.shape.dim]
        sys.exit(f"onnx_to_gguf: no graph input {name}")


def _pairs(parts):
    """['layers','0','self_attn','q_proj'] -> [('layers','0'), ('self_attn',None), ('q_proj',None)]."""
    out, i = [], 0
    while i < len(parts):
        if parts[i] == "layers":
            out.append((parts[i], parts[i + 1]))
            i += 2
        else:
            out.append((parts[i], None))
            i += 1
    return out


def rope_permute(w, n_head):
    """Rotate-half rows -> interleaved pairs (convert_hf_to_gguf.py's LlamaModel.permute)."""
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


def hyperparameters(w):
    emb = w["embed_tokens.weight"]
    vocab, d = emb.shape
    n_layers = sum(1 for n in w.init if n.endswith(".input_layernorm.weight"))
    kv_shape = w.input_shape("past_key_values.0.key")  # [batch, kv_heads, past, head_dim]
    n_kv, head_dim = int(kv_shape[1]), int(kv_shape[3])
    n_head = w.linear("layers.0.self_attn.q_proj").shape[0] // head_dim
    ffn = w.linear("layers.0.mlp.gate_proj").shape[0]
    return dict(vocab=vocab, d=d, n_layers=n_layers, n_head=n_head, n_kv=n_kv, head_dim=head_dim, ffn=ffn)


def dummy_vocab(n):
    tokens, types = ["<unk>", "<s>", "</s>"], [TOKEN_UNKNOWN, TOKEN_CONTROL, TOKEN_CONTROL]
    # llama.cpp's SPM vocab looks up the byte token of "\n"; keep as many bytes as fit.
    n_bytes = min(256, n - 3)
    tokens += [f"<0x{b:02X}>" for b in range(n_bytes)]
    types += [TOKEN_BYTE] * n_bytes
    rest = n - len(tokens)
    tokens += [f"<tok_{i}>" for i in range(len(tokens), n)]
    types += [TOKEN_NORMAL] * rest
    return tokens[:n], types[:n]


def convert(onnx_path, out_path, qtype, rope_theta, rms_eps, context_length):
    w = OnnxWeights(onnx.load(onnx_path))
    hp = hyperparameters(w)
    ggml_type, file_type = TYPES[qtype]
    g = GGUFWriter()
    g.add("general.architecture", GGUF_STRING, "llama")
    g.add("general.name", GGUF_STRING, os.path.splitext(os.path.basename(onnx_path))[0])
    g.add("general.alignment", GGUF_UINT32, ALIGNMENT)
    g.add("general.file_type", GGUF_UINT32, file_type)
    g.add("llama.vocab_size", GGUF_UINT32, hp["vocab"])
    g.add("llama.context_length", GGUF_UINT32, context_length)
    g.add("llama.embedding_length", GGUF_UINT32, hp["d"])
    g.add("llama.block_count", GGUF_UINT32, hp["n_layers"])
    g.add("llama.feed_forward_length", GGUF_UINT32, hp["ffn"])
    g.add("llama.attention.head_count", GGUF_UINT32, hp["n_head"])
    g.add("llama.attention.head_count_kv", GGUF_UINT32, hp["n_kv"])
    g.add("llama.rope.dimension_count", GGUF_UINT32, hp["head_dim"])
    g.add("llama.rope.freq_base", GGUF_FLOAT32, rope_theta)
    g.add("llama.attention.layer_norm_rms_epsilon", GGUF_FLOAT32, rms_eps)
    tokens, types = dummy_vocab(hp["vocab"])
    g.add("tokenizer.ggml.model", GGUF_STRING, "llama")
    g.add_array("tokenizer.ggml.tokens", GGUF_STRING, tokens)
    g.add_array("tokenizer.ggml.scores", GGUF_FLOAT32, [0.0] * len(tokens))
    g.add_array("tokenizer.ggml.token_type", GGUF_INT32, types)
    g.add("tokenizer.ggml.unknown_token_id", GGUF_UINT32, 0)
    g.add("tokenizer.ggml.bos_token_id", GGUF_UINT32, 1)
    g.add("tokenizer.ggml.eos_token_id", GGUF_UINT32, 2)
    g.add("tokenizer.ggml.add_bos_token", GGUF_BOOL, False)
    g.add("tokenizer.ggml.add_eos_token", GGUF_BOOL, False)

    mat = lambda name, a: g.add_tensor(name, a, ggml_type)  # noqa: E731
    vec = lambda name, a: g.add_tensor(name, a, GGML_F32)  # noqa: E731
    mat("token_embd.weight", w["embed_tokens.weight"])
    for i in range(hp["n_layers"]):
        p, b = f"layers.{i}", f"blk.{i}"
        vec(f"{b}.attn_norm.weight", w[f"{p}.input_layernorm.weight"])
        mat(f"{b}.attn_q.weight", rope_permute(w.linear(f"{p}.self_attn.q_proj"), hp["n_head"]))
        mat(f"{b}.attn_k.weight", rope_permute(w.linear(f"{p}.self_attn.k_proj"), hp["n_kv"]))
        mat(f"{b}.attn_v.weight", w.linear(f"{p}.self_attn.v_proj"))
        mat(f"{b}.attn_output.weight", w.linear(f"{p}.self_attn.o_proj"))
        vec(f"{b}.ffn_norm.weight", w[f"{p}.post_attention_layernorm.weight"])
        mat(f"{b}.ffn_gate.weight", w.linear(f"{p}.mlp.gate_proj"))
        mat(f"{b}.ffn_up.weight", w.linear(f"{p}.mlp.up_proj"))
        mat(f"{b}.ffn_down.weight", w.linear(f"{p}.mlp.down_proj"))
    vec("output_norm.weight", w["norm.weight"])
    mat("output.weight", w.linear("lm_head"))
    g.write(out_path)
    return hp


def self_check():
    """Quantizer round trip within the formats' error bounds."""
    x = np.random.default_rng(0).standard_normal((4, 64)).astype(np.float32)
    for t, tol in ((GGML_Q8_0, 1 / 127), (GGML_Q4_0, 1 / 7)):
        raw = quantize_q8_0(x) if t == GGML_Q8_0 else quantize_q4_0(x)
        err = np.abs(dequantize(raw, t, x.shape) - x).reshape(-1, QK).max(axis=1)
        amax = np.abs(x).reshape(-1, QK).max(axis=1)
        assert (err <= amax * tol * 1.01 + 1e-6).all(), (t, err / amax)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--type", choices=sorted(TYPES), default="f32")
    ap.add_argument("--rope-theta", type=float, default=10000.0)
    ap.add_argument("--rms-eps", type=float, default=1e-5)
    ap.add_argument("--context-length", type=int, default=2048)
    args = ap.parse_args()
    self_check()
    hp = convert(args.model, args.out, args.type, args.rope_theta, args.rms_eps, args.context_length)
    print(f"wrote {args.out} ({args.type}, {os.path.getsize(args.out) / 2**20:.1f} MiB): "
          + ", ".join(f"{k}={v}" for k, v in hp.items()))


if __name__ == "__main__":
    main()
