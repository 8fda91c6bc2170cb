/* ipc-mq: opening and creating queues, with errors that name the limit
 * hit; the create and rm verbs. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <err.h>

#include "ipc.h"
#include "mq.h"

#define MQ_PROC "/proc/sys/fs/mqueue/"

/* A /proc/sys/fs/mqueue value, or -1 when it cannot be read. */
static long
mq_sysctl(const char *leaf)
{
	char path[96];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof path, MQ_PROC "%s", leaf);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* Exits 1 unless queue Q is ours or root's. */
void
mqt_check_owner(const char *name, mqd_t q)
{
	struct stat st;

	/* On Linux an mqd_t is a descriptor: fstat gives the queue's owner. */
	if (fstat(q, &st) == -1)
		err(EXIT_FAIL, "%s: fstat", name);
	obj_check_owner(name, &st);
}

/* Opens an existing queue; a missing one is an error that says how to
 * make it. Refuses another user's queue unless SHARED. */
mqd_t
mqt_open_existing(const char *name, int flags, bool shared)
{
	mqd_t q = mq_open(name, flags | O_CLOEXEC);

	if (q == (mqd_t)-1) {
		if (errno == ENOENT)
			errx(EXIT_FAIL, "%s: no such queue (ipc-mq create makes one)",
			    name);
		err(EXIT_FAIL, "%s", name);
	}
	if (!shared)
		mqt_check_owner(name, q);
	return q;
}

static void
rlim_str(rlim_t v, char *buf, size_t len)
{
	if (v == RLIM_INFINITY)
		snprintf(buf, len, "unlimited");
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
}

/* mq_open's errors for a new queue name the limit and where it is set:
 * EINVAL, EMFILE and ENOSPC alone would read like bugs. */
static noreturn void
mq_create_failed(const char *name, const struct mq_attr *a)
{
	int e = errno;
	long mx = mq_sysctl("msg_max"), sx = mq_sysctl("msgsize_max");
	struct rlimit rq, rn;
	char q[32], n[32];

	if (e == EINVAL && a != NULL && mx >= 0 && a->mq_maxmsg > mx)
		errx(EXIT_FAIL, "%s: maxmsg %ld is over the system limit msg_max "
		    "%ld (" MQ_PROC "msg_max)", name, a->mq_maxmsg, mx);
	if (e == EINVAL && a != NULL && sx >= 0 && a->mq_msgsize > sx)
		errx(EXIT_FAIL, "%s: msgsize %ld is over the system limit "
		    "msgsize_max %ld (" MQ_PROC "msgsize_max)", name,
		    a->mq_msgsize, sx);
	if (e == EMFILE && getrlimit(RLIMIT_MSGQUEUE, &rq) == 0 &&
	    getrlimit(RLIMIT_NOFILE, &rn) == 0) {
		rlim_str(rq.rlim_cur, q, sizeof q);
		rlim_str(rn.rlim_cur, n, sizeof n);
		errx(EXIT_FAIL, "%s: cannot create: this user's queues would "
		    "exceed the queue memory limit RLIMIT_MSGQUEUE (%s bytes, "
		    "see ulimit -q), or the descriptor limit RLIMIT_NOFILE "
		    "(%s, see ulimit -n) is reached", name, q, n);
	}
	if (e == ENOSPC)
		errx(EXIT_FAIL, "%s: cannot create: the system-wide number of "
		    "queues is at its limit queues_max (%ld, " MQ_PROC
		    "queues_max)", name, mq_sysctl("queues_max"));
	errno = e;
	err(EXIT_FAIL, "%s", name);
}

/* Creates NAME, or opens it if it exists (unless -x). *CREATED tells
 * which. An explicit --mode is exact: umask(0) around mq_open. */
mqd_t
mqt_create(const char *name, const struct create_opts *o, int flags,
    bool *created)
{
	struct mq_attr a = { 0 }, *ap = NULL;

	if (o->maxmsg || o->msgsize) {
		long dm = mq_sysctl("msg_default"), ds = mq_sysctl("msgsize_default");
		a.mq_maxmsg = o->maxmsg ? o->maxmsg : (dm > 0 ? dm : 10);
		a.mq_msgsize = o->msgsize ? o->msgsize : (ds > 0 ? ds : 8192);
		ap = &a;
	}
	for (;;) {
		mode_t old = obj_umask_for(o->mode_set);
		mqd_t q = mq_open(name, flags | O_CREAT | O_EXCL | O_CLOEXEC,
		    o->mode_set ? o->mode : 0600, ap);
		int e = errno;
		if (o->mode_set)
			umask(old);
		if (q != (mqd_t)-1) {
			*created = true;
			return q;
		}
		errno = e;
		if (e != EEXIST)
			mq_create_failed(name, ap);
		if (o->excl)
			errx(EXIT_FAIL, "%s: exists already (-x asks for a new queue)",
			    name);
		*created = false;
		if ((q = mq_open(name, flags | O_CLOEXEC)) != (mqd_t)-1)
			return q;
		if (errno != ENOENT)
			err(EXIT_FAIL, "%s", name);
		/* Removed between the two opens: try again. */
	}
}

/* An existing queue must have what was asked: O_CREAT alone would
 * silently ignore other attributes. */
static void
mq_compare(const char *name, mqd_t q, const struct create_opts *o)
{
	struct mq_attr a;
	struct stat st;
	char want[96] = "";
	size_t w = 0;
	mode_t mode;

	if (mq_getattr(q, &a) == -1 || fstat(q, &st) == -1)
		err(EXIT_FAIL, "%s", name);
	mode = st.st_mode & 07777;
	if ((!o->maxmsg || a.mq_maxmsg == o->maxmsg) &&
	    (!o->msgsize || a.mq_msgsize == o->msgsize) &&
	    (!o->mode_set || mode == o->mode))
		return;
	if (o->maxmsg)
		w += (size_t)snprintf(want + w, sizeof want - w, " maxmsg=%ld",
		    o->maxmsg);
	if (o->msgsize)
		w += (size_t)snprintf(want + w, sizeof want - w, " msgsize=%ld",
		    o->msgsize);
	if (o->mode_set)
		snprintf(want + w, sizeof want - w, " mode=%04o", (unsigned)o->mode);
	errx(EXIT_FAIL, "%s: exists with maxmsg=%ld msgsize=%ld mode=%04o, not "
	    "the asked%s", name, a.mq_maxmsg, a.mq_msgsize, (unsigned)mode, want);
}

/* ---- create, rm ---- */

int
mqt_cmd_create(struct mq_run *m)
{
	const struct create_opts *co = &m->co;
	char name[258];
	bool created;

	name_check(m->ops[0], name);
	mqd_t q = mqt_create(name, co, O_RDONLY, &created);
	if (!created) {
		if (!co->shared)
			mqt_check_owner(name, q);
		mq_compare(name, q, co);
	}
	if (m->verbose)
		warnx("%s: %s", name, created ? "created" : "exists already");
	mq_close(q);
	return EXIT_OK;
}

int
mqt_cmd_rm(struct mq_run *m)
{
	char name[258];
	int rc = EXIT_OK;

	/* Every name is checked before anything is removed. */
	for (int i = 0; i < m->nops; i++)
		name_check(m->ops[i], name);
	for (int i = 0; i < m->nops; i++) {
		name_check(m->ops[i], name);
		if (mq_unlink(name) == 0) {
			if (m->verbose)
				warnx("%s: removed", name);
			continue;
		}
		if (errno == ENOENT)
			warnx("%s: no such queue", name);
		else
			warn("%s", name);
		rc = EXIT_FAIL;
	}
	return rc;
}
