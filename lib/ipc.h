/* libipc: the parts every ipc-utils tool shares, grouped by file. */
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

/* ---- outq.c: non-blocking writes to an inherited descriptor ---- */

/* How an outq writes. Never by setting O_NONBLOCK on the descriptor: its
 * open file description is shared (with the shell, the terminal). */
enum outq_how {
	OUTQ_PLAIN,   /* write(2) as it is: a regular file (never blocks), or
	               * what could not be reopened (may block, as before) */
	OUTQ_REOPEN,  /* a pipe, FIFO or terminal, reopened non-blocking
	               * through /proc/self/fd: a description of our own */
	OUTQ_SEND,    /* a socket: send(MSG_DONTWAIT | MSG_NOSIGNAL) */
};
struct outq {
	int fd;              /* what is written: FD, or our reopening of it
	                      * (poll this one) */
	enum outq_how how;
	bool fifo;           /* FD is a pipe or FIFO */
	char *buf;           /* the backlog: taken, not yet written */
	size_t off, len, cap;
};
/* Sets Q up to write FD, which stays open and unchanged. */
void outq_init(struct outq *q, int fd);
/* Closes our reopening and frees the backlog. */
void outq_free(struct outq *q);
/* Writes IOV as far as Q->fd takes it now, the rest kept in the backlog;
 * while the backlog is not empty everything goes behind it, so bytes
 * leave in order and a partial write never lets other output in between.
 * When all of it was written at once this is one writev (or sendmsg).
 * Returns 0 (EAGAIN is no error), or -1 with errno when the write
 * failed. */
int outq_writev(struct outq *q, const struct iovec *iov, int iovcnt);
int outq_write(struct outq *q, const void *p, size_t len);
/* Writes the backlog. Returns 0 once it is empty, 1 while Q->fd takes no
 * more (poll it for POLLOUT), -1 with errno. WAIT: polls until it is
 * empty (a signal we die of still ends the tool). */
int outq_flush(struct outq *q, bool wait);
/* Bytes in the backlog. */
size_t outq_pending(const struct outq *q);

/* ---- frame.c: message framing, one reader and one writer ---- */

enum frame_kind { FRAME_LINE, FRAME_NUL, FRAME_NETSTRING, FRAME_LEN32 };

/* The largest message a frame reader takes unless told otherwise. */
#define FRAME_MAX_DEFAULT ((size_t)64 << 20)

struct budget;
struct frame_reader {
	int fd;
	enum frame_kind kind;
	char *buf;
	size_t start, end, cap;
	size_t max;   /* largest message accepted */
	size_t scan;  /* where the search for a terminator resumes */
	bool eof;
	char why[96]; /* what frame_next found wrong (frame_strerror) */
	uint64_t over;  /* after EMSGSIZE: the length a netstring or len32
	                 * header gave, or a line or NUL message whose end
	                 * was seen; 0 for one whose end was not */
	struct budget *budget;  /* charged for the buffer (set after init),
	                         * or NULL */
	bool shared;  /* buf is the caller's scratch (frame_fill_shared) */
};
/* MAX bounds one message (0: FRAME_MAX_DEFAULT, 64 MiB); the buffer never
 * grows past what a message of MAX needs (and its framing) unless the
 * caller reads ahead of the messages it takes. */
void frame_reader_init(struct frame_reader *r, int fd, enum frame_kind kind,
    size_t max);
void frame_reader_free(struct frame_reader *r);
/* Takes the next whole message already buffered. Returns 1 and sets
 * MSG/LEN (valid until the next call), 0 when more input is needed (or at
 * EOF with nothing left), -1 with errno EBADMSG for a malformed or
 * truncated frame, EMSGSIZE for one over MAX (R->over: its size, where a
 * header gave it). */
int frame_next(struct frame_reader *r, char **msg, size_t *len);
/* One read(2) into the buffer. Returns bytes read, 0 at EOF, -1 (errno,
 * EAGAIN included; ENOBUFS when R's budget cannot hold the buffer's
 * growth). */
