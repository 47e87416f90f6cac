#!/usr/bin/python3
"""Checks runtime/schema/README.md's rules on the diff between the current slm.fbs and each golden one.

Rules checked (a golden slm.fbs is the schema an older slmc wrote its golden artifacts with):
  - no table, enum, union, field or enum value is deleted or renamed;
  - fields are append-only: the golden fields are, in order, the first fields of the current table
    (explicit `id:` attributes must not change);
  - a field keeps its type and its default; it may become `(deprecated)`, never lose that mark;
  - enum values keep their numbers and underlying type; new values only after the old ones;
  - file_identifier and root_type stay.

Usage: check_schema.py --current runtime/schema/slm.fbs --golden-dir tests/compat/golden
       check_schema.py --selftest   (the checker's own tests: each rule must catch its violation)
"""
import argparse
import glob
import os
import re
import sys
import unittest


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


FIELD_RE = re.compile(r"^\s*(\w+)\s*:\s*([\[\]\w.:]+)\s*(?:=\s*([^()\s;]+))?\s*(?:\(([^)]*)\))?\s*;\s*$")


def parse(text):
    """Returns {'tables': {name: [field...]}, 'enums': {name: (type, [(name, value)])}, 'file_identifier', 'root_type'}."""
    text = strip_comments(text)
    schema = {"tables": {}, "enums": {}, "file_identifier": None, "root_type": None}
    m = re.search(r'file_identifier\s+"([^"]*)"\s*;', text)
    schema["file_identifier"] = m.group(1) if m else None
    m = re.search(r"root_type\s+([\w.]+)\s*;", text)
    schema["root_type"] = m.group(1) if m else None
    for kind, name, base, body in re.findall(r"\b(table|struct|enum|union)\s+(\w+)\s*(?::\s*(\w+))?\s*(?:\([^)]*\))?\s*\{(.*?)\}",
                                             text, flags=re.S):
        if kind in ("table", "struct"):
            fields = []
            for decl in body.split(";"):
                if not decl.strip():
                    continue
                fm = FIELD_RE.match(decl + ";")
                if not fm:
                    raise ValueError(f"{kind} {name}: cannot parse field '{decl.strip()}'")
                fname, ftype, default, attrs = fm.groups()
                attrs = [a.strip() for a in (attrs or "").split(",") if a.strip()]
                fid = next((a.split(":")[1].strip() for a in attrs if a.startswith("id:")), None)
                fields.append({"name": fname, "type": ftype, "default": default, "deprecated": "deprecated" in attrs,
                               "id": fid})
            schema["tables"][name] = {"kind": kind, "fields": fields}
        else:
            values, nxt = [], 0
            for item in body.split(","):
                item = item.strip()
                if not item:
                    continue
                if "=" in item:
                    vname, v = [x.strip() for x in item.split("=", 1)]
                    nxt = int(v, 0)
                else:
                    vname = item
                values.append((vname, nxt))
                nxt += 1
            schema["enums"][name] = {"kind": kind, "type": base, "values": values}
    return schema


def normalize_default(ftype, default):
    if default is None:
        return {"bool": "false", "float": "0", "double": "0"}.get(ftype, "0" if ftype in (
            "byte", "ubyte", "short", "ushort", "int", "uint", "long", "ulong", "int8", "uint8", "int16", "uint16",
            "int32", "uint32", "int64", "uint64", "float32", "float64") else None)
    if ftype in ("float", "double", "float32", "float64"):
        try:
            return repr(float(default))
        except ValueError:
            return default
    return default


def check(old, new):
    """Returns the rule violations of going from schema `old` to schema `new` (empty: fine)."""
    errors = []
    if old["file_identifier"] != new["file_identifier"]:
        errors.append(f"file_identifier changed from {old['file_identifier']!r} to {new['file_identifier']!r}")
    if old["root_type"] != new["root_type"]:
        errors.append(f"root_type changed from {old['root_type']} to {new['root_type']}")
    for tname, t in old["tables"].items():
        if tname not in new["tables"]:
            errors.append(f"table {tname} was deleted or renamed")
            continue
        nt = new["tables"][tname]
        if t["kind"] != nt["kind"]:
            errors.append(f"{tname} changed from {t['kind']} to {nt['kind']}")
        if t["kind"] == "struct" and t["fields"] != nt["fields"]:
            errors.append(f"struct {tname} changed (structs can never change)")
            continue
        for i, f in enumerate(t["fields"]):
            where = f"{tname}.{f['name']}"
            if i >= len(nt["fields"]):
                errors.append(f"field {where} was deleted (deprecate it instead)")
                continue
            nf = nt["fields"][i]
            if nf["name"] != f["name"]:
                present = any(x["name"] == f["name"] for x in nt["fields"])
                errors.append(f"field {where} " + (f"moved from position {i} (fields are append-only)" if present
                                                   else f"was deleted or renamed (position {i} is now '{nf['name']}')"))
                continue
            if nf["type"] != f["type"]:
                errors.append(f"field {where} changed type from {f['type']} to {nf['type']}")
            if normalize_default(f["type"], f["default"]) != normalize_default(nf["type"], nf["default"]):
                errors.append(f"field {where} changed its default from {f['default'] or '(none)'} to "
                              f"{nf['default'] or '(none)'}")
            if f["deprecated"] and not nf["deprecated"]:
                errors.append(f"field {where} lost its (deprecated) mark")
            if f["id"] != nf["id"]:
                errors.append(f"field {where} changed its id from {f['id']} to {nf['id']}")
    for ename, e in old["enums"].items():
        if ename not in new["enums"]:
            errors.append(f"{e['kind']} {ename} was deleted or renamed")
            continue
        ne = new["enums"][ename]
        if e["type"] != ne["type"]:
            errors.append(f"{e['kind']} {ename} changed its type from {e['type']} to {ne['type']}")
        newvals = dict(ne["values"])
        for vname, v in e["values"]:
            if vname not in newvals:
                errors.append(f"{ename}.{vname} was deleted or renamed")
            elif newvals[vname] != v:
                errors.append(f"{ename}.{vname} changed its value from {v} to {newvals[vname]}")
        oldmax = max((v for _, v in e["values"]), default=-1)
        oldnames = {n for n, _ in e["values"]}
        for vname, v in ne["values"]:
            if vname not in oldnames and v <= oldmax:
                errors.append(f"{ename}.{vname} = {v} is not after the existing values (max {oldmax})")
    return errors


