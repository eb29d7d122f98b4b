/*
 * buf.h: a growable byte buffer for data that may hold secrets (request
 * bodies, raw IdP answers).  It never leaves a copy behind: growing moves
 * the bytes to a new block and wipes the old one, and freeing wipes.
 * Every buffer has a hard maximum size.
 */
#ifndef ROPC_BUF_H
#define ROPC_BUF_H

#include "common.h"

struct ropc_buf {
	char *data;     /* always NUL-terminated when non-NULL */
	size_t len;     /* bytes used, not counting the terminating NUL */
	size_t cap;     /* bytes allocated */
	size_t max;     /* len never exceeds this */
};

/* Start an empty buffer that will hold at most max bytes. */
ROPC_HIDDEN void ropc_buf_init(struct ropc_buf *b, size_t max);
/* Append n bytes.  Returns 0, or -1 when it would pass max or memory ran out
 * (the buffer is then unchanged). */
ROPC_HIDDEN int ropc_buf_append(struct ropc_buf *b, const void *p, size_t n);
ROPC_HIDDEN int ropc_buf_append_str(struct ropc_buf *b, const char *s);
/* Wipe and free the contents; the buffer can be used again after init. */
ROPC_HIDDEN void ropc_buf_free(struct ropc_buf *b);

#endif
