/*
 * secfile.c: defensive reading of the config file, the client secret file
 * and the trust files (see secfile.h).  The file's own checks are made on
 * the open descriptor, so a file swapped after the check is not read; the
 * directories above it are checked before it is opened, and since only
 * root can change a directory that passes, nothing can be swapped in
 * between.
 */
#include "secfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool
ropc_secfile_mode_ok(unsigned int st_mode, enum ropc_secfile_mode mode)
{
	if (st_mode & (S_IWGRP | S_IWOTH))
		return false;
	if (mode == ROPC_FILE_SECRET && (st_mode & (S_IRGRP | S_IROTH | S_IXGRP | S_IXOTH)))
		return false;
	return true;
}

/* One directory of a chain: 1 when it is a symbolic link (its target is
 * checked by the caller), 0 when it passes, -1 with why. */
static int
dir_ok(const char *dir, uid_t owner, char *why, size_t whysize)
{
	struct stat st;

	if (lstat(dir, &st) < 0) {
		int e = errno;

		snprintf(why, whysize, "cannot examine the directory %s: %s", dir, strerror(e));
		errno = e;
		return -1;
	}
	if (S_ISLNK(st.st_mode))
		return 1;
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, whysize, "%s is not a directory", dir);
		errno = ENOTDIR;
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != owner) {
		snprintf(why, whysize,
			 "the directory %s is owned by uid %lu; every directory above the "
			 "file must be owned by root", dir, (unsigned long)st.st_uid);
		errno = EINVAL;         /* a refusal of ours, not the system's */
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, whysize,
			 "the directory %s has mode %04o, writable by group or others; "
			 "chmod go-w %s, or move the file to a directory only root can write",
			 dir, (unsigned int)(st.st_mode & 07777), dir);
		errno = EINVAL;         /* a refusal of ours, not the system's */
		return -1;
	}
	return 0;
}

/* How many symbolic links one path may lead through. */
#define MAX_LINKS 16

/* The target of the link lpath (an absolute path), made absolute in out.
 * 0, or -1 with why. */
