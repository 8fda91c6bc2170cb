/* ipc-sockcat: connect to a socket and relay stdin to it and it to stdout,
 * at the same time; at end of stdin half-close and read on until the peer
 * closes, so no byte is lost in either direction. This file holds the
 * options, the messages and the byte stream (TCP, Unix);
 * cmd/ipc-sockcat/msg.c the message modes (--len32 frames, UDP). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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

#define SYNOPSIS "ipc-sockcat [-dsvzP0] [-m TEXT] [-t DUR] [-w DUR] [-i DUR] " \
	"[--netstring|--len32] [--max-message SIZE] [--no-shutdown] ADDRESS"

const char *opt_message;           /* -m: send this instead of stdin */
bool opt_nostdin;                  /* -d */
bool opt_sendonly;                 /* -s */
bool opt_noshut;                   /* --no-shutdown */
static bool opt_probe;             /* -z */
bool opt_progress;                 /* -P */
bool opt_len32;                    /* --len32: the socket carries frames */
static int opt_verbose;            /* -v */
static int64_t opt_timeout = -1;   /* -t, ns; -1: none */
static int64_t opt_wait;           /* -w, ns; 0: none */
int64_t opt_idle;                  /* -i, ns; 0: none */
size_t opt_max_msg;                /* --max-message; 0: FRAME_MAX_DEFAULT */
enum frame_kind opt_frame = FRAME_LINE; /* stdin/stdout framing */
const char *address;               /* as the user wrote it, for messages */
uint64_t n_sent, n_recv;           /* socket bytes, for messages */
static int64_t t_connected;        /* -P: rates count from here */

enum { OPT_NOSHUT = 0x2001, OPT_MAX_MESSAGE };

static const char help[] =
"usage: " SYNOPSIS "\n"
"Connect to ADDRESS and relay stdin to it and it to stdout at once; at end\n"
"of stdin shut down the sending side and read until the peer closes.\n"
"  -m, --message TEXT  send TEXT (and a newline) instead of stdin\n"
"  -d, --no-stdin      send nothing, only receive\n"
"  -s, --send-only     print nothing; discard what arrives until the peer closes\n"
"      --no-shutdown   keep the sending side open at end of stdin\n"
"  -t, --timeout DUR   give up connecting after DUR (exit 124)\n"
"  -w, --wait DUR      retry a refused or missing server for up to DUR\n"
"  -i, --idle DUR      give up when no data moved for DUR (exit 124)\n"
"  -z, --probe         only connect and close: exit 0 if accepted, 1 if not\n"
"  -P, --progress      show bytes and rate on stderr while data moves\n"
"  -0, --null, --netstring  framing of messages on stdin/stdout (UDP, --len32)\n"
"      --len32         the socket carries 4-byte big-endian length frames\n"
"      --max-message SIZE  largest --len32 frame or stdin message (64M)\n"
"  -v, --verbose       diagnostics on stderr\n"
"  -h, --help          this help;  -V, --version  the version\n"
"ADDRESS: [tcp:|tcp4:|tcp6:|udp:|udp4:|udp6:]HOST:PORT, [V6ADDR]:PORT, PORT,\n"
"unix:PATH, unix:@NAME, or a path with a '/'.\n"
"Exit status: 0 done, 1 failed, 2 usage, 124 timeout or idle.\n";

/* ---- messages ---- */