class CheckerSelfTest(unittest.TestCase):
    BASE = """
        namespace slm.fb; file_identifier "SLMC";
        enum Storage : byte { Arena = 0, Constant = 1 }
        table Tensor { name: string; dtype: int; axis: int = -1; scale: float = 1.0; }
        table Model { format_version: uint; tensors: [Tensor]; }
        root_type Model;
    """

    def errs(self, new):
        return check(parse(self.BASE), parse(new))

    def test_same_schema_passes(self):
        self.assertEqual(self.errs(self.BASE), [])

    def test_appended_field_and_enum_value_pass(self):
        new = self.BASE.replace("scale: float = 1.0; }", "scale: float = 1.0; extra: [long]; }").replace(
            "Constant = 1 }", "Constant = 1, Input = 2 }")
        self.assertEqual(self.errs(new), [])

    def test_deprecating_passes(self):
        self.assertEqual(self.errs(self.BASE.replace("dtype: int;", "dtype: int (deprecated);")), [])

    def test_deleted_field_fails(self):
        self.assertIn("deleted", " ".join(self.errs(self.BASE.replace("dtype: int;", ""))))

    def test_inserted_field_fails(self):
        e = self.errs(self.BASE.replace("dtype: int;", "inserted: int; dtype: int;"))
        self.assertTrue(e and "position" in e[0], e)

    def test_changed_default_fails(self):
        self.assertIn("default", " ".join(self.errs(self.BASE.replace("axis: int = -1", "axis: int = 0"))))
        self.assertIn("default", " ".join(self.errs(self.BASE.replace("dtype: int;", "dtype: int = 1;"))))

    def test_equal_default_spelled_differently_passes(self):
        self.assertEqual(self.errs(self.BASE.replace("scale: float = 1.0", "scale: float = 1")), [])

    def test_changed_type_fails(self):
        self.assertIn("type", " ".join(self.errs(self.BASE.replace("dtype: int;", "dtype: long;"))))

    def test_deleted_table_fails(self):
        new = self.BASE.replace("table Tensor { name: string; dtype: int; axis: int = -1; scale: float = 1.0; }", "")
        self.assertIn("table Tensor", " ".join(self.errs(new)))

    def test_enum_renumbered_fails(self):
        self.assertIn("value", " ".join(self.errs(self.BASE.replace("Constant = 1", "Constant = 2"))))

    def test_enum_value_inserted_before_fails(self):
        new = self.BASE.replace("Arena = 0, Constant = 1", "Arena = 0, Inserted = 1, Constant = 2")
        self.assertTrue(len(self.errs(new)) >= 1)

    def test_file_identifier_change_fails(self):
        self.assertIn("file_identifier", " ".join(self.errs(self.BASE.replace('"SLMC"', '"SLMX"'))))

    def test_real_schema_parses(self):
        here = os.path.dirname(os.path.abspath(__file__))
        s = parse(open(os.path.join(here, "..", "..", "runtime", "schema", "slm.fbs")).read())
        self.assertIn("Model", s["tables"])
        self.assertEqual(s["root_type"], "Model")
        self.assertGreater(len(s["tables"]["Tensor"]["fields"]), 5)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--current")
    ap.add_argument("--golden-dir")
    ap.add_argument("--selftest", action="store_true")
    args = ap.parse_args()
    if args.selftest:
        unittest.main(argv=[sys.argv[0], "-v"], exit=True)
    if not args.current or not args.golden_dir:
        ap.error("--current and --golden-dir are required (or --selftest)")
    goldens = sorted(glob.glob(os.path.join(args.golden_dir, "v*", "slm.fbs")))
    if not goldens:
        print(f"check_schema: no golden slm.fbs under {args.golden_dir}")
        return 1
    current = parse(open(args.current).read())
    failed = False
    for g in goldens:
        errors = check(parse(open(g).read()), current)
        for e in errors:
            print(f"check_schema: {args.current} vs {g}: {e}")
        failed |= bool(errors)
        if not errors:
            print(f"check_schema: {args.current} keeps the rules against {g}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
