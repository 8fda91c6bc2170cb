/* raw-shmcount.c: copied from the project's benchmark harness (shm_counter.c)
 * for bench-shmcount.sh: the ceiling, C11 atomics on POSIX shm. */
/* shm_counter: shared counter in a POSIX shm object, incremented by P processes.
 *   -m atomic : C11 atomic_fetch_add (the limit)
 *   -m mutex  : process-shared pthread mutex around ++ (like a locked Value)
 *   -m plain  : unsynchronised ++ on a volatile int (shows lost updates)
 * Usage: shm_counter [-m atomic|mutex|plain] [-p 2] [-n 10000000]
 * Prints increments_per_s (all processes together) and lost = expected - final. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct shared {
    atomic_long counter;
    volatile long plain;
    atomic_int go;
    atomic_int ready;
    pthread_mutex_t mu;
};

static double now(void) {
    struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    const char *mode = "atomic"; int procs = 2, o; long n = 10000000;
    while ((o = getopt(argc, argv, "m:p:n:")) != -1) {
        if (o == 'm') mode = optarg;
        else if (o == 'p') procs = atoi(optarg);
        else if (o == 'n') n = atol(optarg);
        else { fprintf(stderr, "usage: shm_counter [-m atomic|mutex|plain] [-p P] [-n N_PER_PROC]\n"); return 2; }
    }
    int m = !strcmp(mode, "atomic") ? 0 : !strcmp(mode, "mutex") ? 1 : !strcmp(mode, "plain") ? 2 : -1;
    if (m < 0 || procs < 1 || procs > 64 || n < 1 || n > 1000000000) { fprintf(stderr, "bad args\n"); return 2; }
    char name[64]; snprintf(name, sizeof name, "/ipcbench.shm.%d", (int)getpid());
    int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd < 0 || ftruncate(fd, sizeof(struct shared)) < 0) { perror("shm_open"); return 1; }
    struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (s == MAP_FAILED) { perror("mmap"); return 1; }
    pthread_mutexattr_t ma; pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&s->mu, &ma);
    for (int p = 0; p < procs; p++) {
        if (fork() == 0) {
            atomic_fetch_add(&s->ready, 1);
            while (!atomic_load(&s->go)) {}
            for (long i = 0; i < n; i++) {
                if (m == 0) atomic_fetch_add_explicit(&s->counter, 1, memory_order_relaxed);
                else if (m == 1) { pthread_mutex_lock(&s->mu); s->plain++; pthread_mutex_unlock(&s->mu); }
                else s->plain++;
            }
            _exit(0);
        }
    }
    while (atomic_load(&s->ready) < procs) usleep(100); /* all workers running */
    double t0 = now();
    atomic_store(&s->go, 1);
    while (wait(NULL) > 0) {}
    double dt = now() - t0;
    long final = m == 0 ? atomic_load(&s->counter) : s->plain, expect = n * procs;
    shm_unlink(name);
    printf("shm_counter mode=%s procs=%d n_per_proc=%ld secs=%.4f increments_per_s=%.0f final=%ld expected=%ld lost=%ld\n",
           mode, procs, n, dt, expect / dt, final, expect, expect - final);
    return 0;
}
