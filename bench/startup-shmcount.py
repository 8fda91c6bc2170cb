#!/usr/bin/env python3
"""startup-shmcount.py: start-up cost of commands, interleaved (A, B, A, B...)
so that the machine's changing load hits every command alike.
Usage: startup-shmcount.py N 'CMD A' 'CMD B' ...   (N <= 100000)
Prints one markdown row per command: median wall us, median CPU us (user+sys
of the child), and both as ratios to the first command."""
import os
import statistics
import sys
import time


def main():
    n = int(sys.argv[1])
    cmds = [c.split() for c in sys.argv[2:]]
    if not 1 <= n <= 100000 or not cmds:
        sys.exit("usage: startup-shmcount.py N CMD...")
    wall = [[] for _ in cmds]
    cpu = [[] for _ in cmds]
    null = os.open(os.devnull, os.O_RDWR)
    acts = [(os.POSIX_SPAWN_DUP2, null, 1)]
    for _ in range(n):
        for i, c in enumerate(cmds):
            t0 = time.perf_counter()
            pid = os.posix_spawnp(c[0], c, os.environ, file_actions=acts)
            _, status, ru = os.wait4(pid, 0)
            wall[i].append((time.perf_counter() - t0) * 1e6)
            cpu[i].append((ru.ru_utime + ru.ru_stime) * 1e6)
            if status != 0:
                sys.exit(f"{' '.join(c)}: exit status {status}")
    w0, c0 = statistics.median(wall[0]), statistics.median(cpu[0])
    for i, c in enumerate(cmds):
        w, u = statistics.median(wall[i]), statistics.median(cpu[i])
        print(f"| {os.path.basename(c[0])} {' '.join(c[1:])} | {w:.0f} | {w / w0:.3f} "
              f"| {u:.0f} | {u / c0:.3f} |")


if __name__ == "__main__":
    main()
