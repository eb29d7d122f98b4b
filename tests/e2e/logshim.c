/*
 * logshim.c: an LD_PRELOAD helper for the end-to-end tests (test_e2e.py).
 *
 * It replaces pam_syslog/pam_vsyslog and appends every line, as
 * "[pid N] SYSLOG(PRIO): text", to the file named by ROPC_E2E_SYSLOG.
 *
 * Why not pam_wrapper's own stderr logging: for keyboard-interactive, sshd
 * runs PAM in a forked child that empties `environ` first (auth-pam.c,
 * sshpam_thread: environ[0] = NULL).  pam_wrapper reads
 * PAM_WRAPPER_DEBUGLEVEL / PAM_WRAPPER_USE_SYSLOG with getenv() at each
 * call, so in that child only LOG_ERR and worse reach stderr and the
 * module's LOG_NOTICE/LOG_INFO line is lost.  This shim reads the path once,
 * when it is loaded (the environment is intact then), keeps it in static
 * memory that survives fork() and the emptied environment, and opens the
 * file for each line (sshd closes inherited descriptors at startup, so a
 * descriptor opened at load time would not stay ours).
 *
 * Preload it before libpam_wrapper.so so that its definitions win.  Each
 * line is also handed on to the next pam_vsyslog (pam_wrapper's), so the
 * test can compare what pam_wrapper alone would have shown.
 * No PAM headers needed: the two prototypes are declared here.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct pam_handle pam_handle_t;

void pam_vsyslog(const pam_handle_t *pamh, int priority, const char *fmt, va_list args);
void pam_syslog(const pam_handle_t *pamh, int priority, const char *fmt, ...);

typedef void (*vsyslog_fn)(const pam_handle_t *, int, const char *, va_list);

static char log_path[4096];

__attribute__((constructor)) static void
shim_init(void)
{
	const char *p = getenv("ROPC_E2E_SYSLOG");

	if (p != NULL && p[0] == '/' && strlen(p) < sizeof(log_path))
		memcpy(log_path, p, strlen(p) + 1);
}

void
pam_vsyslog(const pam_handle_t *pamh, int priority, const char *fmt, va_list args)
{
	static vsyslog_fn next;
	char line[8192];
	int saved = errno, n, m, fd;
	size_t i;
	va_list copy;

	if (next == NULL)
		next = (vsyslog_fn)dlsym(RTLD_NEXT, "pam_vsyslog");
	if (next != NULL && next != pam_vsyslog) {
		va_copy(copy, args);
		next(pamh, priority, fmt, copy);
		va_end(copy);
	}
	if (log_path[0] == '\0') {
		errno = saved;
		return;
	}
	n = snprintf(line, sizeof(line), "[pid %ld] SYSLOG(%d): ", (long)getpid(), priority);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		errno = saved;
		return;
	}
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, args);
	if (m < 0)
		m = 0;
	if ((size_t)(n + m) > sizeof(line) - 2)
		m = (int)(sizeof(line) - 2) - n;
	n += m;
	for (i = 0; i < (size_t)n; i++)     /* one record, one line */
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[n++] = '\n';
	fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		/* O_APPEND and one write() per record: lines from parallel
		 * sshd children do not interleave. */
		if (write(fd, line, (size_t)n) < 0) {
			/* nothing to do: this is a test aid */
		}
		close(fd);
	}
	errno = saved;
}

void
pam_syslog(const pam_handle_t *pamh, int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pam_vsyslog(pamh, priority, fmt, ap);
	va_end(ap);
}
