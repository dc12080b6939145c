#!/usr/bin/env bash
# Lane qemu-bios-events: qemu-bios with screen_events=on (see qemu-bios.sh).
exec "$(dirname "$0")/qemu-bios.sh" events "$@"
