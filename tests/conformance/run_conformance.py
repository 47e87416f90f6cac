#!/usr/bin/python3
"""ONNX backend node-test conformance runner: compile, run and compare every case with slmc.

Usage (Debian's /usr/bin/python3; needs numpy and onnx):

  tests/conformance/run_conformance.py --slmc build/bin/slmc [--data DIR] [--work DIR]
      [--jobs 2] [--filter REGEX] [--report] [--check | --update] [--cache DIR]

For every case directory in DATA (default /usr/share/libonnx-testdata/data/node):
  (a) `slmc compile model.onnx --target=x86_64` with `--dim NAME=MAX` for each symbolic
      input dim, MAX taken from the test inputs' shapes (over all data sets);
  (b) `slmc run --input-dir test_data_set_N` for each data set;
  (c) each output against output_N.pb with ONNX backend-test tolerances
      (same shape and dtype; floats rtol=1e-3, atol=1e-7, NaN equals NaN; ints/bools exact).
A case is `passed`, `failed` (reason) or `unsupported` (the compile error names an op,
domain or dtype slmc does not support; the message is kept).

--report  writes tests/conformance/REPORT.md (summary + per-op table, out-of-scope notes
          from OUT_OF_SCOPE below).
--check   exits 1 when a case listed in expected_pass.txt does not pass (prints which).
--update  rewrites expected_pass.txt with the cases that pass now.
--results JSON  only rewrites REPORT.md from an earlier run's --json output.
--cache   keeps compiled artifacts keyed by (model bytes, dims, slmc binary) so reruns only
          compile what changed; the CTest test uses one under the build dir.
Exit codes: 0 ok, 1 check failure, 2 usage.
"""
import argparse
import collections
import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = "/usr/share/libonnx-testdata/data/node"
EXPECTED = os.path.join(HERE, "expected_pass.txt")
REPORT = os.path.join(HERE, "REPORT.md")
STEP_TIMEOUT = 120  # seconds per compile or run; the node tests are tiny

# Why whole categories of cases are out of scope; keyed by op type. Shown in REPORT.md.
OUT_OF_SCOPE = {
    "training ops (gradients and optimizer updates are not run on edge devices)":
        ["Adagrad", "Adam", "Momentum", "Gradient"],
    "string tensors (no string dtype in the artifact or runtime)":
        ["StringNormalizer", "RegexFullMatch", "StringConcat", "StringSplit", "TfIdfVectorizer",
         "LabelEncoder"],
    "sequence and optional types (graph values are tensors only)":
        ["SequenceAt", "SequenceConstruct", "SequenceEmpty", "SequenceErase", "SequenceInsert",
         "SequenceLength", "SequenceMap", "SplitToSequence", "ConcatFromSequence", "Optional",
         "OptionalGetElement", "OptionalHasElement"],
    "random generators (outputs are not reproducible; models sample on the host)":
        ["Bernoulli", "RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike",
         "Multinomial"],
    "control flow with subgraphs (If/Loop/Scan need a subgraph executor the runtime lacks)":
        ["If", "Loop", "Scan"],
}

# Known failures of ops slmc supports, with the reason (regex on the case name). Shown in REPORT.md.
EXCEPTIONS = {
    r"^test_cast(like)?_(BFLOAT16_to_FLOAT|FLOAT_to_BFLOAT16)":
        "test data quirk: ONNX 1.12 writes bfloat16 tensors as UINT16 TensorProtos (numpy has no "
        "bfloat16), so the input file's dtype does not match the model's bfloat16 input/output",
    r"^test_training_dropout(_default|_mask|_default_mask)?$":
        "Dropout in training mode with a non-zero ratio draws a random mask; no implementation "
        "can reproduce numpy's generator (ratio 0 is supported)",
    r"^test_batchnorm_.*training_mode":
        "BatchNormalization in training mode (batch statistics, running-mean outputs) is a "
        "training feature; refused at compile time",
    r"^test_cast(like)?_.*STRING":
        "string tensors are out of scope (no string dtype in the artifact); refused at compile time",
    r"^test_identity_(opt|sequence)":
        "optional and sequence types are out of scope; refused at compile time",
    r"^test_range_.*_expanded$":
        "the expanded Range is a Loop, which is out of scope; Range itself passes",
    r"^test_convtranspose_output_shape$":
        "ConvTranspose output_shape larger than the full transposed convolution (negative "
        "padding) is not implemented",
}


