/*
 * test-form.c: form-urlencoding of the token request (RFC 6749 §4.3.2 and
 * Appendix B), the placement of the client credentials (§2.3.1, §3.2.1) and
 * the HTTP Basic header.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "form.h"
#include "options.h"
#include "tap.h"

/* Encode n bytes of s into a fresh buffer; returns a malloc'd copy. */
static char *
enc(const char *s, size_t n)
{
	struct ropc_buf b;
	char *out;

	ropc_buf_init(&b, 4096);
	if (ropc_form_encode(&b, s, n) < 0) {
		ropc_buf_free(&b);
		return NULL;
	}
	out = strdup(b.data != NULL ? b.data : "");
	ropc_buf_free(&b);
	return out;
}

static void
check_enc(const char *in, const char *expected, const char *what)
{
	char *got = enc(in, strlen(in));

	CHECK_STR(got, expected, "encode %s", what);
	free(got);
}

static void
test_byte_classes(void)
{
	static const char hex[] = "0123456789ABCDEF";
	int c, bad = 0, kept = 0, escaped = 0;

	/* Every byte value, one at a time, against the rule of form.c's
	 * header comment: RFC 3986 unreserved kept, space -> '+', all else
	 * %XX with uppercase hex digits. */
	for (c = 0; c < 256; c++) {
		char in = (char)c, expected[4];
		char *got = enc(&in, 1);
		int unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
				 (c >= '0' && c <= '9') || c == '-' || c == '.' ||
				 c == '_' || c == '~';

		if (unreserved) {
			expected[0] = (char)c;
			expected[1] = '\0';
			kept++;
		} else if (c == ' ') {
			strcpy(expected, "+");
		} else {
			expected[0] = '%';
			expected[1] = hex[c >> 4];
			expected[2] = hex[c & 0xf];
			expected[3] = '\0';
			escaped++;
		}
		if (got == NULL || strcmp(got, expected) != 0) {
			if (bad++ < 5)
				tap_diag("byte 0x%02x: got %s expected %s", (unsigned int)c,
					 got != NULL ? got : "(error)", expected);
		}
		free(got);
	}
	CHECK_INT(bad, 0, "all 256 byte values encode by the rule");
	CHECK_INT(kept, 66, "66 unreserved characters are kept");
	CHECK_INT(escaped, 189, "189 other bytes are percent-encoded");

	check_enc("AZaz09-._~", "AZaz09-._~", "unreserved characters kept");
	check_enc("a b", "a+b", "space becomes +");
	check_enc("&", "%26", "& escaped");
	check_enc("=", "%3D", "= escaped");
	check_enc("+", "%2B", "+ escaped (not taken for a space)");
	check_enc("%", "%25", "% escaped");
	check_enc("\"", "%22", "double quote escaped");
	check_enc("'", "%27", "single quote escaped");
	check_enc("/?#[]@!$()*,;:", "%2F%3F%23%5B%5D%40%21%24%28%29%2A%2C%3B%3A",
		  "reserved characters escaped");
	check_enc("\r\n\t", "%0D%0A%09", "CR LF TAB escaped");
	check_enc("\x7f", "%7F", "DEL escaped");
	check_enc("\xc3\xa9", "%C3%A9", "UTF-8 e-acute escaped bytewise, uppercase");
	check_enc("\xf0\x9f\x98\x80", "%F0%9F%98%80", "emoji escaped bytewise");
	check_enc("\xff\xfe", "%FF%FE", "high bytes uppercase hex");
	check_enc("", "", "empty string gives nothing");

	{
		char *got = enc("a\0b", 3);

		CHECK_STR(got, "a%00b", "NUL inside the counted bytes is %%00");
		free(got);
	}
	{
		char *got = enc("abcdef", 3);

		CHECK_STR(got, "abc", "only n bytes are encoded");
		free(got);
	}
}

