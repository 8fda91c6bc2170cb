/* ipc-mq: POSIX message queues from the shell: create, send, recv, info,
 * ls, rm. Messages are framed on stdin/stdout as every ipc-utils tool
 * frames them (lines, NUL, netstrings, len32). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <mqueue.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"

#define SYNOPSIS \
	"ipc-mq create [--mode MODE] [-x] [-M MAXMSG] [-S MSGSIZE] NAME\n" \
	"ipc-mq send [-p PRIO] [-t DUR] [-c] [FRAMING] NAME [MESSAGE...]\n" \
	"ipc-mq recv [-n COUNT|-a|-f] [-t DUR] [-P] [FRAMING] NAME [-- COMMAND [ARG...]]\n" \
	"ipc-mq info [--json] NAME\n" \
	"ipc-mq ls [--json]\n" \
	"ipc-mq rm NAME..."

#define HELP "usage: " \
	"ipc-mq create [--mode MODE] [-x] [-M MAXMSG] [-S MSGSIZE] NAME\n" \
	"       ipc-mq send [-p PRIO] [-t DUR] [-c] [FRAMING] NAME [MESSAGE...]\n" \
	"       ipc-mq recv [-n COUNT|-a|-f] [-t DUR] [-P] [FRAMING] NAME [-- COMMAND [ARG...]]\n" \
	"       ipc-mq info [--json] NAME\n" \
	"       ipc-mq ls [--json]\n" \
	"       ipc-mq rm NAME...\n" \
	"POSIX message queues. NAME is q or /q.\n" \
	"  create   -M MAXMSG, -S MSGSIZE (system defaults), --mode (0600), -x (must be new)\n" \
	"  send     each MESSAGE, or each message framed from stdin; -p PRIO,\n" \
	"           -t DUR bounds a wait on a full queue (124), -c creates the queue\n" \
	"  recv     one message, -n COUNT, -a all there now, -f follow; -P prints\n" \
	"           'PRIO<tab>' first; -t DUR bounds each wait (124); with COMMAND,\n" \
	"           a run of COMMAND per message, the message on its stdin\n" \
	"  info     maxmsg=, msgsize=, curmsgs=, mode= (--json: one object)\n" \
	"  ls       the queues in the mqueue filesystem (--json: an array)\n" \
	"  rm       removes queues\n" \
	"FRAMING: lines (default), -0/--null, --netstring, --len32.\n" \
	"Common: --shared (accept a queue of another user), -v, -h, -V.\n"

#define MQ_PROC "/proc/sys/fs/mqueue/"
#define SEND_FRAME_MIN (1 << 20)  /* longest message framed on stdin */

enum { OPT_MODE = 0x2001, OPT_JSON, OPT_SHARED };

static int verbose;  /* -v: diagnostics on stderr */

/* ---- the parts every verb shares ---- */

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

static void
mq_check_owner(const char *name, mqd_t q)
{
	struct stat st;

	/* On Linux an mqd_t is a descriptor: fstat gives the queue's owner. */
	if (fstat(q, &st) == -1)
		err(EXIT_FAIL, "%s: fstat", name);
	obj_check_owner(name, &st);
}

/* Opens an existing queue; a missing one is an error that says how to
 * make it. Refuses another user's queue unless SHARED. */