/* Fails with the socket's error and the counts so far. */
noreturn void
fail_counts(int e, const char *what)
{
	errx(EXIT_FAIL, "%s: %s (sent %llu bytes, received %llu)", address,
	    what ? what : strerror(e), (unsigned long long)n_sent,
	    (unsigned long long)n_recv);
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
progress(uint64_t sent, uint64_t recv, bool force)
{
	static int64_t last_t;
	static uint64_t last_total = UINT64_MAX;
	int64_t now = num_now(), start = t_connected;
	char s[32], r[32], rate[32];

	if (!opt_progress ||
	    (!force && (now - last_t < 250000000 || sent + recv == last_total)))
		return;
	double secs = (double)(now - start) / 1e9;
	human(s, sizeof s, (double)sent);
	human(r, sizeof r, (double)recv);
	human(rate, sizeof rate, secs > 0 ? (double)(sent + recv) / secs : 0);
	fprintf(stderr, "%s: sent %s, received %s, %s/s%s", getprogname(), s, r,
	    rate, force || !isatty(2) ? "\n" : "   \r");
	last_t = now;
	last_total = sent + recv;
}

/* relay_run's hook for -P: a look at the counts every 250 ms, the first
 * 250 ms in. ARG: when the next look is due. */
static int64_t
progress_wake(struct relay_end *up, struct relay_end *down, void *arg)
{
	int64_t *due = arg, now = num_now();

	if (now >= *due) {
		progress(up->bytes, down->bytes, false);
		*due = now + 250000000;
	}
	return *due;
}

/* -m TEXT as a descriptor to read from, so the relay treats it as stdin:
 * a memfd holding TEXT, framed (a line, or one len32 frame's message). */
static int
message_fd(void)
{
	int fd = memfd_create("ipc-sockcat-message", MFD_CLOEXEC);
	size_t len = strlen(opt_message);

	if (fd == -1)
		err(EXIT_FAIL, "memfd_create");
	if (io_write_all(fd, opt_message, len) == -1 ||
	    (!opt_len32 && io_write_all(fd, "\n", 1) == -1) ||
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
stream_after_peer_eof(struct relay_end *up, int in)
{
	struct relay_end none;

	if (!relay_pending(up) && !readable_now(in))
		return;
	relay_end_init(&none, -1, -1);
	none.done = true;
	int rc = relay_run(up, &none, opt_idle, false, NULL);
	n_sent = up->bytes;
	if (rc < 0)
		sig_die(-rc);
	if (rc == EXIT_TIMEOUT)
		errx(EXIT_TIMEOUT, "%s: no data moved for the idle time "
		    "(sent %llu bytes, received %llu)", address,
		    (unsigned long long)n_sent, (unsigned long long)n_recv);
}

static void
stream_check(struct relay_end *up, struct relay_end *down)
{
	n_sent = up->bytes;
	n_recv = down->bytes;
	if (down->err && !down->read_err)
		fail_stdout(down->err);
	if (down->err)
		fail_counts(down->err, NULL);
	if (up->err && up->read_err) {
		errno = up->err;
		err(EXIT_FAIL, "stdin");
	}
	if (up->err == EPIPE || (up->err && relay_pending(up)))
		fail_counts(up->err, "the peer closed before all of stdin was sent");
	if (up->err)
		fail_counts(up->err, NULL);
}

static int
stream_run(int fd)
{
	struct relay_end up, down;
	int64_t due = num_now() + 250000000;
	struct relay_hook tick = { progress_wake, &due };
	int in = opt_message ? message_fd() : 0, sink = 1, rc;

	if (opt_sendonly && (sink = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1)
		err(EXIT_FAIL, "/dev/null");
	relay_end_init(&up, in, fd);
	up.out_is_sock = !opt_noshut;
	relay_end_init(&down, fd, sink);
	if (opt_nostdin) {
		up.done = true;
		if (!opt_noshut && shutdown(fd, SHUT_WR) == -1)
			fail_counts(errno, NULL);
	}
	rc = relay_run(&up, &down, opt_idle, true, opt_progress ? &tick : NULL);
	if (rc < 0)
		sig_die(-rc);
	stream_check(&up, &down);
	if (rc == EXIT_TIMEOUT)
		errx(EXIT_TIMEOUT, "%s: no data moved for the idle time "
		    "(sent %llu bytes, received %llu)", address,
		    (unsigned long long)n_sent, (unsigned long long)n_recv);
	if (!up.done) {
		stream_after_peer_eof(&up, in);
		stream_check(&up, &down);
	}
	progress(n_sent, n_recv, true);
	return EXIT_OK;
}

/* ---- main ---- */

static void
parse(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "message", required_argument, NULL, 'm' },
		{ "no-stdin", no_argument, NULL, 'd' },
		{ "send-only", no_argument, NULL, 's' },
		{ "no-shutdown", no_argument, NULL, OPT_NOSHUT },
		{ "timeout", required_argument, NULL, 't' },
		{ "wait", required_argument, NULL, 'w' },
		{ "idle", required_argument, NULL, 'i' },
		{ "probe", no_argument, NULL, 'z' },
		{ "progress", no_argument, NULL, 'P' },
		{ "max-message", required_argument, NULL, OPT_MAX_MESSAGE },
		CLI_LONGOPTS,
		FRAME_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	enum frame_kind k;
	int c;

	while ((c = getopt_long(argc, argv, "+m:dst:w:i:zPv0hV", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'm': opt_message = optarg; break;
		case 'd': opt_nostdin = true; break;
		case 's': opt_sendonly = true; break;
		case OPT_NOSHUT: opt_noshut = true; break;
		case 't': opt_timeout = num_duration(optarg, "timeout"); break;
		case 'w': opt_wait = num_duration(optarg, "wait"); break;
		case 'i': opt_idle = num_duration(optarg, "idle"); break;
		case 'z': opt_probe = true; break;
		case 'P': opt_progress = true; break;
		case OPT_MAX_MESSAGE:
			opt_max_msg = num_size(optarg, 1, (uint64_t)1 << 40,
			    "--max-message");
			break;
		case 'v': opt_verbose++; break;
		case 'h': cli_help(help);
		case 'V': cli_version();
		default:
			if (!frame_opt(c, &k))
				cli_usage(SYNOPSIS);
			if (k == FRAME_LEN32)
				opt_len32 = true;
			else
				opt_frame = k;
		}
	}
	if (argc - optind != 1)
		cli_usage(SYNOPSIS);
	if (opt_message && opt_nostdin)
		cli_usage_err("-m and -d contradict each other");
	if (opt_max_msg && !opt_len32)
		cli_usage_err("--max-message bounds --len32 messages: give "
		    "--len32 too");
}

int
main(int argc, char **argv)
{
	struct addr a;
	int fd;

	cli_init(argc, argv);
	parse(argc, argv);
	address = argv[optind];
	addr_parse(address, &a, false);
	if (opt_len32 && a.proto == ADDR_UDP)
		cli_usage_err("%s: --len32 frames a byte stream; a UDP "
		    "datagram is already one message", address);
	fd = conn_open(&a, opt_timeout, opt_wait, opt_verbose);
	t_connected = num_now();
	if (opt_probe) {
		close(fd);
		return EXIT_OK;
	}
	if (a.proto == ADDR_UDP)
		return udp_run(fd);
	if (opt_len32)
		return len32_run(fd);
	return stream_run(fd);
}
