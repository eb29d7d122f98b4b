/*
 * test-breaker.c: fail fast (breaker.h): no state is CLOSED; a report of
 * down opens a window (OPEN, with since); after the window exactly one of
 * several racing processes gets PROBE and the others OPEN; the prober's
 * report clears the state (up) or opens a new window keeping the first
 * since (down); a stale probe lock is taken over, by one process only;
 * another process's lock is never removed; window 0 and a caller that is
 * not root have no breaker; a directory of the wrong mode or owner, or a
 * state file that is a link, garbled or of the wrong mode, is CLOSED with
 * a warning.
 *
 * Time cannot be moved inside the module: the tests write state files
 * with times in the past directly (the format is "SINCE UNTIL\n"), and
 * one test lets a 1 s window pass for real.
 *
 * Everything happens under a directory made by tap_safe_tmpdir (under
 * /run/ropc-tests as root), since the directory rule refuses /tmp.  The
 * checks need root (chown, root-owned files, setresuid).
 *
 * pam_vsyslog is wrapped as in test-cache.c: every line the module logs is
 * kept, so that problems can be checked to be logged at LOG_WARNING.
 *
 * lstat is wrapped too, so that a test can act at the moment the module
 * has looked at the probe lock: another process's fresh lock replaces a
 * stale one, or the lock goes away (the interleavings a race of processes
 * meets too rarely to test by racing).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* RTLD_NEXT, setresuid */
#endif
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <security/pam_ext.h>

#include "breaker.h"
#include "cache.h"
#include "tap.h"

#include "logcap.h"

/* ---- a lock changed under the module ------------------------------------ */

enum hook { HOOK_NONE, HOOK_REPLACE, HOOK_VANISH };

/* Once, when hook is set, right after an lstat of hook_path: with
 * HOOK_REPLACE the file there is replaced by a fresh one holding "1\n"
 * (another process's lock); with HOOK_VANISH it is removed and the lstat
 * answers ENOENT. */
static const char *hook_path;
static enum hook hook;
static int hook_fired;

typedef int (*lstat_fn)(const char *, struct stat *);

int
lstat(const char *restrict path, struct stat *restrict st)
{
	static lstat_fn real;
	enum hook h = hook;
	int rc, fd;

	if (real == NULL)
		real = (lstat_fn)(uintptr_t)dlsym(RTLD_NEXT, "lstat");
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	rc = real(path, st);
	if (h == HOOK_NONE || hook_path == NULL || strcmp(path, hook_path) != 0)
		return rc;
	hook = HOOK_NONE;
	hook_fired++;
	unlink(path);
	if (h == HOOK_VANISH) {
		errno = ENOENT;
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, "1\n", 2) != 2)
		tap_diag("hook: cannot write %s", path);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* ---- files ------------------------------------------------------------------ */

static char base[128];
static struct ropc_ctx ctx;
static const char *const ep = "https://idp.example.com/token";
static const char *const ep2 = "https://other.example.com/token";

/* base/name, in one of a few rotating buffers. */
static const char *
at(const char *name)
{
	static char p[8][512];
	static int i;

	i = (i + 1) % 8;
	snprintf(p[i], sizeof(p[i]), "%s/%s", base, name);
	return p[i];
}

/* dir/<hash of endpoint>.<suffix>. */
static const char *
file_of(const char *dir, const char *endpoint, const char *suffix)
{
	static char p[8][512];
	static int i;
	char name[80];

	i = (i + 1) % 8;
	if (ropc_cache_name(endpoint, name, sizeof(name)) != 0)
		name[0] = '\0';
	name[64] = '\0';
	snprintf(p[i], sizeof(p[i]), "%s/%s.%s", dir, name, suffix);
	return p[i];
}

static const char *
state_of(const char *dir)
{
	return file_of(dir, ep, "down");
}

static const char *
lock_of(const char *dir)
{
	return file_of(dir, ep, "probe");
}

