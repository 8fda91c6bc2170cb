/* ipc-sockserve's connections in print and broadcast modes: reading
 * them into the line-atomic merge (or splicing the one client of -1),
 * writing stdin to every client, closing them. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"
#include "sockserve.h"

/* ---- output ---- */

noreturn void
out_failed(void)
{
	cli_write_failed("stdout");
}

/* One message framed for stdout, with PRE before it (--peer), in one
 * writev. A datagram printed as a line that ends in a newline already
 * gets no second one. */
void
emit(struct server *srv, const char *pre, size_t pl, const char *msg,
    size_t len, bool udpmsg)
{
	char hdr[16];
	const char *tr;
	size_t tl, hl = frame_header(srv->opt.kind, pl + len, hdr, &tr, &tl);

	if (udpmsg && srv->opt.kind == FRAME_LINE && len > 0
	    && msg[len - 1] == '\n')
		tl = 0;
	struct iovec iov[4] = {
		{ hdr, hl }, { (void *)pre, pl }, { (void *)msg, len },
		{ (void *)tr, tl },
	};
	out_writev(srv, iov, 4);
}

/* NULL if MSG can be printed as one record of the output framing, else
 * why not (see frame_unfit; UDPMSG: as emit). */
const char *
emit_unfit(struct server *srv, const char *msg, size_t len, bool udpmsg)
{
	return frame_unfit(srv->opt.kind, msg, len, udpmsg
	    && srv->opt.kind == FRAME_LINE);
}

/* A message from WHO that emit_unfit refused is dropped with a note, given
 * without -v too since it is data not delivered; its connection (or
 * datagram) counts as failed: -1 and -n exit 1. */
void
emit_refuse(struct server *srv, const char *who, const char *why)
{
	warnx("%s: message dropped: %s", who, why);
	srv->print_status = EXIT_FAIL;
}

/* ---- connections (print and broadcast modes) ---- */

void
conn_free(struct server *srv, struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	close(c->it.fd);
	source_put(srv, &c->source);
	/* Later events of this epoll batch may still point at C. */
	c->dead = true;
	c->next = srv->graveyard;
	srv->graveyard = c;
	srv->active--;
}

void
conn_bury(struct server *srv)
{
	while (srv->graveyard != NULL) {
		struct conn *c = srv->graveyard;
		srv->graveyard = c->next;
		frame_reader_free(&c->fr);
		free(c->prefix);
		buf_release(&srv->held, &c->out, &c->out_cap);
		free(c);
	}
}

/* The peer as diagnostics name it: 127.0.0.1:40122, [::1]:40122, pid=PID. */
const char *
conn_name(struct server *srv, const struct conn *c, char *buf, size_t size)
{
	if (srv->unixsock)
		snprintf(buf, size, "pid=%d", (int)c->pid);
	else
		addr_format((const struct sockaddr *)&c->peer, c->peerlen,
		    ADDR_TCP, buf, size);
	return buf;
}

/* Prints the whole messages C has buffered. Returns -1 (errno set) on a
 * malformed message, 1 once the last one is out after the client's end,
 * 0 while more may come. */
static int
conn_msgs(struct server *srv, struct conn *c)
{
	char name[160], *msg;
	size_t len;
	int rc;

	while ((rc = frame_next(&c->fr, &msg, &len)) == 1) {
		const char *why = emit_unfit(srv, msg, len, false);
		if (why != NULL)
			emit_refuse(srv, conn_name(srv, c, name, sizeof name),
			    why);
		else
			emit(srv, c->prefix, c->prefix ? strlen(c->prefix) : 0,
			    msg,
			    len, false);
	}
	if (rc == -1)
		return -1;
	return c->fr.eof && frame_pending(&c->fr) == 0;
}

/* The client is done, or made done (an error, -i): its last
 * unterminated line or message goes out, a truncated frame is reported.
 * STATUS (1 failed, 124 idle) becomes the exit status of -1 and -n. */
