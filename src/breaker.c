/*
 * breaker.c: fail fast, the circuit breaker shared by every process on the
 * host (see breaker.h).
 *
 * Trust rests on the directory, as in cache.c: dir must pass the directory
 * rule of secfile.c (every directory from / down, dir included, owned by
 * root and not writable by group or others) and be itself a real
 * directory (not a symbolic link) owned by root with no group or other
 * permission bits.  Then only root can add, rename or remove anything in
 * it.  The state file is read with the defensive reader (ROPC_FILE_SECRET,
 * owner root: O_NOFOLLOW, a regular file, mode 0600 or stricter, a size
 * cap) and parsed strictly: "SINCE UNTIL\n", two decimal integers, SINCE
 * > 0 and UNTIL >= SINCE, nothing else.  It is written to a temporary file
 * beside it (O_CREAT|O_EXCL|O_NOFOLLOW, 0600) and renamed over it, so a
 * reader sees the old state or the new one, never half of one.
 *
 * The probe lock is a file created with O_CREAT|O_EXCL|O_NOFOLLOW: of any
 * number of processes trying at once, exactly one creates it.  It holds
 * the prober's pid, so that report removes only a lock of its own.  A lock
 * whose time is more than window + 300 s away from now (a prober that died,
 * or a clock moved) is stale and taken over: removed, then created again
 * with O_EXCL.  So that a single process wins even when several find the
 * same stale lock, takers go one at a time, under a flock of the directory
 * taken without waiting (one that finds it held loses: the holder is
 * taking over), and judge the lock stale again once alone.  The one hole
 * left needs a prober still alive after window + 300 s (far beyond any
 * timeout) to release its lock in the instant between a taker's judgement
 * and its removal, and another process to create a lock in that same
 * instant: the taker then removes that one, and two processes probe.
 *
 * Time is the wall clock (the state tells since when, for the log).  A
 * state whose UNTIL lies more than one window ahead (the clock was set
 * back, or the window shortened) is taken as expired: the breaker never
 * keeps an endpoint closed for longer than one window without a probe.
 *
 * Nothing is fatal: each problem is logged at LOG_WARNING and answered
 * CLOSED, which means "ask the IdP", what the module does with no breaker.
 */
#include "breaker.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include <openssl/rand.h>

#include "cache.h"      /* ropc_cache_name: the SHA-256 file names */
#include "logging.h"
#include "secfile.h"

/* 64 hex digits of SHA-256. */
#define HASH_HEX 64
/* What ropc_cache_name makes: the hex digits, ".json" and the NUL. */
#define CACHE_NAME_SIZE 70
/* Random hex digits in the names of temporary files. */
#define RAND_HEX 12
/* Room for a reason. */
#define WHY_SIZE 1024
/* A state file: two integers of at most 18 digits, a space, a newline. */
#define STATE_MAX 64
#define NUM_DIGITS 18
/* A lock file: a pid and a newline. */
#define LOCK_MAX 32
/* How much older than the window a probe lock may be before it is stale. */
#define STALE_GRACE 300
/* Windows longer than this (ten years) are taken as this: no overflow. */
#define MAX_WINDOW 315360000L

/* The paths for one endpoint. */
struct paths {
	char dir[PATH_MAX];     /* dir, without trailing slashes */
	char state[PATH_MAX];   /* dir/<hash>.down */
	char lock[PATH_MAX];    /* dir/<hash>.probe */
	char tmp[PATH_MAX];     /* dir/.<hash>.down-<random> */
	char hash[HASH_HEX + 1];
};

/* What trying for the probe came to. */
enum probe_try {
	TRY_WON,        /* this process holds the probe */
	TRY_LOST,       /* another process does */
	TRY_AGAIN,      /* the lock went away meanwhile: read the state again */
	TRY_FAILED,     /* a problem, logged */
};

