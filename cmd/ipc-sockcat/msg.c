/* ipc-sockcat's message modes: --len32 frames over a byte stream and UDP
 * datagrams, each one message, read from and printed to stdin and stdout
 * in the framing of -0/--netstring (lines by default). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <err.h>

#include "sockcat.h"

/* Polls P[3] until something is ready, dying of a terminating signal.
 * Returns false, without waiting, once BOUND (ns, 0: none) has passed
 * since LAST. */
static bool
msg_poll(struct pollfd *p, int64_t last, int64_t bound)
{
	int tmo = -1;

	if (bound >= 0) {
		int64_t left = last + bound - num_now();
		if (left <= 0)
			return false;
		tmo = num_poll_ms(left);
	}
	if (poll(p, 3, tmo) == -1 && errno != EINTR)
		err(EXIT_FAIL, "poll");
	if (sig_drain() != 0)
		sig_check();
	return true;
}

/* Prints one received message framed for stdout (-s: drops it). A line
 * that already ends in a newline gets no second one (UDP). A message
 * that holds the delimiter inside would print as two (frame_unfit): it
 * is dropped with a note. */
static void
print_msg(struct sockcat *sc, const char *msg, size_t len)
{
	enum frame_kind k = sc->frame;
	const char *why;

	if (sc->sendonly)
		return;
	why = frame_unfit(k, msg, len, k == FRAME_LINE && !sc->len32);
	if (why != NULL) {
		warnx("%s: message dropped: %s", sc->address, why);
		sc->refused++;
		return;
	}
	if (k == FRAME_LINE && len > 0 && msg[len - 1] == '\n' && !sc->len32) {
		if (io_write_all(1, msg, len) == -1)
			fail_stdout(errno);
		return;
	}
	if (frame_write(1, k, msg, len) == -1)
		fail_stdout(errno);
}

static noreturn void
fail_frame(const char *where, const struct frame_reader *r, int e)
{
	errx(EXIT_FAIL, "%s: %s%s", where, frame_strerror(r, e),
	    e == EMSGSIZE ? " (--max-message raises it)" : "");
}

/* A send buffer for --len32: frames wait here until the socket takes them,
 * so a peer that sends before it reads never deadlocks us. */
struct sendbuf {
	char *buf;
	size_t off, len, cap;
};

static void
sb_add(struct sendbuf *sb, const void *data, size_t len)
{
	if (sb->off > 0 && sb->off == sb->len)
		sb->off = sb->len = 0;
	/* What was sent goes before the buffer grows. */
	if (sb->len + len > sb->cap)
		buf_drop(sb->buf, &sb->off, &sb->len);
	buf_append(&sb->buf, &sb->len, &sb->cap, data, len, 64 * 1024);
}

static void
sb_frame(struct sendbuf *sb, const char *msg, size_t len)
{
	char hdr[16];
	const char *tr;
	size_t tl, hl = frame_header(FRAME_LEN32, len, hdr, &tr, &tl);

	sb_add(sb, hdr, hl);
	sb_add(sb, msg, len);
}

static void
sb_send(struct sockcat *sc, struct sendbuf *sb, int fd)
{
	while (sb->off < sb->len) {
		ssize_t n = send(fd, sb->buf + sb->off, sb->len - sb->off,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n == -1)
			fail_counts(sc, errno, errno == EPIPE ? "the peer closed "
			    "before all of stdin was sent" : NULL);
		sb->off += (size_t)n;
		sc->sent += (uint64_t)n;
	}
}

static void udp_send(struct sockcat *sc, int fd, const char *msg,
    size_t len);

/* Reads stdin's messages (once readable): each goes as a frame into SB,
 * or, without SB, as one datagram on UDP_FD. Returns true at EOF. */
static bool
stdin_pull(struct sockcat *sc, struct frame_reader *in, struct sendbuf *sb,
    int udp_fd)
{
	char *msg;
	size_t len;
	int rc;

	if (frame_fill(in) == -1 && errno != EAGAIN)
		err(EXIT_FAIL, "stdin");
	while ((rc = frame_next(in, &msg, &len)) == 1) {
		if (sb != NULL)
			sb_frame(sb, msg, len);
		else
			udp_send(sc, udp_fd, msg, len);
	}
	if (rc == -1)
		fail_frame("stdin", in, errno);
	return in->eof;
}

/* Python's multiprocessing Listener with an authkey opens with a frame
 * "#CHALLENGE#..." and waits for an HMAC of it: printing that frame as a
 * reply and exiting 0 would hide that the peer refused to talk. */
static void
len32_check_challenge(const struct sockcat *sc, const char *msg, size_t len)
{
	static const char chal[] = "#CHALLENGE#";

	if (len >= sizeof(chal) - 1 && memcmp(msg, chal, sizeof(chal) - 1) == 0)
		errx(EXIT_FAIL, "%s: the peer wants an authkey (it sent a "
		    "multiprocessing.connection challenge)", sc->address);
}

/* Reads the socket's frames and prints them. Returns true at its EOF. */
static bool
len32_push(struct sockcat *sc, struct frame_reader *sr)
{
	char *msg;
	size_t len;
	ssize_t n = frame_fill(sr);
	int rc;

	if (n == -1 && errno != EAGAIN)
		fail_counts(sc, errno, NULL);
	if (n > 0)
		sc->recv += (uint64_t)n;
	while ((rc = frame_next(sr, &msg, &len)) == 1) {
		if (!sc->replied)
			len32_check_challenge(sc, msg, len);
		sc->replied = true;
		print_msg(sc, msg, len);
	}
	if (rc == -1) {
		char why[160];
		int e = errno;
		snprintf(why, sizeof why, "%s%s", frame_strerror(sr, e),
		    e == EMSGSIZE ? " (--max-message raises it)" : "");
		fail_counts(sc, 0, why);
	}
	return sr->eof;
}

