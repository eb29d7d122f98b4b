/*
 * cache.c: the cache directory (see cache.h).
 *
 * Trust in an entry rests on the directories: cache_dir and its kind
 * subdirectory must pass the directory rule of secfile.c (every directory
 * from / down, both included, owned by root and not writable by group or
 * others) and, themselves, be real directories (not symbolic links) owned
 * by root with no group or other permission bits at all.  Since only root
 * can then add, rename or remove anything in them, a name checked there
 * stays what it was when checked.  Entries are read with the defensive
 * reader (ROPC_FILE_SECRET, owner root), never reimplemented here.
 *
 * Nothing here is fatal: every failure is logged once per call and
 * returned as -1, and the caller goes on without the cache.  A process
 * that is not root (a screen locker) cannot see inside the directory; what
 * it is refused for lack of permission is logged at LOG_DEBUG only, so
 * that each unlock does not leave a warning.
 */
#include "cache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "logging.h"
#include "secfile.h"

/* "<64 hex>.json" and the NUL. */
#define NAME_SIZE 70
/* ".tmp-" name "-" 12 hex and the NUL. */
#define TMP_SUFFIX_HEX 12
/* Room for a reason. */
#define WHY_SIZE 1024

/* The paths of one entry. */
struct paths {
	char dir[PATH_MAX];     /* cache_dir, without trailing slashes */
	char kdir[PATH_MAX];    /* dir/kind */
	char entry[PATH_MAX];   /* dir/kind/name */
	char name[NAME_SIZE];
};

int
ropc_cache_name(const char *key, char *out, size_t outsize)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t i;

	if (key == NULL || out == NULL || outsize < NAME_SIZE)
		return -1;
	if (EVP_Digest(key, strlen(key), md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		return -1;
	for (i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0x0f];
	}
	memcpy(out + (size_t)2 * mdlen, ".json", sizeof(".json"));
	return 0;
}

/*
 * Log a refusal: at LOG_WARNING, or at LOG_DEBUG when the process is not
 * root and the refusal was a permission it lacks (e = errno), which is
 * what an unprivileged caller meets on every call and not the admin's
 * business.
 */
static void ROPC_PRINTF(3, 4)
report(struct ropc_ctx *ctx, int e, const char *fmt, ...)
{
	char line[PATH_MAX + WHY_SIZE + 64];
	va_list ap;

	va_start(ap, fmt);
	/* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is above */
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (geteuid() != 0 && (e == EACCES || e == EPERM))
		ropc_debug(ctx, "%s", line);
	else
		ropc_log(ctx, LOG_WARNING, "%s", line);
}

/* A kind is one plain name: not empty, no '/', not starting with '.'. */
static bool
kind_ok(const char *kind)
{
	return kind != NULL && kind[0] != '\0' && kind[0] != '.' &&
	       strchr(kind, '/') == NULL;
}

