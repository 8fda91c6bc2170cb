/* ipc-shmcount: a signed 64-bit counter in POSIX shared memory, changed
 * atomically by any number of processes, with a futex-based wait.
 *
 * This file: the command line and the verbs that act on one counter.
 * cmd/ipc-shmcount/shmcount.h describes the object; counter.c makes and
 * opens it, wait.c changes it and waits for changes, ls.c has ls and rm. */
#include <getopt.h>
#include <limits.h>
#include <string.h>
#include <err.h>

#include "ipc.h"
#include "ipc-shmcount/shmcount.h"

static const char SYNOPSIS[] =
	"ipc-shmcount create [--mode MODE] [-x] [-i INITIAL] NAME\n"
	"ipc-shmcount get NAME\n"
	"ipc-shmcount incr [-c] [-n TIMES] NAME [DELTA]\n"
	"ipc-shmcount decr [-c] [-n TIMES] NAME [DELTA]\n"
	"ipc-shmcount set NAME VALUE\n"
	"ipc-shmcount cas NAME EXPECTED NEW\n"
	"ipc-shmcount wait [-t DUR] NAME (--ge|--le|--eq|--ne) VALUE\n"
	"ipc-shmcount ls [--json]\n"
	"ipc-shmcount rm NAME...";

static const char HELP[] =
	"usage: ipc-shmcount SUBCOMMAND [OPTIONS] ARGS\n"
	"A signed 64-bit counter in POSIX shared memory (/dev/shm/NAME).\n"
	"\n"
	"  create [--mode MODE] [-x] [-i INITIAL] NAME\n"
	"                      make a counter (mode 0600; -x: fail if it exists)\n"
	"  get NAME            print the value\n"
	"  incr [-c] [-n TIMES] NAME [DELTA]\n"
	"  decr [-c] [-n TIMES] NAME [DELTA]\n"
	"                      add/subtract DELTA (1), TIMES times; print the\n"
	"                      new value (-c: create a missing counter)\n"
	"  set NAME VALUE      store VALUE\n"
	"  cas NAME EXPECTED NEW\n"
	"                      store NEW if the value is EXPECTED (exit 0), else\n"
	"                      print the value and exit 1\n"
	"  wait [-t DUR] NAME (--ge|--le|--eq|--ne) VALUE\n"
	"                      block until the condition holds (124 on timeout)\n"
	"  ls [--json]         list the counters and their values\n"
	"  rm NAME...          remove counters\n"
	"\n"
	"Options: --shared (accept a counter of another user), -v, -h, -V.\n"
	"Exit status: 0 ok, 1 failed (cas: not swapped), 2 usage, 124 timeout.\n";

int shc_verbose;   /* -v */
bool shc_shared;   /* --shared: accept a counter of another user */
/* "/NAME" of the counter in use, for messages. */
static char cur_name[258];

/* One write(2), no stdio and no printf: a one-shot incr is mostly
 * start-up, and every libc page touched is one more page fault. */
static void
print_value(int64_t v)
{
	char buf[24], *p = buf + sizeof buf;
	/* The magnitude as unsigned: -INT64_MIN does not fit an int64. */
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	*--p = '\n';
	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	if (io_write_all(1, p, (size_t)(buf + sizeof buf - p)) == -1)
		cli_write_failed("stdout");
}

/* ---- subcommands ---- */

static int64_t
parse_value(const char *s, const char *what)
{
	return num_parse(s, LLONG_MIN, LLONG_MAX, what);
}

void
shc_need_operands(const struct cmd *c, int min, int max)
{
	if (c->argc < min)
		cli_usage_err("missing operand (see --help)");
	if (max >= 0 && c->argc > max)
		cli_usage_err("extra operand '%s' (see --help)",
		    c->argv[max]);
}

