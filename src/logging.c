/*
 * logging.c: syslog wrappers and the log sanitiser (see logging.h).
 */
#include "logging.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <security/pam_ext.h>

void
ropc_log(struct ropc_ctx *ctx, int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pam_vsyslog(ctx->pamh, prio, fmt, ap);
	va_end(ap);
}

void
ropc_debug(struct ropc_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (!ctx->debug)
		return;
	va_start(ap, fmt);
	pam_vsyslog(ctx->pamh, LOG_DEBUG, fmt, ap);
	va_end(ap);
}

char *
ropc_sanitize(const char *in, size_t inlen, char *out, size_t outsize)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	if (outsize == 0)
		return out;
	if (in == NULL)
		inlen = 0;
	for (i = 0; i < inlen; i++) {
		unsigned char c = (unsigned char)in[i];
		char esc[4];
		size_t n;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			n = 2;
		} else if (c >= 0x20 && c < 0x7f) {
			esc[0] = (char)c;
			n = 1;
		} else {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[c >> 4];
			esc[3] = hex[c & 0xf];
			n = 4;
		}
		/* Keep room for "..." and the NUL. */
		if (o + n + 4 > outsize) {
			if (outsize >= 4) {
				/* Cut: make sure "..." fits. */
				if (o + 4 > outsize)
					o = outsize - 4;
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(out + o, esc, n);
		o += n;
	}
	out[o < outsize ? o : outsize - 1] = '\0';
	return out;
}
