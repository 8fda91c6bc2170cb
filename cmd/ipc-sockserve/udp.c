/* ipc-sockserve on udp: each datagram one message, printed whole with
 * its sender, as many as stdout takes before the loop looks elsewhere. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <err.h>

#include "ipc.h"
#include "sockserve.h"

void
on_datagram(struct server *srv, struct item *it)
{
	static char dbuf[65536];

	for (int i = 0; i < 64 && !limit_reached(srv)
	    && !out_blocked(srv); i++) {
		struct sockaddr_storage ss;
		struct iovec iov = { dbuf, sizeof dbuf };
		struct msghdr mh = { .msg_name = &ss, .msg_namelen = sizeof ss,
			.msg_iov = &iov, .msg_iovlen = 1 };
		char pre[160];
		size_t pl = 0;
		ssize_t n = recvmsg(it->fd, &mh, MSG_DONTWAIT);

		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR
			    && srv->opt.verbose)
				warn("recvmsg");
			return;
		}
		if (mh.msg_flags & MSG_TRUNC)
			warnx("datagram truncated to %zd bytes", n);
		if (srv->opt.peer) {
			addr_format((struct sockaddr *)&ss, mh.msg_namelen,
			    ADDR_TCP, pre, sizeof pre - 1);
			pl = strlen(pre);
			pre[pl++] = '\t';
		}
		const char *why = emit_unfit(srv, dbuf, (size_t)n, true);
		if (why == NULL)
			emit(srv, pre, pl, dbuf, (size_t)n, true);
		else {
			addr_format((struct sockaddr *)&ss, mh.msg_namelen,
			    ADDR_TCP, pre, sizeof pre);
			emit_refuse(srv, pre, why);
		}
		srv->accepted++;
	}
}