static int
do_create(struct cmd *c)
{
	char path[sizeof SHM_DIR + 258], slash[258];

	shc_need_operands(c, 1, 1);
	shc_path(c->argv[0], path, slash);
	if (shc_create(path, slash, c->initial, c->mode, c->mode_set))
		return EXIT_OK;
	if (c->excl)
		errx(EXIT_FAIL, "%s: exists", slash);
	/* Without -x an existing counter is fine, as long as it is one. */
	(void)shc_open(path, slash, false);
	if (shc_verbose)
		warnx("%s: exists already, left as it is", slash);
	return EXIT_OK;
}

static struct shmc *
open_operand(const char *name, bool create)
{
	char path[sizeof SHM_DIR + 258], slash[258];
	struct shmc *s;

	shc_path(name, path, slash);
	memcpy(cur_name, slash, sizeof cur_name);
	s = shc_open(path, slash, create);
	if (s == NULL) {
		/* -c: whoever links first wins; the loser opens the winner's. */
		(void)shc_create(path, slash, 0, 0600, false);
		s = shc_open(path, slash, false);
	}
	return s;
}

static int
do_get(struct cmd *c)
{
	shc_need_operands(c, 1, 1);
	shc_read_only_ok = true;
	print_value(atomic_load(&open_operand(c->argv[0], false)->value));
	return EXIT_OK;
}

static int
do_add(struct cmd *c, bool sub)
{
	int64_t delta = 1, v;
	long long done;
	struct shmc *s;

	shc_need_operands(c, 1, 2);
	if (c->argc == 2)
		delta = parse_value(c->argv[1], "delta");
	s = open_operand(c->argv[0], c->create);
	v = shc_add(s, delta, sub, c->times, &done);
	if (done < c->times) {
		if (c->times == 1)
			errx(EXIT_FAIL, "%s: overflow: %jd %c %jd is out of the "
			    "64-bit range; value unchanged", cur_name,
			    (intmax_t)v, sub ? '-' : '+', (intmax_t)delta);
		errx(EXIT_FAIL, "%s: overflow at step %lld of %lld: value %jd "
		    "left unchanged by the rest", cur_name, done + 1,
		    c->times, (intmax_t)v);
	}
	print_value(v);
	return EXIT_OK;
}

static int
do_set(struct cmd *c)
{
	struct shmc *s;
	int64_t v;

	shc_need_operands(c, 2, 2);
	v = parse_value(c->argv[1], "value");
	s = open_operand(c->argv[0], false);
	atomic_store(&s->value, v);
	shc_wake(s);
	return EXIT_OK;
}

static int
do_cas(struct cmd *c)
{
	struct shmc *s;
	int64_t expect, new;

	shc_need_operands(c, 3, 3);
	expect = parse_value(c->argv[1], "expected");
	new = parse_value(c->argv[2], "new");
	s = open_operand(c->argv[0], false);
	if (atomic_compare_exchange_strong(&s->value, &expect, new)) {
		shc_wake(s);
		return EXIT_OK;
	}
	print_value(expect);
	return EXIT_FAIL;
}

static int
do_wait(struct cmd *c)
{
	static const char *const ops[] = { "--ge", "--le", "--eq", "--ne" };
	int op;

	/* --ge etc. follow NAME, so they are operands, parsed here. */
	shc_need_operands(c, 3, 3);
	for (op = 0; op < 4; op++)
		if (strcmp(c->argv[1], ops[op]) == 0)
			break;
	if (op == 4)
		cli_usage_err("wait: '%s' is not --ge, --le, --eq or --ne",
		    c->argv[1]);
	int64_t want = parse_value(c->argv[2], "value");
	struct shmc *s = open_operand(c->argv[0], false);
	if (shc_verbose)
		warnx("%s: value %jd, waiting for %s %jd", cur_name,
		    (intmax_t)atomic_load(&s->value), ops[op], (intmax_t)want);
	return shc_wait(s, (enum cond)op, want, c->timeout_ns);
}

/* ---- command line ---- */

enum { OPT_MODE = 0x100, OPT_SHARED, OPT_JSON };

