#!/usr/bin/python3
"""Writes the fuzzers' seed corpora: OUT/{onnx_import,artifact_load,npy,tensor_proto}/.

Seeds come from the project's models (benchmarks/models), ONNX's backend node tests
(/usr/share/libonnx-testdata/data/node: model.onnx and input/output .pb files), artifacts compiled
from both with --slmc, and .npy files of every dtype numpy writes. Deterministic: the same inputs
give the same seeds.

Usage: make_seeds.py [--slmc build-asan/compiler/slmc] --models benchmarks/models --out build-asan/tests/fuzz/seeds
"""
import argparse
import glob
import os
import shutil
import subprocess
import sys

import numpy as np

NODE_TESTS = "/usr/share/libonnx-testdata/data/node"
# Node tests compiled into artifact seeds: one per kernel family the loader and executor reach.
ARTIFACT_NODE_TESTS = [
    "test_add", "test_matmul_2d", "test_gemm_default_no_bias", "test_conv_with_strides_padding", "test_gather_0",
    "test_softmax_axis_1", "test_reshape_reduced_dims", "test_transpose_default", "test_concat_2d_axis_0",
    "test_slice", "test_maxpool_2d_default", "test_layer_normalization_2d_axis0", "test_where_example",
    "test_cast_FLOAT_to_FLOAT16", "test_reduce_mean_default_axes_keepdims_example", "test_expand_dim_changed",
    "test_quantizelinear", "test_qlinearmatmul_2D", "test_resize_upsample_scales_nearest",
    "test_split_equal_parts_1d", "test_top_k", "test_cumsum_1d", "test_range_float_type_positive_delta",
]


def copy_into(src, dst_dir, name):
    os.makedirs(dst_dir, exist_ok=True)
    shutil.copyfile(src, os.path.join(dst_dir, name))


def onnx_seeds(models, out):
    d = os.path.join(out, "onnx_import")
    for m in ("tiny_cnn.onnx", "tiny_llama.onnx", "tiny_gpt2.onnx"):
        copy_into(os.path.join(models, m), d, m)
    for model in sorted(glob.glob(os.path.join(NODE_TESTS, "*", "model.onnx"))):
        copy_into(model, d, os.path.basename(os.path.dirname(model)) + ".onnx")


def tensor_proto_seeds(out):
    d = os.path.join(out, "tensor_proto")
    for pb in sorted(glob.glob(os.path.join(NODE_TESTS, "*", "test_data_set_0", "*.pb"))):
        parts = pb.split(os.sep)
        if os.path.getsize(pb) <= 8192:
            copy_into(pb, d, parts[-3] + "." + parts[-1])


def npy_seeds(out):
    d = os.path.join(out, "npy")
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(0)
    for dt in ("float32", "float64", "float16", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64",
               "uint64", "bool"):
        for shape in ((), (0,), (3,), (2, 3), (1, 2, 2, 2)):
            a = (rng.standard_normal(shape) * 10).astype(dt)
            np.save(os.path.join(d, f"{dt}_{'x'.join(map(str, shape)) or 'scalar'}.npy"), a)
    np.save(os.path.join(d, "fortran.npy"), np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
    np.save(os.path.join(d, "big_endian.npy"), np.arange(4, dtype=">i4"))
    with open(os.path.join(d, "v2_header.npy"), "wb") as f:
        np.lib.format.write_array(f, np.arange(4, dtype=np.float32), version=(2, 0))


def compile_seed(slmc, model, out_path, extra=()):
    cmd = [slmc, "compile", model, "--target=x86_64", "-o", out_path, *extra]
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        print(f"make_seeds: skipped {os.path.basename(model)}: {p.stderr.strip().splitlines()[-1:]}")
        return False
    return True


def artifact_seeds(slmc, models, out):
    d = os.path.join(out, "artifact_load")
    os.makedirs(d, exist_ok=True)
    # The committed golden artifacts (tests/compat), usable without a compiler (runtime-only builds).
    golden = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "compat", "golden")
    for slm in sorted(glob.glob(os.path.join(golden, "*", "*", "model.slm"))):
        parts = slm.split(os.sep)
        copy_into(slm, d, f"golden_{parts[-3]}_{parts[-2]}.slm")
    if not slmc:
        return
    cnn = os.path.join(models, "tiny_cnn.onnx")
    made = compile_seed(slmc, cnn, os.path.join(d, "tiny_cnn.slm"))
    made += compile_seed(slmc, os.path.join(models, "tiny_llama.onnx"), os.path.join(d, "tiny_llama_w4.slm"),
                         ["--dim", "seq=4", "--dim", "past=4", "--quantize=w4"])
    made += compile_seed(slmc, os.path.join(models, "tiny_gpt2.onnx"), os.path.join(d, "tiny_gpt2_kv_state.slm"),
                         ["--dim", "seq=4", "--dim", "past=8", "--kv-cache=state"])  # state tensors, in-place attention
    made += compile_seed(slmc, os.path.join(models, "tiny_llama.onnx"), os.path.join(d, "tiny_llama_w4a8.slm"),
                         ["--dim", "seq=4", "--dim", "past=4", "--quantize=w4a8"])  # group activation scales
    made += compile_seed(slmc, os.path.join(models, "tiny_llama.onnx"), os.path.join(d, "tiny_llama_sp24.slm"),
                         ["--dim", "seq=4", "--dim", "past=4", "--prune=2:4"])  # slm.matmul_sp24
    made += compile_seed(slmc, os.path.join(models, "tiny_llama.onnx"), os.path.join(d, "tiny_llama_sparse.slm"),
                         ["--dim", "seq=4", "--dim", "past=4", "--prune=magnitude:0.6"])  # slm.matmul_sparse
    made += compile_seed(slmc, os.path.join(models, "tiny_llama.onnx"), os.path.join(d, "tiny_llama_sparse_w8a8.slm"),
                         ["--dim", "seq=4", "--dim", "past=4", "--prune=2:4", "--quantize=w8a8"])  # matmul_a8_sparse
    for t in ARTIFACT_NODE_TESTS:
        model = os.path.join(NODE_TESTS, t, "model.onnx")
        if os.path.isfile(model):
            made += compile_seed(slmc, model, os.path.join(d, t + ".slm"))
    if made == 0:
        sys.exit("make_seeds: no artifact compiled; is --slmc working?")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slmc", help="compiles more artifact seeds (optional: the golden artifacts are always used)")
    ap.add_argument("--models", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if os.path.isdir(args.out):
        shutil.rmtree(args.out)
    if args.slmc:
        onnx_seeds(args.models, args.out)
    tensor_proto_seeds(args.out)
    npy_seeds(args.out)
    artifact_seeds(args.slmc, args.models, args.out)
    for name in sorted(os.listdir(args.out)):
        print(f"make_seeds: {name}: {len(os.listdir(os.path.join(args.out, name)))} seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
