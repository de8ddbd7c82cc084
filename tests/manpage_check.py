#!/usr/bin/env python3
"""manpage_check.py GORT_H GORT_3 - gort(3) documents every call gort.h
declares (each GORT_API function's name is on the page), and, where man
is installed, renders without a warning."""
import re
import shutil
import subprocess
import sys

header, page = open(sys.argv[1]).read(), open(sys.argv[2]).read()
public = header.split("/* ---- Private")[0]
names = set(re.findall(r"GORT_API[^;(]*?\b(gort_\w+)\s*\(", public))
missing = sorted(n for n in names if n not in page)
if len(names) < 50 or missing:
    sys.exit("manpage_check: %d calls found in gort.h; missing from gort(3): %s"
             % (len(names), ", ".join(missing) or "(none: too few found)"))
if shutil.which("man"):
    r = subprocess.run(["man", "--warnings", "-l", sys.argv[2]], capture_output=True, text=True,
                       env={"MANWIDTH": "80", "PATH": "/usr/bin:/bin"})
    if r.returncode != 0 or r.stderr.strip():
        sys.exit("manpage_check: man -l gort.3: %s" % (r.stderr.strip() or r.returncode))
print("manpage_check: all %d calls documented" % len(names))
