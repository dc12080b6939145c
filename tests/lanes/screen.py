#!/usr/bin/env python3
"""The QEMU lanes' screen check (docs/screen.md, docs/testing.md).

  screen.py dump SOCKET OUT.ppm LIMIT_S
      Talk QMP on SOCKET (QEMU started with -qmp unix:SOCKET,server=on,wait=off -no-shutdown): wait for the
      guest's power-off (the SHUTDOWN event; -no-shutdown keeps QEMU and its display alive), take a
      screendump to OUT.ppm, quit QEMU. Gives up after LIMIT_S seconds (the lane's own timeout decides).

  screen.py check SERIAL.log SCREEN.ppm FONT.psf.gz [OUT.png]
      Rebuild what hapvisor's screen console must show from the serial log (the same text, from hapvisor's
      first line on, less the structured event= lines, which go to the screen only from the options line
      on and only with screen_events=on; through the same grid rules as arch/x86/screen.c) and compare it
      with the screendump:
      - kind=framebuffer: every pixel; glyphs drawn from the same PSF font, SCREEN_FG_RGB on SCREEN_BG_RGB;
      - kind=ega_text: the VGA draws the characters with its BIOS's font, so each 9x16 cell is read back by
        matching its 8x16 bitmap against the ASCII glyphs of that font (taken from QEMU's VGA BIOS,
        VGA_ROM), and the text must equal the expected grid, the blinking cursor allowed where it belongs.
      Prints "screen: ok ..." and exits 0, or prints what differs and exits 1. Writes the screendump as PNG.
"""
import json
import os
import socket
import struct
import sys
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import psf  # noqa: E402

# arch/x86/screen.h and screen.c
FG_RGB = (0xAA, 0xAA, 0xAA)
BG_RGB = (0x00, 0x00, 0x00)
FB_SCROLL_DIV = 4
TAB = 8
FIRST, LAST = 0x20, 0x7E
FONT_W, FONT_H = 8, 16
EGA_CELL_W = 9  # QEMU draws VGA text with 9-pixel cells (the 9th column blank for ASCII)
CURSOR_FREE_ROWS = 13  # a VGA text cursor only occupies the bottom scan lines of its cell
FIRST_LINE = "hapvisor: event=boot stage=c_entry"
EVENT = "hapvisor: event="
OPTIONS_LINE = "hapvisor: event=options "
VGA_ROM = "/usr/share/seabios/vgabios-stdvga.bin"  # QEMU's -vga std BIOS (Debian package seabios)
ROM_FONT_BYTES = 256 * FONT_H


# ---- QMP -----------------------------------------------------------------------------------------------

def qmp_dump(sock_path, out, limit):
    deadline = time.time() + limit
    s = None
    while time.time() < deadline:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sock_path)
            break
        except OSError:
            s = None
            time.sleep(0.1)
    if s is None:
        sys.exit("screen.py: no QMP socket")
    f = s.makefile("rw")

    def send(cmd, **args):
        f.write(json.dumps({"execute": cmd, "arguments": args} if args else {"execute": cmd}) + "\n")
        f.flush()

    def wait_for(pred):
        s.settimeout(max(0.1, deadline - time.time()))
        for line in f:
            msg = json.loads(line)
            if pred(msg):
                return msg
        sys.exit("screen.py: QMP closed")

    wait_for(lambda m: "QMP" in m)
    send("qmp_capabilities")
    wait_for(lambda m: "return" in m)
    wait_for(lambda m: m.get("event") == "SHUTDOWN")
    send("screendump", filename=os.path.abspath(out))
    reply = wait_for(lambda m: "return" in m or "error" in m)
    send("quit")  # then wait for its answer: QEMU drops the commands of a client that has gone
    try:
        wait_for(lambda m: "return" in m)
    except (OSError, SystemExit):
        pass  # QEMU may close the socket first
    if "error" in reply:
        sys.exit(f"screen.py: screendump failed: {reply['error']}")


# ---- images --------------------------------------------------------------------------------------------

def read_ppm(path):
    with open(path, "rb") as f:
        data = f.read()
    fields, pos = [], 0
    while len(fields) < 4:  # magic, width, height, maxval; '#' comments allowed
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b"P6" or fields[3] != b"255":
        raise ValueError(f"{path}: not a binary 8-bit PPM")
    w, h = int(fields[1]), int(fields[2])
    pixels = data[pos + 1:pos + 1 + w * h * 3]
    if len(pixels) != w * h * 3:
        raise ValueError(f"{path}: truncated")
    return w, h, pixels


def write_png(path, w, h, rgb):
    raw = b"".join(b"\x00" + rgb[y * w * 3:(y + 1) * w * 3] for y in range(h))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


# ---- the expected grid ---------------------------------------------------------------------------------

def console_event(log):
    for line in log.splitlines():
        if line.startswith("hapvisor: event=console "):
            return dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)
    return None


def screen_text(log):
    """What hapvisor wrote to the screen: its output without the event lines lib/console.c keeps off it."""
    shown, events_on = [], False
    for line in log.splitlines(keepends=True):
        if line.startswith(OPTIONS_LINE):
            events_on = " screen_events=on" in line
        if line.startswith(EVENT) and not events_on:
            continue
        shown.append(line)
    return "".join(shown)


def expected_grid(text, cols, rows, step):
    """The grid after writing text, as arch/x86/screen.c does it; returns (grid rows, cursor row, col)."""
    grid = [[" "] * cols for _ in range(rows)]
    r = c = 0

    def new_line():
        nonlocal r, c
        c = 0
        if r + 1 < rows:
            r += 1
            return
        del grid[:step]
        grid.extend([" "] * cols for _ in range(step))
        r = rows - step

    def put(ch):
        nonlocal c
        if c == cols:
            new_line()
        grid[r][c] = ch
        c += 1

    for ch in text:
        if ch == "\n":
            new_line()
        elif ch == "\r":
            c = 0
        elif ch == "\t":
            put(" ")
            while c % TAB and c < cols:
                put(" ")
        else:
            put(ch if FIRST <= ord(ch) <= LAST else "?")
    return ["".join(row) for row in grid], r, min(c, cols - 1)


