/*
 * pam_ropc_helper.c: pam_ropc_helper(8), the program through which the
 * module logs in a caller that is not root (a screen locker), as pam_unix
 * does with unix_chkpwd.  See helper.h for the protocol.
 *
 * It is installed setuid root, and the first thing it does is to give up
 * what it can of root: all three uids and gids 0 (the caller can no
 * longer signal or trace it), no supplementary group, its own limits,
 * priority, scheduling and timers, every capability dropped from every
 * set including the bounding set, no_new_privs, not dumpable, no core,
 * an empty environment, /dev/null on fd 1 and 2 and no other descriptor
 * but fd 0.  What is left is uid 0 as the owner of root's files (the
 * settings, the secret, cache_dir), which it must read and write as the
 * module does; it is still the owner of every other root file too (see
 * pam_ropc_helper(8), SECURITY).  Then:
 *
 *   - it takes its settings from ROPC_DEFAULT_CONFIG only (never from its
 *     caller: one able to pass token_endpoint could send the client secret
 *     to its own server);
 *   - it checks only its caller's own password: the real uid it was run
 *     with must own USER, else it refuses, logs and exits;
 *   - it reads the password from fd 0, which must be a pipe;
 *   - it runs the module's own login (online, offline cache, fail fast,
 *     which it obeys but never changes: its caller can slow it down to
 *     make any request time out), exports no token, and exits with the outcome's number, after a pause
 *     of ROPC_HELPER_FAIL_DELAY seconds for anything but a success;
 *   - an alarm bounds the whole run (the settings' timeouts, a few
 *     requests' worth); when it rings the helper dies of SIGALRM, which the
 *     module reads as unavailable.
 *   - libpam lets only modules use PAM data and PAM_AUTHTOK, so the
 *     helper runs the module's login below those steps
 *     (ropc_authenticate_helper), in a handle that only carries the log
 *     lines.
 *
 * Why not setgid to a group of its own: the helper must also write root's
 * state (the offline entry after an online success, its failure counter,
 * the breaker), and a file that a setgid program creates belongs to its
 * caller, who could then reset the counter that stops guessing.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <security/pam_appl.h>
#include <security/pam_modules.h>

#include "auth.h"
#include "common.h"
#include "helper.h"
#include "logging.h"
#include "options.h"
#include "outcome.h"
#include "user.h"

/* Before the PAM handle exists, lines go straight to syslog. */
ROPC_PRINTF(2, 3) static void
early_log(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsyslog(prio, fmt, ap);
	va_end(ap);
}

/* Limits, priority, scheduling, CPU affinity and interval timers of our
 * own, not the caller's.  0 or -1 with why. */
static int
reset_process(char *why, size_t whysize)
{
	static const struct { int res; rlim_t cur, max; } lim[] = {
		{ RLIMIT_CPU, RLIM_INFINITY, RLIM_INFINITY },
		{ RLIMIT_FSIZE, RLIM_INFINITY, RLIM_INFINITY },
		{ RLIMIT_DATA, RLIM_INFINITY, RLIM_INFINITY },
		{ RLIMIT_AS, RLIM_INFINITY, RLIM_INFINITY },
		{ RLIMIT_STACK, (rlim_t)8 * 1024 * 1024, RLIM_INFINITY },
		{ RLIMIT_NOFILE, 1024, 4096 },
		{ RLIMIT_LOCKS, RLIM_INFINITY, RLIM_INFINITY },
		{ RLIMIT_CORE, 0, 0 },
	};
	const struct itimerval off = { { 0, 0 }, { 0, 0 } };
	const struct sched_param normal = { 0 };
	cpu_set_t all;
	size_t i;

	for (i = 0; i < sizeof(lim) / sizeof(lim[0]); i++) {
		struct rlimit r = { lim[i].cur, lim[i].max };

		if (setrlimit(lim[i].res, &r) < 0) {
			snprintf(why, whysize, "cannot reset its limits: %s", strerror(errno));
			return -1;
		}
	}
	CPU_ZERO(&all);
	for (i = 0; i < CPU_SETSIZE; i++)
		CPU_SET(i, &all);
	if (setpriority(PRIO_PROCESS, 0, 0) < 0 ||
	    sched_setscheduler(0, SCHED_OTHER, &normal) < 0 ||
	    setitimer(ITIMER_VIRTUAL, &off, NULL) < 0 || setitimer(ITIMER_PROF, &off, NULL) < 0) {
		snprintf(why, whysize, "cannot reset its priority or timers: %s", strerror(errno));
		return -1;
	}
	/* Some CPUs may be offline: the mask is trimmed, not refused. */
	(void)sched_setaffinity(0, sizeof(all), &all);
	return 0;
}

