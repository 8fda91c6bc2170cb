/* libFuzzer target for lib/name.c: queue and shared-memory names. The
 * rule of ipc.h, written out a second way: an optional leading '/', then
 * 1 to 255 bytes with no '/', not "." or "..". name_check must exit 2
 * exactly where name_check_ok refuses, and write the same "/name". */
#include <string.h>

#include "ipc.h"
#include "fuzz.h"

struct call { const char *name; char out[258]; };

static void
call_check(void *arg)
{
	struct call *c = arg;
	name_check(c->name, c->out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	char *name = fuzz_string(&in);
	const char *n = name[0] == '/' ? name + 1 : name;
	size_t len = strlen(n);
	bool valid = len >= 1 && len <= 255 && memchr(n, '/', len) == NULL &&
	    strcmp(n, ".") != 0 && strcmp(n, "..") != 0;
	/* Poisoned past what is written: the output must be exact. */
	char out[258];
	memset(out, 'X', sizeof out);
	enum name_err e = name_check_ok(name, out);

	FUZZ_ASSERT((e == NAME_OK) == valid);
	if (valid) {
		FUZZ_ASSERT(out[0] == '/' && memcmp(out + 1, n, len + 1) == 0);
		/* The name checked again is the same name. */
		char again[258];
		FUZZ_ASSERT(name_check_ok(out, again) == NAME_OK &&
		    strcmp(again, out) == 0);
	} else {
		FUZZ_ASSERT(out[0] == 'X');
	}
	struct call c = { name, { 0 } };
	int st = fuzz_call(call_check, &c);
	FUZZ_ASSERT(valid ? st == FUZZ_RETURNED && strcmp(c.out, out) == 0 :
	    st == EXIT_USAGE && strstr(fuzz_exit_msg, "name: '") ==
	    fuzz_exit_msg);
	free(name);
	return 0;
}