/* Fill p for key in kind under dir; 0, or -1 with why. */
static int
make_paths(const char *dir, const char *kind, const char *key, struct paths *p,
	   char *why, size_t whysize)
{
	size_t n;
	int w;

	if (dir == NULL || dir[0] != '/') {
		snprintf(why, whysize, "it is not an absolute path");
		return -1;
	}
	if (!kind_ok(kind)) {
		snprintf(why, whysize, "the kind of entry is not a plain name");
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
	if (ropc_cache_name(key, p->name, sizeof(p->name)) < 0) {
		snprintf(why, whysize, "cannot name the entry (SHA-256 failed)");
		return -1;
	}
	w = snprintf(p->kdir, sizeof(p->kdir), "%s/%s", n > 1 ? p->dir : "", kind);
	if (w < 0 || (size_t)w >= sizeof(p->kdir)) {
		snprintf(why, whysize, "the path is too long");
		return -1;
	}
	/* Room for the temporary name too, which is longer than the entry's. */
	w = snprintf(p->entry, sizeof(p->entry), "%s/%s", p->kdir, p->name);
	if (w < 0 || (size_t)w + sizeof(".tmp--") + TMP_SUFFIX_HEX >= sizeof(p->entry)) {
		snprintf(why, whysize, "the path is too long");
		return -1;
	}
	return 0;
}

/* The paths of key in kind under dir, allocated (free them); NULL when
 * that is not possible, logged. */
static struct paths *
new_paths(struct ropc_ctx *ctx, const char *dir, const char *kind, const char *key)
{
	char why[WHY_SIZE];
	struct paths *p = malloc(sizeof(*p));

	if (p == NULL) {
		ropc_log(ctx, LOG_WARNING, "cache: out of memory");
		return NULL;
	}
	if (make_paths(dir, kind, key, p, why, sizeof(why)) < 0) {
		ropc_log(ctx, LOG_WARNING, "cache: %s is not used: %s", dir != NULL ? dir : "(none)",
			 why);
		free(p);
		return NULL;
	}
	return p;
}

/*
 * The cache's own demands of one of its directories, beyond the directory
 * rule: a real directory (lstat: not a symbolic link), owned by root, no
 * group or other permission bits.  0, or -1 with why and errno.
 */
static int
own_dir_ok(const char *path, char *why, size_t whysize)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		int e = errno;

		snprintf(why, whysize, "cannot examine %s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		snprintf(why, whysize, "%s is a symbolic link; it must be a real directory",
			 path);
		errno = EINVAL;
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, whysize, "%s is not a directory", path);
		errno = ENOTDIR;
		return -1;
	}
	if (st.st_uid != 0) {
		snprintf(why, whysize, "%s is owned by uid %lu; chown root %s", path,
			 (unsigned long)st.st_uid, path);
		errno = EINVAL;
		return -1;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(why, whysize, "%s has mode %04o, open to group or others; chmod 700 %s",
			 path, (unsigned int)(st.st_mode & 07777), path);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* Whether dir and dir/kind may be used: 0, or -1 with why and errno. */
static int
dirs_ok(const struct paths *p, char *why, size_t whysize)
{
	if (ropc_secfile_check_dirs(p->kdir, true, 0, why, whysize) < 0)
		return -1;
	if (own_dir_ok(p->dir, why, whysize) < 0)
		return -1;
	return own_dir_ok(p->kdir, why, whysize);
}

/* Whether dir, or dir/kind in a real directory dir, is simply missing
 * (not a dangling link): then there is no entry, and nothing to say. */
static bool
nothing_there(const struct paths *p)
{
	struct stat st;

	if (lstat(p->dir, &st) != 0)
		return errno == ENOENT;
	return S_ISDIR(st.st_mode) && lstat(p->kdir, &st) != 0 && errno == ENOENT;
}

/* Whether two stats are of the same unchanged file. */
static bool
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

int
ropc_cache_read(struct ropc_ctx *ctx, const char *dir, const char *kind,
		const char *key, size_t max, char **data, size_t *len, time_t *mtime)
{
	char why[WHY_SIZE];
	struct paths *p;
	struct stat before, after;
	int attempt, rc = -1;

	*data = NULL;
	*len = 0;
	*mtime = 0;
	p = new_paths(ctx, dir, kind, key);
	if (p == NULL)
		return -1;
	if (dirs_ok(p, why, sizeof(why)) < 0) {
		int e = errno;

		if (e == ENOENT && nothing_there(p)) {
			ropc_debug(ctx, "cache: no %s directory in %s", kind, p->dir);
			rc = 1;
			goto out;
		}
		report(ctx, e, "cache: %s is not used: %s", p->dir, why);
		goto out;
	}
	/* The reader checks the file on its open descriptor but does not tell
	 * its time: take it from a stat before and after the read, and accept
	 * the read only when both show the same file, unchanged.  A file
	 * replaced or touched in between (by root: no one else can) is read
	 * once more. */
	for (attempt = 0; attempt < 2; attempt++) {
		char *buf = NULL;
		size_t n = 0;
		bool missing = false;

		if (lstat(p->entry, &before) != 0) {
			int e = errno;

			if (e == ENOENT) {
				rc = 1;
				goto out;
			}
			report(ctx, e, "cache: %s ignored: cannot examine it: %s", p->entry,
			       strerror(e));
			goto out;
		}
		if (ropc_secfile_read(p->entry, ROPC_FILE_SECRET, 0, max, &buf, &n, NULL,
				      &missing, why, sizeof(why)) < 0) {
			int e = errno;

			if (missing) {
				rc = 1;
				goto out;
			}
			report(ctx, e, "cache: %s ignored: %s", p->entry, why);
			goto out;
		}
		if (lstat(p->entry, &after) == 0 && same_file(&before, &after) &&
		    (off_t)n == after.st_size) {
			*data = buf;
			*len = n;
			*mtime = after.st_mtim.tv_sec;
			rc = 0;
			goto out;
		}
		ropc_wipe(buf, n);
		free(buf);
	}
	ropc_debug(ctx, "cache: %s changed while it was read; not used", p->entry);
out:
	free(p);
	return rc;
}

/* Make path a directory (mode 0700) when it is missing; 0, or -1 with why. */
static int
make_dir(const char *path, char *why, size_t whysize)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	snprintf(why, whysize, "cannot create %s: %s", path, strerror(errno));
	return -1;
}

