/* What the command-line table prints: --help per tool and per verb, the
 * usage after a mistake, all within 80 columns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <err.h>

#include "ipc.h"

#define WIDTH 80
#define HELP_COL 22   /* where an option's help line begins */

/* Prints TEXT on F from column COL, breaking at spaces before WIDTH; the
 * lines after the first are indented to IND. Newlines in TEXT are kept. */
static void
wrap(FILE *f, const char *text, int col, int ind)
{
	const char *p = text;

	while (*p != '\0') {
		size_t n = strcspn(p, " \n");
		if (col > ind && col + 1 + (int)n > WIDTH) {
			fprintf(f, "\n%*s", ind, "");
			col = ind;
		} else if (col > ind)
			col += fprintf(f, " ");
		col += fprintf(f, "%.*s", (int)n, p);
		p += n;
		if (*p == '\n') {
			fputc('\n', f);
			if (p[1] != '\0')
				fprintf(f, "%*s", ind, "");
			col = ind;
			p++;
			continue;
		}
		p += strspn(p, " ");
	}
	if (col > ind)
		fputc('\n', f);
}

/* One verb's synopsis as words that are never broken: "ipc-sockcat",
 * "[-dsvz]", "[-t DUR]", "[--len32]", then the operands. */
static void
synopsis(FILE *f, const struct cli_tool *t, const struct cli_verb *v,
    const char *lead)
{
	char buf[2048], flags[64] = "";
	size_t fl = 0;
	int len = 0;

	len += snprintf(buf + len, sizeof buf - (size_t)len, "%s", getprogname());
	if (v->name != NULL)
		len += snprintf(buf + len, sizeof buf - (size_t)len, " %s",
		    v->name);
	for (const struct cli_opt *o = t->opts; o->id != 0; o++)
		if (cli_letter(o) != 0 && o->arg == NULL && cli_verb_takes(v, o) &&
		    fl < sizeof flags - 1)
			flags[fl++] = (char)cli_letter(o);
	flags[fl] = '\0';
	if (fl > 0)
		len += snprintf(buf + len, sizeof buf - (size_t)len, " [-%s]",
		    flags);
	for (const struct cli_opt *o = t->opts; o->id != 0; o++) {
		if (!cli_verb_takes(v, o) || (cli_letter(o) != 0 && o->arg == NULL))
			continue;
		/* Inside one word, the spaces are no-break (0x1f till print). */
		if (cli_letter(o) != 0)
			len += snprintf(buf + len, sizeof buf - (size_t)len,
			    " [-%c\x1f%s]", cli_letter(o), o->arg);
		else if (o->arg != NULL)
			len += snprintf(buf + len, sizeof buf - (size_t)len,
			    " [--%s\x1f%s]", o->name, o->arg);
		else
			len += snprintf(buf + len, sizeof buf - (size_t)len,
			    " [--%s]", o->name);
	}
	if (v->operands != NULL && v->operands[0] != '\0') {
		/* An optional part ("[-- COMMAND [ARG...]]") stays whole. */
		int depth = 0;
		buf[len++] = ' ';
		for (const char *p = v->operands; *p != '\0' &&
		    (size_t)len < sizeof buf - 1; p++) {
			depth += (*p == '[') - (*p == ']');
			buf[len++] = *p == ' ' && depth > 0 ? '\x1f' : *p;
		}
		buf[len] = '\0';
	}
	/* Print word by word, breaking only at real spaces. */
	int col = fprintf(f, "%s", lead), ind = (int)strlen(lead) + 4;
	for (char *p = buf; *p != '\0';) {
		size_t n = strcspn(p, " ");
		if (col > ind && col + 1 + (int)n > WIDTH) {
			fprintf(f, "\n%*s", ind, "");
			col = ind;
		} else
			col += fprintf(f, " ");
		for (size_t k = 0; k < n; k++)
			fputc(p[k] == '\x1f' ? ' ' : p[k], f);
		col += (int)n;
		p += n + strspn(p + n, " ");
	}
	fputc('\n', f);
}

void
cli_print_usage(const struct cli *c, FILE *f)
{
	const struct cli_verb *v;

	if (c->verb != NULL) {
		synopsis(f, c->tool, c->verb, "usage:");
		return;
	}
	for (v = c->tool->verbs; v->min != -1; v++)
		synopsis(f, c->tool, v, v == c->tool->verbs ? "usage:" : "      ");
}

/* "  -t, --timeout DUR   help", the help wrapped at HELP_COL. */
static void
option_line(const struct cli_opt *o)
{
	int col;

	if (cli_letter(o) != 0 && o->name != NULL)
		col = printf("  -%c, --%s", cli_letter(o), o->name);
	else if (cli_letter(o) != 0)
		col = printf("  -%c", cli_letter(o));
	else
		col = printf("      --%s", o->name);
	if (o->arg != NULL)
		col += printf(" %s", o->arg);
	if (col >= HELP_COL - 1) {
		putchar('\n');
		col = 0;
	}
	printf("%*s", HELP_COL - col, "");
	wrap(stdout, o->help, HELP_COL, HELP_COL);
}

void
cli_print_help(const struct cli *c)
{
	const struct cli_tool *t = c->tool;
	const struct cli_verb *v = c->verb;
	static const struct cli_opt builtin[] = {
		{ 'h', "help", NULL, "this help", NULL },
		{ 'V', "version", NULL, "the version", NULL },
	};

	if (v == NULL && t->verbs[0].name != NULL)
		printf("usage: %s VERB [OPTION...] [OPERAND...]\n", getprogname());
	else
		cli_print_usage(c, stdout);
	putchar('\n');
	wrap(stdout, v != NULL && v->about != NULL ? v->about : t->about, 0, 0);
	if (v == NULL) {
		/* A tool with verbs, asked before any: the verbs in a list. */
		putchar('\n');
		for (v = t->verbs; v->min != -1; v++) {
			int col = printf("  %s", v->name);
			printf("%*s", HELP_COL - col, "");
			wrap(stdout, v->about, HELP_COL, HELP_COL);
		}
		printf("\n%s VERB --help shows a verb's options.\n",
		    getprogname());
		v = NULL;
	}
	putchar('\n');
	for (const struct cli_opt *o = t->opts; o->id != 0; o++)
		if (v == NULL ? o->verbs == NULL : cli_verb_takes(v, o))
			option_line(o);
	option_line(&builtin[0]);
	option_line(&builtin[1]);
	if (t->more != NULL) {
		putchar('\n');
		fputs(t->more, stdout);
	}
	cli_stdout_done();
	exit(EXIT_OK);
}
