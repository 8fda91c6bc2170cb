/* ipc-shmcount: a signed 64-bit counter in POSIX shared memory, changed
 * atomically by any number of processes, with a futex-based wait.
 *
 * The object is /dev/shm/NAME, 64 bytes in the host's byte order:
 *   0  "IPCSHMC\0"   magic
 *   8  u32 version   (1)
 *   12 u32 seq       wake sequence: bumped by every change (futex word)
 *   16 i64 value
 *   24 u32 waiters   processes sleeping in wait
 *   28 zero to 63
 * Every change is a CAS loop with an overflow check (a fetch-add would
 * wrap silently), then a bump of seq and a FUTEX_WAKE when waiters > 0. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"

#define SHM_DIR "/dev/shm"
#define SHMC_MAGIC "IPCSHMC"   /* with its NUL: 8 bytes */
#define SHMC_VERSION 1u
#define SHMC_SIZE 64

/* Atomics shared between processes are only sound when lock-free (a lock
 * inside libatomic would be private to each process). */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "32-bit atomics must be lock-free");

struct shmc {
	char magic[8];
	uint32_t version;
	_Atomic uint32_t seq;
	_Atomic int64_t value;
	_Atomic uint32_t waiters;
	unsigned char zero[36];
};
_Static_assert(sizeof(struct shmc) == SHMC_SIZE, "layout is 64 bytes");
_Static_assert(offsetof(struct shmc, seq) == 12, "layout: seq at 12");
_Static_assert(offsetof(struct shmc, value) == 16, "layout: value at 16");
_Static_assert(offsetof(struct shmc, waiters) == 24, "layout: waiters at 24");
_Static_assert(sizeof(_Atomic int64_t) == 8 && sizeof(_Atomic uint32_t) == 4,
    "atomics have the size of their plain types");

static const char SYNOPSIS[] =
	"ipc-shmcount create [--mode MODE] [-x] [-i INITIAL] NAME\n"
	"ipc-shmcount get NAME\n"
	"ipc-shmcount incr [-c] [-n TIMES] NAME [DELTA]\n"
	"ipc-shmcount decr [-c] [-n TIMES] NAME [DELTA]\n"
	"ipc-shmcount set NAME VALUE\n"
	"ipc-shmcount cas NAME EXPECTED NEW\n"
	"ipc-shmcount wait [-t DUR] NAME (--ge|--le|--eq|--ne) VALUE\n"
	"ipc-shmcount ls [--json]\n"
	"ipc-shmcount rm NAME...";

static const char HELP[] =
	"usage: ipc-shmcount SUBCOMMAND [OPTIONS] ARGS\n"
	"A signed 64-bit counter in POSIX shared memory (/dev/shm/NAME).\n"
	"\n"
	"  create [--mode MODE] [-x] [-i INITIAL] NAME\n"
	"                      make a counter (mode 0600; -x: fail if it exists)\n"
	"  get NAME            print the value\n"
	"  incr [-c] [-n TIMES] NAME [DELTA]\n"
	"  decr [-c] [-n TIMES] NAME [DELTA]\n"
	"                      add/subtract DELTA (1), TIMES times; print the\n"
	"                      new value (-c: create a missing counter)\n"
	"  set NAME VALUE      store VALUE\n"
	"  cas NAME EXPECTED NEW\n"
	"                      store NEW if the value is EXPECTED (exit 0), else\n"
	"                      print the value and exit 1\n"
	"  wait [-t DUR] NAME (--ge|--le|--eq|--ne) VALUE\n"
	"                      block until the condition holds (124 on timeout)\n"
	"  ls [--json]         list the counters and their values\n"
	"  rm NAME...          remove counters\n"
	"\n"
	"Options: --shared (accept a counter of another user), -v, -h, -V.\n"
	"Exit status: 0 ok, 1 failed (cas: not swapped), 2 usage, 124 timeout.\n";

static int verbose;
static bool opt_shared;

