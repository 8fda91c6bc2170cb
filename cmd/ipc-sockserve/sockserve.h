/* ipc-sockserve's parts share this: the options, the event loop's items,
 * the connections and the server's state. ipc-sockserve.c holds options,
 * the loop and the end; accept.c listening and accepting; conn.c print
 * connections; bcast.c broadcast; udp.c datagrams; out.c stdout, written
 * without blocking the loop; exec.c exec mode and its limits; held.c the
 * memory budget. */
#ifndef SOCKSERVE_H
#define SOCKSERVE_H

#include <stdnoreturn.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "ipc.h"

#define RBUF_SIZE (64 * 1024)
#define RAW_CHUNK (1 << 20)
#define BCAST_MAX (1 << 20)      /* a client this far behind is dropped */
#define BCAST_LOW (64 * 1024)    /* read stdin while a client is below this */
#define MSG_MAX FRAME_MAX_DEFAULT /* largest --len32/-0 message */
#define HELD_MAX ((size_t)256 << 20) /* held for all clients at most */
#define FD_RESERVE 32
#define EMFILE_PAUSE_NS 100000000LL

struct opts {
	bool once, peer, broadcast, mode_set, allow_any, len32;
	int verbose, ready_fd;
	long long count, max_conns;
	long long max_per_source;   /* 0: no limit */
	int64_t idle_ns, grace_ns;
	mode_t mode;
	enum frame_kind kind;    /* framing of printed messages and stdin */
	uid_t allow[16];
	int nallow;
	char **cmd;
	size_t max_held, max_msg;  /* --max-held, --max-message */
};

enum item_kind { IT_LISTEN, IT_SIG, IT_STDIN, IT_STDOUT, IT_CONN };
struct item {
	enum item_kind kind;
	int fd;
};

struct conn {
	struct item it;
	struct conn *prev, *next;
	struct merge_src src;       /* line mode */
	struct frame_reader fr;     /* message mode */
	char *prefix;               /* --peer: the name and a tab */
	struct sockaddr_storage peer; /* for diagnostics (conn_name) */
	socklen_t peerlen;
	pid_t pid;                  /* a Unix peer's, from SO_PEERCRED */
	struct kc_key source;       /* --max-per-source */
	int64_t last;               /* last time data moved */
	char *out;                  /* broadcast backlog */
	size_t out_off, out_len, out_cap;
	bool rd_eof, wr_shut, want_out, dead;
	bool paused,
	    unwatched;     /* not read while stdout is blocked (out.c) */
};

/* Exec mode: a running child. */
struct kid {
	pid_t pid;
	int fd;             /* -i: its connection, for TCP_INFO; else -1 */
	bool idled;         /* ended by -i (SIGTERM sent) */
	bool killed;        /* ... and SIGKILL, at kill_at */
	int64_t kill_at;
	struct kc_key source;
};

/* The server: its options, loop, listeners, connections and children.
 * Made in main and passed down. */
struct server {
	struct opts opt;
	struct addr addr;
	struct listener lis;
	struct item litem[LISTEN_MAX], sigitem, initem, outitem;
	int ep;                     /* the epoll set */
	bool listening, udp, unixsock, msgmode, rawmode;
	int64_t resume_at, last_emfile_warn;
	long long accepted, active;
	long long idle_closed;      /* connections ended by -i */
	int term_sig;               /* the signal that began the end */
	int64_t grace_end;
	struct merge mg;            /* print mode: line output */
	struct conn *conns;         /* every open connection */
	struct conn *graveyard;     /* closed, freed after the batch */
	int rawpipe[2];             /* -1: one client spliced to stdout */
	struct kid *kids;           /* exec mode: running children */
	long long nkids;
	int last_status;            /* exec mode -1: the child's status */
	int print_status;           /* print mode: 1 failed, 124 idle */
	struct frame_reader inr;    /* broadcast: stdin */
	bool in_eof, in_on, in_always, in_want;
	struct budget held;         /* all bytes held for clients */
	struct keycount sources;    /* open connections per source (accept.c) */
	struct outq oq;             /* stdout (out.c) */
	size_t rawheld;             /* -1: bytes in rawpipe for stdout */
	bool watching;              /* stdout polled for EPOLLOUT */
	bool polled;                /* stdout is in the epoll set */
	long long npaused;          /* an upper bound: conns paused,
	    some gone */
	char rbuf[RBUF_SIZE];       /* what one read of a client takes */
};

/* ipc-sockserve.c */
noreturn void die(struct server *srv, int signo);
void ep_ctl(struct server *srv, int op, struct item *it, uint32_t events);
bool limit_reached(struct server *srv);

/* conn.c: print connections */
noreturn void out_failed(void);
void emit(struct server *srv, const char *pre, size_t pl, const char *msg,
    size_t len,
    bool udpmsg);
const char *emit_unfit(struct server *srv, const char *msg, size_t len,
    bool udpmsg);
void emit_refuse(struct server *srv, const char *who, const char *why);
void conn_free(struct server *srv, struct conn *c);
void conn_bury(struct server *srv);
void conn_end(struct server *srv, struct conn *c, int status, const char *why);
const char *conn_name(struct server *srv, const struct conn *c, char *buf,
    size_t size);
void conn_read(struct server *srv, struct conn *c, int64_t now);
/* bcast.c */
void bcast_shut(struct server *srv, struct conn *c);
bool bcast_flush(struct server *srv, struct conn *c, int64_t now);
void bcast_update(struct server *srv);
void bcast_read(struct server *srv, int64_t now);

/* out.c */
void out_init(struct server *srv);
bool out_blocked(struct server *srv);
void out_writev(struct server *srv, const struct iovec *iov, int iovcnt);
void raw_out(struct server *srv, size_t n);
void out_update(struct server *srv, int64_t now);
void out_ready(struct server *srv, uint32_t events);
void out_last(struct server *srv);
uint32_t conn_events(const struct conn *c);
void conn_watch(struct server *srv, struct conn *c);
void conn_pause(struct server *srv, struct conn *c, bool hup);
/* held.c */
void held_init(struct server *srv);
void held_attach(struct server *srv, struct conn *c);
void conn_drop(struct server *srv, struct conn *c);
bool bcast_room(struct server *srv, struct conn *c, size_t len);

/* accept.c */
void listen_stop(struct server *srv);
void listen_update(struct server *srv, int64_t now);
void on_accept(struct server *srv, struct item *it, int64_t now);
void source_put(struct server *srv, const struct kc_key *k);

/* udp.c */
void on_datagram(struct server *srv, struct item *it);

/* exec.c */
void exec_check(struct server *srv);
int64_t idle_interval(struct server *srv);
void spawn_conn(struct server *srv, int fd, const struct sockaddr_storage *ss,
    socklen_t sl,
    const struct ucred *cr, const struct kc_key *source);
void kids_idle_sweep(struct server *srv, int64_t now);
void reap(struct server *srv);

#endif
