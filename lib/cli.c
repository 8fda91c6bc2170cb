/* Start-up hygiene, --help/--version and usage errors shared by every tool. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"

/* A tool started with fd 0, 1 or 2 closed would hand that number to its
 * first socket or file, and then write data or diagnostics into it. */
static void
cli_fds_sanitize(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		int nfd = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
		if (nfd == -1)
			_exit(EXIT_FAIL);
		if (nfd != fd)
			_exit(EXIT_FAIL);
	}
}

void
cli_init(int argc, char **argv)
{
	(void)argc;
	cli_fds_sanitize();
	if (argv[0] != NULL)
		setprogname(argv[0]);
	sig_init();
}

void
cli_usage_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verrx(EXIT_USAGE, fmt, ap);
}

void
cli_version(void)
{
	printf("%s %s\n", getprogname(), IPC_VERSION);
	cli_stdout_done();
	exit(EXIT_OK);
}

void
cli_write_failed(const char *what)
{
	if (errno == EPIPE)
		exit(EXIT_FAIL);
	err(EXIT_FAIL, "%s", what);
}

void
cli_stdout_done(void)
{
	if (fflush(stdout) == EOF || ferror(stdout))
		cli_write_failed("stdout");
}

/* ---- parsing by the tool's table ---- */

int
cli_letter(const struct cli_opt *o)
{
	if (o->id < CLI_LONG)
		return o->id;
	return o->id > CLI_AGAIN(0) ? o->id - CLI_AGAIN(0) : 0;
}