/* Fill p for endpoint under dir; 0, or -1 with why. */
static int
make_paths(const char *dir, const char *endpoint, struct paths *p, char *why,
	   size_t whysize)
{
	char name[CACHE_NAME_SIZE];
	size_t n;
	int w;

	if (dir == NULL || dir[0] != '/') {
		snprintf(why, whysize, "it is not an absolute path");
		return -1;
	}
	if (endpoint == NULL || endpoint[0] == '\0') {
		snprintf(why, whysize, "no endpoint given");
		return -1;
	}
	n = strlen(dir);
	if (n >= sizeof(p->dir)) {
		snprintf(why, whysize, "the path is too long");
		return -1;
	}
	memcpy(p->dir, dir, n + 1);
	while (n > 1 && p->dir[n - 1] == '/')
		p->dir[--n] = '\0';
	if (n == 1) {
		snprintf(why, whysize, "it is the root directory");
		return -1;
	}
	if (ropc_cache_name(endpoint, name, sizeof(name)) < 0 ||
	    strlen(name) != HASH_HEX + sizeof(".json") - 1) {
		snprintf(why, whysize, "cannot name the file (SHA-256 failed)");
		return -1;
	}
	memcpy(p->hash, name, HASH_HEX);
	p->hash[HASH_HEX] = '\0';
	/* The temporary name is the longest: dir/.<hash>.down-<random>. */
	if (n + HASH_HEX + sizeof("/..down-") + RAND_HEX >= sizeof(p->tmp)) {
		snprintf(why, whysize, "the path is too long");
		return -1;
	}
	w = snprintf(p->state, sizeof(p->state), "%s/%s.down", p->dir, p->hash);
	if (w >= 0 && (size_t)w < sizeof(p->state))
		w = snprintf(p->lock, sizeof(p->lock), "%s/%s.probe", p->dir, p->hash);
	if (w < 0 || (size_t)w >= sizeof(p->lock)) {
		snprintf(why, whysize, "the path is too long");
		return -1;
	}
	p->tmp[0] = '\0';
	return 0;
}

/*
 * The breaker's demands of its directory: a real directory (lstat: not a
 * symbolic link), owned by root, no group or other permission bits, and
 * the directory rule from / down to it.  0, or -1 with why and errno
 * (ENOENT when it does not exist).
 */
static int
dir_ok(const char *dir, char *why, size_t whysize)
{
	struct stat st;

	if (lstat(dir, &st) != 0) {
		int e = errno;

		snprintf(why, whysize, "cannot examine %s: %s", dir, strerror(e));
		errno = e;
		return -1;
	}
	errno = EINVAL;
	if (S_ISLNK(st.st_mode)) {
		snprintf(why, whysize, "%s is a symbolic link; it must be a real directory", dir);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, whysize, "%s is not a directory", dir);
		return -1;
	}
	if (st.st_uid != 0) {
		snprintf(why, whysize, "%s is owned by uid %lu; chown root %s", dir,
			 (unsigned long)st.st_uid, dir);
		return -1;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(why, whysize, "%s has mode %04o, open to group or others; chmod 700 %s",
			 dir, (unsigned int)(st.st_mode & 07777), dir);
		return -1;
	}
	return ropc_secfile_check_dirs(dir, true, 0, why, whysize);
}

/* One decimal number of 1 to NUM_DIGITS digits at *s (before end). */
static bool
parse_number(const char **s, const char *end, long long *out)
{
	const char *c = *s;
	long long v = 0;
	int digits = 0;

	while (c < end && *c >= '0' && *c <= '9') {
		if (digits == NUM_DIGITS)
			return false;
		v = v * 10 + (*c - '0');
		digits++;
		c++;
	}
	if (digits == 0)
		return false;
	*out = v;
	*s = c;
	return true;
}

/* "SINCE UNTIL\n" and nothing else, 0 < SINCE <= UNTIL. */
static bool
parse_state(const char *data, size_t len, long long *since, long long *until)
{
	const char *s = data, *end = data + len;

	if (!parse_number(&s, end, since) || s == end || *s != ' ')
		return false;
	s++;
	if (!parse_number(&s, end, until) || s == end || *s != '\n' || s + 1 != end)
		return false;
	return *since > 0 && *until >= *since;
}

/* "PID\n" and nothing else. */
static bool
parse_lock(const char *data, size_t len, long long *pid)
{
	const char *s = data, *end = data + len;

	return parse_number(&s, end, pid) && s != end && *s == '\n' && s + 1 == end;
}

