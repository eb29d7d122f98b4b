/*
 * offline.c: the offline credential cache (see offline.h).
 *
 * An entry is one JSON object, written and read through cache.c (kind
 * "offline", so its directory checks, atomic writes and defensive reads
 * apply), under the name cache.c derives from the key (the SHA-256 of the
 * user, the IdP and the client_id joined with the byte 0x1f, which none of
 * them may hold, so that two different keys never join to the same text):
 *
 *   {"v":1,"hash":"$y$...","success":T,"failures":N,"locked_until":T,
 *    "claims":{...}}
 *
 * hash is crypt_rn's yescrypt output, the format of /etc/shadow; success
 * is the time of the last online success; failures counts the offline
 * mismatches since then; locked_until is the end of the offline lockout
 * (0 or a past time when there is none); claims, absent or null when there
 * were none, is what the rules of the last online success used.  A
 * password is never written, logged or kept past the call; nor is a hash
 * logged.
 *
 * Nothing read is trusted on its shape: an entry that is not exactly this
 * (another version, a member unknown or of the wrong type, a negative
 * time, a hash that is not yescrypt) is logged at LOG_WARNING and used as
 * no entry at all, never as a refusal or a success.
 *
 * The failure counter.  A mismatch adds one and writes the entry back; at
 * max_failures, locked_until becomes now + lockout.  The counter is reset
 * only by an online success (store), so once the lockout is over each
 * further mismatch locks the user out again at once: after the first
 * max_failures guesses, an attacker gets one guess per lockout.
 *
 * Serialisation.  Were two checks of one entry to run at once, both would
 * read N failures and both write N + 1, and parallel logins (ssh allows
 * many) would give an attacker max_failures guesses per process instead
 * of per user.  So a check holds an exclusive flock on the entry's own lock
 * file, <hex>.lock beside <hex>.json in the offline directory, from before
 * it reads the entry until after it has written the counter back; store
 * and forget take it too around their write or removal, so that a check
 * under way cannot write an old entry back over a new one, nor bring back
 * one that an online refusal has just deleted.  One lock per entry: logins
 * of different users never wait for each other, and a process stopped
 * while holding the lock holds up only that one entry.  Waiting is bounded
 * (LOCK_WAIT_MS); a check that cannot have the lock does not go ahead
 * (NO_ENTRY, logged), store and forget go ahead without it (logged).  Lock
 * files are empty and never removed: unlinking a lock file that another
 * process holds or is about to open would let two processes hold "the"
 * lock at once.
 */
#include "offline.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "cache.h"
#include "logging.h"
#include "response.h"

/* The entry's format version. */
#define ENTRY_VERSION 1
/* The largest entry read or written; claims are at most a token's worth. */
#define ENTRY_MAX ((size_t)128 * 1024)
/* The byte that joins the key's fields. */
#define KEY_SEP '\x1f'
/* The prefix of a yescrypt setting or hash. */
#define YESCRYPT "$y$"
/* The costs libxcrypt accepts for yescrypt. */
#define COST_MIN 1
#define COST_MAX 11
/* How long to wait for an entry's lock, and how often to try. */
#define LOCK_WAIT_MS 10000L
#define LOCK_POLL_MS 10L
/* How far in the future a success time may lie (a clock stepped back a
 * little) before the entry is not believed. */
#define FUTURE_SLACK 60
/* "<64 hex>.json" (cache.c's name) and its NUL, with room to spare. */
#define NAME_SIZE 80
/* Room for a reason. */
#define WHY_SIZE 512

/* An entry as read: the hash is copied out, claims is borrowed from the
 * parsed tree (NULL when the entry has none). */
struct entry {
	char hash[CRYPT_OUTPUT_SIZE];
	long long success;
	long long locked_until;
	int failures;
	struct json_object *claims;
};

static void ROPC_PRINTF(3, 4)
set_why(char *why, size_t whysize, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whysize == 0)
		return;
	va_start(ap, fmt);
	/* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is above */
	vsnprintf(why, whysize, fmt, ap);
	va_end(ap);
}

/*
 * The key's text: user, IdP and client_id ("" for NULL) joined with
 * KEY_SEP.  Allocated (free it), or NULL with why.
 */
