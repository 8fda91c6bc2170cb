/* ipc-shmcount: the ls and rm verbs: every counter in /dev/shm, and
 * removal of counters only, never of anything else found there. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"
#include "shmcount.h"

struct entry {
	char name[258];
	int64_t value;
};

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name,
	    ((const struct entry *)b)->name);
}

int
shc_ls(struct cmd *c)
{
	struct entry *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *d;
	DIR *dir;

	if ((dir = opendir(SHM_DIR)) == NULL)
		err(EXIT_FAIL, "%s", SHM_DIR);
	while ((errno = 0, d = readdir(dir)) != NULL) {
		int64_t val;
		/* Only regular files are ever opened (DT_UNKNOWN: fstat
		 * after a non-blocking open decides). */
		if (d->d_type != DT_REG && d->d_type != DT_UNKNOWN)
			continue;
		if (strlen(d->d_name) > 255 ||
		    !shc_peek(dirfd(dir), d->d_name, &val, NULL))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((v = reallocarray(v, cap, sizeof *v)) == NULL)
				err(EXIT_FAIL, "ls");
		}
		snprintf(v[n].name, sizeof v[n].name, "/%s", d->d_name);
		v[n++].value = val;
	}
	if (errno != 0)
		err(EXIT_FAIL, "%s", SHM_DIR);
	closedir(dir);
	if (n > 0)
		qsort(v, n, sizeof *v, entry_cmp);
	struct json j = { 0 };
	if (c->json)
		json_open(&j, '[');
	for (size_t i = 0; i < n; i++) {
		if (c->json) {
			json_open(&j, '{');
			json_key(&j, "name");
			json_str(&j, v[i].name);
			json_key(&j, "value");
			json_int(&j, v[i].value);
			json_close(&j);
		} else {
			text_name(v[i].name);
			printf("\t%jd\n", (intmax_t)v[i].value);
		}
	}
	if (c->json)
		json_close(&j);
	if (c->verbose)
		warnx("%zu counter(s) in %s", n, SHM_DIR);
	free(v);
	cli_stdout_done();
	return EXIT_OK;
}

int
shc_rm(struct cmd *c)
{
	int rc = EXIT_OK;

	for (int i = 0; i < c->argc; i++) {
		char path[sizeof SHM_DIR + 258], slash[258];
		struct stat st;
		int64_t val;

		shc_path(c->argv[i], path, slash);
		if (shc_peek(AT_FDCWD, path, &val, &st)) {
			/* Only the file we checked: not one put in its place
			 * since. */
			int r = obj_unlink_same(path, st.st_dev, st.st_ino);
			if (r == 0 && c->verbose)
				warnx("%s: removed, its value was %jd", slash,
				    (intmax_t)val);
			if (r == 0)
				continue;
			if (r == 1)
				warnx("%s: replaced while being removed, left alone",
				    slash);
			else
				warn("%s", slash);
		} else if (access(path, F_OK) == -1 && errno == ENOENT)
			warnx("%s: no such counter", slash);
		else
			warnx("%s: not an ipc-shmcount counter, left alone",
			    slash);
		rc = EXIT_FAIL;
	}
	return rc;
}
