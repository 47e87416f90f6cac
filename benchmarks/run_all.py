"""Benchmark one LM end to end: generate the ONNX, compile it with slmc, convert it to GGUF, then time slmc, ONNX Runtime and llama.cpp alternately and print medians and ratios.

  /usr/bin/python3 benchmarks/run_all.py --model llama60m [--prompt-len 64] [--decode 32]
      [--threads 2] [--rounds 5] [--repeat 3] [--gguf-types f32,q8_0,q4_0] [--build-dir build-bench]

Models: tiny_llama (committed), llama60m, llama220m (make_bench_llama.py), gpt2 (make_bench_gpt2.py;
no llama.cpp: the GGUF converter is llama-only). Outputs go to build/bench/<model>/: the generated
ONNX/.slm/.gguf (reused when newer than their inputs), one JSON per engine run, summary.json
(medians, ratios, machine, membw) and chart.svg.

Each round runs every engine once (each with --repeat timed repeats after a warmup, reporting
their median) in an order rotated per round, so slow phases of the shared machine hit all
engines alike. Reported: the median over rounds of each engine's prefill_ms and
decode_ms_per_token, and the median over rounds of the per-round ratios
peer_time / slmc_time (> 1: slmc is faster).

Contention: 2-thread engines that synchronize threads per op (all three) slow down by 10-100x
when other processes take the cores (on this machine other sessions' builds get an equal
autogroup share, so nice does not help). Before each engine run the script waits up to
--quiet-wait seconds for the machine to be nearly idle, and it records for every run the CPUs
used by other processes during it (`others_cpus`, from /proc/stat minus the child's own CPU
time). Medians use only runs with others_cpus <= --max-contention when every engine has such
runs ("quiet" in the summary), else all runs; the summary says which. Needs: slmc built in --build-dir, node with
scripts/install-peers.sh done, /usr/bin/python3 with torch, onnx, numpy, and cc with OpenMP.
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(REPO, "benchmarks")
PY = "/usr/bin/python3"

MODELS = {
    "tiny_llama": dict(gen=None, onnx=os.path.join(BENCH, "models", "tiny_llama.onnx"), llama=True),
    "llama60m": dict(gen=["make_bench_llama.py", "--size", "60m"], onnx="bench_llama_60m.onnx", llama=True),
    "llama220m": dict(gen=["make_bench_llama.py", "--size", "220m"], onnx="bench_llama_220m.onnx", llama=True),
    "gpt2": dict(gen=["make_bench_gpt2.py"], onnx="bench_gpt2.onnx", llama=False),
}


def log(msg):
    print(f"[run_all {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run(cmd, **kw):
    log("$ " + " ".join(cmd))
    return subprocess.run(cmd, check=True, **kw)


def cpu_jiffies():
    """(busy, total) jiffies of the whole machine from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v[:8]) - idle, sum(v[:8])


def machine_busy_cpus(seconds=1.0):
    b0, _ = cpu_jiffies()
    time.sleep(seconds)
    b1, _ = cpu_jiffies()
    return (b1 - b0) / os.sysconf("SC_CLK_TCK") / seconds


def wait_quiet(max_wait, threshold):
    """Waits until other processes use < threshold CPUs (or max_wait s pass); returns the last reading."""
    t0, busy = time.time(), machine_busy_cpus()
    while busy >= threshold and time.time() - t0 < max_wait:
        busy = machine_busy_cpus(2.0)
    return busy


def run_measured(cmd):
    """Runs cmd quietly; returns the CPUs other processes used meanwhile (machine busy - child CPU)."""
    log("$ " + " ".join(cmd))
    r0, (b0, _), t0 = os.times(), cpu_jiffies(), time.time()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    r1, (b1, _), wall = os.times(), cpu_jiffies(), time.time() - t0
    child = (r1.children_user + r1.children_system) - (r0.children_user + r0.children_system)
    return max(0.0, ((b1 - b0) / os.sysconf("SC_CLK_TCK") - child) / wall)


def stale(out, *inputs):
    return not os.path.exists(out) or any(os.path.getmtime(i) > os.path.getmtime(out) for i in inputs)


