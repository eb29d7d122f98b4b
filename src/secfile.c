/*
 * secfile.c: defensive reading of the config file and the client secret
 * file (see secfile.h).  The checks are made on the open descriptor, so a
 * file swapped after the check is not read.
 */
#include "secfile.h"

#include <errno.h>
#include <fcntl.h>
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

int
ropc_secfile_read(const char *path, enum ropc_secfile_mode mode, uid_t owner,
		  size_t max, char **data, size_t *len, unsigned int *st_mode,
		  bool *missing, char *why, size_t whysize)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0, size = 0;
	int fd;

	*data = NULL;
	*len = 0;
	*missing = false;
	if (path == NULL || path[0] != '/') {
		snprintf(why, whysize, "path is not absolute; give a full path starting with /");
		return -1;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ELOOP)
			snprintf(why, whysize, "it is a symbolic link; point the setting at the real file");
		else if (errno == ENOENT) {
			*missing = true;
			snprintf(why, whysize, "it does not exist");
		} else
			snprintf(why, whysize, "cannot open it: %s", strerror(errno));
		return -1;
	}
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
	if (memchr(buf, '\0', got) != NULL) {
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
	return -1;
}
