/*
 * helper.c: the module's side of pam_ropc_helper(8) (see helper.h for the
 * protocol).  The password reaches the helper through a pipe, written
 * before the helper exists; the helper gets no environment and no open
 * descriptor but the pipe and /dev/null; its exit status is the outcome.
 * As pam_unix runs unix_chkpwd, SIGCHLD is set to its default while the
 * helper runs, so that an application that ignores it (and so would have
 * its children reaped by the kernel) does not lose the status.
 */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "logging.h"

/* In the child, between fork and exec: only async-signal-safe calls. */
static void
exec_helper(int in, char *const argv[], long maxfd)
{
	static char *const envp[] = { NULL };
	int null;

	if (in == 0) {
		if (fcntl(0, F_SETFD, 0) < 0)
			_exit(126);
	} else if (dup2(in, 0) < 0) {
		_exit(126);
	}
	null = open("/dev/null", O_RDWR);
	if (null < 0 || (null != 1 && dup2(null, 1) < 0) || (null != 2 && dup2(null, 2) < 0))
		_exit(126);
	if (close_range(3, ~0U, 0) < 0) {
		long fd;

		for (fd = 3; fd < maxfd; fd++)
			(void)close((int)fd);
	}
	execve(ROPC_HELPER_PATH, argv, envp);
	_exit(127);
}

enum ropc_outcome
ropc_helper_run(struct ropc_ctx *ctx, const char *user, const char *password, char *detail,
		size_t detailsize)
{
	char *const argv[] = { (char *)"pam_ropc_helper", (char *)user, (char *)ctx->service,
			       NULL };
	size_t len = strlen(password);
	struct sigaction dfl, old;
	struct stat st;
	int fds[2], status = 0;
	long maxfd;
	pid_t pid, w;

	if (stat(ROPC_HELPER_PATH, &st) < 0) {
		snprintf(detail, detailsize, "not root, and pam_ropc_helper cannot be run: %s: %s",
			 ROPC_HELPER_PATH, strerror(errno));
		return ROPC_OUT_UNAVAILABLE;
	}
	if (!(st.st_mode & S_ISUID) || st.st_uid != 0)
		ropc_log(ctx, LOG_WARNING, "helper: %s is not setuid root; it will not be able to "
			 "read the settings (see pam_ropc_helper(8))", ROPC_HELPER_PATH);
	/* The password goes into the pipe before the helper exists: shorter
	 * than PIPE_BUF (PAM_MAX_RESP_SIZE), it neither blocks nor meets a
	 * closed end, so no SIGPIPE can reach the application. */
	if (len >= PIPE_BUF || pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(detail, detailsize, "helper: cannot make the pipe: %s",
			 len >= PIPE_BUF ? "password too long" : strerror(errno));
		return ROPC_OUT_INTERNAL;
	}
	if (write(fds[1], password, len) != (ssize_t)len) {
		snprintf(detail, detailsize, "helper: cannot write to the pipe: %s",
			 strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return ROPC_OUT_INTERNAL;
	}
	close(fds[1]);
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGCHLD, &dfl, &old);
	maxfd = sysconf(_SC_OPEN_MAX);
	pid = fork();
	if (pid == 0)
		exec_helper(fds[0], argv, maxfd > 0 ? maxfd : 1024);
	close(fds[0]);
	if (pid < 0) {
		snprintf(detail, detailsize, "helper: cannot fork: %s", strerror(errno));
		sigaction(SIGCHLD, &old, NULL);
		return ROPC_OUT_INTERNAL;
	}
	do
		w = waitpid(pid, &status, 0);
	while (w < 0 && errno == EINTR);
	sigaction(SIGCHLD, &old, NULL);
	if (w < 0) {
		snprintf(detail, detailsize, "helper: cannot wait for it: %s", strerror(errno));
		return ROPC_OUT_INTERNAL;
	}
	if (WIFSIGNALED(status)) {
		snprintf(detail, detailsize, "pam_ropc_helper was ended by signal %d%s",
			 WTERMSIG(status),
			 WTERMSIG(status) == SIGALRM ? " (its time ran out)" : "");
		return WTERMSIG(status) == SIGALRM ? ROPC_OUT_UNAVAILABLE : ROPC_OUT_INTERNAL;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		snprintf(detail, detailsize, "not root, and pam_ropc_helper cannot be run: %s",
			 ROPC_HELPER_PATH);
		return ROPC_OUT_UNAVAILABLE;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) >= ROPC_OUT_COUNT) {
		snprintf(detail, detailsize, "pam_ropc_helper exited with status %d, no outcome",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return ROPC_OUT_INTERNAL;
	}
	snprintf(detail, detailsize, "not root: through pam_ropc_helper (its own log line, "
		 "pid %ld, has the details)", (long)pid);
	return (enum ropc_outcome)WEXITSTATUS(status);
}
