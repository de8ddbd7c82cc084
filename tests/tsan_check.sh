#!/bin/sh
# tsan_check.sh PROGRAM MODE - run tests/tsan_race.c in one mode under the
# TSan build and judge ThreadSanitizer's verdict:
#   race   a data race reported ("WARNING: ThreadSanitizer: data race"),
#          TSan's exit code 66, and the report's two stacks are the two
#          goroutines': racer_a in one, racer_b in the other;
#   other  no report at all, exit 0, and the program's PASS line.
prog=$1
mode=$2
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
# The caller's TSAN_OPTIONS may stop at the first report or change the code.
TSAN_OPTIONS="exitcode=66 halt_on_error=0" "$prog" "$mode" >"$out" 2>"$err"
code=$?
fail() {
	echo "tsan_check $mode: $1" >&2
	echo "--- stdout:" >&2; cat "$out" >&2
	echo "--- stderr:" >&2; cat "$err" >&2
	exit 1
}
grep -q "^PASS tsan_race $mode\$" "$out" || fail "the program did not finish"
if [ "$mode" = race ]; then
	[ "$code" = 66 ] || fail "exit code $code, not TSan's 66"
	grep -q "WARNING: ThreadSanitizer: data race" "$err" || fail "no data race reported"
	# The two stacks of the first report: the access, then "Previous".
	awk '/WARNING: ThreadSanitizer: data race/ { n++ } n == 1' "$err" >"$out.report"
	first=$(awk '/^  (Write|Read) of size/ { s = 1; next } /^  Previous/ { exit } s' "$out.report")
	prev=$(awk '/^  Previous/ { s = 1; next } /^$/ { if (s) exit } s' "$out.report")
	rm -f "$out.report"
	for f in write_shared; do
		echo "$first" | grep -q " $f " || fail "the access's stack has no $f"
		echo "$prev" | grep -q " $f " || fail "the previous access's stack has no $f"
	done
	if echo "$first" | grep -q " racer_a " && echo "$prev" | grep -q " racer_b "; then
		:
	elif echo "$first" | grep -q " racer_b " && echo "$prev" | grep -q " racer_a "; then
		:
	else
		fail "the two stacks are not racer_a's and racer_b's"
	fi
	echo "tsan_check race: reported, with racer_a's and racer_b's stacks"
else
	[ "$code" = 0 ] || fail "exit code $code"
	if grep -q "ThreadSanitizer" "$err"; then
		fail "TSan reported something"
	fi
	echo "tsan_check $mode: no report"
fi