def prepare(args, work):
    """Generate/compile/convert as needed; returns the engines to time {label: (cmd, json path)}."""
    spec = MODELS[args.model]
    onnx_path = spec["onnx"] if spec["gen"] is None else os.path.join(REPO, "build", "models", spec["onnx"])
    if spec["gen"]:
        gen = os.path.join(BENCH, "models", spec["gen"][0])
        if stale(onnx_path, gen):
            run([PY, gen, *spec["gen"][1:], "--out", onnx_path])
    slmc = os.path.join(args.build_dir, "compiler", "slmc")
    art = os.path.join(work, args.model + (f".{args.quantize}" if args.quantize else "") +
                       ("" if args.kv_cache == "state" else ".kvio") + ".slm")
    if stale(art, onnx_path, slmc):
        run([slmc, "compile", onnx_path, "--target=x86_64", "-o", art,
             "--dim", f"seq={args.prompt_len}", "--dim", f"past={args.prompt_len + args.decode}",
             f"--kv-cache={args.kv_cache}", *([f"--quantize={args.quantize}"] if args.quantize else [])])
    common = ["--prompt-len", str(args.prompt_len), "--decode", str(args.decode),
              "--threads", str(args.threads), "--repeat", str(args.repeat)]
    engines = {
        "slmc": [slmc, "bench", art, *common],
        "onnxruntime": ["node", os.path.join(BENCH, "peers", "ort_bench.js"), "--model", onnx_path, *common],
    }
    for bits in args.ort_nbits:
        # ONNX Runtime on the same weights in its own int4/int8 kernels (MatMulNBits, block 32).
        conv = os.path.join(BENCH, "peers", "onnx_to_matmulnbits.py")
        nbits = os.path.join(work, f"{args.model}.nbits{bits}.onnx")
        if stale(nbits, onnx_path, conv):
            run([PY, conv, onnx_path, nbits, "--bits", str(bits), "--block", "32", "--accuracy-level", "4"])
        engines[f"onnxruntime-nbits{bits}"] = ["node", os.path.join(BENCH, "peers", "ort_bench.js"),
                                               "--model", nbits, *common]
    if spec["llama"]:
        conv = os.path.join(BENCH, "peers", "onnx_to_gguf.py")
        for t in args.gguf_types:
            gguf = os.path.join(work, f"{args.model}.{t}.gguf")
            if stale(gguf, onnx_path, conv):
                run([PY, conv, onnx_path, gguf, "--type", t])
            engines[f"llama.cpp-{t}"] = ["node", os.path.join(BENCH, "peers", "llama_bench.mjs"),
                                         "--model", gguf, *common]
        if "f32" in args.gguf_types:
            # The f32 GGUF must compute what the ONNX computes, or the comparison means nothing.
            run(["node", os.path.join(BENCH, "peers", "llama_bench.mjs"), "--model",
                 os.path.join(work, f"{args.model}.f32.gguf"), "--check-onnx", onnx_path])
    return onnx_path, art, engines


def membw(args, work):
    exe = os.path.join(work, "membw")
    src = os.path.join(BENCH, "membw.c")
    if stale(exe, src):
        run(["cc", "-O3", "-march=native", "-fopenmp", src, "-o", exe])
    out = os.path.join(work, "membw.json")
    run([exe, "--threads", str(args.threads), "--json", out])
    with open(out) as f:
        return json.load(f)["read_gb_per_s"]


def time_rounds(args, work, engines):
    names = list(engines)
    runs = {n: [] for n in names}
    for r in range(args.rounds):
        order = names[r % len(names):] + names[: r % len(names)]
        for n in order:
            out = os.path.join(work, f"{n}.round{r}.json")
            if args.quiet_wait > 0:
                wait_quiet(args.quiet_wait, args.max_contention)
            others = run_measured(engines[n] + ["--json", out])
            with open(out) as f:
                runs[n].append(dict(json.load(f)["models"][0], others_cpus=others))
        log(f"round {r + 1}/{args.rounds}: " + ", ".join(
            f"{n} {runs[n][-1]['prefill_ms']:.1f}/{runs[n][-1]['decode_ms_per_token']:.2f} ms "
            f"(others {runs[n][-1]['others_cpus']:.2f} CPUs)" for n in names))
    return runs