/*
 * Read the state of p: 0 with *since and *until, 1 when there is none,
 * -1 when it cannot be used (logged at LOG_WARNING).
 */
static int
read_state(struct ropc_ctx *ctx, const struct paths *p, long long *since, long long *until)
{
	char why[WHY_SIZE];
	char *data = NULL;
	size_t len = 0;
	bool missing = false, ok;

	if (ropc_secfile_read(p->state, ROPC_FILE_SECRET, 0, STATE_MAX, &data, &len, NULL,
			      &missing, why, sizeof(why)) < 0) {
		if (missing)
			return 1;
		ropc_log(ctx, LOG_WARNING, "fail_fast: %s ignored (the IdP is asked): %s",
			 p->state, why);
		return -1;
	}
	ok = parse_state(data, len, since, until);
	free(data);
	if (!ok) {
		ropc_log(ctx, LOG_WARNING,
			 "fail_fast: %s ignored (the IdP is asked): it does not hold "
			 "\"SINCE UNTIL\", two times with SINCE <= UNTIL; remove it", p->state);
		return -1;
	}
	return 0;
}

/* Put into p->tmp a name of this process's own beside the state,
 * dir/.<hash>.<what>-<random>; 0, or -1 with why. */
static int
tmp_name(struct paths *p, const char *what, char *why, size_t whysize)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[RAND_HEX / 2];
	char suffix[RAND_HEX + 1];
	size_t i;
	int w;

	if (RAND_bytes(rnd, (int)sizeof(rnd)) != 1) {
		snprintf(why, whysize, "no random bytes for a temporary name");
		return -1;
	}
	for (i = 0; i < sizeof(rnd); i++) {
		suffix[2 * i] = hex[rnd[i] >> 4];
		suffix[2 * i + 1] = hex[rnd[i] & 0x0f];
	}
	suffix[RAND_HEX] = '\0';
	w = snprintf(p->tmp, sizeof(p->tmp), "%s/.%s.%s-%s", p->dir, p->hash, what, suffix);
	if (w < 0 || (size_t)w >= sizeof(p->tmp)) {
		snprintf(why, whysize, "the path is too long");
		p->tmp[0] = '\0';
		return -1;
	}
	return 0;
}

/*
 * Create path anew (never through a link, never over anything), mode 0600,
 * holding text.  0; or -1 with errno (EEXIST: something is there) and why.
 */