static mqd_t
mq_open_existing(const char *name, int flags, bool shared)
{
	mqd_t q = mq_open(name, flags | O_CLOEXEC);

	if (q == (mqd_t)-1) {
		if (errno == ENOENT)
			errx(EXIT_FAIL, "%s: no such queue (ipc-mq create makes one)",
			    name);
		err(EXIT_FAIL, "%s", name);
	}
	if (!shared)
		mq_check_owner(name, q);
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

struct create_opts {
	mode_t mode;
	bool mode_set, excl, shared;
	long maxmsg, msgsize;  /* 0: not asked */
};

/* Creates NAME, or opens it if it exists (unless -x). *CREATED tells
 * which. An explicit --mode is exact: umask(0) around mq_open. */
static mqd_t
mq_create(const char *name, const struct create_opts *o, int flags,
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

/* Parses a subcommand's options; returns the option or -1 at the end.
 * Options every verb shares are handled here. */
static int
verb_opt(int argc, char **argv, const char *opts, const struct option *lo,
    bool *shared)
{
	int c;

	while ((c = getopt_long(argc, argv, opts, lo, NULL)) != -1) {
		switch (c) {
		case 'h': cli_help(HELP);
		case 'V': cli_version();
		case 'v': verbose++; continue;
		case OPT_SHARED: *shared = true; continue;
		case '?': cli_usage(SYNOPSIS);
		}
		return c;
	}
	return -1;
}

#define COMMON_LONGOPTS \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, 'V' }, \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "shared", no_argument, NULL, OPT_SHARED }

/* ---- create, rm ---- */

static int
cmd_create(int argc, char **argv)
{
	static const struct option lo[] = { COMMON_LONGOPTS,
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "excl", no_argument, NULL, 'x' },
		{ "maxmsg", required_argument, NULL, 'M' },
		{ "msgsize", required_argument, NULL, 'S' }, { 0 } };
	struct create_opts o = { 0 };
	char name[258];
	bool created;
	int c;

	while ((c = verb_opt(argc, argv, "+hVvxM:S:", lo, &o.shared)) != -1) {
		switch (c) {
		case OPT_MODE: o.mode = num_mode(optarg); o.mode_set = true; break;
		case 'x': o.excl = true; break;
		case 'M': o.maxmsg = (long)num_parse(optarg, 1, INT_MAX, "-M"); break;
		case 'S': o.msgsize = (long)num_parse(optarg, 1, INT_MAX, "-S"); break;
		}
	}
	if (argc - optind != 1)
		cli_usage(SYNOPSIS);
	name_check(argv[optind], name);
	mqd_t q = mq_create(name, &o, O_RDONLY, &created);
	if (!created) {
		if (!o.shared)
			mq_check_owner(name, q);
		mq_compare(name, q, &o);
	}
	if (verbose)
		warnx("%s: %s", name, created ? "created" : "exists already");
	mq_close(q);
	return EXIT_OK;
}

static int
cmd_rm(int argc, char **argv)
{
	static const struct option lo[] = { COMMON_LONGOPTS, { 0 } };
	char name[258];
	bool shared = false;
	int rc = EXIT_OK;

	if (verb_opt(argc, argv, "+hVv", lo, &shared) != -1 || optind == argc)
		cli_usage(SYNOPSIS);
	/* Every name is checked before anything is removed. */
	for (int i = optind; i < argc; i++)
		name_check(argv[i], name);
	for (int i = optind; i < argc; i++) {
		name_check(argv[i], name);
		if (mq_unlink(name) == 0)
			continue;
		if (errno == ENOENT)
			warnx("%s: no such queue", name);
		else
			warn("%s", name);
		rc = EXIT_FAIL;
	}
	return rc;
}

/* ---- info, ls ---- */

struct qinfo {
	bool have_attr, have_mode;
	struct mq_attr a;
	mode_t mode;
};

/* Attributes of NAME through a descriptor opened for either direction
 * (either permission is enough to read them). Returns -1 (errno). */
static int
qinfo_get(const char *name, struct qinfo *qi)
{
	struct stat st;
	mqd_t q = mq_open(name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (q == (mqd_t)-1 && errno == EACCES)
		q = mq_open(name, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (q == (mqd_t)-1)
		return -1;
	if (mq_getattr(q, &qi->a) == 0)
		qi->have_attr = true;
	if (fstat(q, &st) == 0) {
		qi->mode = st.st_mode & 07777;
		qi->have_mode = true;
	}
	mq_close(q);
	return 0;
}

/* A JSON string: quotes, backslashes and control bytes escaped. */
static void
json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void
qinfo_json(const char *name, const struct qinfo *qi)
{
	putchar('{');
	if (name != NULL) {
		fputs("\"name\":", stdout);
		json_str(name);
		putchar(',');
	}
	if (qi->have_attr)
		printf("\"maxmsg\":%ld,\"msgsize\":%ld,\"curmsgs\":%ld,",
		    qi->a.mq_maxmsg, qi->a.mq_msgsize, qi->a.mq_curmsgs);
	else
		fputs("\"maxmsg\":null,\"msgsize\":null,\"curmsgs\":null,", stdout);
	if (qi->have_mode)
		printf("\"mode\":\"%04o\"}", (unsigned)qi->mode);
	else
		fputs("\"mode\":null}", stdout);
}

/* One line: FIELD=VALUE separated by SEP, '-' for what is unknown. */
static void
qinfo_text(const struct qinfo *qi, char sep)
{
	if (qi->have_attr)
		printf("maxmsg=%ld%cmsgsize=%ld%ccurmsgs=%ld%c", qi->a.mq_maxmsg,
		    sep, qi->a.mq_msgsize, sep, qi->a.mq_curmsgs, sep);
	else
		printf("maxmsg=-%cmsgsize=-%ccurmsgs=-%c", sep, sep, sep);
	if (qi->have_mode)
		printf("mode=%04o\n", (unsigned)qi->mode);
	else
		printf("mode=-\n");
}

static int
cmd_info(int argc, char **argv)
{
	static const struct option lo[] = { COMMON_LONGOPTS,
		{ "json", no_argument, NULL, OPT_JSON }, { 0 } };
	struct qinfo qi = { 0 };
	bool json = false, shared = false;
	char name[258];
	int c;

	while ((c = verb_opt(argc, argv, "+hVv", lo, &shared)) != -1)
		json = true;
	if (argc - optind != 1)
		cli_usage(SYNOPSIS);
	name_check(argv[optind], name);
	if (qinfo_get(name, &qi) == -1) {
		if (errno == ENOENT)
			errx(EXIT_FAIL, "%s: no such queue", name);
		err(EXIT_FAIL, "%s", name);
	}
	if (json) {
		qinfo_json(NULL, &qi);
		putchar('\n');
	} else
		qinfo_text(&qi, '\n');
	cli_stdout_done();
	return EXIT_OK;
}

/* Decodes the octal escapes (\040) of a mountinfo field in place. */
static void
mount_unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] && s[3]) {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else
			*o++ = *s;
	}
	*o = '\0';
}

