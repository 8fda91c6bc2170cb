/* ipc-sockcat: connect to a socket and relay stdin to it and it to stdout,
 * at the same time; at end of stdin half-close and read on until the peer
 * closes, so no byte is lost in either direction. This file holds the
 * options, the messages and the byte stream (TCP, Unix);
 * cmd/ipc-sockcat/msg.c the message modes (--len32 frames, UDP). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"
#include "ipc-sockcat/sockcat.h"

enum {
	OPT_NOSHUT = CLI_LONG, OPT_NETSTRING, OPT_LEN32, OPT_MAX_MESSAGE,
};

static const struct cli_opt options[] = {
	{ 'm', "message", "TEXT", "send TEXT (and a newline; with --len32 one "
	    "frame) instead of stdin", NULL },
	{ 'd', "no-stdin", NULL, "send nothing, only receive", NULL },
	{ 's', "send-only", NULL, "print nothing; discard what arrives until "
	    "the peer closes", NULL },
	{ OPT_NOSHUT, "no-shutdown", NULL, "keep the sending side open at end "
	    "of stdin", NULL },
	{ 't', "timeout", "DUR", "give up connecting after DUR (exit 124)",
	    NULL },
	{ 'w', "wait", "DUR", "retry a refused or missing server for up to DUR",
	    NULL },
	{ 'i', "idle", "DUR", "give up when no data moved for DUR (exit 124)",
	    NULL },
	{ 'z', "probe", NULL, "only connect and close: exit 0 if accepted, 1 if "
	    "not", NULL },
	{ 'P', "progress", NULL, "show bytes and rate on stderr while data "
	    "moves", NULL },
	{ '0', "null", NULL, "messages on stdin/stdout end with NUL (UDP, "
	    "--len32)", NULL },
	{ OPT_NETSTRING, "netstring", NULL, "messages on stdin/stdout are "
	    "netstrings (UDP, --len32)", NULL },
	{ OPT_LEN32, "len32", NULL, "the socket carries 4-byte big-endian "
	    "length frames", NULL },
	{ OPT_MAX_MESSAGE, "max-message", "SIZE", "largest --len32 frame or "
	    "stdin message (64M)", NULL },
	CLI_OPT_VERBOSE("which addresses are tried and why they failed"),
	{ 0, NULL, NULL, NULL, NULL },
};

static const struct cli_verb operands[] = {
	{ NULL, "ADDRESS", NULL, 1, 1, false },
	{ NULL, NULL, NULL, -1, -1, false },
};

static const struct cli_tool tool = {
	.about = "Connect to ADDRESS and relay stdin to it and it to stdout at "
	    "once; at end of stdin shut down the sending side and read until "
	    "the peer closes.",
	.verbs = operands,
	.opts = options,
	.more =
"ADDRESS: [tcp:|tcp4:|tcp6:|udp:|udp4:|udp6:]HOST:PORT, [V6ADDR]:PORT, PORT,\n"
"unix:PATH, unix:@NAME, or a path with a '/'.\n"
"Exit status: 0 done, 1 failed, 2 usage, 124 timeout or idle.\n",
};

/* ---- messages ---- */

/* Fails with the socket's error and the counts so far. */
noreturn void
fail_counts(const struct sockcat *sc, int e, const char *what)
{
	errx(EXIT_FAIL, "%s: %s (sent %llu bytes, received %llu)", sc->address,
	    what ? what : strerror(e), (unsigned long long)sc->sent,
	    (unsigned long long)sc->recv);
}

/* stdout failed: a reader that left ends us quietly with status 1. */
noreturn void
fail_stdout(int e)
{
	errno = e;
	cli_write_failed("stdout");
}