/* Write len bytes of text at path (replacing what is there), mode mode. */
static void
put(const char *path, const char *text, size_t len, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		tap_diag("cannot write %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (chmod(path, mode) != 0)
		tap_diag("chmod %s: %s", path, strerror(errno));
}

/* The state file of ep in dir, holding since and until. */
static void
put_state(const char *dir, long long since, long long until)
{
	char text[64];

	snprintf(text, sizeof(text), "%lld %lld\n", since, until);
	put(state_of(dir), text, strlen(text), 0600);
}

/* The content of path (up to 255 bytes) into a static buffer, "" when
 * it cannot be read; never through a link. */
static const char *
content(const char *path)
{
	static char buf[256];
	ssize_t n = 0;
	int fd = open(path, O_RDONLY | O_NOFOLLOW);

	buf[0] = '\0';
	if (fd < 0)
		return buf;
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	return buf;
}

/* The two times of the state file of ep in dir; 0 when unreadable. */
static int
state_times(const char *dir, long long *since, long long *until)
{
	*since = 0;
	*until = 0;
	return sscanf(content(state_of(dir)), "%lld %lld", since, until) == 2;
}

static int
is_missing(const char *path)
{
	struct stat st;

	return lstat(path, &st) != 0 && errno == ENOENT;
}

/* Set path's times to t (no link followed). */
static int
set_time(const char *path, time_t t)
{
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };

	return utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
}

/* How many names dir holds (not . or ..), and how many begin with '.'. */
static int
count_names(const char *dir, int *hidden)
{
	DIR *d = opendir(dir);
	const struct dirent *e;
	int n = 0;

	*hidden = 0;
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		n++;
		if (e->d_name[0] == '.')
			(*hidden)++;
	}
	closedir(d);
	return n;
}

/* A breaker directory base/name made the way the module makes it. */
static const char *
fresh_dir(const char *name)
{
	const char *d = at(name);

	if (mkdir(d, 0700) != 0 && errno != EEXIST)
		tap_diag("mkdir %s: %s", d, strerror(errno));
	return d;
}

static enum ropc_breaker_state
check(const char *dir, long window, time_t *since)
{
	return ropc_breaker_check(&ctx, dir, ep, window, since);
}

/* ---- tests ------------------------------------------------------------------ */

static void
test_no_state(void)
{
	const char *d = at("none");
	time_t since = 12345;

	log_reset();
	CHECK_INT(check(d, 30, &since), ROPC_BREAKER_CLOSED, "no directory: CLOSED");
	CHECK_INT(since, 0, "no directory: since 0");
	CHECK(is_missing(d), "no directory: check created nothing");
	ropc_breaker_report(&ctx, d, ep, false, 30, false);
	CHECK(is_missing(d), "no directory: report of up created nothing");
	d = fresh_dir("empty");
	CHECK_INT(check(d, 30, NULL), ROPC_BREAKER_CLOSED,
		  "empty directory: CLOSED (since may be NULL)");
	CHECK_INT(count_problems(), 0, "no state: nothing logged as a problem");
}