/* Where the mqueue filesystem is mounted (/dev/mqueue preferred), into
 * DIR; false when it is not mounted. */
static bool
mqueue_mount(char *dir, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL, mp[4096];
	size_t cap = 0;
	bool found = false;

	if (f == NULL)
		return false;
	while (getline(&line, &cap, f) != -1) {
		char *sep = strstr(line, " - ");
		if (sep == NULL || strncmp(sep + 3, "mqueue ", 7) != 0 ||
		    sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
			continue;
		mount_unescape(mp);
		if (!found || strcmp(mp, "/dev/mqueue") == 0)
			snprintf(dir, len, "%s", mp);
		found = true;
	}
	free(line);
	fclose(f);
	return found;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The queue names in the mqueue filesystem at DIR, sorted; *N their count. */
static char **
ls_names(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL;
	size_t cap = 0;

	if (d == NULL)
		err(EXIT_FAIL, "%s", dir);
	*n = 0;
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;  /* ".hidden" is a queue name like any other */
		if (*n == cap && (v = reallocarray(v, cap = cap * 2 + 16,
		    sizeof *v)) == NULL)
			err(EXIT_FAIL, "malloc");
		if ((v[(*n)++] = strdup(de->d_name)) == NULL)
			err(EXIT_FAIL, "malloc");
	}
	if (errno != 0)
		err(EXIT_FAIL, "%s", dir);
	closedir(d);
	qsort(v, *n, sizeof *v, name_cmp);
	return v;
}

static int
cmd_ls(int argc, char **argv)
{
	static const struct option lo[] = { COMMON_LONGOPTS,
		{ "json", no_argument, NULL, OPT_JSON }, { 0 } };
	bool json = false, shared = false;
	char dir[4096], name[258], path[4400];
	size_t n;
	int c;

	while ((c = verb_opt(argc, argv, "+hVv", lo, &shared)) != -1)
		json = true;
	if (optind != argc)
		cli_usage(SYNOPSIS);
	if (!mqueue_mount(dir, sizeof dir))
		errx(EXIT_FAIL, "the mqueue filesystem is not mounted; as root: "
		    "mkdir -p /dev/mqueue && mount -t mqueue none /dev/mqueue");
	char **v = ls_names(dir, &n);
	if (json)
		printf(n ? "[\n" : "[");
	for (size_t i = 0; i < n; i++) {
		struct qinfo qi = { 0 };
		struct stat st;
		snprintf(name, sizeof name, "/%s", v[i]);
		snprintf(path, sizeof path, "%s/%s", dir, v[i]);
		/* The mode from the file even when the queue cannot be opened. */
		if (qinfo_get(name, &qi) == -1 && lstat(path, &st) == 0) {
			qi.mode = st.st_mode & 07777;
			qi.have_mode = true;
		}
		if (json) {
			qinfo_json(name, &qi);
			fputs(i + 1 < n ? ",\n" : "\n", stdout);
		} else {
			printf("%s\t", name);
			qinfo_text(&qi, '\t');
		}
		free(v[i]);
	}
	free(v);
	if (json)
		printf("]\n");
	cli_stdout_done();
	return EXIT_OK;
}

/* ---- send ---- */

struct sender {
	const char *name;
	mqd_t q;
	long msgsize;
	unsigned prio;
	int64_t timeout;  /* ns, -1: none */
	const char *tstr;
	unsigned long n;  /* messages sent */
};

static struct timespec
deadline(int64_t ns)
{
	struct timespec ts;

	/* mq_timed* take an absolute CLOCK_REALTIME time. */
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(ns / 1000000000LL);
	ts.tv_nsec += (long)(ns % 1000000000LL);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* Sends one message, waiting while the queue is full. Exits on anything
 * else: a message is sent whole or not at all, and none after a failure. */
static void
send_one(struct sender *s, const char *msg, size_t len)
{
	unsigned long no = s->n + 1;
	int rc;

	if (len > (size_t)s->msgsize)
		errx(EXIT_FAIL, "%s: message %lu is %zu bytes, over the queue's "
		    "msgsize of %ld bytes (%lu sent before it)", s->name, no, len,
		    s->msgsize, s->n);
	for (;;) {
		sig_check();
		if (s->timeout < 0)
			rc = mq_send(s->q, msg, len, s->prio);
		else {
			struct timespec ts = deadline(s->timeout);
			rc = mq_timedsend(s->q, msg, len, s->prio, &ts);
		}
		if (rc == 0)
			break;
		if (errno == EINTR)
			continue;  /* sig_check above ends us if it was ours */
		if (errno == ETIMEDOUT) {
			warnx("%s: queue still full after %s: message %lu not sent "
			    "(%lu sent before it)", s->name, s->tstr, no, s->n);
			exit(EXIT_TIMEOUT);
		}
		err(EXIT_FAIL, "%s: message %lu", s->name, no);
	}
	s->n = no;
}

static const char *
frame_name(enum frame_kind k)
{
	switch (k) {
	case FRAME_NETSTRING: return "netstring";
	case FRAME_LEN32: return "len32 frame";
	case FRAME_NUL: return "NUL-terminated message";
	default: return "line";
	}
}

static void
send_stdin(struct sender *s, enum frame_kind kind)
{
	struct frame_reader r;
	size_t max = s->msgsize > SEND_FRAME_MIN ? (size_t)s->msgsize :
	    SEND_FRAME_MIN;
	char *msg;
	size_t len;
	int rc;

	frame_reader_init(&r, STDIN_FILENO, kind, max);
	while ((rc = frame_read(&r, &msg, &len)) == 1)
		send_one(s, msg, len);
	if (rc == -1 && errno == EMSGSIZE)
		errx(EXIT_FAIL, "%s: message %lu is over %zu bytes, over the "
		    "queue's msgsize of %ld bytes (%lu sent before it)", s->name,
		    s->n + 1, max, s->msgsize, s->n);
	if (rc == -1 && errno == EBADMSG)
		errx(EXIT_FAIL, "stdin: message %lu: malformed or truncated %s "
		    "(%lu sent before it)", s->n + 1, frame_name(kind), s->n);
	if (rc == -1)
		err(EXIT_FAIL, "stdin");
	frame_reader_free(&r);
}

static int
cmd_send(int argc, char **argv)
{
	static const struct option lo[] = { COMMON_LONGOPTS, FRAME_LONGOPTS,
		{ "priority", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 't' },
		{ "create", no_argument, NULL, 'c' }, { 0 } };
	struct sender s = { .timeout = -1 };
	struct create_opts co = { 0 };
	enum frame_kind kind = FRAME_LINE;
	struct mq_attr a;
	char name[258];
	bool create = false, created;
	int c;

	while ((c = verb_opt(argc, argv, "+hVvp:t:c0", lo, &co.shared)) != -1) {
		if (frame_opt(c, &kind))
			continue;
		switch (c) {
		case 'p':
			s.prio = (unsigned)num_parse(optarg, 0,
			    sysconf(_SC_MQ_PRIO_MAX) - 1, "-p");
			break;
		case 't': s.timeout = num_duration(optarg, "-t"); s.tstr = optarg; break;
		case 'c': create = true; break;
		}
	}
	if (optind == argc)
		cli_usage(SYNOPSIS);
	name_check(argv[optind++], name);
	s.name = name;
	if (create) {
		s.q = mq_create(name, &co, O_WRONLY, &created);
		if (!created && !co.shared)
			mq_check_owner(name, s.q);
	} else
		s.q = mq_open_existing(name, O_WRONLY, co.shared);
	if (mq_getattr(s.q, &a) == -1)
		err(EXIT_FAIL, "%s", name);
	s.msgsize = a.mq_msgsize;
	if (optind < argc)
		for (int i = optind; i < argc; i++)
			send_one(&s, argv[i], strlen(argv[i]));
	else
		send_stdin(&s, kind);
	if (verbose)
		warnx("%s: %lu messages sent", name, s.n);
	mq_close(s.q);
	return EXIT_OK;
}

/* ---- recv ---- */

struct receiver {
	const char *name;
	mqd_t q;
	char *buf;
	size_t bufsz;
	enum frame_kind kind;
	bool prio;             /* -P */
	bool batch;            /* many messages per write(2) */
	bool watch_out;        /* stdout can go away (pipe, socket) */
	bool paced;            /* stdout is a one-page pipe: see rx_setup */
	int pipe_size;         /* its size before, restored at exit */
	int64_t timeout;       /* ns per wait, -1: none */
	struct outbuf ob;
	unsigned long seq;     /* messages taken */
	unsigned long first;   /* first message in ob */
	char **cmd;            /* -- COMMAND */
	int cmd_status;        /* first failed run's status */
	long curmsgs;          /* messages there at the start (-a) */
};

static struct receiver *rx_live;  /* for the cleanup at a signal */

/* Writes what is buffered; on failure reports the messages lost (they
 * were taken from the queue) and returns -1. */
static int
rx_try_flush(struct receiver *r)
{
	if (r->ob.len == 0 || ob_flush(&r->ob) == 0)
		return 0;
	int e = errno;
	r->ob.len = 0;
	if (r->first == r->seq)
		warnx("%s: message %lu was taken from the queue but could not be "
		    "written: stdout: %s", r->name, r->seq, strerror(e));
	else
		warnx("%s: messages %lu-%lu were taken from the queue but could "
		    "not be written: stdout: %s", r->name, r->first, r->seq,
		    strerror(e));
	return -1;
}

static void
rx_flush(struct receiver *r)
{
	if (rx_try_flush(r) == -1)
		exit(EXIT_FAIL);
}

/* At SIGINT/SIGTERM: what was taken is still written out. */
static void
rx_cleanup(void)
{
	if (rx_live == NULL)
		return;
	(void)rx_try_flush(rx_live);
	if (rx_live->paced)
		(void)fcntl(STDOUT_FILENO, F_SETPIPE_SZ, rx_live->pipe_size);
}

/* Appends one message to OB, framed, with its priority first for -P
 * (inside the frame, so the framing stays parseable). */
static void
rx_put(struct receiver *r, size_t len, unsigned prio)
{
	struct outbuf *ob = &r->ob;
	char pfx[16], hdr[16];
	const char *tr;
	size_t pl = r->prio ? (size_t)snprintf(pfx, sizeof pfx, "%u\t", prio) : 0;
	size_t tl, hl = frame_header(r->kind, pl + len, hdr, &tr, &tl);

	/* OB is large enough for any one message: it never flushes by itself,
	 * so we always know which messages a failed write held. */
	if (ob->len + hl + pl + len + tl > ob->cap)
		rx_flush(r);
	if (ob->len == 0)
		r->first = r->seq;
	frame_put(ob, r->kind, pfx, pl, r->buf, len);
}

/* Waits for the run of COMMAND; a terminating signal sent to us alone
 * (not to the process group, as a terminal's is) is passed on to it
 * first, so we never leave it behind. */
static void
rx_wait_child(pid_t pid, int *ws)
{
	while (waitpid(pid, ws, 0) == -1) {
		if (errno != EINTR)
			err(EXIT_FAIL, "waitpid");
		if (sig_caught() == 0)
			continue;
		if (sig_caught_code() != SI_KERNEL)
			kill(pid, sig_caught());
		while (waitpid(pid, ws, 0) == -1 && errno == EINTR)
			;
		sig_check();
	}
}

/* Hands message SEQ to a fresh run of COMMAND on its stdin. */
static void
rx_run_cmd(struct receiver *r, size_t len, unsigned prio)
{
	char env[32];
	char *envv[] = { env, NULL };
	struct spawn sp = { .fd_out = -1, .fd_extra = -1 };
	int p[2], st, ws;

	snprintf(env, sizeof env, "IPC_MQ_PRIO=%u", prio);
	if (pipe2(p, O_CLOEXEC) == -1)
		err(EXIT_FAIL, "pipe");
	sp.fd_in = p[0];
	if (spawn_start(&sp, r->cmd, envv, &st) == -1) {
		warn("%s: message %lu was taken from the queue but not delivered: "
		    "%s", r->name, r->seq, r->cmd[0]);
		exit(st);
	}
	close(p[0]);
	r->ob.fd = p[1];
	r->ob.len = 0;
	rx_put(r, len, prio);
	/* A run that does not read its stdin is its own business: its
	 * status says whether it failed. */
	(void)ob_flush(&r->ob);
	r->ob.len = 0;
	close(p[1]);
	rx_wait_child(sp.pid, &ws);
	st = spawn_status(ws);
	if (st != 0 && verbose)
		warnx("%s: message %lu: %s exited with %d", r->name, r->seq,
		    r->cmd[0], st);
	if (st != 0 && r->cmd_status == 0)
		r->cmd_status = st;
}

static noreturn void
rx_out_gone(struct receiver *r)
{
	int unread = 0;

	rx_flush(r);
	/* Bytes still in the pipe were never read: the last message, since
	 * a paced follower waits for the pipe to drain before the next. */
	if (r->paced && r->seq > 0 &&
	    ioctl(STDOUT_FILENO, FIONREAD, &unread) == 0 && unread > 0)
		warnx("%s: message %lu was taken from the queue but stdout's "
		    "reader left before reading it", r->name, r->seq);
	exit(EXIT_FAIL);  /* otherwise quietly, as for EPIPE */
}

/* Paced follower: waits until stdout's reader has read all we wrote
 * (a one-page pipe is writable again only when empty), so no message
 * is taken while an earlier one may still be unread. */
static void
rx_wait_drained(struct receiver *r)
{
	struct pollfd p[2] = {
		{ .fd = STDOUT_FILENO, .events = POLLOUT },
		{ .fd = sig_fd(), .events = POLLIN },
	};

	for (;;) {
		int n = ppoll(p, 2, NULL, NULL);
		if (n == -1 && errno != EINTR)
			err(EXIT_FAIL, "poll");
		if (n == -1 || p[1].revents) {
			sig_drain();
			sig_check();
			continue;
		}
		if (p[0].revents & (POLLERR | POLLHUP))
			rx_out_gone(r);
		if (p[0].revents & POLLOUT)
			return;
	}
}

/* True when stdout is a pipe or socket whose reader has gone. */
static bool
rx_out_dead(void)
{
	struct pollfd p = { .fd = STDOUT_FILENO, .events = 0 };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP));
}

