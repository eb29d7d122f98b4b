/*
 * logging.c: syslog wrappers and the log sanitiser (see logging.h).
 */
#include "logging.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <security/pam_ext.h>

/* ropcctl's lines: "error: ...", "warning: ...", one per line. */
static void
echo_prefix(FILE *f, int prio)
{
	fputs(prio <= LOG_ERR ? "error: " : prio == LOG_WARNING ? "warning: " :
	      prio == LOG_DEBUG ? "debug: " : "note: ", f);
}

void
ropc_log(struct ropc_ctx *ctx, int prio, const char *fmt, ...)
{
	va_list ap;

	if (prio <= LOG_ERR)
		ctx->errors++;
	va_start(ap, fmt);
	if (ctx->echo != NULL) {
		echo_prefix(ctx->echo, prio);
		/* ap is started above; the analyzer loses it on this branch. */
		vfprintf(ctx->echo, fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized) */
		fputc('\n', ctx->echo);
	} else {
		pam_vsyslog(ctx->pamh, prio, fmt, ap);
	}
	va_end(ap);
}

void
ropc_debug(struct ropc_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (!ctx->debug)
		return;
	va_start(ap, fmt);
	if (ctx->echo != NULL) {
		echo_prefix(ctx->echo, LOG_DEBUG);
		vfprintf(ctx->echo, fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized) */
		fputc('\n', ctx->echo);
	} else {
		pam_vsyslog(ctx->pamh, LOG_DEBUG, fmt, ap);
	}
	va_end(ap);
}

/* The escaped form of byte c into esc (4 bytes); returns its length. */
static size_t
escape_byte(unsigned char c, char *esc)
{
	static const char hex[] = "0123456789abcdef";

	if (c == '"' || c == '\\') {
		esc[0] = '\\';
		esc[1] = (char)c;
		return 2;
	}
	if (c >= 0x20 && c < 0x7f) {
		esc[0] = (char)c;
		return 1;
	}
	esc[0] = '\\';
	esc[1] = 'x';
	esc[2] = hex[c >> 4];
	esc[3] = hex[c & 0xf];
	return 4;
}

char *
ropc_sanitize(const char *in, size_t inlen, char *out, size_t outsize)
{
	size_t o = 0, i, whole = 0, cut = 0;
	char esc[4];

	if (outsize == 0)
		return out;
	if (in == NULL)
		inlen = 0;
	/* Does all of it fit, escaped, with the NUL? */
	for (i = 0; i < inlen && whole < outsize; i++)
		whole += escape_byte((unsigned char)in[i], esc);
	if (whole < outsize) {
		cut = inlen;
	} else {
		/* No: keep what fits before "..." and the NUL, whole escapes only. */
		size_t room = outsize >= 4 ? outsize - 4 : 0;

		for (i = 0, whole = 0; i < inlen; i++) {
			size_t n = escape_byte((unsigned char)in[i], esc);

			if (whole + n > room)
				break;
			whole += n;
		}
		cut = i;
	}
	for (i = 0; i < cut; i++) {
		size_t n = escape_byte((unsigned char)in[i], esc);

		memcpy(out + o, esc, n);
		o += n;
	}
	if (cut < inlen && outsize >= 4) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}
