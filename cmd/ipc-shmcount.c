/* ipc-shmcount: a signed 64-bit counter in POSIX shared memory, changed
 * atomically by any number of processes, with a futex-based wait.
 *
 * This file: the command line and the verbs that act on one counter.
 * cmd/ipc-shmcount/shmcount.h describes the object; counter.c makes and
 * opens it, wait.c changes it and waits for changes, ls.c has ls and rm. */
#include <limits.h>
#include <string.h>
#include <err.h>

#include "ipc.h"
#include "ipc-shmcount/shmcount.h"

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

static int
do_create(struct cmd *c)
{
	char path[sizeof SHM_DIR + 258], slash[258];

	shc_path(c->argv[0], path, slash);
	if (shc_create(path, slash, c->initial, c->mode, c->mode_set)) {
		if (c->verbose)
			warnx("%s: created, value %jd", slash,
			    (intmax_t)c->initial);
		return EXIT_OK;
	}
	if (c->excl)
		errx(EXIT_FAIL, "%s: exists", slash);
	/* Without -x an existing counter is fine, as long as it is one. */
	(void)shc_open(path, slash, c->shared ? SHC_SHARED : 0);
	if (c->verbose)
		warnx("%s: exists already, left as it is", slash);
	return EXIT_OK;
}

static struct shmc *
open_operand(const struct cmd *c, int flags)
{
	char path[sizeof SHM_DIR + 258], slash[258];
	struct shmc *s;

	if (c->shared)
		flags |= SHC_SHARED;
	shc_path(c->argv[0], path, slash);
	memcpy(cur_name, slash, sizeof cur_name);
	s = shc_open(path, slash, flags);
	if (s == NULL) {
		/* -c: whoever links first wins; the loser opens the winner's. */
		(void)shc_create(path, slash, 0, 0600, false);
		s = shc_open(path, slash, flags & ~SHC_MISSING_OK);
	}
	return s;
}

static int
do_get(struct cmd *c)
{
	int64_t v = atomic_load(&open_operand(c, SHC_READ_ONLY_OK)->value);
	if (c->verbose)
		warnx("%s%s: value %jd", SHM_DIR, cur_name, (intmax_t)v);
	print_value(v);
	return EXIT_OK;
}

static int
do_add(struct cmd *c, bool sub)
{
	int64_t delta = 1, v;
	long long done;
	struct shmc *s;

	if (c->argc == 2)
		delta = parse_value(c->argv[1], "delta");
	s = open_operand(c, c->create ? SHC_MISSING_OK : 0);
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
	if (c->verbose)
		warnx("%s: %s %jd, %lld time(s): now %jd", cur_name,
		    sub ? "minus" : "plus", (intmax_t)delta, c->times,
		    (intmax_t)v);
	print_value(v);
	return EXIT_OK;
}

static int
do_set(struct cmd *c)
{
	struct shmc *s;
	int64_t v;

	v = parse_value(c->argv[1], "value");
	s = open_operand(c, 0);
	int64_t old = atomic_exchange(&s->value, v);
	shc_wake(s);
	if (c->verbose)
		warnx("%s: %jd, was %jd", cur_name, (intmax_t)v, (intmax_t)old);
	return EXIT_OK;
}

static int
do_cas(struct cmd *c)
{
	struct shmc *s;
	int64_t expect, new;

	expect = parse_value(c->argv[1], "expected");
	new = parse_value(c->argv[2], "new");
	s = open_operand(c, 0);
	int64_t want = expect;
	if (atomic_compare_exchange_strong(&s->value, &expect, new)) {
		shc_wake(s);
		if (c->verbose)
			warnx("%s: swapped %jd for %jd", cur_name,
			    (intmax_t)want, (intmax_t)new);
		return EXIT_OK;
	}
	if (c->verbose)
		warnx("%s: not swapped: the value is %jd, not %jd", cur_name,
		    (intmax_t)expect, (intmax_t)want);
	print_value(expect);
	return EXIT_FAIL;
}

static int
do_wait(struct cmd *c)
{
	static const char *const conds[] = { "--ge", "--le", "--eq", "--ne" };
	struct shmc *s = open_operand(c, 0);

	if (c->verbose)
		warnx("%s: value %jd, waiting for %s %jd", cur_name,
		    (intmax_t)atomic_load(&s->value), conds[c->cond],
		    (intmax_t)c->want);
	int rc = shc_wait(s, c->cond, c->want, c->timeout_ns);
	if (rc == EXIT_TIMEOUT)
		errx(EXIT_TIMEOUT, "%s: value %jd, still not %s %jd after %s",
		    cur_name, (intmax_t)atomic_load(&s->value), conds[c->cond],
		    (intmax_t)c->want, num_duration_str(c->timeout_ns));
	return rc;
}

static int do_incr(struct cmd *c) { return do_add(c, false); }
static int do_decr(struct cmd *c) { return do_add(c, true); }

/* ---- command line ---- */

enum { OPT_MODE = CLI_LONG, OPT_SHARED, OPT_JSON, OPT_INITIAL, OPT_GE,
	OPT_LE, OPT_EQ, OPT_NE };