/* "/NAME" of the counter mapped, for the SIGBUS handler's message. */
static const char *bus_name;
/* get only reads: a counter we may read but not write is fine for it. */
static bool read_only_ok;
static int map_prot = PROT_READ | PROT_WRITE;
/* "/NAME" of the counter in use, for messages. */
static char cur_name[258];

/* ---- the object ---- */

static void
shm_path(const char *name, char path[sizeof SHM_DIR + 258], char slash[258])
{
	name_check(name, slash);
	memcpy(path, SHM_DIR, sizeof SHM_DIR - 1);
	strcpy(path + sizeof SHM_DIR - 1, slash);
}

/* Another program truncated the object under our mapping: one line, exit 1,
 * never a core dump. Only async-signal-safe calls here. */
static void
on_sigbus(int signo)
{
	static const char what[] = ": the counter was truncated under us "
	    "(SIGBUS)\n";
	const char *prog = getprogname();

	(void)signo;
	(void)write(2, prog, strlen(prog));
	(void)write(2, ": ", 2);
	(void)write(2, bus_name, strlen(bus_name));
	(void)write(2, what, sizeof what - 1);
	_exit(EXIT_FAIL);
}

static void
bus_arm(const char *slash)
{
	static char name[258];
	struct sigaction sa;

	/* Copied now: the handler may only read memory, never format. */
	memcpy(name, slash, strlen(slash) + 1);
	bus_name = name;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigbus;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) == -1)
		err(EXIT_FAIL, "sigaction");
}

/* Why HDR (of a file of SIZE bytes) is not a counter, or NULL if it is. */
static const char *
shmc_invalid(const struct stat *st, const unsigned char *hdr)
{
	uint32_t version;

	if (!S_ISREG(st->st_mode))
		return "not a regular file";
	if (st->st_size != SHMC_SIZE)
		return "wrong size";
	if (hdr == NULL)
		return NULL;
	if (memcmp(hdr, SHMC_MAGIC, 8) != 0)
		return "wrong magic";
	memcpy(&version, hdr + 8, sizeof version);
	if (version != SHMC_VERSION)
		return "unknown version";
	return NULL;
}

static noreturn void
shmc_refuse(const char *slash, const struct stat *st, const char *why)
{
	if (S_ISREG(st->st_mode) && st->st_size != SHMC_SIZE)
		errx(EXIT_FAIL, "%s: not an ipc-shmcount counter "
		    "(%jd bytes, a counter has %d)", slash,
		    (intmax_t)st->st_size, SHMC_SIZE);
	errx(EXIT_FAIL, "%s: not an ipc-shmcount counter (%s)", slash, why);
}

/* Checks an open FD and maps it; exits 1 for anything but our counter.
 * Nothing is written to a refused object. */
static struct shmc *
shmc_map_fd(int fd, const char *slash)
{
	struct stat st;
	const char *why;
	void *p;

	if (fstat(fd, &st) == -1)
		err(EXIT_FAIL, "%s", slash);
	if ((why = shmc_invalid(&st, NULL)) != NULL)
		shmc_refuse(slash, &st, why);
	if (!opt_shared)
		obj_check_owner(slash, &st);
	/* The size is right, so touching the page is safe unless another
	 * program truncates it now: that is what the SIGBUS handler is for. */
	bus_arm(slash);
	p = mmap(NULL, SHMC_SIZE, map_prot, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		err(EXIT_FAIL, "%s: mmap", slash);
	if ((why = shmc_invalid(&st, p)) != NULL)
		shmc_refuse(slash, &st, why);
	return p;
}

/* Opens an existing counter. O_NOFOLLOW: a symbolic link planted in
 * /dev/shm is refused; O_NONBLOCK: a FIFO planted there cannot block us
 * (fstat then refuses it). Returns NULL if it does not exist and
 * MISSING_OK. */
static struct shmc *
shmc_open(const char *path, const char *slash, bool missing_ok)
{
	struct shmc *c;
	int fd;

	fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1 && errno == EACCES && read_only_ok) {
		map_prot = PROT_READ;
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	}
	if (fd == -1) {
		if (errno == ENOENT && missing_ok)
			return NULL;
		if (errno == ENOENT)
			errx(EXIT_FAIL, "%s: no such counter", slash);
		if (errno == ELOOP)
			errx(EXIT_FAIL, "%s: is a symbolic link, not a counter",
			    slash);
		err(EXIT_FAIL, "%s", slash);
	}
	c = shmc_map_fd(fd, slash);
	close(fd);
	return c;
}

