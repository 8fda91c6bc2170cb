/* ipc-sockcat's private header: what cmd/ipc-sockcat.c (options, the
 * byte stream) and cmd/ipc-sockcat/msg.c (--len32 and UDP messages)
 * share. Not part of libipc. */
#ifndef IPC_SOCKCAT_H
#define IPC_SOCKCAT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdnoreturn.h>

#include "ipc.h"

#define UDP_MAX 65535          /* the largest datagram we can receive */
#define SEND_BACKLOG (1 << 20) /* --len32: stop reading stdin above this */

/* One run: the options, made in main and passed down, and its counts. */
struct sockcat {
	const char *address;  /* as the user wrote it, for messages */
	const char *message;  /* -m: send this instead of stdin */
	bool nostdin;         /* -d */
	bool sendonly;        /* -s */
	bool noshut;          /* --no-shutdown */
	bool probe;           /* -z */
	bool progress;        /* -P */
	bool len32;           /* --len32: the socket carries frames */
	int verbose;          /* -v */
	int64_t timeout;      /* -t, ns; -1: none */
	int64_t wait;         /* -w, ns; 0: none */
	int64_t idle;         /* -i, ns; -1: none */
	size_t max_msg;       /* --max-message; 0: FRAME_MAX_DEFAULT */
	enum frame_kind frame; /* stdin/stdout framing */

	uint64_t sent, recv;  /* socket bytes, for messages */
	unsigned long refused; /* messages not printed (they hold the
	                        * output's delimiter): exit 1 at the end */
	bool replied;         /* --len32: the first frame was seen */
	int64_t t_connected;  /* -P: rates count from here */
	int64_t shown_t;      /* -P: when the last line was shown */
	uint64_t shown_total; /* -P: the count it showed */
};

/* ---- ipc-sockcat.c ---- */

/* Fails with the socket's error (or WHAT) and the counts so far. */
noreturn void fail_counts(const struct sockcat *sc, int e, const char *what);
/* stdout failed: a reader that left ends us quietly with status 1. */
noreturn void fail_stdout(int e);
/* -P (else nothing): the counts and rates on stderr, at most every
 * 250 ms unless FORCE. */
void progress(struct sockcat *sc, uint64_t sent, uint64_t recv, bool force);

/* ---- msg.c: messages over the socket ---- */
int len32_run(struct sockcat *sc, int fd);
int udp_run(struct sockcat *sc, int fd);

#endif
