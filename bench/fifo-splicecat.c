/* fifo-splicecat: copy stdin to stdout with splice(2) (zero-copy through a
 * pipe): the ceiling of bench-fifo.sh, from the shared bench harness.
 * One of stdin/stdout must be a pipe; otherwise falls back to read/write.
 * Usage: splicecat [-p PIPE_BYTES]   (-p: grow the pipe on stdout/stdin with F_SETPIPE_SZ)
 * Reference "limit" for pipe throughput benchmarks (bulk_pipe.sh). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int copy_rw(void) {
    static char buf[128 * 1024];
    ssize_t r;
    while ((r = read(0, buf, sizeof buf)) != 0) {
        if (r < 0) { if (errno == EINTR) continue; perror("read"); return 1; }
        char *p = buf;
        while (r > 0) {
            ssize_t w = write(1, p, (size_t)r);
            if (w < 0) { if (errno == EINTR) continue; perror("write"); return 1; }
            p += w; r -= w;
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    size_t chunk = 1 << 20;
    if (argc == 3 && strcmp(argv[1], "-p") == 0) {
        int sz = atoi(argv[2]);
        fcntl(0, F_SETPIPE_SZ, sz); /* fails harmlessly if not a pipe */
        fcntl(1, F_SETPIPE_SZ, sz);
    } else if (argc != 1) {
        fprintf(stderr, "usage: splicecat [-p PIPE_BYTES] <in >out\n");
        return 2;
    }
    for (;;) {
        ssize_t n = splice(0, NULL, 1, NULL, chunk, SPLICE_F_MOVE | SPLICE_F_MORE);
        if (n == 0) return 0;
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EINVAL) return copy_rw(); /* neither end is a pipe */
            perror("splice");
            return 1;
        }
    }
}