ssize_t frame_fill(struct frame_reader *r);
/* For a server with many readers, each of which should hold memory only
 * while a message of its is unfinished: reads into SCRATCH (SIZE bytes,
 * shared by all readers) after what R holds, unless that is over half of
 * SIZE (then it is frame_fill). After taking the messages with
 * frame_next, call frame_keep before SCRATCH is used again. Returns as
 * frame_fill. */
ssize_t frame_fill_shared(struct frame_reader *r, char *scratch,
    size_t size);
/* What R holds unfinished moves from the scratch buffer into R's own,
 * charged to its budget; an own buffer emptied is freed, one mostly
 * unused shrinks. Returns 0, or -1 with errno ENOBUFS when the budget
 * cannot hold the rest (which is dropped: R then holds nothing). */
int frame_keep(struct frame_reader *r);
/* Blocking: the next message. 1, 0 at a clean EOF, -1 as frame_next or
 * for a read error. */
int frame_read(struct frame_reader *r, char **msg, size_t *len);
/* Bytes buffered but not yet returned as messages. */
size_t frame_pending(const struct frame_reader *r);
/* What went wrong when frame_next or frame_read returned -1 with errno E:
 * for EBADMSG and EMSGSIZE what is wrong with the input ("truncated len32
 * frame (5 bytes announced, 2 read)", "malformed netstring (...)"), else
 * strerror(E). */
const char *frame_strerror(const struct frame_reader *r, int e);

/* Header and trailer of one framed message: writes up to 13 bytes of
 * header into HDR, returns its length; *TRAILER gets the trailer. */
size_t frame_header(enum frame_kind kind, size_t len, char hdr[16],
    const char **trailer, size_t *trailer_len);
/* Appends one framed message to OB: PRE (PLEN bytes: a priority, a
 * worker's tag; inside the frame, so the framing stays parseable), then
 * MSG. Returns 0 or -1 (errno). */
int frame_put(struct outbuf *ob, enum frame_kind kind, const void *pre,
    size_t plen, const void *msg, size_t len);
/* Writes one framed message to FD at once (one writev). 0 or -1. */
int frame_write(int fd, enum frame_kind kind, const void *msg, size_t len);
/* Whether one message of LEN bytes can be written in output framing KIND
 * as one record: a line cannot hold a newline nor a -0 record a NUL (a
 * reader would see two records, the second one looking like anyone's, a
 * forged --peer line say); netstring and len32 carry anything. TRAIL_OK:
 * the writer takes a delimiter as the last byte for the record's own (a
 * datagram printed as a line that ends in a newline). Returns NULL when it
 * fits, else what is wrong, for a note after what became of it: "24 bytes
 * with a newline inside (at byte 3) would print as 2 lines; --netstring
 * carries any bytes" (static, valid until the next call). */
const char *frame_unfit(enum frame_kind kind, const void *msg, size_t len,
    bool trail_ok);

/* ---- name.c: POSIX message-queue and shared-memory names ---- */

/* Checks NAME by our rule (optional leading '/', then 1-255 bytes with no
 * '/', not "." or ".."); writes "/name" into OUT. Exits 2 on a bad name. */
void name_check(const char *name, char out[258]);
/* The same without exiting: 0 (OUT written), or why NAME is refused. */
enum name_err { NAME_OK, NAME_EMPTY, NAME_TOO_LONG, NAME_SLASH, NAME_DOT };
enum name_err name_check_ok(const char *name, char out[258]);

/* ---- obj.c: existing objects opened safely ---- */

/* Opens what descriptor FD (an O_PATH one, say) refers to, anew, with
 * FLAGS and close-on-exec: through /proc/self/fd, never by name. */
int obj_reopen(int fd, int flags);

/* Opens PATH with O_PATH|O_NOFOLLOW (FOLLOW: without O_NOFOLLOW), checks
 * that it is of type TYPE (S_IFIFO, ...) and owned by us or root (unless
 * SHARED), then reopens it through /proc/self/fd with FLAGS. Errors are
 * reported with err(3)-style messages and exit 1; returns the fd. Fills *ST
 * when not NULL. A missing path returns -1 with errno ENOENT when
 * MISSING_OK, so the caller can create it. */