static void
test_down_open(void)
{
	const char *d = at("down");
	long long s = 0, u = 0, t0 = (long long)time(NULL);
	time_t since = 0;
	struct stat st;
	int hidden = -1;

	log_reset();
	ropc_breaker_report(&ctx, d, ep, true, 30, false);
	CHECK(lstat(d, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700 &&
	      st.st_uid == 0, "report down: the directory was created, root, 0700");
	CHECK(lstat(state_of(d), &st) == 0 && S_ISREG(st.st_mode) &&
	      (st.st_mode & 07777) == 0600 && st.st_uid == 0,
	      "report down: the state file is regular, root, 0600, named by the hash");
	CHECK(state_times(d, &s, &u) && s >= t0 && s <= t0 + 2 && u == s + 30,
	      "report down: the state holds since now and until now + 30 (%s)",
	      content(state_of(d)));
	CHECK_INT(count_names(d, &hidden), 1, "report down: one file in the directory");
	CHECK_INT(hidden, 0, "report down: no temporary file left");
	CHECK_INT(check(d, 30, &since), ROPC_BREAKER_OPEN, "after down: OPEN");
	CHECK_INT(since, s, "after down: since is when it was first seen down");
	CHECK(is_missing(lock_of(d)), "OPEN: no probe lock made");
	CHECK_INT(ropc_breaker_check(&ctx, d, ep2, 30, &since), ROPC_BREAKER_CLOSED,
		  "another endpoint: CLOSED");
	CHECK_INT(check(at("down///"), 30, &since), ROPC_BREAKER_OPEN,
		  "the directory with trailing slashes: the same state");
	CHECK_INT(count_problems(), 0, "down and open: nothing logged as a problem");

	/* A second down while open keeps the first since. */
	put_state(d, t0 - 50, t0 + 10);
	ropc_breaker_report(&ctx, d, ep, true, 30, false);
	CHECK(state_times(d, &s, &u) && s == t0 - 50 && u >= t0 + 30 && u <= t0 + 32,
	      "down again while open: the first since is kept, until moves on (%s)",
	      content(state_of(d)));
}

static void
test_window_passes(void)
{
	const char *d = at("window");
	time_t since = 0, first = 0;
	long long s = 0, u = 0;

	log_reset();
	ropc_breaker_report(&ctx, d, ep, true, 1, false);
	CHECK_INT(check(d, 1, &first), ROPC_BREAKER_OPEN, "window 1 s: OPEN at once");
	sleep(2);
	CHECK_INT(check(d, 1, &since), ROPC_BREAKER_PROBE, "window 1 s, 2 s later: PROBE");
	CHECK_INT(since, first, "PROBE: since is the first one");
	{
		char pid[32];

		snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
		CHECK_STR(content(lock_of(d)), pid, "PROBE: the lock holds this process's pid");
	}
	CHECK_INT(check(d, 1, &since), ROPC_BREAKER_OPEN,
		  "while the probe is held: OPEN (even for the same process)");
	CHECK_INT(since, first, "while the probe is held: since is the first one");
	ropc_breaker_report(&ctx, d, ep, false, 1, true);
	CHECK(is_missing(state_of(d)), "probe up: the state is cleared");
	CHECK(is_missing(lock_of(d)), "probe up: the lock is released");
	CHECK_INT(check(d, 1, &since), ROPC_BREAKER_CLOSED, "after the probe's up: CLOSED");
	CHECK_INT(count_problems(), 0, "window: nothing logged as a problem");

	/* Written directly: an expired window, probed, down again. */
	s = (long long)time(NULL);
	put_state(d, s - 1000, s - 5);
	CHECK_INT(check(d, 30, &since), ROPC_BREAKER_PROBE, "expired state: PROBE");
	CHECK_INT(since, s - 1000, "expired state: since from the file");
	ropc_breaker_report(&ctx, d, ep, true, 30, true);
	CHECK(state_times(d, &s, &u) && s == (long long)since &&
	      u >= (long long)time(NULL) + 28 && u <= (long long)time(NULL) + 30,
	      "probe down: the first since kept, a new window of 30 s (%s)",
	      content(state_of(d)));
	CHECK(is_missing(lock_of(d)), "probe down: the lock is released");
	CHECK_INT(check(d, 30, &first), ROPC_BREAKER_OPEN, "after the probe's down: OPEN");
	CHECK_INT(first, since, "after the probe's down: the same since");
	CHECK_INT(count_problems(), 0, "probe: nothing logged as a problem");
}

/*
 * n processes call check at once (released together through a pipe) on
 * dir, with window; the number of PROBE and OPEN answers.
 */
static void
race(const char *dir, long window, int n, int *probes, int *opens)
{
	int go[2], i, status;
	pid_t pids[16];

	*probes = 0;
	*opens = 0;
	if (n > 16 || pipe(go) != 0)
		return;
	fflush(stdout);
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			char c;
			ssize_t r;

			close(go[1]);
			r = read(go[0], &c, 1);     /* returns when the parent closes */
			(void)r;
			_exit((int)ropc_breaker_check(&ctx, dir, ep, window, NULL));
		}
	}
	close(go[0]);
	usleep(50000);
	close(go[1]);
	for (i = 0; i < n; i++) {
		if (pids[i] <= 0 || waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status))
			continue;
		if (WEXITSTATUS(status) == ROPC_BREAKER_PROBE)
			(*probes)++;
		else if (WEXITSTATUS(status) == ROPC_BREAKER_OPEN)
			(*opens)++;
	}
}

static void
test_race(void)
{
	const char *d = fresh_dir("race");
	static const int sizes[] = { 2, 8 };
	size_t k;
	int round;

	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		int n = sizes[k], good = 0, p = 0, o = 0;

		for (round = 0; round < 20; round++) {
			long long now = (long long)time(NULL);

			unlink(lock_of(d));
			put_state(d, now - 100, now - 1);
			race(d, 30, n, &p, &o);
			if (p == 1 && o == n - 1)
				good++;
			else
				tap_diag("round %d of %d racers: %d PROBE, %d OPEN", round, n, p, o);
		}
		CHECK_INT(good, 20, "%d racing checks after the window: in each of 20 rounds "
			  "exactly one PROBE, the others OPEN", n);
	}

	/* Racing for a stale lock: a single one takes it over. */
	{
		int good = 0, p = 0, o = 0;

		for (round = 0; round < 20; round++) {
			long long now = (long long)time(NULL);

			put_state(d, now - 100, now - 1);
			put(lock_of(d), "1\n", 2, 0600);
			set_time(lock_of(d), (time_t)(now - 10000));
			race(d, 30, 8, &p, &o);
			if (p == 1 && o == 7)
				good++;
			else
				tap_diag("stale round %d: %d PROBE, %d OPEN", round, p, o);
		}
		CHECK_INT(good, 20, "8 racing checks on a stale lock: in each of 20 rounds "
			  "exactly one takes it over");
	}
	unlink(lock_of(d));
}

