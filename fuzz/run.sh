#!/usr/bin/env bash
# fuzz/run.sh - build and run gort's libFuzzer targets (make fuzz).
#
#   fuzz/run.sh [target...]     (default: every fuzz/*_fuzz.c)
#
# Environment:
#   FUZZ_SECONDS   time per target (default 60); targets run one at a time
#   FUZZ_ARGS      extra libFuzzer flags for every target, e.g. -jobs=1
#   FUZZ_BUILD     build directory (default build-fuzz)
#   FUZZ_KEEP_CORPUS=1  keep each target's grown corpus in
#                  fuzz-artifacts/<name>/corpus (to pick new seeds from)
#
# The convention
# --------------
# A target is fuzz/<name>_fuzz.c defining LLVMFuzzerTestOneInput.  Its seed
# corpus is fuzz/corpus/<name>/ (optional).  Lines at the top of the file
# that start with "// fuzz-" tell how to build and run it:
#
#   // fuzz-sources: examples/http_parse.c   extra sources (paths from the
#                                            repository root; several allowed)
#   // fuzz-runtime: gort                    the target calls gort: it is
#                                            linked with fuzz/gort_fuzz_main.c,
#                                            whose main() starts gort and runs
#                                            libFuzzer (LLVMFuzzerRunDriver) in a
#                                            goroutine with a 64 MiB stack
#   // fuzz-flags: -max_len=4096             extra libFuzzer flags (api_sequence
#                                            uses -len_control=0: whole programs
#                                            from the start)
#
# Without fuzz-runtime a target is pure: libFuzzer's own main() calls it
# directly, and it must not call gort (it may use gort.h's types).  Every
# target is compiled with -Iinclude -Iexamples -Ifuzz and linked with the
# fuzz build of libgort.a, so extra sources may call gort too.
#
# Build: libgort is built by clang with
# -fsanitize=fuzzer-no-link,address,undefined (coverage for libFuzzer, ASan,
# UBSan) in $FUZZ_BUILD (cmake, GORT_SANITIZE); the targets with
# -fsanitize=fuzzer,address,undefined (runtime targets: fuzzer-no-link and
# libFuzzer's no-main library).
#
# Run: each target fuzzes a copy of its seed corpus (a temporary directory:
# the repository does not change) for FUZZ_SECONDS, with its artifacts
# (crash-*, timeout-*, leak-*, oom-*) in fuzz-artifacts/<name>/.  A runtime
# target's own watchdog aborts an input that runs 10 s (a hang), which
# libFuzzer saves as a crash-* artifact.  Then one summary line per target;
# the exit status is 1 if any target crashed, hung or failed to build.
#
# Replay an artifact without libFuzzer: build/tests/replay_<name> <file-or-dir>
# (runtime targets; built by make all), or $FUZZ_BUILD/fuzz/<name>_fuzz <file>.
set -u
cd "$(dirname "$0")/.."
root=$(pwd)

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_ARGS=${FUZZ_ARGS:-}
BUILD=${FUZZ_BUILD:-build-fuzz}
CC=${FUZZ_CC:-clang}
ART=fuzz-artifacts
JOBS=$(nproc)

die() { echo "fuzz: $*" >&2; exit 1; }

command -v "$CC" >/dev/null || die "$CC is missing: apt-get install clang libclang-rt-14-dev (or run make fuzz as root)"
rtdir=$("$CC" -print-runtime-dir 2>/dev/null)
nomain="$rtdir/libclang_rt.fuzzer_no_main-x86_64.a"
[ -f "$rtdir/libclang_rt.fuzzer-x86_64.a" ] && [ -f "$nomain" ] ||
	die "libFuzzer is missing from $rtdir: apt-get install libclang-rt-14-dev (or run make fuzz as root)"

# ---- libgort for fuzzing ----------------------------------------------------
echo "fuzz: building libgort with $CC, -fsanitize=fuzzer-no-link,address,undefined, in $BUILD" >&2
cmake -S . -B "$BUILD" -DCMAKE_C_COMPILER="$CC" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DGORT_SANITIZE=fuzzer-no-link,address,undefined -DBUILD_TESTING=OFF >"$BUILD.cmake.log" 2>&1 ||
	{ cat "$BUILD.cmake.log" >&2; die "cmake failed"; }
rm -f "$BUILD.cmake.log"
cmake --build "$BUILD" --target gort_static -j "$JOBS" >/dev/null || die "building libgort failed"

