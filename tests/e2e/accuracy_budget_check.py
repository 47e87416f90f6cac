"""`slmc compile --quantize=SCHEME --max-accuracy-drop X --calibration-data DIR`.

On tiny_llama with w4: a loose budget keeps every layer quantized; a tight one keeps some layers
in float (the quant table in `slmc inspect --json` says which and why), and the artifact really
meets it: the logits of `slmc run` on every calibration set, against the fp32 artifact's, have a
relative L2 error <= X (computed here with numpy, not taken from the compiler). With
--no-accuracy-backoff the tight budget fails with exit 1 and writes nothing; without
--calibration-data the option is refused with exit 2.

  accuracy_budget_check.py --slmc SLMC --work DIR
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.join(os.path.dirname(os.path.dirname(HERE)), "benchmarks", "models", "tiny_llama.onnx")
DIMS = ["--dim", "seq=16", "--dim", "past=16", "--kv-cache=state"]  # state: `slmc run` needs only input_ids


def run(cmd, check=True):
    print("+", " ".join(cmd), flush=True)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check and r.returncode != 0:
        sys.exit(f"FAIL: exit {r.returncode}: {r.stderr[-2000:]}")
    return r


def logits(args, art, set_dir, out_dir):
    run([args.slmc, "run", art, "--input-dir", set_dir, "--output-dir", out_dir])
    return np.load(os.path.join(out_dir, "logits.npy")).astype(np.float64)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slmc", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    cal = os.path.join(args.work, "cal")
    rng = np.random.default_rng(3)
    sets = []
    for i in range(3):
        d = os.path.join(cal, f"set{i}")
        os.makedirs(d, exist_ok=True)
        np.save(os.path.join(d, "input_ids.npy"), rng.integers(0, 256, (1, 16)).astype(np.int64))
        sets.append(d)
    fp32 = os.path.join(args.work, "fp32.slm")
    run([args.slmc, "compile", MODEL, "-o", fp32, *DIMS])

    for budget, want_float in ((0.5, False), (0.03, True)):
        art = os.path.join(args.work, f"w4_{budget}.slm")
        r = run([args.slmc, "compile", MODEL, "-o", art, *DIMS, "--quantize=w4", "--max-accuracy-drop", str(budget),
                 "--calibration-data", cal])
        quant = json.loads(run([args.slmc, "inspect", art, "--json"]).stdout)["quant"]
        kept = [q["layer"] for q in quant if "max-accuracy-drop" in q.get("skipped", "")]
        quantized = [q["layer"] for q in quant if "skipped" not in q]
        if bool(kept) != want_float or not quantized:
            sys.exit(f"FAIL: budget {budget}: kept in float {kept}, quantized {quantized}\n{r.stderr}")
        diff2 = ref2 = worst = 0.0
        for i, s in enumerate(sets):
            f = logits(args, fp32, s, os.path.join(args.work, f"out_fp32_{i}"))
            q = logits(args, art, s, os.path.join(args.work, f"out_{budget}_{i}"))
            diff2 += np.sum((q - f) ** 2)
            ref2 += np.sum(f ** 2)
            worst = max(worst, np.linalg.norm(q - f) / np.linalg.norm(f))
        pooled = np.sqrt(diff2 / ref2)  # the compiler's measure: relative L2 over all sets together
        print(f"budget {budget}: {len(kept)} layer(s) in float, {len(quantized)} quantized, error {pooled:.4g} "
              f"(worst set {worst:.4g})")
        if pooled > budget:
            sys.exit(f"FAIL: budget {budget}: the artifact's logits error over the sets is {pooled:.4g}")
        if not want_float and pooled < 1e-6:
            sys.exit(f"FAIL: budget {budget}: error {pooled} — the artifact does not look quantized")

    strict = os.path.join(args.work, "strict.slm")
    r = run([args.slmc, "compile", MODEL, "-o", strict, *DIMS, "--quantize=w4", "--max-accuracy-drop", "0.03",
             "--calibration-data", cal, "--no-accuracy-backoff"], check=False)
    if r.returncode != 1 or "exceeds --max-accuracy-drop" not in r.stderr or os.path.exists(strict):
        sys.exit(f"FAIL: --no-accuracy-backoff: exit {r.returncode}, file {os.path.exists(strict)}: {r.stderr[-500:]}")
    r = run([args.slmc, "compile", MODEL, "-o", strict, *DIMS, "--quantize=w4", "--max-accuracy-drop", "0.03"],
            check=False)
    if r.returncode != 2 or "--calibration-data" not in r.stderr:
        sys.exit(f"FAIL: no calibration data: exit {r.returncode}: {r.stderr[-500:]}")
    print("accuracy_budget_check: OK")


if __name__ == "__main__":
    main()