def npy_name(tensor_name):
    """File name slmc writes for an output: '/' and ':' become '_'."""
    return re.sub(r"[/:]", "_", tensor_name) + ".npy"


def snake_free(s):
    return s.replace("_", "").lower()


# ---- case inspection ----------------------------------------------------------------

def read_pb(path):
    import onnx

    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t


def dim_bounds(inputs, shapes_per_ds):
    """--dim bounds for symbolic input dims, named like the importer names them: dim_param,
    else "dim<k>" counted over all inputs' unnamed dims. shapes_per_ds: [[shape per input]]."""
    dims = {}
    for shapes in shapes_per_ds:
        k = 0
        for i, vi in enumerate(inputs):
            tt = vi.type.tensor_type
            if not tt.HasField("shape"):
                continue
            for j, d in enumerate(tt.shape.dim):
                if d.HasField("dim_value") and d.dim_value >= 0:
                    continue
                name = d.dim_param if d.dim_param else "dim%d" % k
                k += 0 if d.dim_param else 1
                if i < len(shapes) and shapes[i] is not None and j < len(shapes[i]):
                    dims[name] = max(dims.get(name, 1), int(shapes[i][j]), 1)
    return dims


class Case:
    def __init__(self, data_dir, name):
        import onnx

        self.name = name
        self.dir = os.path.join(data_dir, name)
        self.model_path = os.path.join(self.dir, "model.onnx")
        model = onnx.load(self.model_path, load_external_data=False)
        self.node_ops = [n.op_type for n in model.graph.node]
        inits = {i.name for i in model.graph.initializer}
        self.inputs = [vi for vi in model.graph.input if vi.name not in inits]
        self.output_names = [vi.name for vi in model.graph.output]
        self.datasets = sorted(d for d in os.listdir(self.dir) if d.startswith("test_data_set_"))
        self.shapes = []  # per data set, per input: dims of input_<i>.pb
        for ds in self.datasets:
            row = []
            for i in range(len(self.inputs)):
                p = os.path.join(self.dir, ds, "input_%d.pb" % i)
                row.append(list(read_pb(p).dims) if os.path.exists(p) else None)
            self.shapes.append(row)
        self.dims = dim_bounds(self.inputs, self.shapes)
        with open(self.model_path, "rb") as f:
            self.model_hash = hashlib.sha256(f.read()).hexdigest()


def op_of(case, single_node_ops, schema_names):
    """The op a case tests: its single node, its base case's op (for *_expanded), or a name match."""
    if len(set(case.node_ops)) == 1:
        return case.node_ops[0]
    base = re.sub(r"_expanded(_ver\d+)?$", "", case.name)
    if base != case.name and base in single_node_ops:
        return single_node_ops[base]
    key = snake_free(case.name[len("test_"):])
    best = ""
    for op in schema_names:
        s = snake_free(op)
        if key.startswith(s) and len(s) > len(snake_free(best)):
            best = op
    return best or (case.node_ops[0] if case.node_ops else "?")


# ---- compare ------------------------------------------------------------------------