int obj_open(const char *path, mode_t type, int flags, bool follow,
    bool shared, bool missing_ok, struct stat *st);
/* "a FIFO", "a regular file", ... for messages about a file's type. */
const char *obj_type_name(mode_t type);
/* Checks owner of ST: ours or root's, else exits 1 naming the owner. */
void obj_check_owner(const char *what, const struct stat *st);
/* Removes PATH only if it still names the file DEV/INO (the one the
 * caller checked): the name is looked at again, without following a
 * link, just before the unlink, both relative to its directory opened
 * once. Returns 0 when removed, 1 when PATH now names another file (left
 * alone), -1 with errno (ENOENT: gone already). */
int obj_unlink_same(const char *path, dev_t dev, ino_t ino);
/* Calls umask(0) and returns the old mask; pair with umask(old): used
 * around a create so an explicit --mode is exact. */
mode_t obj_umask_for(bool explicit_mode);

/* ---- spawn.c: run a child ---- */

struct spawn {
	pid_t pid;
	int fd_in;   /* child's stdin (spawn_fds: -1 = /dev/null) */
	int fd_out;  /* child's stdout (-1 = inherit ours) */
	int fd_extra;  /* extra descriptor passed as EXTRA_NUM, or -1 */
	int extra_num;
	bool pdeathsig;  /* die with the parent */
};
/* Forks and execs ARGV[0] (PATH search) with the descriptors in SP placed
 * on 0/1 (and EXTRA_NUM), SIGPIPE default, empty mask, no other fds of ours
 * (ours are close-on-exec), ENV pairs "K=V" or "K" (unset) applied first.
 * Exec failure reaches us through a close-on-exec pipe: returns -1 with
 * errno the child's, and *STATUS set to 127 (not found) or 126; a child
 * that could not be started at all (pipe, fork) returns -1 with *STATUS
 * EXIT_FAIL. Returns 0 with SP->pid set on success. */
int spawn_start(struct spawn *sp, char *const argv[], char *const env[],
    int *status);
/* Exit status of a wait status as the shell shows it (128+N for signal N). */
int spawn_status(int wstatus);
/* Exit status for a command that exec failed to run with errno E, as the
 * shell gives it: 127 when it is not there (ENOENT), else 126 (it is
 * there but cannot run: EACCES, a directory, ...). */
int spawn_exec_status(int e);

/* ---- cmdpath.c: a command found as execvp(3) finds it ---- */

/* Finds NAME as execvp(3) would run it: a name with a '/' is that file;
 * another is looked for in each PATH entry in turn (an empty entry is the
 * current directory; without PATH, confstr's _CS_PATH), passing over a
 * directory or a file we may not execute, and stopping at any other
 * error but "not there". Returns 0 with the file to execve(2) in OUT
 * (SIZE bytes); else the errno execvp would give: ENOENT when nothing is
 * there (a shell's 127), or why the first file found cannot run (EACCES,
 * EISDIR, ...: 126), that file in OUT. */
int cmd_find(const char *name, char *out, size_t size);
/* cmd_find, exiting on failure as a shell would: 127 and "NAME: command
 * not found", or 126 (127 for a missing NAME with a '/') and "FILE: why". */
void cmd_require(const char *name, char *out, size_t size);

/* ---- keycount.c: a count per short key (connections per source) ---- */

#define KC_KEY_MAX 24
struct kc_key {
	uint64_t w[KC_KEY_MAX / 8];  /* the key's bytes, zero-padded */
};
struct kc_slot {
	struct kc_key key;
	uint32_t count;              /* 0: empty */
};
/* Zeroed: empty. It grows to twice the most keys counted at once. */
struct keycount {
	struct kc_slot *slot;
	size_t mask, used;
	uint64_t seed;
};
/* K from up to KC_KEY_MAX bytes (more are cut). */
void kc_key(struct kc_key *k, const void *bytes, size_t len);
/* Adds one to K's count unless it is at MAX already: true if it did. */
bool kc_take(struct keycount *t, const struct kc_key *k, uint32_t max);
/* Takes one from K's count (forgetting K at 0). */
void kc_put(struct keycount *t, const struct kc_key *k);
uint32_t kc_count(const struct keycount *t, const struct kc_key *k);
void kc_free(struct keycount *t);

