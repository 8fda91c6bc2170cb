/* ipc-sockserve's memory budget: one bound (--max-held) on all the bytes
 * the server holds on behalf of clients, whatever they send: unfinished
 * -0/--netstring/--len32 messages, partial lines and broadcast backlogs.
 * Each such buffer charges its capacity to the budget while it has one
 * (lib/frame.c, lib/merge.c; the backlogs here), and gives it back once
 * emptied; a client whose buffer would take the total past the bound is
 * the one dropped, and every other client is served on. */
#include <errno.h>
#include <malloc.h>
#include <string.h>
#include <err.h>

#include "ipc.h"
#include "sockserve.h"


/* After the options: the defaults, and a message limit the budget can
 * hold. */
void
held_init(struct server *srv)
{
	if (srv->opt.cmd != NULL && (srv->opt.max_held || srv->opt.max_msg))
		cli_usage_err("--max-held and --max-message are for print mode: "
		    "in exec mode the command holds what its client sends");
	if (srv->opt.max_held == 0)
		srv->opt.max_held = HELD_MAX;
	if (srv->opt.max_msg == 0)
		srv->opt.max_msg = MSG_MAX < srv->opt.max_held ? MSG_MAX
		    : srv->opt.max_held;
	if (srv->opt.max_msg > srv->opt.max_held)
		cli_usage_err("--max-message: %zu bytes are more than --max-held "
		    "(%zu bytes) can hold: raise --max-held too",
		    srv->opt.max_msg,
		    srv->opt.max_held);
	srv->held.max = srv->opt.max_held;
#ifdef M_MMAP_THRESHOLD
	/* Big buffers in pages of their own, whatever sizes came and went
	 * before (glibc would raise the threshold after each free), so
	 * freeing one gives it back to the kernel: RSS follows the budget. */
	(void)mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
}

/* A new connection's buffers charge the budget. */
void
held_attach(struct server *srv, struct conn *c)
{
	c->fr.budget = &srv->held;
	c->src.budget = &srv->held;
}

/* C's next buffer would take the bytes held for clients past the budget:
 * it is dropped (a -v note), with what it had not finished, and counts as
 * a failed connection. */
void
conn_drop(struct server *srv, struct conn *c)
{
	char why[128];

	if (srv->msgmode) {
		/* An unfinished message is never printed as if whole. */
		c->fr.start = c->fr.end;
		c->fr.eof = true;
	}
	snprintf(why, sizeof why, "dropped: it would take the memory held for "
	    "clients past --max-held (%zu bytes)", srv->held.max);
	conn_end(srv, c, EXIT_FAIL, why);
}

/* Makes room for LEN more bytes in C's broadcast backlog, charged to the
 * budget; false when the budget cannot hold it. */
bool
bcast_room(struct server *srv, struct conn *c, size_t len)
{
	/* What was sent goes before the backlog grows. */
	if (c->out_len + len > c->out_cap)
		buf_drop(c->out, &c->out_off, &c->out_len);
	return buf_reserve_in(&srv->held, &c->out, &c->out_cap,
	    c->out_len + len,
	    4096);
}
