/* ipc-fifo's private header: what its parts, cmd/ipc-fifo.c and the files
 * in cmd/ipc-fifo/, share. Not part of libipc. */
#ifndef IPC_FIFO_H
#define IPC_FIFO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* One run of ipc-fifo: its options, made in main and passed down. */
struct fifo {
	const char *path;     /* the FIFO of read and write */
	int verbose;          /* -v */
	bool exclusive;       /* make -x: each FIFO must be new */
	bool keep;            /* read -k */
	bool create;          /* -c */
	bool raw;             /* write -r */
	bool follow;          /* --follow */
	bool shared;          /* --shared */
	bool mode_set;        /* --mode given: exact */
	mode_t mode;          /* --mode (0600) */
	long long count;      /* read -n, -1: until EOF */
	const char *message;  /* write -m */
	int64_t timeout;      /* -t in ns, -1: wait forever */
	/* The FIFO this run made with -c: removed at exit only if the path
	 * still names that inode (someone may have replaced it meanwhile). */
	const char *made_path;
	dev_t made_dev;
	ino_t made_ino;
};

/* ---- ipc-fifo.c: the command line, make, rm, opening the FIFO ---- */

/* Opens FF's path for FLAGS after the checks (a FIFO, ours or root's
 * unless --shared, no symlink unless --follow), making it first with -c.
 * Blocks until the OTHER end ("reader", "writer") comes; exits 124 after
 * -t, 1 on failure. */
int ff_open_fifo(struct fifo *ff, int flags, const char *other);

/* ---- read.c ---- */

int ff_cmd_read(struct fifo *ff);

/* ---- write.c ---- */

int ff_cmd_write(struct fifo *ff);

#endif
