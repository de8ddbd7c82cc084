#!/usr/bin/env python3
"""foreign_api_check.py - every public function is reachable from any thread.

src/cgocall_api.list names the functions reached through a shim
(src/cgocall_shims.S) that runs a foreign thread's call as a goroutine; its
header comment names those that need no goroutine and are called directly.
Checked here:

  1. every GORT_API function of include/gort.h and gort/impl.h is in exactly
     one of the two lists, and neither list names anything else;
  2. no shimmed function takes an argument on the stack: at most six
     integer or pointer arguments, none of them a struct or a floating-point
     value (the shim calls the function one frame deeper than its caller
     placed it, so stack arguments would be missed).

Usage: foreign_api_check.py --root <source tree>
"""
import argparse
import re
import sys
from pathlib import Path

DECL = re.compile(r"GORT_API\s+(?!extern)[^;{]*?\b(gort_\w+|gort__\w+)\s*\(([^;]*?)\)\s*;", re.S)


def declared(root):
    text = (root / "include/gort.h").read_text() + (root / "include/gort/impl.h").read_text()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return {m.group(1): " ".join(m.group(2).split()) for m in DECL.finditer(text)}


def lists(root):
    shimmed, direct = [], []
    for line in (root / "src/cgocall_api.list").read_text().splitlines():
        if line.startswith("#"):
            # the header comment's list: "#   name name ..." lines
            direct += re.findall(r"\b(gort_[a-z0-9_]+)\b(?!\.)", line.split("(")[0]) \
                if re.match(r"#\s+gort_", line) else []
        elif line.strip():
            shimmed.append(line.strip())
    return shimmed, direct


def split_args(args):
    if args in ("", "void"):
        return []
    depth, cur, out = 0, "", []
    for ch in args:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    out.append(cur.strip())
    return out


def stack_free(arg):
    """True if arg is passed in a general register: a pointer or an integer."""
    if "*" in arg or "(" in arg:  # a pointer, or a function pointer
        return True
    if re.search(r"\b(float|double|struct|union)\b", arg):
        return False
    return True  # integers and typedefs of them (gort_trace_task, int64_t, size_t...)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    root = Path(ap.parse_args().root)
    decls = declared(root)
    shimmed, direct = lists(root)
    bad = []
    for name in sorted(set(shimmed) & set(direct)):
        bad.append(f"{name}: in both lists of src/cgocall_api.list")
    for name in sorted(set(decls) - set(shimmed) - set(direct)):
        bad.append(f"{name}: declared GORT_API but in neither list of src/cgocall_api.list")
    for name in sorted((set(shimmed) | set(direct)) - set(decls)):
        bad.append(f"{name}: in src/cgocall_api.list but not a GORT_API function")
    for name in sorted(set(shimmed) & set(decls)):
        args = split_args(decls[name])
        if len(args) > 6:
            bad.append(f"{name}: {len(args)} arguments; the shim passes at most 6 (registers)")
        for a in args:
            if not stack_free(a):
                bad.append(f"{name}: argument '{a}' is not passed in a general register")
    for b in bad:
        print(f"foreign_api_check: {b}", file=sys.stderr)
    if bad:
        return 1
    print(f"PASS foreign_api_check ({len(shimmed)} shimmed, {len(direct)} direct)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
