#!/usr/bin/env python3
"""reading_check.py - fail when READING.md names what the tree no longer has.

    tests/reading_check.py [--root DIR] [page.md ...]    (default: READING.md)

READING.md is a map of the code, and a map that names a function, file or
type the code has lost sends its reader looking for nothing (it named
print_goroutine for a while after print_goroutine was gone).  CTest runs
this (reading_check); it prints one line per stale name, file:line first,
and exits 1 if there is any.

What is checked, in the text outside fenced code blocks:
  - every `backticked` span:
      a path (`src/proc.c`, `src/sync/`, `proc.c:120`, `sync/*.c`) must
        exist: from the root when it starts with one of the tree's top
        directories, else as the tail of some file's path; with :N the
        file must have N lines;
      a "quoted string" must be in the code of src/ or include/ (a
        message the runtime prints);
      anything else is code: every identifier in it (`runqput(pp, g,
        next=true)`, `gp->preempt`, `G.syscallctx`, `a_b/c` for a_b and
        a_c, `gort_cond_*` for any name with that prefix, `_at` after
        `foo` for foo_at) must be a word of the code (comments stripped)
        in src/, include/, tests/, examples/, bench/, fuzz/ or tools/;
  - a file name outside backticks (runtime2.h, sync/mutex.c), as a path;
  - where a name is said to be somewhere - `name` (`file.c`) or `name`
    (file.c: ...), or a table row whose column "file" names files - the
    name must be in one of those files, not merely somewhere.

What is not checked, because it names Go's runtime, not gort:
  - a table column whose header starts with "Go" (the Go -> gort map),
    except where the gort cell says "same" (same names): then the Go
    cell's plain names are gort's too;
  - a span in prose whose clause is about Go: "Go" or "Go's" since the
    last . ; : (or list item), and no "gort" after it (Go's
    `internal/poll`; but not: Go's `findRunnable` is gort's `findrunnable`);
  - *.go file names.

A system call gort makes through syscall(2) counts as found when the code
has its number: `tgkill` as SYS_tgkill.  A name the page must use that
is still no word of the code (something gort reaches only through a
pointer, say) goes into EXTERNAL below, with the reason, after checking
that the name is right.
"""
import argparse
import fnmatch
import os
import re
import sys

# Names READING.md may use that are no word of gort's code: name -> why.
EXTERNAL = {
}

TOP_DIRS = ("src", "include", "tests", "examples", "bench", "fuzz", "tools")
CODE_EXTS = (".c", ".h", ".S")
# Extensions that make a word a file name; .go names Go's sources.
FILE_EXTS = ("c", "h", "S", "py", "sh", "md", "txt", "cmake", "json")
FILE_RE = r"(?:[\w.*-]+/)*[\w*-]+\.(?:" + "|".join(FILE_EXTS) + r")(?::\d+)?"
PLAIN_FILE = re.compile(r"(?<![\w/.`*-])(" + FILE_RE + r")(?![\w/`])")
IDENT = re.compile(r"[A-Za-z_]\w*")
C_WORDS = {"struct", "union", "enum", "const", "void", "int", "char", "bool", "true",
           "false", "NULL", "sizeof", "return", "if", "else", "for", "while"}