# ---- comparisons ---------------------------------------------------------------------------------------

def check_framebuffer(w, h, px, grid, font, ev):
    if (w, h) != (int(ev["width"]), int(ev["height"])):
        return [f"screendump is {w}x{h}, the console event says {ev['width']}x{ev['height']}"]
    cols, rows = int(ev["cols"]), int(ev["rows"])
    fg, bg = bytes(FG_RGB), bytes(BG_RGB)
    rendered = {}  # glyph row bits -> the 8 pixels expected
    errors = []
    for y in range(h):
        line = px[y * w * 3:(y + 1) * w * 3]
        r = y // FONT_H
        for c in range(cols if r < rows else 0):
            bits = font.glyph_for(ord(grid[r][c]))[y % FONT_H]
            want = rendered.get(bits)
            if want is None:
                want = rendered[bits] = b"".join(fg if bits & (0x80 >> x) else bg for x in range(FONT_W))
            if line[c * FONT_W * 3:(c + 1) * FONT_W * 3] != want:
                errors.append(f"cell row {r} col {c} (scan line {y % FONT_H}): pixels differ from "
                              f"{grid[r][c]!r}; expected line {grid[r].rstrip()!r}")
                break
        margin = cols * FONT_W * 3 if r < rows else 0
        if line[margin:] != bg * ((len(line) - margin) // 3):
            errors.append(f"scan line {y}: pixels outside the text grid are not background")
        if len(errors) >= 5:
            break
    return errors


def rom_glyphs(font):
    """The VGA BIOS's 8x16 font (bitmap -> ASCII character). The table is found by the glyph of 'A', the
    same in the PSF font as in IBM's VGA font, and must hold a blank space and distinct ASCII glyphs."""
    with open(VGA_ROM, "rb") as f:
        rom = f.read()
    a = bytes(font.glyph_for(ord("A")))
    at = rom.find(a)
    base = at - ord("A") * FONT_H
    if at < 0 or base < 0 or base + ROM_FONT_BYTES > len(rom):
        raise ValueError(f"{VGA_ROM}: no 8x16 font found")
    lookup = {}
    for code in range(FIRST, LAST + 1):
        lookup[tuple(rom[base + code * FONT_H: base + (code + 1) * FONT_H])] = chr(code)
    if len(lookup) != LAST - FIRST + 1 or lookup.get((0,) * FONT_H) != " ":
        raise ValueError(f"{VGA_ROM}: the font found at {base:#x} is not a VGA font")
    return lookup


def check_ega(w, h, px, grid, font, ev, cursor):
    cols, rows = int(ev["cols"]), int(ev["rows"])
    if (w, h) != (cols * EGA_CELL_W, rows * FONT_H):
        return [f"screendump is {w}x{h}, expected {cols * EGA_CELL_W}x{rows * FONT_H} for {cols}x{rows} text"]
    bg = px[0:3]
    try:
        lookup = rom_glyphs(font)
    except (OSError, ValueError) as e:
        return [str(e)]
    errors = []
    for r in range(rows):
        line = []
        for c in range(cols):
            bits = []
            for y in range(FONT_H):
                v = 0
                for x in range(FONT_W):
                    o = ((r * FONT_H + y) * w + c * EGA_CELL_W + x) * 3
                    v = v << 1 | (px[o:o + 3] != bg)
                bits.append(v)
            if (r, c) == cursor and not any(bits[:CURSOR_FREE_ROWS]):
                bits = [0] * FONT_H  # the cursor's scan lines, where a blank is expected
            line.append(lookup.get(tuple(bits), "\x00"))
        got = "".join(line)
        if got != grid[r]:
            errors.append(f"row {r}: screen {got.rstrip().replace(chr(0), '#')!r}, "
                          f"serial {grid[r].rstrip()!r}")
            if len(errors) >= 5:
                break
    return errors


def check(serial, ppm, font_path, png):
    with open(serial, errors="replace") as f:
        log = f.read()
    ev = console_event(log)
    if ev is None:
        return ["no 'hapvisor: event=console' line"]
    kind = ev.get("kind")
    if kind not in ("framebuffer", "ega_text"):
        return [f"console kind={kind}: nothing on screen to check"]
    start = log.find(FIRST_LINE)
    if start < 0:
        return [f"no '{FIRST_LINE}' line"]
    cols, rows = int(ev["cols"]), int(ev["rows"])
    step = 1 if kind == "ega_text" else max(1, rows // FB_SCROLL_DIV)
    grid, cur_r, cur_c = expected_grid(screen_text(log[start:]), cols, rows, step)
    w, h, px = read_ppm(ppm)
    if png:
        write_png(png, w, h, px)
    font = psf.load(font_path)
    if kind == "framebuffer":
        errors = check_framebuffer(w, h, px, grid, font, ev)
    else:
        errors = check_ega(w, h, px, grid, font, ev, (cur_r, cur_c))
    if not errors:
        shown = sum(1 for row in grid if row.strip())
        print(f"screen: ok kind={kind} {w}x{h} cols={cols} rows={rows}: {shown} non-blank lines match the serial log")
    return errors


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "dump":
        qmp_dump(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    elif len(sys.argv) in (5, 6) and sys.argv[1] == "check":
        errors = check(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] if len(sys.argv) == 6 else None)
        for e in errors:
            print(f"screen: {e}")
        sys.exit(1 if errors else 0)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