static int
link_target(const char *lpath, char *out, size_t outsize, char *why, size_t whysize)
{
	char t[PATH_MAX];
	const char *slash;
	ssize_t n = readlink(lpath, t, sizeof(t) - 1);
	int w;

	if (n < 0) {
		int e = errno;

		snprintf(why, whysize, "cannot read the symbolic link %s: %s", lpath, strerror(e));
		errno = e;
		return -1;
	}
	t[n] = '\0';
	slash = strrchr(lpath, '/');
	if (t[0] == '/')
		w = snprintf(out, outsize, "%s", t);
	else
		w = snprintf(out, outsize, "%.*s/%s", (int)(slash - lpath), lpath, t);
	if (w < 0 || (size_t)w >= outsize) {
		snprintf(why, whysize, "the symbolic link %s leads to a path too long", lpath);
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * Every prefix directory of path ("/", "/a", "/a/b" for "/a/b/c"), and
 * path itself with include_self, passes dir_ok; every symbolic link met on
 * the way is followed, and where it leads is checked the same way (its
 * own links too, up to MAX_LINKS: the recursion is bounded), so that no
 * link anywhere in the chain sits in, or leads through, a directory
 * someone else may write.
 */
static int
/* NOLINTNEXTLINE(misc-no-recursion): bounded by MAX_LINKS */
path_ok(const char *path, bool include_self, uid_t owner, int depth, char *why,
	size_t whysize)
{
	char buf[PATH_MAX], target[PATH_MAX];
	size_t n = strlen(path), i;
	int rc;

	if (n == 0 || n >= sizeof(buf) || path[0] != '/') {
		snprintf(why, whysize, "path is not absolute or is too long");
		errno = EINVAL;
		return -1;
	}
	memcpy(buf, path, n + 1);
	if (dir_ok("/", owner, why, whysize) < 0)
		return -1;
	for (i = 1; i <= n; i++) {
		if (i < n && buf[i] != '/')
			continue;
		if (i == n && !include_self)
			break;
		if (buf[i - 1] == '/')
			continue;       /* "//" */
		buf[i] = '\0';
		rc = dir_ok(buf, owner, why, whysize);
		if (rc == 1) {
			if (depth >= MAX_LINKS) {
				snprintf(why, whysize, "too many symbolic links at %s", buf);
				errno = ELOOP;
				return -1;
			}
			if (link_target(buf, target, sizeof(target), why, whysize) < 0 ||
			    path_ok(target, true, owner, depth + 1, why, whysize) < 0)
				return -1;
		}
		if (i < n)
			buf[i] = '/';
		if (rc < 0)
			return -1;
	}
	return 0;
}

int
ropc_secfile_check_dirs(const char *path, bool include_self, uid_t owner,
			char *why, size_t whysize)
{
	return path_ok(path, include_self, owner, 0, why, whysize);
}

int
ropc_secfile_read(const char *path, enum ropc_secfile_mode mode, uid_t owner,
		  size_t max, char **data, size_t *len, unsigned int *st_mode,
		  bool *missing, char *why, size_t whysize)
{
	struct stat st;
	char *buf = NULL, *real = NULL;
	const char *open_path = path;
	size_t got = 0, size = 0;
	int fd, hops;

	*data = NULL;
	*len = 0;
	*missing = false;
	if (path == NULL || path[0] != '/') {
		snprintf(why, whysize, "path is not absolute; give a full path starting with /");
		errno = EINVAL;
		return -1;
	}
	if (ropc_secfile_check_dirs(path, false, owner, why, whysize) < 0) {
		*missing = errno == ENOENT;
		return -1;
	}
	/* A trust file may be a link (system CA files often are): follow it
	 * link by link, each one's directories checked, to a real file. */
	for (hops = 0; mode == ROPC_FILE_TRUST && lstat(open_path, &st) == 0 &&
	     S_ISLNK(st.st_mode); hops++) {
		char *next = malloc(PATH_MAX);

		if (next == NULL) {
			snprintf(why, whysize, "out of memory");
			free(real);
			errno = ENOMEM;
			return -1;
		}
		if (hops >= MAX_LINKS) {
			snprintf(why, whysize, "too many symbolic links");
			errno = ELOOP;
		}
		if (hops >= MAX_LINKS ||
		    link_target(open_path, next, PATH_MAX, why, whysize) < 0 ||
		    ropc_secfile_check_dirs(next, false, owner, why, whysize) < 0) {
			int e = errno;

			*missing = e == ENOENT;
			free(next);
			free(real);
			errno = e;
			return -1;
		}
		free(real);
		real = next;
		open_path = real;
	}
	fd = open(open_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;

		if (e == ELOOP)
			snprintf(why, whysize, "it is a symbolic link; point the setting at the real file");
		else if (e == ENOENT) {
			*missing = true;
			snprintf(why, whysize, "it does not exist");
		} else
			snprintf(why, whysize, "cannot open it: %s", strerror(e));
		free(real);
		errno = e;
		return -1;
	}
	free(real);
	real = NULL;
	if (fstat(fd, &st) < 0) {
		snprintf(why, whysize, "cannot stat it: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whysize, "it is not a regular file");
		goto fail;
	}
	if (st.st_uid != owner) {
		snprintf(why, whysize, "it is owned by uid %lu, not %lu; chown %lu it",
			 (unsigned long)st.st_uid, (unsigned long)owner,
			 (unsigned long)owner);
		goto fail;
	}
	if (!ropc_secfile_mode_ok(st.st_mode, mode)) {
		snprintf(why, whysize, "its mode %04o lets group or others %s it; chmod %s it",
			 (unsigned int)(st.st_mode & 07777),
			 mode == ROPC_FILE_SECRET ? "read or write" : "write",
			 mode == ROPC_FILE_SECRET ? "600" : "644");
		goto fail;
	}
	if ((unsigned long long)st.st_size > max) {
		snprintf(why, whysize, "it is %lld bytes, more than the %zu allowed",
			 (long long)st.st_size, max);
		goto fail;
	}
	size = (size_t)st.st_size;
	buf = malloc(size + 2);
	if (buf == NULL) {
		snprintf(why, whysize, "out of memory");
		goto fail;
	}
	for (;;) {
		ssize_t n = read(fd, buf + got, size + 1 - got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(why, whysize, "cannot read it: %s", strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > size) {
			snprintf(why, whysize, "it changed while it was read");
			goto fail;
		}
	}
	buf[got] = '\0';
	if (mode != ROPC_FILE_TRUST && memchr(buf, '\0', got) != NULL) {
		snprintf(why, whysize, "it holds a NUL byte; it must be text");
		goto fail;
	}
	close(fd);
	if (st_mode != NULL)
		*st_mode = (unsigned int)st.st_mode;
	*data = buf;
	*len = got;
	return 0;

fail:
	if (buf != NULL) {
		ropc_wipe(buf, got);
		free(buf);
	}
	close(fd);
	errno = EINVAL;
	return -1;
}

/* Write all of data to fd; 0, or -1 with errno. */
int
ropc_write_all(int fd, const char *data, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}