static const struct cli_opt options[] = {
	{ OPT_MODE, "mode", "MODE", "permissions of the counter (exact, octal; "
	    "0600 through the umask without it)", "create" },
	{ 'x', "exclusive", NULL, "the counter must be new", "create" },
	{ OPT_INITIAL, "initial", "INITIAL", "the value it starts with (0)", "create" },
	{ 'c', "create", NULL, "create a missing counter (at 0)", "incr decr" },
	{ 'n', "count", "TIMES", "do it TIMES times, each step atomic on its "
	    "own", "incr decr" },
	{ 't', "timeout", "DUR", "wait at most DUR (exit 124)", "wait" },
	{ OPT_GE, "ge", "VALUE", "until the value is VALUE or more", "wait" },
	{ OPT_LE, "le", "VALUE", "until the value is VALUE or less", "wait" },
	{ OPT_EQ, "eq", "VALUE", "until the value is VALUE", "wait" },
	{ OPT_NE, "ne", "VALUE", "until the value is not VALUE", "wait" },
	{ OPT_JSON, "json", NULL, "print JSON", "ls" },
	{ OPT_SHARED, "shared", NULL, "accept a counter owned by another user",
	    "get incr decr set cas wait rm" },
	CLI_OPT_VERBOSE("say on stderr what each verb did or awaits"),
	{ 0, NULL, NULL, NULL, NULL },
};

static const struct cli_verb verbs[] = {
	{ "create", "NAME", "make a counter; one already there is fine "
	    "unless -x", 1, 1, true },
	{ "get", "NAME", "print the value", 1, 1, true },
	{ "incr", "NAME [DELTA]", "add DELTA (1) and print the new value", 1, 2,
	    true },
	{ "decr", "NAME [DELTA]", "subtract DELTA (1) and print the new value",
	    1, 2, true },
	{ "set", "NAME VALUE", "store VALUE", 2, 2, true },
	{ "cas", "NAME EXPECTED NEW", "store NEW if the value is EXPECTED "
	    "(exit 0), else print the value and exit 1", 3, 3, true },
	{ "wait", "NAME", "block until the condition (--ge, --le, --eq or "
	    "--ne) holds", 1, 1, true },
	{ "ls", "", "list the counters and their values", 0, 0, false },
	{ "rm", "NAME...", "remove counters", 1, -1, false },
	{ NULL, NULL, NULL, -1, -1, false },
};

static const struct cli_tool tool = {
	.about = "A signed 64-bit counter in POSIX shared memory "
	    "(/dev/shm/NAME), changed atomically by any number of processes.",
	.verbs = verbs,
	.opts = options,
	.more = "Exit status: 0 done, 1 failed (cas: not swapped), 2 usage, "
	    "124 timeout.\n",
};

static const struct {
	const char *name;
	int (*run)(struct cmd *);
} run[] = {
	{ "create", do_create }, { "get", do_get }, { "incr", do_incr },
	{ "decr", do_decr }, { "set", do_set }, { "cas", do_cas },
	{ "wait", do_wait }, { "ls", shc_ls }, { "rm", shc_rm },
};

/* The command line into C; returns the verb. */
static const char *
parse(struct cmd *c, int argc, char **argv)
{
	struct cli cl;
	int o, conds = 0;

	cli_start(&cl, &tool, argc, argv);
	while ((o = cli_next(&cl)) != 0) {
		switch (o) {
		case 'v': c->verbose++; break;
		case OPT_MODE:
			c->mode = num_mode(cl.arg);
			c->mode_set = true;
			break;
		case OPT_SHARED: c->shared = true; break;
		case OPT_JSON: c->json = true; break;
		case 'x': c->excl = true; break;
		case 'c': c->create = true; break;
		case OPT_INITIAL:
			c->initial = cli_number(&cl, LLONG_MIN, LLONG_MAX);
			break;
		case 'n': c->times = cli_number(&cl, 0, LLONG_MAX); break;
		case 't': c->timeout_ns = cli_duration(&cl); break;
		case OPT_GE: case OPT_LE: case OPT_EQ: case OPT_NE:
			c->cond = (enum cond)(o - OPT_GE);
			c->want = cli_number(&cl, LLONG_MIN, LLONG_MAX);
			conds++;
			break;
		}
	}
	if (strcmp(cl.verb->name, "wait") == 0 && conds != 1)
		cli_fail(&cl, conds == 0 ? "wait needs a condition: --ge, --le, "
		    "--eq or --ne VALUE" : "--ge, --le, --eq and --ne exclude "
		    "one another");
	c->argc = cl.nops;
	c->argv = cl.ops;
	return cl.verb->name;
}

int
main(int argc, char **argv)
{
	struct cmd c = { .mode = 0600, .times = 1, .timeout_ns = -1 };
	const char *verb;

	cli_init(argc, argv);
	verb = parse(&c, argc, argv);
	for (size_t i = 0; i < sizeof run / sizeof run[0]; i++)
		if (strcmp(verb, run[i].name) == 0)
			return run[i].run(&c);
	return EXIT_USAGE;  /* not reached: the table knows every verb */
}
