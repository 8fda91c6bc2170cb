/* ipc-fifo's private header: what its parts, cmd/ipc-fifo.c and the files
 * in cmd/ipc-fifo/, share. Not part of libipc. */
#ifndef IPC_FIFO_H
#define IPC_FIFO_H

#include <stdbool.h>

/* ---- ipc-fifo.c: the command line, make, rm, opening the FIFO ---- */

extern const char *ff_path;    /* the FIFO of read and write */
extern bool ff_keep;           /* read -k */
extern long long ff_count;     /* read -n, 0: until EOF */
extern bool ff_raw;            /* write -r */
extern const char *ff_message; /* write -m */

/* Opens ff_path for FLAGS after the checks (a FIFO, ours or root's unless
 * --shared, no symlink unless --follow), making it first with -c. Blocks
 * until the OTHER end ("reader", "writer") comes; exits 124 after -t,
 * 1 on failure. */
int ff_open_fifo(int flags, const char *other);

/* ---- read.c ---- */

int ff_cmd_read(void);

/* ---- write.c ---- */

int ff_cmd_write(void);

#endif
