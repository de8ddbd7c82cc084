#!/bin/sh
# apt-install.sh WHY PACKAGE...: installs the Debian packages a make target
# wants (WHY: what for), when run as root where apt-get is - the Makefile's
# one way to fetch a dependency.  Exits 0 once they are installed, 1 if
# they could not be: the caller then says what is lost without them.
why=$1
shift
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
	exit 1
fi
echo "gort: installing $* ($why)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y "$@" >/dev/null 2>&1 && exit 0
# a fresh machine's package lists may be missing or stale
apt-get update >/dev/null 2>&1 && apt-get install -y "$@" >/dev/null 2>&1 && exit 0
echo "gort: could not install $*" >&2
exit 1
