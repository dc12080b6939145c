#!/usr/bin/env bash
# Run the static checks (tests/checks/NAME, each an executable that prints "check NAME: PASS" or
# "check NAME: FAIL: ..." and exits 0 or 1) and print one summary line "checks: N passed, N failed".
#
#   tests/run-checks.sh [NAME...]     (default: every check in tests/checks/)
set -u
here=$(cd "$(dirname "$0")" && pwd)
checks=("$@")
if [ ${#checks[@]} -eq 0 ]; then
	for f in "$here"/checks/*; do [ -x "$f" ] && checks+=("$(basename "$f")"); done
fi
passed=0 failed=0
for c in "${checks[@]}"; do
	if [ ! -x "$here/checks/$c" ]; then
		echo "check $c: FAIL: no such check (tests/checks/$c)"
		failed=$((failed + 1))
	elif "$here/checks/$c"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done
echo "checks: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