static void
test_stale(void)
{
	const char *d = fresh_dir("stale");
	long long now = (long long)time(NULL);
	char pid[32];
	struct stat st;
	time_t since = 0;

	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());

	/* Younger than window + 300 s: someone is probing. */
	put_state(d, now - 100, now - 1);
	put(lock_of(d), "1\n", 2, 0600);
	set_time(lock_of(d), (time_t)(now - 30 - 250));
	log_reset();
	CHECK_INT(check(d, 30, &since), ROPC_BREAKER_OPEN, "lock 280 s old, window 30: OPEN");
	CHECK_STR(content(lock_of(d)), "1\n", "lock 280 s old: left as it was");
	CHECK(lstat(lock_of(d), &st) == 0 && st.st_mtim.tv_sec == (time_t)(now - 280),
	      "lock 280 s old: its time unchanged");

	/* Older: its prober died; taken over. */
	set_time(lock_of(d), (time_t)(now - 30 - 301 - 3600));
	CHECK_INT(check(d, 30, &since), ROPC_BREAKER_PROBE, "lock over an hour old: PROBE");
	CHECK_INT(since, now - 100, "taken over: since from the state");
	CHECK_STR(content(lock_of(d)), pid, "taken over: the lock is this process's now");
	CHECK(lstat(lock_of(d), &st) == 0 && st.st_mtim.tv_sec >= (time_t)now - 2,
	      "taken over: a fresh lock");
	CHECK_INT(count_logged(LOG_NOTICE, "took over"), 1, "taken over: logged at LOG_NOTICE");
	CHECK_INT(count_problems(), 0, "taken over: no warning");
	{
		int hidden = -1, n = count_names(d, &hidden);

		CHECK(n == 2 && hidden == 0, "taken over: the state and the lock, no other "
		      "file left (%d names, %d hidden)", n, hidden);
	}
	ropc_breaker_report(&ctx, d, ep, false, 30, true);
	CHECK(is_missing(lock_of(d)) && is_missing(state_of(d)),
	      "taken over, probe up: lock and state gone");

	/* A lock dated far in the future (the clock was set back). */
	put_state(d, now - 100, now - 1);
	put(lock_of(d), "1\n", 2, 0600);
	set_time(lock_of(d), (time_t)(now + 100000));
	CHECK_INT(check(d, 30, &since), ROPC_BREAKER_PROBE,
		  "lock dated a day ahead: stale, PROBE");
	ropc_breaker_report(&ctx, d, ep, false, 30, true);

	/* A lock that is not a regular file. */
	put_state(d, now - 100, now - 1);
	if (mkdir(lock_of(d), 0700) == 0) {
		log_reset();
		CHECK_INT(check(d, 30, &since), ROPC_BREAKER_CLOSED, "lock a directory: CLOSED");
		CHECK_INT(count_logged(LOG_WARNING, NULL), 1, "lock a directory: warned");
		rmdir(lock_of(d));
	} else {
		FAIL(2, "lock directory: no setup");
	}
	unlink(state_of(d));
}

