#!/usr/bin/env bash
# Run libFuzzer harnesses (built by `make fuzz` / `make fuzz-smoke`) for a fixed time each and report.
#   tests/fuzz/run.sh check CC          exit 0 when CC can link -fsanitize=fuzzer (the libFuzzer runtime)
#   tests/fuzz/run.sh SECONDS BIN...    run each build/fuzz/fuzz_<t> on tests/fuzz/corpus/<t> for SECONDS
# New inputs go to build/fuzz/work/<t> (the checked-in seeds are never modified); a crash input is saved as
# build/fuzz/crashes/<t>-crash-<sha1>. Ends with "fuzz: N passed, N failed"; exits 1 when any failed.
set -u

if [ "${1:-}" = check ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' >"$tmp/t.c"
	"$2" -fsanitize=fuzzer,address,undefined "$tmp/t.c" -o "$tmp/t" >/dev/null 2>&1
	exit
fi

seconds=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
max_len() { # per target: the largest input worth mutating
	case $1 in
	cmdline) echo 1024 ;;
	gwalk) echo 4096 ;;
	emulate) echo 256 ;; # a header of 210 bytes and one instruction
	mb2 | acpi | madt) echo 8192 ;;
	*) echo 16384 ;; # kernel images: headers lie in the first 8-32 KiB
	esac
}

unset HV_UNIT_VERBOSE # console output goes to the capture buffer only
passed=0 failed=0
for bin in "$@"; do
	t=${bin##*/fuzz_}
	dir=$(dirname "$bin")
	work=$dir/work/$t
	mkdir -p "$work" "$dir/crashes" "$dir/logs"
	log=$dir/logs/$t.log
	"$bin" -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$dir/crashes/$t-" "$work" "$here/corpus/$t" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
	[ -n "$runs" ] || runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\)/\1/p' "$log" | tail -n 1)
	if [ "$rc" -eq 0 ]; then
		passed=$((passed + 1))
		printf 'fuzz: %-10s %10s executions in %ss, 0 crashes\n' "$t" "${runs:-?}" "$seconds"
	else
		failed=$((failed + 1))
		crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
		printf 'fuzz: %-10s CRASH after %s executions: %s (log: %s)\n' "$t" "${runs:-?}" "${crash:-no input saved}" "$log"
		grep -m 1 -E 'ERROR: (AddressSanitizer|libFuzzer)|runtime error|panic:|guarantee broken' "$log" | sed 's/^/fuzz:   /'
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
