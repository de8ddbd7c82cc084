# gort - the two commands of the README, and the benchmarks.
#
#   make demo    build everything and run the showcase example
#   make test    build and run the whole test suite, then again under
#                AddressSanitizer + UndefinedBehaviorSanitizer, with the
#                runtime's costly checks on (GORT_DEBUG), then under
#                ThreadSanitizer (test-tsan)
#   make bench   run every benchmark, gort and (when Go is installed) its Go
#                twin side by side; W=<workload> PROCS=<n> runs one
#   make count   the counting build (./build-count) and what each bench
#                operation costs in shared state (bench/count.sh)
#   make explore how fast deterministic mode finds the planted bugs of
#                tests/det_bugs/ (random walk and PCT) and how rarely
#                normal runs show them (bench/explore.sh; SEEDS=n, default 1000)
#   make stress  run the concurrency-sensitive tests many times each, at
#                GOMAXPROCS 1, 2 and 8, plain and sanitized, with every CPU
#                also busy (tests/stress.py; STRESS_ARGS passes options,
#                e.g. STRESS_ARGS='--minutes 60 --tests net_')
#   make test-tsan  the suite again under ThreadSanitizer (./build-tsan): the
#                third pass of make test
#   make test-valgrind  the tests and the showcase under valgrind's memcheck
#                (tests/valgrind.py; not part of make test: it takes minutes)
#   make install install the libraries, headers, gort.pc, the CMake
#                package, gort-peek, gort-top and gdb's gort-gdb.py (share/gort)
#                under PREFIX (default /usr/local), staged under
#                DESTDIR if set; make uninstall removes what it installed
#   make fuzz    build every fuzz/*_fuzz.c with clang's libFuzzer, ASan and
#                UBSan and fuzz each for FUZZ_SECONDS (default 60), one at a
#                time; crashes land in fuzz-artifacts/ (fuzz/run.sh says how)
BUILD    ?= build
SANBUILD ?= build-san
TSANBUILD ?= build-tsan
JOBS     ?= $(shell nproc)
CMAKE    ?= cmake

# cmake's own makefiles otherwise announce every directory they enter.
MAKEFLAGS += --no-print-directory

.PHONY: count explore bench-deps all sanitize tsan test-tsan tsan-deps demo test test-release test-sanitize bench stress deps fuzz fuzz-deps clean install uninstall test-valgrind test-deps

all: deps
	@$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@$(CMAKE) --build $(BUILD) -j $(JOBS)

demo: all
	./$(BUILD)/examples/showcase

test: test-release test-sanitize test-tsan

test-release: all test-deps
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