static void
test_interleavings(void)
{
	const char *d = fresh_dir("between");
	long long now = (long long)time(NULL);
	char pid[32];
	int n, hidden = -1;

	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());

	/* Seen stale, but another process takes it over before this one
	 * does: this one must not remove the other's fresh lock. */
	put_state(d, now - 100, now - 1);
	put(lock_of(d), "7\n", 2, 0600);
	set_time(lock_of(d), (time_t)(now - 10000));
	hook_path = lock_of(d);
	hook = HOOK_REPLACE;
	hook_fired = 0;
	log_reset();
	CHECK_INT(check(d, 30, NULL), ROPC_BREAKER_OPEN,
		  "stale lock taken over by another process meanwhile: OPEN");
	CHECK_INT(hook_fired, 1, "(the other process's lock appeared after the look)");
	CHECK_STR(content(lock_of(d)), "1\n", "the other process's fresh lock is left in place");
	n = count_names(d, &hidden);
	CHECK(n == 2 && hidden == 0, "no other file left (%d names, %d hidden)", n, hidden);
	CHECK_INT(count_problems(), 0, "taken over by another: no warning");

	/* Another process is taking a stale lock over (it holds the flock
	 * of the directory, which takers take one at a time): leave it. */
	put(lock_of(d), "7\n", 2, 0600);
	set_time(lock_of(d), (time_t)(now - 10000));
	{
		int dfd = open(d, O_RDONLY | O_DIRECTORY);

		if (dfd >= 0 && flock(dfd, LOCK_EX) == 0) {
			CHECK_INT(check(d, 30, NULL), ROPC_BREAKER_OPEN,
				  "stale lock while another process takes it over: OPEN");
			CHECK_STR(content(lock_of(d)), "7\n", "the stale lock is left to that process");
		} else {
			FAIL(2, "flock: no setup");
		}
		if (dfd >= 0)
			close(dfd);
	}
	CHECK_INT(check(d, 30, NULL), ROPC_BREAKER_PROBE, "once it is done: taken over, PROBE");
	CHECK_STR(content(lock_of(d)), pid, "once it is done: the lock is this process's");

	/* The lock goes away as it is looked at (its prober reported): the
	 * state is read again and the probe taken. */
	hook_path = lock_of(d);
	hook = HOOK_VANISH;
	hook_fired = 0;
	set_time(lock_of(d), (time_t)now);
	CHECK_INT(check(d, 30, NULL), ROPC_BREAKER_PROBE,
		  "the lock went away while looked at: tried again, PROBE");
	CHECK_INT(hook_fired, 1, "(the lock went away after the failed create)");
	CHECK_STR(content(lock_of(d)), pid, "tried again: the lock is this process's");
	hook = HOOK_NONE;
	hook_path = NULL;
	ropc_breaker_report(&ctx, d, ep, false, 30, true);
	CHECK(is_missing(lock_of(d)) && is_missing(state_of(d)), "then up: lock and state gone");
}

/* In a child: check, and exit with the answer.  The lock it takes is left. */
static int
probe_in_child(const char *dir)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit((int)ropc_breaker_check(&ctx, dir, ep, 30, NULL));
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void
test_not_mine(void)
{
	const char *d = fresh_dir("notmine");
	long long now = (long long)time(NULL), s, u;
	char held[32];

	put_state(d, now - 100, now - 1);
	CHECK_INT(probe_in_child(d), ROPC_BREAKER_PROBE, "another process probes");
	snprintf(held, sizeof(held), "%s", content(lock_of(d)));
	CHECK(held[0] != '\0' && atol(held) != (long)getpid(),
	      "its lock holds its pid (%s)", held);
	log_reset();
	CHECK_INT(check(d, 30, NULL), ROPC_BREAKER_OPEN, "while it probes: OPEN here");
	ropc_breaker_report(&ctx, d, ep, true, 30, false);
	CHECK(state_times(d, &s, &u) && s == now - 100, "a CLOSED caller's down: since kept");
	CHECK_STR(content(lock_of(d)), held, "a CLOSED caller's down: the other's lock stays");
	ropc_breaker_report(&ctx, d, ep, false, 30, false);
	CHECK(is_missing(state_of(d)), "a CLOSED caller's up: the state is cleared");
	CHECK_STR(content(lock_of(d)), held, "a CLOSED caller's up: the other's lock stays");
	ropc_breaker_report(&ctx, d, ep, false, 30, true);
	CHECK_STR(content(lock_of(d)), held,
		  "report with probing but the lock is another pid's: it stays");
	CHECK_INT(count_problems(), 0, "not mine: no warning");
	unlink(lock_of(d));
}

static void
test_window_zero(void)
{
	const char *d = fresh_dir("zero");
	long long now = (long long)time(NULL);
	time_t since = 7;

	put_state(d, now - 10, now + 20);
	log_reset();
	CHECK_INT(check(d, 30, NULL), ROPC_BREAKER_OPEN, "window 0: (the state is open)");
	CHECK_INT(check(d, 0, &since), ROPC_BREAKER_CLOSED, "window 0: CLOSED");
	CHECK_INT(since, 0, "window 0: since 0");
	CHECK_INT(check(d, -5, NULL), ROPC_BREAKER_CLOSED, "window -5: CLOSED");
	put_state(d, now - 100, now - 1);
	CHECK_INT(check(d, 0, NULL), ROPC_BREAKER_CLOSED, "window 0, expired: CLOSED");
	CHECK(is_missing(lock_of(d)), "window 0: no lock taken");
	ropc_breaker_report(&ctx, d, ep, false, 0, false);
	CHECK(!is_missing(state_of(d)), "window 0: report of up does nothing");
	ropc_breaker_report(&ctx, at("zero-new"), ep, true, 0, false);
	CHECK(is_missing(at("zero-new")), "window 0: report of down creates nothing");
	CHECK_INT(count_problems(), 0, "window 0: nothing logged as a problem");
	unlink(state_of(d));
}