static void
human(char *out, size_t len, double v)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(out, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

/* -P: bytes and rate, at most four times a second and only when data
 * moved (FORCE: the final line). */
void
progress(struct sockcat *sc, uint64_t sent, uint64_t recv, bool force)
{
	int64_t now = num_now(), start = sc->t_connected;
	char s[32], r[32], rate[32];

	if (!sc->progress ||
	    (!force && (now - sc->shown_t < 250000000 ||
	    sent + recv == sc->shown_total)))
		return;
	double secs = (double)(now - start) / 1e9;
	human(s, sizeof s, (double)sent);
	human(r, sizeof r, (double)recv);
	human(rate, sizeof rate, secs > 0 ? (double)(sent + recv) / secs : 0);
	fprintf(stderr, "%s: sent %s, received %s, %s/s%s", getprogname(), s, r,
	    rate, force || !isatty(2) ? "\n" : "   \r");
	sc->shown_t = now;
	sc->shown_total = sent + recv;
}

/* relay_run's hook for -P: a look at the counts every 250 ms, the first
 * 250 ms in. */
struct progress_due {
	struct sockcat *sc;
	int64_t due;  /* when the next look is */
};

static int64_t
progress_wake(struct relay_end *up, struct relay_end *down, void *arg)
{
	struct progress_due *pd = arg;
	int64_t now = num_now();

	if (now >= pd->due) {
		progress(pd->sc, up->bytes, down->bytes, false);
		pd->due = now + 250000000;
	}
	return pd->due;
}

/* -m TEXT as a descriptor to read from, so the relay treats it as stdin:
 * a memfd holding TEXT, framed (a line, or one len32 frame's message). */
static int
message_fd(const struct sockcat *sc)
{
	int fd = memfd_create("ipc-sockcat-message", MFD_CLOEXEC);
	size_t len = strlen(sc->message);

	if (fd == -1)
		err(EXIT_FAIL, "memfd_create");
	if (io_write_all(fd, sc->message, len) == -1 ||
	    (!sc->len32 && io_write_all(fd, "\n", 1) == -1) ||
	    lseek(fd, 0, SEEK_SET) == -1)
		err(EXIT_FAIL, "message");
	return fd;
}

/* ---- the byte stream: TCP and Unix ---- */

/* True when IN can be read without waiting (data or EOF). */
static bool
readable_now(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

/* The peer closed its sending side while stdin is still open. It may
 * only have half-closed and still read: what we hold and what stdin has
 * ready goes on to it (a peer that closed altogether makes that fail
 * with the counts). A quiet stdin ends the conversation, as with nc. */
static void
stream_after_peer_eof(struct sockcat *sc, struct relay_end *up, int in)
{
	struct relay_end none;

	if (!relay_pending(up) && !readable_now(in))
		return;
	relay_end_init(&none, -1, -1);
	none.done = true;
	int rc = relay_run(up, &none, sc->idle, false, NULL);
	sc->sent = up->bytes;
	if (rc < 0)
		sig_die(-rc);
	if (rc == EXIT_TIMEOUT)
		errx(EXIT_TIMEOUT, "%s: no data moved for the idle time "
		    "(sent %llu bytes, received %llu)", sc->address,
		    (unsigned long long)sc->sent, (unsigned long long)sc->recv);
}

static void
stream_check(struct sockcat *sc, struct relay_end *up,
    struct relay_end *down)
{
	sc->sent = up->bytes;
	sc->recv = down->bytes;
	if (down->err && !down->read_err)
		fail_stdout(down->err);
	if (down->err)
		fail_counts(sc, down->err, NULL);
	if (up->err && up->read_err) {
		errno = up->err;
		err(EXIT_FAIL, "stdin");
	}
	if (up->err == EPIPE || (up->err && relay_pending(up)))
		fail_counts(sc, up->err, "the peer closed before all of stdin was sent");
	if (up->err)
		fail_counts(sc, up->err, NULL);
}

static int
stream_run(struct sockcat *sc, int fd)
{
	struct relay_end up, down;
	struct progress_due pd = { sc, num_now() + 250000000 };
	struct relay_hook tick = { progress_wake, &pd };
	int in = sc->message ? message_fd(sc) : 0, sink = 1, rc;

	if (sc->sendonly && (sink = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1)
		err(EXIT_FAIL, "/dev/null");
	relay_end_init(&up, in, fd);
	up.out_is_sock = !sc->noshut;
	relay_end_init(&down, fd, sink);
	if (sc->nostdin) {
		up.done = true;
		if (!sc->noshut && shutdown(fd, SHUT_WR) == -1)
			fail_counts(sc, errno, NULL);
	}
	rc = relay_run(&up, &down, sc->idle, true, sc->progress ? &tick : NULL);
	if (rc < 0)
		sig_die(-rc);
	stream_check(sc, &up, &down);
	if (rc == EXIT_TIMEOUT)
		errx(EXIT_TIMEOUT, "%s: no data moved for the idle time "
		    "(sent %llu bytes, received %llu)", sc->address,
		    (unsigned long long)sc->sent, (unsigned long long)sc->recv);
	if (!up.done) {
		stream_after_peer_eof(sc, &up, in);
		stream_check(sc, &up, &down);
	}
	progress(sc, sc->sent, sc->recv, true);
	return EXIT_OK;
}

/* ---- main ---- */

/* The options into SC; returns ADDRESS. */
static const char *
parse(struct sockcat *sc, int argc, char **argv)
{
	struct cli c;
	int o;

	cli_start(&c, &tool, argc, argv);
	while ((o = cli_next(&c)) != 0) {
		switch (o) {
		case 'm': sc->message = c.arg; break;
		case 'd': sc->nostdin = true; break;
		case 's': sc->sendonly = true; break;
		case OPT_NOSHUT: sc->noshut = true; break;
		case 't': sc->timeout = cli_duration(&c); break;
		case 'w': sc->wait = cli_duration(&c); break;
		case 'i': sc->idle = cli_duration(&c); break;
		case 'z': sc->probe = true; break;
		case 'P': sc->progress = true; break;
		case '0': sc->frame = FRAME_NUL; break;
		case OPT_NETSTRING: sc->frame = FRAME_NETSTRING; break;
		case OPT_LEN32: sc->len32 = true; break;
		case OPT_MAX_MESSAGE:
			sc->max_msg = cli_size(&c, 1, (uint64_t)1 << 40);
			break;
		case 'v': sc->verbose++; break;
		}
	}
	if (sc->message && sc->nostdin)
		cli_usage_err("-m and -d contradict each other");
	if (sc->max_msg && !sc->len32)
		cli_usage_err("--max-message bounds --len32 messages: give "
		    "--len32 too");
	return c.ops[0];
}

int
main(int argc, char **argv)
{
	struct sockcat run = { .timeout = -1, .idle = -1, .frame = FRAME_LINE };
	struct sockcat *sc = &run;
	struct addr a;
	int fd;

	cli_init(argc, argv);
	sc->address = parse(sc, argc, argv);
	addr_parse(sc->address, &a, false);
	if (sc->len32 && a.proto == ADDR_UDP)
		cli_usage_err("%s: --len32 frames a byte stream; a UDP "
		    "datagram is already one message", sc->address);
	fd = conn_open(&a, sc->timeout, sc->wait, sc->verbose);
	sc->t_connected = num_now();
	if (sc->probe) {
		close(fd);
		return EXIT_OK;
	}
	if (a.proto == ADDR_UDP)
		return udp_run(sc, fd);
	if (sc->len32)
		return len32_run(sc, fd);
	return stream_run(sc, fd);
}
