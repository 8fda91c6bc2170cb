/* ipc-mq's private header: what its parts, cmd/ipc-mq.c and the files
 * in cmd/ipc-mq/, share. Not part of libipc. */
#ifndef IPC_MQ_H
#define IPC_MQ_H

#include <getopt.h>
#include <mqueue.h>
#include <stdbool.h>
#include <stdnoreturn.h>
#include <sys/types.h>

enum { OPT_MODE = 0x2001, OPT_JSON, OPT_SHARED };

#define COMMON_LONGOPTS \
	CLI_LONGOPTS, \
	{ "shared", no_argument, NULL, OPT_SHARED }

/* ---- ipc-mq.c: the command line ---- */

extern int mqt_verbose;  /* -v: diagnostics on stderr */
/* Prints the SYNOPSIS and exits 2. */
noreturn void mqt_usage(void);
/* Parses a subcommand's options; returns the option or -1 at the end.
 * Options every verb shares are handled here. */
int mqt_verb_opt(int argc, char **argv, const char *opts,
    const struct option *lo, bool *shared);

/* ---- queue.c: opening and creating queues; create, rm ---- */

struct create_opts {
	mode_t mode;
	bool mode_set, excl, shared;
	long maxmsg, msgsize;  /* 0: not asked */
};

/* Exits 1 unless queue Q (NAME) is ours or root's. */
void mqt_check_owner(const char *name, mqd_t q);
/* Opens an existing queue; a missing one is an error that says how to
 * make it. Refuses another user's queue unless SHARED. */
mqd_t mqt_open_existing(const char *name, int flags, bool shared);
/* Creates NAME, or opens it if it exists (unless -x). *CREATED tells
 * which. An explicit --mode is exact: umask(0) around mq_open. */
mqd_t mqt_create(const char *name, const struct create_opts *o, int flags,
    bool *created);
int mqt_cmd_create(int argc, char **argv);
int mqt_cmd_rm(int argc, char **argv);

/* ---- info.c ---- */

int mqt_cmd_info(int argc, char **argv);
int mqt_cmd_ls(int argc, char **argv);

/* ---- send.c ---- */

int mqt_cmd_send(int argc, char **argv);
/* The limit of a reader of KIND for a queue of MSGSIZE: a netstring's or
 * len32's header gives the size, so one over MSGSIZE is refused before its
 * body is read; a line or NUL-terminated message has no header and is read
 * up to 1 MiB (or MSGSIZE, if larger) so that its size can be named. */
size_t mqt_send_limit(enum frame_kind kind, long msgsize);
/* The next message on R (limit from mqt_send_limit) for a queue of
 * MSGSIZE: 1 with MSG and LEN, 0 at the end, -1 with errno as
 * frame_read's, EMSGSIZE for one over MSGSIZE, whose size *SIZE then is
 * (0: over R's limit, no header gave it). */
int mqt_send_next(struct frame_reader *r, long msgsize, char **msg,
    size_t *len, uint64_t *size);

/* ---- recv.c ---- */

int mqt_cmd_recv(int argc, char **argv);

#endif