/* ---- relay.c: a two-way relay with half-close ---- */

struct relay_end {
	int in, out;        /* copy IN to OUT */
	bool out_is_sock;   /* at IN's EOF: shutdown(OUT, SHUT_WR), else close */
	bool close_out;     /* close OUT when done (ours) */
	uint64_t bytes;     /* bytes copied */
	int err;            /* errno of a failure, 0 if none */
	bool read_err;      /* the failure was on IN */
	bool reset_eof;     /* ECONNRESET on IN ends it as EOF would, no error
	                     * (a local peer that closed with our bytes unread
	                     * has everything it wanted) */
	bool reset;         /* that happened: IN's peer wants nothing more */
	bool done;
	/* private */
	int pipe[2];
	size_t inpipe;
	bool splice_in, splice_out, eof;
	bool in_full;  /* our pipe took no more: wait for OUT first */
	bool out_dontwait;  /* OUT is a blocking socket: send(MSG_DONTWAIT) */
	bool out_fifo;  /* OUT is a pipe: watched for its reader leaving */
	bool sendfile;  /* IN a regular file, OUT a socket: sendfile(2) */
	char *buf;
	size_t off, len;
};
/* What a caller adds to relay_run's loop (progress, a child to watch).
 * WAKE is called once before the first poll and after every wake-up of
 * the loop: data moved, a signal (SIGCHLD, SIGALRM included: the flags of
 * sig.c say which), or the deadline it returned last. It may end either
 * direction (relay_stop) and may take care of a terminating signal
 * (sig_clear), which then does not end the relay. Returns the num_now()
 * time by which it wants to be called again, or -1 for no deadline. */
struct relay_hook {
	int64_t (*wake)(struct relay_end *a, struct relay_end *b, void *arg);
	void *arg;
};
/* Relays both directions until both are done (or, B_ENDS_ALL, when the
 * second direction ends), IDLE_NS (0: none) without data, or a terminating
 * signal. HOOK may be NULL. Returns 0 when both finished, EXIT_TIMEOUT on
 * idle, or the signal number negated. Errors per direction are in each
 * end. */
int relay_run(struct relay_end *a, struct relay_end *b, int64_t idle_ns,
    bool b_ends_all, const struct relay_hook *hook);
/* Ends E now, dropping what it holds; its OUT gets the EOF (closed when
 * CLOSE_OUT, shut down when OUT_IS_SOCK). */
void relay_stop(struct relay_end *e);
/* True while E holds bytes read from IN and not yet written to OUT. */
bool relay_pending(const struct relay_end *e);
void relay_end_init(struct relay_end *e, int in, int out);

/* ---- addr.c: socket addresses ---- */

enum addr_proto { ADDR_TCP, ADDR_UDP, ADDR_UNIX };

struct addr {
	enum addr_proto proto;
	int family;          /* AF_UNSPEC, AF_INET, AF_INET6 (tcp4/tcp6) */
	char host[256];      /* "" for the server's localhost default */
	char port[32];
	char path[108];      /* Unix: the path, or the name after '@' */
	bool abstract;
	bool any;            /* "*:PORT": every local address */
	size_t pathlen;
};
/* Parses an ADDRESS (SPEC.md). Exits 2 with a message when malformed. */
void addr_parse(const char *s, struct addr *a, bool server);
/* Resolves A into a list (freeaddrinfo). Exits 1 when it does not resolve,
 * 2 when the port is no service. */
struct addrinfo *addr_resolve(const struct addr *a, bool server);
/* The same, giving up at DEADLINE (num_now() ns, -1: none) with status
 * 124, and dying of a terminating signal while the resolver is silent. */
struct addrinfo *addr_resolve_by(const struct addr *a, bool server,
    int64_t deadline);
