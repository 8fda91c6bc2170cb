/* ipc-mq: POSIX message queues from the shell: create, send, recv, info,
 * ls, rm. Messages are framed on stdin/stdout as every ipc-utils tool
 * frames them (lines, NUL, netstrings, len32).
 *
 * This file: the command line (one table, lib/cli.c) and the verb
 * dispatch; the verbs are in cmd/ipc-mq/ (queue.c: create, rm; info.c:
 * info, ls; send.c; recv.c), each handed the parsed struct mq_run. */
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "ipc-mq/mq.h"

enum { OPT_MODE = CLI_LONG, OPT_JSON, OPT_SHARED, OPT_NETSTRING, OPT_LEN32,
	OPT_PRIO_PRINT = CLI_AGAIN('p') };

static const struct cli_opt options[] = {
	{ OPT_MODE, "mode", "MODE", "permissions of a queue made (exact, octal; "
	    "0600 through the umask without it)", "create" },
	{ 'x', "exclusive", NULL, "the queue must be new", "create" },
	{ 'M', "maxmsg", "MAXMSG", "room for MAXMSG messages (system default)",
	    "create" },
	{ 'S', "msgsize", "MSGSIZE", "messages up to MSGSIZE bytes (system "
	    "default)", "create" },
	{ 'c', "create", NULL, "create the queue if missing (as create does)",
	    "send" },
	{ 'p', "priority", "PRIO", "send at priority PRIO (0, the lowest; "
	    "highest first out)", "send" },
	{ 'n', "count", "COUNT", "receive COUNT messages (1)", "recv" },
	{ 'a', "all", NULL, "receive the messages there now, then exit",
	    "recv" },
	{ 'f', "follow", NULL, "receive until signalled", "recv" },
	{ OPT_PRIO_PRINT, "priority", NULL, "print each message's priority and "
	    "a tab first", "recv" },
	{ 't', "timeout", "DUR", "bound each wait (a full queue, an empty one) "
	    "by DUR: exit 124", "send recv" },
	{ '0', "null", NULL, "messages end with NUL, not newline", "send recv" },
	{ OPT_NETSTRING, "netstring", NULL, "messages are netstrings "
	    "(5:hello,)", "send recv" },
	{ OPT_LEN32, "len32", NULL, "messages have a 4-byte big-endian length",
	    "send recv" },
	{ OPT_JSON, "json", NULL, "print JSON", "info ls" },
	{ OPT_SHARED, "shared", NULL, "accept a queue owned by another user",
	    NULL },
	CLI_OPT_VERBOSE("say what was created, sent and received, and how each "
	    "COMMAND ended"),
	{ 0, NULL, NULL, NULL, NULL },
};

static const struct cli_verb verbs[] = {
	{ "create", "NAME", "create a queue (NAME is q or /q); one that exists "
	    "with the asked limits is fine", 1, 1, false },
	{ "send", "NAME [MESSAGE...]", "send each MESSAGE, or each message "
	    "framed from stdin", 1, -1, false },
	{ "recv", "NAME [-- COMMAND [ARG...]]", "receive messages to stdout, "
	    "or run COMMAND per message with the message on its stdin", 1, 1,
	    false },
	{ "info", "NAME", "maxmsg=, msgsize=, curmsgs=, mode=", 1, 1, false },
	{ "ls", "", "the queues in the mqueue filesystem", 0, 0, false },
	{ "rm", "NAME...", "remove queues", 1, -1, false },
	{ NULL, NULL, NULL, -1, -1, false },
};

static const struct cli_tool tool = {
	.about = "POSIX message queues from the shell. NAME is q or /q.",
	.verbs = verbs,
	.opts = options,
	.more = "Exit status: 0 done, 1 failed, 2 usage, 124 timeout; recv -- "
	    "COMMAND: COMMAND's.\n",
	.command = true,
	.command_verbs = "recv",
};

static unsigned
prio_max(void)
{
	long n = sysconf(_SC_MQ_PRIO_MAX);

	return n > 0 && n <= INT_MAX ? (unsigned)n : 32768;
}

/* The command line into M; returns the verb. */
static const char *
parse(struct mq_run *m, int argc, char **argv)
{
	struct cli c;
	int modes = 0, o;

	cli_start(&c, &tool, argc, argv);
	while ((o = cli_next(&c)) != 0) {
		switch (o) {
		case 'v': m->verbose++; break;
		case OPT_SHARED: m->co.shared = true; break;
		case OPT_MODE:
			m->co.mode = num_mode(c.arg);
			m->co.mode_set = true;
			break;
		case 'x': m->co.excl = true; break;
		case 'M': m->co.maxmsg = (long)cli_number(&c, 1, INT_MAX); break;
		case 'S': m->co.msgsize = (long)cli_number(&c, 1, INT_MAX); break;
		case 'c': m->create = true; break;
		case 'p':
			m->prio = (unsigned)cli_number(&c, 0, prio_max() - 1);
			break;
		case OPT_PRIO_PRINT: m->prio_print = true; break;
		case 'n': m->count = cli_number(&c, 0, LLONG_MAX); modes++; break;
		case 'a': m->all = true; modes++; break;
		case 'f': m->follow = true; m->count = -1; modes++; break;
		case 't': m->timeout = cli_duration(&c); m->tstr = c.arg; break;
		case '0': m->kind = FRAME_NUL; break;
		case OPT_NETSTRING: m->kind = FRAME_NETSTRING; break;
		case OPT_LEN32: m->kind = FRAME_LEN32; break;
		case OPT_JSON: m->json = true; break;
		}
	}
	if (modes > 1)
		cli_fail(&c, "-n, -a and -f exclude one another");
	m->ops = c.ops;
	m->nops = c.nops;
	m->cmd = c.cmd;
	return c.verb->name;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct mq_run *);
	} run[] = {
		{ "create", mqt_cmd_create }, { "send", mqt_cmd_send },
		{ "recv", mqt_cmd_recv }, { "info", mqt_cmd_info },
		{ "ls", mqt_cmd_ls }, { "rm", mqt_cmd_rm },
	};
	struct mq_run m = { .timeout = -1, .kind = FRAME_LINE, .count = 1 };
	const char *verb;

	cli_init(argc, argv);
	verb = parse(&m, argc, argv);
	for (size_t i = 0; i < sizeof run / sizeof run[0]; i++)
		if (strcmp(verb, run[i].name) == 0)
			return run[i].fn(&m);
	return EXIT_USAGE;  /* not reached: the table knows every verb */
}
