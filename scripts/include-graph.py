#!/usr/bin/env python3
"""hapvisor's layers and the dependencies between them (docs/architecture.md, "Layers").

    scripts/include-graph.py [--root DIR]            print the layer -> layer edges (how many includes each)
    scripts/include-graph.py --files                 the same, with every file -> file include behind an edge
    scripts/include-graph.py --check [--objs DIR]    fail on every edge that points up a layer
    scripts/include-graph.py --layers                the layers, bottom up, as docs/architecture.md shows them
    scripts/include-graph.py --edges                 the layer -> layer edges alone, as docs/architecture.md
                                                     shows them

A folder of the hypervisor is one layer; a file may include headers of its own layer and of the layers
below it, never above. LAYERS lists them from the bottom up. With --objs (the build's object folder,
build/hv), --check also reads every object's undefined symbols (nm) and fails when a function or variable
is defined in a layer above the one that uses it and not declared in a header of the user's layer or below:
a lower layer declares what it needs (lib/log.h declares console_write(), lib/panic.h panic()) and a higher
one implements it or passes it in, never the lower one calling up by name.
"""
import argparse
import os
import re
import subprocess
import sys
from collections import defaultdict

# From the bottom up. lib: formatting, strings, logging (console_write is declared here, implemented in
# arch/x86). mm: memory map, frame pool, the generic page-table walker. arch/x86: the CPU and the platform.
# guest: guest kernel formats and boot protocols. vmx: VT-x, the EPT, exits. boot: hapvisor's own boot
# sequence, options and Multiboot2 information, on top of everything.
LAYERS = ["lib", "mm", "arch/x86", "guest", "vmx", "boot"]
SOURCE_EXT = (".c", ".h", ".asm", ".inc")
INCLUDE = re.compile(r'^\s*(?:#\s*include\s+"([^"]+)"|%include\s+"([^"]+)")', re.M)


def layer_of(path):
    for i, layer in sorted(enumerate(LAYERS), key=lambda x: -len(x[1])):
        if path == layer or path.startswith(layer + "/"):
            return layer
    return None


def rank(layer):
    return LAYERS.index(layer)


def sources(root):
    for layer in LAYERS:
        for dirpath, _, files in os.walk(os.path.join(root, layer)):
            for f in sorted(files):
                if f.endswith(SOURCE_EXT):
                    yield os.path.relpath(os.path.join(dirpath, f), root)


def include_edges(root):
    """(file, included file) for every include of one hypervisor file by another."""
    edges = []
    for f in sorted(sources(root)):
        with open(os.path.join(root, f), errors="replace") as fh:
            text = fh.read()
        for m in INCLUDE.finditer(text):
            inc = m.group(1) or m.group(2)
            if layer_of(inc) is not None:
                edges.append((f, inc))
    return edges


COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def declared_in_layer(root):
    """The identifiers each layer's headers mention outside comments (its declarations, and a few more)."""
    names = defaultdict(set)
    for f in sources(root):
        if f.endswith(".h"):
            with open(os.path.join(root, f), errors="replace") as fh:
                names[layer_of(f)].update(IDENT.findall(COMMENT.sub(" ", fh.read())))
    return names


def symbol_edges(objs, root):
    """(object, symbol, defining object) for every symbol an object uses and another object defines."""
    defined, undefined = {}, defaultdict(set)
    for dirpath, _, files in os.walk(objs):
        for f in files:
            if not f.endswith(".o"):
                continue
            path = os.path.join(dirpath, f)
            src = os.path.relpath(path, objs)[:-2]
            if not any(os.path.exists(os.path.join(root, src + ext)) for ext in (".c", ".asm")):
                continue  # an object whose source is gone (a file moved since this build)
            out = subprocess.run(["nm", "-P", path], stdout=subprocess.PIPE, text=True, check=True).stdout
            for line in out.splitlines():
                parts = line.split()
                if len(parts) < 2:
                    continue
                name, kind = parts[0], parts[1]
                if kind == "U":
                    undefined[src].add(name)
                elif kind.isupper():
                    defined[name] = src
    return [(src, name, defined[name]) for src in sorted(undefined) for name in sorted(undefined[src])
            if name in defined and defined[name] != src]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--files", action="store_true", help="list the file includes behind each edge")
    ap.add_argument("--check", action="store_true", help="fail on an edge that points up a layer")
    ap.add_argument("--objs", help="the build's object folder (build/hv): check symbol uses too")
    ap.add_argument("--layers", action="store_true", help="print the layers, bottom up")
    ap.add_argument("--edges", action="store_true", help="print the layer edges without counts")
    a = ap.parse_args()
    if a.layers:
        print(" < ".join(LAYERS))
        return 0

    edges = include_edges(a.root)
    by_layer = defaultdict(list)
    for f, inc in edges:
        lf, li = layer_of(f), layer_of(inc)
        if lf != li:
            by_layer[(lf, li)].append((f, inc))
    if a.edges:
        for lf, li in sorted(by_layer, key=lambda e: (rank(e[0]), rank(e[1]))):
            print("%s -> %s" % (lf, li))
        return 0
    if not a.check:
        print("layers, bottom up: " + " < ".join(LAYERS))
        for (lf, li), files in sorted(by_layer.items(), key=lambda e: (rank(e[0][0]), rank(e[0][1]))):
            up = "   UP" if rank(li) > rank(lf) else ""
            print("%-9s -> %-9s %3d%s" % (lf, li, len(files), up))
            if a.files:
                for f, inc in files:
                    print("    %s -> %s" % (f, inc))
        return 0

    problems = ["%s includes %s (%s is above %s)" % (f, inc, layer_of(inc), layer_of(f))
                for (lf, li), files in by_layer.items() if rank(li) > rank(lf) for f, inc in files]
    if a.objs:
        if not os.path.isdir(a.objs):
            problems.append("no object folder %s: build hapvisor first (make)" % a.objs)
        else:
            declared = declared_in_layer(a.root)
            for src, name, where in symbol_edges(a.objs, a.root):
                ls, lw = layer_of(src), layer_of(where)
                if not ls or not lw or rank(lw) <= rank(ls):
                    continue
                if any(name in declared[l] for l in LAYERS[:rank(ls) + 1]):
                    continue  # the user's layer (or one below) declares it: implemented above, by design
                problems.append("%s uses %s, defined in %s (%s is above %s)" % (src, name, where, lw, ls))
    for p in sorted(problems):
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