sanitize: deps
	@$(CMAKE) -S . -B $(SANBUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGORT_SANITIZE=address,undefined -DGORT_DEBUG=ON >/dev/null
	@$(CMAKE) --build $(SANBUILD) -j $(JOBS)

test-sanitize: sanitize test-deps
	cd $(SANBUILD) && ctest --output-on-failure -j $(JOBS)

# ThreadSanitizer: with the compiler of the other builds (gcc's libtsan;
# TSAN_CC=clang works too, but clang builds panic.c's __builtin_setjmp
# recoveries and the tracebacks' frames differently from what the tests
# expect).  The goroutine annotations: src/tsan.h.
TSAN_CC ?= cc
tsan: deps tsan-deps
	@CC=$(TSAN_CC) $(CMAKE) -S . -B $(TSANBUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGORT_SANITIZE=thread >/dev/null
	@$(CMAKE) --build $(TSANBUILD) -j $(JOBS)

test-tsan: tsan test-deps
	cd $(TSANBUILD) && ctest --output-on-failure -j $(JOBS)

# TSan's runtime for gcc is libtsan2 (Debian): as root with apt-get,
# tsan-deps installs it; otherwise it says what to install.
tsan-deps:
	@if ! echo 'int main(void){return 0;}' | $(TSAN_CC) -fsanitize=thread -x c - -o /dev/null 2>/dev/null && \
	    ! tools/apt-install.sh "make test-tsan" libtsan2; then \
	  echo "gort: make test-tsan needs ThreadSanitizer's runtime: apt-get install libtsan2" >&2; \
	  exit 1; \
	fi

# The counting build (cmake -DGORT_COUNT=ON, src/count.h) in ./build-count,
# and the cost of each workload's operation in shared state: global locks
# and atomic read-modify-writes, at GOMAXPROCS 2 and 8 (bench/count.sh;
# READING.md keeps the table).  W=<workloads> PROCS=<n...> as for bench.
COUNTBUILD ?= build-count
count: deps
	@$(CMAKE) -S . -B $(COUNTBUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGORT_COUNT=ON >/dev/null
	@$(CMAKE) --build $(COUNTBUILD) -j $(JOBS) >&2
	@bench/count.sh $(COUNTBUILD) "$(W)" "$(PROCS)"

# Not part of test: it takes as long as it is given (10 rounds by default).
SEEDS ?= 1000
explore: all
	bench/explore.sh $(BUILD) $(SEEDS)

stress: all sanitize
	@command -v python3 >/dev/null || { echo "gort: make stress needs python3: apt-get install python3" >&2; exit 1; }
	python3 tests/stress.py --builds $(BUILD),$(SANBUILD) $(STRESS_ARGS)

# Three rounds by default, alternating which twin goes first: single runs on
# a shared VM swing with the cost of first-touching memory.
RUNS ?= 3
bench: bench-deps
	@$(MAKE) all >&2   # build messages to stderr: stdout carries the JSON lines
	@RUNS=$(RUNS) bench/run.sh "$(BUILD)" "$(W)" "$(PROCS)"

# binary_trees' third twin runs on the Boehm collector (Debian: libgc-dev),
# tcp_echo's io_uring floor on liburing (liburing-dev): as root with
# apt-get, bench-deps installs them; otherwise it says what the benchmark
# run leaves out.
bench-deps:
	@if [ ! -f /usr/include/gc.h ] && ! tools/apt-install.sh "binary_trees' Boehm twin" libgc-dev; then \
	  echo "gort: libgc-dev is missing: binary_trees runs without its Boehm twin (apt-get install libgc-dev)" >&2; \
	fi
	@if [ ! -f /usr/include/liburing.h ] && ! tools/apt-install.sh "tcp_echo's io_uring floor" liburing-dev; then \
	  echo "gort: liburing-dev is missing: tcp_echo runs without its io_uring floor (apt-get install liburing-dev)" >&2; \
	fi

# The core needs only a C compiler, make, cmake and pthreads.  Tracebacks
# with frames and file:line need elfutils' libdw (Debian: libdw-dev): as
# root with apt-get, deps installs it; otherwise it says what is lost.
deps:
	@command -v $(CMAKE) >/dev/null || { echo "gort: cmake is missing: apt-get install cmake" >&2; exit 1; }
	@command -v cc >/dev/null || { echo "gort: a C compiler is missing: apt-get install gcc" >&2; exit 1; }
	@if [ ! -f /usr/include/elfutils/libdwfl.h ] && ! tools/apt-install.sh "tracebacks with file:line" libdw-dev; then \
	  echo "gort: libdw-dev is missing: tracebacks will print no frames (apt-get install libdw-dev)" >&2; \
	fi

# The tests also read traces with Go 1.19's go tool trace (Debian:
# golang-1.19), example_twins builds the examples' Go twins, which use
# golang.org/x/sync's errgroup (golang-golang-x-sync-dev), and
# console_browser loads the live console in headless Chromium (Debian:
# chromium): as root with apt-get, test-deps installs them; without them
# those tests are skipped, with a note.  (make demo needs none of it.)
test-deps:
	@if [ ! -x /usr/lib/go-1.19/bin/go ] && \
	    ! tools/apt-install.sh "the tracer's tests read traces with go tool trace" golang-1.19; then \
	  echo "gort: Go 1.19 is missing: the trace_* tests will be skipped (apt-get install golang-1.19)" >&2; \
	fi
	@if [ ! -d /usr/share/gocode/src/golang.org/x/sync/errgroup ] && \
	    ! tools/apt-install.sh "the Go twins of the examples use errgroup" golang-golang-x-sync-dev; then \
	  echo "gort: golang.org/x/sync is missing: example_twins will be skipped (apt-get install golang-golang-x-sync-dev)" >&2; \
	fi
	@# the console's browser test (console_browser) loads /debug/gort/ in headless Chromium
	@if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null && \
	    ! tools/apt-install.sh "console_browser loads the live console in it" chromium; then \
	  echo "gort: Chromium is missing: console_browser will be skipped (apt-get install chromium)" >&2; \
	fi

# Not part of test (CI needs no clang): it takes FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 60
fuzz: fuzz-deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh $(FUZZ_TARGETS)

# libFuzzer needs clang and its runtime libraries (Debian: clang,
# libclang-rt-14-dev): as root with apt-get, fuzz-deps installs them;
# otherwise it says what to install.
FUZZ_PKGS = clang libclang-rt-14-dev
fuzz-deps: deps
	@if { ! command -v clang >/dev/null || \
	      [ ! -f "$$(clang -print-runtime-dir 2>/dev/null)/libclang_rt.fuzzer_no_main-x86_64.a" ]; } && \
	    ! tools/apt-install.sh "make fuzz" $(FUZZ_PKGS); then \
	  echo "gort: make fuzz needs clang and libFuzzer: apt-get install $(FUZZ_PKGS) (or run make fuzz as root)" >&2; \
	  exit 1; \
	fi

# valgrind: as root with apt-get, installed if missing; else a message.
test-valgrind: all
	@if ! command -v valgrind >/dev/null && ! tools/apt-install.sh "make test-valgrind" valgrind; then \
	  echo "gort: make test-valgrind needs valgrind: apt-get install valgrind" >&2; \
	  exit 1; \
	fi
	python3 tests/valgrind.py $(BUILD) $(VALGRIND_ARGS)

PREFIX ?= /usr/local
install: all
	DESTDIR="$(DESTDIR)" $(CMAKE) --install $(BUILD) --prefix "$(PREFIX)"

# What the last install wrote, as cmake listed it (without DESTDIR: give
# make uninstall the same DESTDIR as make install).
uninstall:
	@test -f $(BUILD)/install_manifest.txt || \
	  { echo "gort: nothing to uninstall: no $(BUILD)/install_manifest.txt (make install writes it)" >&2; exit 1; }
	sed 's#^#$(DESTDIR)#' $(BUILD)/install_manifest.txt | xargs rm -f
	@sed -n 's#^\(.*/cmake/gort\)/.*#$(DESTDIR)\1#p; s#^\(.*/include/gort\)/.*#$(DESTDIR)\1#p' \
	  $(BUILD)/install_manifest.txt | sort -u | xargs -r rmdir 2>/dev/null || true

clean:
	rm -rf $(BUILD) $(SANBUILD) $(TSANBUILD) build-fuzz
