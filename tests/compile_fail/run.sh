#!/bin/sh
# run.sh CC INCLUDE_DIR SNIPPET - a compile-failure test.
#
# SNIPPET is a small C file that misuses gort's API under #ifndef
# GORT_COMPILE_OK and uses it correctly under #ifdef; its comment line
# " * expect: REGEX" is the diagnostic the misuse must draw (an extended
# regex, matched against the compiler's output).  Passes when the correct
# form compiles cleanly (-Wall -Wextra -Werror: the check costs the user no
# warning) and the misuse fails to compile with the expected diagnostic.
# Both are compiled as C11 with GNU extensions, as gort.h needs, and with
# the two pointer checks that GCC 14 and clang 16 make errors by default.
set -u
if [ $# -ne 3 ]; then
	echo "usage: $0 CC INCLUDE_DIR SNIPPET" >&2
	exit 2
fi
cc=$1 inc=$2 src=$3
name=$(basename "$src" .c)
expect=$(sed -n 's/^ \* expect: //p' "$src" | head -n 1)
if [ -z "$expect" ]; then
	echo "$name: no ' * expect: REGEX' line in $src" >&2
	exit 1
fi
flags="-std=gnu11 -fsyntax-only -I$inc -Werror=incompatible-pointer-types -Werror=int-conversion"
if ! out=$("$cc" $flags -Wall -Wextra -Werror -DGORT_COMPILE_OK "$src" 2>&1); then
	printf '%s: the correct form does not compile cleanly:\n%s\n' "$name" "$out" >&2
	exit 1
fi
if out=$("$cc" $flags "$src" 2>&1); then
	printf '%s: the misuse compiled (want a diagnostic matching /%s/)\n' "$name" "$expect" >&2
	exit 1
fi
if ! printf '%s\n' "$out" | grep -Eq -- "$expect"; then
	printf '%s: the misuse failed, but not with /%s/:\n%s\n' "$name" "$expect" "$out" >&2
	exit 1
fi
echo "PASS $name ($(basename "$cc"))"
