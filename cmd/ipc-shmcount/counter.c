/* ipc-shmcount: the shared-memory object: a counter made whole (an
 * O_TMPFILE sized, initialised, then linked to its name), opened and
 * checked before it is mapped, and SIGBUS reported if it is truncated
 * under us. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"
#include "shmcount.h"

#define SHMC_MAGIC "IPCSHMC"   /* with its NUL: 8 bytes */
#define SHMC_VERSION 1u

/* "/NAME" of the counter mapped, for the SIGBUS handler's message. */
static const char *bus_name;
static int map_prot = PROT_READ | PROT_WRITE;
/* The descriptor of the counter mapped, kept for shc_recheck's fstat. */
static int map_fd = -1;

/* "/NAME" into SLASH, "/dev/shm/NAME" into PATH; exits 2 on a bad name. */
void
shc_path(const char *name, char path[sizeof SHM_DIR + 258],
    char slash[258])
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

	const char *part[] = { prog, ": ", bus_name, what };

	(void)signo;
	/* Nothing to do if stderr fails: the exit status still says it. */
	for (size_t i = 0; i < sizeof part / sizeof part[0]; i++)
		if (write(2, part[i], strlen(part[i])) == -1)
			break;
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

const char *
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

/* Maps FD, whose file ST (a regular file of the right size) describes;
 * exits 1 for anything but our counter. Nothing is written to a refused
 * object. */
static struct shmc *
shmc_map_fd(int fd, const char *slash, const struct stat *st, bool shared)
{
	const char *why;
	void *p;

	if (!shared)
		obj_check_owner(slash, st);
	/* The size is right, so touching the page is safe unless another
	 * program truncates it now: that is what the SIGBUS handler is for. */
	bus_arm(slash);
	p = mmap(NULL, SHMC_SIZE, map_prot, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		err(EXIT_FAIL, "%s: mmap", slash);
	if ((why = shmc_invalid(st, p)) != NULL)
		shmc_refuse(slash, st, why);
	return p;
}

/* Opens an existing counter. The name is opened O_PATH|O_NOFOLLOW and
 * checked before any real open: a symbolic link planted in /dev/shm is
 * refused, and a FIFO or device there is never opened (opening a FIFO
 * would release a writer blocked on it). Returns NULL if it does not
 * exist and SHC_MISSING_OK. */
struct shmc *
shc_open(const char *path, const char *slash, int flags)
{
	bool missing_ok = flags & SHC_MISSING_OK;
	struct shmc *c;
	struct stat st;
	const char *why;
	int pfd, fd;

	pfd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pfd == -1) {
		if (errno == ENOENT && missing_ok)
			return NULL;
		if (errno == ENOENT)
			errx(EXIT_FAIL, "%s: no such counter", slash);
		err(EXIT_FAIL, "%s", slash);
	}
	if (fstat(pfd, &st) == -1)
		err(EXIT_FAIL, "%s", slash);
	if (S_ISLNK(st.st_mode))
		errx(EXIT_FAIL, "%s: is a symbolic link, not a counter", slash);
	if ((why = shmc_invalid(&st, NULL)) != NULL)
		shmc_refuse(slash, &st, why);
	fd = obj_reopen(pfd, O_RDWR);
	if (fd == -1 && errno == EACCES && (flags & SHC_READ_ONLY_OK)) {
		map_prot = PROT_READ;
		fd = obj_reopen(pfd, O_RDONLY);
	}
	if (fd == -1)
		err(EXIT_FAIL, "%s", slash);
	close(pfd);
	c = shmc_map_fd(fd, slash, &st, flags & SHC_SHARED);
	map_fd = fd;
	return c;
}

/* Creates the counter whole: an unnamed file in /dev/shm is sized (with
 * posix_fallocate, so a full tmpfs is ENOSPC now, not SIGBUS later),
 * initialised and given its mode, and only then linked to its name.
 * Returns true if created, false if the name exists (EEXIST). */
bool
shc_create(const char *path, const char *slash, int64_t initial,
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

/* Reads the header of /dev/shm/NAME without ever blocking or following a
 * link, and without opening anything but a regular file (see shc_open);
 * true (and *VALUE, and the file's *ST if ST is not NULL) if it is our
 * counter. */
bool
shc_peek(int dfd, const char *name, int64_t *value, struct stat *out)
{
	unsigned char hdr[SHMC_SIZE];
	struct stat st;
	bool ok = false;
	int pfd, fd;

	pfd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pfd == -1)
		return false;
	if (fstat(pfd, &st) == -1 || shmc_invalid(&st, NULL) != NULL ||
	    (fd = obj_reopen(pfd, O_RDONLY)) == -1) {
		close(pfd);
		return false;
	}
	close(pfd);
	if (pread(fd, hdr, sizeof hdr, 0) == (ssize_t)sizeof hdr &&
	    shmc_invalid(&st, hdr) == NULL) {
		memcpy(value, hdr + offsetof(struct shmc, value), sizeof *value);
		if (out != NULL)
			*out = st;
		ok = true;
	}
	close(fd);
	return ok;
}

/* The file under the mapping of C is still a counter: its size, from
 * fstat, then its magic and version, read again. Truncated and regrown,
 * the object reads as zeros, so a value of 0 would be believed; instead
 * this exits 1 naming what changed. */
void
shc_recheck(const struct shmc *c)
{
	struct stat st;
	uint32_t version;

	if (map_fd == -1)
		return;
	if (fstat(map_fd, &st) == -1)
		err(EXIT_FAIL, "%s: fstat", bus_name);
	if (st.st_size != SHMC_SIZE)
		errx(EXIT_FAIL, "%s: the counter changed under us: its size is "
		    "now %jd bytes, not %d", bus_name, (intmax_t)st.st_size,
		    SHMC_SIZE);
	if (memcmp(c->magic, SHMC_MAGIC, 8) != 0)
		errx(EXIT_FAIL, "%s: the counter changed under us: its magic is "
		    "gone (truncated and regrown, or overwritten)", bus_name);
	memcpy(&version, &c->version, sizeof version);
	if (version != SHMC_VERSION)
		errx(EXIT_FAIL, "%s: the counter changed under us: its version "
		    "is now %u, not %u", bus_name, (unsigned)version,
		    SHMC_VERSION);
}
