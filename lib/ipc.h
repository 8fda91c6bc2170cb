/* libipc: the parts every ipc-utils tool shares, grouped by file: here the
 * command line, numbers, signals and I/O; the rest in ipc_msg.h,
 * ipc_proc.h and ipc_net.h, included at the end. */
#ifndef IPC_H
#define IPC_H

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdnoreturn.h>
#include <time.h>

/* ---- cli.c: start-up, --help/--version, the exit-status table ---- */

enum {
	EXIT_OK = 0,        /* success */
	EXIT_FAIL = 1,      /* the operation failed */
	EXIT_USAGE = 2,     /* bad option, argument, address or name */
	EXIT_TIMEOUT = 124, /* a -t/--timeout or -i/--idle bound expired */
};

/* Sets the program name, reopens closed fds 0-2 on /dev/null and sets up
 * signals (sig_init). */
void cli_init(int argc, char **argv);
/* Prints "ipc-TOOL VERSION" on stdout and exits 0. */
noreturn void cli_version(void);
/* Usage error with a message: "ipc-TOOL: MESSAGE", exit 2. */
noreturn void cli_usage_err(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/* The command-line layer. A tool declares its verbs and options once, in
 * a struct cli_tool; cli_next parses argv from it (GNU order: options may
 * follow operands, up to "--"; -h/--help and -V/--version are built in),
 * and cli_help.c prints the help, the usage and the completion data from
 * the same table. Every mistake is worded here, the same for every tool,
 * and is a usage error (exit 2). */
struct cli_opt {
	int id;            /* what cli_next returns: a letter (the short
	                    * option), or CLI_LONG + n for a long-only one */
	const char *name;  /* long name without "--", or NULL */
	const char *arg;   /* its argument's name ("DUR"); NULL: none */
	const char *help;  /* one line for --help (wrapped at 80 columns) */
	const char *verbs; /* the verbs that take it ("send recv"); NULL: all */
};
#define CLI_LONG 0x100
/* The id of a second option with letter CH, for other verbs than the
 * first's (ipc-mq send -p PRIO, recv -p): each verb gets its own. */
#define CLI_AGAIN(ch) (2 * CLI_LONG + (ch))
/* O's short letter, or 0 if it has none. */
int cli_letter(const struct cli_opt *o);
/* -v, which every tool has, with what it says in that tool. */
#define CLI_OPT_VERBOSE(help) { 'v', "verbose", NULL, help, NULL }
struct cli_verb {
	const char *name;      /* NULL for a tool without verbs */
	const char *operands;  /* for the synopsis: "NAME [MESSAGE...]" */
	const char *about;     /* what it does, for --help */
	int min, max;          /* how many operands (max -1: any) */
	bool numbers;          /* "-5" is an operand, not an option (so no
	                        * option of the verb may be a digit) */
};
struct cli_tool {
	const char *about;            /* what the tool does, for --help */
	const struct cli_verb *verbs; /* ended by one with min == -1 */
	const struct cli_opt *opts;   /* ended by id 0 */
	const char *more;             /* after the options in --help */
	bool command;                 /* "--" starts a COMMAND [ARG...] */
	const char *command_verbs;    /* the verbs it does so for ("recv");
	                               * NULL: every verb */
};
struct cli {
	const struct cli_tool *tool;
	const struct cli_verb *verb;
	const struct cli_opt *opt;  /* the option cli_next returned */
	const char *arg;            /* its argument, or NULL */
	char **ops;                 /* the operands, in order (after cli_next
	                             * returned 0) */
	int nops;
	char **cmd;                 /* COMMAND [ARG...] after "--", or NULL */
	int argc, i;                /* private: where the parse is */
	char **argv;
	const char *bundle;         /* private: the rest of "-dsv" */
};
/* Starts parsing ARGV by TOOL; with verbs, the verb is ARGV[1]. */
void cli_start(struct cli *c, const struct cli_tool *tool, int argc,
    char **argv);
/* The next option's id (C->opt, C->arg set), or 0 at the end, once the
 * operand count was checked. Exits 0 after --help or --version, 2 after
 * a mistake. */
int cli_next(struct cli *c);
/* Whether verb V takes option O. */
bool cli_verb_takes(const struct cli_verb *v, const struct cli_opt *o);
/* The current option as messages name it: "--timeout", or "-t" if it
 * has no long name. */
const char *cli_optname(const struct cli *c);
/* The current option's argument as a duration, a size in [MIN, MAX], a
 * number in [MIN, MAX]; a bad one is a usage error naming the option. */
int64_t cli_duration(const struct cli *c);
uint64_t cli_size(const struct cli *c, uint64_t min, uint64_t max);
long long cli_number(const struct cli *c, long long min, long long max);
/* A usage error of C's command line: "ipc-TOOL: MESSAGE", then C's
 * usage; exit 2. */
noreturn void cli_fail(const struct cli *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* ---- cli_help.c ---- */
/* --help: the verb's (or the tool's) usage, about text and options. */
noreturn void cli_print_help(const struct cli *c);
/* The synopsis of C's verb (every verb's if none yet) on F, each line
 * after PREFIX ("usage:"), wrapped at 80 columns. */
void cli_print_usage(const struct cli *c, FILE *f);

/* Flushes and checks stdout at exit: a failed write is never a success.
 * A reader that went away (EPIPE) ends the tool quietly with status 1. */
void cli_stdout_done(void);
/* Quiet exit 1 when stdout's reader went away, otherwise err(1, what). */
noreturn void cli_write_failed(const char *what);

/* ---- num.c: strict numbers, durations, modes ---- */

/* A decimal integer in [min, max]: no sign other than a leading '-' where
 * min < 0, no spaces, no leading zeros, nothing after it. Exits 2 naming
 * WHAT on anything else. */
long long num_parse(const char *s, long long min, long long max,
    const char *what);
/* The same, returning -1 with errno EINVAL/ERANGE instead of exiting. */
int num_parse_ok(const char *s, long long min, long long max, long long *out);
/* A duration: "250ms", "1.5s", "2m", "1h", a bare number is seconds.
 * Returns nanoseconds; exits 2 naming WHAT when malformed or too large. */
int64_t num_duration(const char *s, const char *what);
/* NS as the messages of a timeout write it ("10ms", "1.5s", "2m"): a
 * static buffer, overwritten by the next call. */
const char *num_duration_str(int64_t ns);
/* The same, returning -1 with errno EINVAL (malformed) or ERANGE (over a
 * year) instead of exiting. */
int num_duration_ok(const char *s, int64_t *out);
/* A size in bytes in [MIN, MAX]: digits as num_parse takes them, then
 * nothing (bytes) or one of K, M, G (KiB, MiB, GiB: 64K is 65536).
 * Exits 2 naming WHAT (the option) on anything else. */
uint64_t num_size(const char *s, uint64_t min, uint64_t max,
    const char *what);
/* Octal permission bits 0-0777, e.g. "0600" or "600"; exits 2 otherwise. */
mode_t num_mode(const char *s);
/* The same, returning -1 with errno EINVAL (not octal) or ERANGE (more than
 * permission bits) instead of exiting. */
int num_mode_ok(const char *s, mode_t *out);
/* Monotonic clock in nanoseconds. */
int64_t num_now(void);
/* NS (< 0: none) as a poll(2) timeout in milliseconds: -1 for none,
 * rounded up (waking early would spin), at most a day (a year does not fit
 * an int of milliseconds). */
int num_poll_ms(int64_t ns);
/* Nanoseconds to a timespec (relative). */
struct timespec num_ts(int64_t ns);

/* ---- sig.c: signals as events ---- */

/* Handlers for SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGALRM, SIGCHLD are
 * installed without SA_RESTART, so a blocking open(2), futex or mq call
 * returns EINTR; each sets a flag and writes the signal number to a
 * self-pipe that event loops poll. A signal ignored when we started (nohup,
 * a script's background job) gets no handler: it stays ignored, here and
 * in our children. SIGPIPE is ignored (EPIPE is "peer gone"). */
void sig_init(void);
/* SIGNO was ignored when we started (never SIGCHLD or SIGALRM). */
bool sig_ignored_at_start(int signo);
/* Read end of the self-pipe (non-blocking, close-on-exec), made on the
 * first call so tools that never poll do not pay for it at start. */
int sig_fd(void);
/* Empties the self-pipe; returns the first terminating signal caught so far
 * (SIGINT, SIGTERM, SIGHUP, SIGQUIT) or 0. */
int sig_drain(void);
/* The first terminating signal caught so far, or 0. */
int sig_caught(void);
/* si_code of that signal: SI_KERNEL when a terminal sent it to the whole
 * process group, SI_USER when kill(2) sent it to us. */
int sig_caught_code(void);
/* Forget a caught terminating signal (after a tool has handled it). */
void sig_clear(void);
/* True once since the last call if SIGCHLD arrived. */
bool sig_child(void);
/* If a terminating signal was caught: run the cleanups and die of it. */
void sig_check(void);
/* Runs the cleanups, restores the default action and dies of SIGNO
 * (so the shell sees 128+SIGNO and a calling script stops too). */
noreturn void sig_die(int signo);
/* Registers FN to run once at exit, normal or by a signal (newest first). */
void sig_cleanup(void (*fn)(void));
/* Arms a one-shot SIGALRM after NS nanoseconds (0 disarms). */
void sig_alarm(int64_t ns);
/* The same for a blocking call that no poll can watch (a FIFO's open):
 * after NS it fires every millisecond until sig_alarm(0), so the call is
 * interrupted even if it began just after the deadline. NS 0: at once. */
void sig_alarm_blocking(int64_t ns);
/* True once the alarm armed by sig_alarm has fired. */
bool sig_alarmed(void);
/* In a child before exec: default dispositions (ignored for a signal
 * ignored when we started, but SIGPIPE always default), empty mask.
 * Async-signal-safe. */
void sig_child_reset(void);

/* ---- io.c: reads, writes and copies that finish ---- */

/* read(2), EINTR retried unless a terminating signal is pending (then it
 * runs sig_check). Returns bytes, 0 at EOF, -1 with errno. */
ssize_t io_read(int fd, void *buf, size_t len);
/* Writes all LEN bytes: short writes finished, EINTR retried as io_read,
 * EAGAIN waited out with poll. Returns LEN or -1 with errno. */
ssize_t io_write_all(int fd, const void *buf, size_t len);
/* writev(2) until all of IOV is written; modifies IOV. Returns 0 or -1. */
int io_writev_all(int fd, struct iovec *iov, int iovcnt);
/* Sets or clears O_NONBLOCK. */
int io_nonblock(int fd, bool on);
/* Copies IN to OUT until EOF: splice(2) where both ends allow it, else
 * read/write with a large buffer. *COUNT gets the bytes copied.
 * Returns 0 at EOF, IO_ERR_READ or IO_ERR_WRITE with errno set. */
enum { IO_ERR_READ = -1, IO_ERR_WRITE = -2 };
int io_copy(int in, int out, uint64_t *count);

/* A buffered writer for message output: many messages, few writes. */
struct outbuf {
	int fd;
	char *buf;
	size_t len, cap;
};
void ob_init(struct outbuf *ob, int fd, size_t cap);
/* Appends; flushes first when full. Returns 0 or -1 (errno). */
int ob_put(struct outbuf *ob, const void *data, size_t len);
int ob_flush(struct outbuf *ob);
void ob_free(struct outbuf *ob);

#include "ipc_msg.h"
#include "ipc_proc.h"
#include "ipc_net.h"

#endif
