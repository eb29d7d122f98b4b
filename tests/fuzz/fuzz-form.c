/*
 * fuzz-form.c: what the module does with the user name and the password
 * before they leave: form-urlencoding (form.c), the Basic header, the user
 * name rules and username_format mapping (user.c), the UTF-8 validator and
 * the password check (auth.c).
 *
 * Input: byte 0 is the buffer cap: with bit 0x80 set, (b0 & 0x7f) * 8
 * bytes (so running out of room is tried), else ROPC_MAX_BODY.  The rest,
 * R, is used whole (ropc_form_encode, ropc_utf8_valid) and split at NULs
 * into up to three C strings A, B, C (missing ones are ""):
 *   form:  ropc_form_add(A, B) then ropc_form_add(B, A) into one buffer;
 *          ropc_form_basic_header(A, B)
 *   user:  ropc_user_check(A) (no C0/C1 control, valid UTF-8, 1..256
 *          bytes); ropc_user_map(C as the format, A)
 *   other: ropc_password_check(B) (not empty, < PAM_MAX_RESP_SIZE, not
 *          sshd's "\b\n\r\177INCORRECT" repeated to any length)
 *
 * Checks: the encoding uses only [A-Za-z0-9-._~+%], every %XX is two
 * upper-case hex digits of a byte that had to be encoded, and it decodes
 * back to the input exactly (or, when the cap is hit, to a prefix and
 * within the cap); a form has exactly the expected name=value&name=value
 * shape (so no value can inject a parameter); the Basic header is
 * base64(enc(A) ":" enc(B)); ropc_user_check, ropc_user_map,
 * ropc_utf8_valid and ropc_password_check agree with independent
 * reference implementations written here.
 */
#include "fuzz-common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <security/pam_modules.h>

#include "auth.h"
#include "buf.h"
#include "form.h"
#include "user.h"

static bool
unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

static int
uhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode n bytes of form encoding at p into out (room for n bytes).
 * Returns the decoded length; fails the run on anything that is not the
 * canonical encoding this module must produce.
 */
static size_t
form_decode(const char *p, size_t n, unsigned char *out)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '+') {
			out[o++] = ' ';
		} else if (c == '%') {
			FUZZ_CHECK("form-charset", i + 2 < n,
				   "'%%' at %zu of %zu without two hex digits", i, n);
			if (i + 2 >= n)
				return o;
			FUZZ_CHECK("form-charset", uhex(p[i + 1]) >= 0 && uhex(p[i + 2]) >= 0,
				   "'%%%c%c' is not %%XX with upper-case hex", p[i + 1], p[i + 2]);
			c = (unsigned char)(uhex(p[i + 1]) * 16 + uhex(p[i + 2]));
			FUZZ_CHECK("form-canonical", !unreserved(c) && c != ' ',
				   "byte 0x%02x percent-encoded though it need not be", c);
			out[o++] = c;
			i += 2;
		} else {
			FUZZ_CHECK("form-charset", unreserved(c),
				   "byte 0x%02x at %zu of an encoding", c, i);
			out[o++] = c;
		}
	}
	return o;
}

static void
check_encode(const uint8_t *r, size_t rlen, size_t max)
{
	struct ropc_buf b;
	unsigned char *dec;
	size_t dlen;
	int rc;

	ropc_buf_init(&b, max);
	rc = ropc_form_encode(&b, (const char *)r, rlen);
	FUZZ_CHECK("form-api", rc == 0 || rc == -1, "ropc_form_encode returned %d", rc);
	FUZZ_CHECK("form-cap", b.len <= max, "%zu bytes in a buffer capped at %zu", b.len, max);
	if (b.data == NULL) {
		FUZZ_CHECK("form-api", rc == -1 ? true : rlen == 0,
			   "ropc_form_encode succeeded on %zu bytes with nothing written", rlen);
		return;
	}
	FUZZ_CHECK("form-api", b.data[b.len] == '\0' && strlen(b.data) == b.len,
		   "buffer not NUL-terminated at its length");
	dec = malloc(b.len + 1);
	if (dec == NULL) {
		ropc_buf_free(&b);
		return;
	}
	dlen = form_decode(b.data, b.len, dec);
	if (rc == 0)
		FUZZ_CHECK("form-roundtrip", dlen == rlen && memcmp(dec, r, rlen) == 0,
			   "encoding of %zu bytes decodes to %zu other bytes", rlen, dlen);
	else
		FUZZ_CHECK("form-roundtrip", dlen <= rlen && memcmp(dec, r, dlen) == 0,
			   "a partial encoding is not a prefix of the input");
	free(dec);
	ropc_buf_free(&b);
}

