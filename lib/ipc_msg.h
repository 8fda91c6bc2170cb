/* libipc, messages and buffers: framing, the output queue, the merge,
 * buffers and memory budgets, listing output, object names and opening. Included by ipc.h, which every
 * part of ipc-utils includes; not on its own. */
#ifndef IPC_MSG_H
#define IPC_MSG_H

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

/* ---- json.c: listing output, JSON and text ---- */

/* A JSON value written to stdout as it is built, on one line (what jq
 * and grep take best), the same shape from every tool: ipc-mq info and
 * ls, ipc-shmcount ls. The outermost close ends the line. */
#define JSON_DEPTH 8
struct json {
	int depth;
	char open[JSON_DEPTH];
	int count[JSON_DEPTH];  /* values so far at each depth */
	bool after_key;
};
/* Opens an object ('{') or an array ('['), as a value of its own. */
void json_open(struct json *j, char bracket);
void json_close(struct json *j);
/* An object's KEY; the next call writes its value. */
void json_key(struct json *j, const char *key);
void json_int(struct json *j, long long v);
void json_str(struct json *j, const char *s);
void json_null(struct json *j);

/* Writes S to stdout as a JSON string: quoted, with '"', '\\' and control
 * characters escaped. */
void json_string(const char *s);
/* Writes S to stdout for text output, one entry a line, escaped as ls -b
 * does: a backslash doubled, tab as \t, newline \n, carriage return \r,
 * other control bytes as \ooo (octal), so no name can fake a field or a
 * row. */
void text_name(const char *s);

#endif
