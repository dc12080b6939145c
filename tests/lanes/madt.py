#!/usr/bin/env python3
"""Write an ACPI MADT (ACPI 6.5 5.2.12) for the lanes that hand hapvisor firmware tables Bochs cannot make.

    tests/lanes/madt.py OUT [--revision N] [--ioapic-id N] CPU...

CPU is APIC_ID[:FLAGS] (FLAGS of the Processor Local APIC entry, default 1 = enabled; 2 = online capable,
0 = disabled); an APIC_ID above 254 becomes a Processor Local x2APIC entry. The table also holds what a
PC's MADT holds besides the processors (one I/O APIC at 0xFEC00000 and the ISA IRQ 0 -> GSI 2 override),
so that a guest that reads it finds a usable interrupt setup. The lane's GRUB entry loads it with
`acpi --exclude=apic FILE` (GRUB builds a new RSDP, RSDT and XSDT that list it instead of the firmware's).
"""
import argparse
import struct

LAPIC_ADDR = 0xFEE00000
IOAPIC_ADDR = 0xFEC00000
MADT_FLAGS_PCAT_COMPAT = 1
XAPIC_ID_MAX = 254  # 0xFF in a type-0 entry means "no processor"


def header(length, revision):
    # Signature, Length, Revision, Checksum (patched), OEMID, OEM Table ID, OEM Revision, Creator ID/Rev.
    return struct.pack("<4sIBB6s8sI4sI", b"APIC", length, revision, 0, b"HAPVSR", b"LANEMADT", 1, b"HVLN", 1)


def entries(cpus, ioapic_id):
    out = b""
    for uid, (apic_id, flags) in enumerate(cpus):
        if apic_id <= XAPIC_ID_MAX:
            out += struct.pack("<BBBBI", 0, 8, uid, apic_id, flags)  # Processor Local APIC
        else:
            out += struct.pack("<BBHIII", 9, 16, 0, apic_id, flags, uid)  # Processor Local x2APIC
    out += struct.pack("<BBBBII", 1, 12, ioapic_id, 0, IOAPIC_ADDR, 0)  # I/O APIC, GSI base 0
    out += struct.pack("<BBBBIH", 2, 10, 0, 0, 2, 0)  # Interrupt Source Override: ISA IRQ 0 -> GSI 2
    return out


def madt(cpus, revision, ioapic_id):
    body = struct.pack("<II", LAPIC_ADDR, MADT_FLAGS_PCAT_COMPAT) + entries(cpus, ioapic_id)
    table = bytearray(header(36 + len(body), revision) + body)
    table[9] = (-sum(table)) & 0xFF
    return bytes(table)


def cpu_arg(text):
    apic_id, _, flags = text.partition(":")
    return int(apic_id, 0), int(flags or "1", 0)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--revision", type=int, default=5, help="MADT revision (5: ACPI 6.3+, defines online capable)")
    p.add_argument("--ioapic-id", type=lambda s: int(s, 0), default=None, help="default: one above the last CPU")
    p.add_argument("cpus", nargs="+", type=cpu_arg, metavar="CPU")
    a = p.parse_args()
    ioapic_id = a.ioapic_id if a.ioapic_id is not None else (max(c[0] for c in a.cpus) + 1) & 0xFF
    with open(a.out, "wb") as f:
        f.write(madt(a.cpus, a.revision, ioapic_id))


if __name__ == "__main__":
    main()
