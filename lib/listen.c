/* The listening side of a server: every address of a host on one port,
 * Unix sockets that replace only a stale socket and are removed on exit
 * only while the path still holds them, and the --ready-fd lines. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"

/* The listener removed at exit (normal or by a signal). */
static struct listener *listen_registered;

static void
listen_cleanup(void)
{
	if (listen_registered != NULL)
		listen_close(listen_registered);
}

/* Candidate addresses: what the host resolves to, or both loopbacks for
 * the default (resolving "localhost" finds ::1 only where /etc/hosts
 * lists it). Duplicates are dropped. */
struct cand {
	struct sockaddr_storage sa;
	socklen_t len;
};

static int
listen_cands(const struct addr *a, struct cand *c, int max)
{
	int n = 0;

	if (a->host[0] == '\0' && !a->any) {
		long long port;
		if (num_parse_ok(a->port, 0, 65535, &port) == -1)
			errx(EXIT_USAGE, "invalid port '%s'", a->port);
		if (a->family != AF_INET6) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&c[n].sa;
			memset(&c[n], 0, sizeof c[n]);
			s4->sin_family = AF_INET;
			s4->sin_port = htons((uint16_t)port);
			s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			c[n++].len = sizeof *s4;
		}
		if (a->family != AF_INET) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&c[n].sa;
			memset(&c[n], 0, sizeof c[n]);
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((uint16_t)port);
			s6->sin6_addr = in6addr_loopback;
			c[n++].len = sizeof *s6;
		}
		return n;
	}
	struct addrinfo *res = addr_resolve(a, true);
	for (struct addrinfo *ai = res; ai != NULL && n < max; ai = ai->ai_next) {
		bool dup = false;
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		for (int i = 0; i < n && !dup; i++)
			dup = c[i].len == ai->ai_addrlen &&
			    memcmp(&c[i].sa, ai->ai_addr, ai->ai_addrlen) == 0;
		if (dup)
			continue;
		memset(&c[n], 0, sizeof c[n]);
		memcpy(&c[n].sa, ai->ai_addr, ai->ai_addrlen);
		c[n++].len = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	return n;
}

