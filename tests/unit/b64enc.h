/*
 * b64enc.h: base64url without padding (RFC 4648 §5), the tests' own
 * encoder: the JWS and JWK set tests and fuzz-jws build tokens and keys
 * with it, independently of the decoder under test.  Aborts when out of
 * memory; the caller frees the result.
 */
#ifndef ROPC_TEST_B64ENC_H
#define ROPC_TEST_B64ENC_H

#include <stdlib.h>

static char * __attribute__((unused))
b64url(const unsigned char *p, size_t n)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *out = malloc(n / 3 * 4 + 5);
	size_t i, o = 0;

	if (out == NULL)
		abort();
	for (i = 0; i + 2 < n; i += 3) {
		unsigned long v = (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8 | p[i + 2];

		out[o++] = abc[v >> 18 & 63];
		out[o++] = abc[v >> 12 & 63];
		out[o++] = abc[v >> 6 & 63];
		out[o++] = abc[v & 63];
	}
	if (n - i == 1) {
		out[o++] = abc[p[i] >> 2];
		out[o++] = abc[(p[i] & 3) << 4];
	} else if (n - i == 2) {
		out[o++] = abc[p[i] >> 2];
		out[o++] = abc[(p[i] & 3) << 4 | p[i + 1] >> 4];
		out[o++] = abc[(p[i + 1] & 15) << 2];
	}
	out[o] = '\0';
	return out;
}

#endif
