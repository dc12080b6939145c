#!/usr/bin/env python3
"""User-visible log strings stay on one line, so that a line seen on a serial console greps to its source.

    scripts/log-strings.py           list every string literal that a log call (log_error, log_warn, log_info,
                                     log_debug, log_event, log_raw, panic, and the helpers that feed them)
                                     splits over two lines: "abc "
                                                           "def"
    scripts/log-strings.py --fix     join them ("abc def"; clang-format leaves long literals alone,
                                     BreakStringLiterals: false)

Exit status 1 when --check finds a split literal (tests/checks/format runs it).
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIRS = ["boot", "arch", "lib", "mm", "vmx", "guest"]
LOG_CALLS = {"log_error", "log_warn", "log_info", "log_debug", "log_event", "log_raw", "log_printf", "panic",
             "hdr_fail", "elf_fail", "fail", "fmt_snprintf"}
LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
GAP = re.compile(r"[ \t]*\n\s*$")


class Split:
    """Two string literals with only white space, a line break included, between them."""

    def __init__(self, first, second):
        self.first, self.second = first, second

    def start(self):
        return self.first.start()

    def end(self):
        return self.second.end()

    def joined(self):
        return '"' + self.first.group(1) + self.second.group(1) + '"'


def literal_pairs(s):
    lits = list(LITERAL.finditer(s))
    return [Split(a, b) for a, b in zip(lits, lits[1:]) if GAP.match(s[a.end():b.start()])]


def enclosing_call(s, pos):
    """The name of the innermost call whose parentheses hold pos (string literals skipped), or None."""
    depth = 0
    i = pos - 1
    while i >= 0:
        c = s[i]
        if c == '"':  # skip back over a string literal
            i -= 1
            while i >= 0 and not (s[i] == '"' and s[i - 1] != "\\"):
                i -= 1
        elif c == ")":
            depth += 1
        elif c == "(":
            if depth == 0:
                m = re.search(r"([A-Za-z_]\w*)\s*$", s[:i])
                return m.group(1) if m else None
            depth -= 1
        elif c in ";{}" and depth == 0:
            return None
        i -= 1
    return None


def files():
    out = subprocess.run(["git", "-C", ROOT, "ls-files"] + [d + "/*.[ch]" for d in DIRS],
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    return out.split()


def splits(s):
    return [m for m in literal_pairs(s) if enclosing_call(s, m.start()) in LOG_CALLS]


def main():
    fix = "--fix" in sys.argv[1:]
    found = 0
    for f in files():
        path = os.path.join(ROOT, f)
        s = open(path).read()
        ms = splits(s)
        if not ms:
            continue
        found += len(ms)
        if fix:
            while ms:  # one pair at a time, from the end (a chain of three takes two rounds)
                m = ms[-1]
                s = s[:m.start()] + m.joined() + s[m.end():]
                ms = splits(s)
            open(path, "w").write(s)
        else:
            for m in ms:
                line = s.count("\n", 0, m.start()) + 1
                print("%s:%d: a log string split over two lines: \"...%s\"" % (f, line, m.first.group(1)[-40:]))
    if fix:
        print("joined %d split log strings" % found)
        return 0
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
