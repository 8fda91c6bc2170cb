/* sockserve-connrate (copied from the shared bench harness connrate.c): bounded TCP connection-rate load generator (loopback only).
 * Each connection: connect, send MSG (default "ping\n"), shutdown(SHUT_WR),
 * read until EOF, close.  Stops after N connections or T seconds, whichever first.
 * Usage: connrate [-H 127.0.0.1] -p PORT [-n 2000] [-t 20] [-c 1] [-m MSG]
 *   -c K : K client processes in parallel, each doing N/K connections.
 * A connection the server closes with RST (it did not read) counts as served ("reset").
 * Prints: conns ok/reset/failed, elapsed, conns_per_s, bytes received per connection. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

struct res { long ok, reset, fail, bytes; };

static int is_loopback(const char *h) {
    return strncmp(h, "127.", 4) == 0 || strcmp(h, "::1") == 0;
}

static void worker(const char *host, int port, long n, double tmax, const char *msg, struct res *r) {
    struct sockaddr_storage ss; socklen_t sl;
    memset(&ss, 0, sizeof ss);
    if (strchr(host, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6; a->sin6_port = htons(port);
        inet_pton(AF_INET6, host, &a->sin6_addr); sl = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET; a->sin_port = htons(port);
        inet_pton(AF_INET, host, &a->sin_addr); sl = sizeof *a;
    }
    size_t ml = strlen(msg);
    char buf[4096];
    double t0 = now();
    for (long i = 0; i < n; i++) {
        if ((i & 63) == 0 && now() - t0 > tmax) break;
        int fd = socket(ss.ss_family, SOCK_STREAM, 0);
        if (fd < 0) { r->fail++; continue; }
        if (connect(fd, (struct sockaddr *)&ss, sl) < 0) { r->fail++; close(fd); usleep(1000); continue; }
        /* a server that closes without reading (e.g. exec true) makes the kernel send RST:
         * the connection was still accepted and served, so it counts, as "reset" */
        if (ml && write(fd, msg, ml) != (ssize_t)ml) { if (errno == EPIPE || errno == ECONNRESET) r->reset++; else r->fail++; close(fd); continue; }
        shutdown(fd, SHUT_WR);
        ssize_t k; int bad = 0;
        while ((k = read(fd, buf, sizeof buf)) != 0) {
            if (k < 0) { if (errno == EINTR) continue; bad = errno == ECONNRESET ? 2 : 1; break; }
            r->bytes += k;
        }
        close(fd);
        if (bad == 1) r->fail++; else if (bad == 2) r->reset++; else r->ok++;
    }
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1", *msg = "ping\n";
    int port = 0, conc = 1, o;
    long n = 2000; double tmax = 20;
    while ((o = getopt(argc, argv, "H:p:n:t:c:m:")) != -1) {
        switch (o) {
        case 'H': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'n': n = atol(optarg); break;
        case 't': tmax = atof(optarg); break;
        case 'c': conc = atoi(optarg); break;
        case 'm': msg = optarg; break;
        default: goto usage;
        }
    }
    if (!port || n < 1 || n > 1000000 || conc < 1 || conc > 64 || tmax <= 0 || tmax > 600) goto usage;
    if (!is_loopback(host)) { fprintf(stderr, "connrate: loopback addresses only\n"); return 2; }
    signal(SIGPIPE, SIG_IGN);
    int pfd[2]; if (pipe(pfd) < 0) { perror("pipe"); return 1; }
    double t0 = now();
    for (int c = 0; c < conc; c++) {
        pid_t p = fork();
        if (p == 0) {
            struct res r = {0, 0, 0, 0};
            worker(host, port, n / conc + (c < n % conc), tmax, msg, &r);
            if (write(pfd[1], &r, sizeof r) != sizeof r) _exit(1);
            _exit(0);
        }
    }
    close(pfd[1]);
    struct res tot = {0, 0, 0, 0}, r;
    while (read(pfd[0], &r, sizeof r) == sizeof r) { tot.ok += r.ok; tot.reset += r.reset; tot.fail += r.fail; tot.bytes += r.bytes; }
    while (wait(NULL) > 0) {}
    double dt = now() - t0;
    long done = tot.ok + tot.reset;
    printf("connrate host=%s port=%d conc=%d ok=%ld reset=%ld failed=%ld secs=%.3f conns_per_s=%.0f bytes_per_conn=%.1f\n",
           host, port, conc, tot.ok, tot.reset, tot.fail, dt, done / dt, done ? (double)tot.bytes / done : 0.0);
    return tot.fail ? 1 : 0;
usage:
    fprintf(stderr, "usage: connrate [-H 127.0.0.1|::1] -p PORT [-n N<=1e6] [-t SECS<=600] [-c K] [-m MSG]\n");
    return 2;
}