def compare(out, ref):
    """None when out matches ref under ONNX backend-test rules, else the reason."""
    if out.dtype != ref.dtype:
        return "dtype %s, expected %s" % (out.dtype, ref.dtype)
    if out.shape != ref.shape:
        return "shape %s, expected %s" % (list(out.shape), list(ref.shape))
    if ref.dtype.kind in "fc":
        o, r = out.astype(np.float64), ref.astype(np.float64)
        nan_o, nan_r = np.isnan(o), np.isnan(r)
        if not np.array_equal(nan_o, nan_r):
            return "NaN positions differ"
        o, r = np.where(nan_o, 0, o), np.where(nan_r, 0, r)
        inf = np.isinf(r) | np.isinf(o)
        if not np.array_equal(o[inf], r[inf]):
            return "Inf values differ"
        o, r = np.where(inf, 0, o), np.where(inf, 0, r)
        bad = np.abs(o - r) > 1e-7 + 1e-3 * np.abs(r)
        if bad.any():
            idx = int(np.argmax(bad.reshape(-1)))
            return "%d of %d values differ (first at flat %d: %g vs %g, max abs err %g)" % (
                int(bad.sum()), bad.size, idx, o.reshape(-1)[idx], r.reshape(-1)[idx],
                float(np.max(np.abs(o - r))))
        return None
    if not np.array_equal(out, ref):
        n = int(np.sum(out != ref)) if out.shape == ref.shape else -1
        return "%d of %d values differ" % (n, ref.size)
    return None


# ---- one case -------------------------------------------------------------------------

UNSUPPORTED_RE = re.compile(r"is not supported|not implemented|unsupported", re.I)
# The compiler sizes every tensor ahead of time; an op whose output shape depends on a value
# computed at run time (here: a graph input) cannot be bounded. Like onnx-mlir's backend tests
# (CONSTANT_INPUT), such inputs are then bound to their test value as an initializer, and the
# case is reported as passing "with constant shape inputs".
VALUE_RE = re.compile(r"depend on the value of ((?:'[^']+'(?:, )?)+)")


def short(msg, limit=300):
    msg = " ".join(msg.strip().split())
    msg = msg.replace(DEFAULT_DATA + "/", "")
    return msg if len(msg) <= limit else msg[:limit] + "..."


def compile_model(slmc, model_path, dims, out):
    args = []
    for name, v in sorted(dims.items()):
        args += ["--dim", "%s=%d" % (name, v)]
    try:
        p = subprocess.run([slmc, "compile", model_path, "--target=x86_64", "-o", out] + args,
                           capture_output=True, text=True, timeout=STEP_TIMEOUT)
    except subprocess.TimeoutExpired:
        return 1, "timed out"
    return p.returncode, short(p.stderr or p.stdout)


def fold_inputs(case, names, cwork):
    """Writes a model with graph inputs `names` turned into initializers (their value in data
    set 0, which every data set must share) and per-data-set dirs with the remaining inputs.
    Returns (model path, {data set: input dir}, dims) or None when the values differ."""
    import onnx

    model = onnx.load(case.model_path, load_external_data=False)
    index = {vi.name: i for i, vi in enumerate(case.inputs)}
    values = {}
    for n in names:
        tensors = [read_pb(os.path.join(case.dir, ds, "input_%d.pb" % index[n])) for ds in case.datasets]
        if any(t.SerializeToString() != tensors[0].SerializeToString() for t in tensors[1:]):
            return None
        t = tensors[0]
        t.name = n
        values[n] = t
    keep = [vi for vi in case.inputs if vi.name not in values]
    graph_inputs = [vi for vi in model.graph.input if vi.name not in values]
    del model.graph.input[:]
    model.graph.input.extend(graph_inputs)
    model.graph.initializer.extend(values.values())
    path = os.path.join(cwork, "folded.onnx")
    onnx.save(model, path)
    dirs, shapes = {}, []
    for k, ds in enumerate(case.datasets):
        d = os.path.join(cwork, "in_" + ds)
        os.makedirs(d, exist_ok=True)
        j = 0
        row = []
        for i, vi in enumerate(case.inputs):
            if vi.name in values:
                continue
            shutil.copy(os.path.join(case.dir, ds, "input_%d.pb" % i), os.path.join(d, "input_%d.pb" % j))
            row.append(case.shapes[k][i])
            j += 1
        dirs[ds] = d
        shapes.append(row)
    return path, dirs, dim_bounds(keep, shapes)