/* Creates the counter whole: an unnamed file in /dev/shm is sized (with
 * posix_fallocate, so a full tmpfs is ENOSPC now, not SIGBUS later),
 * initialised and given its mode, and only then linked to its name.
 * Returns true if created, false if the name exists (EEXIST). */
static bool
shmc_create(const char *path, const char *slash, int64_t initial,
    mode_t mode, bool explicit_mode)
{
	struct shmc hdr;
	char proc[64];
	int fd, e;

	fd = open(SHM_DIR, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd == -1)
		err(EXIT_FAIL, "%s: cannot make an unnamed file in %s",
		    slash, SHM_DIR);
	if ((e = posix_fallocate(fd, 0, SHMC_SIZE)) != 0) {
		errno = e;
		err(EXIT_FAIL, "%s: cannot reserve %d bytes in %s", slash,
		    SHMC_SIZE, SHM_DIR);
	}
	memset(&hdr, 0, sizeof hdr);
	memcpy(hdr.magic, SHMC_MAGIC, 8);
	hdr.version = SHMC_VERSION;
	atomic_init(&hdr.seq, 0);
	atomic_init(&hdr.value, initial);
	atomic_init(&hdr.waiters, 0);
	if (pwrite(fd, &hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr)
		err(EXIT_FAIL, "%s: write", slash);
	/* An explicit mode is exact, whatever the umask. */
	if (explicit_mode && fchmod(fd, mode) == -1)
		err(EXIT_FAIL, "%s: fchmod", slash);
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == -1) {
		if (errno == EEXIST) {
			close(fd);
			return false;
		}
		err(EXIT_FAIL, "%s: link into %s", slash, SHM_DIR);
	}
	close(fd);
	return true;
}

/* ---- changes and waits ---- */

static long
futex(_Atomic uint32_t *uaddr, int op, uint32_t val,
    const struct timespec *ts)
{
	/* Not FUTEX_PRIVATE_FLAG: the word is shared between processes. */
	return syscall(SYS_futex, (uint32_t *)uaddr, op, val, ts, NULL, 0);
}

/* Bumps the sequence and wakes any waiter: every change made by a
 * one-shot command ends here. */
static inline void
shmc_wake(struct shmc *c)
{
	atomic_fetch_add(&c->seq, 1);
	/* Seq_cst, after the change: a waiter that registered too late for
	 * us to see it reads the new value itself. */
	if (atomic_load(&c->waiters) != 0)
		futex(&c->seq, FUTEX_WAKE, INT_MAX, NULL);
}

/* Inside a batch (-n), every NOTICE_EVERY steps: with nobody waiting,
 * a second locked operation (and a futex call) per step would halve the
 * rate, so waiters are looked for only here and at the end of the batch
 * (shmc_wake). Nothing is lost: a waiter stays registered while it
 * sleeps, so the next look finds it, bumps the sequence and wakes it,
 * at most NOTICE_EVERY steps (microseconds) after the change it slept
 * through; one that registered after a look reads the value itself. */
#define NOTICE_EVERY 1024

static inline void
shmc_batch_notice(struct shmc *c)
{
	if (atomic_load(&c->waiters) != 0) {
		atomic_fetch_add(&c->seq, 1);
		futex(&c->seq, FUTEX_WAKE, INT_MAX, NULL);
	}
}