/* d, holding an open state, is refused: CLOSED with one warning, and a
 * report of down changes nothing. */
static void
dir_refused(const char *what, const char *d, const char *statefile)
{
	char before[256];

	log_reset();
	CHECK_INT(check(d, 30, NULL), ROPC_BREAKER_CLOSED, "%s: CLOSED", what);
	CHECK_INT(count_logged(LOG_WARNING, "is not used"), 1, "%s: one warning", what);
	snprintf(before, sizeof(before), "%s", content(statefile));
	log_reset();
	ropc_breaker_report(&ctx, d, ep, true, 30, false);
	CHECK_INT(count_logged(LOG_WARNING, "is not used"), 1, "%s: report warned", what);
	CHECK_STR(content(statefile), before, "%s: report changed nothing", what);
}

static void
test_bad_dirs(void)
{
	long long now = (long long)time(NULL);
	const char *d;

	d = fresh_dir("mode755");
	put_state(d, now - 10, now + 20);
	if (chmod(d, 0755) == 0)
		dir_refused("directory 0755", d, state_of(d));
	else
		FAIL(4, "0755: no setup");

	d = fresh_dir("mode710");
	put_state(d, now - 10, now + 20);
	if (chmod(d, 0710) == 0)
		dir_refused("directory 0710", d, state_of(d));
	else
		FAIL(4, "0710: no setup");

	d = fresh_dir("uid1");
	put_state(d, now - 10, now + 20);
	if (chown(d, 1, 0) == 0)
		dir_refused("directory owned by uid 1", d, state_of(d));
	else
		FAIL(4, "uid 1: no setup");

	d = fresh_dir("link-target");
	put_state(d, now - 10, now + 20);
	if (symlink(d, at("link")) == 0)
		dir_refused("directory a symbolic link", at("link"), state_of(d));
	else
		FAIL(4, "link: no setup");

	put(at("file"), "x", 1, 0600);
	log_reset();
	CHECK_INT(check(at("file"), 30, NULL), ROPC_BREAKER_CLOSED, "directory a file: CLOSED");
	CHECK_INT(count_logged(LOG_WARNING, NULL), 1, "directory a file: warned");

	/* A parent others may write: nothing is created under it. */
	if (mkdir(at("open"), 0700) == 0 && chmod(at("open"), 0777) == 0) {
		log_reset();
		ropc_breaker_report(&ctx, at("open/bk"), ep, true, 30, false);
		CHECK(is_missing(at("open/bk")), "parent 0777: no directory created");
		CHECK_INT(count_logged(LOG_WARNING, "is not used"), 1, "parent 0777: warned");
	} else {
		FAIL(2, "parent 0777: no setup");
	}
	/* Only the last component is created. */
	log_reset();
	ropc_breaker_report(&ctx, at("no-parent/bk"), ep, true, 30, false);
	CHECK(is_missing(at("no-parent")), "missing parent: not created");
	CHECK_INT(count_logged(LOG_WARNING, NULL), 1, "missing parent: warned");

	log_reset();
	CHECK_INT(check("relative/bk", 30, NULL), ROPC_BREAKER_CLOSED, "relative directory: CLOSED");
	ropc_breaker_report(&ctx, "relative/bk", ep, true, 30, false);
	CHECK(is_missing("relative"), "relative directory: nothing made");
	CHECK_INT(count_logged(LOG_WARNING, "not an absolute path"), 2,
		  "relative directory: both warned");
	CHECK_INT(ropc_breaker_check(&ctx, fresh_dir("noep"), NULL, 30, NULL), ROPC_BREAKER_CLOSED,
		  "no endpoint: CLOSED");
}

/* The state file of d holds these bytes: CLOSED with one warning. */
static void
state_refused(const char *what, const char *d)
{
	time_t since = 9;

	log_reset();
	CHECK_INT(check(d, 30, &since), ROPC_BREAKER_CLOSED, "%s: CLOSED", what);
	CHECK(since == 0 && is_missing(lock_of(d)), "%s: since 0, no lock", what);
	CHECK_INT(count_logged(LOG_WARNING, "ignored"), 1, "%s: one warning", what);
}