static char *
make_key(const struct ropc_offline_key *key, char *why, size_t whysize)
{
	const char *client;
	size_t n;
	char *s;

	if (key == NULL || key->user == NULL || key->user[0] == '\0' || key->idp == NULL ||
	    key->idp[0] == '\0') {
		set_why(why, whysize, "the key has no user or no IdP");
		return NULL;
	}
	client = key->client_id != NULL ? key->client_id : "";
	if (strchr(key->user, KEY_SEP) != NULL || strchr(key->idp, KEY_SEP) != NULL ||
	    strchr(client, KEY_SEP) != NULL) {
		set_why(why, whysize, "a field of the key holds the byte 0x1f");
		return NULL;
	}
	n = strlen(key->user) + strlen(key->idp) + strlen(client) + 3;
	s = malloc(n);
	if (s == NULL) {
		set_why(why, whysize, "out of memory");
		return NULL;
	}
	snprintf(s, n, "%s%c%s%c%s", key->user, KEY_SEP, key->idp, KEY_SEP, client);
	return s;
}

/* The entry's file name (for log lines: a hash, not the user) into out. */
static void
entry_name(const char *keystr, char *out, size_t outsize)
{
	if (ropc_cache_name(keystr, out, outsize) != 0)
		snprintf(out, outsize, "(unnamed)");
}

/* ---- the lock ------------------------------------------------------------- */

enum lock_rc {
	LOCK_HELD,      /* *fd holds the entry's lock */
	LOCK_NONE,      /* no lock file could be opened (why; errno kept) */
	LOCK_BUSY,      /* another process held it for LOCK_WAIT_MS */
};

/* Whether the directory open at fd is one the cache would accept, as far
 * as its own inode goes (cache.c checks the whole path when it reads or
 * writes): a directory of root's, closed to group and others. */
static bool
dir_fd_ok(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0 &&
	       (st.st_mode & 077) == 0;
}

static long
elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
		return LOCK_WAIT_MS;
	return (long)(now.tv_sec - since->tv_sec) * 1000L +
	       (now.tv_nsec - since->tv_nsec) / 1000000L;
}

/*
 * Take the exclusive lock of keystr's entry: the file <hex>.lock in
 * dir/offline, never through a link, created (0600) when missing if
 * create is set.  The directories must exist already (nothing is created
 * here but the lock file).  LOCK_HELD with *fd (close it to unlock), else
 * why (and errno ENOENT when there is no lock file, or no directory).
 */
static enum lock_rc
lock_entry(const char *dir, const char *keystr, bool create, int *fd, char *why,
	   size_t whysize)
{
	char name[NAME_SIZE];
	struct timespec start;
	int dfd = -1, kfd = -1, lfd = -1, e;
	size_t n;

	*fd = -1;
	if (dir == NULL || dir[0] != '/' || ropc_cache_name(keystr, name, sizeof(name)) != 0) {
		set_why(why, whysize, "no lock file name");
		errno = EINVAL;
		return LOCK_NONE;
	}
	n = strlen(name);
	if (n < sizeof(".json") || strcmp(name + n - 5, ".json") != 0) {
		set_why(why, whysize, "no lock file name");
		errno = EINVAL;
		return LOCK_NONE;
	}
	memcpy(name + n - 5, ".lock", sizeof(".lock"));

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd >= 0 && dir_fd_ok(dfd))
		kfd = openat(dfd, ROPC_CACHE_OFFLINE,
			     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	else if (dfd >= 0)
		errno = EPERM;
	if (kfd >= 0 && dir_fd_ok(kfd))
		lfd = openat(kfd, name,
			     O_RDWR | (create ? O_CREAT : 0) | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
			     O_NOCTTY, 0600);
	else if (kfd >= 0)
		errno = EPERM;
	e = errno;
	if (kfd >= 0)
		close(kfd);
	if (dfd >= 0)
		close(dfd);
	if (lfd < 0) {
		set_why(why, whysize, "cannot open the lock file %s: %s", name,
			e == EPERM ? "a directory is not root's 0700" : strerror(e));
		errno = e;
		return LOCK_NONE;
	}
	{
		struct stat st;

		if (fstat(lfd, &st) != 0 || !S_ISREG(st.st_mode)) {
			set_why(why, whysize, "the lock file %s is not a regular file", name);
			close(lfd);
			errno = EINVAL;
			return LOCK_NONE;
		}
	}
	if (clock_gettime(CLOCK_MONOTONIC, &start) != 0) {
		start.tv_sec = 0;
		start.tv_nsec = 0;
	}
	for (;;) {
		const struct timespec pause = { 0, LOCK_POLL_MS * 1000000L };

		if (flock(lfd, LOCK_EX | LOCK_NB) == 0) {
			*fd = lfd;
			return LOCK_HELD;
		}
		e = errno;
		if (e != EWOULDBLOCK && e != EINTR) {
			set_why(why, whysize, "cannot lock %s: %s", name, strerror(e));
			close(lfd);
			errno = e;
			return LOCK_NONE;
		}
		if (elapsed_ms(&start) >= LOCK_WAIT_MS) {
			set_why(why, whysize, "another process has held its lock for %ld s",
				LOCK_WAIT_MS / 1000L);
			close(lfd);
			errno = EWOULDBLOCK;
			return LOCK_BUSY;
		}
		nanosleep(&pause, NULL);
	}
}