/* Everything but uid 0 as an owner of files goes, at once.  0 or -1. */
static int
drop_privileges(char *why, size_t whysize)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	struct rlimit none = { 0, 0 };
	unsigned long cap;
	unsigned int i;

	if (geteuid() != 0) {
		snprintf(why, whysize, "not installed setuid root (euid %lu)",
			 (unsigned long)geteuid());
		return -1;
	}
	if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
		snprintf(why, whysize, "cannot set its ids: %s", strerror(errno));
		return -1;
	}
	/* What the caller set survives exec: limits (a file size limit makes
	 * writes fail, a descriptor limit makes connects fail), priority,
	 * scheduling, CPUs, timers.  Ours, while CAP_SYS_RESOURCE and
	 * CAP_SYS_NICE are still there. */
	if (reset_process(why, whysize) < 0)
		return -1;
	for (cap = 0; prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0; cap++)
		;
	if (errno != EINVAL || cap == 0) {
		snprintf(why, whysize, "cannot drop capability %lu: %s", cap, strerror(errno));
		return -1;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
		snprintf(why, whysize, "cannot clear the ambient capabilities: %s",
			 strerror(errno));
		return -1;
	}
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0) {
		snprintf(why, whysize, "cannot drop its capabilities: %s", strerror(errno));
		return -1;
	}
	/* Check, do not trust: nothing may be left. */
	if (syscall(SYS_capget, &hdr, data) < 0) {
		snprintf(why, whysize, "cannot read its capabilities: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective != 0 || data[i].permitted != 0 || data[i].inheritable != 0) {
			snprintf(why, whysize, "capabilities remain after dropping them");
			return -1;
		}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ||
	    setrlimit(RLIMIT_CORE, &none) < 0) {
		snprintf(why, whysize, "cannot lock itself down: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Signals from the terminal are ignored (the caller can no longer send
 * any); SIGALRM is the bound, so it keeps its default, whatever the
 * caller left ignored or blocked. */
static void
set_signals(void)
{
	static const int ignored[] = { SIGINT, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGHUP,
				       SIGPIPE };
	struct sigaction sa;
	sigset_t none;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		sigaction(ignored[i], &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGXFSZ, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* fd 0 as given (checked later), 1 and 2 on /dev/null, nothing else.
 * 0 or -1. */
static int
set_descriptors(void)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null < 0 || (null != 1 && dup2(null, 1) < 0) || (null != 2 && dup2(null, 2) < 0))
		return -1;
	if (null > 2)
		close(null);
	if (close_range(3, ~0U, 0) < 0) {
		long max = sysconf(_SC_OPEN_MAX), i;

		for (i = 3; i < (max > 0 ? max : 1024); i++)
			(void)close((int)i);
	}
	return 0;
}

/* The password from fd 0, a pipe, up to end of file, into buf.  The
 * length, or -1 with why. */
static ssize_t
read_password(char *buf, size_t size, char *why, size_t whysize)
{
	struct stat st;
	size_t len = 0;

	if (fstat(0, &st) < 0 || !S_ISFIFO(st.st_mode)) {
		snprintf(why, whysize, "the password must come through a pipe on fd 0");
		return -1;
	}
	for (;;) {
		ssize_t n = read(0, buf + len, size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, whysize, "cannot read the password: %s", strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == size) {
			snprintf(why, whysize, "a password of PAM_MAX_RESP_SIZE bytes or more");
			return -1;
		}
	}
	buf[len] = '\0';
	if (strlen(buf) != len) {
		snprintf(why, whysize, "a password with a NUL byte");
		return -1;
	}
	return (ssize_t)len;
}

/* The helper's handle has no conversation: it asks nothing, and what
 * the person is told is the caller's to show. */
static int
no_conversation(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	(void)n;
	(void)msg;
	(void)data;
	*resp = NULL;
	return PAM_CONV_ERR;
}

/* Refused before any login: the pause, then the status. */
static int
refuse(enum ropc_outcome o)
{
	alarm(0);
	sleep(ROPC_HELPER_FAIL_DELAY);
	return (int)o;
}

/* The login itself, with the settings of the config file and nothing
 * from the caller.  Returns the outcome. */
static enum ropc_outcome
login(const char *user, const char *service, const char *password)
{
	static const struct pam_conv conv = { no_conversation, NULL };
	enum ropc_outcome o;
	struct ropc_ctx ctx;
	pam_handle_t *pamh = NULL;
	int rc, mask;

	/* A handle whose service file is /dev/null: no module is loaded, it
	 * only carries the log lines (pam_syslog).  libpam logs that it
	 * found no "other" service beside it, which is the point: that line
	 * is masked.  The log line names the caller's service (ctx.service);
	 * PAM_SERVICE stays "null", as setting it would make libpam look
	 * for that service's file. */
	mask = setlogmask(LOG_MASK(LOG_EMERG));
	rc = pam_start_confdir("null", user, &conv, "/dev", &pamh);
	setlogmask(mask);
	if (rc != PAM_SUCCESS) {
		early_log(LOG_CRIT, "helper: cannot start a PAM handle");
		return ROPC_OUT_INTERNAL;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.pamh = pamh;
	ctx.flags = PAM_SILENT;
	ctx.breaker_read_only = true;
	ctx.service = service;
	rc = ropc_settings_load(&ctx, 0, NULL, &ctx.settings);
	if (ctx.settings != NULL) {
		/* Bound the whole run: a handful of requests, each bounded,
		 * and never more than ROPC_HELPER_MAX_SECONDS. */
		long bound = 5 * ctx.settings->timeout + 10;

		alarm((unsigned int)(bound < ROPC_HELPER_MAX_SECONDS ? bound :
				     ROPC_HELPER_MAX_SECONDS));
		/* No second step here: mfa = deny, and so no offline cache
		 * either (the module never uses it with a second factor). */
		if (ctx.settings->mfa != ROPC_MFA_DENY) {
			ropc_debug(&ctx, "helper: no second step here: mfa = deny, no offline cache");
			ctx.settings->offline_cache = false;
		}
		ctx.settings->mfa = ROPC_MFA_DENY;
	}
	o = ropc_authenticate_helper(&ctx, rc, user, password);
	ropc_settings_free(ctx.settings);
	pam_end(pamh, PAM_SUCCESS);
	return o;
}

int
main(int argc, char **argv)
{
	uid_t caller = getuid();
	char why[200], password[PAM_MAX_RESP_SIZE];
	const struct passwd *pw;
	enum ropc_outcome o;
	ssize_t len;

	openlog("pam_ropc_helper", LOG_PID, LOG_AUTHPRIV);
	if (drop_privileges(why, sizeof(why)) < 0) {
		early_log(LOG_ERR, "helper: %s; outcome=unavailable (see pam_ropc_helper(8))", why);
		return ROPC_OUT_UNAVAILABLE;
	}
	/* glibc and the libraries read their variables with secure_getenv
	 * (AT_SECURE) before this; from here on there are none. */
	clearenv();
	umask(077);
	if (chdir("/") < 0)
		return ROPC_OUT_INTERNAL;
	(void)setsid();         /* no longer in the caller's session */
	set_signals();
	if (set_descriptors() < 0)
		return ROPC_OUT_INTERNAL;
	alarm(ROPC_HELPER_START_SECONDS);
	if (argc != 3 || ropc_user_check(argv[1]) != NULL || argv[2][0] == '\0' ||
	    strlen(argv[2]) > 128) {
		early_log(LOG_WARNING, "helper: refused: called by uid %lu without a valid USER "
			  "SERVICE (it is run by pam_ropc, see pam_ropc_helper(8)); "
			  "outcome=rejected_input", (unsigned long)caller);
		return refuse(ROPC_OUT_REJECTED_INPUT);
	}
	/* The caller's own account: the uid, and the name that uid has (two
	 * accounts that share a uid do not check each other's password). */
	pw = getpwnam(argv[1]);
	if (pw != NULL && pw->pw_uid == caller) {
		const struct passwd *own = getpwuid(caller);

		if (own == NULL || strcmp(own->pw_name, pw->pw_name) != 0)
			pw = NULL;
	}
	if (pw == NULL || pw->pw_uid != caller) {
		char user[300], service[140];

		ropc_sanitize(argv[1], strlen(argv[1]), user, sizeof(user));
		ropc_sanitize(argv[2], strlen(argv[2]), service, sizeof(service));
		early_log(LOG_WARNING, "helper: refused: uid %lu asked about user \"%s\" "
			  "(service \"%s\"), which it does not own: pam_ropc_helper checks only "
			  "its caller's own password; outcome=rejected_input",
			  (unsigned long)caller, user, service);
		return refuse(ROPC_OUT_REJECTED_INPUT);
	}
	len = read_password(password, sizeof(password), why, sizeof(why));
	if (len < 0) {
		ropc_wipe(password, sizeof(password));
		early_log(LOG_WARNING, "helper: refused for uid %lu: %s; outcome=rejected_input",
			  (unsigned long)caller, why);
		return refuse(ROPC_OUT_REJECTED_INPUT);
	}
	o = login(argv[1], argv[2], password);
	ropc_wipe(password, sizeof(password));
	if (o != ROPC_OUT_SUCCESS && o != ROPC_OUT_OFFLINE_SUCCESS)
		return refuse(o);
	return (int)o;
}