/* Next name=value of a form at *p; checks it decodes to name and value. */
static void
expect_pair(const char **p, const char *end, const char *name, const char *value,
	    bool last)
{
	const char *amp = memchr(*p, '&', (size_t)(end - *p));
	const char *stop = amp != NULL ? amp : end;
	const char *eq = memchr(*p, '=', (size_t)(stop - *p));
	unsigned char *dec;
	size_t n;

	FUZZ_CHECK("form-shape", eq != NULL, "a form pair without '='");
	FUZZ_CHECK("form-shape", last ? amp == NULL : amp != NULL,
		   "a form of two pairs has %s '&'", last ? "a third" : "no");
	if (eq == NULL)
		return;
	dec = malloc((size_t)(stop - *p) + 1);
	if (dec == NULL)
		return;
	n = form_decode(*p, (size_t)(eq - *p), dec);
	FUZZ_CHECK("form-roundtrip", n == strlen(name) && memcmp(dec, name, n) == 0,
		   "a form name does not decode to the name given");
	FUZZ_CHECK("form-shape", memchr(eq + 1, '=', (size_t)(stop - eq - 1)) == NULL,
		   "two '=' in one pair");
	n = form_decode(eq + 1, (size_t)(stop - eq - 1), dec);
	FUZZ_CHECK("form-roundtrip", n == strlen(value) && memcmp(dec, value, n) == 0,
		   "a form value does not decode to the value given");
	free(dec);
	*p = amp != NULL ? amp + 1 : end;
}

static void
check_form(const char *a, const char *b, size_t max)
{
	struct ropc_buf f;
	const char *p;

	ropc_buf_init(&f, max);
	if (ropc_form_add(&f, a, b) == 0 && ropc_form_add(&f, b, a) == 0) {
		FUZZ_CHECK("form-cap", f.len <= max, "form over its cap");
		p = f.data;
		expect_pair(&p, f.data + f.len, a, b, false);
		expect_pair(&p, f.data + f.len, b, a, true);
	}
	FUZZ_CHECK("form-cap", f.len <= max, "form over its cap after a failure");
	ropc_buf_free(&f);
}

#define HDR_MAX ((size_t)64 * 1024)

static void
check_basic(const char *id, const char *secret)
{
	static const char prefix[] = "Authorization: Basic ";
	struct ropc_buf hdr, want;
	unsigned char *raw;
	const char *b64;
	size_t n;
	int len, pad = 0;

	/* What the header must carry: enc(id) ":" enc(secret). */
	ropc_buf_init(&want, SIZE_MAX / 2);
	if (ropc_form_encode(&want, id, strlen(id)) < 0 ||
	    ropc_buf_append(&want, ":", 1) < 0 ||
	    ropc_form_encode(&want, secret, strlen(secret)) < 0) {
		ropc_buf_free(&want);
		return;
	}
	ropc_buf_init(&hdr, HDR_MAX);
	if (ropc_form_basic_header(id, secret, &hdr) < 0) {
		/* Only a header over the cap of hdr may fail. */
		FUZZ_CHECK("basic", sizeof(prefix) - 1 + 4 * ((want.len + 2) / 3) > HDR_MAX,
			   "ropc_form_basic_header failed for %zu + %zu bytes",
			   strlen(id), strlen(secret));
		goto out;
	}
	FUZZ_CHECK("basic", hdr.len > sizeof(prefix) - 1 &&
		   memcmp(hdr.data, prefix, sizeof(prefix) - 1) == 0,
		   "header does not start with \"%s\"", prefix);
	b64 = hdr.data + sizeof(prefix) - 1;
	n = strlen(b64);
	FUZZ_CHECK("basic", n == 4 * ((want.len + 2) / 3), "base64 of length %zu for %zu bytes",
		   n, want.len);
	raw = malloc(n + 1);
	if (raw == NULL)
		goto out;
	len = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n);
	FUZZ_CHECK("basic", len >= 0, "header is not base64");
	if (n >= 1 && b64[n - 1] == '=')
		pad++;
	if (n >= 2 && b64[n - 2] == '=')
		pad++;
	len -= pad;
	FUZZ_CHECK("basic", (size_t)len == want.len && memcmp(raw, want.data, want.len) == 0,
		   "Basic credentials are not enc(id):enc(secret)");
	free(raw);
out:
	ropc_buf_free(&want);
	ropc_buf_free(&hdr);
}

/*
 * Reference UTF-8 check, by the table of well-formed byte sequences
 * (Unicode 15, table 3-7), not by decoding code points as user.c does.
 */
