"""PSF console fonts (the Linux console's format, as Debian's console-setup-linux and kbd ship them).

PSF1 (magic 36 04): a 4-byte header (magic, mode, charsize), 256 or 512 glyphs 8 pixels wide and charsize
rows high, then, when mode has PSF1_MODEHASTAB, a Unicode table: per glyph, 16-bit little-endian code
points ending in 0xFFFF (0xFFFE starts a sequence, skipped here).
PSF2 (magic 72 b5 4a 86): a 32-byte header (version, headersize, flags, length, charsize, height, width),
glyphs of ceil(width/8) bytes per row, then with PSF2_HAS_UNICODE_TABLE a UTF-8 table: per glyph, code
points ending in 0xFF (0xFE starts a sequence).
Both store rows top to bottom, the leftmost pixel in the most significant bit.

Used at build time by scripts/psf2c.py (the C table hapvisor draws with) and by the lanes' screen check
(tests/lanes/screen_check.py), so both draw the very same glyphs.
"""
import gzip
import struct

PSF1_MAGIC = b"\x36\x04"
PSF1_MODE512 = 0x01
PSF1_MODEHASTAB = 0x02
PSF1_MODESEQ = 0x04
PSF1_SEPARATOR = 0xFFFF
PSF1_STARTSEQ = 0xFFFE

PSF2_MAGIC = b"\x72\xb5\x4a\x86"
PSF2_HAS_UNICODE_TABLE = 0x01
PSF2_SEPARATOR = 0xFF
PSF2_STARTSEQ = 0xFE


class PsfError(Exception):
    pass


class Font:
    """width, height, glyphs (list of lists of row bit masks), unicode (code point -> glyph index)."""

    def __init__(self, width, height, glyphs, unicode):
        self.width, self.height, self.glyphs, self.unicode = width, height, glyphs, unicode

    def glyph_for(self, code):
        """Rows of the glyph for a code point: through the Unicode table when the font has one,
        else the glyph at that index."""
        if self.unicode:
            index = self.unicode.get(code)
            if index is None:
                raise PsfError(f"the font has no glyph for U+{code:04X}")
        else:
            index = code
        if index >= len(self.glyphs):
            raise PsfError(f"glyph {index} out of range")
        return self.glyphs[index]


def _glyph_rows(data, off, height, row_bytes):
    rows = []
    for r in range(height):
        b = data[off + r * row_bytes: off + (r + 1) * row_bytes]
        rows.append(int.from_bytes(b, "big"))
    return rows


def _psf1(data):
    if len(data) < 4:
        raise PsfError("PSF1 header truncated")
    mode, charsize = data[2], data[3]
    count = 512 if mode & PSF1_MODE512 else 256
    end = 4 + count * charsize
    if charsize == 0 or len(data) < end:
        raise PsfError("PSF1 glyphs truncated")
    glyphs = [_glyph_rows(data, 4 + i * charsize, charsize, 1) for i in range(count)]
    unicode = {}
    if mode & (PSF1_MODEHASTAB | PSF1_MODESEQ):
        pos = end
        for i in range(count):
            in_seq = False
            while True:
                if pos + 2 > len(data):
                    raise PsfError("PSF1 Unicode table truncated")
                (u,) = struct.unpack_from("<H", data, pos)
                pos += 2
                if u == PSF1_SEPARATOR:
                    break
                if u == PSF1_STARTSEQ:
                    in_seq = True
                elif not in_seq:
                    unicode.setdefault(u, i)
    return Font(8, charsize, glyphs, unicode)


def _psf2(data):
    if len(data) < 32:
        raise PsfError("PSF2 header truncated")
    _, headersize, flags, length, charsize, height, width = struct.unpack_from("<7I", data, 4)
    row_bytes = (width + 7) // 8
    end = headersize + length * charsize
    if width == 0 or height == 0 or charsize != row_bytes * height or len(data) < end:
        raise PsfError("PSF2 header inconsistent or glyphs truncated")
    glyphs = [_glyph_rows(data, headersize + i * charsize, height, row_bytes) for i in range(length)]
    # Rows hold ceil(width/8) bytes; the padding bits are on the right.
    pad = row_bytes * 8 - width
    glyphs = [[r >> pad for r in g] for g in glyphs]
    unicode = {}
    if flags & PSF2_HAS_UNICODE_TABLE:
        pos = end
        for i in range(length):
            entry = bytearray()
            while True:
                if pos >= len(data):
                    raise PsfError("PSF2 Unicode table truncated")
                b = data[pos]
                pos += 1
                if b == PSF2_SEPARATOR:
                    break
                entry.append(b)
            single = entry.split(bytes([PSF2_STARTSEQ]))[0]
            for ch in single.decode("utf-8", errors="replace"):
                unicode.setdefault(ord(ch), i)
    return Font(width, height, glyphs, unicode)


def load(path):
    """Read a PSF1 or PSF2 font, gzip-compressed (.gz) or not."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if data[:2] == PSF1_MAGIC:
        return _psf1(data)
    if data[:4] == PSF2_MAGIC:
        return _psf2(data)
    raise PsfError(f"{path}: not a PSF1 or PSF2 font")
