/*
 * secfile.h: reading files that hold settings, secrets or trust anchors,
 * defensively.  Whoever can change such a file, or rename things in a
 * directory above it, decides where passwords go: so the file and every
 * directory above it, up to /, must belong to root (or to the owner the
 * caller names) and be writable by nobody else.
 */
#ifndef ROPC_SECFILE_H
#define ROPC_SECFILE_H

#include <sys/types.h>
#include "common.h"

enum ropc_secfile_mode {
	/* Settings: owned by owner, a regular file, not a symlink, not
	 * writable by group or others, text (no NUL byte). */
	ROPC_FILE_SETTINGS,
	/* Secrets: all of the above, and not readable by group or others. */
	ROPC_FILE_SECRET,
	/* Trust anchors (ca_file, a pin file): as settings, but binary
	 * content is allowed and a symbolic link is followed when the link,
	 * the directories it sits in and the directories of what it leads to
	 * all pass the directory rule (system CA files are often links). */
	ROPC_FILE_TRUST,
};

/*
 * Read the whole file at path (which must be absolute) into a new buffer
 * (*data, *len, NUL-terminated), opened with O_NOFOLLOW|O_CLOEXEC and
 * checked with fstat on the open descriptor, after every directory above
 * it has passed ropc_secfile_check_dirs.  Files larger than max bytes are
 * refused.  Returns 0, or -1 with a sentence for the admin in why (what is
 * wrong and how to fix it); *missing is set when the file does not exist,
 * and errno is EACCES when the failure was a permission the caller lacks.
 * *st_mode (when not NULL) gets the file's mode.  The caller wipes and
 * frees *data (ropc_wipe on *len bytes, then free).
 */
ROPC_HIDDEN int ropc_secfile_read(const char *path, enum ropc_secfile_mode mode,
				  uid_t owner, size_t max, char **data,
				  size_t *len, unsigned int *st_mode,
				  bool *missing, char *why, size_t whysize);

/*
 * The directory rule: every directory from / down to the one holding path
 * (and, when path is a directory itself and include_self is set, path)
 * is owned by root or owner and is not writable by group or others; when
 * one of them is a symbolic link, the directories it resolves to are
 * checked the same way.  Returns 0, or -1 with why (errno EACCES when a
 * directory could not be examined for lack of permission).
 */
ROPC_HIDDEN int ropc_secfile_check_dirs(const char *path, bool include_self,
					uid_t owner, char *why, size_t whysize);

/* Whether st_mode would be accepted for mode; for the config check of a
 * file that turns out to hold a secret. */
ROPC_HIDDEN bool ropc_secfile_mode_ok(unsigned int st_mode,
				      enum ropc_secfile_mode mode);

/* Write all of data to fd, again after EINTR or a short write: 0, or -1
 * with errno (EIO for a write that wrote nothing). */
ROPC_HIDDEN int ropc_write_all(int fd, const char *data, size_t len);

#endif