def summarize(runs, args):
    """Medians per engine and per-round ratios, over quiet runs when every engine has some."""
    med = lambda xs: statistics.median(xs)  # noqa: E731
    quiet_ok = lambda x: x["others_cpus"] <= args.max_contention  # noqa: E731
    quiet = all(any(quiet_ok(x) for x in rs) for rs in runs.values())
    use = {n: [x for x in rs if quiet_ok(x)] if quiet else rs for n, rs in runs.items()}
    rows = {}
    for n, rs in use.items():
        last = rs[-1]
        rows[n] = dict(
            prefill_ms=med([x["prefill_ms"] for x in rs]),
            decode_ms_per_token=med([x["decode_ms_per_token"] for x in rs]),
            load_ms=med([x["load_ms"] for x in rs]),
            peak_rss_bytes=max(x["peak_rss_bytes"] for x in rs),
            size_bytes=last["size_bytes"],
            runs_used=len(rs), others_cpus=med([x["others_cpus"] for x in rs]),
            extra={k: last[k] for k in ("ggml_cpu_variant", "arena_bytes") if k in last})
        rows[n]["tokens_per_s"] = 1000.0 / rows[n]["decode_ms_per_token"]
    ratios = {}
    for n in runs:
        if n == "slmc":
            continue
        pairs = [(p, s) for p, s in zip(runs[n], runs["slmc"]) if not quiet or (quiet_ok(p) and quiet_ok(s))]
        if not pairs:  # no round where both were quiet: ratio of the medians
            ratios[n] = {k: rows[n][k] / rows["slmc"][k] for k in ("prefill_ms", "decode_ms_per_token")}
            ratios[n]["rounds"] = 0
            continue
        ratios[n] = {k: med([p[k] / s[k] for p, s in pairs]) for k in ("prefill_ms", "decode_ms_per_token")}
        ratios[n]["rounds"] = len(pairs)
    return rows, ratios, quiet


def embedding_bytes(slmc, art, onnx_path):
    """Bytes of the artifact's embedding tables (Gather data), which a decode step reads one row of:
    the quantization table's Gather rows when the tables were quantized, else float32 from the ONNX."""
    info = json.loads(subprocess.run([slmc, "inspect", art, "--json"], capture_output=True, text=True,
                                     check=True).stdout)
    quant = [r for r in info.get("quant", []) if "Gather" in r.get("layer", "") and "skipped" not in r]
    if quant:
        return sum(r["bytes_after"] for r in quant)
    import onnx
    from onnx import numpy_helper
    g = onnx.load(onnx_path, load_external_data=False).graph
    inits = {t.name: t for t in g.initializer}
    tables = {n.input[0] for n in g.node if n.op_type == "Gather" and n.input[0] in inits}
    return sum(4 * math.prod(inits[t].dims) for t in tables)