static void
listen_setport(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static uint16_t
listen_getport(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static void
listen_closeall(struct listener *l)
{
	for (int i = 0; i < l->n; i++)
		close(l->fd[i]);
	l->n = 0;
}

/* One inet socket bound to C. Returns the fd, -1 with errno. */
static int
listen_inet_one(const struct cand *c, int type, int backlog)
{
	int fd, one = 1;

	fd = socket(c->sa.ss_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	/* SO_REUSEADDR lets a restarted server bind past TIME_WAIT; never
	 * SO_REUSEPORT, which would let a second server share the port.
	 * UDP gets neither: on Linux SO_REUSEADDR lets two UDP servers
	 * bind one port. */
	if ((type == SOCK_STREAM && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR,
	    &one, sizeof one) == -1) ||
	    (c->sa.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof one) == -1) ||
	    bind(fd, (const struct sockaddr *)&c->sa, c->len) == -1 ||
	    (type == SOCK_STREAM && listen(fd, backlog) == -1)) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static bool
listen_family_missing(int e)
{
	return e == EAFNOSUPPORT || e == EADDRNOTAVAIL || e == EPROTONOSUPPORT;
}

static void
listen_inet(struct listener *l, const struct addr *a, int backlog,
    int verbose)
{
	struct cand c[LISTEN_MAX];
	int nc = listen_cands(a, c, LISTEN_MAX);
	int type = a->proto == ADDR_UDP ? SOCK_DGRAM : SOCK_STREAM;
	bool pick = strcmp(a->port, "0") == 0;
	char name[128];
	int skipped = 0;    /* why the last address was skipped */

	for (int attempt = 0; attempt < 32; attempt++) {
		uint16_t port = 0;
		bool collided = false;
		for (int i = 0; i < nc; i++) {
			if (pick)
				listen_setport(&c[i].sa, port);
			addr_format((struct sockaddr *)&c[i].sa, c[i].len,
			    a->proto, name, sizeof name);
			int fd = listen_inet_one(&c[i], type, backlog);
			if (fd == -1 && listen_family_missing(errno)) {
				skipped = errno;
				if (verbose)
					warn("skipping %s", name);
				continue;
			}
			if (fd == -1 && errno == EADDRINUSE && pick && port) {
				collided = true;
				break;
			}
			if (fd == -1)
				err(EXIT_FAIL, "%s", name);
			l->fd[l->n] = fd;
			l->salen[l->n] = sizeof l->sa[l->n];
			if (getsockname(fd, (struct sockaddr *)&l->sa[l->n],
			    &l->salen[l->n]) == -1)
				err(EXIT_FAIL, "getsockname");
			if (port == 0)
				port = listen_getport(&l->sa[l->n]);
			l->n++;
		}
		if (!collided)
			break;
		/* The port the kernel gave the first address is taken on
		 * another: start the whole set again. */
		listen_closeall(l);
	}
	if (l->n == 0)
		errc(EXIT_FAIL, skipped, "%s: no address could be bound",
		    a->host[0] ? a->host : "localhost");
}

/* Another user's socket is theirs to remove, even where we could (as
 * root): it is never probed nor replaced. Ours and root's only. */
static void
listen_check_owner(const char *path, const struct stat *st)
{
	struct passwd *pw;

	if (st->st_uid == geteuid() || st->st_uid == 0)
		return;
	if ((pw = getpwuid(st->st_uid)) != NULL)
		errx(EXIT_FAIL, "%s: a socket of user %s (uid %u), not ours "
		    "(left untouched)", path, pw->pw_name, (unsigned)st->st_uid);
	errx(EXIT_FAIL, "%s: a socket of uid %u, not ours (left untouched)",
	    path, (unsigned)st->st_uid);
}

/* A socket file at the path: replaced only if stale (no listener on it,
 * and a probe connect is refused); a live socket, a datagram socket,
 * another user's socket and any other kind of file are errors, and the
 * file is left untouched. The kernel is asked first, so that a live
 * server does not get our probe as a client. */
static void
listen_unix_clear(const struct addr *a, const struct sockaddr_un *sun,
    socklen_t len, int verbose)
{
	struct stat st;
	int p, e;

	if (lstat(a->path, &st) == -1) {
		if (errno == ENOENT)
			return;
		err(EXIT_FAIL, "%s", a->path);
	}
	if (!S_ISSOCK(st.st_mode))
		errx(EXIT_FAIL, "%s: exists and is not a socket (left untouched)",
		    a->path);
	if (udiag_listening(&st) == 1)
		errx(EXIT_FAIL, "%s: a server is listening on it", a->path);
	listen_check_owner(a->path, &st);
	p = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (p == -1)
		err(EXIT_FAIL, "socket");
	e = connect(p, (const struct sockaddr *)sun, len) == 0 ? 0 : errno;
	close(p);
	switch (e) {
	case ECONNREFUSED:
		break;
	case 0: case EAGAIN: case EINPROGRESS:
		errx(EXIT_FAIL, "%s: a server is listening on it", a->path);
	case EPROTOTYPE:
		errx(EXIT_FAIL, "%s: is a datagram socket (left untouched)",
		    a->path);
	default:
		errno = e;
		err(EXIT_FAIL, "%s: exists and cannot be probed (left untouched)",
		    a->path);
	}
	/* Stale. Remove it only if it is still the file we probed. */
	if (obj_unlink_same(a->path, st.st_dev, st.st_ino) == -1 &&
	    errno != ENOENT)
		err(EXIT_FAIL, "%s: removing stale socket", a->path);
	if (verbose)
		warnx("%s: replaced a stale socket", a->path);
}

static void
listen_unix(struct listener *l, const struct addr *a, mode_t mode,
    bool mode_set, int backlog, int verbose)
{
	struct sockaddr_un sun;
	socklen_t len = addr_sun(a, &sun);
	char name[128];
	mode_t old;
	int fd, rc, e;

	snprintf(name, sizeof name, "unix:%s%s", a->abstract ? "@" : "",
	    a->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		err(EXIT_FAIL, "socket");
	if (!a->abstract)
		listen_unix_clear(a, &sun, len, verbose);
	/* The mode comes from the umask at bind: an explicit --mode is
	 * exact, the default 0600 can only be narrowed by the user's. */
	old = umask(0);
	umask(mode_set ? (~mode & 0777) : (old | 0177));
	rc = bind(fd, (struct sockaddr *)&sun, len);
	e = errno;
	umask(old);
	if (rc == -1) {
		errno = e;
		err(EXIT_FAIL, "%s", name);
	}
	if (!a->abstract) {
		struct stat st;
		if (stat(a->path, &st) == -1)
			err(EXIT_FAIL, "%s", a->path);
		memcpy(l->path, a->path, a->pathlen + 1);
		l->dev = st.st_dev;
		l->ino = st.st_ino;
		l->own_path = true;
	}
	if (listen(fd, backlog) == -1)
		err(EXIT_FAIL, "%s: listen", name);
	l->fd[0] = fd;
	memcpy(&l->sa[0], &sun, len);
	l->salen[0] = len;
	l->n = 1;
}

void
listen_open(struct listener *l, const struct addr *a, mode_t mode,
    bool mode_set, int backlog, int verbose)
{
	memset(l, 0, sizeof *l);
	l->proto = a->proto;
	listen_registered = l;
	sig_cleanup(listen_cleanup);
	if (a->proto == ADDR_UNIX)
		listen_unix(l, a, mode, mode_set, backlog, verbose);
	else
		listen_inet(l, a, backlog, verbose);
}

int
listen_ready(const struct listener *l, int fd)
{
	char line[256];
	int rc = 0;

	for (int i = 0; i < l->n && rc == 0; i++) {
		addr_format((const struct sockaddr *)&l->sa[i], l->salen[i],
		    l->proto, line, sizeof line - 1);
		size_t n = strlen(line);
		line[n++] = '\n';
		if (io_write_all(fd, line, n) == -1)
			rc = -1;
	}
	if (close(fd) == -1 && rc == 0 && errno != EINTR)
		rc = -1;
	return rc;
}

void
listen_close(struct listener *l)
{
	listen_closeall(l);
	if (!l->own_path)
		return;
	l->own_path = false;
	/* Another server may have replaced our socket: remove only ours. */
	(void)obj_unlink_same(l->path, l->dev, l->ino);
}
