#!/usr/bin/env python3
"""Write the seed corpora under tests/fuzz/corpus/<target>/: small valid inputs for each harness.
Run from the repository root after `make` (it takes the first 4 KiB of build/guests/testkernel-mb*.elf
when they exist). The output is checked in; rerun only to change the seeds."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def pad8(b):
    return b + b"\0" * (-len(b) % 8)


def mb2_info():
    tags = b""
    cmd = b"on_exit=poweroff ept=eager\0"
    tags += pad8(struct.pack("<II", 1, 8 + len(cmd)) + cmd)
    name = b"GRUB 2.06\0"
    tags += pad8(struct.pack("<II", 2, 8 + len(name)) + name)
    tags += struct.pack("<IIII", 4, 16, 639, 130048)
    ents = [(0, 0x9FC00, 1), (0x100000, 0x7F00000, 1), (0xFEC00000, 0x1000, 2)]
    mm = b"".join(struct.pack("<QQII", b, l, t, 0) for b, l, t in ents)
    tags += pad8(struct.pack("<IIII", 6, 16 + len(mm), 24, 0) + mm)
    mod = b"initrd\0"
    tags += pad8(struct.pack("<IIII", 3, 16 + len(mod), 0x2000000, 0x2100000) + mod)
    rsdp = rsdp_v2(0x7FE0000, 0)
    tags += pad8(struct.pack("<II", 15, 8 + len(rsdp)) + rsdp)
    tags += struct.pack("<II", 0, 8)
    return struct.pack("<II", 8 + len(tags), 0) + tags


def checksum_fix(b, at):
    b = bytearray(b)
    b[at] = 0
    b[at] = (-sum(b)) & 0xFF
    return bytes(b)


def rsdp_v2(rsdt, xsdt):
    r = bytearray(b"RSD PTR " + b"\0" + b"HAPVSR" + bytes([2]) + struct.pack("<I", rsdt))
    r = bytearray(checksum_fix(r, 8))
    r += struct.pack("<IQ", 36, xsdt) + b"\0\0\0\0"
    return checksum_fix(r, 32)


def elf64(note=True, load=0x100000):
    code = b"\x90" * 0x100
    phnum = 2 if note else 1
    notebytes = struct.pack("<III", 4, 4, 18) + b"Xen\0" + struct.pack("<I", load + 0x200)
    ehdr = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
    ehdr += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, load + 0x200, 64, 0, 0, 64, 56, phnum, 64, 0, 0)
    ph = struct.pack("<IIQQQQQQ", 1, 5, 0, load, load, 0x300, 0x300, 0x1000)
    if note:
        ph += struct.pack("<IIQQQQQQ", 4, 4, 0xB0, 0, 0, len(notebytes), len(notebytes), 4)
    img = bytearray(0x300)
    img[0 : len(ehdr)] = ehdr
    img[64 : 64 + len(ph)] = ph
    if note:
        img[0xB0 : 0xB0 + len(notebytes)] = notebytes
    img[0x200:0x300] = code
    return bytes(img)


def bzimage(version=0x020F, setup_sects=3, kernel=0x2200):
    setup = ((setup_sects or 4) + 1) * 512
    p = bytearray((i * 13 + 5) & 0xFF for i in range(setup + kernel))
    p[0x1F1:0x268] = bytes(0x268 - 0x1F1)
    p[0x1F1] = setup_sects
    p[0x1F4:0x1F8] = struct.pack("<I", (kernel + 15) // 16)
    p[0x1FA:0x1FC] = struct.pack("<H", 0xFFFF)
    p[0x1FE:0x200] = struct.pack("<H", 0xAA55)
    p[0x200] = 0xEB
    p[0x201] = 0x268 - 0x202
    p[0x202:0x206] = b"HdrS"
    p[0x206:0x208] = struct.pack("<H", version)
    p[0x211] = 0x01 | 0x20 | 0x80
    p[0x214:0x218] = struct.pack("<I", 0x100000)
    p[0x22C:0x230] = struct.pack("<I", 0x7FFFFFFF)
    p[0x230:0x234] = struct.pack("<I", 0x200000)
    p[0x234] = 1
    p[0x235] = 21
    p[0x236:0x238] = struct.pack("<H", 0x7F)
    p[0x238:0x23C] = struct.pack("<I", 2047)
    p[0x248:0x250] = struct.pack("<II", 0x100, kernel - 0x200)
    p[0x258:0x260] = struct.pack("<Q", 0x400000)
    p[0x260:0x264] = struct.pack("<I", 0x300000)
    p[0x264:0x268] = struct.pack("<I", 0x190)
    return bytes(p)


def mb2_header_kernel():
    hdr = struct.pack("<IIII", 0xE85250D6, 0, 24, (-(0xE85250D6 + 24)) & 0xFFFFFFFF)
    hdr += struct.pack("<HHI", 0, 0, 8)
    return hdr


def acpi_header(sig, length, rev=1):
    return sig + struct.pack("<IBB", length, rev, 0) + b"HAPVSR" + b"HAPVTEST" + struct.pack("<III", 1, 0, 1)


def acpi_seeds():
    FUZZ_PA = 0x40000000
    aml = b"\x08\\_S5_\x12\x06\x04\x0a\x05\x0a\x05\x00\x00"
    dsdt = acpi_header(b"DSDT", 36 + len(aml), 2) + aml
    fadt = bytearray(acpi_header(b"FACP", 116, 1) + bytes(116 - 36))
    fadt[40:44] = struct.pack("<I", FUZZ_PA + 0x200)
    fadt[48:53] = struct.pack("<IB", 0xB2, 0xA0)
    fadt[64:68] = struct.pack("<I", 0x604)
    rsdt = acpi_header(b"RSDT", 40) + struct.pack("<I", FUZZ_PA + 0x100)
    arena = bytearray(0x200 + len(dsdt))
    arena[0] = 4  # harness: fix the RSDT chain's checksums
    arena[1:3] = struct.pack("<H", 0x40)
    arena[0x40 : 0x40 + len(rsdt)] = rsdt
    arena[0x100 : 0x100 + len(fadt)] = fadt
    arena[0x200 : 0x200 + len(dsdt)] = dsdt
    put("acpi", "arena-rsdt-fadt-dsdt", bytes(arena))
    # Both roots listing the FADT and a MADT (the guest's copies, guest/acpi.c, get planned and written).
    m = madt()
    rsdt2 = acpi_header(b"RSDT", 44) + struct.pack("<II", FUZZ_PA + 0x100, FUZZ_PA + 0x300)
    xsdt = acpi_header(b"XSDT", 52) + struct.pack("<QQ", FUZZ_PA + 0x100, FUZZ_PA + 0x300)
    arena2 = bytearray(0x300 + len(m))
    arena2[0] = 0xF  # harness: an XSDT, revision 2, fix both chains' checksums
    arena2[1:5] = struct.pack("<HH", 0x40, 0x80)
    arena2[0x40 : 0x40 + len(rsdt2)] = rsdt2
    arena2[0x80 : 0x80 + len(xsdt)] = xsdt
    arena2[0x100 : 0x100 + len(fadt)] = fadt
    arena2[0x300 : 0x300 + len(m)] = m
    put("acpi", "arena-xsdt-rsdt-madt", bytes(arena2))
    put("acpi", "rsdp-v2", rsdp_v2(0x7FE0000, 0x7FE0100))
    put("acpi", "fadt-v1", checksum_fix(bytes(fadt), 9))
    put("acpi", "dsdt-s5", checksum_fix(dsdt, 9))


def gwalk_seed(cr0, cr3, cr4, efer, gla, access, flags, ram, pdptes=(0, 0, 0, 0), cpl=0, maxphy=39):
    h = struct.pack("<QQQQQQ", cr0, cr3, cr4, efer, 0x2, gla)
    h += bytes([cpl, access, maxphy, flags]) + struct.pack("<4Q", *pdptes)
    return h + ram



def madt():
    """A MADT as Bochs builds it for two CPUs, plus an x2APIC entry and a local APIC address override."""
    ents = struct.pack("<BBBBI", 0, 8, 0, 0, 1) + struct.pack("<BBBBI", 0, 8, 1, 1, 1)
    ents += struct.pack("<BBBBII", 1, 12, 2, 0, 0xFEC00000, 0)
    ents += struct.pack("<BBHIII", 9, 16, 0, 0x100, 1, 7) + struct.pack("<BBHQ", 5, 12, 0, 0xFEE00000)
    t = bytearray(b"APIC" + bytes(32) + struct.pack("<II", 0xFEE00000, 1) + ents)
    t[4:8] = struct.pack("<I", len(t))
    return bytes(t)

def emulate_seed(mode, insn, rdi=0x1000):
    """fuzz_emulate: code size, readable bytes, 16 bytes of memory, GPRs, RIP, RFLAGS, segment bases, insn."""
    regs = [0x0123456789ABCDEF + i for i in range(16)]
    regs[7] = rdi  # RDI: the usual base
    regs[1] = 2  # RCX: a small index
    head = bytes([mode, len(insn)]) + bytes(range(16))
    head += b"".join(struct.pack("<Q", v & (2**64 - 1)) for v in regs)
    head += struct.pack("<QQ", 0xFFFFFFFF81000000, 0x2) + bytes(6 * 8)
    return head + bytes(insn)


def emulate_seeds():
    put("emulate", "mov-r64", emulate_seed(2, [0x48, 0x89, 0x37]))
    put("emulate", "lock-cmpxchg16b", emulate_seed(2, [0xF0, 0x48, 0x0F, 0xC7, 0x0F]))
    put("emulate", "lock-btr-imm", emulate_seed(2, [0xF0, 0x48, 0x0F, 0xBA, 0x37, 0x05]))
    put("emulate", "mov-sib-disp32", emulate_seed(2, [0x65, 0x48, 0x89, 0xB4, 0x8F, 0x00, 0x10, 0x00, 0x00]))
    put("emulate", "cmpxchg8b-32", emulate_seed(1, [0xF0, 0x0F, 0xC7, 0x0F]))
    put("emulate", "mov-16", emulate_seed(0, [0x67, 0x66, 0xC7, 0x07, 0x78, 0x56, 0x34, 0x12]))


def main():
    put("mb2", "grub-like", mb2_info())
    put("mb2", "end-only", struct.pack("<IIII", 16, 0, 0, 8))
    for g in ("mb2", "mb1"):
        path = os.path.join("build", "guests", "testkernel-%s.elf" % g)
        if os.path.exists(path):
            with open(path, "rb") as f:
                head = f.read(8192)
            put("elf", "testkernel-%s-4k" % g, head[:4096])
            put("multiboot", "testkernel-%s-8k" % g, head)
    put("elf", "elf64-note", elf64())
    put("pvh", "elf64-pvh", elf64())
    put("pvh", "elf64-no-note", elf64(note=False))
    k = bytearray(elf64(note=False))
    k[0x100 : 0x100 + 24] = mb2_header_kernel()
    put("multiboot", "mb2-header-elf", bytes(k))
    magic, flags = 0x1BADB002, 0x10000
    aout = struct.pack("<III", magic, flags, (-(magic + flags)) & 0xFFFFFFFF)
    aout += struct.pack("<IIIII", 0x100000, 0x100000, 0x100400, 0x101000, 0x100020) + b"\xf4" * (0x400 - 32)
    put("multiboot", "mb1-aout-kludge", aout)
    put("bzimage", "v2.15", bzimage())
    put("bzimage", "v2.12-sects0", bzimage(0x020C, 0, 0x400))
    put("cmdline", "typical", b"on_exit=poweroff ept=eager")
    put("cmdline", "all", b'loglevel=debug hvmem=48M ept=4k on_exit=reboot unknown "quoted=a b"')
    put("cmdline", "bad", b"hvmem=0x hvmem=99999999999G ept= =x on_exit=\"unclosed")
    put("cmdline", "timeout", b"guest_timeout=250ms guest_timeout=30s guest_timeout=0x10 guest_timeout=9ms9")
    acpi_seeds()
    # gwalk: one self-referencing entry (0x1007) at RAM offset 0, RAM folded, gla 0: every level reads it.
    ram = struct.pack("<Q", 0x1007) + bytes(56)
    put("gwalk", "off", gwalk_seed(0x11, 0, 0, 0, 0x12345678, 0, 0, ram))
    put("gwalk", "32bit", gwalk_seed(0x80010011, 0x1000, 0, 0, 0, 1, 4, ram))
    put("gwalk", "pae-regs", gwalk_seed(0x80010011, 0x1000, 0x20, 0x800, 0, 2, 6, ram, (0x1001, 0, 0, 0)))
    put("gwalk", "4level", gwalk_seed(0x80010011, 0x1000, 0x20, 0xD00, 0, 4, 5, ram, cpl=3))
    put("madt", "bochs-like-x2apic", madt())
    put("gwalk", "5level", gwalk_seed(0x80010011, 0x1000, 0x301020, 0xD00, 0, 0, 4, ram))
    emulate_seeds()


if __name__ == "__main__":
    main()
