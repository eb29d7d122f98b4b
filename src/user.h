/*
 * user.h: which user names are sent to the IdP, and in what form.
 */
#ifndef ROPC_USER_H
#define ROPC_USER_H

#include "common.h"

#define ROPC_MAX_USER 256

/* NULL when name may be sent to the IdP, else a reason for the log:
 * empty, longer than ROPC_MAX_USER bytes, control characters, not UTF-8. */
ROPC_HIDDEN const char *ropc_user_check(const char *name);

/* Expand username_format (%u, %%) for name into a new string, or NULL
 * when out of memory. */
ROPC_HIDDEN char *ropc_user_map(const char *format, const char *name);

/* Whether s is valid UTF-8 (no overlongs, no surrogates). */
ROPC_HIDDEN bool ropc_utf8_valid(const char *s, size_t n);

#endif