static bool
ref_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		unsigned char lo = 0x80, hi = 0xbf;
		size_t need, k;

		if (c <= 0x7f) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
		} else if (c == 0xe0) {
			need = 2;
			lo = 0xa0;
		} else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) {
			need = 2;
		} else if (c == 0xed) {
			need = 2;
			hi = 0x9f;
		} else if (c == 0xf0) {
			need = 3;
			lo = 0x90;
		} else if (c >= 0xf1 && c <= 0xf3) {
			need = 3;
		} else if (c == 0xf4) {
			need = 3;
			hi = 0x8f;
		} else {
			return false;
		}
		if (n - i - 1 < need)
			return false;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (k = 2; k <= need; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return false;
		i += need + 1;
	}
	return true;
}

static const char *
ref_user_check(const char *name)
{
	size_t n = strlen(name), i;

	if (n == 0)
		return "empty";
	if (n > ROPC_MAX_USER)
		return "long";
	for (i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || (unsigned char)name[i] == 0x7f)
			return "control";
	if (!ref_utf8((const unsigned char *)name, n))
		return "utf8";
	/* C1 controls, U+0080..U+009F: decode sequence by sequence. */
	for (i = 0; i < n;) {
		unsigned char c = (unsigned char)name[i];

		if (c == 0xc2 && (unsigned char)name[i + 1] <= 0x9f)
			return "C1 control";
		i += c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	}
	return NULL;
}

/* %u is the name, %% a percent sign, anything else (a lone '%' too) is
 * itself. */
static char *
ref_user_map(const char *format, const char *name)
{
	size_t cap = strlen(format) * (strlen(name) + 1) + 1, o = 0, i;
	char *out = malloc(cap);

	if (out == NULL)
		return NULL;
	for (i = 0; format[i] != '\0'; i++) {
		if (format[i] == '%' && format[i + 1] == 'u') {
			memcpy(out + o, name, strlen(name));
			o += strlen(name);
			i++;
		} else if (format[i] == '%' && format[i + 1] == '%') {
			out[o++] = '%';
			i++;
		} else {
			out[o++] = format[i];
		}
	}
	out[o] = '\0';
	return out;
}

/* OpenSSH (auth-pam.c, fake_password) sends, for a user it refuses, the
 * junk string repeated or cut to the length of what was typed. */
static bool
ref_sshd_junk(const char *p)
{
	static const char junk[] = ROPC_SSHD_JUNK_PASSWORD;
	size_t n = strlen(p), i;
	char *fake = malloc(n + 1);
	bool same;

	if (fake == NULL || n == 0) {
		free(fake);
		return false;
	}
	for (i = 0; i < n; i++)
		fake[i] = junk[i % (sizeof(junk) - 1)];
	fake[n] = '\0';
	same = strcmp(fake, p) == 0;
	free(fake);
	return same;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *r;
	size_t rlen, max;
	char *copy, *a, *b, *c, *sep;
	const char *why, *ref;
	char *mapped, *want;
	bool v;

	if (size < 1)
		return 0;
	max = (data[0] & 0x80) ? (size_t)(data[0] & 0x7f) * 8 : ROPC_MAX_BODY;
	r = data + 1;
	rlen = size - 1;

	check_encode(r, rlen, max);
	v = ropc_utf8_valid((const char *)r, rlen);
	FUZZ_CHECK("utf8", v == ref_utf8(r, rlen), "ropc_utf8_valid says %s, the reference %s",
		   v ? "valid" : "invalid", v ? "invalid" : "valid");

	/* A, B, C: NUL-separated C strings. */
	copy = malloc(rlen + 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, r, rlen);
	copy[rlen] = '\0';
	a = copy;
	sep = memchr(copy, '\0', rlen + 1);
	b = (size_t)(sep - copy) < rlen ? sep + 1 : sep;
	sep = b + strlen(b);
	c = (size_t)(sep - copy) < rlen ? sep + 1 : sep;

	check_form(a, b, max);
	check_basic(a, b);

	why = ropc_user_check(a);
	ref = ref_user_check(a);
	FUZZ_CHECK("user-check", (why == NULL) == (ref == NULL),
		   "ropc_user_check says \"%s\", the reference \"%s\"",
		   why != NULL ? why : "ok", ref != NULL ? ref : "ok");
	FUZZ_CHECK("user-check", ropc_user_check(NULL) != NULL, "NULL user name accepted");
	mapped = ropc_user_map(c, a);
	want = ref_user_map(c, a);
	if (mapped != NULL && want != NULL)
		FUZZ_CHECK("user-map", strcmp(mapped, want) == 0,
			   "ropc_user_map(\"%.40s\", \"%.40s\") = \"%.80s\", expected \"%.80s\"",
			   c, a, mapped, want);
	free(mapped);
	free(want);

	why = ropc_password_check(b);
	FUZZ_CHECK("password", (why == NULL) ==
		   (b[0] != '\0' && strlen(b) < PAM_MAX_RESP_SIZE && !ref_sshd_junk(b)),
		   "ropc_password_check says \"%s\"", why != NULL ? why : "ok");

	free(copy);
	return 0;
}
