/*
 * test-cache.c: the cache directory (cache.h): entry names, the round
 * trip, the demands on the directories (created 0700, refused when open to
 * group or others, not root's, or a symbolic link), the demands on the
 * entries (the defensive reader's), atomic replacement that never follows
 * a link, touch, and the quiet behaviour of a process that is not root.
 *
 * Everything happens under a directory made by tap_safe_tmpdir (under
 * /run/ropc-tests as root), since the directory rule refuses /tmp.  Most
 * checks need root (chown, files owned by root); as another user they
 * bail out.
 *
 * pam_vsyslog is wrapped as in test-options.c: every line the module logs
 * is kept, so that refusals can be checked to be logged at LOG_WARNING
 * (once) and quiet refusals to be logged at LOG_DEBUG only.
 *
 * open is wrapped too, so that a test can change an entry at the moment
 * the reader opens it (the race the reader's stat before and after the
 * read is there for).  The fortified inline open of <fcntl.h> would clash
 * with the wrapper, hence no _FORTIFY_SOURCE in this file.
 */
#undef _FORTIFY_SOURCE
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <security/pam_ext.h>

#include "cache.h"
#include "tap.h"

#include "logcap.h"

/* ---- a file changed under the reader ------------------------------------ */

/* While race_left > 0, each open of race_path first changes that file:
 * with race_swap set, renames race_swap over it (another file in its
 * place); else sets its times to race_time, then one second later. */
static const char *race_path;
static const char *race_swap;
static int race_left;
static time_t race_time;

typedef int (*open_fn)(const char *, int, ...);

int
open(const char *path, int flags, ...)
{
	static open_fn real;
	mode_t mode = 0;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;

		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, unsigned int);
		va_end(ap);
	}
	if (real == NULL)
		real = (open_fn)(uintptr_t)dlsym(RTLD_NEXT, "open");
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (race_path != NULL && race_left > 0 && strcmp(path, race_path) == 0) {
		struct timespec t[2] = { { race_time, 0 }, { race_time, 0 } };

		race_left--;
		if (race_swap != NULL)
			rename(race_swap, path);
		else
			utimensat(AT_FDCWD, path, t, AT_SYMLINK_NOFOLLOW);
		race_time++;
	}
	return real(path, flags, mode);
}

/* ---- files ------------------------------------------------------------------ */

static char base[128];
static struct ropc_ctx ctx;
static const char *const key = "https://idp.example.com/.well-known/openid-configuration";
static const char *const doc = "{\"issuer\":\"https://idp.example.com\"}";

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

/* The entry path of key in kind under cdir. */
static const char *
entry_path(const char *cdir, const char *kind, const char *k)
{
	static char p[4][512];
	static int i;
	char name[80];

	i = (i + 1) % 4;
	if (ropc_cache_name(k, name, sizeof(name)) != 0)
		name[0] = '\0';
	snprintf(p[i], sizeof(p[i]), "%s/%s/%s", cdir, kind, name);
	return p[i];
}

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

/* Whether the file at path holds exactly text. */
static int
file_is(const char *path, const char *text)
{
	char buf[4096];
	size_t got = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW);

	if (fd < 0)
		return 0;
	while (got < sizeof(buf) && (n = read(fd, buf + got, sizeof(buf) - got)) > 0)
		got += (size_t)n;
	close(fd);
	return got == strlen(text) && memcmp(buf, text, got) == 0;
}

static int
is_missing(const char *path)
{
	struct stat st;

	return lstat(path, &st) != 0 && errno == ENOENT;
}

/* The names in dir (not . or ..): how many, and how many start with
 * ".tmp-". -1 when it cannot be read. */
static int
count_names(const char *dir, int *tmps)
{
	DIR *d = opendir(dir);
	const struct dirent *e;
	int n = 0;

	*tmps = 0;
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		n++;
		if (strncmp(e->d_name, ".tmp-", 5) == 0)
			(*tmps)++;
	}
	closedir(d);
	return n;
}

/* A fresh, valid cache under base/name holding doc as the discovery entry
 * of key; its path, or NULL. */