/* Whether the space-separated LIST has the word W. */
static bool
cli_word_in(const char *list, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = list; (p = strstr(p, w)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') &&
		    (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

bool
cli_verb_takes(const struct cli_verb *v, const struct cli_opt *o)
{
	if (o->verbs == NULL || (v != NULL && v->name == NULL))
		return true;
	if (v == NULL)
		return false;  /* before the verb: only what every verb takes */
	return cli_word_in(o->verbs, v->name);
}

/* Whether "--" starts a COMMAND for C's verb (else it ends the options). */
static bool
cli_takes_command(const struct cli *c)
{
	const struct cli_tool *t = c->tool;

	if (!t->command)
		return false;
	return t->command_verbs == NULL || (c->verb != NULL &&
	    c->verb->name != NULL && cli_word_in(t->command_verbs,
	    c->verb->name));
}

static noreturn void
cli_vfail(const struct cli *c, const char *fmt, va_list ap)
{
	vwarnx(fmt, ap);
	cli_print_usage(c, stderr);
	exit(EXIT_USAGE);
}

void
cli_fail(const struct cli *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vfail(c, fmt, ap);
}

/* An option the tool has but this verb does not take. */
static void
cli_check_verb(const struct cli *c, const struct cli_opt *o, const char *as)
{
	if (c->verb == NULL && !cli_verb_takes(NULL, o))
		cli_fail(c, "option '%s' is for %s: give it after the verb", as,
		    o->verbs);
	if (!cli_verb_takes(c->verb, o))
		cli_fail(c, "option '%s' is for %s, not %s", as, o->verbs,
		    c->verb->name);
}

static noreturn void
cli_bad_verb(const struct cli *c, const char *name)
{
	char list[256] = "";

	for (const struct cli_verb *v = c->tool->verbs; v->min != -1; v++) {
		if (list[0] != '\0')
			strlcat(list, " ", sizeof list);
		strlcat(list, v->name, sizeof list);
	}
	if (name == NULL)
		cli_fail(c, "a verb is needed (verbs: %s)", list);
	cli_fail(c, "unknown verb '%s' (verbs: %s)", name, list);
}

void
cli_start(struct cli *c, const struct cli_tool *tool, int argc, char **argv)
{
	*c = (struct cli){ .tool = tool, .argc = argc, .argv = argv, .i = 1 };
	if (tool->verbs[0].name == NULL)
		c->verb = &tool->verbs[0];
	c->ops = argv + c->i;  /* operands are gathered in place */
}

/* The first operand of a tool with verbs is the verb; options before it
 * are those every verb takes. */
static void
cli_set_verb(struct cli *c, const char *a)
{
	for (const struct cli_verb *v = c->tool->verbs; v->min != -1; v++)
		if (strcmp(v->name, a) == 0)
			c->verb = v;
	if (c->verb == NULL)
		cli_bad_verb(c, a);
	c->ops = c->argv + c->i;
}

/* The argument of the option just found: the rest of its word (AFTER,
 * or NULL), else the next word. */
static void
cli_take_arg(struct cli *c, const char *after, const char *as)
{
	if (after != NULL && *after != '\0')
		c->arg = after;
	else if (c->i < c->argc)
		c->arg = c->argv[c->i++];
	else
		cli_fail(c, "option '%s' needs an argument (%s)", as,
		    c->opt->arg);
}

static int
cli_short(struct cli *c)
{
	char as[3] = { '-', *c->bundle++, '\0' };

	if (as[1] == 'h')
		cli_print_help(c);
	if (as[1] == 'V')
		cli_version();
	/* As with long names, a letter two verbs give to two options is
	 * the one this verb takes. */
	for (const struct cli_opt *o = c->tool->opts; o->id != 0; o++)
		if (cli_letter(o) == (unsigned char)as[1] &&
		    (c->opt == NULL || cli_verb_takes(c->verb, o)))
			c->opt = o;
	if (c->opt == NULL)
		cli_fail(c, "unknown option '%s'", as);
	cli_check_verb(c, c->opt, as);
	if (c->opt->arg != NULL) {
		cli_take_arg(c, c->bundle, as);
		c->bundle = NULL;
	}
	return c->opt->id;
}

/* The option named A (N bytes): exact, else the one this verb takes
 * that A begins, as getopt_long allows. */
static const struct cli_opt *
cli_find_long(const struct cli *c, const char *a, size_t n, const char *as)
{
	const struct cli_opt *hit = NULL;
	int hits = 0;

	const struct cli_opt *exact = NULL;

	/* Two verbs may give one name to two options (send --priority PRIO,
	 * recv --priority): the one this verb takes wins. */
	for (const struct cli_opt *o = c->tool->opts; o->id != 0; o++)
		if (o->name != NULL && strlen(o->name) == n &&
		    strncmp(o->name, a, n) == 0) {
			if (cli_verb_takes(c->verb, o))
				return o;
			if (exact == NULL)
				exact = o;
		}
	if (exact != NULL)
		return exact;
	for (const struct cli_opt *o = c->tool->opts; o->id != 0; o++)
		if (o->name != NULL && strncmp(o->name, a, n) == 0 &&
		    cli_verb_takes(c->verb, o))
			hit = o, hits++;
	if (hits > 1)
		cli_fail(c, "option '%s' is ambiguous", as);
	if (hit == NULL)
		cli_fail(c, "unknown option '%s'", as);
	return hit;
}

static int
cli_long(struct cli *c, const char *word)
{
	const char *a = word + 2, *eq = strchr(a, '=');
	size_t n = eq ? (size_t)(eq - a) : strlen(a);
	char as[64];

	snprintf(as, sizeof as, "--%.*s", (int)n, a);
	if (n > 0 && strncmp("help", a, n) == 0 && (eq == NULL || n == 4))
		cli_print_help(c);
	if (n >= 4 && strncmp("version", a, n) == 0)
		cli_version();
	c->opt = cli_find_long(c, a, n, as);
	cli_check_verb(c, c->opt, as);
	if (c->opt->arg != NULL)
		cli_take_arg(c, eq ? eq + 1 : NULL, as);
	else if (eq != NULL)
		cli_fail(c, "option '%s' takes no argument", as);
	return c->opt->id;
}

/* "-5", "-0x" is no number; a verb that takes numbers (shmcount set)
 * sees "-5" as its operand. */
static bool
cli_is_number(const char *a)
{
	/* A digit after the '-' is enough: the verb's own check then names
	 * one out of range ("-9223372036854775809") as a bad number. */
	return a[0] == '-' && a[1] >= '0' && a[1] <= '9';
}

/* The operand word WANT of the verb's synopsis, without brackets. */
static void
cli_operand_name(const struct cli_verb *v, int want, char *out, size_t size)
{
	const char *p = v->operands ? v->operands : "";

	for (int k = 0; *p != '\0'; k++) {
		size_t n = strcspn(p, " ");
		if (k == want) {
			snprintf(out, size, "%.*s", (int)n, p);
			out[strcspn(out, ".")] = '\0';
			memmove(out, out + strspn(out, "["),
			    strlen(out + strspn(out, "[")) + 1);
			out[strcspn(out, "]")] = '\0';
			return;
		}
		p += n + strspn(p + n, " ");
	}
	strlcpy(out, "an operand", size);
}

static int
cli_end(struct cli *c)
{
	const struct cli_verb *v = c->verb;
	char name[64];

	if (v == NULL)
		cli_bad_verb(c, NULL);
	if (c->nops < v->min) {
		cli_operand_name(v, c->nops, name, sizeof name);
		cli_fail(c, "%s missing", name);
	}
	if (v->max >= 0 && c->nops > v->max)
		cli_fail(c, "extra operand '%s'%s", c->ops[v->max],
		    cli_takes_command(c) && c->cmd == NULL ?
		    " (a COMMAND goes after --)" : "");
	if (c->cmd != NULL && c->cmd[0] == NULL)
		cli_fail(c, "COMMAND missing after --");
	c->ops[c->nops] = NULL;
	return 0;
}

int
cli_next(struct cli *c)
{
	c->opt = NULL;
	c->arg = NULL;
	if (c->bundle != NULL && *c->bundle != '\0')
		return cli_short(c);
	c->bundle = NULL;
	while (c->i < c->argc) {
		char *a = c->argv[c->i];
		if (strcmp(a, "--") == 0) {
			c->i++;
			if (cli_takes_command(c))
				c->cmd = c->argv + c->i;
			else
				while (c->i < c->argc)
					c->ops[c->nops++] = c->argv[c->i++];
			c->i = c->argc;
			break;
		}
		c->i++;
		if (a[0] == '-' && a[1] == '-')
			return cli_long(c, a);
		if (a[0] == '-' && a[1] != '\0' && !(c->verb != NULL &&
		    c->verb->numbers && cli_is_number(a))) {
			c->bundle = a + 1;
			return cli_short(c);
		}
		if (c->verb == NULL)
			cli_set_verb(c, a);
		else
			c->ops[c->nops++] = a;
	}
	return cli_end(c);
}

const char *
cli_optname(const struct cli *c)
{
	static char name[64];

	if (c->opt->name != NULL)
		snprintf(name, sizeof name, "--%s", c->opt->name);
	else
		snprintf(name, sizeof name, "-%c", cli_letter(c->opt));
	return name;
}

int64_t
cli_duration(const struct cli *c)
{
	return num_duration(c->arg, cli_optname(c));
}

uint64_t
cli_size(const struct cli *c, uint64_t min, uint64_t max)
{
	return num_size(c->arg, min, max, cli_optname(c));
}

long long
cli_number(const struct cli *c, long long min, long long max)
{
	return num_parse(c->arg, min, max, cli_optname(c));
}
