/* libipc, sockets: addresses, connecting, listening, the relay,
 * counts per source, the kernel's socket diagnostics, UCSPI exec. Included by ipc.h, which every
 * part of ipc-utils includes; not on its own. */
#ifndef IPC_NET_H
#define IPC_NET_H

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
 * second direction ends), IDLE_NS (-1: none; 0: at once) without data, or a terminating
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
/* Parses an ADDRESS (ipc-sockcat(1)). Exits 2 with a message when malformed. */
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

/* ---- connect.c: the client side of an ADDRESS ---- */

/* Connects to A (a connected datagram socket for udp:): each resolved
 * address in order, TIMEOUT_NS (-1: none, 0: no waiting) bounding the
 * whole attempt (exit 124 when it runs out), WAIT_NS (0: none) retrying a
 * refused or missing server with a short backoff (exit 1 with the last
 * error when it runs out). Other failures exit 1 naming the address.
 * Returns the fd, close-on-exec and non-blocking. */
int conn_open(const struct addr *a, int64_t timeout_ns, int64_t wait_ns,
    int verbose);

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
