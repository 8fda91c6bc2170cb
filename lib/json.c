/* JSON output of the listing verbs (ipc-mq ls/info, ipc-shmcount ls). */
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
