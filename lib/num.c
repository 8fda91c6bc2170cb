/* Strict numbers, durations and modes: anything doubtful is a usage error. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <err.h>

#include "ipc.h"

int
num_parse_ok(const char *s, long long min, long long max, long long *out)
{
	const char *d = s + (s[0] == '-');
	const char *errstr;

	/* strtonum alone takes " 5", "+5" and "010"; none is what a user
	 * meant to type, and "010" reads as octal to some. */
	if (*d < '0' || *d > '9' || (d[0] == '0' && d[1] != '\0') ||
	    strspn(d, "0123456789") != strlen(d)) {
		errno = EINVAL;
		return -1;
	}
	/* strtonum takes "-0" as 0: a sign where none is allowed. */
	if (s[0] == '-' && min >= 0) {
		errno = ERANGE;
		return -1;
	}
	*out = strtonum(s, min, max, &errstr);
	if (errstr != NULL) {
		errno = ERANGE;
		return -1;
	}
	return 0;
}

long long
num_parse(const char *s, long long min, long long max, const char *what)
{
	long long v;

	if (num_parse_ok(s, min, max, &v) == 0)
		return v;
	if (errno == ERANGE)
		errx(EXIT_USAGE, "%s: '%s' is out of range (%lld to %lld)",
		    what, s, min, max);
	errx(EXIT_USAGE, "%s: '%s' is not a number", what, s);
}

/* SIZE as the user would write it: "64M" where it is a whole number of
 * MiB, else bytes. */
static const char *
num_size_str(uint64_t size, char out[32])
{
	static const char unit[] = "GMK";

	for (int i = 0; i < 3; i++) {
		uint64_t mult = (uint64_t)1 << (10 * (3 - i));
		if (size >= mult && size % mult == 0) {
			snprintf(out, 32, "%" PRIu64 "%c", size / mult, unit[i]);
			return out;
		}
	}
	snprintf(out, 32, "%" PRIu64, size);
	return out;
}

