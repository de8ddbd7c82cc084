#!/bin/sh
# install_test.sh BUILD_DIR SOURCE_DIR - install gort from BUILD_DIR into a
# temporary prefix (staged through DESTDIR, as a package build does) and
# build tests/install/hello.c against it both ways a C project would:
#   - CMake: find_package(gort), linking gort::gort (libgort.a) and
#     gort::gort_shared (libgort.so);
#   - pkg-config: `pkg-config --cflags --libs gort` (skipped, with a note,
#     if pkg-config is not installed).
# Each program must run and print the right sum.  Then make uninstall's
# way of removing (install_manifest.txt) must leave no file behind.
set -eu
build=$1 src=$2
tmp=$(mktemp -d)
# cmake --install writes the build's install_manifest.txt, which make
# uninstall reads: keep the user's own, if any.
manifest=$build/install_manifest.txt
[ -f "$manifest" ] && cp "$manifest" "$tmp/manifest.saved"
restore() {
	if [ -f "$tmp/manifest.saved" ]; then cp "$tmp/manifest.saved" "$manifest"; else rm -f "$manifest"; fi
	rm -rf "$tmp"
}
trap restore EXIT
prefix=/opt/gort-test
stage=$tmp/stage

fail() { echo "install_test: $*" >&2; exit 1; }

DESTDIR=$stage cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" ||
	fail "cmake --install failed: $(cat "$tmp/install.log")"
root=$stage$prefix
for f in include/gort.h include/gort/impl.h share/gort/gort-gdb.py \
	$( [ -f "$build/gort.3" ] && echo share/man/man3/gort.3) $( [ -f "$build/gort-peek" ] && echo bin/gort-peek) \
	$( [ -f "$build/gort-top" ] && echo bin/gort-top); do
	[ -f "$root/$f" ] || fail "$f was not installed"
done
lib=$(cd "$root" && ls -d lib*/libgort.a | head -1)
libdir=$root/$(dirname "$lib")
for f in libgort.a libgort.so pkgconfig/gort.pc cmake/gort/gortConfig.cmake; do
	[ -e "$libdir/$f" ] || fail "$(dirname "$lib")/$f was not installed"
done
# the soname's link: libgort.so.0.MINOR before 1.0, libgort.so.MAJOR after
soname=$(readlink "$libdir/libgort.so")
case $soname in
libgort.so.[0-9]*) [ -e "$libdir/$soname" ] || fail "libgort.so points to $soname, which was not installed" ;;
*) fail "libgort.so points to '$soname', not to the versioned library" ;;
esac

check_run() { # program: runs, prints the sum
	out=$(LD_LIBRARY_PATH=$libdir "$1") || fail "$1 failed: $out"
	case $out in
	"gort "*": sum 55") ;;
	*) fail "$1 printed '$out'" ;;
	esac
}

cmake -S "$src/tests/install" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$root" >"$tmp/cm.log" 2>&1 ||
	fail "find_package(gort) failed: $(cat "$tmp/cm.log")"
cmake --build "$tmp/cm" >"$tmp/cmb.log" 2>&1 || fail "building with gort::gort failed: $(cat "$tmp/cmb.log")"
check_run "$tmp/cm/hello_static"
check_run "$tmp/cm/hello_shared"
grep -q -- -fstack-clash-protection "$tmp/cm/CMakeFiles/hello_static.dir/flags.make" ||
	fail "gort::gort did not bring -fstack-clash-protection"

if command -v pkg-config >/dev/null; then
	flags=$(PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --cflags --libs gort) ||
		fail "pkg-config gort failed"
	cc "$src/tests/install/hello.c" $flags -o "$tmp/hello_pc" || fail "cc with pkg-config's flags ($flags) failed"
	check_run "$tmp/hello_pc"
else
	echo "install_test: pkg-config is not installed: its half is skipped (apt-get install pkg-config)"
fi

# make uninstall removes what install_manifest.txt lists (paths without
# DESTDIR, which it puts back in front).
sed "s#^#$stage#" "$manifest" | xargs rm -f
left=$(find "$root" -type f | head -5)
[ -z "$left" ] || fail "files left after uninstalling: $left"
echo "install_test: ok"