/* Waits until the queue has a message: the queue descriptor is
 * non-blocking, so the one blocking call is this ppoll, which a signal,
 * the -t bound and stdout's reader leaving all end. */
static void
rx_wait(struct receiver *r)
{
	struct pollfd p[3] = {
		{ .fd = r->q, .events = POLLIN },
		{ .fd = sig_fd(), .events = POLLIN },
		{ .fd = STDOUT_FILENO, .events = 0 },
	};
	int64_t end = r->timeout >= 0 ? num_now() + r->timeout : 0;

	for (;;) {
		struct timespec ts, *tsp = NULL;
		if (r->timeout >= 0) {
			int64_t left = end - num_now();
			if (left <= 0)
				exit(EXIT_TIMEOUT);
			ts = num_ts(left);
			tsp = &ts;
		}
		int n = ppoll(p, r->watch_out ? 3 : 2, tsp, NULL);
		if (n == -1 && errno != EINTR)
			err(EXIT_FAIL, "poll");
		if (n == -1 || p[1].revents) {
			sig_drain();
			sig_check();
			continue;
		}
		if (n == 0)
			exit(EXIT_TIMEOUT);
		if (r->watch_out && p[2].revents)
			rx_out_gone(r);
		if (p[0].revents)
			return;
	}
}