static void
test_bad_state(void)
{
	static const struct {
		const char *what;
		const char *text;
		size_t len;
	} bad[] = {
		{ "empty", "", 0 },
		{ "a word", "down\n", 5 },
		{ "no newline", "100 2000000000", 14 },
		{ "two newlines", "100 2000000000\n\n", 16 },
		{ "two spaces", "100  2000000000\n", 16 },
		{ "a tab", "100\t2000000000\n", 15 },
		{ "CR LF", "100 2000000000\r\n", 16 },
		{ "a leading space", " 100 2000000000\n", 16 },
		{ "a sign", "+100 2000000000\n", 16 },
		{ "a negative since", "-100 2000000000\n", 16 },
		{ "a negative until", "100 -2000000000\n", 16 },
		{ "three numbers", "100 2000000000 5\n", 17 },
		{ "one number", "2000000000\n", 11 },
		{ "until before since", "2000000000 100\n", 15 },
		{ "since 0", "0 2000000000\n", 13 },
		{ "19 digits", "1000000000000000000 1000000000000000001\n", 40 },
		{ "hex", "0x10 2000000000\n", 16 },
		{ "a NUL byte", "100 20\0000000000\n", 16 },
		{ "JSON", "{\"since\":100,\"until\":2000000000}\n", 33 },
		{ "over the size cap", "100 2000000000\n                                        "
		  "                                                            ", 115 },
	};
	const char *d = fresh_dir("badstate");
	long long now = (long long)time(NULL), s, u;
	size_t i;
	char good[64];

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char what[128];

		snprintf(what, sizeof(what), "state %s", bad[i].what);
		put(state_of(d), bad[i].text, bad[i].len, 0600);
		state_refused(what, d);
	}

	/* A garbled state is replaced by the next down. */
	put(state_of(d), "garbage\n", 8, 0600);
	log_reset();
	ropc_breaker_report(&ctx, d, ep, true, 30, false);
	CHECK(state_times(d, &s, &u) && s >= now && u == s + 30,
	      "garbled state, then down: a fresh state (%s)", content(state_of(d)));
	CHECK_INT(count_logged(LOG_WARNING, "ignored"), 1, "garbled state, then down: warned");
	CHECK_INT(check(d, 30, NULL), ROPC_BREAKER_OPEN, "garbled state, then down: OPEN");

	snprintf(good, sizeof(good), "%lld %lld\n", now - 10, now + 20);
	put(state_of(d), good, strlen(good), 0644);
	state_refused("state 0644", d);
	put(state_of(d), good, strlen(good), 0640);
	state_refused("state 0640", d);
	put(state_of(d), good, strlen(good), 0600);
	if (chown(state_of(d), 1, 0) == 0)
		state_refused("state owned by uid 1", d);
	else
		FAIL(3, "state uid 1: no setup");
	unlink(state_of(d));
	if (mkdir(state_of(d), 0700) == 0) {
		state_refused("state a directory", d);
		rmdir(state_of(d));
	} else {
		FAIL(3, "state directory: no setup");
	}

	/* A link to a good, open state elsewhere: not followed. */
	put(at("state-target"), good, strlen(good), 0600);
	unlink(state_of(d));
	if (symlink(at("state-target"), state_of(d)) == 0) {
		struct stat st;

		state_refused("state a symbolic link", d);
		log_reset();
		ropc_breaker_report(&ctx, d, ep, true, 30, false);
		CHECK(lstat(state_of(d), &st) == 0 && S_ISREG(st.st_mode),
		      "state a link, then down: replaced by a regular file");
		CHECK_STR(content(at("state-target")), good,
			  "state a link, then down: what it led to is unchanged");
		CHECK(state_times(d, &s, &u) && s >= now, "state a link, then down: since now");
		ropc_breaker_report(&ctx, d, ep, false, 30, false);
	} else {
		FAIL(6, "state link: no setup");
	}
	if (symlink(at("nowhere"), state_of(d)) == 0) {
		state_refused("state a dangling link", d);
		ropc_breaker_report(&ctx, d, ep, false, 30, false);
		CHECK(is_missing(state_of(d)) && is_missing(at("nowhere")),
		      "state a dangling link, then up: the link removed, nothing made");
	} else {
		FAIL(4, "dangling link: no setup");
	}
}

