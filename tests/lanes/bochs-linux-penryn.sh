#!/usr/bin/env bash
# Lane bochs-linux-penryn: Debian Linux through its PVH entry on Core 2 Penryn (no EPT: shadow paging), see
# bochs-linux.sh.
exec "$(dirname "$0")/bochs-linux.sh" pvh core2_penryn_t9600 "$@"
