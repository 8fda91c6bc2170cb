/* ipc-sockserve --broadcast: each message of stdin queued for every
 * client, a client too far behind dropped, stdin read only while every
 * client can take more. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"
#include "sockserve.h"

void
bcast_shut(struct server *srv, struct conn *c)
{
	if (!c->wr_shut && shutdown(c->it.fd, SHUT_WR) == -1
	    && srv->opt.verbose)
		warn("shutdown");
	c->wr_shut = true;
	if (c->rd_eof)
		conn_free(srv, c);
}

/* Sends C's backlog; returns false when C was closed. */
bool
bcast_flush(struct server *srv, struct conn *c, int64_t now)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->it.fd, c->out + c->out_off,
		    c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			c->out_off += (size_t)n;
			c->last = now;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (c->rd_eof) {
			conn_free(srv, c);
		} else {
			/* It will not read: print what it still sends. */
			c->out_len = c->out_off = 0;
			c->wr_shut = true;
			buf_release(&srv->held, &c->out, &c->out_cap);
		}
		return false;
	}
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
		buf_release(&srv->held, &c->out, &c->out_cap);  /* caught up */
	}
	bool want = c->out_len > 0;
	if (want != c->want_out) {
		c->want_out = want;
		conn_watch(srv, c);
	}
	if (!want && srv->in_eof && !c->wr_shut) {
		bcast_shut(srv, c);
		return false;
	}
	return true;
}

static void
bcast_queue(struct conn *c, const void *p, size_t len)
{
	if (len == 0)
		return;
	/* What was sent goes before the backlog grows. */
	if (c->out_len + len > c->out_cap)
		buf_drop(c->out, &c->out_off, &c->out_len);
	buf_append(&c->out, &c->out_len, &c->out_cap, p, len, 4096);
}

/* One message from stdin to every client; a client whose backlog is over
 * BCAST_MAX is dropped so that one slow reader never stalls the rest. */
static void
bcast_msg(struct server *srv, const char *msg, size_t len, int64_t now)
{
	enum frame_kind k = srv->opt.len32 ? FRAME_LEN32 : srv->opt.kind;
	char hdr[16];
	const char *tr;
	size_t tl, hl = frame_header(k, len, hdr, &tr, &tl);
	struct conn *c, *next;

	for (c = srv->conns; c != NULL; c = next) {
		next = c->next;
		if (c->wr_shut)
			continue;
		if (!bcast_room(srv, c, hl + len + tl)) {
			conn_drop(srv, c);
			continue;
		}
		bcast_queue(c, hdr, hl);
		bcast_queue(c, msg, len);
		bcast_queue(c, tr, tl);
		if (c->out_len - c->out_off > BCAST_MAX) {
			conn_end(srv, c, EXIT_FAIL,
			    "dropped: more than 1 MiB behind");
			continue;
		}
		(void)bcast_flush(srv, c, now);
	}
}

/* Read stdin only while the fastest client is nearly caught up. */
void
bcast_update(struct server *srv)
{
	bool want = !srv->in_eof;

	if (want && srv->conns != NULL) {
		want = false;
		for (struct conn *c = srv->conns; c != NULL
		    && !want; c = c->next)
			want = !c->wr_shut
			    && c->out_len - c->out_off < BCAST_LOW;
	}
	srv->in_want = want;
	if (srv->in_always || want == srv->in_on)
		return;
	ep_ctl(srv, want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, &srv->initem,
	    EPOLLIN);
	srv->in_on = want;
}

void
bcast_read(struct server *srv, int64_t now)
{
	char *msg;
	size_t len;
	int rc;
	ssize_t n = frame_fill(&srv->inr);

	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == -1)
		err(EXIT_FAIL, "stdin");
	while ((rc = frame_next(&srv->inr, &msg, &len)) == 1)
		if (srv->conns != NULL)
			bcast_msg(srv, msg, len, now);
	if (rc == -1)
		errx(EXIT_FAIL, "stdin: %s", frame_strerror(&srv->inr, errno));
	if (srv->inr.eof) {
		struct conn *c, *next;
		srv->in_eof = true;
		if (srv->in_on && !srv->in_always)
			ep_ctl(srv, EPOLL_CTL_DEL, &srv->initem, 0);
		srv->in_on = srv->in_always = false;
		for (c = srv->conns; c != NULL; c = next) {
			next = c->next;
			if (c->out_len == c->out_off)
				bcast_shut(srv, c);
		}
	}
}