static int
create_file(const char *path, const char *text, bool sync, char *why, size_t whysize)
{
	int fd, e;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		e = errno;
		snprintf(why, whysize, "cannot create %s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	/* Whatever the umask: the reader wants 0600 and root as owner. */
	if (fchmod(fd, 0600) != 0 || ropc_write_all(fd, text, strlen(text)) != 0 ||
	    (sync && fsync(fd) != 0)) {
		e = errno;
		snprintf(why, whysize, "cannot write %s: %s", path, strerror(e));
		close(fd);
		unlink(path);
		errno = e == EEXIST ? EIO : e;
		return -1;
	}
	if (close(fd) != 0) {
		e = errno;
		snprintf(why, whysize, "cannot close %s: %s", path, strerror(e));
		unlink(path);
		errno = e == EEXIST ? EIO : e;
		return -1;
	}
	return 0;
}

/* Create the probe lock, holding this process's pid; as create_file. */
static int
create_lock(const struct paths *p, char *why, size_t whysize)
{
	char text[LOCK_MAX];

	snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	return create_file(p->lock, text, false, why, whysize);
}

/* Whether a lock of time mtime is stale at now. */
static bool
lock_stale(time_t mtime, long long now, long window)
{
	long long age = now - (long long)mtime;

	return age > window + STALE_GRACE || age < -(window + STALE_GRACE);
}

/* The body of take_over, with the flock held. */
static enum probe_try
take_over_alone(struct ropc_ctx *ctx, const struct paths *p, long long now, long window)
{
	char why[WHY_SIZE];
	struct stat st;

	if (lstat(p->lock, &st) != 0) {
		if (errno == ENOENT)
			return TRY_AGAIN;
		ropc_log(ctx, LOG_WARNING, "fail_fast: cannot examine %s: %s", p->lock,
			 strerror(errno));
		return TRY_FAILED;
	}
	if (!S_ISREG(st.st_mode)) {
		ropc_log(ctx, LOG_WARNING, "fail_fast: %s is not a regular file; remove it", p->lock);
		return TRY_FAILED;
	}
	if (!lock_stale(st.st_mtim.tv_sec, now, window))
		return TRY_LOST;        /* taken over by the taker before us */
	if (unlink(p->lock) != 0 && errno != ENOENT) {
		ropc_log(ctx, LOG_WARNING, "fail_fast: cannot remove %s: %s", p->lock,
			 strerror(errno));
		return TRY_FAILED;
	}
	if (create_lock(p, why, sizeof(why)) != 0) {
		if (errno == EEXIST)
			return TRY_LOST;        /* created by the usual path meanwhile */
		ropc_log(ctx, LOG_WARNING, "fail_fast: %s", why);
		return TRY_FAILED;
	}
	ropc_log(ctx, LOG_NOTICE, "fail_fast: took over the probe lock %s, %lld s old (its "
		 "prober did not finish)", p->lock, now - (long long)st.st_mtim.tv_sec);
	return TRY_WON;
}

/*
 * The lock was seen stale: take it over.  Takers go one at a time (a
 * flock on the directory, which the kernel releases when its holder dies,
 * so it can never go stale itself; one that finds it held leaves the
 * takeover to its holder and loses), and each judges the lock again once
 * it is alone: what it saw stale may have been taken over by the taker
 * before it, and a fresh lock is never removed.  Then remove it and
 * create ours with O_EXCL; a process that created the lock in between,
 * by the usual path, wins instead.
 */
static enum probe_try
take_over(struct ropc_ctx *ctx, const struct paths *p, long long now, long window)
{
	enum probe_try t = TRY_FAILED;
	int dfd;

	dfd = open(p->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		ropc_log(ctx, LOG_WARNING, "fail_fast: cannot take over %s: cannot open %s: %s",
			 p->lock, p->dir, strerror(errno));
		return TRY_FAILED;
	}
	if (flock(dfd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK)
			t = TRY_LOST;   /* another process is taking it over */
		else
			ropc_log(ctx, LOG_WARNING, "fail_fast: cannot take over %s: flock: %s",
				 p->lock, strerror(errno));
		close(dfd);
		return t;
	}
	t = take_over_alone(ctx, p, now, window);
	close(dfd);             /* releases the flock */
	return t;
}

/* Try for the probe of p's endpoint. */
static enum probe_try
try_probe(struct ropc_ctx *ctx, struct paths *p, long long now, long window)
{
	char why[WHY_SIZE];
	struct stat st;

	if (create_lock(p, why, sizeof(why)) == 0)
		return TRY_WON;
	if (errno != EEXIST) {
		ropc_log(ctx, LOG_WARNING, "fail_fast: %s", why);
		return TRY_FAILED;
	}
	if (lstat(p->lock, &st) != 0) {
		if (errno == ENOENT)
			return TRY_AGAIN;       /* the prober has just reported */
		ropc_log(ctx, LOG_WARNING, "fail_fast: cannot examine %s: %s", p->lock,
			 strerror(errno));
		return TRY_FAILED;
	}
	if (!S_ISREG(st.st_mode)) {
		ropc_log(ctx, LOG_WARNING, "fail_fast: %s is not a regular file; remove it", p->lock);
		return TRY_FAILED;
	}
	if (!lock_stale(st.st_mtim.tv_sec, now, window))
		return TRY_LOST;
	return take_over(ctx, p, now, window);
}

/* Whether a state ending at until fails fast at now: the window is on,
 * and ends at most one window ahead. */
static bool
window_on(long long now, long long until, long window)
{
	return now < until && until - now <= window;
}

/*
 * The state of p's endpoint at this moment: OPEN or PROBE with *since, or
 * CLOSED (no state, or a problem, logged).
 */
static enum ropc_breaker_state
decide(struct ropc_ctx *ctx, struct paths *p, long window, long long *since)
{
	long long until = 0;
	int attempt;
	enum probe_try t = TRY_AGAIN;

	for (attempt = 0; attempt < 2 && t == TRY_AGAIN; attempt++) {
		long long now;

		if (read_state(ctx, p, since, &until) != 0)
			return ROPC_BREAKER_CLOSED;
		now = (long long)time(NULL);
		if (window_on(now, until, window))
			return ROPC_BREAKER_OPEN;
		if (now < until)
			ropc_debug(ctx, "fail_fast: %s ends more than %ld s ahead (the clock moved "
				   "back, or the window shrank): taken as over", p->state, window);
		/* pam_ropc_helper asks without probing: its caller could slow it
		 * down to make any answer a timeout. */
		if (ctx->breaker_read_only)
			return ROPC_BREAKER_CLOSED;
		t = try_probe(ctx, p, now, window);
	}
	if (t == TRY_FAILED)
		return ROPC_BREAKER_CLOSED;
	if (t != TRY_WON)
		return ROPC_BREAKER_OPEN;       /* lost, or the lock came and went twice */
	/* Won.  A prober may have reported between the read and the lock:
	 * read the state again, and probe only when the window is still over. */
	if (read_state(ctx, p, since, &until) != 0) {
		unlink(p->lock);
		return ROPC_BREAKER_CLOSED;     /* cleared meanwhile, or a problem */
	}
	if (window_on((long long)time(NULL), until, window)) {
		unlink(p->lock);
		return ROPC_BREAKER_OPEN;       /* a new window has just begun */
	}
	ropc_debug(ctx, "fail_fast: %s: the window is over; this process probes", p->state);
	return ROPC_BREAKER_PROBE;
}

enum ropc_breaker_state
ropc_breaker_check(struct ropc_ctx *ctx, const char *dir, const char *endpoint, long window,
		   time_t *since)
{
	enum ropc_breaker_state state = ROPC_BREAKER_CLOSED;
	char why[WHY_SIZE];
	struct paths *p;
	struct stat st;
	long long s = 0;

	if (since != NULL)
		*since = 0;
	if (window <= 0)
		return ROPC_BREAKER_CLOSED;
	if (window > MAX_WINDOW)
		window = MAX_WINDOW;
	if (geteuid() != 0) {
		ropc_debug(ctx, "fail_fast: not running as root: no breaker, the IdP is asked");
		return ROPC_BREAKER_CLOSED;
	}
	p = malloc(sizeof(*p));
	if (p == NULL) {
		ropc_log(ctx, LOG_WARNING, "fail_fast: out of memory; the IdP is asked");
		return ROPC_BREAKER_CLOSED;
	}
	if (make_paths(dir, endpoint, p, why, sizeof(why)) < 0) {
		ropc_log(ctx, LOG_WARNING, "fail_fast: %s is not used: %s",
			 dir != NULL ? dir : "(none)", why);
		goto out;
	}
	if (lstat(p->dir, &st) != 0 && errno == ENOENT)
		goto out;               /* never down: nothing to say */
	if (dir_ok(p->dir, why, sizeof(why)) < 0) {
		ropc_log(ctx, LOG_WARNING, "fail_fast: %s is not used (the IdP is asked): %s",
			 p->dir, why);
		goto out;
	}
	state = decide(ctx, p, window, &s);
	if (state != ROPC_BREAKER_CLOSED && since != NULL)
		*since = (time_t)s;
out:
	free(p);
	return state;
}

/* Make the directory when missing (its parent must pass the directory
 * rule) and check it; 0, or -1 with why. */
static int
prepare_dir(const struct paths *p, char *why, size_t whysize)
{
	if (ropc_secfile_check_dirs(p->dir, false, 0, why, whysize) < 0)
		return -1;
	if (mkdir(p->dir, 0700) != 0 && errno != EEXIST) {
		snprintf(why, whysize, "cannot create it: %s", strerror(errno));
		return -1;
	}
	return dir_ok(p->dir, why, whysize);
}

/* Write the state "since until" for p, atomically. */
static void
write_state(struct ropc_ctx *ctx, struct paths *p, long long since, long long until)
{
	char why[WHY_SIZE], text[STATE_MAX];

	snprintf(text, sizeof(text), "%lld %lld\n", since, until);
	if (tmp_name(p, "down", why, sizeof(why)) < 0 ||
	    create_file(p->tmp, text, true, why, sizeof(why)) < 0) {
		ropc_log(ctx, LOG_WARNING, "fail_fast: not writing %s: %s", p->state, why);
		return;
	}
	/* rename replaces whatever is at the name, a link included, without
	 * following it. */
	if (rename(p->tmp, p->state) != 0) {
		ropc_log(ctx, LOG_WARNING, "fail_fast: not writing %s: cannot rename %s: %s",
			 p->state, p->tmp, strerror(errno));
		unlink(p->tmp);
		return;
	}
	ropc_debug(ctx, "fail_fast: %s: down since %lld, failing fast until %lld", p->state,
		   since, until);
}

/* Remove the probe lock when it is this process's. */
static void
release_lock(struct ropc_ctx *ctx, const struct paths *p)
{
	char why[WHY_SIZE];
	char *data = NULL;
	size_t len = 0;
	bool missing = false, mine;
	long long pid = 0;

	if (ropc_secfile_read(p->lock, ROPC_FILE_SECRET, 0, LOCK_MAX, &data, &len, NULL,
			      &missing, why, sizeof(why)) < 0) {
		if (missing)
			ropc_debug(ctx, "fail_fast: no probe lock %s to release", p->lock);
		else
			ropc_log(ctx, LOG_WARNING, "fail_fast: probe lock %s left: %s", p->lock, why);
		return;
	}
	mine = parse_lock(data, len, &pid) && pid == (long long)getpid();
	free(data);
	if (!mine) {
		ropc_debug(ctx, "fail_fast: the probe lock %s is another process's now; left",
			   p->lock);
		return;
	}
	if (unlink(p->lock) != 0 && errno != ENOENT)
		ropc_log(ctx, LOG_WARNING, "fail_fast: cannot remove %s: %s", p->lock,
			 strerror(errno));
}

void
ropc_breaker_report(struct ropc_ctx *ctx, const char *dir, const char *endpoint, bool down,
		    long window, bool probing)
{
	char why[WHY_SIZE];
	struct paths *p;
	struct stat st;

	if (window <= 0)
		return;
	if (window > MAX_WINDOW)
		window = MAX_WINDOW;
	if (geteuid() != 0) {
		ropc_debug(ctx, "fail_fast: not running as root: nothing recorded");
		return;
	}
	p = malloc(sizeof(*p));
	if (p == NULL) {
		ropc_log(ctx, LOG_WARNING, "fail_fast: out of memory; nothing recorded");
		return;
	}
	if (make_paths(dir, endpoint, p, why, sizeof(why)) < 0) {
		ropc_log(ctx, LOG_WARNING, "fail_fast: %s is not used: %s",
			 dir != NULL ? dir : "(none)", why);
		goto out;
	}
	if (down) {
		long long since = 0, until = 0, now;

		if (prepare_dir(p, why, sizeof(why)) < 0) {
			ropc_log(ctx, LOG_WARNING, "fail_fast: %s is not used: %s", p->dir, why);
			goto out;
		}
		now = (long long)time(NULL);
		/* Keep the first "since" of this outage (a garbled state has
		 * been warned of and is replaced). */
		if (read_state(ctx, p, &since, &until) != 0 || since > now)
			since = now;
		write_state(ctx, p, since, now + window);
	} else {
		if (lstat(p->dir, &st) != 0 && errno == ENOENT)
			goto out;       /* never down: nothing to clear */
		if (dir_ok(p->dir, why, sizeof(why)) < 0) {
			ropc_log(ctx, LOG_WARNING, "fail_fast: %s is not used: %s", p->dir, why);
			goto out;
		}
		if (unlink(p->state) == 0)
			ropc_debug(ctx, "fail_fast: %s: up again; cleared", p->state);
		else if (errno != ENOENT)
			ropc_log(ctx, LOG_WARNING, "fail_fast: cannot remove %s: %s", p->state,
				 strerror(errno));
	}
	if (probing)
		release_lock(ctx, p);
out:
	free(p);
}
