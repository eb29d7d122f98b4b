/*
 * fuzz-sanitize.c: ropc_sanitize (logging.c), which makes text from the
 * network or the person safe inside a double-quoted log field.
 *
 * Input: bytes 0-1 give the output size, (b0 << 8 | b1) % 301; the rest is
 * the text.  When byte 0 is 0xff the text is passed as NULL (with its
 * length), which must read as empty.
 *
 * Checks, on an output buffer of exactly that size (ASan sees any write
 * past it, and a size of 0 must not be written at all): the output is
 * NUL-terminated inside outsize; it holds only printable ASCII; it is a
 * sequence of whole escapes (a '"' or '\\' only as \" \\, other bytes as
 * \xHH with lower-case hex), so no raw quote can end the log field; it
 * decodes to the whole input, or to a proper prefix of it followed by
 * "..." (or to nothing, when outsize < 4 leaves no room for "..."); and when it is cut, even one more escape would not have fitted
 * with the "..." and the NUL.
 */
#include "fuzz-common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logging.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Bytes one input byte takes in the output. */
static size_t
esc_len(unsigned char c)
{
	if (c == '"' || c == '\\')
		return 2;
	if (c >= 0x20 && c < 0x7f)
		return 1;
	return 4;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t outsize, inlen, olen, i, d;
	const char *in;
	unsigned char *dec;
	char *out, *ret;
	bool cut;

	if (size < 2)
		return 0;
	outsize = (size_t)((data[0] << 8) | data[1]) % 301;
	inlen = size - 2;
	in = (const char *)data + 2;
	if (data[0] == 0xff)
		in = NULL;

	out = malloc(outsize);
	if (out == NULL && outsize > 0)
		return 0;
	ret = ropc_sanitize(in, inlen, out, outsize);
	FUZZ_CHECK("return", ret == out, "ropc_sanitize did not return out");
	if (outsize == 0) {
		free(out);
		return 0;
	}
	if (in == NULL)
		inlen = 0;

	FUZZ_CHECK("nul", memchr(out, '\0', outsize) != NULL,
		   "output of size %zu not NUL-terminated", outsize);
	olen = strlen(out);
	for (i = 0; i < olen; i++)
		FUZZ_CHECK("printable", (unsigned char)out[i] >= 0x20 &&
			   (unsigned char)out[i] < 0x7f,
			   "byte 0x%02x at %zu of the output", (unsigned char)out[i], i);

	/* Decode, escape by escape. */
	dec = malloc(olen + 1);
	if (dec == NULL) {
		free(out);
		return 0;
	}
	for (i = 0, d = 0; i < olen;) {
		if (out[i] == '"') {
			fuzz_dump("output", out, olen);
			FUZZ_CHECK("quote", false, "raw '\"' at %zu of the output", i);
		}
		if (out[i] != '\\') {
			dec[d++] = (unsigned char)out[i++];
			continue;
		}
		if (i + 1 < olen && (out[i + 1] == '\\' || out[i + 1] == '"')) {
			dec[d++] = (unsigned char)out[i + 1];
			i += 2;
		} else if (i + 3 < olen && out[i + 1] == 'x' && hexval(out[i + 2]) >= 0 &&
			   hexval(out[i + 3]) >= 0) {
			unsigned char c = (unsigned char)(hexval(out[i + 2]) * 16 + hexval(out[i + 3]));

			FUZZ_CHECK("escape", c < 0x20 || c >= 0x7f,
				   "printable byte 0x%02x escaped as \\x", c);
			dec[d++] = c;
			i += 4;
		} else {
			fuzz_dump("output", out, olen);
			FUZZ_CHECK("escape", false, "a backslash at %zu starts no whole escape", i);
			i++;
		}
	}

	/* The whole input, or a prefix and "...". */
	if (d == inlen && (inlen == 0 || memcmp(dec, in, inlen) == 0)) {
		cut = false;
	} else if (d == 0 && outsize < 4) {
		/* No room for even "...": an empty field. */
		cut = false;
		FUZZ_CHECK("cut", esc_len((unsigned char)in[0]) + 4 > outsize,
			   "empty output of size %zu", outsize);
	} else {
		cut = true;
		if (!(d >= 3 && memcmp(dec + d - 3, "...", 3) == 0 && d - 3 < inlen &&
		      memcmp(dec, in, d - 3) == 0)) {
			fuzz_dump("input", in, inlen);
			fuzz_dump("output", out, olen);
			FUZZ_CHECK("roundtrip", false,
				   "output (outsize %zu) is neither the input nor a prefix and \"...\"",
				   outsize);
		}
	}
	if (cut && in != NULL) {
		/* The prefix kept is d - 3 input bytes: the next one could not
		 * have been added with room for "..." and the NUL. */
		size_t kept = d - 3, used = olen - 3;

		FUZZ_CHECK("cut", used + esc_len((unsigned char)in[kept]) + 4 > outsize,
			   "cut after %zu of %zu input bytes though the next escape fitted "
			   "(outsize %zu)", kept, inlen, outsize);
		FUZZ_CHECK("cut", outsize >= 4, "\"...\" in an output of size %zu", outsize);
	}
	if (cut || (d == 0 && inlen > 0)) {
		/* Only text that does not fit whole is cut. */
		size_t whole = 0;

		for (i = 0; i < inlen; i++)
			whole += esc_len((unsigned char)in[i]);
		FUZZ_CHECK("cut-needed", whole + 1 > outsize,
			   "cut though all %zu input bytes (%zu escaped) fit in %zu", inlen, whole,
			   outsize);
	}
	free(dec);
	free(out);
	return 0;
}