/* One write(2), no stdio and no printf: a one-shot incr is mostly
 * start-up, and every libc page touched is one more page fault. */
static void
print_value(int64_t v)
{
	char buf[24], *p = buf + sizeof buf;
	/* The magnitude as unsigned: -INT64_MIN does not fit an int64. */
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	*--p = '\n';
	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	if (io_write_all(1, p, (size_t)(buf + sizeof buf - p)) == -1)
		cli_write_failed("stdout");
}

/* Adds (or subtracts) DELTA TIMES times, each step its own atomic change.
 * Returns the value after the last step; *DONE gets the steps done, which
 * is fewer than TIMES only on overflow. */
static int64_t
shmc_add(struct shmc *c, int64_t delta, bool sub, long long times,
    long long *done)
{
	int64_t old = atomic_load_explicit(&c->value, memory_order_relaxed);
	int64_t new;
	long long i;

	for (i = 0; i < times; i++) {
		/* OLD is the value we last wrote: right unless another
		 * process got in between, and then the failed CAS loads
		 * the current value for the retry. */
		do {
			if (sub ? __builtin_sub_overflow(old, delta, &new) :
			    __builtin_add_overflow(old, delta, &new)) {
				*done = i;
				if (i > 0)
					shmc_wake(c);
				return old;
			}
		} while (!atomic_compare_exchange_weak(&c->value, &old, new));
		old = new;
		if ((i & (NOTICE_EVERY - 1)) == NOTICE_EVERY - 1) {
			/* Notice first: if a signal ends us now, no
			 * waiter has a step it was not told of. */
			shmc_batch_notice(c);
			sig_check();
		}
	}
	*done = i;
	if (i > 0)
		shmc_wake(c);
	return old;
}

enum cond { C_GE, C_LE, C_EQ, C_NE };

static bool
cond_holds(enum cond op, int64_t v, int64_t want)
{
	switch (op) {
	case C_GE: return v >= want;
	case C_LE: return v <= want;
	case C_EQ: return v == want;
	case C_NE: return v != want;
	}
	return false;
}

static struct shmc *waiting;

static void
wait_unregister(void)
{
	if (waiting != NULL)
		atomic_fetch_sub(&waiting->waiters, 1);
	waiting = NULL;
}

/* Sleeps on the sequence until the condition holds: 0, or EXIT_TIMEOUT
 * after TIMEOUT_NS (-1: none). */
static int
shmc_wait(struct shmc *c, enum cond op, int64_t want, int64_t timeout_ns)
{
	int64_t deadline = timeout_ns >= 0 ? num_now() + timeout_ns : 0;
	int rc = EXIT_TIMEOUT;

	/* Registered before the first look at the value: a writer either
	 * sees us and wakes us, or changed the value before we read it. */
	atomic_fetch_add(&c->waiters, 1);
	waiting = c;
	sig_cleanup(wait_unregister);
	for (;;) {
		uint32_t seq = atomic_load(&c->seq);
		int64_t left = 1000000000LL;

		if (cond_holds(op, atomic_load(&c->value), want)) {
			rc = EXIT_OK;
			break;
		}
		if (timeout_ns >= 0) {
			int64_t t = deadline - num_now();
			if (t <= 0)
				break;
			if (t < left)
				left = t;
		}
		/* A foreign writer may change the value without the wake:
		 * the one-second cap bounds how late we notice. */
		struct timespec ts = num_ts(left);
		if (futex(&c->seq, FUTEX_WAIT, seq, &ts) == -1 &&
		    errno != EAGAIN && errno != ETIMEDOUT && errno != EINTR)
			err(EXIT_FAIL, "futex");
		sig_check();
	}
	wait_unregister();
	return rc;
}

/* ---- subcommands ---- */

struct cmd {
	int argc;
	char **argv;     /* operands */
	bool excl, create, json, mode_set;
	mode_t mode;
	long long times;
	int64_t initial, timeout_ns;
};

