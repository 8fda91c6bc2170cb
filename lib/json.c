/* Names in the output of the listing verbs (ipc-mq ls/info, ipc-shmcount
 * ls): as JSON strings, or escaped for one-line-per-entry text. */
#include <stdio.h>

#include "ipc.h"

void
json_string(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)  /* DEL: a control too */
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

void
text_name(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		switch (ch) {
		case '\\': fputs("\\\\", stdout); break;
		case '\t': fputs("\\t", stdout); break;
		case '\n': fputs("\\n", stdout); break;
		case '\r': fputs("\\r", stdout); break;
		default:
			if (ch < 0x20 || ch == 0x7f)
				printf("\\%03o", ch);
			else
				putchar(ch);
		}
	}
}

/* ---- the writer ---- */

/* Before a value: a comma after a sibling, none after a key. */
static void
json_value(struct json *j)
{
	if (j->after_key)
		j->after_key = false;
	else if (j->count[j->depth]++ > 0)
		putchar(',');
}

void
json_open(struct json *j, char bracket)
{
	json_value(j);
	putchar(bracket);
	if (j->depth + 1 < JSON_DEPTH) {
		j->depth++;
		j->open[j->depth] = bracket;
		j->count[j->depth] = 0;
	}
}

void
json_close(struct json *j)
{
	putchar(j->open[j->depth] == '{' ? '}' : ']');
	if (j->depth > 0)
		j->depth--;
	if (j->depth == 0)
		putchar('\n');
}

void
json_key(struct json *j, const char *key)
{
	if (j->count[j->depth]++ > 0)
		putchar(',');
	json_string(key);
	putchar(':');
	j->after_key = true;
}

void
json_int(struct json *j, long long v)
{
	json_value(j);
	printf("%lld", v);
}

void
json_str(struct json *j, const char *s)
{
	json_value(j);
	json_string(s);
}

void
json_null(struct json *j)
{
	json_value(j);
	fputs("null", stdout);
}