int
len32_run(struct sockcat *sc, int fd)
{
	struct frame_reader in, sr;
	struct sendbuf sb = { 0 };
	bool in_eof = sc->nostdin, shut = false;
	int64_t last = num_now();

	frame_reader_init(&in, 0, sc->frame, sc->max_msg);
	frame_reader_init(&sr, fd, FRAME_LEN32, sc->max_msg);
	if (sc->message) {
		sb_frame(&sb, sc->message, strlen(sc->message));
		in_eof = true;
	}
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = sig_fd(), .events = POLLIN },
			{ .fd = fd, .events = POLLIN },
			{ .fd = -1, .events = POLLIN },
		};
		if (sb.off < sb.len)
			p[1].events |= POLLOUT;
		if (!in_eof && sb.len - sb.off < SEND_BACKLOG)
			p[2].fd = 0;
		if (in_eof && sb.off == sb.len && !shut) {
			shut = true;
			if (!sc->noshut && shutdown(fd, SHUT_WR) == -1)
				fail_counts(sc, errno, NULL);
		}
		if (!msg_poll(p, last, sc->idle))
			errx(sc->refused ? EXIT_FAIL : EXIT_TIMEOUT, "%s: no data "
			    "moved for the idle time", sc->address);
		uint64_t before = sc->sent + sc->recv;
		if (p[2].revents)
			in_eof = stdin_pull(sc, &in, &sb, -1);
		if (p[1].revents & (POLLOUT | POLLERR))
			sb_send(sc, &sb, fd);
		if ((p[1].revents & ~POLLOUT) && len32_push(sc, &sr)) {
			if (sb.off < sb.len)
				fail_counts(sc, 0, "the peer closed before all of "
				    "stdin was sent");
			break;
		}
		if (sc->sent + sc->recv != before || p[2].revents)
			last = num_now();
		progress(sc, sc->sent, sc->recv, false);
	}
	progress(sc, sc->sent, sc->recv, true);
	frame_reader_free(&in);
	frame_reader_free(&sr);
	free(sb.buf);
	return sc->refused ? EXIT_FAIL : EXIT_OK;
}

/* One datagram out; a message over the size limit is an error. */
static void
udp_send(struct sockcat *sc, int fd, const char *msg, size_t len)
{
	while (send(fd, msg, len, 0) == -1) {
		if (errno == EINTR) {
			sig_check();
			continue;
		}
		if (errno == EMSGSIZE)
			errx(EXIT_FAIL, "%s: a message of %zu bytes is over the "
			    "UDP size limit (65507 bytes over IPv4, 65527 over "
			    "IPv6)", sc->address, len);
		if (errno == EAGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			(void)poll(&p, 1, 100);
			continue;
		}
		fail_counts(sc, errno, NULL);
	}
	sc->sent += len;
}

static void
udp_recv(struct sockcat *sc, int fd, char *buf)
{
	for (;;) {
		ssize_t n = recv(fd, buf, UDP_MAX, MSG_TRUNC);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n == -1)
			fail_counts(sc, errno, NULL);
		if (n > UDP_MAX) {
			warnx("%s: a datagram of %zd bytes was truncated to %d",
			    sc->address, n, UDP_MAX);
			n = UDP_MAX;
		}
		sc->recv += (uint64_t)n;
		print_msg(sc, buf, (size_t)n);
	}
}

/* A UDP peer never closes: after stdin, replies are printed until -i of
 * silence (default 1s); -s ends at once. */
int
udp_run(struct sockcat *sc, int fd)
{
	struct frame_reader in;
	char *buf = malloc(UDP_MAX);
	bool in_eof = sc->nostdin;
	int64_t after = sc->idle >= 0 ? sc->idle : 1000000000LL;
	int64_t last = num_now();

	if (buf == NULL)
		err(EXIT_FAIL, "malloc");
	frame_reader_init(&in, 0, sc->frame, 0);
	if (sc->message) {
		udp_send(sc, fd, sc->message, strlen(sc->message));
		in_eof = true;
	}
	while (!(in_eof && sc->sendonly)) {
		struct pollfd p[3] = {
			{ .fd = sig_fd(), .events = POLLIN },
			{ .fd = fd, .events = POLLIN },
			{ .fd = in_eof ? -1 : 0, .events = POLLIN },
		};
		if (!msg_poll(p, last, in_eof ? after : sc->idle)) {
			if (in_eof)
				break;
			errx(sc->refused ? EXIT_FAIL : EXIT_TIMEOUT, "%s: no data "
			    "moved for the idle time", sc->address);
		}
		if (p[1].revents) {
			udp_recv(sc, fd, buf);
			last = num_now();
		}
		if (p[2].revents) {
			in_eof = stdin_pull(sc, &in, NULL, fd);
			last = num_now();
		}
		progress(sc, sc->sent, sc->recv, false);
	}
	progress(sc, sc->sent, sc->recv, true);
	frame_reader_free(&in);
	free(buf);
	return sc->refused ? EXIT_FAIL : EXIT_OK;
}