static int64_t
parse_value(const char *s, const char *what)
{
	return num_parse(s, LLONG_MIN, LLONG_MAX, what);
}

static void
need_operands(const struct cmd *c, int min, int max)
{
	if (c->argc < min)
		cli_usage_err("missing operand (see --help)");
	if (max >= 0 && c->argc > max)
		cli_usage_err("extra operand '%s' (see --help)",
		    c->argv[max]);
}

static int
do_create(struct cmd *c)
{
	char path[sizeof SHM_DIR + 258], slash[258];

	need_operands(c, 1, 1);
	shm_path(c->argv[0], path, slash);
	if (shmc_create(path, slash, c->initial, c->mode, c->mode_set))
		return EXIT_OK;
	if (c->excl)
		errx(EXIT_FAIL, "%s: exists", slash);
	/* Without -x an existing counter is fine, as long as it is one. */
	(void)shmc_open(path, slash, false);
	if (verbose)
		warnx("%s: exists already, left as it is", slash);
	return EXIT_OK;
}

static struct shmc *
open_operand(const char *name, bool create)
{
	char path[sizeof SHM_DIR + 258], slash[258];
	struct shmc *s;

	shm_path(name, path, slash);
	memcpy(cur_name, slash, sizeof cur_name);
	s = shmc_open(path, slash, create);
	if (s == NULL) {
		/* -c: whoever links first wins; the loser opens the winner's. */
		(void)shmc_create(path, slash, 0, 0600, false);
		s = shmc_open(path, slash, false);
	}
	return s;
}

static int
do_get(struct cmd *c)
{
	need_operands(c, 1, 1);
	read_only_ok = true;
	print_value(atomic_load(&open_operand(c->argv[0], false)->value));
	return EXIT_OK;
}

static int
do_add(struct cmd *c, bool sub)
{
	int64_t delta = 1, v;
	long long done;
	struct shmc *s;

	need_operands(c, 1, 2);
	if (c->argc == 2)
		delta = parse_value(c->argv[1], "delta");
	s = open_operand(c->argv[0], c->create);
	v = shmc_add(s, delta, sub, c->times, &done);
	if (done < c->times) {
		if (c->times == 1)
			errx(EXIT_FAIL, "%s: overflow: %jd %c %jd is out of the "
			    "64-bit range; value unchanged", cur_name,
			    (intmax_t)v, sub ? '-' : '+', (intmax_t)delta);
		errx(EXIT_FAIL, "%s: overflow at step %lld of %lld: value %jd "
		    "left unchanged by the rest", cur_name, done + 1,
		    c->times, (intmax_t)v);
	}
	print_value(v);
	return EXIT_OK;
}

static int
do_set(struct cmd *c)
{
	struct shmc *s;
	int64_t v;

	need_operands(c, 2, 2);
	v = parse_value(c->argv[1], "value");
	s = open_operand(c->argv[0], false);
	atomic_store(&s->value, v);
	shmc_wake(s);
	return EXIT_OK;
}

static int
do_cas(struct cmd *c)
{
	struct shmc *s;
	int64_t expect, new;

	need_operands(c, 3, 3);
	expect = parse_value(c->argv[1], "expected");
	new = parse_value(c->argv[2], "new");
	s = open_operand(c->argv[0], false);
	if (atomic_compare_exchange_strong(&s->value, &expect, new)) {
		shmc_wake(s);
		return EXIT_OK;
	}
	print_value(expect);
	return EXIT_FAIL;
}

static int
do_wait(struct cmd *c)
{
	static const char *const ops[] = { "--ge", "--le", "--eq", "--ne" };
	int op;

	/* --ge etc. follow NAME, so they are operands, parsed here. */
	need_operands(c, 3, 3);
	for (op = 0; op < 4; op++)
		if (strcmp(c->argv[1], ops[op]) == 0)
			break;
	if (op == 4)
		cli_usage_err("wait: '%s' is not --ge, --le, --eq or --ne",
		    c->argv[1]);
	int64_t want = parse_value(c->argv[2], "value");
	struct shmc *s = open_operand(c->argv[0], false);
	if (verbose)
		warnx("%s: value %jd, waiting for %s %jd", cur_name,
		    (intmax_t)atomic_load(&s->value), ops[op], (intmax_t)want);
	return shmc_wait(s, (enum cond)op, want, c->timeout_ns);
}