static const struct option longopts[] = {
	CLI_LONGOPTS,
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "shared", no_argument, NULL, OPT_SHARED },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "exclusive", no_argument, NULL, 'x' },
	{ "initial", required_argument, NULL, 'i' },
	{ "create", no_argument, NULL, 'c' },
	{ "count", required_argument, NULL, 'n' },
	{ "timeout", required_argument, NULL, 't' },
	{ NULL, 0, NULL, 0 },
};

struct verb {
	const char *name;
	const char *opts;   /* the letters (and long options) it accepts */
	int (*run)(struct cmd *);
};

static int do_incr(struct cmd *c) { return do_add(c, false); }
static int do_decr(struct cmd *c) { return do_add(c, true); }

/* Long options are keyed as M (--mode), S (--shared), J (--json). */
static const struct verb verbs[] = {
	{ "create", "MSxi", do_create },
	{ "get", "S", do_get },
	{ "incr", "Scn", do_incr },
	{ "decr", "Scn", do_decr },
	{ "set", "S", do_set },
	{ "cas", "S", do_cas },
	{ "wait", "St", do_wait },
	{ "ls", "J", shc_ls },
	{ "rm", "S", shc_rm },
};

static noreturn void
bad_option(const char *verb, const char *arg)
{
	warnx("%s: option '%s' is unknown here or lacks its argument", verb,
	    arg);
	cli_usage(SYNOPSIS);
}

static void
parse_opts(const struct verb *vb, int argc, char **argv, struct cmd *c)
{
	int o;

	/* No option at all (the usual `incr NAME`): getopt would stop at
	 * once, so it is not even called (one libc page less to fault in). */
	if (argc < 2 || argv[1][0] != '-') {
		c->argc = argc - 1;
		c->argv = argv + 1;
		return;
	}
	opterr = 0;
	optind = 1;
	while ((o = getopt_long(argc, argv, "+hVvxi:cn:t:", longopts,
	    NULL)) != -1) {
		int key = o == OPT_MODE ? 'M' : o == OPT_SHARED ? 'S' :
		    o == OPT_JSON ? 'J' : o;
		if (o == 'h')
			cli_help(HELP);
		if (o == 'V')
			cli_version();
		if (o == 'v') {
			shc_verbose++;
			continue;
		}
		if (o == '?' || strchr(vb->opts, key) == NULL)
			bad_option(vb->name, argv[optind - 1]);
		switch (o) {
		case OPT_MODE:
			c->mode = num_mode(optarg);
			c->mode_set = true;
			break;
		case OPT_SHARED: shc_shared = true; break;
		case OPT_JSON: c->json = true; break;
		case 'x': c->excl = true; break;
		case 'c': c->create = true; break;
		case 'i': c->initial = parse_value(optarg, "initial"); break;
		case 'n': c->times = num_parse(optarg, 1, LLONG_MAX, "times");
			break;
		case 't': c->timeout_ns = num_duration(optarg, "timeout");
			break;
		}
	}
	c->argc = argc - optind;
	c->argv = argv + optind;
}

int
main(int argc, char **argv)
{
	struct cmd c = { .mode = 0600, .times = 1, .timeout_ns = -1 };
	const char *sub;

	cli_init(argc, argv);
	/* -v may come before the subcommand too. */
	while (argc > 1 && (strcmp(argv[1], "-v") == 0 ||
	    strcmp(argv[1], "--verbose") == 0)) {
		shc_verbose++;
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	if (argc < 2)
		cli_usage(SYNOPSIS);
	sub = argv[1];
	if (sub[0] == '-') {
		if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0)
			cli_help(HELP);
		if (strcmp(sub, "-V") == 0 || strcmp(sub, "--version") == 0)
			cli_version();
		warnx("unknown option '%s'", sub);
		cli_usage(SYNOPSIS);
	}
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
		if (strcmp(sub, verbs[i].name) != 0)
			continue;
		parse_opts(&verbs[i], argc - 1, argv + 1, &c);
		return verbs[i].run(&c);
	}
	warnx("unknown subcommand '%s'", sub);
	cli_usage(SYNOPSIS);
}
