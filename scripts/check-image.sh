#!/usr/bin/env bash
# Sanity checks on the linked hypervisor image: the Multiboot2 header must lie in the first 32 KiB of the
# file (Multiboot2 spec 3.1.1) and the entry point must be the 32-bit physical entry. KIND release (the
# default) or test: the release image must hold no test hook (the vmcs_break and fatal_test options,
# docs/security.md), the test build (HV_TEST_HOOKS) must hold both.
#
#   scripts/check-image.sh ELF [release|test]
set -euo pipefail
elf=$1 kind=${2:-release}
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
# The loaded image only (not the debug information, which names every function).
loaded=$(mktemp)
trap 'rm -f "$loaded"' EXIT
objcopy -O binary "$elf" "$loaded"
for hook in vmcs_break fatal_test; do
	n=$(LC_ALL=C grep -c -a "$hook" "$loaded" || true)
	if [ "$kind" = release ] && [ "$n" -ne 0 ]; then
		echo "check-image: $elf is a release image but holds the test hook $hook (built with HV_TEST_HOOKS?)" >&2
		exit 1
	fi
	if [ "$kind" = test ] && [ "$n" -eq 0 ]; then
		echo "check-image: $elf is the test build but has no $hook hook" >&2
		exit 1
	fi
done