/* ---- ls and rm ---- */

struct entry {
	char name[258];
	int64_t value;
};

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name,
	    ((const struct entry *)b)->name);
}

/* Reads the header of /dev/shm/NAME without ever blocking or following a
 * link; true (and *VALUE) if it is our counter. */
static bool
peek_counter(int dfd, const char *name, int64_t *value)
{
	unsigned char hdr[SHMC_SIZE];
	struct stat st;
	bool ok = false;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
	    O_NOCTTY);
	if (fd == -1)
		return false;
	if (fstat(fd, &st) == 0 && shmc_invalid(&st, NULL) == NULL &&
	    pread(fd, hdr, sizeof hdr, 0) == (ssize_t)sizeof hdr &&
	    shmc_invalid(&st, hdr) == NULL) {
		memcpy(value, hdr + offsetof(struct shmc, value), sizeof *value);
		ok = true;
	}
	close(fd);
	return ok;
}

static void
json_string(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static int
do_ls(struct cmd *c)
{
	struct entry *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *d;
	DIR *dir;

	need_operands(c, 0, 0);
	if ((dir = opendir(SHM_DIR)) == NULL)
		err(EXIT_FAIL, "%s", SHM_DIR);
	while ((errno = 0, d = readdir(dir)) != NULL) {
		int64_t val;
		/* Only regular files are ever opened (DT_UNKNOWN: fstat
		 * after a non-blocking open decides). */
		if (d->d_type != DT_REG && d->d_type != DT_UNKNOWN)
			continue;
		if (strlen(d->d_name) > 255 ||
		    !peek_counter(dirfd(dir), d->d_name, &val))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((v = reallocarray(v, cap, sizeof *v)) == NULL)
				err(EXIT_FAIL, "ls");
		}
		snprintf(v[n].name, sizeof v[n].name, "/%s", d->d_name);
		v[n++].value = val;
	}
	if (errno != 0)
		err(EXIT_FAIL, "%s", SHM_DIR);
	closedir(dir);
	if (n > 0)
		qsort(v, n, sizeof *v, entry_cmp);
	if (c->json)
		putchar('[');
	for (size_t i = 0; i < n; i++) {
		if (c->json) {
			fputs(i ? ",{\"name\":" : "{\"name\":", stdout);
			json_string(v[i].name);
			printf(",\"value\":%jd}", (intmax_t)v[i].value);
		} else
			printf("%s\t%jd\n", v[i].name, (intmax_t)v[i].value);
	}
	if (c->json)
		puts("]");
	free(v);
	cli_stdout_done();
	return EXIT_OK;
}

static int
do_rm(struct cmd *c)
{
	int rc = EXIT_OK;

	need_operands(c, 1, -1);
	for (int i = 0; i < c->argc; i++) {
		char path[sizeof SHM_DIR + 258], slash[258];
		int64_t val;

		shm_path(c->argv[i], path, slash);
		if (peek_counter(AT_FDCWD, path, &val)) {
			if (unlink(path) == 0)
				continue;
			warn("%s", slash);
		} else if (access(path, F_OK) == -1 && errno == ENOENT)
			warnx("%s: no such counter", slash);
		else
			warnx("%s: not an ipc-shmcount counter, left alone",
			    slash);
		rc = EXIT_FAIL;
	}
	return rc;
}

/* ---- command line ---- */