void
conn_end(struct server *srv, struct conn *c, int status, const char *why)
{
	char name[160];

	if (srv->msgmode && !c->fr.eof) {
		c->fr.eof = true;
		if (conn_msgs(srv, c) == -1) {
			warnx("%s: %s, dropped", conn_name(srv, c, name,
			    sizeof name),
			    frame_strerror(&c->fr, errno));
			status = EXIT_FAIL;
		}
	}
	if (why != NULL && srv->opt.verbose)
		warnx("%s: %s", conn_name(srv, c, name, sizeof name), why);
	if (status == EXIT_FAIL || srv->print_status == EXIT_OK)
		srv->print_status = status;  /* a failure outweighs an idle close */
	if (!srv->msgmode && merge_end(&srv->mg, &c->src) == -1)
		out_failed();
	conn_free(srv, c);
}

static void
conn_msgs_end(struct server *srv, struct conn *c)
{
	char name[160];
	int rc = conn_msgs(srv, c);

	if (rc == -1) {
		warnx("%s: %s", conn_name(srv, c, name, sizeof name),
		    frame_strerror(&c->fr, errno));
		c->fr.eof = true;
		conn_end(srv, c, EXIT_FAIL, NULL);
	} else if (rc == 1)
		conn_end(srv, c, EXIT_OK, NULL);
}

/* Message mode (--len32, -0, --netstring): whole messages only. */
static void
conn_read_msgs(struct server *srv, struct conn *c, int64_t now)
{
	/* Read into rbuf: a client whose messages come whole holds nothing. */
	ssize_t n = frame_fill_shared(&c->fr, srv->rbuf, sizeof srv->rbuf);

	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == -1 && errno == ENOBUFS) {
		conn_drop(srv, c);
		return;
	}
	if (n == -1) {
		conn_end(srv, c, EXIT_FAIL, strerror(errno));
		return;
	}
	if (n > 0)
		c->last = now;
	conn_msgs_end(srv, c);
	/* What it has not finished moves out of rbuf, into its own buffer. */
	if (!c->dead && frame_keep(&c->fr) == -1)
		conn_drop(srv, c);
}

static bool
conn_read_raw(struct server *srv, struct conn *c, int64_t now)
{
	for (int i = 0; i < 16; i++) {
		ssize_t n = splice(c->it.fd, NULL, srv->rawpipe[1], NULL,
		    RAW_CHUNK,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n == 0) {
			conn_end(srv, c, EXIT_OK, NULL);
			return true;
		}
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return true;
			if (errno == EINVAL)
				return false;   /* no splice: read(2) instead */
			conn_end(srv, c, EXIT_FAIL, strerror(errno));
			return true;
		}
		c->last = now;
		raw_out(srv, (size_t)n);
		if (srv->rawheld > 0)
			return true;   /* stdout is blocked: paused (out.c) */
	}
	return true;
}

void
conn_read(struct server *srv, struct conn *c, int64_t now)
{
	/* While stdout is blocked nothing more is taken (a client just
	 * accepted included): epoll reports it again, and it is paused. */
	if (c->rd_eof || out_blocked(srv))
		return;
	if (srv->msgmode) {
		conn_read_msgs(srv, c, now);
		return;
	}
	if (srv->rawmode && srv->rawpipe[0] != -1 && conn_read_raw(srv, c, now))
		return;
	for (int i = 0; i < 16; i++) {
		ssize_t n = read(c->it.fd, srv->rbuf, sizeof srv->rbuf);
		if (n > 0) {
			c->last = now;
			if (merge_feed(&srv->mg, &c->src, srv->rbuf,
			    (size_t)n) == -1) {
				if (errno != ENOBUFS)
					out_failed();
				conn_drop(srv, c);
				return;
			}
			if (out_blocked(srv))
				return;    /* taken no further: paused (out.c) */
			if ((size_t)n < sizeof srv->rbuf / 2 && i > 0)
				return;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (srv->opt.broadcast && n == 0 && !c->wr_shut) {
			/* Still receiving the broadcast until it closes. */
			c->rd_eof = true;
			if (merge_end(&srv->mg, &c->src) == -1)
				out_failed();
			conn_watch(srv, c);
			return;
		}
		if (n == 0)
			conn_end(srv, c, EXIT_OK, NULL);
		else
			conn_end(srv, c, EXIT_FAIL, strerror(errno));
		return;
	}
}

/* ---- broadcast ---- */

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

