/*
 * cache.h: the module's one cache directory (cache_dir, default
 * /var/cache/pam_ropc), shared by every feature that keeps state between
 * logins.  Layout, designed once:
 *
 *   cache_dir/                 root, mode 0700
 *     discovery/<hash>.json    OpenID Connect discovery documents
 *     jwks/<hash>.json         JWK sets
 *     offline/<hash>.json      offline credentials (offline.h), and
 *     offline/<hash>.lock      their lock files
 *     (later kinds: one subdirectory each)
 *
 * <hash> is the hex SHA-256 of the entry's key (the URL), so no name from
 * outside becomes a file name.  Entries are written to a temporary file in
 * the same subdirectory (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600) and renamed
 * over the old one; they are read with the defensive reader (root-owned,
 * regular file, no symlink, not group/other accessible, size cap).  The
 * cache is an optimisation: a bad entry, a directory of the wrong owner or
 * mode, or no write access (not root) is logged and worked around, never
 * trusted and never fatal.
 */
#ifndef ROPC_CACHE_H
#define ROPC_CACHE_H

#include <time.h>
#include "common.h"

/* The kinds of entry: each is a subdirectory. */
#define ROPC_CACHE_DISCOVERY "discovery"
#define ROPC_CACHE_JWKS "jwks"

/*
 * Read the entry of key in kind under dir: 0 with *data (NUL-terminated,
 * *len bytes; free it) and *mtime (when it was written); 1 when there is
 * no entry; -1 when the directory or the entry cannot be used (logged at
 * LOG_WARNING, with why; treat as no entry).  Entries over max bytes are
 * unusable.
 */
ROPC_HIDDEN int ropc_cache_read(struct ropc_ctx *ctx, const char *dir, const char *kind,
				const char *key, size_t max, char **data, size_t *len,
				time_t *mtime);

/*
 * Write data (len bytes) as the entry of key in kind under dir, creating
 * dir (0700) and the kind's subdirectory (0700) when missing, atomically
 * (temporary file, fsync, rename).  0, or -1 (logged at LOG_WARNING; the
 * caller goes on without the cache).  Does nothing (returns -1, logged at
 * LOG_DEBUG only) when the effective uid is not 0.
 */
ROPC_HIDDEN int ropc_cache_write(struct ropc_ctx *ctx, const char *dir, const char *kind,
				 const char *key, const char *data, size_t len);

/*
 * Set the entry's time to now without changing it (a refetch that found
 * the same document, or the mark of a refetch attempt for the once-a-
 * minute rule).  0, or -1.
 */
ROPC_HIDDEN int ropc_cache_touch(struct ropc_ctx *ctx, const char *dir, const char *kind,
				 const char *key);

/*
 * Remove the entry of key in kind under dir (unlink; a link is removed,
 * never followed), after the same directory checks as the other
 * functions.  0 when it was removed or there was none (no entry, no kind
 * subdirectory, no cache directory); -1 when the directory or the entry
 * cannot be used or unlink fails (logged at LOG_WARNING), or when the
 * effective uid is not 0 (logged at LOG_DEBUG only).
 */
ROPC_HIDDEN int ropc_cache_remove(struct ropc_ctx *ctx, const char *dir, const char *kind,
				  const char *key);

/* The file name of key's entry (hex SHA-256 and ".json") into out; 0 or -1. */
ROPC_HIDDEN int ropc_cache_name(const char *key, char *out, size_t outsize);

#endif