def strip_comments(text):
    """C text without its comments (strings kept: a name may be a key)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


class Tree:
    def __init__(self, root):
        self.root = root
        self.files = []          # every file, relative to root
        self.dirs = set()
        self.words = {}          # code file -> its words
        self.strings = ""        # src/ and include/ code, literals joined
        for top, dirnames, filenames in os.walk(root):
            rel = os.path.relpath(top, root)
            # Build trees (they hold a CMakeCache.txt) and hidden directories hold no sources.
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and
                                 not os.path.exists(os.path.join(top, d, "CMakeCache.txt")))
            if rel != ".":
                self.dirs.add(rel)
            for f in filenames:
                path = os.path.normpath(os.path.join(rel, f))
                self.files.append(path)
                if path.split(os.sep)[0] in TOP_DIRS and path.endswith(CODE_EXTS):
                    with open(os.path.join(root, path), encoding="utf-8", errors="replace") as fh:
                        code = strip_comments(fh.read())
                    self.words[path] = set(IDENT.findall(code))
                    if path.split(os.sep)[0] in ("src", "include"):
                        self.strings += re.sub(r'"\s*"', "", code) + "\n"
        self.strings = re.sub(r"\s+", " ", self.strings)

    def find_files(self, name):
        """The files (or directories) a path names: exact from the root if it
        starts with a top directory, else any whose path ends with it."""
        name = name.rstrip("/")
        exact = name.split("/")[0] in TOP_DIRS or "/" not in name and name in os.listdir(self.root)
        pool = self.files + sorted(self.dirs)
        if exact:
            return [p for p in pool if fnmatch.fnmatchcase(p, name)]
        return [p for p in pool if fnmatch.fnmatchcase(p, name) or fnmatch.fnmatchcase(p, "*/" + name)]

    def has_word(self, word, files=None):
        """Whether word (or, ending in *, a word with that prefix) is in the code of files (None: anywhere)."""
        sets = self.words.values() if files is None else [self.words.get(f, set()) for f in files]
        if word.endswith("*"):
            return any(w.startswith(word[:-1]) for s in sets for w in s)
        return any(word in s for s in sets)

    def where(self, word):
        """Some of the files that have word, for the message."""
        found = sorted(f for f, s in self.words.items() if word in s)
        return ", ".join(found[:4]) + (", ..." if len(found) > 4 else "")


def split_cells(row):
    """A table row's cells (a | inside a code span does not split)."""
    cells, cur, code = [], [], False
    for c in row.strip().strip("|"):
        if c == "`":
            code = not code
        if c == "|" and not code:
            cells.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    cells.append("".join(cur))
    return [c.strip() for c in cells]


def units(text):
    """(line, kind, text, scope) for each paragraph and table cell.  kind:
    "prose", "cell", "gocell" (a Go column's cell), "samecell" (a Go cell
    whose gort cell says "same"); scope: the files a table row names in its
    "file" column, or None."""
    lines = text.split("\n")
    i, para, para_line = 0, [], 0
    fence = False
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith("```"):
            fence = not fence
            i += 1
            continue
        if fence:
            i += 1
            continue
        if line.lstrip().startswith("|"):
            if para:
                yield para_line, "prose", "\n".join(para), None
                para = []
            header = split_cells(line)
            go_cols = {k for k, h in enumerate(header) if re.match(r"Go\b", h)}
            file_cols = {k for k, h in enumerate(header) if h.lower() == "file"}
            i += 1
            if i < len(lines) and re.match(r"^\s*\|[\s|:-]+\|\s*$", lines[i]):
                i += 1
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                cells = split_cells(lines[i])
                scope = None
                if file_cols:
                    scope = [m for k in file_cols if k < len(cells)
                             for m in PLAIN_FILE.findall(cells[k].replace("`", ""))]
                same = any(k not in go_cols and re.match(r"same\b", c) for k, c in enumerate(cells))
                for k, c in enumerate(cells):
                    if k in go_cols:
                        yield i + 1, "samecell" if same else "gocell", c, scope
                    elif k in file_cols:
                        yield i + 1, "filecell", c, None
                    else:
                        yield i + 1, "cell", c, scope
                i += 1
            continue
        if line.strip() == "":
            if para:
                yield para_line, "prose", "\n".join(para), None
                para = []
        else:
            if not para:
                para_line = i + 1
            para.append(line.strip())
        i += 1
    if para:
        yield para_line, "prose", "\n".join(para), None


