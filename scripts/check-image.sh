#!/usr/bin/env bash
# Sanity checks on the linked hypervisor image: the Multiboot2 header must lie in the first 32 KiB of the
# file (Multiboot2 spec 3.1.1) and the entry point must be the 32-bit physical entry.
set -euo pipefail
elf=$1
off=$(LC_ALL=C grep -obUaP '\xd6\x50\x52\xe8' "$elf" | head -1 | cut -d: -f1 || true)
if [ -z "$off" ] || [ "$off" -ge 32768 ]; then
	echo "check-image: Multiboot2 header not in the first 32 KiB of $elf (offset '${off:-none}')" >&2
	exit 1
fi
entry=$(readelf -h "$elf" | awk '/Entry point/ {print $4}')
if [ $((entry)) -ge $((1 << 32)) ]; then
	echo "check-image: entry point $entry is not a 32-bit physical address" >&2
	exit 1
fi
