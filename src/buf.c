/*
 * buf.c: the wiping byte buffer (see buf.h), and the wipe primitives every
 * other file uses for passwords, secrets and tokens.
 */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

void
ropc_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		explicit_bzero(p, n);
}

void
ropc_free_secret(char *s)
{
	if (s == NULL)
		return;
	ropc_wipe(s, strlen(s));
	free(s);
}

void
ropc_buf_init(struct ropc_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

/* Grow to hold at least need bytes plus the NUL, moving and wiping. */
static int
buf_reserve(struct ropc_buf *b, size_t need)
{
	size_t cap;
	char *p;

	if (need < b->cap)
		return 0;
	cap = b->cap > 0 ? b->cap : 256;
	while (cap <= need) {
		if (cap > b->max)
			break;
		cap *= 2;
	}
	if (cap <= need)
		cap = need + 1;
	p = malloc(cap);
	if (p == NULL)
		return -1;
	if (b->data != NULL) {
		memcpy(p, b->data, b->len + 1);
		ropc_wipe(b->data, b->cap);
		free(b->data);
	} else {
		p[0] = '\0';
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int
ropc_buf_append(struct ropc_buf *b, const void *p, size_t n)
{
	if (n > b->max || b->len > b->max - n)
		return -1;
	if (buf_reserve(b, b->len + n) < 0)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
ropc_buf_append_str(struct ropc_buf *b, const char *s)
{
	return ropc_buf_append(b, s, strlen(s));
}

void
ropc_buf_free(struct ropc_buf *b)
{
	if (b->data != NULL) {
		ropc_wipe(b->data, b->cap);
		free(b->data);
	}
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}
