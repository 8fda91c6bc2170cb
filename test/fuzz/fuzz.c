/* Shared by the fuzz targets: see fuzz.h. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdnoreturn.h>
#include <string.h>
#include <err.h>

#include "fuzz.h"

char fuzz_exit_msg[1024];
static jmp_buf *fuzz_jmp;
static int fuzz_status;

int
fuzz_call(void (*fn)(void *), void *arg)
{
	jmp_buf jb, *outer = fuzz_jmp;

	if (setjmp(jb) != 0) {
		fuzz_jmp = outer;
		return fuzz_status;
	}
	fuzz_jmp = &jb;
	fuzz_exit_msg[0] = '\0';
	fn(arg);
	fuzz_jmp = outer;
	return FUZZ_RETURNED;
}

/* The message is formatted in full either way: a bad format argument
 * is found by the sanitizers even when it is never printed. */
static noreturn void
fuzz_exit(int status, int e, const char *fmt, va_list ap)
{
	size_t n = 0;

	if (fmt != NULL)
		vsnprintf(fuzz_exit_msg, sizeof fuzz_exit_msg, fmt, ap);
	else
		fuzz_exit_msg[0] = '\0';
	n = strlen(fuzz_exit_msg);
	if (e != 0)
		snprintf(fuzz_exit_msg + n, sizeof fuzz_exit_msg - n, ": %s",
		    strerror(e));
	if (fuzz_jmp == NULL) {
		fprintf(stderr, "%s\n", fuzz_exit_msg);
		exit(status);
	}
	fuzz_status = status;
	longjmp(*fuzz_jmp, 1);
}

void
verr(int status, const char *fmt, va_list ap)
{
	fuzz_exit(status, errno, fmt, ap);
}

void
verrx(int status, const char *fmt, va_list ap)
{
	fuzz_exit(status, 0, fmt, ap);
}

void
err(int status, const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	fuzz_exit(status, e, fmt, ap);
}

void
errx(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fuzz_exit(status, 0, fmt, ap);
}

uint8_t
fuzz_byte(struct fuzz_in *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

uint32_t
fuzz_u32(struct fuzz_in *in)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v = v << 8 | fuzz_byte(in);
	return v;
}

size_t
fuzz_bytes(struct fuzz_in *in, void *out, size_t max)
{
	size_t n = max < in->n ? max : in->n;

	memcpy(out, in->p, n);
	in->p += n;
	in->n -= n;
	return n;
}

char *
fuzz_string(struct fuzz_in *in)
{
	size_t n = strnlen((const char *)in->p, in->n);
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	memcpy(s, in->p, n);
	s[n] = '\0';
	in->p += in->n;
	in->n = 0;
	return s;
}
