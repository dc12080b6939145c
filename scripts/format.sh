#!/usr/bin/env bash
# clang-format (.clang-format) over every C source and header of the repository (the hypervisor, the test
# kernel, the unit tests and fuzz targets), tracked or new, build output aside.
#
#   scripts/format.sh            format them in place (make format)
#   scripts/format.sh --check    change nothing; list the files that are not formatted, exit 1 if any
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
command -v clang-format >/dev/null || { echo "clang-format is missing: run 'scripts/deps.sh build'" >&2; exit 2; }
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.c' '*.h' | sort -u)
if [ "${1:-}" != --check ]; then
	clang-format -i "${files[@]}"
	exit
fi
bad=()
for f in "${files[@]}"; do
	[ -f "$f" ] || continue
	clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
[ ${#bad[@]} -eq 0 ] || printf '%s\n' "${bad[@]}"
[ ${#bad[@]} -eq 0 ]
