#!/usr/bin/env python3
"""fanout.py - Python threads calling a gort library (examples/pyhost/fanout.c).

    fanout.py path/to/libfanout.so [threads] [calls]

Loads the library with ctypes (its constructor starts gort), then THREADS
Python threads (default 8) each call fanout_sum(n) CALLS times (default
200) with n from 1 to 64: every call fans out to n goroutines and gathers
their answers.  ctypes releases the GIL for the call, so the threads are in
gort at once.  Every answer is checked; prints PASS and exits 0, or exits 1.
"""
import ctypes
import sys
import threading


def main():
    lib = ctypes.CDLL(sys.argv[1])
    lib.fanout_sum.argtypes = [ctypes.c_int]
    lib.fanout_sum.restype = ctypes.c_int64
    nthreads = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    calls = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    errors = []

    def worker(t):
        for k in range(calls):
            n = 1 + (t * calls + k) % 64
            got = lib.fanout_sum(n)
            want = sum(i * i for i in range(n))
            if got != want:
                errors.append(f"thread {t} call {k}: fanout_sum({n}) = {got}, want {want}")
                return

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(nthreads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for e in errors:
        print("fanout:", e, file=sys.stderr)
    if errors:
        return 1
    print(f"PASS fanout: {nthreads} Python threads x {calls} calls, "
          f"{lib.fanout_goroutines()} goroutine(s) left")
    return 0


if __name__ == "__main__":
    sys.exit(main())