/* Fills a sockaddr_un for A; returns its length. */
socklen_t addr_sun(const struct addr *a, struct sockaddr_un *sun);
/* Formats SA as an ADDRESS ipc-sockcat accepts: "127.0.0.1:80",
 * "[::1]:80", "unix:/p", "unix:@n"; PROTO prefixes "udp:" for UDP. */
void addr_format(const struct sockaddr *sa, socklen_t len,
    enum addr_proto proto, char *out, size_t outlen);
/* Numeric host and port of SA (for the UCSPI variables). */
void addr_numeric(const struct sockaddr *sa, socklen_t len, char *host,
    size_t hostlen, char *port, size_t portlen);

/* ---- merge.c: line-atomic merge of many sources onto one output ---- */

/* One source (a client, a worker). PREFIX, if set, goes before each of its
 * lines (--peer, --tag). */
struct merge_src {
	char *buf;
	size_t len, cap;
	const char *prefix;
	size_t prefix_len;
	uint64_t id;     /* private: tells sources apart after they end */
	bool midline;    /* private: our last output ended inside a line */
	struct budget *budget;  /* charged for buf (set after init), or NULL */
};
struct merge {
	int fd;
	size_t max_piece;  /* a longer line goes out in pieces of this size */
	uint64_t open_id;  /* source whose unterminated piece ends the output */
	struct outq *out;  /* if set, written through it instead of FD */
	struct iovec *iov;
	size_t iov_cap;
};
/* Output FD; MAX_PIECE 0 means 64 KiB. */
void merge_init(struct merge *m, int fd, size_t max_piece);
void merge_src_init(struct merge_src *s, const char *prefix);
/* Data read from S: every whole line now complete is written in one
 * writev, never interleaved with another source's line. A line longer than
 * MAX_PIECE (newline not counted) goes out in pieces of MAX_PIECE bytes as
 * it comes, the last piece holding the rest; another source's output
 * between two pieces gets a newline before it. What S holds back is in a
 * buffer charged to S's budget, freed when S holds nothing. Returns 0, or
 * -1 with errno when the output failed, or with ENOBUFS (nothing written
 * or kept) when S's budget cannot hold what S may have to keep. */
int merge_feed(struct merge *m, struct merge_src *s, const void *data,
    size_t len);
/* S ended: its last unterminated line is written as it is; a newline is
 * added before the next source's output only if another source follows.
 * Frees S's buffer. Returns 0 or -1. */
int merge_end(struct merge *m, struct merge_src *s);
/* Bytes S holds back waiting for a newline. */
size_t merge_pending(const struct merge_src *s);

/* ---- connect.c: the client side of an ADDRESS ---- */

/* Connects to A (a connected datagram socket for udp:): each resolved
 * address in order, TIMEOUT_NS (-1: none, 0: no waiting) bounding the
 * whole attempt (exit 124 when it runs out), WAIT_NS (0: none) retrying a
 * refused or missing server with a short backoff (exit 1 with the last
 * error when it runs out). Other failures exit 1 naming the address.
 * Returns the fd, close-on-exec and non-blocking. */
int conn_open(const struct addr *a, int64_t timeout_ns, int64_t wait_ns,
    int verbose);

/* ---- buf.c: growable byte buffers ---- */

/* Makes *BUF (capacity *CAP) hold at least NEED bytes, doubling from MIN
 * (or *CAP). Exits 1 when memory runs out. */
void buf_reserve(char **buf, size_t *cap, size_t need, size_t min);
/* Drops the *OFF bytes at the front of BUF (holding *LEN) that were used:
 * the rest moves to the front, *OFF becomes 0. */
void buf_drop(char *buf, size_t *off, size_t *len);
/* Appends D[0..N) to *BUF, which holds *LEN bytes, growing it as
 * buf_reserve does. */
void buf_append(char **buf, size_t *len, size_t *cap, const void *d,
    size_t n, size_t min);

/* What a server holds on behalf of its peers, in total: every buffer kept
 * for a peer charges its capacity (what is allocated, which RSS follows)
 * here while it has it. */
