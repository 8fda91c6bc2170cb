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
