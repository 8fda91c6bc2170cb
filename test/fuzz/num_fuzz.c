/* libFuzzer target for lib/num.c: the strict numbers, durations and modes
 * every option argument goes through. Each parser is checked against the
 * rule ipc.h states, written out here a second way, and the exiting
 * variant must agree with the _ok one (and exit 2, never crash).
 * The first input byte chooses the parser. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "ipc.h"
#include "fuzz.h"

/* Bounds the callers use, and the extremes. */
static const long long bounds[] = {
	LLONG_MIN, -1000000, -1, 0, 1, 2, 9, 255, 65535, 32767, INT_MAX,
	LLONG_MAX - 1, LLONG_MAX,
};
#define NBOUNDS (sizeof bounds / sizeof bounds[0])

static bool
all_digits(const char *s, size_t n, const char *set)
{
	return strspn(s, set) >= n;
}

/* num_parse's rule: -?(0|[1-9][0-9]*), a '-' only where MIN < 0. */
static void
check_parse(const char *s, long long min, long long max)
{
	long long v = 0;
	int rc = num_parse_ok(s, min, max, &v), e = errno;
	const char *d = s + (s[0] == '-');
	size_t nd = strlen(d);
	bool grammar = nd > 0 && all_digits(d, nd, "0123456789") &&
	    (d[0] != '0' || nd == 1);

	if (!grammar) {
		FUZZ_ASSERT(rc == -1 && e == EINVAL);
		return;
	}
	errno = 0;
	long long want = strtoll(s, NULL, 10);
	bool overflow = errno == ERANGE;
	if (overflow || want < min || want > max || (s[0] == '-' && min >= 0)) {
		FUZZ_ASSERT(rc == -1 && e == ERANGE);
		return;
	}
	FUZZ_ASSERT(rc == 0 && v == want);
}

struct parse_call { const char *s; long long min, max, v; };
static void
call_parse(void *arg)
{
	struct parse_call *c = arg;
	c->v = num_parse(c->s, c->min, c->max, "fuzz");
}

/* A duration: [0-9]{1,12}(.[0-9]+)?(ms|s|m|h)?, a year at most. */
static void
check_duration(const char *s)
{
	int64_t v = -1;
	int rc = num_duration_ok(s, &v), e = errno;
	size_t ni = strspn(s, "0123456789"), nf = 0;
	const char *unit = s + ni;
	__int128 mult = 1000000000;

	if (*unit == '.') {
		nf = strspn(unit + 1, "0123456789");
		unit += 1 + nf;
	}
	if (strcmp(unit, "ms") == 0)
		mult = 1000000;
	else if (strcmp(unit, "m") == 0)
		mult = (__int128)60 * 1000000000;
	else if (strcmp(unit, "h") == 0)
		mult = (__int128)3600 * 1000000000;
	else if (*unit != '\0' && strcmp(unit, "s") != 0)
		mult = 0;
	if (ni == 0 || ni > 12 || (s[ni] == '.' && nf == 0) || mult == 0) {
		FUZZ_ASSERT(rc == -1 && e == EINVAL);
		return;
	}
	__int128 whole = strtoll(s, NULL, 10);
	if (whole * mult > (__int128)365 * 86400 * 1000000000) {
		/* The check is on whole units: within one unit of a year,
		 * either answer is the rule's. */
		if (rc == 0) {
			FUZZ_ASSERT((whole - 1) * mult <= (__int128)365 * 86400 *
			    1000000000);
			return;
		}
		FUZZ_ASSERT(e == ERANGE);
		return;
	}
	FUZZ_ASSERT(rc == 0);
	/* The fraction adds less than one unit, and exactly its value
	 * when the unit holds its digits whole. */
	FUZZ_ASSERT(v >= whole * mult && v < (whole + 1) * mult);
	if (nf > 0 && nf <= 9) {
		__int128 f = 0, p = 1;
		for (size_t i = 0; i < nf; i++) {
			f = f * 10 + (s[ni + 1 + i] - '0');
			p *= 10;
		}
		if (mult % p == 0)
			FUZZ_ASSERT(v == whole * mult + f * (mult / p));
	}
}

struct dur_call { const char *s; int64_t v; };
static void
call_duration(void *arg)
{
	struct dur_call *c = arg;
	c->v = num_duration(c->s, "fuzz");
}

/* A mode: 1 to 5 octal digits, at most 0777. */
static void
check_mode(const char *s)
{
	mode_t m = 0;
	int rc = num_mode_ok(s, &m), e = errno;
	size_t n = strlen(s);

	if (n == 0 || n > 5 || !all_digits(s, n, "01234567")) {
		FUZZ_ASSERT(rc == -1 && e == EINVAL);
		return;
	}
	unsigned long want = strtoul(s, NULL, 8);
	if (want > 0777) {
		FUZZ_ASSERT(rc == -1 && e == ERANGE);
		return;
	}
	FUZZ_ASSERT(rc == 0 && m == want);
}

struct mode_call { const char *s; mode_t v; };
static void
call_mode(void *arg)
{
	struct mode_call *c = arg;
	c->v = num_mode(c->s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t sel = fuzz_byte(&in);
	long long lo = bounds[fuzz_byte(&in) % NBOUNDS];
	long long hi = bounds[fuzz_byte(&in) % NBOUNDS];
	char *s = fuzz_string(&in);
	int st;

	switch (sel % 4) {
	case 0: {
		if (lo > hi) {
			long long t = lo;
			lo = hi;
			hi = t;
		}
		check_parse(s, lo, hi);
		struct parse_call c = { s, lo, hi, 0 };
		long long v = 0;
		int ok = num_parse_ok(s, lo, hi, &v);
		st = fuzz_call(call_parse, &c);
		FUZZ_ASSERT(ok == 0 ? st == FUZZ_RETURNED && c.v == v :
		    st == EXIT_USAGE);
		break;
	}
	case 1: {
		check_duration(s);
		struct dur_call c = { s, 0 };
		int64_t v = 0;
		int ok = num_duration_ok(s, &v);
		st = fuzz_call(call_duration, &c);
		FUZZ_ASSERT(ok == 0 ? st == FUZZ_RETURNED && c.v == v :
		    st == EXIT_USAGE);
		break;
	}
	case 2: {
		check_mode(s);
		struct mode_call c = { s, 0 };
		mode_t v = 0;
		int ok = num_mode_ok(s, &v);
		st = fuzz_call(call_mode, &c);
		FUZZ_ASSERT(ok == 0 ? st == FUZZ_RETURNED && c.v == v :
		    st == EXIT_USAGE);
		break;
	}
	case 3:
		/* num_size (sizes such as 64M, being added on another branch):
		 * its rule and its _ok/exiting agreement go here, as above. */
		break;
	}
	free(s);
	return 0;
}
