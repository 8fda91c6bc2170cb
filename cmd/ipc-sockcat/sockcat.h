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

/* ---- ipc-sockcat.c ---- */
extern const char *opt_message;    /* -m: send this instead of stdin */
extern bool opt_nostdin;           /* -d */
extern bool opt_sendonly;          /* -s */
extern bool opt_noshut;            /* --no-shutdown */
extern bool opt_progress;          /* -P */
extern bool opt_len32;             /* --len32: the socket carries frames */
extern int64_t opt_idle;           /* -i, ns; 0: none */
extern size_t opt_max_msg;         /* --max-message; 0: the default */
extern enum frame_kind opt_frame;  /* stdin/stdout framing */
extern const char *address;        /* as the user wrote it, for messages */
extern uint64_t n_sent, n_recv;    /* socket bytes, for messages */

/* Fails with the socket's error (or WHAT) and the counts so far. */
noreturn void fail_counts(int e, const char *what);
/* stdout failed: a reader that left ends us quietly with status 1. */
noreturn void fail_stdout(int e);
/* -P (else nothing): the counts and rates on stderr, at most every
 * 250 ms unless FORCE. */
void progress(uint64_t sent, uint64_t recv, bool force);

/* ---- msg.c: messages over the socket ---- */
int len32_run(int fd);
int udp_run(int fd);

#endif
