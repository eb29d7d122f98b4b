/*
 * test-sanitize.c: ropc_sanitize, which makes untrusted text (IdP error
 * descriptions, user names, rhost) safe inside a double-quoted log field.
 * Contract (logging.h): printable ASCII kept, '"' and '\\' escaped with a
 * backslash, other bytes \xHH; when the text does not fit it is cut at a
 * whole escape and "..." is appended; the output is always NUL-terminated
 * within outsize bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logging.h"
#include "tap.h"

#define GUARD 0xA5

static void
check_san(const char *in, size_t inlen, size_t outsize, const char *expected,
	  const char *what)
{
	char buf[4096 + 16];
	char *ret;
	size_t i;
	int guard_ok = 1;

	memset(buf, GUARD, sizeof(buf));
	ret = ropc_sanitize(in, inlen, buf, outsize);
	for (i = outsize; i < sizeof(buf); i++)
		if ((unsigned char)buf[i] != GUARD)
			guard_ok = 0;
	CHECK(ret == buf && guard_ok, "%s: returns out, writes nothing past outsize %zu",
	      what, outsize);
	CHECK_STR(buf, expected, "%s", what);
}

static void
san(const char *in, const char *expected, const char *what)
{
	check_san(in, in != NULL ? strlen(in) : 0, 4096, expected, what);
}

static void
test_escapes(void)
{
	san("plain text 123", "plain text 123", "printable ASCII kept");
	san("say \"hi\"", "say \\\"hi\\\"", "double quotes escaped");
	san("DOMAIN\\user", "DOMAIN\\\\user", "backslash escaped");
	san("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m", "ESC escaped");
	san("line1\r\nline2", "line1\\x0d\\x0aline2", "CR LF escaped (no log line injection)");
	san("ding\x07", "ding\\x07", "BEL escaped");
	san("a\tb", "a\\x09b", "TAB escaped");
	san("del\x7f", "del\\x7f", "DEL escaped");
	san("\x80\xff", "\\x80\\xff", "high bytes escaped");
	san("j\xc3\xb6rg", "j\\xc3\\xb6rg", "UTF-8 escaped bytewise");
	san("'single' `back` ~^", "'single' `back` ~^", "other punctuation kept");
	san("", "", "empty input");
	san(NULL, "", "NULL input gives empty output");
	check_san("a\0b", 3, 100, "a\\x00b", "NUL inside inlen escaped");
	check_san("abcdef", 3, 100, "abc", "only inlen bytes read");
	check_san(NULL, 10, 100, "", "NULL input with non-zero inlen");
	{
		/* Every byte value. */
		char in[256], out[2048], expected[2048];
		size_t o = 0;
		int c;

		for (c = 0; c < 256; c++) {
			in[c] = (char)c;
			if (c == '"' || c == '\\')
				o += (size_t)sprintf(expected + o, "\\%c", c);
			else if (c >= 0x20 && c < 0x7f)
				expected[o++] = (char)c;
			else
				o += (size_t)sprintf(expected + o, "\\x%02x", (unsigned int)c);
		}
		expected[o] = '\0';
		ropc_sanitize(in, 256, out, sizeof(out));
		CHECK_STR(out, expected, "all 256 byte values escaped by the rule");
	}
}

static void
test_truncation(void)
{
	const char *alpha = "abcdefghijklmnopqrstuvwxyz";

	check_san(alpha, 26, 10, "abcdef...", "cut to 10 bytes ends in ...");
	check_san(alpha, 26, 27, alpha, "26 letters fit in 27 bytes");
	check_san("\"\"\"\"\"\"", 6, 10, "\\\"\\\"\\\"...", "cut at a whole \\\" escape");
	check_san("\x01\x01\x01", 3, 10, "\\x01...", "cut at a whole \\xHH escape");
	check_san("\x01\x01\x01", 3, 11, "\\x01...", "never half an escape (11 bytes)");
	check_san("\x01\x01\x01", 3, 12, "\\x01\\x01...", "two escapes in 12 bytes");

	/* Text that fits is not cut ("When the text does not fit, it is cut"). */
	check_san("abcdefghi", 9, 10, "abcdefghi", "9 characters fit exactly in 10 bytes");
	check_san("\x01\x01", 2, 9, "\\x01\\x01", "two \\xHH escapes fit exactly in 9 bytes");
}