uint64_t
num_size(const char *s, uint64_t min, uint64_t max, const char *what)
{
	size_t nd = strspn(s, "0123456789");
	const char *suffix = s + nd;
	uint64_t mult = 1, v = 0;
	char a[32], b[32];

	/* Digits as num_parse takes them (no sign, space or leading zero),
	 * then at most one letter: K, M or G (KiB, MiB, GiB). */
	if (nd == 0 || nd > 19 || (s[0] == '0' && nd > 1))
		goto bad;
	if (strcmp(suffix, "K") == 0)
		mult = (uint64_t)1 << 10;
	else if (strcmp(suffix, "M") == 0)
		mult = (uint64_t)1 << 20;
	else if (strcmp(suffix, "G") == 0)
		mult = (uint64_t)1 << 30;
	else if (*suffix != '\0')
		goto bad;
	for (size_t i = 0; i < nd; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');  /* 19 digits: no overflow */
	if (v > max / mult || v * mult < min)
		errx(EXIT_USAGE, "%s: '%s' is out of range (%s to %s)", what, s,
		    num_size_str(min, a), num_size_str(max, b));
	return v * mult;
bad:
	errx(EXIT_USAGE, "%s: '%s' is not a size (bytes, or with K, M or G "
	    "for KiB, MiB, GiB: 65536, 64K, 8M)", what, s);
}

/* The fraction digits of a duration, as nanoseconds of UNIT. */
static int64_t
num_fraction(const char *f, size_t n, int64_t unit)
{
	int64_t v = 0, scale = unit;

	for (size_t i = 0; i < n && scale >= 10; i++) {
		scale /= 10;
		v += (f[i] - '0') * scale;
	}
	return v;
}

int
num_duration_ok(const char *s, int64_t *out)
{
	size_t ni = strspn(s, "0123456789"), nf = 0;
	const char *unit = s + ni, *frac = NULL;
	int64_t mult = 1000000000LL;
	long long whole;

	errno = EINVAL;
	if (*unit == '.') {
		frac = unit + 1;
		nf = strspn(frac, "0123456789");
		unit = frac + nf;
		if (nf == 0)
			return -1;
	}
	if (ni == 0 || ni > 12)
		return -1;
	if (strcmp(unit, "ms") == 0)
		mult = 1000000LL;
	else if (strcmp(unit, "m") == 0)
		mult = 60 * 1000000000LL;
	else if (strcmp(unit, "h") == 0)
		mult = 3600 * 1000000000LL;
	else if (strcmp(unit, "") != 0 && strcmp(unit, "s") != 0)
		return -1;
	whole = strtoll(s, NULL, 10);
	/* A year at most in any unit: far beyond any useful bound, and far
	 * from int64 overflow. */
	if (whole > (365LL * 86400 * 1000000000LL) / mult) {
		errno = ERANGE;
		return -1;
	}
	*out = whole * mult + (frac ? num_fraction(frac, nf, mult) : 0);
	return 0;
}

int64_t
num_duration(const char *s, const char *what)
{
	int64_t ns;

	if (num_duration_ok(s, &ns) == 0)
		return ns;
	if (errno == ERANGE)
		errx(EXIT_USAGE, "%s: '%s' is too long (a year at most)", what, s);
	errx(EXIT_USAGE, "%s: '%s' is not a duration (like 250ms, 1.5s, 2m, 1h)",
	    what, s);
}

int
num_mode_ok(const char *s, mode_t *out)
{
	size_t n = strlen(s);

	if (n == 0 || n > 5 || strspn(s, "01234567") != n) {
		errno = EINVAL;
		return -1;
	}
	unsigned long v = strtoul(s, NULL, 8);
	/* Set-id and sticky bits mean nothing on a FIFO, a queue, a shared
	 * memory object or a socket: refused alike by every tool. */
	if (v > 0777) {
		errno = ERANGE;
		return -1;
	}
	*out = (mode_t)v;
	return 0;
}

mode_t
num_mode(const char *s)
{
	mode_t m;

	if (num_mode_ok(s, &m) == 0)
		return m;
	if (errno == ERANGE)
		errx(EXIT_USAGE, "--mode: '%s': only permission bits (0 to 0777) "
		    "are accepted", s);
	errx(EXIT_USAGE, "--mode: '%s' is not an octal mode (like 0600)", s);
}

int64_t
num_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int
num_poll_ms(int64_t ns)
{
	if (ns < 0)
		return -1;
	return ns > 86400000000000LL ? 86400000 :
	    (int)((ns + 999999) / 1000000);
}

struct timespec
num_ts(int64_t ns)
{
	if (ns < 0)
		ns = 0;
	return (struct timespec){ .tv_sec = ns / 1000000000LL,
		.tv_nsec = ns % 1000000000LL };
}

const char *
num_duration_str(int64_t ns)
{
	static char out[32];
	const int64_t S = 1000000000LL, MS = 1000000LL;

	if (ns % (3600 * S) == 0 && ns > 0)
		snprintf(out, sizeof out, "%lldh", (long long)(ns / (3600 * S)));
	else if (ns % (60 * S) == 0 && ns > 0)
		snprintf(out, sizeof out, "%lldm", (long long)(ns / (60 * S)));
	else if (ns % S == 0)
		snprintf(out, sizeof out, "%llds", (long long)(ns / S));
	else if (ns % MS == 0 && ns < S)
		snprintf(out, sizeof out, "%lldms", (long long)(ns / MS));
	else {
		/* Milliseconds at most, without trailing zeros: "1.5s". */
		int n = snprintf(out, sizeof out, "%.3f", (double)ns / (double)S);
		while (n > 0 && out[n - 1] == '0')
			out[--n] = '\0';
		if (n > 0 && out[n - 1] == '.')
			out[--n] = '\0';
		snprintf(out + n, sizeof out - (size_t)n, "s");
	}
	return out;
}