static void
test_form_add(void)
{
	struct ropc_buf b;

	ropc_buf_init(&b, 4096);
	CHECK_INT(ropc_form_add(&b, "username", "alice&scope=admin"), 0, "form_add returns 0");
	CHECK_STR(b.data, "username=alice%26scope%3Dadmin",
		  "alice&scope=admin stays one value");
	CHECK_INT(ropc_form_add(&b, "password", "p&ss=w rd+%"), 0, "second form_add returns 0");
	CHECK_STR(b.data, "username=alice%26scope%3Dadmin&password=p%26ss%3Dw+rd%2B%25",
		  "second pair joined with one &");
	ropc_buf_free(&b);

	ropc_buf_init(&b, 4096);
	ropc_form_add(&b, "we ird&name", "v");
	CHECK_STR(b.data, "we+ird%26name=v", "names are encoded too");
	ropc_buf_free(&b);

	ropc_buf_init(&b, 4096);
	ropc_form_add(&b, "empty", "");
	CHECK_STR(b.data, "empty=", "empty value gives name=");
	ropc_buf_free(&b);

	/* The buffer's cap is honoured. */
	ropc_buf_init(&b, 10);
	CHECK_INT(ropc_form_add(&b, "username", "alice"), -1,
		  "form_add past the buffer's max fails");
	CHECK(b.len <= 10, "buffer stays within its max (len %zu)", b.len);
	ropc_buf_free(&b);

	ropc_buf_init(&b, 16);
	CHECK_INT(ropc_form_add(&b, "u", "\xff\xff\xff\xff\xff"), -1,
		  "form_add fails when the escaped value passes max (5 bytes -> 15)");
	ropc_buf_free(&b);
}

/* Settings as the loader would leave them (client_auth resolved). */
static void
settings_base(struct ropc_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->token_endpoint = "https://idp.example.com/token";
	s->client_id = "my-client";
	s->client_secret = "s3cr3t";
	s->client_auth = ROPC_CLIENT_AUTH_BASIC;
	s->scope = "openid";
}

static void
check_build(const struct ropc_settings *s, const char *user, const char *password,
	    const char *expected, const char *what)
{
	struct ropc_buf b;
	int rc;

	ropc_buf_init(&b, ROPC_MAX_BODY);
	rc = ropc_form_build(s, user, password, &b);
	CHECK_INT(rc, 0, "form_build %s returns 0", what);
	CHECK_STR(b.data, expected, "form_build %s body", what);
	ropc_buf_free(&b);
}

static void
test_form_build(void)
{
	struct ropc_settings s;
	struct ropc_param extra[2] = {
		{ "audience", "api://default" },
		{ "x-tenant", "a b&c" },
	};

	settings_base(&s);
	check_build(&s, "alice", "p@ss word",
		    "grant_type=password&username=alice&password=p%40ss+word&scope=openid",
		    "client_secret_basic: no client_id nor secret in the body");

	s.client_auth = ROPC_CLIENT_AUTH_POST;
	check_build(&s, "alice", "pw",
		    "grant_type=password&username=alice&password=pw&scope=openid"
		    "&client_id=my-client&client_secret=s3cr3t",
		    "client_secret_post: client_id and client_secret in the body");

	s.client_auth = ROPC_CLIENT_AUTH_NONE;
	s.client_secret = NULL;
	check_build(&s, "alice", "pw",
		    "grant_type=password&username=alice&password=pw&scope=openid"
		    "&client_id=my-client",
		    "public client: client_id without a secret");

	s.client_id = NULL;
	check_build(&s, "alice", "pw",
		    "grant_type=password&username=alice&password=pw&scope=openid",
		    "public client without client_id: neither");

	settings_base(&s);
	s.scope = "";
	check_build(&s, "alice", "pw", "grant_type=password&username=alice&password=pw",
		    "empty scope is omitted");
	s.scope = NULL;
	check_build(&s, "alice", "pw", "grant_type=password&username=alice&password=pw",
		    "NULL scope is omitted");

	settings_base(&s);
	s.scope = "openid profile email";
	s.resource = "https://api.example.com/";
	s.extra_params = extra;
	s.n_extra_params = 2;
	check_build(&s, "alice@example.com", "pw",
		    "grant_type=password&username=alice%40example.com&password=pw"
		    "&scope=openid+profile+email&resource=https%3A%2F%2Fapi.example.com%2F"
		    "&audience=api%3A%2F%2Fdefault&x-tenant=a+b%26c",
		    "scope, resource and extra_params encoded, in order");

	settings_base(&s);
	s.client_auth = ROPC_CLIENT_AUTH_POST;
	s.client_secret = "a&b=c+d";
	check_build(&s, "alice&scope=admin", "x&client_id=evil",
		    "grant_type=password&username=alice%26scope%3Dadmin"
		    "&password=x%26client_id%3Devil&scope=openid&client_id=my-client"
		    "&client_secret=a%26b%3Dc%2Bd",
		    "injection attempts in user, password and secret stay values");

	settings_base(&s);
	check_build(&s, "j\xc3\xb6rg", "\xf0\x9f\x94\x91 key",
		    "grant_type=password&username=j%C3%B6rg&password=%F0%9F%94%91+key"
		    "&scope=openid",
		    "UTF-8 user and password");

	/* Too large for the body buffer: -1, not a truncated request. */
	{
		struct ropc_buf b;

		settings_base(&s);
		ropc_buf_init(&b, 64);
		CHECK_INT(ropc_form_build(&s, "alice", "a-password-that-is-long-enough", &b),
			  -1, "form_build into a too-small buffer fails");
		ropc_buf_free(&b);
	}
}

