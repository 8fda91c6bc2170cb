/* ipc-mq: the info and ls verbs: a queue's attributes, and the queues in
 * the mqueue filesystem, as text or JSON. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <err.h>

#include "ipc.h"
#include "mq.h"

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

static void
qinfo_json(struct json *j, const char *name, const struct qinfo *qi)
{
	const char *keys[] = { "maxmsg", "msgsize", "curmsgs" };
	long vals[] = { qi->a.mq_maxmsg, qi->a.mq_msgsize, qi->a.mq_curmsgs };
	char mode[8];

	json_open(j, '{');
	if (name != NULL) {
		json_key(j, "name");
		json_str(j, name);
	}
	for (int i = 0; i < 3; i++) {
		json_key(j, keys[i]);
		if (qi->have_attr)
			json_int(j, vals[i]);
		else
			json_null(j);
	}
	json_key(j, "mode");
	snprintf(mode, sizeof mode, "%04o", (unsigned)qi->mode);
	if (qi->have_mode)
		json_str(j, mode);
	else
		json_null(j);
	json_close(j);
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

static bool mqueue_mount(char *dir, size_t len);

int
mqt_cmd_info(struct mq_run *m)
{
	struct qinfo qi = { 0 };
	char name[258];

	name_check(m->ops[0], name);
	if (qinfo_get(name, &qi) == -1) {
		if (errno == ENOENT)
			errx(EXIT_FAIL, "%s: no such queue", name);
		err(EXIT_FAIL, "%s", name);
	}
	char dir[4096];
	if (m->verbose && mqueue_mount(dir, sizeof dir))
		warnx("%s: the file %s%s (ls -l shows its owner)", name, dir,
		    name);
	if (m->json) {
		struct json j = { 0 };
		qinfo_json(&j, NULL, &qi);
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

int
mqt_cmd_ls(struct mq_run *m)
{
	bool json = m->json;
	char dir[4096], name[258], path[4400];
	size_t n;

	if (!mqueue_mount(dir, sizeof dir))
		errx(EXIT_FAIL, "the mqueue filesystem is not mounted; as root: "
		    "mkdir -p /dev/mqueue && mount -t mqueue none /dev/mqueue");
	char **v = ls_names(dir, &n);
	struct json j = { 0 };
	if (json)
		json_open(&j, '[');
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
		if (json)
			qinfo_json(&j, name, &qi);
		else {
			text_name(name);
			putchar('\t');
			qinfo_text(&qi, '\t');
		}
		free(v[i]);
	}
	free(v);
	if (json)
		json_close(&j);
	if (m->verbose)
		warnx("%zu queue(s) in %s", n, dir);
	cli_stdout_done();
	return EXIT_OK;
}
