#!/usr/bin/env python3
# mp_value-shmcount.py: copied from the benchmark harness (mp_value.py) for bench-shmcount.sh.
"""multiprocessing.Value anchor: P processes each add 1 to a shared Value('i') N times.
  locked   : with v.get_lock(): v.value += 1
  unlocked : v.value += 1   (the seed article's pattern; loses updates under contention)
Usage: mp_value.py locked|unlocked N [P=2]    Prints increments_per_s and lost."""
import multiprocessing as mp
import sys
import time


def work(v, n, locked, go):
    go.wait()
    if locked:
        for _ in range(n):
            with v.get_lock():
                v.value += 1
    else:
        for _ in range(n):
            v.value += 1


def main():
    mode, n = sys.argv[1], int(sys.argv[2])
    procs = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    v, go = mp.Value("i", 0), mp.Event()
    ps = [mp.Process(target=work, args=(v, n, mode == "locked", go)) for _ in range(procs)]
    for p in ps:
        p.start()
    t0 = time.perf_counter()
    go.set()
    for p in ps:
        p.join()
    dt = time.perf_counter() - t0
    exp = n * procs
    print(f"mp_value mode={mode} procs={procs} n_per_proc={n} secs={dt:.4f} "
          f"increments_per_s={exp / dt:.0f} final={v.value} expected={exp} lost={exp - v.value}")


if __name__ == "__main__":
    main()
