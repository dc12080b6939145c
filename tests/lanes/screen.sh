# shellcheck shell=bash
# The screen check of the QEMU lanes (sourced after lib.sh; tests/lanes/screen.py, docs/screen.md):
#
#   screen_capture_begin                         # before the run: the QMP helper waits for the power-off
#   lane_run_qemu bios "${SCREEN_QEMU_ARGS[@]}"  # -no-shutdown keeps the display after the power-off
#   screen_expect                                # the screendump shows what the serial log says
#
# Leaves screen.ppm, screen.png and screen-dump.log in the lane's folder.

SCREEN_FONT=/usr/share/consolefonts/Lat15-VGA16.psf.gz # the Makefile's FONT_PSF

screen_capture_begin() {
	lane_need_tool python3 "$SCREEN_FONT"
	SCREEN_PPM=$LANE_DIR/screen.ppm
	local sock=$LANE_DIR/qmp.sock
	# shellcheck disable=SC2054,SC2034 # the commas belong to QEMU's option; the lane script uses it
	SCREEN_QEMU_ARGS=(-no-shutdown -qmp "unix:$sock,server=on,wait=off")
	python3 "$LANES_ROOT/tests/lanes/screen.py" dump "$sock" "$SCREEN_PPM" "$LANE_LIMIT" \
		>"$LANE_DIR/screen-dump.log" 2>&1 &
	SCREEN_PID=$!
}

screen_expect() {
	local out
	if ! wait "$SCREEN_PID" || [ ! -s "$SCREEN_PPM" ]; then
		lane_fail "no screendump after the power-off ($(tail -n 1 "$LANE_DIR/screen-dump.log"))"
		return
	fi
	out=$(python3 "$LANES_ROOT/tests/lanes/screen.py" check "$LANE_SERIAL" "$SCREEN_PPM" "$SCREEN_FONT" \
		"$LANE_DIR/screen.png")
	local rc=$?
	echo "$out" >"$LANE_DIR/screen-check.log"
	[ "$rc" -eq 0 ] || lane_fail "the screen differs from the serial log: $(head -n 1 <<<"$out")"
}
