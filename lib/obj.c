/* Existing objects opened safely: never by name alone. The path is opened
 * O_PATH (no side effects: a FIFO does not block, a device is not
 * touched), checked with fstat, and only then reopened for real through
 * /proc/self/fd. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <err.h>

#include "ipc.h"

const char *
obj_type_name(mode_t type)
{
	switch (type & S_IFMT) {
	case S_IFIFO: return "a FIFO";
	case S_IFREG: return "a regular file";
	case S_IFDIR: return "a directory";
	case S_IFSOCK: return "a socket";
	case S_IFLNK: return "a symbolic link";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	}
	return "of unknown type";
}

void
obj_check_owner(const char *what, const struct stat *st)
{
	struct passwd *pw;

	if (st->st_uid == geteuid() || st->st_uid == 0)
		return;
	pw = getpwuid(st->st_uid);
	if (pw != NULL)
		errx(EXIT_FAIL, "%s: owned by %s (uid %u), not by us: "
		    "--shared accepts it", what, pw->pw_name,
		    (unsigned)st->st_uid);
	errx(EXIT_FAIL, "%s: owned by uid %u, not by us: --shared accepts it",
	    what, (unsigned)st->st_uid);
}

int
obj_reopen(int fd, int flags)
{
	char proc[64];

	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	return open(proc, flags | O_CLOEXEC);
}

int
obj_open(const char *path, mode_t type, int flags, bool follow,
    bool shared, bool missing_ok, struct stat *stp)
{
	struct stat st;
	int pfd, fd;

	pfd = open(path, O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
	if (pfd == -1) {
		if (errno == ENOENT && missing_ok)
			return -1;
		err(EXIT_FAIL, "%s", path);
	}
	if (fstat(pfd, &st) == -1)
		err(EXIT_FAIL, "%s", path);
	if ((st.st_mode & S_IFMT) != type) {
		if (S_ISLNK(st.st_mode))
			errx(EXIT_FAIL, "%s: is a symbolic link, not followed "
			    "without --follow", path);
		errx(EXIT_FAIL, "%s: is %s, not %s", path,
		    obj_type_name(st.st_mode), obj_type_name(type));
	}
	if (!shared)
		obj_check_owner(path, &st);
	/* For a FIFO this open blocks until the other end arrives; a signal
	 * (handlers without SA_RESTART) or sig_alarm interrupts it. */
	while ((fd = obj_reopen(pfd, flags)) == -1) {
		if (errno != EINTR || sig_caught() || sig_alarmed())
			break;
	}
	int saved = errno;
	close(pfd);
	if (fd == -1) {
		errno = saved;
		if (errno == EINTR)
			return -1;
		err(EXIT_FAIL, "%s", path);
	}
	if (stp != NULL)
		*stp = st;
	return fd;
}

mode_t
obj_umask_for(bool explicit_mode)
{
	mode_t old = umask(0);

	/* Default modes go through the user's umask (it may narrow 0600);
	 * an explicit --mode is exact, as mkfifo -m is. */
	if (!explicit_mode)
		umask(old);
	return old;
}

int
obj_unlink_same(const char *path, dev_t dev, ino_t ino)
{
	const char *slash = strrchr(path, '/');
	const char *base = path;
	struct stat st;
	int dfd = AT_FDCWD, rc, e;

	/* The directory is pinned first: the check and the unlink then
	 * name the same entry of the same directory, even if a directory
	 * above it is renamed or replaced by a link in between. What is
	 * left is the moment between fstatat and unlinkat (Linux has no
	 * unlink by descriptor). A trailing '/' is left to the kernel. */
	if (slash != NULL && slash[1] != '\0') {
		char *dir = slash == path ? strdup("/") :
		    strndup(path, (size_t)(slash - path));
		if (dir == NULL)
			return -1;
		dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		e = errno;
		free(dir);
		if (dfd == -1) {
			errno = e;
			return -1;
		}
		base = slash + 1;
	}
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == -1)
		rc = -1;
	else if (st.st_dev != dev || st.st_ino != ino)
		rc = 1;
	else
		rc = unlinkat(dfd, base, 0) == 0 ? 0 : -1;
	e = errno;
	if (dfd != AT_FDCWD)
		close(dfd);
	errno = e;
	return rc;
}
