/* ipc-sockserve's listening and accepting: the listeners polled only while
 * a connection can be taken, the peer check of Unix sockets, the limit per
 * source (--max-per-source), a new connection added to the loop or handed
 * to COMMAND (exec.c). UDP datagrams are udp.c. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"
#include "sockserve.h"

static bool
peer_allowed(struct server *srv, int fd, struct ucred *cr)
{
	socklen_t l = sizeof *cr;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cr, &l) == -1)
		return false;
	if (srv->opt.allow_any || cr->uid == geteuid() || cr->uid == 0)
		return true;
	for (int i = 0; i < srv->opt.nallow; i++)
		if (cr->uid == srv->opt.allow[i])
			return true;
	if (srv->opt.verbose)
		warnx("refused a peer of uid %u (pid %d): --allow-uid admits it",
		    (unsigned)cr->uid, (int)cr->pid);
	return false;
}

/* ---- connections per source ---- */


/* The source of a connection: its address without the port (an IPv4
 * address mapped into IPv6 counts as the IPv4 one), or a Unix peer's uid. */
static void
source_key(struct server *srv, const struct sockaddr_storage *ss,
    const struct ucred *cr,
    struct kc_key *k)
{
	unsigned char b[1 + 16];
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

	if (srv->unixsock) {
		b[0] = 'u';
		memcpy(b + 1, &cr->uid, sizeof cr->uid);
		kc_key(k, b, 1 + sizeof cr->uid);
	} else if (ss->ss_family == AF_INET) {
		b[0] = 4;
		memcpy(b + 1, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		kc_key(k, b, 1 + 4);
	} else if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		b[0] = 4;
		memcpy(b + 1, s6->sin6_addr.s6_addr + 12, 4);
		kc_key(k, b, 1 + 4);
	} else {
		b[0] = 6;
		memcpy(b + 1, &s6->sin6_addr, 16);
		kc_key(k, b, 1 + 16);
	}
}

/* Counts a new connection against its source's --max-per-source; false
 * (with a -v note) when that source has as many open already. */
static bool
source_take(struct server *srv, const struct sockaddr_storage *ss, socklen_t sl,
    const struct ucred *cr, struct kc_key *k)
{
	char name[160];

	if (srv->opt.max_per_source == 0)
		return true;
	source_key(srv, ss, cr, k);
	if (kc_take(&srv->sources, k, (uint32_t)srv->opt.max_per_source))
		return true;
	if (srv->opt.verbose) {
		if (srv->unixsock)
			snprintf(name, sizeof name, "uid %u (pid %d)",
			    (unsigned)cr->uid, (int)cr->pid);
		else
			addr_format((const struct sockaddr *)ss, sl, ADDR_TCP,
			    name, sizeof name);
		warnx("%s: closed: %lld connections from its %s already "
		    "(--max-per-source)", name, srv->opt.max_per_source,
		    srv->unixsock ? "uid" : "address");
	}
	return false;
}

void
source_put(struct server *srv, const struct kc_key *k)
{
	if (srv->opt.max_per_source != 0)
		kc_put(&srv->sources, k);
}

/* ---- accepting ---- */

static void
conn_add(struct server *srv, int fd, const struct sockaddr_storage *ss,
    socklen_t sl,
    const struct ucred *cr, const struct kc_key *source, int64_t now)
{
	struct conn *c = calloc(1, sizeof *c);

	if (c == NULL)
		err(EXIT_FAIL, "malloc");
	c->it.kind = IT_CONN;
	c->it.fd = fd;
	c->last = now;
	c->source = *source;
	memcpy(&c->peer, ss, sl);
	c->peerlen = sl;
	c->pid = srv->unixsock ? cr->pid : 0;
	if (srv->opt.peer) {
		char name[160];
		if (asprintf(&c->prefix, "%s\t",
		    conn_name(srv, c, name, sizeof name)) == -1)
			err(EXIT_FAIL, "malloc");
	}
	merge_src_init(&c->src, c->prefix);
	if (srv->msgmode)
		frame_reader_init(&c->fr, fd, srv->opt.len32 ? FRAME_LEN32
		    : srv->opt.kind,
		    srv->opt.max_msg);
	held_attach(srv, c);
	c->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = c;
	srv->conns = c;
	if (srv->opt.broadcast && srv->in_eof)
		bcast_shut(srv, c);
	/* A short-lived client has often sent everything already: read it
	 * now and skip the trips through epoll for it. */
	if (!c->dead && !srv->opt.broadcast)
		conn_read(srv, c, now);
	if (!c->dead)
		ep_ctl(srv, EPOLL_CTL_ADD, &c->it, EPOLLIN);
}

static void
accept_failed(struct server *srv, int64_t now)
{
	if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
	    errno == ENOMEM) {
		/* The connection stays in the backlog and the listener stays
		 * readable: stop polling it for a while instead of spinning. */
		if (now - srv->last_emfile_warn > 10000000000LL) {
			warn("accept (pausing)");
			srv->last_emfile_warn = now;
		}
		srv->resume_at = now + EMFILE_PAUSE_NS;
	} else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED &&
	    errno != EPROTO && errno != EPERM && srv->opt.verbose)
		warn("accept");
}

void
on_accept(struct server *srv, struct item *it, int64_t now)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		struct ucred cr = { 0 };
		struct kc_key source = { 0 };
		int fd;

		if (limit_reached(srv) || srv->active >= srv->opt.max_conns
		    || now < srv->resume_at)
			return;
		fd = accept4(it->fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC |
		    (srv->opt.cmd ? 0 : SOCK_NONBLOCK));
		if (fd == -1) {
			accept_failed(srv, now);
			return;
		}
		/* Refused peers do not count toward -1/-n. */
		if ((srv->unixsock && !peer_allowed(srv, fd, &cr)) ||
		    !source_take(srv, &ss, sl, &cr, &source)) {
			close(fd);
			continue;
		}
		srv->accepted++;
		srv->active++;
		if (srv->opt.cmd != NULL)
			spawn_conn(srv, fd, &ss, sl, &cr, &source);
		else
			conn_add(srv, fd, &ss, sl, &cr, &source, now);
	}
}

/* Stop listening for good: the Unix socket is removed at once. */
void
listen_stop(struct server *srv)
{
	if (srv->lis.n == 0)
		return;
	listen_close(&srv->lis);   /* closing removes them from epoll */
	srv->listening = false;
}

/* Poll the listeners only while a connection can be taken: under the
 * cap, not backing off after EMFILE, not finished, not terminating. */
void
listen_update(struct server *srv, int64_t now)
{
	bool want;

	if (srv->lis.n == 0)
		return;
	if (limit_reached(srv) || srv->term_sig) {
		listen_stop(srv);
		return;
	}
	want = srv->active < srv->opt.max_conns && now >= srv->resume_at;
	if (srv->udp && out_blocked(srv))
		want = false;   /* datagrams wait in the kernel meanwhile */
	if (want == srv->listening)
		return;
	for (int i = 0; i < srv->lis.n; i++)
		ep_ctl(srv, want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL,
		    &srv->litem[i], EPOLLIN);
	srv->listening = want;
}
