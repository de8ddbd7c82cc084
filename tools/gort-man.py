#!/usr/bin/env python3
"""gort-man.py GORT_H OUT - gort(3), the manual page, made from gort.h.

gort.h is the whole documented API: its opening comment says what gort is
and the rules a user must know, and each "/* ---- Title ----" section holds
declarations, each after the comment that documents it.  The page keeps
that order: NAME and SYNOPSIS, then the opening comment as DESCRIPTION,
then a section per header section - each comment as text, each declaration
as code - up to the private part (gort/impl.h), which is not API.
"""
import re
import sys


def roff_text(line):
    """One line of prose, escaped for roff."""
    line = line.replace("\\", "\\e")
    if line.startswith((".", "'")):
        line = "\\&" + line
    return line


def comment_lines(block):
    """The text of a /* ... */ block, without its frame."""
    out = []
    for line in block.split("\n"):
        line = line.strip()
        if line.startswith("/*"):
            line = line[2:]
        if line.endswith("*/"):
            line = line[:-2]
        line = line.strip()
        if line.startswith("*"):
            line = line[1:]
            if line.startswith(" "):
                line = line[1:]
        out.append(line.rstrip())
    while out and not out[0].strip():
        out.pop(0)
    while out and not out[-1].strip():
        out.pop()
    return out


def emit_prose(lines, out):
    """Paragraphs; indented or underlined runs stay as they are (tables,
    examples, headings)."""
    literal = False
    for line in lines:
        if not line.strip():
            if literal:
                out.append(".fi")
                literal = False
            out.append(".PP")
            continue
        verbatim = line.startswith("  ") or re.fullmatch(r"-+", line.strip()) is not None
        if verbatim and not literal:
            out.append(".nf")
            literal = True
        elif not verbatim and literal:
            out.append(".fi")
            literal = False
        if re.fullmatch(r"-+", line.strip()):
            continue  # the underline of a heading: the heading is bold below
        out.append(roff_text(line))
    if literal:
        out.append(".fi")


SKIP = ("#ifndef GORT_H", "#define GORT_H", "#endif", "#include", "#ifdef __cplusplus",
        "extern \"C\" {", "}  /* extern", "#define GORT_NORETURN", "#define GORT_API")


def emit_code(code, out):
    """Declarations, as code; the header's own plumbing left out."""
    code = code.replace("GORT_API ", "").replace("GORT_NORETURN ", "")
    lines = [l for l in code.split("\n") if l.strip() and not l.startswith(SKIP)]
    if not lines:
        return
    out.append(".PP")
    out.append(".nf")
    for line in lines:
        out.append(roff_text(line.replace("\t", "    ")))
    out.append(".fi")


def sections(body):
    """(title, text) for each "/* ---- Title" section, up to Private."""
    parts = re.split(r"^/\* ---- (.+?) -+\s*(?:\*/)?$", body, flags=re.M)
    for i in range(1, len(parts), 2):
        title = parts[i].strip()
        if title == "Private":
            return
        yield title, parts[i + 1]


def emit_section(title, text, out):
    out.append(".SH " + roff_text(title.upper()))
    # A section's own text may open with the rest of its heading comment.
    pos = 0
    if not text.lstrip().startswith(("/*", "#", "G", "t", "s")) and "*/" in text:
        end = text.index("*/") + 2
        emit_prose(comment_lines("/*" + text[:end]), out)
        pos = end
    code = ""  # declarations since the last documenting comment
    for piece in re.split(r"(/\*.*?\*/)", text[pos:], flags=re.S):
        trailing = code.rsplit("\n", 1)[-1].strip() != ""
        if piece.startswith("/*") and not trailing:
            if code.strip():
                emit_code(code, out)
            code = ""
            out.append(".PP")
            emit_prose(comment_lines(piece), out)
        elif piece.startswith("/*"):
            code += piece  # a comment on a member's line belongs to the code
        else:
            code += piece
    if code.strip():
        emit_code(code, out)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    text = open(src).read()
    m = re.match(r"/\*(.*?)\*/", text, flags=re.S)
    intro = comment_lines("/*" + m.group(1) + "*/")
    version = re.search(r'#define GORT_VERSION_STRING "([^"]+)"', text).group(1)
    body = text[m.end():]
    out = [
        '.\\" gort(3) - made by tools/gort-man.py from include/gort.h; edit that.',
        '.TH GORT 3 "" "gort %s" "gort: Go\'s runtime for C"' % version,
        ".SH NAME",
        "gort \\- Go's runtime for C programs: goroutines, channels, select, sync, timers, network I/O",
        ".SH SYNOPSIS",
        ".nf",
        ".B #include <gort.h>",
        ".PP",
        "cc app.c $(pkg-config \\-\\-cflags \\-\\-libs gort)",
        ".fi",
        ".SH DESCRIPTION",
    ]
    emit_prose(intro[1:], out)  # intro[0] is "gort.h - ..."
    for title, sect in sections(body):
        emit_section(title, sect, out)
    out += [
        ".SH SEE ALSO",
        "The README and READING.md of gort's source; Go's runtime, sync, time",
        "and net packages, whose semantics gort keeps.",
    ]
    open(dst, "w").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
