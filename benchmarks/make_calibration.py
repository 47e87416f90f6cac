"""Calibration sets for an LM's --calibration-data: windows of the Brown *training* text as input_ids.

  /usr/bin/python3 benchmarks/make_calibration.py --out build/data/calib [--sets 16] [--bytes 128] [--seed 0]

Writes OUT/sNN/input_ids.npy (int64 [1, --bytes]) from --sets seeded random offsets in
build/data/brown_train.txt (benchmarks/models/brown_data.py writes it), so the held-out eval text
never reaches the calibration (GPTQ/AWQ, --max-accuracy-drop, pruning importance).
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "models"))
from brown_data import DATA_DIR, DEFAULT_HELDOUT, prepare_data  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--sets", type=int, default=16)
    ap.add_argument("--bytes", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    train = os.path.join(DATA_DIR, "brown_train.txt")
    if not os.path.exists(train):
        prepare_data(None, DEFAULT_HELDOUT)
    text = open(train, "rb").read()
    rng = np.random.default_rng(args.seed)
    for i in range(args.sets):
        o = int(rng.integers(0, len(text) - args.bytes))
        d = os.path.join(args.out, f"s{i:02d}")
        os.makedirs(d, exist_ok=True)
        ids = np.frombuffer(text[o:o + args.bytes], dtype=np.uint8).astype(np.int64).reshape(1, args.bytes)
        np.save(os.path.join(d, "input_ids.npy"), ids)
    print(f"wrote {args.sets} sets of {args.bytes} bytes to {args.out}")


if __name__ == "__main__":
    main()
