/* libipc, processes: starting a child, finding a command. Included by ipc.h, which every
 * part of ipc-utils includes; not on its own. */
#ifndef IPC_PROC_H
#define IPC_PROC_H

/* ---- spawn.c: run a child ---- */

struct spawn {
	pid_t pid;
	int fd_in;   /* child's stdin (spawn_fds: -1 = /dev/null) */
	int fd_out;  /* child's stdout (-1 = inherit ours) */
	int fd_extra;  /* extra descriptor passed as EXTRA_NUM, or -1 */
	int extra_num;
	bool pdeathsig;  /* die with the parent */
};
/* Forks and execs ARGV[0] (PATH search) with the descriptors in SP placed
 * on 0/1 (and EXTRA_NUM), SIGPIPE default, empty mask, no other fds of ours
 * (ours are close-on-exec), ENV pairs "K=V" or "K" (unset) applied first.
 * Exec failure reaches us through a close-on-exec pipe: returns -1 with
 * errno the child's, and *STATUS set to 127 (not found) or 126; a child
 * that could not be started at all (pipe, fork) returns -1 with *STATUS
 * EXIT_FAIL. Returns 0 with SP->pid set on success. */
int spawn_start(struct spawn *sp, char *const argv[], char *const env[],
    int *status);
/* Exit status of a wait status as the shell shows it (128+N for signal N). */
int spawn_status(int wstatus);
/* Exit status for a command that exec failed to run with errno E, as the
 * shell gives it: 127 when it is not there (ENOENT), else 126 (it is
 * there but cannot run: EACCES, a directory, ...). */
int spawn_exec_status(int e);

/* ---- cmdpath.c: a command found as execvp(3) finds it ---- */

/* Finds NAME as execvp(3) would run it: a name with a '/' is that file;
 * another is looked for in each PATH entry in turn (an empty entry is the
 * current directory; without PATH, confstr's _CS_PATH), passing over a
 * directory or a file we may not execute, and stopping at any other
 * error but "not there". Returns 0 with the file to execve(2) in OUT
 * (SIZE bytes); else the errno execvp would give: ENOENT when nothing is
 * there (a shell's 127), or why the first file found cannot run (EACCES,
 * EISDIR, ...: 126), that file in OUT. */
int cmd_find(const char *name, char *out, size_t size);
/* cmd_find, exiting on failure as a shell would: 127 and "NAME: command
 * not found", or 126 (127 for a missing NAME with a '/') and "FILE: why". */
void cmd_require(const char *name, char *out, size_t size);

#endif
