/* libFuzzer target for lib/addr.c's addr_parse: every ADDRESS a user (or
 * a script fed by others) types. Whatever the bytes, it either exits 2
 * with a message (caught, see fuzz.h) or fills a struct addr that holds
 * the ADDRESS rules: ports numeric and in range, '*' only for servers,
 * paths exact and never truncated. The address written back as text
 * (and a Unix one through addr_sun and addr_format, as a server prints
 * it) parses to the same struct. First byte: bit 0 server. */
#include <string.h>

#include "ipc.h"
#include "fuzz.h"

struct call { const char *s; struct addr a; bool server; };

static void
call_parse(void *arg)
{
	struct call *c = arg;
	addr_parse(c->s, &c->a, c->server);
}

/* Parses S; true and *A when valid. A rejection must be a usage error. */
static bool
parse(const char *s, struct addr *a, bool server)
{
	struct call c = { .s = s, .server = server };
	int st = fuzz_call(call_parse, &c);

	FUZZ_ASSERT(st == FUZZ_RETURNED || st == EXIT_USAGE);
	FUZZ_ASSERT(st == FUZZ_RETURNED || fuzz_exit_msg[0] != '\0');
	if (st != FUZZ_RETURNED)
		return false;
	*a = c.a;
	return true;
}

static const char *
scheme(const struct addr *a)
{
	static const char *const tcp[] = { "tcp:", "tcp4:", "tcp6:" };
	static const char *const udp[] = { "udp:", "udp4:", "udp6:" };
	int i = a->family == AF_INET ? 1 : a->family == AF_INET6 ? 2 : 0;

	return a->proto == ADDR_UDP ? udp[i] : tcp[i];
}

static void
check_inet(const struct addr *a, bool server)
{
	char *end;
	unsigned long port = strtoul(a->port, &end, 10);

	FUZZ_ASSERT(a->port[0] >= '0' && a->port[0] <= '9' && *end == '\0');
	FUZZ_ASSERT(port <= 65535 && (server || port >= 1));
	FUZZ_ASSERT(a->port[0] != '0' || a->port[1] == '\0');
	FUZZ_ASSERT(strlen(a->host) < sizeof a->host);
	FUZZ_ASSERT(!a->any || (server && a->host[0] == '\0'));
	FUZZ_ASSERT(a->path[0] == '\0' && a->pathlen == 0 && !a->abstract);
	FUZZ_ASSERT(a->family == AF_UNSPEC || a->family == AF_INET ||
	    a->family == AF_INET6);
}

static void
check_unix(const struct addr *a)
{
	FUZZ_ASSERT(a->family == AF_UNIX);
	FUZZ_ASSERT(a->pathlen > 0 && a->pathlen < sizeof a->path);
	FUZZ_ASSERT(strlen(a->path) == a->pathlen);
	FUZZ_ASSERT(a->host[0] == '\0' && a->port[0] == '\0' && !a->any);
}

/* A's text form, as a user would write it. */
static void
unparse(const struct addr *a, char *out, size_t n)
{
	if (a->proto == ADDR_UNIX)
		snprintf(out, n, "unix:%s%s", a->abstract ? "@" : "", a->path);
	else if (a->any)
		snprintf(out, n, "%s*:%s", scheme(a), a->port);
	else if (strchr(a->host, ':') != NULL || a->host[0] == '[' ||
	    strcmp(a->host, "*") == 0)
		snprintf(out, n, "%s[%s]:%s", scheme(a), a->host, a->port);
	else
		snprintf(out, n, "%s%s:%s", scheme(a), a->host, a->port);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	bool server = fuzz_byte(&in) & 1;
	char *s = fuzz_string(&in);
	char text[512];
	struct addr a, b;

	if (!parse(s, &a, server))
		goto out;
	if (a.proto == ADDR_UNIX)
		check_unix(&a);
	else
		check_inet(&a, server);
	unparse(&a, text, sizeof text);
	FUZZ_ASSERT(parse(text, &b, server));
	FUZZ_ASSERT(memcmp(&a, &b, sizeof a) == 0);
	if (a.proto == ADDR_UNIX) {
		/* What the server prints (addr_format of the bound address)
		 * is an ADDRESS that names the same socket. */
		struct sockaddr_un sun;
		socklen_t len = addr_sun(&a, &sun);
		FUZZ_ASSERT(len <= sizeof sun);
		addr_format((struct sockaddr *)&sun, len, ADDR_UNIX, text,
		    sizeof text);
		FUZZ_ASSERT(parse(text, &b, server));
		FUZZ_ASSERT(memcmp(&a, &b, sizeof a) == 0);
	}
out:
	free(s);
	return 0;
}
