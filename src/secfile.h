/*
 * secfile.h: reading files that hold settings or secrets, defensively.
 */
#ifndef ROPC_SECFILE_H
#define ROPC_SECFILE_H

#include <sys/types.h>
#include "common.h"

enum ropc_secfile_mode {
	/* Settings: owned by owner, a regular file, not a symlink, not
	 * writable by group or others. */
	ROPC_FILE_SETTINGS,
	/* Secrets: all of the above, and not readable by group or others. */
	ROPC_FILE_SECRET,
};

/*
 * Read the whole file at path (which must be absolute) into a new
 * NUL-terminated buffer (*data, *len), opened with O_NOFOLLOW|O_CLOEXEC and
 * checked with fstat on the open descriptor.  Files larger than max bytes,
 * or holding a NUL byte, are refused.  Returns 0, or -1 with a sentence for
 * the admin in why (what is wrong and how to fix it); *missing is set when
 * the file does not exist.  *st_mode (when not NULL) gets the file's mode.  The caller wipes and
 * frees *data (ropc_wipe on *len bytes, then free).
 */
ROPC_HIDDEN int ropc_secfile_read(const char *path, enum ropc_secfile_mode mode,
				  uid_t owner, size_t max, char **data,
				  size_t *len, unsigned int *st_mode,
				  bool *missing, char *why, size_t whysize);

/* Whether st_mode would be accepted for mode; for the config check of a
 * file that turns out to hold a secret. */
ROPC_HIDDEN bool ropc_secfile_mode_ok(unsigned int st_mode,
				      enum ropc_secfile_mode mode);

#endif