/* Receives COUNT messages (-1: forever; ALL: until the queue is empty). */
static void
rx_loop(struct receiver *r, long long count, bool all)
{
	while (count < 0 || r->seq < (unsigned long long)count) {
		unsigned prio;
		sig_check();
		/* Stdout's reader gone? Checked before each receive that starts
		 * a batch, and every 32 messages within one: a poll per message
		 * would cost a third of the receiver's time, and a message
		 * already buffered is reported if its write fails anyway. */
		if (r->paced)
			rx_wait_drained(r);
		else if (r->watch_out && (r->ob.len == 0 || r->seq % 32 == 0) &&
		    rx_out_dead())
			rx_out_gone(r);
		ssize_t n = mq_receive(r->q, r->buf, r->bufsz, &prio);
		if (n >= 0) {
			r->seq++;
			if (r->cmd != NULL)
				rx_run_cmd(r, (size_t)n, prio);
			else {
				rx_put(r, (size_t)n, prio);
				if (!r->batch)
					rx_flush(r);
			}
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			err(EXIT_FAIL, "%s: receive", r->name);
		/* The queue is momentarily empty: deliver what we hold, so a
		 * follower stays prompt, then wait. */
		rx_flush(r);
		if (all)
			break;
		rx_wait(r);
	}
	rx_flush(r);
}

/* COMMAND must be found before any message is taken for it. */
static void
cmd_findable(const char *cmd)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (strchr(cmd, '/') != NULL) {
		if (access(cmd, X_OK) == 0)
			return;
		err(127, "%s", cmd);
	}
	if (path == NULL)
		path = "/usr/local/bin:/bin:/usr/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		snprintf(buf, sizeof buf, "%.*s%s%s", (int)n, path, n ? "/" : "",
		    cmd);
		if (access(buf, X_OK) == 0)
			return;
		path += n + (path[n] == ':');
	}
	errx(127, "%s: command not found", cmd);
}