/* Create a new temporary file beside the entry (its name into tmp), never
 * through a link; the descriptor, or -1 with why. */
static int
make_temp(const struct paths *p, char *tmp, size_t tmpsize, char *why, size_t whysize)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[TMP_SUFFIX_HEX / 2];
	char suffix[TMP_SUFFIX_HEX + 1];
	int tries, fd = -1;
	size_t i;

	for (tries = 0; tries < 8; tries++) {
		int w;

		if (RAND_bytes(rnd, (int)sizeof(rnd)) != 1) {
			snprintf(why, whysize, "no random bytes for a temporary name");
			return -1;
		}
		for (i = 0; i < sizeof(rnd); i++) {
			suffix[2 * i] = hex[rnd[i] >> 4];
			suffix[2 * i + 1] = hex[rnd[i] & 0x0f];
		}
		suffix[TMP_SUFFIX_HEX] = '\0';
		w = snprintf(tmp, tmpsize, "%s/.tmp-%s-%s", p->kdir, p->name, suffix);
		if (w < 0 || (size_t)w >= tmpsize) {
			snprintf(why, whysize, "the path is too long");
			return -1;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
			  0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		snprintf(why, whysize, "cannot create %s: %s", tmp, strerror(errno));
		return -1;
	}
	/* Whatever the umask: the reader wants 0600 and root as owner. */
	if (fchmod(fd, 0600) != 0) {
		snprintf(why, whysize, "cannot chmod %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	return fd;
}

int
ropc_cache_write(struct ropc_ctx *ctx, const char *dir, const char *kind,
		 const char *key, const char *data, size_t len)
{
	char why[WHY_SIZE];
	struct paths *p;
	char *tmp = NULL;
	int fd = -1, dfd, rc = -1;

	if (geteuid() != 0) {
		ropc_debug(ctx, "cache: not writing the %s entry: not running as root",
			   kind != NULL ? kind : "(none)");
		return -1;
	}
	p = new_paths(ctx, dir, kind, key);
	if (p == NULL)
		return -1;
	tmp = malloc(PATH_MAX);
	if (tmp == NULL) {
		ropc_log(ctx, LOG_WARNING, "cache: out of memory");
		goto out;
	}
	tmp[0] = '\0';
	if (data == NULL || memchr(data, '\0', len) != NULL) {
		ropc_log(ctx, LOG_WARNING, "cache: not writing %s: the %s document is not text",
			 p->entry, kind);
		goto out;
	}
	/* Create nothing where the directory rule would refuse it anyway:
	 * the directories above dir first, then dir, then dir/kind. */
	if (ropc_secfile_check_dirs(p->dir, false, 0, why, sizeof(why)) < 0 ||
	    make_dir(p->dir, why, sizeof(why)) < 0 || own_dir_ok(p->dir, why, sizeof(why)) < 0 ||
	    make_dir(p->kdir, why, sizeof(why)) < 0 || dirs_ok(p, why, sizeof(why)) < 0) {
		ropc_log(ctx, LOG_WARNING, "cache: %s is not used: %s", p->dir, why);
		goto out;
	}
	fd = make_temp(p, tmp, PATH_MAX, why, sizeof(why));
	if (fd < 0) {
		ropc_log(ctx, LOG_WARNING, "cache: not writing %s: %s", p->entry, why);
		tmp[0] = '\0';
		goto out;
	}
	if (ropc_write_all(fd, data, len) != 0) {
		snprintf(why, sizeof(why), "cannot write %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (fsync(fd) != 0) {
		snprintf(why, sizeof(why), "cannot fsync %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		snprintf(why, sizeof(why), "cannot close %s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	/* rename replaces whatever is at the entry's name, a link included,
	 * without following it. */
	if (rename(tmp, p->entry) != 0) {
		snprintf(why, sizeof(why), "cannot rename %s: %s", tmp, strerror(errno));
		goto fail;
	}
	tmp[0] = '\0';
	dfd = open(p->kdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		ropc_log(ctx, LOG_WARNING, "cache: %s written, but cannot fsync %s: %s", p->entry,
			 p->kdir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		goto out;
	}
	close(dfd);
	ropc_debug(ctx, "cache: wrote %s (%zu bytes)", p->entry, len);
	rc = 0;
	goto out;

fail:
	ropc_log(ctx, LOG_WARNING, "cache: not writing %s: %s", p->entry, why);
	if (fd >= 0)
		close(fd);
	if (tmp[0] != '\0')
		unlink(tmp);
out:
	free(tmp);
	free(p);
	return rc;
}

int
ropc_cache_touch(struct ropc_ctx *ctx, const char *dir, const char *kind,
		 const char *key)
{
	char why[WHY_SIZE];
	struct paths *p;
	struct stat st;
	int rc = -1;

	if (geteuid() != 0) {
		ropc_debug(ctx, "cache: not touching the %s entry: not running as root",
			   kind != NULL ? kind : "(none)");
		return -1;
	}
	p = new_paths(ctx, dir, kind, key);
	if (p == NULL)
		return -1;
	if (dirs_ok(p, why, sizeof(why)) < 0) {
		ropc_log(ctx, LOG_WARNING, "cache: %s is not used: %s", p->dir, why);
		goto out;
	}
	if (lstat(p->entry, &st) != 0) {
		if (errno == ENOENT)
			ropc_debug(ctx, "cache: no %s entry %s to touch", kind, p->entry);
		else
			ropc_log(ctx, LOG_WARNING, "cache: cannot touch %s: %s", p->entry,
				 strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ropc_log(ctx, LOG_WARNING, "cache: %s ignored: it is not a regular file", p->entry);
		goto out;
	}
	if (utimensat(AT_FDCWD, p->entry, NULL, AT_SYMLINK_NOFOLLOW) != 0) {
		ropc_log(ctx, LOG_WARNING, "cache: cannot touch %s: %s", p->entry, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(p);
	return rc;
}

int
ropc_cache_remove(struct ropc_ctx *ctx, const char *dir, const char *kind,
		  const char *key)
{
	char why[WHY_SIZE];
	struct paths *p;
	int dfd, rc = -1;

	if (geteuid() != 0) {
		ropc_debug(ctx, "cache: not removing the %s entry: not running as root",
			   kind != NULL ? kind : "(none)");
		return -1;
	}
	p = new_paths(ctx, dir, kind, key);
	if (p == NULL)
		return -1;
	if (dirs_ok(p, why, sizeof(why)) < 0) {
		int e = errno;

		if (e == ENOENT && nothing_there(p)) {
			ropc_debug(ctx, "cache: no %s directory in %s: nothing to remove", kind,
				   p->dir);
			rc = 0;
			goto out;
		}
		report(ctx, e, "cache: %s is not used: %s", p->dir, why);
		goto out;
	}
	/* unlink removes the name, whatever it is (a link included), and
	 * follows nothing; a directory at the name is refused (EISDIR). */
	if (unlink(p->entry) != 0) {
		if (errno == ENOENT) {
			ropc_debug(ctx, "cache: no %s entry %s to remove", kind, p->entry);
			rc = 0;
		} else {
			ropc_log(ctx, LOG_WARNING, "cache: cannot remove %s: %s", p->entry,
				 strerror(errno));
		}
		goto out;
	}
	/* Make the removal durable, as a write's rename is: a forgotten
	 * entry must not come back after a crash. */
	dfd = open(p->kdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		ropc_log(ctx, LOG_WARNING, "cache: %s removed, but cannot fsync %s: %s", p->entry,
			 p->kdir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		goto out;
	}
	close(dfd);
	ropc_debug(ctx, "cache: removed %s", p->entry);
	rc = 0;
out:
	free(p);
	return rc;
}
