/* ipc-shmcount's private header: what its parts, cmd/ipc-shmcount.c and
 * the files in cmd/ipc-shmcount/, share. Not part of libipc.
 *
 * The object is /dev/shm/NAME, 64 bytes in the host's byte order:
 *   0  "IPCSHMC\0"   magic
 *   8  u32 version   (1)
 *   12 u32 seq       wake sequence: bumped by every change (futex word)
 *   16 i64 value
 *   24 u32 reserved  zero (was a count of waiters: one killed by
 *                    SIGKILL left it raised for good)
 *   28 zero to 63
 * Every change is a CAS loop with an overflow check (a fetch-add would
 * wrap silently), then a bump of seq and a FUTEX_WAKE, always. */
#ifndef IPC_SHMCOUNT_H
#define IPC_SHMCOUNT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SHM_DIR "/dev/shm"
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
	_Atomic uint32_t waiters;  /* reserved: 0, no longer used */
	unsigned char zero[36];
};
_Static_assert(sizeof(struct shmc) == SHMC_SIZE, "layout is 64 bytes");
_Static_assert(offsetof(struct shmc, seq) == 12, "layout: seq at 12");
_Static_assert(offsetof(struct shmc, value) == 16, "layout: value at 16");
_Static_assert(offsetof(struct shmc, waiters) == 24, "layout: waiters at 24");
_Static_assert(sizeof(_Atomic int64_t) == 8 && sizeof(_Atomic uint32_t) == 4,
    "atomics have the size of their plain types");

/* ---- ipc-shmcount.c: the command line ---- */

enum cond { C_GE, C_LE, C_EQ, C_NE };

/* One run of ipc-shmcount: the verb's options and operands, parsed by
 * the command-line table in ipc-shmcount.c. */
struct cmd {
	int argc;
	char **argv;     /* operands, NULL-ended */
	int verbose;     /* -v */
	bool excl, create, json, mode_set;
	mode_t mode;
	long long times;
	int64_t initial, timeout_ns;
	bool shared;     /* --shared: accept a counter of another user */
	enum cond cond;  /* wait --ge, --le, --eq, --ne */
	int64_t want;    /* ... VALUE */
};


/* ---- counter.c: the shared-memory object ---- */

/* Checks NAME; "/NAME" into SLASH, "/dev/shm/NAME" into PATH. Exits 2 on
 * a bad name. */
void shc_path(const char *name, char path[sizeof SHM_DIR + 258],
    char slash[258]);
/* Opens and maps an existing counter; exits 1 for anything but our
 * counter (of another user too, unless SHC_SHARED). Returns NULL if it
 * does not exist and SHC_MISSING_OK. SHC_READ_ONLY_OK: a counter we may
 * read but not write is fine (get). */
enum { SHC_MISSING_OK = 1, SHC_SHARED = 2, SHC_READ_ONLY_OK = 4 };
struct shmc *shc_open(const char *path, const char *slash, int flags);
/* Creates the counter whole, then links it to its name. Returns true if
 * created, false if the name exists (EEXIST). Exits 1 on failure. */
bool shc_create(const char *path, const char *slash, int64_t initial,
    mode_t mode, bool explicit_mode);
/* Why a file ST describes, whose first 64 bytes are HDR, is not a counter
 * ("wrong magic", ...), or NULL if it is one. HDR NULL: only the type and
 * size are checked (before anything is opened). */
const char *shmc_invalid(const struct stat *st, const unsigned char *hdr);
/* True (and *VALUE) if NAME, relative to DFD, is our counter; never
 * blocks, follows a link or writes. */
bool shc_peek(int dfd, const char *name, int64_t *value,
    struct stat *out);
/* Exits 1, naming what changed, unless the counter mapped (shc_open) is
 * still a counter: the size of its file, its magic and version. */
void shc_recheck(const struct shmc *c);

/* ---- wait.c: changes and waits ---- */

/* Bumps the sequence and wakes any waiter: every change made by a
 * one-shot command ends here. */
void shc_wake(struct shmc *c);
/* Adds (or subtracts) DELTA TIMES times, each step its own atomic change.
 * Returns the value after the last step; *DONE gets the steps done, which
 * is fewer than TIMES only on overflow. */
int64_t shc_add(struct shmc *c, int64_t delta, bool sub, long long times,
    long long *done);
/* Sleeps on the sequence until the condition holds: 0, or EXIT_TIMEOUT
 * after TIMEOUT_NS (-1: none). */
int shc_wait(struct shmc *c, enum cond op, int64_t want, int64_t timeout_ns);

/* ---- ls.c: ls and rm ---- */

int shc_ls(struct cmd *c);
int shc_rm(struct cmd *c);

#endif