libs="-lpthread"
if grep -q '^LIBDW_LIBRARY:FILEPATH=/' "$BUILD/CMakeCache.txt" &&
	grep -q '^LIBELF_LIBRARY:FILEPATH=/' "$BUILD/CMakeCache.txt" &&
	grep -q '^LIBDW_INCLUDE_DIR:PATH=/' "$BUILD/CMakeCache.txt"; then
	libs="$libs -ldw -lelf"
fi

# ---- the targets --------------------------------------------------------------
if [ $# -gt 0 ]; then
	targets=("$@")
else
	targets=()
	for f in fuzz/*_fuzz.c; do
		[ -e "$f" ] || continue
		b=$(basename "$f" .c)
		targets+=("${b%_fuzz}")
	done
fi
[ ${#targets[@]} -gt 0 ] || die "no fuzz/*_fuzz.c targets"

# header <file> <key>: the values of the "// fuzz-<key>:" lines at the top.
header() {
	sed -n '/^\/\/ fuzz-'"$2"':/{s/^\/\/ fuzz-'"$2"':[[:space:]]*//;p}' "$1" | tr '\n' ' '
}

mkdir -p "$BUILD/fuzz" "$ART"
cflags="-g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=all -Iinclude -Iexamples -Ifuzz"
status=0
summary=()
for name in "${targets[@]}"; do
	src=fuzz/${name}_fuzz.c
	bin=$BUILD/fuzz/${name}_fuzz
	[ -f "$src" ] || { summary+=("$name: no such target ($src)"); status=1; continue; }
	extra=$(header "$src" sources)
	flags=$(header "$src" flags)
	if [ -n "$(header "$src" runtime)" ]; then
		build=("$CC" $cflags -fsanitize=fuzzer-no-link,address,undefined -DGORT_FUZZ_LIBFUZZER
			"$src" fuzz/gort_fuzz_main.c $extra "$BUILD/libgort.a" "$nomain" -lstdc++ $libs -o "$bin")
	else
		build=("$CC" $cflags -fsanitize=fuzzer,address,undefined "$src" $extra "$BUILD/libgort.a" $libs -o "$bin")
	fi
	echo "fuzz: ${build[*]}" >&2
	if ! "${build[@]}"; then
		summary+=("$name: BUILD FAILED")
		status=1
		continue
	fi

	art=$ART/$name
	mkdir -p "$art"
	corpus=$(mktemp -d "${TMPDIR:-/tmp}/gort-fuzz-$name.XXXXXX")
	[ -d fuzz/corpus/$name ] && cp -r fuzz/corpus/$name/. "$corpus"/ 2>/dev/null
	seeds=$(find "$corpus" -type f | wc -l)
	log=$art/fuzz.log
	echo "fuzz: $name: $FUZZ_SECONDS s from $seeds seeds; log in $log" >&2
	t0=$(date +%s)
	# -timeout is a backstop: the runtime targets' own watchdog reports a hang
	# first (libFuzzer's SIGALRM may land on a thread it ignores there).
	# The outer timeout catches a fuzzer that does not stop by itself.
	timeout -k 10 $((FUZZ_SECONDS + 300)) "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=60 \
		-print_final_stats=1 -artifact_prefix="$art/" $flags $FUZZ_ARGS "$corpus" >"$log" 2>&1
	rc=$?
	t1=$(date +%s)
	if [ "${FUZZ_KEEP_CORPUS:-0}" = 1 ]; then
		rm -rf "$art/corpus" && cp -r "$corpus" "$art/corpus"
	fi
	rm -rf "$corpus"
	runs=$(sed -n 's/^stat::number_of_executed_units:[[:space:]]*//p' "$log" | tail -1)
	[ -n "$runs" ] || runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
	crashes=$(find "$art" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' \
		-o -name 'leak-*' -o -name 'oom-*' \) -newer "$bin" | wc -l)
	verdict=ok
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		verdict="HUNG (killed after $((t1 - t0)) s)"
		status=1
	elif [ $rc -ne 0 ] || [ "$crashes" -gt 0 ]; then
		verdict="FAILED (exit $rc): see $log and $art/"
		status=1
	fi
	summary+=("$name: ${runs:-?} runs in $((t1 - t0)) s, $crashes crashes: $verdict")
done

echo
for line in "${summary[@]}"; do
	echo "fuzz: $line"
done
exit $status
