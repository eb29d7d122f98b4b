/*
 * user.c: user name rules and mapping (see user.h).
 */
#include "user.h"

#include <stdlib.h>
#include <string.h>

bool
ropc_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		unsigned char c = *p;
		size_t len, i;
		unsigned long cp;

		if (c < 0x80) {
			p++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			len = 2;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if ((size_t)(end - p) < len)
			return false;
		for (i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += len;
	}
	return true;
}

const char *
ropc_user_check(const char *name)
{
	size_t n, i;

	if (name == NULL || name[0] == '\0')
		return "empty user name";
	n = strnlen(name, ROPC_MAX_USER + 1);
	if (n > ROPC_MAX_USER)
		return "user name longer than 256 bytes";
	for (i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || (unsigned char)name[i] == 0x7f)
			return "control character in user name";
	if (!ropc_utf8_valid(name, n))
		return "user name is not valid UTF-8";
	/* C1 controls, U+0080..U+009F, are \xc2\x80..\xc2\x9f in UTF-8. */
	for (i = 0; i + 1 < n; i++)
		if ((unsigned char)name[i] == 0xc2 && (unsigned char)name[i + 1] >= 0x80 &&
		    (unsigned char)name[i + 1] <= 0x9f)
			return "control character in user name";
	return NULL;
}

char *
ropc_user_map(const char *format, const char *name)
{
	size_t need = 1, nlen = strlen(name);
	const char *f;
	char *out, *o;

	for (f = format; *f != '\0'; f++) {
		if (f[0] == '%' && f[1] == 'u') {
			need += nlen;
			f++;
		} else if (f[0] == '%' && f[1] == '%') {
			need++;
			f++;
		} else {
			need++;
		}
	}
	out = malloc(need);
	if (out == NULL)
		return NULL;
	for (f = format, o = out; *f != '\0'; f++) {
		if (f[0] == '%' && f[1] == 'u') {
			memcpy(o, name, nlen);
			o += nlen;
			f++;
		} else if (f[0] == '%' && f[1] == '%') {
			*o++ = '%';
			f++;
		} else {
			*o++ = *f;
		}
	}
	*o = '\0';
	return out;
}
