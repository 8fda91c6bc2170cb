/* Is anyone listening on a Unix socket file? Asked of the kernel through
 * sock_diag(7) rather than by connecting: a probe connection would reach
 * the live server as a client (a `-1` server would take it as its one
 * connection, an exec-mode server would run its program for it). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

#include "ipc.h"

#define UDIAG_LISTEN 10  /* TCP_LISTEN: Unix sockets share the TCP states */

/* Does message M (of the dump) describe a socket bound to ST's file? */
static bool
udiag_match(const struct nlmsghdr *m, const struct stat *st)
{
	const struct unix_diag_msg *d = NLMSG_DATA(m);
	int len = (int)m->nlmsg_len - NLMSG_LENGTH(sizeof *d);
	/* The kernel's own dev_t: major above bit 20, not stat's encoding. */
	uint32_t dev = major(st->st_dev) << 20 | minor(st->st_dev);

	for (const struct rtattr *a = (const void *)(d + 1); RTA_OK(a, len);
	    a = RTA_NEXT(a, len)) {
		const struct unix_diag_vfs *v = RTA_DATA(a);
		if (a->rta_type == UNIX_DIAG_VFS &&
		    RTA_PAYLOAD(a) >= sizeof *v &&
		    v->udiag_vfs_ino == (uint32_t)st->st_ino &&
		    v->udiag_vfs_dev == dev)
			return true;
	}
	return false;
}

/* NLMSG_OK compares the u32 nlmsg_len with the int LEN (that NLMSG_NEXT
 * counts down): clang warns of it inside the macro; gcc, seeing a system
 * header's macro, does not. LEN is never negative where it is compared. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
int
udiag_reply(const void *buf, size_t n, const struct stat *st, int *found)
{
	int len = (int)n;

	for (const struct nlmsghdr *m = buf; NLMSG_OK(m, len);
	    m = NLMSG_NEXT(m, len)) {
		if (m->nlmsg_type == NLMSG_DONE)
			return 1;
		if (m->nlmsg_type == NLMSG_ERROR)
			return -1;
		if (m->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
		    m->nlmsg_len >= NLMSG_LENGTH(sizeof(struct unix_diag_msg)) &&
		    udiag_match(m, st))
			*found = 1;
	}
	return 0;
}
#pragma GCC diagnostic pop

/* Reads the dump's replies. Returns 1 if a listener matched, 0 if none
 * did, -1 on error. */
static int
udiag_scan(int s, const struct stat *st)
{
	static char buf[32768] __attribute__((aligned(8)));
	int found = 0;

	for (;;) {
		ssize_t n = recv(s, buf, sizeof buf, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		int rc = udiag_reply(buf, (size_t)n, st, &found);
		if (rc != 0)
			return rc == 1 ? found : -1;
	}
}

int
udiag_listening(const struct stat *st)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req req;
	} q = {
		.nlh = { .nlmsg_len = sizeof q, .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		    .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.req = { .sdiag_family = AF_UNIX,
		    .udiag_states = 1u << UDIAG_LISTEN,
		    .udiag_show = UDIAG_SHOW_VFS },
	};
	int s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	int rc = -1;

	if (s == -1)
		return -1;
	if (send(s, &q, sizeof q, 0) == (ssize_t)sizeof q)
		rc = udiag_scan(s, st);
	close(s);
	return rc;
}