struct budget {
	size_t max;   /* bytes at most */
	size_t used;  /* bytes charged now */
};
/* Charges N bytes to B (NULL: no budget, always true); false, nothing
 * charged, when that would take B past its max. */
bool budget_take(struct budget *b, size_t n);
/* Gives N bytes charged to B back (B may be NULL). */
void budget_give(struct budget *b, size_t n);
/* buf_reserve, the growth charged to B: false, nothing changed, when B
 * cannot hold it. */
bool buf_reserve_in(struct budget *b, char **buf, size_t *cap, size_t need,
    size_t min);
/* Frees *BUF; its capacity *CAP goes back to B. */
void buf_release(struct budget *b, char **buf, size_t *cap);

/* ---- json.c: names in listing output ---- */

/* Writes S to stdout as a JSON string: quoted, with '"', '\\' and control
 * characters escaped. */
void json_string(const char *s);
/* Writes S to stdout for text output, one entry a line, escaped as ls -b
 * does: a backslash doubled, tab as \t, newline \n, carriage return \r,
 * other control bytes as \ooo (octal), so no name can fake a field or a
 * row. */
void text_name(const char *s);

/* ---- udiag.c: Unix socket listeners, asked of the kernel ---- */

struct stat;
/* 1 if a socket listens bound to the file ST describes (in our network
 * namespace), 0 if none does, -1 if sock_diag(7) cannot tell. */
int udiag_listening(const struct stat *st);
/* One reply of the dump udiag_listening asks for: BUF, N bytes as recv(2)
 * gave them (8-byte aligned). Sets *FOUND to 1 when a listener bound to
 * ST's file is in it; returns 1 at the dump's end (NLMSG_DONE), -1 at an
 * error message, 0 when more replies are to come. */
int udiag_reply(const void *buf, size_t n, const struct stat *st, int *found);

/* ---- listen.c: the listening side of a server (ipc-sockserve) ---- */

#define LISTEN_MAX 16
struct listener {
	int fd[LISTEN_MAX];
	struct sockaddr_storage sa[LISTEN_MAX];  /* bound addresses */
	socklen_t salen[LISTEN_MAX];
	int n;
	enum addr_proto proto;
	/* the Unix socket file we bound, removed at exit while still ours */
	char path[108];
	dev_t dev;
	ino_t ino;
	bool own_path;
};
/* Binds (and for streams listens on) every address of A: all that a HOST
 * resolves to on one port (port 0: the kernel's pick for the first, the
 * set retried on a collision), 127.0.0.1 and ::1 for the default; IPv6
 * with IPV6_V6ONLY; TCP with SO_REUSEADDR, never SO_REUSEPORT. Unix: a
 * stale socket is replaced, anything else at the path is an error (file
 * untouched); MODE exact through the umask when MODE_SET, else 0600
 * narrowed by the umask. Sockets are close-on-exec and non-blocking; the
 * socket file is removed at exit (sig_cleanup). Exits 1 on failure. */
void listen_open(struct listener *l, const struct addr *a, mode_t mode,
    bool mode_set, int backlog, int verbose);
/* Writes each bound address, one line each, to FD, then closes it. */
int listen_ready(const struct listener *l, int fd);
/* Closes the sockets; removes the Unix socket file if the path still holds
 * the socket we bound (dev/ino). May be called again. */
void listen_close(struct listener *l);

/* ---- ucspi.c: the exec mode of a UCSPI server (ipc-sockserve) ---- */

/* Runs ARGV (PATH search) with FD on 0 and 1,
 * default signal dispositions, an empty mask, and our environment with
 * every UCSPI variable replaced by this connection's: PROTO=TCP with
 * TCPREMOTEIP/PORT (from PEER) and TCPLOCALIP/PORT, or, when CR is set,
 * PROTO=UNIX with UNIXREMOTEPID/EUID/EGID. Returns the pid, or -1 with
 * errno and *STATUS 127 (not found) or 126. */
pid_t ucspi_spawn(int fd, char *const argv[], const struct sockaddr *peer,
    socklen_t peerlen, const struct ucred *cr, int *status);

#endif