static const char *
fresh_cache(const char *name)
{
	const char *c = at(name);

	if (ropc_cache_write(&ctx, c, ROPC_CACHE_DISCOVERY, key, doc, strlen(doc)) != 0) {
		tap_diag("could not set up the cache %s", c);
		return NULL;
	}
	return c;
}

/* Read key's discovery entry from c: the result; the data is freed. */
static int
read_rc(const char *c, size_t max)
{
	char *data = NULL;
	size_t len = 0;
	time_t mt = 0;
	int rc = ropc_cache_read(&ctx, c, ROPC_CACHE_DISCOVERY, key, max, &data, &len, &mt);

	free(data);
	return rc;
}

/* ---- tests ------------------------------------------------------------------ */

static void
test_name(void)
{
	char a[80], b[80], small[69];
	size_t i;
	int hex = 1;

	CHECK_INT(ropc_cache_name(key, a, sizeof(a)), 0, "name: made");
	CHECK_INT(strlen(a), 69, "name: 64 characters and .json");
	for (i = 0; i < 64; i++)
		if (strchr("0123456789abcdef", a[i]) == NULL || a[i] == '\0')
			hex = 0;
	CHECK(hex, "name: 64 lower-case hex digits");
	CHECK_STR(a + 64, ".json", "name: ends in .json");
	CHECK_INT(ropc_cache_name("abc", b, sizeof(b)), 0, "name of abc: made");
	CHECK_STR(b, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.json",
		  "name of abc: its SHA-256 (FIPS 180-2 vector)");
	CHECK_INT(ropc_cache_name(key, b, sizeof(b)), 0, "name: made again");
	CHECK_STR(b, a, "name: the same key, the same name");
	CHECK_INT(ropc_cache_name("https://idp.example.com/jwks", b, sizeof(b)), 0,
		  "name of another key: made");
	CHECK(strcmp(a, b) != 0, "name: another key, another name");
	CHECK_INT(ropc_cache_name(key, small, sizeof(small)), -1,
		  "name: refused when it does not fit with its NUL");
}

