/* Socket ADDRESSes as ipc-sockcat(1) and ipc-sockserve(1) write them:
 * parsing, resolution and the printed form that ipc-sockcat reads back. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/un.h>
#include <time.h>
#include <err.h>

#include "ipc.h"

static const struct {
	const char *prefix;
	enum addr_proto proto;
	int family;
} addr_prefixes[] = {
	{ "tcp:", ADDR_TCP, AF_UNSPEC }, { "tcp4:", ADDR_TCP, AF_INET },
	{ "tcp6:", ADDR_TCP, AF_INET6 }, { "udp:", ADDR_UDP, AF_UNSPEC },
	{ "udp4:", ADDR_UDP, AF_INET }, { "udp6:", ADDR_UDP, AF_INET6 },
	{ "unix:", ADDR_UNIX, AF_UNIX },
};

/* A port: decimal 0-65535 without leading zeros, or a service name. */
static void
addr_port(const char *s, struct addr *a, bool server, const char *whole)
{
	long long v;

	if (s[0] >= '0' && s[0] <= '9') {
		if (num_parse_ok(s, server ? 0 : 1, 65535, &v) == -1)
			errx(EXIT_USAGE, "%s: invalid port '%s' (%s-65535 or a "
			    "service name)", whole, s, server ? "0" : "1");
	} else {
		const char *proto = a->proto == ADDR_UDP ? "udp" : "tcp";
		struct servent *se = s[0] ? getservbyname(s, proto) : NULL;
		if (se == NULL)
			errx(EXIT_USAGE, "%s: invalid port '%s' (%s-65535 or a "
			    "service name)", whole, s, server ? "0" : "1");
		v = ntohs((uint16_t)se->s_port);
	}
	snprintf(a->port, sizeof a->port, "%lld", v);
}

static void
addr_unix(const char *path, struct addr *a, const char *whole)
{
	size_t len = strlen(path);

	a->proto = ADDR_UNIX;
	a->family = AF_UNIX;
	a->abstract = path[0] == '@';
	if (a->abstract) {
		path++;
		len--;
	}
	if (len == 0)
		errx(EXIT_USAGE, "%s: empty socket path", whole);
	/* Never truncated: a shorter name would be another socket. */
	if (len >= sizeof a->path)
		errx(EXIT_USAGE, "%s: socket path is %zu bytes, the limit is %zu",
		    whole, len, sizeof a->path - 1);
	memcpy(a->path, path, len + 1);
	a->pathlen = len;
}

/* HOST:PORT, [V6]:PORT, :PORT, PORT, *:PORT. */
static void
addr_hostport(const char *s, struct addr *a, bool server, const char *whole)
{
	const char *port = s, *colon;
	size_t hl = 0;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (rb == NULL || rb[1] != ':')
			errx(EXIT_USAGE, "%s: expected [IPV6]:PORT", whole);
		hl = (size_t)(rb - s - 1);
		if (hl == 0)
			errx(EXIT_USAGE, "%s: empty IPv6 address", whole);
		if (hl >= sizeof a->host)
			errx(EXIT_USAGE, "%s: host name too long", whole);
		memcpy(a->host, s + 1, hl);
		port = rb + 2;
	} else if ((colon = strrchr(s, ':')) != NULL) {
		size_t w = strcspn(s, ":");
		/* Two colons: an IPv6 address without brackets, or, when
		 * what comes first cannot begin one, a mistyped scheme. */
		if (w < (size_t)(colon - s) && strspn(s, "0123456789abcdefABCDEF") < w)
			errx(EXIT_USAGE, "%s: unknown scheme '%.*s' (tcp, tcp4, "
			    "tcp6, udp, udp4, udp6, unix)", whole, (int)w, s);
		if (w < (size_t)(colon - s))
			errx(EXIT_USAGE, "%s: an IPv6 address needs brackets: "
			    "[ADDR]:PORT", whole);
		hl = (size_t)(colon - s);
		if (hl >= sizeof a->host)
			errx(EXIT_USAGE, "%s: host name too long", whole);
		memcpy(a->host, s, hl);
		port = colon + 1;
	}
	a->host[hl] = '\0';
	if (strcmp(a->host, "*") == 0) {
		if (!server)
			errx(EXIT_USAGE, "%s: '*' is for servers only", whole);
		a->any = true;
		a->host[0] = '\0';
	}
	addr_port(port, a, server, whole);
}

void
addr_parse(const char *s, struct addr *a, bool server)
{
	const char *rest = s;

	memset(a, 0, sizeof *a);
	a->proto = ADDR_TCP;
	a->family = AF_UNSPEC;
	for (size_t i = 0; i < sizeof addr_prefixes / sizeof addr_prefixes[0];
	    i++) {
		size_t n = strlen(addr_prefixes[i].prefix);
		if (strncmp(s, addr_prefixes[i].prefix, n) == 0) {
			a->proto = addr_prefixes[i].proto;
			a->family = addr_prefixes[i].family;
			rest = s + n;
			if (a->proto == ADDR_UNIX)
				return addr_unix(rest, a, s);
			break;
		}
	}
	if (rest == s && strchr(s, '/') != NULL)
		return addr_unix(s, a, s);
	if (*rest == '\0')
		errx(EXIT_USAGE, "'%s': empty address", s);
	addr_hostport(rest, a, server, s);
}

