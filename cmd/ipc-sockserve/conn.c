/* ipc-sockserve's print connections: their messages onto stdout, each
 * whole (the line-atomic merge, or the splice of -1's one client), and
 * their end. Broadcast is bcast.c. */
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
	/* Its buffers go back to --max-held now, not at the burial: a client
	 * read later in this batch may need what this one held (else both of
	 * two clients that the budget holds one at a time are dropped). */
	frame_reader_free(&c->fr);
	buf_release(&srv->held, &c->out, &c->out_cap);
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