enum { OPT_MODE = 0x100, OPT_SHARED, OPT_JSON };

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "shared", no_argument, NULL, OPT_SHARED },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "exclusive", no_argument, NULL, 'x' },
	{ "initial", required_argument, NULL, 'i' },
	{ "create", no_argument, NULL, 'c' },
	{ "count", required_argument, NULL, 'n' },
	{ "timeout", required_argument, NULL, 't' },
	{ NULL, 0, NULL, 0 },
};

struct verb {
	const char *name;
	const char *opts;   /* the letters (and long options) it accepts */
	int (*run)(struct cmd *);
};

static int do_incr(struct cmd *c) { return do_add(c, false); }
static int do_decr(struct cmd *c) { return do_add(c, true); }

/* Long options are keyed as M (--mode), S (--shared), J (--json). */
static const struct verb verbs[] = {
	{ "create", "MSxi", do_create },
	{ "get", "S", do_get },
	{ "incr", "Scn", do_incr },
	{ "decr", "Scn", do_decr },
	{ "set", "S", do_set },
	{ "cas", "S", do_cas },
	{ "wait", "St", do_wait },
	{ "ls", "J", do_ls },
	{ "rm", "S", do_rm },
};

static noreturn void
bad_option(const char *verb, const char *arg)
{
	warnx("%s: option '%s' is unknown here or lacks its argument", verb,
	    arg);
	cli_usage(SYNOPSIS);
}

static void
parse_opts(const struct verb *vb, int argc, char **argv, struct cmd *c)
{
	int o;

	/* No option at all (the usual `incr NAME`): getopt would stop at
	 * once, so it is not even called (one libc page less to fault in). */
	if (argc < 2 || argv[1][0] != '-') {
		c->argc = argc - 1;
		c->argv = argv + 1;
		return;
	}
	opterr = 0;
	optind = 1;
	while ((o = getopt_long(argc, argv, "+hVvxi:cn:t:", longopts,
	    NULL)) != -1) {
		int key = o == OPT_MODE ? 'M' : o == OPT_SHARED ? 'S' :
		    o == OPT_JSON ? 'J' : o;
		if (o == 'h')
			cli_help(HELP);
		if (o == 'V')
			cli_version();
		if (o == 'v') {
			verbose++;
			continue;
		}
		if (o == '?' || strchr(vb->opts, key) == NULL)
			bad_option(vb->name, argv[optind - 1]);
		switch (o) {
		case OPT_MODE:
			c->mode = num_mode(optarg);
			c->mode_set = true;
			break;
		case OPT_SHARED: opt_shared = true; break;
		case OPT_JSON: c->json = true; break;
		case 'x': c->excl = true; break;
		case 'c': c->create = true; break;
		case 'i': c->initial = parse_value(optarg, "initial"); break;
		case 'n': c->times = num_parse(optarg, 1, LLONG_MAX, "times");
			break;
		case 't': c->timeout_ns = num_duration(optarg, "timeout");
			break;
		}
	}
	c->argc = argc - optind;
	c->argv = argv + optind;
}

int
main(int argc, char **argv)
{
	struct cmd c = { .mode = 0600, .times = 1, .timeout_ns = -1 };
	const char *sub;

	cli_init(argc, argv);
	/* -v may come before the subcommand too. */
	while (argc > 1 && (strcmp(argv[1], "-v") == 0 ||
	    strcmp(argv[1], "--verbose") == 0)) {
		verbose++;
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	if (argc < 2)
		cli_usage(SYNOPSIS);
	sub = argv[1];
	if (sub[0] == '-') {
		if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0)
			cli_help(HELP);
		if (strcmp(sub, "-V") == 0 || strcmp(sub, "--version") == 0)
			cli_version();
		warnx("unknown option '%s'", sub);
		cli_usage(SYNOPSIS);
	}
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
		if (strcmp(sub, verbs[i].name) != 0)
			continue;
		parse_opts(&verbs[i], argc - 1, argv + 1, &c);
		return verbs[i].run(&c);
	}
	warnx("unknown subcommand '%s'", sub);
	cli_usage(SYNOPSIS);
}