def compile_case(case, slmc, cwork, cache_dir, slmc_hash):
    """Compiles a case (folding shape inputs if needed). Returns (artifact, input dirs, folded
    names, error status, error message); artifact is None on failure."""
    key = hashlib.sha256((case.model_hash + json.dumps(sorted(case.dims.items())) + slmc_hash)
                         .encode()).hexdigest()
    meta = os.path.join(cache_dir, key + ".json") if cache_dir else None
    if meta and os.path.exists(meta):
        with open(meta) as f:
            m = json.load(f)
        if m["error"]:
            return None, None, m["folded"], m["status"], m["error"]
        if m["folded"]:
            r = fold_inputs(case, m["folded"], cwork)
            if r:
                return os.path.join(cache_dir, key + ".slm"), r[1], m["folded"], None, None
        else:
            return os.path.join(cache_dir, key + ".slm"), {}, [], None, None
    art = os.path.join(cwork, "model.slm")
    model_path, dirs, dims, folded = case.model_path, {}, case.dims, []
    graph_inputs = {vi.name for vi in case.inputs}
    while True:
        rc, msg = compile_model(slmc, model_path, dims, art)
        if rc == 0:
            status, error = None, None
            break
        m = VALUE_RE.search(msg)
        names = sorted(set(re.findall(r"'([^']+)'", m.group(1)))) if m else []
        if names and not all(n in graph_inputs for n in names):
            # Computed from graph inputs (e.g. a window size through Cast/Sub): bind the small
            # integer inputs, the only ones shape arithmetic starts from.
            names = [vi.name for vi in case.inputs if vi.type.tensor_type.elem_type in (6, 7)
                     and all(d.HasField("dim_value") and d.dim_value <= 16
                             for d in vi.type.tensor_type.shape.dim)]
        if rc == 2 and names and all(n in graph_inputs and n not in folded for n in names):
            r = fold_inputs(case, folded + names, cwork)
            if r:
                folded += names
                model_path, dirs, dims = r
                continue
        unsupported = rc == 2 and UNSUPPORTED_RE.search(msg) and not m
        status = "unsupported" if unsupported else "failed"
        error = msg if unsupported else "compile (exit %d): %s" % (rc, msg)
        break
    if meta:
        if not error:
            shutil.copy(art, os.path.join(cache_dir, key + ".slm"))
        with open(meta + ".tmp", "w") as f:
            json.dump({"folded": folded, "status": status, "error": error}, f)
        os.replace(meta + ".tmp", meta)
    return (None if error else art), dirs, folded, status, error


def run_case(case, slmc, work, cache_dir, slmc_hash):
    """Returns (status, reason, folded inputs) with status in passed / failed / unsupported."""
    from onnx import numpy_helper

    cwork = os.path.join(work, case.name)
    shutil.rmtree(cwork, ignore_errors=True)
    os.makedirs(cwork)
    art, dirs, folded, status, error = compile_case(case, slmc, cwork, cache_dir, slmc_hash)
    if not art:
        return status, error, folded
    for ds in case.datasets:
        out_dir = os.path.join(cwork, "out_" + ds)
        try:
            p = subprocess.run([slmc, "run", art, "--input-dir", dirs.get(ds, os.path.join(case.dir, ds)),
                                "--output-dir", out_dir, "--threads", "1"],
                               capture_output=True, text=True, timeout=STEP_TIMEOUT)
        except subprocess.TimeoutExpired:
            return "failed", "run %s: timed out" % ds, folded
        if p.returncode != 0:
            return "failed", "run (exit %d): %s" % (p.returncode, short(p.stderr or p.stdout)), folded
        for i, oname in enumerate(case.output_names):
            ref_path = os.path.join(case.dir, ds, "output_%d.pb" % i)
            if not os.path.exists(ref_path):
                continue
            ref = numpy_helper.to_array(read_pb(ref_path))
            out_path = os.path.join(out_dir, npy_name(oname))
            if not os.path.exists(out_path):
                return "failed", "output '%s' not written" % oname, folded
            why = compare(np.load(out_path, allow_pickle=False), ref)
            if why:
                return "failed", "%s output '%s': %s" % (ds, oname, why), folded
    shutil.rmtree(cwork, ignore_errors=True)
    return "passed", "", folded


# ---- report ---------------------------------------------------------------------------