static void
test_clock(void)
{
	const char *d = fresh_dir("clock");
	long long now = (long long)time(NULL);
	time_t since = 0;

	put_state(d, now - 10, now + 25);
	CHECK_INT(check(d, 30, &since), ROPC_BREAKER_OPEN, "until 25 s ahead, window 30: OPEN");
	put_state(d, now - 10, now + 100000);
	CHECK_INT(check(d, 30, &since), ROPC_BREAKER_PROBE,
		  "until a day ahead, window 30 (the clock went back): PROBE, not OPEN");
	ropc_breaker_report(&ctx, d, ep, true, 30, true);
	{
		long long s, u;

		CHECK(state_times(d, &s, &u) && s == now - 10 && u <= (long long)time(NULL) + 30,
		      "then down: until back within one window (%s)", content(state_of(d)));
	}
	/* A since ahead of now (clock set back) becomes now. */
	put_state(d, now + 5000, now + 5001);
	ropc_breaker_report(&ctx, d, ep, true, 30, false);
	{
		long long s, u;

		CHECK(state_times(d, &s, &u) && s <= (long long)time(NULL) && u == s + 30,
		      "since ahead of now, then down: since now (%s)", content(state_of(d)));
	}
	unlink(state_of(d));
}

/*
 * Run what in a child process with uid and gid 65534 and no supplementary
 * groups; the child's exit status (what's answer, 0-255), or -1.
 */
static int
as_nobody(int (*what)(void))
{
	int status = 0;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
		    setresuid(65534, 65534, 65534) != 0 || geteuid() != 65534)
			_exit(255);
		_exit(what() & 0xff);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Bits of a child's answer, above the state (0-3). */
#define A_WARNED 4      /* something was logged at LOG_WARNING or worse */
#define A_DEBUG 8       /* something was logged at LOG_DEBUG */

static const char *child_dir;

static int
child_answer(int state)
{
	return state | (count_problems() > 0 ? A_WARNED : 0) |
	       (count_logged(LOG_DEBUG, NULL) > 0 ? A_DEBUG : 0);
}

static int
child_check(void)
{
	log_reset();
	ctx.debug = true;
	return child_answer((int)ropc_breaker_check(&ctx, child_dir, ep, 30, NULL));
}

static int
child_down(void)
{
	log_reset();
	ctx.debug = true;
	ropc_breaker_report(&ctx, child_dir, ep, true, 30, true);
	return child_answer(0);
}

static int
child_up(void)
{
	log_reset();
	ctx.debug = true;
	ropc_breaker_report(&ctx, child_dir, ep, false, 30, true);
	return child_answer(0);
}

static void
test_not_root(void)
{
	const char *d = fresh_dir("nobody");
	long long now = (long long)time(NULL);
	char before[64];

	put_state(d, now - 100, now - 1);
	snprintf(before, sizeof(before), "%s", content(state_of(d)));
	child_dir = d;
	CHECK_INT(as_nobody(child_check), ROPC_BREAKER_CLOSED | A_DEBUG,
		  "not root, expired state: CLOSED, logged at debug only");
	CHECK(is_missing(lock_of(d)), "not root: no lock taken");
	put_state(d, now - 100, now + 20);
	snprintf(before, sizeof(before), "%s", content(state_of(d)));
	CHECK_INT(as_nobody(child_check), ROPC_BREAKER_CLOSED | A_DEBUG,
		  "not root, open state: CLOSED, logged at debug only");
	CHECK_INT(as_nobody(child_up), A_DEBUG, "not root, up: logged at debug only");
	CHECK_STR(content(state_of(d)), before, "not root, up: the state unchanged");
	put_state(d, now - 100, now - 1);
	snprintf(before, sizeof(before), "%s", content(state_of(d)));
	CHECK_INT(as_nobody(child_down), A_DEBUG, "not root, down: logged at debug only");
	CHECK_STR(content(state_of(d)), before, "not root, down: the state unchanged");
	child_dir = at("nobody-new");
	CHECK_INT(as_nobody(child_down), A_DEBUG, "not root, down, no directory: debug only");
	CHECK(is_missing(child_dir), "not root, down: no directory created");
	{
		int hidden = -1;

		CHECK_INT(count_names(d, &hidden), 1, "not root: nothing written at all");
	}
	unlink(state_of(d));
}

int
main(void)
{
	if (geteuid() != 0) {
		printf("Bail out! test-breaker needs root (chown, root-owned files, setresuid)\n");
		return 1;
	}
	umask(022);
	ctx.service = "test-breaker";
	if (tap_safe_tmpdir(base, sizeof(base), "breaker") != 0)
		return 1;

	test_no_state();
	test_down_open();
	test_window_passes();
	test_race();
	test_stale();
	test_interleavings();
	test_not_mine();
	test_window_zero();
	test_bad_dirs();
	test_bad_state();
	test_clock();
	test_not_root();

	tap_remove_tmpdir(base);
	return tap_done();
}