static void
test_tiny(void)
{
	char buf[8];

	/* outsize 0: nothing is written, not even a NUL. */
	memset(buf, GUARD, sizeof(buf));
	CHECK(ropc_sanitize("abcdef", 6, buf, 0) == buf && (unsigned char)buf[0] == GUARD,
	      "outsize 0: nothing written");
	check_san("abcdef", 6, 1, "", "outsize 1 gives the empty string");
	check_san("", 0, 1, "", "outsize 1, empty input");
	check_san("abcdef", 6, 4, "...", "outsize 4 gives only ...");
	check_san("abcdef", 6, 5, "a...", "outsize 5 gives a...");
	check_san("\x01", 1, 5, "\\x01", "outsize 5 holds \\x01 whole (4 bytes and the NUL)");
	check_san("\x01\x02", 2, 5, "...", "outsize 5 cannot hold \\x01\\x02, so only ...");
	/* Sizes 2 and 3 have no room for "...": whatever they hold must be a
	 * NUL-terminated prefix (checked in the sweep below); short text that
	 * fits whole must come out whole. */
	check_san("a", 1, 2, "a", "outsize 2: one character fits whole");
	check_san("ab", 2, 3, "ab", "outsize 3: two characters fit whole");
}

/* Sweep: every outsize 0..64 over assorted inputs; the invariants of the
 * contract must hold for each. */
static void
test_sweep(void)
{
	static const char *const fixed[] = {
		"abcdefghijklmnopqrstuvwxyz0123456789",
		"\"\\\"\\\"\\\"\\\"\\\"\\",
		"\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b",
		"mix \"q\" \\ \x01\x7f\xff end",
		"AADSTS50126: Error validating credentials\r\nTrace ID: 1",
	};
	unsigned int seed = 12345;
	size_t cases = 0, overflow = 0, unterminated = 0, notprefix = 0, noellipsis = 0,
	       tooshort = 0;
	int k;

	for (k = 0; k < 5 + 40; k++) {
		char in[64], full[4096], out[64 + 16];
		size_t inlen, fulllen, outsize, i;
		size_t bounds[65], nb = 0, pos = 0;

		if (k < 5) {
			inlen = strlen(fixed[k]);
			memcpy(in, fixed[k], inlen);
		} else {
			inlen = (size_t)(k % 40) + 1;
			for (i = 0; i < inlen; i++) {
				seed = seed * 1103515245u + 12345u;
				in[i] = (char)(seed >> 16);
			}
		}
		ropc_sanitize(in, inlen, full, sizeof(full));
		fulllen = strlen(full);
		/* Where each whole escape ends in full. */
		bounds[nb++] = 0;
		for (i = 0; i < inlen; i++) {
			unsigned char c = (unsigned char)in[i];

			pos += (c == '"' || c == '\\') ? 2 : (c >= 0x20 && c < 0x7f) ? 1 : 4;
			bounds[nb++] = pos;
		}
		for (outsize = 0; outsize <= 64; outsize++) {
			size_t len, keep, j;
			int whole = 0;

			cases++;
			memset(out, GUARD, sizeof(out));
			ropc_sanitize(in, inlen, out, outsize);
			for (j = outsize; j < sizeof(out); j++)
				if ((unsigned char)out[j] != GUARD)
					overflow++;
			if (outsize == 0)
				continue;
			len = strnlen(out, outsize);
			if (len >= outsize) {
				unterminated++;
				continue;
			}
			keep = len;
			if (len >= 3 && memcmp(out + len - 3, "...", 3) == 0 &&
			    !(len == fulllen && strcmp(out, full) == 0))
				keep = len - 3;
			else if (len < fulllen && outsize >= 4)
				noellipsis++;
			for (j = 0; j < nb; j++)
				if (bounds[j] == keep)
					whole = 1;
			if (!whole || memcmp(out, full, keep) != 0)
				notprefix++;
			/* A cut loses at most one escape: out is at least
			 * outsize - 4 long (prefix + n + 4 > outsize, n <= 4). */
			if (len < fulllen && outsize >= 4 && len + 4 < outsize)
				tooshort++;
		}
	}
	CHECK_INT(overflow, 0, "sweep (%zu cases): no byte written at or past outsize", cases);
	CHECK_INT(unterminated, 0, "sweep: output NUL-terminated within outsize");
	CHECK_INT(notprefix, 0, "sweep: output is full escapes of a prefix of the input");
	CHECK_INT(noellipsis, 0, "sweep: a cut output (outsize >= 4) ends in ...");
	CHECK_INT(tooshort, 0, "sweep: a cut keeps as much as fits");
}

int
main(void)
{
	test_escapes();
	test_truncation();
	test_tiny();
	test_sweep();
	return tap_done();
}
