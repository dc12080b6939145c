#!/usr/bin/env bash
# Sanity checks on a linked test kernel: tests/guests/check-testkernel.sh IMAGE 1|2
# It must be an ELF32 i386 file (QEMU's Multiboot loader takes no other), its entry point must be the
# 32-bit entry, and its header must lie where the loader looks: the Multiboot1 magic 4-byte aligned in
# the first 8 KiB (Multiboot 0.6.96 section 3.1.1), the Multiboot2 magic 8-byte aligned in the first
# 32 KiB (Multiboot2 1.0 section 3.1.1).
set -euo pipefail
elf=$1 proto=$2
fail() { echo "check-testkernel: $elf: $*" >&2; exit 1; }

[ "$(od -An -tx1 -j4 -N1 "$elf" | tr -d ' ')" = 01 ] || fail "not an ELF32 file (EI_CLASS != 1)"
[ "$(od -An -tu2 -j18 -N2 "$elf" | tr -d ' ')" = 3 ] || fail "e_machine is not EM_386"
case $proto in
1) magic='\x02\xb0\xad\x1b' limit=8192 align=4 ;;
2) magic='\xd6\x50\x52\xe8' limit=32768 align=8 ;;
*) fail "protocol must be 1 or 2, not '$proto'" ;;
esac
off=$(LC_ALL=C grep -obUaP "$magic" "$elf" | head -1 | cut -d: -f1 || true)
[ -n "$off" ] || fail "no Multiboot$proto header magic"
[ "$off" -lt "$limit" ] || fail "Multiboot$proto header at file offset $off, not in the first $limit bytes"
[ $((off % align)) -eq 0 ] || fail "Multiboot$proto header at file offset $off is not $align-byte aligned"
entry=$(od -An -tu4 -j24 -N4 "$elf" | tr -d ' ')
[ "$entry" -ge $((1 << 20)) ] || fail "entry point $entry is below 1 MiB"