def write_report(results, path):
    counts = collections.Counter(r["status"] for r in results.values())
    by_op = collections.defaultdict(list)
    for name, r in results.items():
        by_op[r["op"]].append((name, r))
    scope_of = {op: why for why, ops in OUT_OF_SCOPE.items() for op in ops}
    lines = ["# ONNX backend node-test conformance",
             "",
             "Generated by `tests/conformance/run_conformance.py --report` over the %d cases in"
             % len(results),
             "`%s` (Debian `libonnx-testdata`, ONNX 1.12 opsets)." % DEFAULT_DATA,
             "A case passes when every output of every data set matches `output_*.pb` with ONNX's",
             "backend-test tolerances (rtol 1e-3, atol 1e-7; integers and bools exact; NaN equals NaN).",
             "",
             "| | cases |", "|---|---|"]
    for s in ("passed", "failed", "unsupported"):
        lines.append("| %s | %d |" % (s, counts.get(s, 0)))
    lines += ["| total | %d |" % len(results), ""]
    folded = sorted(n for n, r in results.items() if r["status"] == "passed" and r.get("folded"))
    lines += ["%d of the passing cases feed a graph input to an input whose *value* sets an output"
              % len(folded),
              "shape (Reshape's shape, Slice's starts, Resize's sizes, ...). slmc plans every tensor",
              "ahead of time, so such a shape must be known at compile time; like onnx-mlir's backend",
              "tests (CONSTANT_INPUT), the runner then binds that input to its test value as an",
              "initializer and runs the rest. Without that: `cannot bound its output shapes` at compile time.",
              ""]
    lines += ["## Out of scope", "",
              "Cases of these ops are refused at compile time with an error naming the op:", ""]
    for why, ops in OUT_OF_SCOPE.items():
        present = sorted(op for op in ops if op in by_op)
        if present:
            lines.append("- %s: %s" % (why, ", ".join(present)))
    lines += ["", "## Not implemented yet", "",
              "In scope but without a kernel yet (refused at compile time naming the op):", ""]
    has_pass = {r["op"] for r in results.values() if r["status"] == "passed"}
    todo = collections.Counter(r["op"] for r in results.values() if r["status"] == "unsupported"
                               and r["op"] not in scope_of and r["op"] not in has_pass)
    lines.append(", ".join("%s (%d)" % (op, n) for op, n in sorted(todo.items())))
    lines += ["", "## Per op", "",
              "| op | passed | failed | unsupported | notes |", "|---|---|---|---|---|"]
    for op in sorted(by_op):
        rs = by_op[op]
        c = collections.Counter(r["status"] for _, r in rs)
        notes = []
        if op in scope_of:
            notes.append("out of scope")
        reasons = collections.OrderedDict()
        for name, r in sorted(rs):
            if r["status"] != "passed":
                reasons.setdefault(r["reason_short"], []).append(name)
        for reason, names in reasons.items():
            shown = ", ".join(names[:3]) + (" +%d" % (len(names) - 3) if len(names) > 3 else "")
            notes.append("%s (%s)" % (reason.replace("|", "\\|"), shown))
        lines.append("| %s | %d | %d | %d | %s |" % (op, c["passed"], c["failed"], c["unsupported"],
                                                     "; ".join(notes)))
    lines += ["", "## Known exceptions", "",
              "Cases of ops with a kernel that do not pass, and why:", ""]
    for pat, why in EXCEPTIONS.items():
        names = sorted(n for n, r in results.items() if re.search(pat, n) and r["status"] != "passed")
        if names:
            lines.append("- %s: %s" % (", ".join("`%s`" % n for n in names), why))
    lines += ["", "## Failing and unsupported cases", ""]
    for name in sorted(results):
        r = results[name]
        if r["status"] != "passed":
            lines.append("- `%s` (%s, %s): %s" % (name, r["op"], r["status"],
                                                   r["reason"].replace("\n", " ")))
    lines += ["", "## Cases passing with constant shape inputs", ""]
    for name in folded:
        lines.append("- `%s`: %s" % (name, ", ".join("`%s`" % n for n in results[name]["folded"])))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def reason_short(status, reason):
    """A reason with case-specific details removed, for grouping in the per-op table."""
    r = re.sub(r"test_[a-z0-9_]+/", "", reason)
    m = re.search(r"(op '[^']+' is not supported[^.;]*|domain '[^']+' is not supported|"
                  r"data type \w+ is not supported|dtype \w+ is not supported[^;.]*|"
                  r"has unsupported type \w+|values differ|NaN positions differ|shape \[|"
                  r"dtype \w+, expected \w+)", r)
    if m:
        s = m.group(1)
        return "shape mismatch" if s == "shape [" else s
    return r[:120]