def table(rows, ratios, args):
    lines = [f"| engine | prefill {args.prompt_len} tok (ms) | decode (ms/tok) | tok/s | load (ms) | "
             f"peak RSS (MB) | file (MB) | runs | others' CPUs | slmc speedup prefill | slmc speedup decode |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n, r in rows.items():
        rp = ratios.get(n, {"prefill_ms": 1.0, "decode_ms_per_token": 1.0})
        lines.append(f"| {n} | {r['prefill_ms']:.1f} | {r['decode_ms_per_token']:.2f} | {r['tokens_per_s']:.1f} | "
                     f"{r['load_ms']:.0f} | {r['peak_rss_bytes'] / 1e6:.0f} | {r['size_bytes'] / 1e6:.0f} | "
                     f"{r['runs_used']} | {r['others_cpus']:.2f} | "
                     f"{rp['prefill_ms']:.3f} | {rp['decode_ms_per_token']:.3f} |")
    return "\n".join(lines)


def svg_chart(rows, title, path):
    """Two horizontal bar groups (prefill ms, decode ms/token), one bar per engine; hand-written SVG."""
    names = list(rows)
    colors = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948"]
    bar_h, gap, left, width = 18, 6, 150, 420
    panels = [("prefill_ms", "prefill (ms, lower is better)"), ("decode_ms_per_token", "decode (ms/token, lower is better)")]
    panel_h = 30 + len(names) * (bar_h + gap)
    height = 40 + panel_h * len(panels)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 90}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<text x="10" y="20" font-size="14" font-weight="bold">{title}</text>']
    y = 40
    for key, label in panels:
        out.append(f'<text x="10" y="{y + 12}" font-weight="bold">{label}</text>')
        top = max(rows[n][key] for n in names) or 1
        for i, n in enumerate(names):
            by = y + 22 + i * (bar_h + gap)
            w = rows[n][key] / top * width
            out.append(f'<text x="{left - 6}" y="{by + 13}" text-anchor="end">{n}</text>')
            out.append(f'<rect x="{left}" y="{by}" width="{w:.1f}" height="{bar_h}" fill="{colors[i % len(colors)]}"/>')
            out.append(f'<text x="{left + w + 4:.1f}" y="{by + 13}">{rows[n][key]:.2f}</text>')
        y += panel_h
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=sorted(MODELS), default="llama60m")
    ap.add_argument("--prompt-len", type=int, default=64)
    ap.add_argument("--decode", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--gguf-types", default="f32,q8_0,q4_0")
    ap.add_argument("--ort-nbits", default="", help="also time ONNX Runtime MatMulNBits models: 4, 8 or 4,8")
    ap.add_argument("--kv-cache", choices=("state", "io"), default="state",
                    help="slmc's KV caches: session state appended in place (default), or inputs/outputs copied per step")
    ap.add_argument("--quantize", default="", help="compile the slmc artifact with --quantize=SCHEME (w8, w4, w8a8, w4a8)")
    ap.add_argument("--quiet-wait", type=float, default=120,
                    help="max seconds to wait for an idle machine before each engine run (0: no wait)")
    ap.add_argument("--max-contention", type=float, default=0.3,
                    help="a run is quiet if other processes used at most this many CPUs meanwhile")
    ap.add_argument("--build-dir", default=os.path.join(REPO, "build"))
    ap.add_argument("--out-dir", help="default: <repo>/build/bench/<model>")
    args = ap.parse_args()
    args.gguf_types = [t for t in args.gguf_types.split(",") if t]
    args.ort_nbits = [int(b) for b in args.ort_nbits.split(",") if b]
    args.build_dir = os.path.abspath(args.build_dir)
    work = args.out_dir or os.path.join(REPO, "build", "bench", args.model)
    os.makedirs(work, exist_ok=True)

    onnx_path, art, engines = prepare(args, work)
    bw = membw(args, work)
    load_before = os.getloadavg()
    runs = time_rounds(args, work, engines)
    rows, ratios, quiet = summarize(runs, args)
    title = (f"{args.model}{' slmc ' + args.quantize if args.quantize else ''}: {args.threads} threads, prompt {args.prompt_len}, decode {args.decode}, "
             f"medians of {args.rounds} rounds")
    svg_chart(rows, title, os.path.join(work, "chart.svg"))
    weights = rows["slmc"]["size_bytes"]
    summary = dict(model=args.model, onnx=onnx_path, artifact=art, threads=args.threads,
                   prompt_len=args.prompt_len, decode=args.decode, rounds=args.rounds, repeat=args.repeat,
                   membw_read_gb_per_s=bw, loadavg_before=load_before, loadavg_after=os.getloadavg(),
                   cpu=open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].split(":", 1)[1].strip(),
                   quiet_runs_only=quiet, max_contention=args.max_contention,
                   engines=rows, ratios_peer_over_slmc=ratios, runs=runs)
    with open(os.path.join(work, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print()
    print(title + ("" if quiet else " (WARNING: not every engine had a quiet run; medians over all runs)"))
    print(table(rows, ratios, args))
    dec = rows["slmc"]["decode_ms_per_token"] / 1e3
    per_token = weights - embedding_bytes(os.path.join(args.build_dir, "compiler", "slmc"), art, onnx_path)
    print(f"\nmemory-read bandwidth ({args.threads} threads): {bw:.2f} GB/s; slmc decode reads "
          f"{per_token / 1e6:.1f} MB per token (the artifact without its embedding tables) at "
          f"{per_token / 1e9 / dec:.2f} GB/s ({per_token / 1e9 / dec / bw * 100:.0f}% of it)")
    print(f"load average before/after: {load_before[0]:.2f} / {os.getloadavg()[0]:.2f}")
    print(f"wrote {work}/summary.json and chart.svg")


if __name__ == "__main__":
    sys.exit(main())
