/* ipc-mq: POSIX message queues from the shell: create, send, recv, info,
 * ls, rm. Messages are framed on stdin/stdout as every ipc-utils tool
 * frames them (lines, NUL, netstrings, len32).
 *
 * This file: the command line and the verb dispatch; the verbs are in
 * cmd/ipc-mq/ (queue.c: create, rm; info.c: info, ls; send.c; recv.c). */
#include <string.h>

#include "ipc.h"
#include "ipc-mq/mq.h"

#define SYNOPSIS \
	"ipc-mq create [--mode MODE] [-x] [-M MAXMSG] [-S MSGSIZE] NAME\n" \
	"ipc-mq send [-p PRIO] [-t DUR] [-c] [FRAMING] NAME [MESSAGE...]\n" \
	"ipc-mq recv [-n COUNT|-a|-f] [-t DUR] [-P] [FRAMING] NAME [-- COMMAND [ARG...]]\n" \
	"ipc-mq info [--json] NAME\n" \
	"ipc-mq ls [--json]\n" \
	"ipc-mq rm NAME..."

#define HELP "usage: " \
	"ipc-mq create [--mode MODE] [-x] [-M MAXMSG] [-S MSGSIZE] NAME\n" \
	"       ipc-mq send [-p PRIO] [-t DUR] [-c] [FRAMING] NAME [MESSAGE...]\n" \
	"       ipc-mq recv [-n COUNT|-a|-f] [-t DUR] [-P] [FRAMING] NAME [-- COMMAND [ARG...]]\n" \
	"       ipc-mq info [--json] NAME\n" \
	"       ipc-mq ls [--json]\n" \
	"       ipc-mq rm NAME...\n" \
	"POSIX message queues. NAME is q or /q.\n" \
	"  create   -M MAXMSG, -S MSGSIZE (system defaults), --mode (0600), -x (must be new)\n" \
	"  send     each MESSAGE, or each message framed from stdin; -p PRIO,\n" \
	"           -t DUR bounds a wait on a full queue (124), -c creates the queue\n" \
	"  recv     one message, -n COUNT, -a all there now, -f follow; -P prints\n" \
	"           'PRIO<tab>' first; -t DUR bounds each wait (124); with COMMAND,\n" \
	"           a run of COMMAND per message, the message on its stdin\n" \
	"  info     maxmsg=, msgsize=, curmsgs=, mode= (--json: one object)\n" \
	"  ls       the queues in the mqueue filesystem (--json: an array)\n" \
	"  rm       removes queues\n" \
	"FRAMING: lines (default), -0/--null, --netstring, --len32.\n" \
	"Common: --shared (accept a queue of another user), -v, -h, -V.\n"

int mqt_verbose;  /* -v: diagnostics on stderr */

noreturn void
mqt_usage(void)
{
	cli_usage(SYNOPSIS);
}

/* Parses a subcommand's options; returns the option or -1 at the end.
 * Options every verb shares are handled here. */
int
mqt_verb_opt(int argc, char **argv, const char *opts, const struct option *lo,
    bool *shared)
{
	int c;

	while ((c = getopt_long(argc, argv, opts, lo, NULL)) != -1) {
		switch (c) {
		case 'h': cli_help(HELP);
		case 'V': cli_version();
		case 'v': mqt_verbose++; continue;
		case OPT_SHARED: *shared = true; continue;
		case '?': mqt_usage();
		}
		return c;
	}
	return -1;
}

/* ---- main ---- */

int
main(int argc, char **argv)
{
	static const struct option lo[] = { COMMON_LONGOPTS, { 0 } };
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} verbs[] = {
		{ "create", mqt_cmd_create }, { "send", mqt_cmd_send },
		{ "recv", mqt_cmd_recv }, { "info", mqt_cmd_info },
		{ "ls", mqt_cmd_ls }, { "rm", mqt_cmd_rm },
	};
	bool shared = false;

	cli_init(argc, argv);
	if (mqt_verb_opt(argc, argv, "+hVv", lo, &shared) != -1 || optind == argc)
		mqt_usage();
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
		if (strcmp(argv[optind], verbs[i].name) != 0)
			continue;
		argc -= optind;
		argv += optind;
		optind = 0;  /* glibc: start a fresh scan of the verb's own options */
		return verbs[i].fn(argc, argv);
	}
	cli_usage_err("'%s' is not a verb (create, send, recv, info, ls, rm)",
	    argv[optind]);
}