# ---- main -----------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--slmc", required=True)
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--work", default=None, help="scratch dir (default: a temp dir, removed after)")
    ap.add_argument("--cache", default=None, help="artifact cache dir")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--filter", default=None, help="only cases whose name matches this regex")
    ap.add_argument("--report", action="store_true")
    ap.add_argument("--json", default=None, help="write per-case results as JSON here")
    ap.add_argument("--results", default=None, help="only write REPORT.md from an earlier --json file")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true")
    mode.add_argument("--update", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if not os.path.isfile(args.slmc) or not os.path.isdir(args.data):
        print("run_conformance: --slmc must be a file and --data a directory", file=sys.stderr)
        return 2
    import onnx.defs

    names = sorted(d for d in os.listdir(args.data) if os.path.isdir(os.path.join(args.data, d)))
    if args.filter:
        names = [n for n in names if re.search(args.filter, n)]
    expected = []
    if os.path.exists(EXPECTED):
        with open(EXPECTED) as f:
            expected = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    if args.check:  # only the listed cases need running
        names = [n for n in names if n in set(expected)]
    if args.results:  # report on an earlier run's --json output
        with open(args.results) as f:
            results = json.load(f)
        write_report(results, REPORT)
        return 0

    cases = [Case(args.data, n) for n in names]
    single = {c.name: c.node_ops[0] for c in cases if len(set(c.node_ops)) == 1}
    schema_names = sorted({s.name for s in onnx.defs.get_all_schemas_with_history()})
    with open(args.slmc, "rb") as f:
        slmc_hash = hashlib.sha256(f.read()).hexdigest()
    work = args.work or tempfile.mkdtemp(prefix="slmc-conformance-")
    os.makedirs(work, exist_ok=True)
    if args.cache:
        os.makedirs(args.cache, exist_ok=True)

    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futs = {pool.submit(run_case, c, args.slmc, work, args.cache, slmc_hash): c for c in cases}
        for fut in concurrent.futures.as_completed(futs):
            c = futs[fut]
            try:
                status, reason, folded = fut.result()
            except Exception as e:  # a broken case must not stop the run
                status, reason, folded = "failed", "runner error: %r" % e, []
            results[c.name] = {"status": status, "reason": reason, "folded": folded,
                               "op": op_of(c, single, schema_names),
                               "reason_short": reason_short(status, reason) if reason else ""}
            if args.verbose:
                print("%-60s %s %s" % (c.name, status, reason[:150]), flush=True)
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)

    counts = collections.Counter(r["status"] for r in results.values())
    print("conformance: %d passed, %d failed, %d unsupported of %d" % (
        counts["passed"], counts["failed"], counts["unsupported"], len(results)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, sort_keys=True)
    if args.report:
        write_report(results, REPORT)
    if args.update:
        with open(EXPECTED, "w") as f:
            f.write("# ONNX node-test cases that must pass (tests/conformance/run_conformance.py --update)\n")
            for n in sorted(results):
                if results[n]["status"] == "passed":
                    f.write(n + "\n")
    if args.check:
        missing = [n for n in expected if n not in results]
        broken = [n for n in expected if n in results and results[n]["status"] != "passed"]
        for n in missing:
            print("MISSING %s (listed in expected_pass.txt, no such case)" % n)
        for n in broken:
            print("REGRESSED %s: %s %s" % (n, results[n]["status"], results[n]["reason"]))
        if missing or broken:
            return 1
        print("conformance check: all %d expected cases pass" % len(expected))
    return 0


if __name__ == "__main__":
    sys.exit(main())