/* A name through the resolver, in a helper thread (getaddrinfo_a), so
 * that DEADLINE (num_now() ns, -1: none) and a terminating signal end a
 * resolver that does not answer: getaddrinfo(3) itself would retry for
 * many seconds and take no notice of either. */
static int
addr_resolve_async(const char *host, const char *port,
    const struct addrinfo *hints, struct addrinfo **res, int64_t deadline)
{
	struct gaicb req = { .ar_name = host, .ar_service = port,
		.ar_request = hints };
	struct gaicb *list[1] = { &req };
	struct sigevent none = { .sigev_notify = SIGEV_NONE };
	int rc = getaddrinfo_a(GAI_NOWAIT, list, 1, &none);

	if (rc != 0)
		return rc;
	while ((rc = gai_error(&req)) == EAI_INPROGRESS) {
		struct timespec ts, *tp = NULL;
		if (deadline >= 0) {
			int64_t left = deadline - num_now();
			if (left <= 0)
				errx(EXIT_TIMEOUT, "cannot resolve '%s': timed out",
				    host);
			ts.tv_sec = left / 1000000000;
			ts.tv_nsec = left % 1000000000;
			tp = &ts;
		}
		/* EAI_INTR: a signal (our handlers do not restart). */
		if (gai_suspend((const struct gaicb *const *)list, 1, tp) ==
		    EAI_INTR)
			sig_check();
	}
	*res = req.ar_result;
	return rc;
}

struct addrinfo *
addr_resolve_by(const struct addr *a, bool server, int64_t deadline)
{
	struct addrinfo hints, *res;
	const char *host = a->host[0] ? a->host : (a->any ? NULL : "localhost");
	int rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = a->family;
	hints.ai_socktype = a->proto == ADDR_UDP ? SOCK_DGRAM : SOCK_STREAM;
	/* No AI_ADDRCONFIG: it drops ::1 on a host whose only IPv6 address
	 * is loopback. */
	hints.ai_flags = AI_NUMERICSERV | (server && a->any ? AI_PASSIVE : 0);
	/* A literal address needs no thread. */
	hints.ai_flags |= AI_NUMERICHOST;
	rc = getaddrinfo(host, a->port, &hints, &res);
	if (rc == EAI_NONAME && host != NULL) {
		hints.ai_flags &= ~AI_NUMERICHOST;
		rc = addr_resolve_async(host, a->port, &hints, &res, deadline);
	}
	if (rc == EAI_SYSTEM)
		err(EXIT_FAIL, "cannot resolve '%s'", host ? host : "*");
	if (rc != 0)
		errx(EXIT_FAIL, "cannot resolve '%s': %s", host ? host : "*",
		    gai_strerror(rc));
	return res;
}

struct addrinfo *
addr_resolve(const struct addr *a, bool server)
{
	return addr_resolve_by(a, server, -1);
}

socklen_t
addr_sun(const struct addr *a, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	if (a->abstract) {
		memcpy(sun->sun_path + 1, a->path, a->pathlen);
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
		    a->pathlen);
	}
	memcpy(sun->sun_path, a->path, a->pathlen);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + a->pathlen + 1);
}

void
addr_numeric(const struct sockaddr *sa, socklen_t len, char *host,
    size_t hostlen, char *port, size_t portlen)
{
	if (getnameinfo(sa, len, host, (socklen_t)hostlen, port,
	    (socklen_t)portlen, NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(host, hostlen, "?");
		snprintf(port, portlen, "?");
	}
}

void
addr_format(const struct sockaddr *sa, socklen_t len, enum addr_proto proto,
    char *out, size_t outlen)
{
	const char *pre = proto == ADDR_UDP ? "udp:" : "";
	char host[INET6_ADDRSTRLEN + 16], port[16];

	if (sa->sa_family == AF_UNIX) {
		const struct sockaddr_un *sun = (const struct sockaddr_un *)sa;
		size_t n = len > offsetof(struct sockaddr_un, sun_path) ?
		    len - offsetof(struct sockaddr_un, sun_path) : 0;
		if (n > 0 && sun->sun_path[0] == '\0')
			snprintf(out, outlen, "unix:@%.*s", (int)(n - 1),
			    sun->sun_path + 1);
		else
			snprintf(out, outlen, "unix:%.*s", (int)strnlen(
			    sun->sun_path, n), sun->sun_path);
		return;
	}
	addr_numeric(sa, len, host, sizeof host, port, sizeof port);
	if (sa->sa_family == AF_INET6)
		snprintf(out, outlen, "%s[%s]:%s", pre, host, port);
	else
		snprintf(out, outlen, "%s%s:%s", pre, host, port);
}