static void
rx_setup(struct receiver *r, const char *name, bool shared, bool follow)
{
	struct mq_attr a;
	struct stat st;

	r->name = name;
	r->q = mq_open_existing(name, O_RDONLY | O_NONBLOCK, shared);
	/* A buffer smaller than msgsize makes mq_receive fail (EMSGSIZE). */
	if (mq_getattr(r->q, &a) == -1)
		err(EXIT_FAIL, "%s", name);
	r->bufsz = (size_t)a.mq_msgsize;
	r->curmsgs = a.mq_curmsgs;
	if ((r->buf = malloc(r->bufsz)) == NULL)
		err(EXIT_FAIL, "malloc");
	ob_init(&r->ob, STDOUT_FILENO, 64 * 1024 + r->bufsz + 64);
	r->watch_out = r->cmd == NULL && fstat(STDOUT_FILENO, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
	/* A follower whose reader may leave at any line (head -1) gets one
	 * write per message, so it never holds messages nobody will read. */
	r->batch = !(follow && r->watch_out);
	/* ... and, on a pipe, paces itself on its reader: with the pipe
	 * shrunk to one page, POLLOUT means "all read" (see rx_wait_drained),
	 * so `recv -f q | head -1` leaves the later messages in the queue. */
	if (follow && r->watch_out && S_ISFIFO(st.st_mode)) {
		r->pipe_size = fcntl(STDOUT_FILENO, F_GETPIPE_SZ);
		r->paced = r->pipe_size > 0 && fcntl(STDOUT_FILENO, F_SETPIPE_SZ,
		    (int)sysconf(_SC_PAGESIZE)) != -1;
	}
	rx_live = r;
	sig_cleanup(rx_cleanup);
}

static int
cmd_recv(int argc, char **argv)
{
	static const struct option lo[] = { COMMON_LONGOPTS, FRAME_LONGOPTS,
		{ "count", required_argument, NULL, 'n' },
		{ "all", no_argument, NULL, 'a' },
		{ "follow", no_argument, NULL, 'f' },
		{ "priority", no_argument, NULL, 'P' },
		{ "timeout", required_argument, NULL, 't' }, { 0 } };
	struct receiver r = { .timeout = -1, .kind = FRAME_LINE };
	long long count = 1;
	bool all = false, follow = false, shared = false;
	int modes = 0, c;
	char name[258];

	while ((c = verb_opt(argc, argv, "+hVvn:aft:P0", lo, &shared)) != -1) {
		if (frame_opt(c, &r.kind))
			continue;
		switch (c) {
		case 'n': count = num_parse(optarg, 0, LLONG_MAX, "-n"); modes++; break;
		case 'a': all = true; modes++; break;
		case 'f': follow = true; count = -1; modes++; break;
		case 'P': r.prio = true; break;
		case 't': r.timeout = num_duration(optarg, "-t"); break;
		}
	}
	if (modes > 1)
		cli_usage_err("-n, -a and -f exclude one another");
	if (optind == argc)
		cli_usage(SYNOPSIS);
	name_check(argv[optind++], name);
	if (optind < argc) {
		if (strcmp(argv[optind], "--") != 0 || optind + 1 == argc)
			cli_usage(SYNOPSIS);
		r.cmd = argv + optind + 1;
		cmd_findable(r.cmd[0]);
	}
	rx_setup(&r, name, shared, follow);
	/* -a: the messages there now, not those a fast producer adds. */
	rx_loop(&r, all ? r.curmsgs : count, all);
	if (verbose)
		warnx("%s: %lu messages received", name, r.seq);
	rx_live = NULL;
	ob_free(&r.ob);
	free(r.buf);
	mq_close(r.q);
	return r.cmd_status;
}

/* ---- main ---- */

int
main(int argc, char **argv)
{
	static const struct option lo[] = { COMMON_LONGOPTS, { 0 } };
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} verbs[] = {
		{ "create", cmd_create }, { "send", cmd_send }, { "recv", cmd_recv },
		{ "info", cmd_info }, { "ls", cmd_ls }, { "rm", cmd_rm },
	};
	bool shared = false;

	cli_init(argc, argv);
	if (verb_opt(argc, argv, "+hVv", lo, &shared) != -1 || optind == argc)
		cli_usage(SYNOPSIS);
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
		if (strcmp(argv[optind], verbs[i].name) != 0)
			continue;
		argc -= optind;
		argv += optind;
		optind = 0;  /* glibc: start a fresh scan of the verb's own options */
		return verbs[i].fn(argc, argv);
	}
	cli_usage_err("'%s' is not a verb (create, send, recv, info, ls, rm)",
	    argv[optind]);
}
