#!/bin/sh
# soname.sh LIBRARY WANT - the shared library's soname (its DT_SONAME, read
# with readelf, or objdump) is WANT.  CTest's soname passes WANT as
# libgort.so.<GORT_SOVERSION> (MAJOR, or 0.MINOR before 1.0), from gort.h; exit 77 (CTest: skipped)
# when binutils is missing.
lib=$1
want=$2
if command -v readelf >/dev/null 2>&1; then
	got=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
elif command -v objdump >/dev/null 2>&1; then
	got=$(objdump -p "$lib" | awk '$1 == "SONAME" { print $2 }')
else
	echo "soname: skipped: neither readelf nor objdump is installed (binutils)"
	exit 77
fi
if [ "$got" != "$want" ]; then
	echo "soname: $lib has soname '$got'; gort.h's version says '$want'" >&2
	exit 1
fi
echo "PASS soname $got"
