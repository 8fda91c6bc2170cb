/* ipc-mq's private header: what its parts, cmd/ipc-mq.c and the files
 * in cmd/ipc-mq/, share. Not part of libipc. */
#ifndef IPC_MQ_H
#define IPC_MQ_H

#include <mqueue.h>
#include <stdbool.h>
#include <stdnoreturn.h>
#include <sys/types.h>

/* ---- queue.c: opening and creating queues; create, rm ---- */

struct create_opts {
	mode_t mode;
	bool mode_set, excl, shared;
	long maxmsg, msgsize;  /* 0: not asked */
};

/* One run of ipc-mq: its command line, parsed in ipc-mq.c by the table
 * and handed to the verb. */
struct mq_run {
	int verbose;              /* -v: diagnostics on stderr */
	struct create_opts co;    /* create (and send -c); co.shared: --shared */
	bool create;              /* send -c */
	unsigned prio;            /* send -p */
	bool prio_print;          /* recv -P */
	int64_t timeout;          /* -t in ns, -1: none */
	const char *tstr;         /* -t as given, for messages */
	enum frame_kind kind;     /* -0, --netstring, --len32 */
	long long count;          /* recv -n (1), -1 with -f */
	bool all, follow;         /* recv -a, -f */
	bool json;                /* info, ls --json */
	char **ops;               /* the operands (NAME first), NULL-ended */
	int nops;
	char **cmd;               /* recv -- COMMAND [ARG...], or NULL */
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
int mqt_cmd_create(struct mq_run *m);
int mqt_cmd_rm(struct mq_run *m);

/* ---- info.c ---- */

int mqt_cmd_info(struct mq_run *m);
int mqt_cmd_ls(struct mq_run *m);

/* ---- send.c ---- */

int mqt_cmd_send(struct mq_run *m);
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

int mqt_cmd_recv(struct mq_run *m);

#endif