def go_clause(before):
    """Whether a span is in a clause about Go: "Go" (or "Go's") since the
    clause began, and no "gort" after it (Go's `asyncPreempt`; registrations
    Go keeps per `os.File`; but: Go's `findRunnable` is gort's `findrunnable`)."""
    clause = re.split(r"[.;:!?]\s|\n\s*(?:[-*]|\d+\.)\s", before)[-1]
    go = list(re.finditer(r"\bGo\b", clause))
    return bool(go) and not re.search(r"\bgort\b", clause[go[-1].end():])


def identifiers(span):
    """The names a code span uses: a_b/c/d gives a_b, a_c, a_d; x* a prefix."""
    names = []
    for m in re.finditer(r"[A-Za-z_]\w*(?:/\w+)+|[A-Za-z_]\w*\*?", span):
        word = m.group(0)
        if "/" in word:
            first, *rest = word.split("/")
            names.append(first)
            stem = first[:first.rfind("_") + 1] if "_" in first else ""
            names.extend(stem + r for r in rest)
        else:
            names.append(word)
    return [w for w in names if w not in C_WORDS]


class Checker:
    def __init__(self, tree, page):
        self.tree = tree
        self.page = page
        self.problems = []

    def problem(self, line, what, why):
        self.problems.append(f"{self.page}:{line}: {what}: {why}")

    def check_path(self, line, name):
        path, _, lineno = name.partition(":") if re.search(r":\d+$", name) else (name, "", "")
        found = self.tree.find_files(path)
        if not found:
            self.problem(line, name, "no such file or directory")
            return
        if lineno:
            with open(os.path.join(self.tree.root, found[0]), encoding="utf-8", errors="replace") as f:
                if sum(1 for _ in f) < int(lineno):
                    self.problem(line, name, f"{found[0]} has fewer lines")

    def check_name(self, line, word, files, prev):
        if word in EXTERNAL or self.tree.has_word(word, files):
            return
        if self.tree.has_word("SYS_" + word, files):
            return  # a system call gort makes through syscall(2)
        if word.startswith("_") and prev and self.tree.has_word(prev + word, files):
            return  # `foo` ... `_at`: foo_at
        if files is not None and self.tree.has_word(word):
            self.problem(line, word, f"not in {', '.join(files)}; it is in "
                                     f"{self.tree.where(word)}")
        else:
            self.problem(line, word, "no such name in the code")

    def resolve(self, names):
        """The code files some file names (as READING writes them) stand for."""
        out = []
        for n in names:
            out += [f for f in self.tree.find_files(re.sub(r":\d+$", "", n))
                    if f in self.tree.words and f not in out]
        return out

    def check_unit(self, first, kind, text, scope):
        def line(pos):
            return first + text.count("\n", 0, pos)
        # Files named outside code spans.
        plain = re.sub(r"`[^`]*`", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
        for m in PLAIN_FILE.finditer(plain):
            self.check_path(line(m.start()), m.group(1))
        if kind == "gocell" or kind == "filecell":
            return
        prev = None
        for m in re.finditer(r"`([^`]+)`", text):
            span = re.sub(r"\s+", " ", m.group(1)).strip()
            at = line(m.start())
            if kind == "samecell" and not re.fullmatch(r"[A-Za-z_]\w*(\(\))?", span):
                continue  # a Go method expression; the gort cell names ours
            if re.fullmatch(r'"[^"]*"', span):
                if span[1:-1] not in self.tree.strings:
                    self.problem(at, span, "no such string in src/ or include/")
                continue
            if kind == "prose" and go_clause(text[:m.start()]):
                continue
            if re.fullmatch(FILE_RE, span) or "/" in span and re.fullmatch(r"[\w./*-]+", span) and \
                    span.split("/")[0] in TOP_DIRS:
                self.check_path(at, span)
                continue
            # `name` (`file.c`) or `name` (file.c: ...): the name is in that file.
            files = scope
            note = re.match(r"\s*\(`?(" + FILE_RE + r")`?\s*[),:;]", text[m.end():])
            if note:
                files = self.resolve([note.group(1)]) or None
            elif scope is not None:
                files = self.resolve(scope + PLAIN_FILE.findall(plain)) or None
            names = identifiers(span)
            for word in names:
                self.check_name(at, word, files, prev)
            if names and not span.startswith("_"):
                prev = names[0]

    def run(self, text):
        for line, kind, body, scope in units(text):
            self.check_unit(line, kind, body, scope)
        return self.problems


# --selftest: a made-up tree and page, so that a change that makes the
# checker blind (it passes everything) fails too.  Each stale reference is
# marked on its line, (STALE what), and the check (of the page without the
# marks) must report exactly those.
SELFTEST_FILES = {
    "src/a.c": '/* print_goroutine: only a comment names it now */\n'
               'int alpha(void) { return syscall(SYS_tgkill); }\n'
               'void alpha_at(void) { puts("a message"  " in two parts"); }\n'
               'void beta_one(void) {}\nvoid beta_two(void) {}\n',
    "src/b.c": "void gamma(void) {}\n",
}
SELFTEST_PAGE = """\
1. **`src/a.c`**, `src/b.c:1`, `src/nope.c` (STALE src/nope.c), see b.c, c.h (STALE c.h)
   and a.c:99 (STALE a.c:99).  `alpha()` → `print_goroutine` (STALE print_goroutine)
   → `gamma` (`a.c`) (STALE gamma) → `beta_one/two`, `alpha` (`_at`: with a clock).
   Go's `findRunnable`; Go's `findRunnable` is gort's `findrunnabl` (STALE findrunnabl).
   It prints `"a message in two parts"`, not `"a lost message"` (STALE "a lost message").
   `tgkill`, `gamma(alpha, 1)`, `beta_*`, `delta_*` (STALE delta_*).

```
`fenced_code_is_not_read`
```

| Go (runtime) | gort | file |
|---|---|---|
| `goName`, `(*p).method` | `alpha`, `beta_one/two` | a.c |
| `alpha`, `(*p).method` | same names | a.c |
| `goName` | `alpha` (STALE alpha) | b.c |
| `stale_same` (STALE stale_same) | same, `gamma` | a.c, b.c |
"""


def selftest():
    import tempfile
    with tempfile.TemporaryDirectory() as root:
        for name, text in SELFTEST_FILES.items():
            os.makedirs(os.path.join(root, os.path.dirname(name)), exist_ok=True)
            with open(os.path.join(root, name), "w") as f:
                f.write(text)
        got = Checker(Tree(root), "page").run(re.sub(r" \(STALE [^)]*\)", "", SELFTEST_PAGE))
    want = [f"page:{n}: {what}" for n, line in enumerate(SELFTEST_PAGE.split("\n"), 1)
            for what in re.findall(r"\(STALE ([^)]*)\)", line)]
    got_keys = [p[:p.index(": ", p.index(": ") + 2)] for p in got]
    if sorted(got_keys) != sorted(want):
        print("reading_check --selftest: reported:\n  " + "\n  ".join(got) +
              "\nbut the page's stale references are:\n  " + "\n  ".join(want))
        return 1
    print(f"reading_check --selftest: the {len(want)} stale references found, nothing else")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    ap.add_argument("--selftest", action="store_true", help="check the checker on a made-up tree")
    ap.add_argument("pages", nargs="*", default=["READING.md"])
    args = ap.parse_args()
    if args.selftest:
        return selftest()
    root = os.path.abspath(args.root)
    tree = Tree(root)
    problems = []
    for page in args.pages:
        path = page if os.path.isabs(page) else os.path.join(root, page)
        with open(path, encoding="utf-8") as f:
            problems += Checker(tree, page).run(f.read())
    for p in problems:
        print(p)
    sys.stdout.flush()
    if problems:
        print(f"reading_check: {len(problems)} stale reference(s): fix the page (or the code), "
              "or, for a name gort uses but does not define, add it to EXTERNAL in "
              "tests/reading_check.py", file=sys.stderr)
        return 1
    print(f"reading_check: {', '.join(args.pages)}: every name found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
