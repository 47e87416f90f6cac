"""`slmc generate`: the same seed gives the same text, another seed another text, greedy is repeatable,
the text is streamed after the prompt with the requested token count, the speed line is printed, and
bad input exits 2 with a message. Never asserts a time.

  generate_check.py --slmc SLMC --work DIR
"""
import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def gen(args, art, *extra):
    cmd = [args.slmc, "generate", art, *extra]
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, capture_output=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slmc", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    art = os.path.join(args.work, "tiny_llama.slm")
    subprocess.run([args.slmc, "compile", os.path.join(REPO, "benchmarks", "models", "tiny_llama.onnx"),
                    "--target=x86_64", "-o", art, "--dim", "seq=16", "--dim", "past=96"], check=True,
                   capture_output=True)
    prompt = "Once upon a time, in a land far away, "  # longer than seq: prefilled in chunks
    sampled = ["--prompt", prompt, "--max-tokens", "24", "--temperature", "1.0", "--top-k", "0"]
    a = gen(args, art, *sampled, "--seed", "5")
    b = gen(args, art, *sampled, "--seed", "5")
    c = gen(args, art, *sampled, "--seed", "6")
    for r in (a, b, c):
        if r.returncode != 0:
            sys.exit(f"FAIL: generate exited {r.returncode}: {r.stderr.decode(errors='replace')}")
    if a.stdout != b.stdout:
        sys.exit("FAIL: the same seed gave different text")
    if a.stdout == c.stdout:
        sys.exit("FAIL: seeds 5 and 6 gave the same 24 sampled bytes")
    want = len(prompt.encode()) + 24 + 1  # bytes tokenizer: one byte per token, then a newline
    if not a.stdout.startswith(prompt.encode()) or len(a.stdout) != want:
        sys.exit(f"FAIL: stdout is {len(a.stdout)} bytes, expected the prompt + 24 tokens + newline ({want})")
    if b"decode: 23 tokens" not in a.stderr or b"prefill: " not in a.stderr:
        sys.exit(f"FAIL: no speed line on stderr: {a.stderr!r}")
    print("ok: same seed same text, another seed another text, speed line")
    g1 = gen(args, art, "--prompt", "abc", "--max-tokens", "10", "--temperature", "0")
    g2 = gen(args, art, "--prompt", "abc", "--max-tokens", "10", "--temperature", "0", "--seed", "9")
    if g1.returncode or g1.stdout != g2.stdout:
        sys.exit("FAIL: greedy decoding depends on the seed")
    print("ok: greedy is seed-independent")
    bad = [
        (["--prompt", "x", "--tokenizer", os.path.join(args.work, "missing.json")], b"missing.json"),
        (["--prompt", "y" * 120], b"caches at most 96"),
        (["--max-tokens", "3"], b"--prompt"),
        (["--prompt", "x", "--top-k", "-1"], b"--top-k"),
    ]
    for extra, msg in bad:
        r = gen(args, art, *extra)
        if r.returncode != 2 or msg not in r.stderr:
            sys.exit(f"FAIL: {extra}: exit {r.returncode}, stderr {r.stderr!r}; expected 2 and {msg!r}")
    r = gen(args, os.path.join(args.work, "none.slm"), "--prompt", "x")
    if r.returncode != 2:
        sys.exit(f"FAIL: a missing artifact exited {r.returncode}")
    print("ok: bad input exits 2 with a message")
    print("generate_check: OK")


if __name__ == "__main__":
    main()