static void
test_round_trip(void)
{
	const char *c = at("rt"), *kd = at("rt/discovery");
	const char *e = entry_path(c, ROPC_CACHE_DISCOVERY, key);
	char *data = NULL;
	size_t len = 0;
	time_t mt = 0, t0 = time(NULL);
	struct stat st;

	log_reset();
	CHECK(is_missing(c), "round trip: the cache directory does not exist yet");
	CHECK_INT(ropc_cache_write(&ctx, c, ROPC_CACHE_DISCOVERY, key, doc, strlen(doc)), 0,
		  "round trip: written");
	CHECK(lstat(c, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700 &&
	      st.st_uid == 0, "round trip: the cache directory was created, root, 0700");
	CHECK(lstat(kd, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700 &&
	      st.st_uid == 0, "round trip: the kind's subdirectory was created, root, 0700");
	CHECK(lstat(e, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0600 &&
	      st.st_uid == 0, "round trip: the entry is a regular file, root, 0600, at its name");
	CHECK_INT(ropc_cache_read(&ctx, c, ROPC_CACHE_DISCOVERY, key, 4096, &data, &len, &mt), 0,
		  "round trip: read");
	CHECK_MEM(data, len, doc, strlen(doc), "round trip: the same bytes");
	CHECK(data != NULL && data[len] == '\0', "round trip: NUL-terminated");
	CHECK(mt >= t0 - 2 && mt <= time(NULL) + 2, "round trip: mtime %lld is now (%lld)",
	      (long long)mt, (long long)t0);
	CHECK_INT(count_logged(LOG_WARNING, NULL), 0, "round trip: no warning");
	free(data);

	/* Another kind of entry under the same root, and a trailing slash. */
	CHECK_INT(ropc_cache_write(&ctx, at("rt/"), ROPC_CACHE_JWKS, key, "{}", 2), 0,
		  "round trip: another kind written (dir with a trailing slash)");
	CHECK(lstat(entry_path(c, ROPC_CACHE_JWKS, key), &st) == 0 && S_ISREG(st.st_mode),
	      "round trip: in its own subdirectory");

	/* Empty content is an entry too. */
	CHECK_INT(ropc_cache_write(&ctx, c, ROPC_CACHE_JWKS, "empty", "", 0), 0,
		  "round trip: empty entry written");
	data = NULL;
	CHECK_INT(ropc_cache_read(&ctx, c, ROPC_CACHE_JWKS, "empty", 10, &data, &len, &mt), 0,
		  "round trip: empty entry read");
	CHECK_INT(len, 0, "round trip: empty entry has no bytes");
	free(data);
}

static void
test_missing(void)
{
	const char *c = fresh_cache("miss");
	char *data = (char *)"x";
	size_t len = 5;
	time_t mt = 5;

	log_reset();
	CHECK_INT(ropc_cache_read(&ctx, c, ROPC_CACHE_DISCOVERY, "https://other.example/", 4096,
				  &data, &len, &mt), 1, "missing entry: 1");
	CHECK(data == NULL && len == 0, "missing entry: no data");
	CHECK_INT(ropc_cache_read(&ctx, c, ROPC_CACHE_JWKS, key, 4096, &data, &len, &mt), 1,
		  "missing kind subdirectory: 1");
	CHECK_INT(ropc_cache_read(&ctx, at("never-made"), ROPC_CACHE_JWKS, key, 4096, &data,
				  &len, &mt), 1, "missing cache directory: 1");
	CHECK(is_missing(at("never-made")), "missing cache directory: reading made none");
	CHECK_INT(count_logged(LOG_WARNING, NULL) + count_logged(LOG_ERR, NULL), 0,
		  "missing: nothing logged as a problem");
	CHECK_INT(ropc_cache_touch(&ctx, c, ROPC_CACHE_DISCOVERY, "https://other.example/"), -1,
		  "missing entry: touch -1");
	CHECK(is_missing(entry_path(c, ROPC_CACHE_DISCOVERY, "https://other.example/")),
	      "missing entry: touch made no file");
}

/* Refusals of the directories, for reading and writing. */
static void
dir_refused(const char *what, const char *c)
{
	const char *e = entry_path(c, ROPC_CACHE_DISCOVERY, "new-key");

	log_reset();
	CHECK_INT(read_rc(c, 4096), -1, "%s: read -1", what);
	CHECK_INT(count_logged(LOG_WARNING, "is not used"), 1,
		  "%s: read logged one warning \"is not used\"", what);
	log_reset();
	CHECK_INT(ropc_cache_write(&ctx, c, ROPC_CACHE_DISCOVERY, "new-key", doc, strlen(doc)), -1,
		  "%s: write -1", what);
	CHECK_INT(count_logged(LOG_WARNING, "is not used"), 1,
		  "%s: write logged one warning \"is not used\"", what);
	CHECK(is_missing(e), "%s: write made no entry", what);
	CHECK_INT(ropc_cache_touch(&ctx, c, ROPC_CACHE_DISCOVERY, key), -1, "%s: touch -1", what);
}

static void
test_dirs(void)
{
	const char *c;
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	time_t mt = 0;

	c = fresh_cache("mode755");
	if (c != NULL && chmod(c, 0755) == 0)
		dir_refused("cache dir 0755", c);
	else
		FAIL(6, "cache dir 0755: no setup");

	c = fresh_cache("mode710");
	if (c != NULL && chmod(c, 0710) == 0)
		dir_refused("cache dir 0710 (group search only)", c);
	else
		FAIL(6, "cache dir 0710: no setup");

	c = fresh_cache("kmode705");
	if (c != NULL && chmod(at("kmode705/discovery"), 0705) == 0)
		dir_refused("kind dir 0705", c);
	else
		FAIL(6, "kind dir 0705: no setup");

	c = fresh_cache("mode500");
	if (c != NULL && chmod(c, 0500) == 0) {
		CHECK_INT(read_rc(c, 4096), 0, "cache dir 0500 (stricter than 0700): read");
		chmod(c, 0700);
	} else {
		FAIL(1, "cache dir 0500: no setup");
	}

	c = fresh_cache("uid1");
	if (c != NULL && chown(c, 1, 0) == 0)
		dir_refused("cache dir owned by uid 1", c);
	else
		FAIL(6, "cache dir uid 1: no setup");

	c = fresh_cache("kuid1");
	if (c != NULL && chown(at("kuid1/discovery"), 1, 0) == 0)
		dir_refused("kind dir owned by uid 1", c);
	else
		FAIL(6, "kind dir uid 1: no setup");

	/* dir/kind a link to a good directory holding a good entry: not
	 * followed. */
	c = fresh_cache("klink");
	if (c != NULL && fresh_cache("klink-target") != NULL &&
	    rename(at("klink/discovery"), at("klink-moved")) == 0 &&
	    symlink(at("klink-target/discovery"), at("klink/discovery")) == 0) {
		int n, tmps;

		dir_refused("kind dir a symbolic link", c);
		n = count_names(at("klink-target/discovery"), &tmps);
		CHECK_INT(n, 1, "kind dir a symbolic link: nothing written where it leads");
	} else {
		FAIL(7, "kind dir symlink: no setup");
	}

	/* The cache dir a link to a good cache. */
	c = fresh_cache("dlink-target");
	if (c != NULL && symlink(c, at("dlink")) == 0)
		dir_refused("cache dir a symbolic link", at("dlink"));
	else
		FAIL(6, "cache dir symlink: no setup");

	/* Dangling links: not "no entry" but refused. */
	if (symlink(at("nowhere"), at("dangling")) == 0) {
		log_reset();
		CHECK_INT(read_rc(at("dangling"), 4096), -1, "cache dir a dangling link: read -1");
		CHECK_INT(count_logged(LOG_WARNING, "is not used"), 1,
			  "cache dir a dangling link: warned");
	} else {
		FAIL(2, "dangling: no setup");
	}
	c = fresh_cache("kdangling");
	if (c != NULL && mkdir(at("kdangling/jwks-gone"), 0700) == 0 &&
	    symlink(at("kdangling/jwks-gone"), at("kdangling/jwks")) == 0 &&
	    rmdir(at("kdangling/jwks-gone")) == 0) {
		log_reset();
		CHECK_INT(ropc_cache_read(&ctx, c, ROPC_CACHE_JWKS, key, 4096, &data, &len, &mt), -1,
			  "kind dir a dangling link: read -1");
		CHECK_INT(count_logged(LOG_WARNING, "is not used"), 1,
			  "kind dir a dangling link: warned");
		free(data);
		data = NULL;
	} else {
		FAIL(2, "kind dangling: no setup");
	}

	/* A directory above open to others (the directory rule). */
	if (mkdir(at("open"), 0700) == 0 && chmod(at("open"), 0777) == 0) {
		log_reset();
		CHECK_INT(ropc_cache_write(&ctx, at("open/cache"), ROPC_CACHE_JWKS, key, doc,
					   strlen(doc)), -1, "parent 0777: write -1");
		CHECK(is_missing(at("open/cache")), "parent 0777: no cache directory created");
		CHECK_INT(count_logged(LOG_WARNING, "is not used"), 1, "parent 0777: warned");
	} else {
		FAIL(3, "parent 0777: no setup");
	}

	/* Only the last component is created. */
	CHECK_INT(ropc_cache_write(&ctx, at("no-parent/cache"), ROPC_CACHE_JWKS, key, doc,
				   strlen(doc)), -1, "missing parent: write -1");
	CHECK(is_missing(at("no-parent")), "missing parent: not created");

	/* The cache dir a file. */
	put(at("file"), "x", 1, 0600);
	CHECK_INT(ropc_cache_write(&ctx, at("file"), ROPC_CACHE_JWKS, key, doc, strlen(doc)), -1,
		  "cache dir a regular file: write -1");

	/* dir must be absolute, kind a plain name. */
	log_reset();
	CHECK_INT(ropc_cache_write(&ctx, "relative/cache", ROPC_CACHE_JWKS, key, doc, strlen(doc)),
		  -1, "relative cache dir: write -1");
	CHECK(is_missing("relative"), "relative cache dir: nothing made in the working directory");
	CHECK_INT(read_rc("relative/cache", 4096), -1, "relative cache dir: read -1");
	CHECK_INT(count_logged(LOG_WARNING, "not an absolute path"), 2,
		  "relative cache dir: both logged");
	c = fresh_cache("kinds");
	if (c != NULL) {
		static const char *const bad[] = { "../kinds-escape", "a/b", ".hidden", "..", "" };
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			CHECK_INT(ropc_cache_write(&ctx, c, bad[i], key, doc, strlen(doc)), -1,
				  "kind \"%s\": refused", bad[i]);
		CHECK(is_missing(at("kinds-escape")), "kind ../x: nothing made beside the cache");
		CHECK(lstat(at("kinds/a"), &st) != 0, "kind a/b: nothing made");
	} else {
		FAIL(7, "kinds: no setup");
	}
}

/* Refusals of the entry. */
static void
entry_refused(const char *what, const char *c, size_t max)
{
	log_reset();
	CHECK_INT(read_rc(c, max), -1, "%s: read -1", what);
	CHECK_INT(count_logged(LOG_WARNING, "ignored"), 1,
		  "%s: logged one warning \"ignored\"", what);
}

static void
test_entries(void)
{
	const char *c, *e;
	char *data = NULL;
	size_t len = 0;
	time_t mt;

	c = fresh_cache("e644");
	e = c != NULL ? entry_path(c, ROPC_CACHE_DISCOVERY, key) : NULL;
	if (e != NULL && chmod(e, 0644) == 0)
		entry_refused("entry 0644", c, 4096);
	else
		FAIL(2, "entry 0644: no setup");

	c = fresh_cache("e640");
	e = c != NULL ? entry_path(c, ROPC_CACHE_DISCOVERY, key) : NULL;
	if (e != NULL && chmod(e, 0640) == 0)
		entry_refused("entry 0640", c, 4096);
	else
		FAIL(2, "entry 0640: no setup");

	c = fresh_cache("euid1");
	e = c != NULL ? entry_path(c, ROPC_CACHE_DISCOVERY, key) : NULL;
	if (e != NULL && chown(e, 1, 0) == 0)
		entry_refused("entry owned by uid 1", c, 4096);
	else
		FAIL(2, "entry uid 1: no setup");

	/* A link to a good entry elsewhere in a good cache. */
	c = fresh_cache("elink");
	e = c != NULL ? entry_path(c, ROPC_CACHE_DISCOVERY, key) : NULL;
	if (e != NULL && fresh_cache("elink-target") != NULL && unlink(e) == 0 &&
	    symlink(entry_path(at("elink-target"), ROPC_CACHE_DISCOVERY, key), e) == 0)
		entry_refused("entry a symbolic link", c, 4096);
	else
		FAIL(2, "entry symlink: no setup");

	c = fresh_cache("edir");
	e = c != NULL ? entry_path(c, ROPC_CACHE_DISCOVERY, key) : NULL;
	if (e != NULL && unlink(e) == 0 && mkdir(e, 0700) == 0)
		entry_refused("entry a directory", c, 4096);
	else
		FAIL(2, "entry directory: no setup");

	c = fresh_cache("size");
	if (c != NULL) {
		entry_refused("entry one byte over max", c, strlen(doc) - 1);
		CHECK_INT(read_rc(c, strlen(doc)), 0, "entry of exactly max bytes: read");
	} else {
		FAIL(3, "size: no setup");
	}

	c = fresh_cache("nul");
	e = c != NULL ? entry_path(c, ROPC_CACHE_DISCOVERY, key) : NULL;
	if (e != NULL) {
		put(e, "{\"a\":\0\"b\"}", 10, 0600);
		entry_refused("entry with a NUL byte", c, 4096);
	} else {
		FAIL(2, "NUL: no setup");
	}

	/* Not JSON: the caller's problem, the bytes come back as they are. */
	c = fresh_cache("corrupt");
	e = c != NULL ? entry_path(c, ROPC_CACHE_DISCOVERY, key) : NULL;
	if (e != NULL) {
		put(e, "{not json\x01\xff", 11, 0600);
		log_reset();
		CHECK_INT(ropc_cache_read(&ctx, c, ROPC_CACHE_DISCOVERY, key, 4096, &data, &len, &mt), 0,
			  "corrupt entry: read");
		CHECK_MEM(data, len, "{not json\x01\xff", 11, "corrupt entry: bytes as they are");
		CHECK_INT(count_logged(LOG_WARNING, NULL), 0, "corrupt entry: no warning");
		free(data);
	} else {
		FAIL(3, "corrupt: no setup");
	}

	/* A NUL byte is not written either (it could not be read back). */
	c = fresh_cache("wnul");
	if (c != NULL) {
		CHECK_INT(ropc_cache_write(&ctx, c, ROPC_CACHE_JWKS, key, "a\0b", 3), -1,
			  "write of a NUL byte: -1");
		CHECK(is_missing(entry_path(c, ROPC_CACHE_JWKS, key)), "write of a NUL byte: no entry");
	} else {
		FAIL(2, "write NUL: no setup");
	}
}

static void
test_replace(void)
{
	const char *c = fresh_cache("replace"), *kd = at("replace/discovery");
	const char *e = entry_path(at("replace"), ROPC_CACHE_DISCOVERY, key);
	const char *two = "{\"issuer\":\"https://idp.example.com\",\"version\":2}";
	const char *target = at("passwd-like");
	char *data = NULL;
	size_t len = 0;
	time_t mt;
	struct stat st1, st2;
	int n, tmps = -1;

	if (c == NULL || lstat(e, &st1) != 0) {
		FAIL(13, "replace: no setup");
		return;
	}
	CHECK_INT(ropc_cache_write(&ctx, c, ROPC_CACHE_DISCOVERY, key, two, strlen(two)), 0,
		  "replace: second write");
	CHECK(lstat(e, &st2) == 0 && st2.st_ino != st1.st_ino,
	      "replace: the entry is a new file (renamed over, not rewritten in place)");
	CHECK_INT(ropc_cache_read(&ctx, c, ROPC_CACHE_DISCOVERY, key, 4096, &data, &len, &mt), 0,
		  "replace: read");
	CHECK_MEM(data, len, two, strlen(two), "replace: the new content");
	free(data);
	data = NULL;
	n = count_names(kd, &tmps);
	CHECK_INT(n, 1, "replace: one file in the kind's directory");
	CHECK_INT(tmps, 0, "replace: no .tmp-* file left behind");

	/* A link planted at the entry, to a file that must not change. */
	put(target, "root:x:0:0:root:/root:/bin/bash\n", 32, 0644);
	unlink(e);
	if (symlink(target, e) != 0) {
		FAIL(7, "replace: cannot plant the link");
		return;
	}
	CHECK_INT(ropc_cache_write(&ctx, c, ROPC_CACHE_DISCOVERY, key, doc, strlen(doc)), 0,
		  "link at the entry: written");
	CHECK(lstat(e, &st2) == 0 && S_ISREG(st2.st_mode),
	      "link at the entry: replaced by a regular file");
	CHECK(lstat(target, &st2) == 0 && S_ISREG(st2.st_mode) && st2.st_size == 32,
	      "link at the entry: the file it led to is still there, its size unchanged");
	CHECK(file_is(target, "root:x:0:0:root:/root:/bin/bash\n"),
	      "link at the entry: the file it led to is unchanged");
	n = count_names(kd, &tmps);
	CHECK(n == 1 && tmps == 0, "link at the entry: one file, no .tmp-* left (%d, %d)", n, tmps);
	CHECK_INT(ropc_cache_read(&ctx, c, ROPC_CACHE_DISCOVERY, key, 4096, &data, &len, &mt), 0,
		  "link at the entry: read");
	CHECK_MEM(data, len, doc, strlen(doc), "link at the entry: the new content");
	free(data);
}

static void
test_touch(void)
{
	const char *c = fresh_cache("touch");
	const char *e = entry_path(at("touch"), ROPC_CACHE_DISCOVERY, key);
	struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	char *data = NULL;
	size_t len = 0;
	time_t mt = 0, t0;
	struct stat st1, st2;

	if (c == NULL || utimensat(AT_FDCWD, e, old, AT_SYMLINK_NOFOLLOW) != 0 ||
	    lstat(e, &st1) != 0) {
		FAIL(7, "touch: no setup");
		return;
	}
	CHECK_INT(ropc_cache_read(&ctx, c, ROPC_CACHE_DISCOVERY, key, 4096, &data, &len, &mt), 0,
		  "touch: read before");
	CHECK_INT(mt, 1000000000, "touch: read tells the old mtime");
	free(data);
	data = NULL;
	t0 = time(NULL);
	CHECK_INT(ropc_cache_touch(&ctx, c, ROPC_CACHE_DISCOVERY, key), 0, "touch: 0");
	CHECK_INT(ropc_cache_read(&ctx, c, ROPC_CACHE_DISCOVERY, key, 4096, &data, &len, &mt), 0,
		  "touch: read after");
	CHECK(mt >= t0 - 2 && mt <= time(NULL) + 2, "touch: the mtime is now (%lld, %lld)",
	      (long long)mt, (long long)t0);
	CHECK_MEM(data, len, doc, strlen(doc), "touch: the content unchanged");
	free(data);
	CHECK(lstat(e, &st2) == 0 && st2.st_ino == st1.st_ino, "touch: the same file");

	/* A link at the entry: neither it nor what it leads to is touched. */
	put(at("touch-target"), "t", 1, 0600);
	if (utimensat(AT_FDCWD, at("touch-target"), old, 0) == 0 && unlink(e) == 0 &&
	    symlink(at("touch-target"), e) == 0) {
		CHECK_INT(ropc_cache_touch(&ctx, c, ROPC_CACHE_DISCOVERY, key), -1,
			  "touch of a link: -1");
		CHECK(lstat(at("touch-target"), &st2) == 0 && st2.st_mtim.tv_sec == 1000000000,
		      "touch of a link: what it leads to keeps its time");
	} else {
		FAIL(2, "touch link: no setup");
	}
}

static void
test_race(void)
{
	const char *c = fresh_cache("race");
	const char *e = entry_path(at("race"), ROPC_CACHE_DISCOVERY, key);
	const char *other = "{\"issuer\":\"https://idp.example.com\",\"swapped\":1}";
	struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	char *data = NULL;
	size_t len = 0;
	time_t mt = 0;

	if (c == NULL || utimensat(AT_FDCWD, e, old, AT_SYMLINK_NOFOLLOW) != 0) {
		FAIL(10, "race: no setup");
		return;
	}
	/* Touched once while read: read again, and the time is the new one. */
	race_path = e;
	race_swap = NULL;
	race_time = 1100000000;
	race_left = 1;
	CHECK_INT(ropc_cache_read(&ctx, c, ROPC_CACHE_DISCOVERY, key, 4096, &data, &len, &mt), 0,
		  "race: touched during the first read: read");
	CHECK_INT(race_left, 0, "race: the entry was touched as it was opened");
	CHECK_INT(mt, 1100000000, "race: the time told is the one the file had when read");
	CHECK_MEM(data, len, doc, strlen(doc), "race: touched: the content");
	free(data);
	data = NULL;

	/* Changed at every read: given up, quietly (root's doing, not a
	 * problem to warn of). */
	log_reset();
	race_time = 1200000000;
	race_left = 5;
	CHECK_INT(ropc_cache_read(&ctx, c, ROPC_CACHE_DISCOVERY, key, 4096, &data, &len, &mt), -1,
		  "race: changed at every read: -1");
	CHECK(data == NULL, "race: changed at every read: no data");
	CHECK_INT(race_left, 3, "race: read twice, not more");
	CHECK_INT(count_logged(LOG_WARNING, NULL), 0, "race: changed at every read: no warning");

	/* Replaced by another file as it was opened: the other file is what
	 * was read, and its time is told. */
	put(at("race-other"), other, strlen(other), 0600);
	if (utimensat(AT_FDCWD, at("race-other"), old, 0) != 0) {
		race_path = NULL;
		FAIL(2, "race: no other file");
		return;
	}
	race_swap = at("race-other");
	race_left = 1;
	CHECK_INT(ropc_cache_read(&ctx, c, ROPC_CACHE_DISCOVERY, key, 4096, &data, &len, &mt), 0,
		  "race: replaced during the first read: read");
	CHECK(race_left == 0 && mt == 1000000000 && len == strlen(other) && data != NULL &&
	      memcmp(data, other, len) == 0,
	      "race: replaced: the new file's content and time");
	free(data);
	race_path = NULL;
	race_swap = NULL;
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

/* Bits of a child's answer. */
#define A_RC_MINUS1 1   /* the call returned -1 */
#define A_RC_ONE 2      /* the call returned 1 */
#define A_WARNED 4      /* something was logged at LOG_WARNING or worse */
#define A_DEBUG 8       /* something was logged at LOG_DEBUG */

static const char *child_cache;

static int
child_answer(int rc)
{
	int a = rc == -1 ? A_RC_MINUS1 : rc == 1 ? A_RC_ONE : 0;
	int p;

	for (p = LOG_EMERG; p <= LOG_WARNING; p++)
		if (count_logged(p, NULL) > 0)
			a |= A_WARNED;
	if (count_logged(LOG_DEBUG, NULL) > 0)
		a |= A_DEBUG;
	return a;
}

static int
child_write(void)
{
	log_reset();
	ctx.debug = true;
	return child_answer(ropc_cache_write(&ctx, child_cache, ROPC_CACHE_JWKS, key, doc,
					     strlen(doc)));
}

static int
child_read(void)
{
	char *data = NULL;
	size_t len = 0;
	time_t mt = 0;
	int rc;

	log_reset();
	ctx.debug = true;
	rc = ropc_cache_read(&ctx, child_cache, ROPC_CACHE_DISCOVERY, key, 4096, &data, &len, &mt);
	free(data);
	return child_answer(rc);
}

static void
test_not_root(void)
{
	const char *c;
	int a;

	child_cache = at("nobody-new");
	a = as_nobody(child_write);
	CHECK_INT(a, A_RC_MINUS1 | A_DEBUG, "not root, new cache: write -1, logged at debug only");
	CHECK(is_missing(child_cache), "not root, new cache: no directory created");

	c = fresh_cache("nobody");
	child_cache = c;
	if (c != NULL) {
		a = as_nobody(child_write);
		CHECK_INT(a, A_RC_MINUS1 | A_DEBUG,
			  "not root, existing cache: write -1, logged at debug only");
		CHECK(is_missing(at("nobody/jwks")), "not root, existing cache: nothing created");
		a = as_nobody(child_read);
		CHECK(a >= 0 && (a & (A_RC_MINUS1 | A_RC_ONE)) != 0,
		      "not root: read of a root 0600 entry is not 0 (answer %d)", a);
		CHECK(a >= 0 && (a & A_WARNED) == 0, "not root: read logged no warning (answer %d)", a);
		CHECK(a >= 0 && (a & A_DEBUG) != 0, "not root: read logged at debug (answer %d)", a);
	} else {
		FAIL(5, "not root: no setup");
	}

	/* A directory a non-root process may search is a mistake of the
	 * admin's, not a permission the process lacks: it is refused with a
	 * warning whoever reads (root would be warned the same). */
	c = fresh_cache("nobody-open");
	child_cache = c;
	if (c != NULL && chmod(c, 0711) == 0 && chmod(at("nobody-open/discovery"), 0711) == 0) {
		int n, tmps;

		a = as_nobody(child_read);
		CHECK_INT(a, A_RC_MINUS1 | A_WARNED,
			  "not root, cache dirs 0711: read -1 with a warning");
		n = count_names(at("nobody-open/discovery"), &tmps);
		CHECK_INT(n, 1, "not root, cache dirs 0711: nothing added");
	} else {
		FAIL(2, "not root, searchable dirs: no setup");
	}
}

int
main(void)
{
	if (geteuid() != 0) {
		printf("Bail out! test-cache needs root (chown, root-owned cache files)\n");
		return 1;
	}
	umask(022);
	ctx.service = "test-cache";
	if (tap_safe_tmpdir(base, sizeof(base), "cache") != 0)
		return 1;

	test_name();
	test_round_trip();
	test_missing();
	test_dirs();
	test_entries();
	test_replace();
	test_touch();
	test_race();
	test_not_root();

	tap_remove_tmpdir(base);
	return tap_done();
}