static void
check_basic(const char *id, const char *secret, const char *b64, const char *what)
{
	struct ropc_buf h;
	char expected[512];
	int rc;

	snprintf(expected, sizeof(expected), "Authorization: Basic %s", b64);
	ropc_buf_init(&h, 4096);
	rc = ropc_form_basic_header(id, secret, &h);
	CHECK_INT(rc, 0, "basic header %s returns 0", what);
	CHECK_STR(h.data, expected, "basic header %s", what);
	ropc_buf_free(&h);
}

static void
test_basic_header(void)
{
	struct ropc_buf h;
	char secret[101];

	/* Expected values computed with: printf %s 'ENCODED' | base64 -w0 */
	check_basic("my-client", "s3cr3t", "bXktY2xpZW50OnMzY3IzdA==", "plain");
	/* RFC 6749 §2.3.1: id and secret are form-urlencoded before base64. */
	check_basic("client id", "p@ss:w0rd/+=&%",
		    "Y2xpZW50K2lkOnAlNDBzcyUzQXcwcmQlMkYlMkIlM0QlMjYlMjU=",
		    "of client+id:p%40ss%3Aw0rd%2F%2B%3D%26%25");
	check_basic("app", "s\xc3\xa9" "cret", "YXBwOnMlQzMlQTljcmV0",
		    "of app:s%C3%A9cret (UTF-8 secret)");
	check_basic("a", "b", "YTpi", "of a:b (no padding)");
	check_basic("ab", "c", "YWI6Yw==", "of ab:c (two = of padding)");
	check_basic("abc", "d", "YWJjOmQ=", "of abc:d (one = of padding)");

	/* A long secret: one line, no line breaks from the encoder. */
	memset(secret, 'x', 100);
	secret[100] = '\0';
	ropc_buf_init(&h, 4096);
	CHECK_INT(ropc_form_basic_header("id", secret, &h), 0, "long secret returns 0");
	CHECK(h.data != NULL && strchr(h.data, '\n') == NULL && strchr(h.data, '\r') == NULL,
	      "long secret: no line break in the header");
	CHECK_INT(h.data != NULL ? strlen(h.data) : 0,
		  strlen("Authorization: Basic ") + 4 * ((103 + 2) / 3),
		  "long secret: base64 of 103 bytes is 140 characters");
	ropc_buf_free(&h);

	/* Appends to what the buffer holds. */
	ropc_buf_init(&h, 4096);
	ropc_buf_append_str(&h, "X: 1\r\n");
	ropc_form_basic_header("a", "b", &h);
	CHECK_STR(h.data, "X: 1\r\nAuthorization: Basic YTpi", "appends after existing data");
	ropc_buf_free(&h);

	/* A header buffer too small: -1. */
	ropc_buf_init(&h, 10);
	CHECK_INT(ropc_form_basic_header("a", "b", &h), -1, "too-small header buffer fails");
	ropc_buf_free(&h);
}

int
main(void)
{
	test_byte_classes();
	test_form_add();
	test_form_build();
	test_basic_header();
	return tap_done();
}
