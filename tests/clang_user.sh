#!/bin/sh
# clang_user.sh LIB INCLUDE SRCDIR LIBS...: a program compiled with Clang
# against the library.  GORT_FRAME, gort_defer and gort_recover are macros
# compiled into the program, and tracebacks read the program's DWARF, so
# what Clang makes of both matters however the library was built.  The
# tests that caught its differences run again, built by Clang at -O2 -g:
# defer (a recovery's return value; recover from an inlined helper),
# sync_once_cond (a value set by the deferred call), traceback (file:line
# from units without .debug_aranges).
set -eu
lib=$1 inc=$2 src=$3
shift 3
if ! command -v clang >/dev/null 2>&1; then
	echo "SKIP clang_user: no clang (apt-get install clang)"
	exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for t in defer sync_once_cond traceback; do
	clang -std=gnu11 -O2 -g -I"$inc" -I"$src" "$src/$t.c" "$lib" "$@" -o "$dir/$t"
	GOMAXPROCS=2 "$dir/$t"
done
