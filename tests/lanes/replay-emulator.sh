#!/usr/bin/env bash
# A stand-in for Bochs (HAPVISOR_BOCHS=this script) for the tests of the boot-smoke runner's clock
# (tests/lanes/smoke-testkernel.sh): it is started as Bochs is (-f BOCHSRC ...), stays silent for
# REPLAY_DELAY seconds, as slow firmware and GRUB on a busy machine would, then writes REPLAY_SERIAL (the
# serial log of a real run) to the bochsrc's COM1 file at once, and then does nothing until it is stopped,
# as a machine whose guest hangs does. Without REPLAY_SERIAL it never prints anything.
set -u
rc=''
while [ $# -gt 0 ]; do
	[ "$1" = -f ] && rc=$2
	shift
done
serial=$(sed -n 's/^com1:.*dev="\([^"]*\)".*/\1/p' "$rc")
[ -n "$serial" ] || { echo "replay-emulator: no com1 file in $rc" >&2; exit 2; }
sleep "${REPLAY_DELAY:-0}"
[ -z "${REPLAY_SERIAL:-}" ] || cat "$REPLAY_SERIAL" >>"$serial"
exec sleep 100000