static void
unlock_entry(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* ---- hashes ----------------------------------------------------------------- */

/* Whether h (n bytes) has the shape of a yescrypt hash: "$y$", then the
 * parameters, the salt and the hash, '$'-separated, in crypt's alphabet. */
static bool
hash_ok(const char *h, size_t n)
{
	static const char alphabet[] =
		"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz$";
	size_t i, dollars = 0;

	if (h == NULL || n <= sizeof(YESCRYPT) - 1 || n >= CRYPT_OUTPUT_SIZE ||
	    strlen(h) != n || strncmp(h, YESCRYPT, sizeof(YESCRYPT) - 1) != 0)
		return false;
	for (i = 0; i < n; i++) {
		if (strchr(alphabet, h[i]) == NULL)
			return false;
		if (h[i] == '$')
			dollars++;
	}
	return dollars == 4 && h[n - 1] != '$';
}

/* A new yescrypt hash of password at cost into out (CRYPT_OUTPUT_SIZE
 * bytes); 0, or -1 with why. */
static int
hash_password(const char *password, int cost, char *out, char *why, size_t whysize)
{
	struct crypt_data *data;
	const char *h;
	char *setting;
	int rc = -1;

	errno = 0;
	setting = crypt_gensalt_ra(YESCRYPT, (unsigned long)cost, NULL, 0);
	if (setting == NULL) {
		set_why(why, whysize, "crypt_gensalt_ra failed: %s",
			errno != 0 ? strerror(errno) : "no reason given");
		return -1;
	}
	data = calloc(1, sizeof(*data));
	if (data == NULL) {
		set_why(why, whysize, "out of memory");
		free(setting);
		return -1;
	}
	h = crypt_rn(password, setting, data, (int)sizeof(*data));
	if (h == NULL || !hash_ok(h, strlen(h))) {
		set_why(why, whysize, "crypt_rn gave no yescrypt hash");
	} else {
		memcpy(out, h, strlen(h) + 1);
		rc = 0;
	}
	ropc_wipe(data, sizeof(*data));
	free(data);
	free(setting);
	return rc;
}

/* Whether password hashes to stored (stored as the setting), compared in
 * constant time: 0 with *match, or -1 when crypt_rn refuses stored. */
static int
hash_matches(const char *password, const char *stored, bool *match)
{
	struct crypt_data *data;
	const char *h;
	size_t sn = strlen(stored);
	int rc = -1;

	*match = false;
	data = calloc(1, sizeof(*data));
	if (data == NULL)
		return -1;
	h = crypt_rn(password, stored, data, (int)sizeof(*data));
	if (h != NULL && h[0] != '*') {
		size_t n = strlen(h);

		/* The length of a yescrypt hash follows from its setting,
		 * which is stored's own: comparing it tells nothing. */
		*match = n == sn && CRYPTO_memcmp(h, stored, n) == 0;
		rc = 0;
	}
	ropc_wipe(data, sizeof(*data));
	free(data);
	return rc;
}

/* ---- the entry's JSON ------------------------------------------------------- */

/* The integer member name of o, in [min, max]: 0 with *v, or -1 with why. */
static int
int_member(struct json_object *o, const char *name, long long min, long long max,
	   long long *v, char *why, size_t whysize)
{
	struct json_object *m;
	int64_t x;

	if (!json_object_object_get_ex(o, name, &m) || m == NULL) {
		set_why(why, whysize, "no \"%s\"", name);
		return -1;
	}
	if (!json_object_is_type(m, json_type_int)) {
		set_why(why, whysize, "\"%s\" is not an integer", name);
		return -1;
	}
	x = json_object_get_int64(m);
	if (x < min || x > max) {
		set_why(why, whysize, "\"%s\" is out of range", name);
		return -1;
	}
	*v = (long long)x;
	return 0;
}

/*
 * Parse an entry's text: 0 with *root (put it with ropc_json_object_done)
 * and *e (e->claims borrowed from *root), or -1 with why.
 */
static int
parse_entry(const char *text, size_t len, struct json_object **root, struct entry *e,
	    char *why, size_t whysize)
{
	static const char *const known[] = {
		"v", "hash", "success", "failures", "locked_until", "claims"
	};
	struct json_object *o, *m;
	char pwhy[256];
	long long v = 0, failures = 0;
	const char *h;
	size_t hn;

	*root = NULL;
	memset(e, 0, sizeof(*e));
	o = ropc_json_object_parse(text, len, pwhy, sizeof(pwhy));
	if (o == NULL) {
		set_why(why, whysize, "%s", pwhy);
		return -1;
	}
	{
		json_object_object_foreach(o, name, val) {
			size_t i;
			bool ok = false;

			(void)val;
			for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
				if (strcmp(name, known[i]) == 0)
					ok = true;
			if (!ok) {
				set_why(why, whysize, "an unknown member");
				goto bad;
			}
		}
	}
	if (int_member(o, "v", 0, INT_MAX, &v, why, whysize) < 0)
		goto bad;
	if (v != ENTRY_VERSION) {
		set_why(why, whysize, "version %lld, not %d", v, ENTRY_VERSION);
		goto bad;
	}
	if (!json_object_object_get_ex(o, "hash", &m) || !json_object_is_type(m, json_type_string)) {
		set_why(why, whysize, "no \"hash\" string");
		goto bad;
	}
	h = json_object_get_string(m);
	hn = (size_t)json_object_get_string_len(m);
	if (!hash_ok(h, hn)) {
		set_why(why, whysize, "\"hash\" is not a yescrypt hash");
		goto bad;
	}
	memcpy(e->hash, h, hn + 1);
	if (int_member(o, "success", 0, INT64_MAX, &e->success, why, whysize) < 0 ||
	    int_member(o, "failures", 0, INT_MAX, &failures, why, whysize) < 0 ||
	    int_member(o, "locked_until", 0, INT64_MAX, &e->locked_until, why, whysize) < 0)
		goto bad;
	e->failures = (int)failures;
	if (json_object_object_get_ex(o, "claims", &m) && m != NULL) {
		if (!json_object_is_type(m, json_type_object)) {
			set_why(why, whysize, "\"claims\" is not an object");
			goto bad;
		}
		e->claims = m;
	}
	*root = o;
	return 0;
bad:
	ropc_wipe(e->hash, sizeof(e->hash));
	ropc_json_object_done(o);
	return -1;
}

/* Add an integer member; false when out of memory. */
static bool
add_int(struct json_object *o, const char *name, long long v)
{
	struct json_object *m = json_object_new_int64((int64_t)v);

	if (m == NULL)
		return false;
	if (json_object_object_add(o, name, m) != 0) {
		json_object_put(m);
		return false;
	}
	return true;
}

/*
 * Write keystr's entry (through cache.c: atomic, 0600, checked
 * directories).  Only what reads back as an entry is written.  0, or -1
 * (logged).
 */
static int
write_entry(struct ropc_ctx *ctx, const char *dir, const char *keystr, const char *name,
	    const char *hash, long long success, int failures, long long locked_until,
	    struct json_object *claims)
{
	struct json_object *o, *m = NULL, *back = NULL;
	struct entry check;
	char why[WHY_SIZE];
	const char *text;
	size_t len = 0;
	int rc = -1;

	memset(&check, 0, sizeof(check));
	o = json_object_new_object();
	if (o == NULL || !add_int(o, "v", ENTRY_VERSION))
		goto oom;
	m = json_object_new_string(hash);
	if (m == NULL || json_object_object_add(o, "hash", m) != 0)
		goto oom;
	m = NULL;
	if (!add_int(o, "success", success) || !add_int(o, "failures", failures) ||
	    !add_int(o, "locked_until", locked_until))
		goto oom;
	if (claims != NULL) {
		if (json_object_deep_copy(claims, &m, NULL) != 0 || m == NULL ||
		    json_object_object_add(o, "claims", m) != 0)
			goto oom;
		m = NULL;
	}
	text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
						 JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (text == NULL)
		goto oom;
	if (len > ENTRY_MAX) {
		ropc_log(ctx, LOG_WARNING, "offline: not writing the entry %s: %zu bytes, over %zu",
			 name, len, ENTRY_MAX);
	} else if (parse_entry(text, len, &back, &check, why, sizeof(why)) < 0) {
		/* E.g. claims nested so deep that the entry would not read back. */
		ropc_log(ctx, LOG_WARNING, "offline: not writing the entry %s: it would not read "
			 "back (%s)", name, why);
	} else {
		rc = ropc_cache_write(ctx, dir, ROPC_CACHE_OFFLINE, keystr, text, len);
	}
	ropc_wipe(check.hash, sizeof(check.hash));
	ropc_json_object_done(back);
	/* The text is the object's own buffer (json-c hands it out const):
	 * wipe it before it is freed, as response.c wipes json-c's strings. */
	ropc_wipe((char *)text, len);
	ropc_json_object_done(o);
	return rc;
oom:
	ropc_log(ctx, LOG_WARNING, "offline: not writing the entry %s: out of memory", name);
	json_object_put(m);
	ropc_json_object_done(o);
	return -1;
}

/* ---- the interface -------------------------------------------------------- */

int
ropc_offline_store(struct ropc_ctx *ctx, const char *dir, const struct ropc_offline_key *key,
		   const char *password, struct json_object *claims,
		   const struct ropc_offline_rules *rules)
{
	char why[WHY_SIZE], name[NAME_SIZE];
	char hash[CRYPT_OUTPUT_SIZE];
	char *keystr;
	int lfd = -1, rc = -1;
	enum lock_rc lrc;

	keystr = make_key(key, why, sizeof(why));
	if (keystr == NULL) {
		ropc_log(ctx, LOG_WARNING, "offline: not storing an entry: %s", why);
		return -1;
	}
	entry_name(keystr, name, sizeof(name));
	if (rules == NULL || password == NULL || password[0] == '\0') {
		ropc_log(ctx, LOG_WARNING, "offline: not storing the entry %s: no password", name);
		goto out;
	}
	if (rules->cost < COST_MIN || rules->cost > COST_MAX) {
		ropc_log(ctx, LOG_WARNING, "offline: not storing the entry %s: offline_hash_cost %d "
			 "is not within %d..%d", name, rules->cost, COST_MIN, COST_MAX);
		goto out;
	}
	if (claims != NULL && !json_object_is_type(claims, json_type_object)) {
		ropc_log(ctx, LOG_WARNING, "offline: not storing the entry %s: the claims are not "
			 "an object", name);
		goto out;
	}
	/* The slow part, before the lock: no one waits for it. */
	if (hash_password(password, rules->cost, hash, why, sizeof(why)) < 0) {
		ropc_log(ctx, LOG_WARNING, "offline: not storing the entry %s: %s", name, why);
		goto out;
	}
	lrc = lock_entry(dir, keystr, true, &lfd, why, sizeof(why));
	if (lrc == LOCK_BUSY)
		ropc_log(ctx, LOG_WARNING, "offline: storing the entry %s without its lock: %s",
			 name, why);
	else if (lrc == LOCK_NONE)
		/* Most often the first entry: no directory yet, cache.c makes it. */
		ropc_debug(ctx, "offline: storing the entry %s without its lock: %s", name, why);
	rc = write_entry(ctx, dir, keystr, name, hash, (long long)rules->now, 0, 0, claims);
	unlock_entry(lfd);
	ropc_wipe(hash, sizeof(hash));
	if (rc == 0)
		ropc_debug(ctx, "offline: stored the entry %s", name);
out:
	free(keystr);
	return rc;
}

int
ropc_offline_forget(struct ropc_ctx *ctx, const char *dir, const struct ropc_offline_key *key)
{
	char why[WHY_SIZE], name[NAME_SIZE];
	char *keystr;
	int lfd = -1, rc;

	keystr = make_key(key, why, sizeof(why));
	if (keystr == NULL) {
		ropc_log(ctx, LOG_WARNING, "offline: not removing an entry: %s", why);
		return -1;
	}
	entry_name(keystr, name, sizeof(name));
	/* No lock file is made here (an online refusal may name anyone).
	 * Without one, no check is between its read and its write: a check
	 * makes the file before it reads under the lock. */
	if (lock_entry(dir, keystr, false, &lfd, why, sizeof(why)) == LOCK_BUSY)
		ropc_log(ctx, LOG_WARNING, "offline: removing the entry %s without its lock: %s",
			 name, why);
	rc = ropc_cache_remove(ctx, dir, ROPC_CACHE_OFFLINE, keystr);
	unlock_entry(lfd);
	if (rc == 0)
		ropc_debug(ctx, "offline: no entry %s any more", name);
	free(keystr);
	return rc;
}

enum ropc_offline_rc
ropc_offline_check(struct ropc_ctx *ctx, const char *dir, const struct ropc_offline_key *key,
		   const char *password, const struct ropc_offline_rules *rules,
		   struct json_object **claims, long *age, char *why, size_t whysize)
{
	char lwhy[WHY_SIZE], name[NAME_SIZE];
	struct json_object *root = NULL;
	struct entry e;
	char *keystr, *data = NULL;
	size_t len = 0;
	time_t mtime = 0;
	long long now, entry_age, locked_until;
	long lockout;
	int max, failures;
	int lfd = -1, rc;
	enum lock_rc lrc;
	enum ropc_offline_rc out = ROPC_OFFLINE_NO_ENTRY;
	bool match = false;

	memset(&e, 0, sizeof(e));
	if (claims != NULL)
		*claims = NULL;
	if (age != NULL)
		*age = 0;
	set_why(why, whysize, "no usable offline entry");
	keystr = make_key(key, lwhy, sizeof(lwhy));
	if (keystr == NULL) {
		ropc_log(ctx, LOG_WARNING, "offline: no entry: %s", lwhy);
		return ROPC_OFFLINE_NO_ENTRY;
	}
	entry_name(keystr, name, sizeof(name));
	if (rules == NULL || password == NULL) {
		ropc_log(ctx, LOG_WARNING, "offline: the entry %s not used: no password", name);
		goto done;
	}

	/* Whether there is an entry at all, first: a lock file is made only
	 * for an entry that exists, not for every name someone tries.  Then
	 * the lock, and the entry read again under it, so that nothing read
	 * is stale when the counter is written back. */
	rc = ropc_cache_read(ctx, dir, ROPC_CACHE_OFFLINE, keystr, ENTRY_MAX, &data, &len, &mtime);
	if (rc == 0) {
		ropc_wipe(data, len);
		free(data);
		data = NULL;
		len = 0;
		lrc = lock_entry(dir, keystr, true, &lfd, lwhy, sizeof(lwhy));
		rc = ropc_cache_read(ctx, dir, ROPC_CACHE_OFFLINE, keystr, ENTRY_MAX, &data, &len,
				     &mtime);
	} else {
		lrc = LOCK_NONE;
	}
	if (rc == 1) {
		ropc_debug(ctx, "offline: no entry %s", name);
		set_why(why, whysize, "no offline entry");
		goto done;
	}
	if (rc != 0) {
		/* cache.c said why. */
		set_why(why, whysize, "the offline entry cannot be read");
		goto done;
	}
	if (lrc != LOCK_HELD) {
		ropc_log(ctx, LOG_WARNING, "offline: the entry %s not used: %s", name, lwhy);
		set_why(why, whysize, "the offline entry cannot be locked");
		goto done;
	}
	if (parse_entry(data, len, &root, &e, lwhy, sizeof(lwhy)) < 0) {
		ropc_log(ctx, LOG_WARNING, "offline: the entry %s ignored: %s", name, lwhy);
		set_why(why, whysize, "the offline entry is malformed");
		goto done;
	}

	now = (long long)rules->now;
	if (e.success > now && e.success - now > FUTURE_SLACK) {
		ropc_log(ctx, LOG_WARNING, "offline: the entry %s ignored: its success time is "
			 "%lld s in the future", name, e.success - now);
		set_why(why, whysize, "the offline entry is dated in the future");
		goto done;
	}
	entry_age = now > e.success ? now - e.success : 0;
	if (rules->ttl <= 0 || entry_age >= (long long)rules->ttl) {
		set_why(why, whysize, "the offline entry is %lld s old, past offline_ttl", entry_age);
		out = ROPC_OFFLINE_REFUSED;
		goto done;
	}
	if (e.locked_until > now) {
		set_why(why, whysize, "locked out offline for %lld more s", e.locked_until - now);
		out = ROPC_OFFLINE_REFUSED;
		goto done;
	}

	if (hash_matches(password, e.hash, &match) < 0) {
		ropc_log(ctx, LOG_WARNING, "offline: the entry %s ignored: its hash is refused by "
			 "crypt_rn", name);
		set_why(why, whysize, "the offline entry is malformed");
		goto done;
	}
	/* Count the attempt before its result is used, and refuse when it
	 * cannot be counted: a caller that makes the write fail (one that runs
	 * pam_ropc_helper with a file size limit, say) gets no free guess.  A
	 * match takes the count back. */
	max = rules->max_failures < 1 ? 1 : rules->max_failures;
	failures = e.failures < INT_MAX ? e.failures + 1 : INT_MAX;
	locked_until = e.locked_until;
	lockout = rules->lockout > 0 ? rules->lockout : 0;
	if (failures >= max && lockout > 0)
		locked_until = now + (long long)lockout;
	if (write_entry(ctx, dir, keystr, name, e.hash, e.success, failures, locked_until,
			e.claims) < 0) {
		ropc_log(ctx, LOG_WARNING, "offline: the attempt could not be counted in the entry "
			 "%s; refused", name);
		set_why(why, whysize, "the attempt cannot be counted in the offline entry");
		out = ROPC_OFFLINE_REFUSED;
		goto done;
	}
	if (match) {
		if (write_entry(ctx, dir, keystr, name, e.hash, e.success, e.failures,
				e.locked_until, e.claims) < 0)
			ropc_log(ctx, LOG_WARNING, "offline: the entry %s keeps one failure more "
				 "than it had: it could not be written back", name);
		if (claims != NULL && e.claims != NULL &&
		    (json_object_deep_copy(e.claims, claims, NULL) != 0 || *claims == NULL)) {
			*claims = NULL;
			ropc_log(ctx, LOG_WARNING, "offline: the entry %s not used: out of memory",
				 name);
			set_why(why, whysize, "out of memory");
			goto done;
		}
		if (age != NULL)
			*age = entry_age > LONG_MAX ? LONG_MAX : (long)entry_age;
		set_why(why, whysize, "the offline entry is %lld s old", entry_age);
		out = ROPC_OFFLINE_OK;
		goto done;
	}
	/* A mismatch: counted above; locked out at max_failures. */
	if (locked_until > now)
		set_why(why, whysize, "the password does not match the offline entry "
			"(failure %d of %d): locked out offline for %lld s", failures, max,
			locked_until - now);
	else
		set_why(why, whysize, "the password does not match the offline entry "
			"(failure %d of %d)", failures, max);
	out = ROPC_OFFLINE_REFUSED;
done:
	unlock_entry(lfd);
	ropc_wipe(e.hash, sizeof(e.hash));
	ropc_json_object_done(root);
	if (data != NULL) {
		ropc_wipe(data, len);
		free(data);
	}
	free(keystr);
	return out;
}

int
ropc_offline_peek(struct ropc_ctx *ctx, const char *dir, const struct ropc_offline_key *key,
		  long long *success, int *failures, long long *locked_until)
{
	struct json_object *root = NULL;
	struct entry e;
	char why[256], *keystr, *data = NULL;
	size_t len = 0;
	time_t mtime = 0;
	int rc;

	keystr = make_key(key, why, sizeof(why));
	if (keystr == NULL)
		return -1;
	rc = ropc_cache_read(ctx, dir, ROPC_CACHE_OFFLINE, keystr, ENTRY_MAX, &data, &len, &mtime);
	free(keystr);
	if (rc != 0)
		return rc;
	rc = parse_entry(data, len, &root, &e, why, sizeof(why));
	ropc_wipe(data, len);
	free(data);
	if (rc < 0) {
		ropc_log(ctx, LOG_WARNING, "offline: an entry cannot be used: %s", why);
		return -1;
	}
	*success = e.success;
	*failures = e.failures;
	*locked_until = e.locked_until;
	ropc_wipe(e.hash, sizeof(e.hash));
	ropc_json_object_done(root);
	return 0;
}
