/*
 * fuzz-response.c: the token endpoint's answer, from the raw bytes to the
 * outcome of the login (response.c and classify.c).
 *
 * Input: a 4-byte header, then the body.
 *   bytes 0-2  the HTTP status: three ASCII digits ("401") give that
 *              number; anything else gives, when byte 0 is odd, the raw
 *              16-bit signed number of bytes 1-2 (so 0, negative and huge
 *              statuses are tried), else one of 200 400 401 403 429 500
 *              302 418 chosen by byte 1.
 *   byte 3     the transport result and the settings: ropc_net value
 *              (low 4 bits mod 6, so '0' is ROPC_NET_OK) and, when bit 0x10
 *              is set ('0'..'5'), settings with an error_map; without it
 *              (' ', '@') the classification gets NULL settings.
 *   bytes 4-   the body, as libcurl would have collected it.
 * Example: "4010{\"error\":\"invalid_grant\"}".  Shorter inputs are a 200
 * with an empty body.
 *
 * Checks: the outcome is one an IdP answer can have; SUCCESS only for a
 * whole 200 answer, with a non-empty printable access token and every other
 * field within its RFC 6749 character set; tokens only on SUCCESS; a 3xx,
 * 429, 5xx or transport failure is UNAVAILABLE; a 401/403 without a JSON
 * body is INVALID_CREDENTIALS; every text field is NUL-terminated inside
 * its array; "strict parsing": a body accepted as JSON is one object with
 * at most JSON white space after it; ropc_response_tokens and ropc_classify
 * agree.  ASan/UBSan/LSan watch the rest (reads past the body, which is
 * passed without a terminating NUL to the direct calls, leaks of tokens).
 */
#define _GNU_SOURCE 1
#include "fuzz-common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "http.h"
#include "options.h"
#include "outcome.h"
#include "response.h"

static struct ropc_map_entry map[] = {
	{ (char *)"too many failed attempts", ROPC_OUT_LOCKED },
	{ (char *)"AADSTS50158", ROPC_OUT_MFA_REQUIRED },
	{ (char *)"E0000047", ROPC_OUT_UNAVAILABLE },
	{ (char *)"teapot", ROPC_OUT_ACCESS_DENIED },
};

static struct ropc_settings settings;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	settings.error_map = map;
	settings.n_error_map = sizeof(map) / sizeof(map[0]);
	return 0;
}

static const long statuses[8] = { 200, 400, 401, 403, 429, 500, 302, 418 };

static bool
is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static bool
all_bytes(const char *s, bool (*ok)(unsigned char))
{
	for (; *s != '\0'; s++)
		if (!ok((unsigned char)*s))
			return false;
	return true;
}

static bool vschar(unsigned char c) { return c >= 0x20 && c <= 0x7e; }
static bool token68(unsigned char c) { return c > 0x20 && c <= 0x7e; }
static bool scopechar(unsigned char c) { return vschar(c) && c != '"' && c != '\\'; }
static bool codechar(unsigned char c) { return (c >= '0' && c <= '9') || c == ',' || c == '-'; }

static bool
terminated(const char *a, size_t n)
{
	return memchr(a, '\0', n) != NULL;
}

/* What a successful parse must look like. */
static void
check_tokens(const struct ropc_tokens *t, const char *where)
{
	FUZZ_CHECK("tokens", t->access_token != NULL && t->access_token[0] != '\0',
		   "%s: success without an access token", where);
	if (t->access_token == NULL)
		return;         /* FUZZ_SKIP */
	FUZZ_CHECK("tokens", strlen(t->access_token) <= ROPC_MAX_TOKEN,
		   "%s: access token of %zu bytes", where, strlen(t->access_token));
	FUZZ_CHECK("tokens", all_bytes(t->access_token, vschar),
		   "%s: access token with a byte outside VSCHAR", where);
	FUZZ_CHECK("tokens", t->token_type == NULL ||
		   (t->token_type[0] != '\0' && strlen(t->token_type) <= 64 &&
		    all_bytes(t->token_type, token68)),
		   "%s: bad token_type kept", where);
	FUZZ_CHECK("tokens", t->scope == NULL ||
		   (t->scope[0] != '\0' && all_bytes(t->scope, scopechar)),
		   "%s: bad scope kept", where);
	FUZZ_CHECK("tokens", t->id_token == NULL ||
		   (t->id_token[0] != '\0' && strlen(t->id_token) <= ROPC_MAX_TOKEN &&
		    all_bytes(t->id_token, token68)),
		   "%s: bad id_token kept", where);
	FUZZ_CHECK("tokens", t->refresh_token == NULL ||
		   (t->refresh_token[0] != '\0' && strlen(t->refresh_token) <= ROPC_MAX_TOKEN &&
		    all_bytes(t->refresh_token, vschar)),
		   "%s: bad refresh_token kept", where);
	FUZZ_CHECK("tokens", t->expires_in == -1 ||
		   (t->expires_in > 0 && t->expires_in <= 10LL * 366 * 24 * 3600),
		   "%s: expires_in %lld", where, t->expires_in);
}

static bool
no_tokens(const struct ropc_tokens *t)
{
	return t->access_token == NULL && t->token_type == NULL && t->scope == NULL &&
	       t->id_token == NULL && t->refresh_token == NULL;
}

static void
check_idp(const struct ropc_idp_error *e, const char *where)
{
	FUZZ_CHECK("idp-fields", terminated(e->code, sizeof(e->code)) &&
		   terminated(e->description, sizeof(e->description)) &&
		   terminated(e->codes, sizeof(e->codes)),
		   "%s: an idp error field is not NUL-terminated", where);
	FUZZ_CHECK("idp-fields", all_bytes(e->codes, codechar),
		   "%s: error_codes text \"%s\"", where, e->codes);
	FUZZ_CHECK("idp-fields", e->json ||
		   (e->code[0] == '\0' && e->description[0] == '\0' && e->codes[0] == '\0'),
		   "%s: fields filled from a body that is not a JSON object", where);
}

/*
 * "One JSON object, nothing after it": what the parser accepted must end,
 * after JSON white space (RFC 8259: space, tab, CR, LF), with the '}' of
 * the object.
 */
static void
check_strict(const uint8_t *body, size_t len, const char *where)
{
	size_t end = len;

	while (end > 0 && (body[end - 1] == ' ' || body[end - 1] == '\t' ||
			   body[end - 1] == '\r' || body[end - 1] == '\n'))
		end--;
	if (end == 0 || body[end - 1] != '}') {
		fuzz_dump("body", body, len);
		FUZZ_CHECK("strict-json", false,
			   "%s accepted a body whose last non-white-space byte is 0x%02x, "
			   "not the '}' of one JSON object", where,
			   end > 0 ? body[end - 1] : 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ropc_http_result res;
	struct ropc_verdict v;
	struct ropc_tokens t;
	struct ropc_idp_error e;
	const struct ropc_settings *s = NULL;
	const uint8_t *body = data;
	size_t blen = size;
	long status = 200;
	enum ropc_net net = ROPC_NET_OK;
	char why[160];
	char *copy;
	int trc;

	if (size >= 4) {
		if (is_digit(data[0]) && is_digit(data[1]) && is_digit(data[2]))
			status = (data[0] - '0') * 100 + (data[1] - '0') * 10 + (data[2] - '0');
		else if (data[0] & 1)
			status = (int16_t)(uint16_t)((data[1] << 8) | data[2]);
		else
			status = statuses[data[1] % 8];
		net = (enum ropc_net)((data[3] & 0x0f) % 6);
		if (data[3] & 0x10)
			s = &settings;
		body = data + 4;
		blen = size - 4;
	}

	/* The parsers on their own, on an exact-size copy of the body (no
	 * terminating NUL: a read past the end is an ASan report). */
	copy = malloc(blen > 0 ? blen : 1);
	if (copy == NULL)
		return 0;
	if (blen > 0)
		memcpy(copy, body, blen);
	memset(why, 'x', sizeof(why));
	trc = ropc_response_tokens(copy, blen, &t, why, sizeof(why));
	if (trc == 0) {
		check_tokens(&t, "ropc_response_tokens");
		check_strict(body, blen, "ropc_response_tokens");
	} else {
		FUZZ_CHECK("api", trc == -1, "ropc_response_tokens returned %d", trc);
		FUZZ_CHECK("api", no_tokens(&t), "ropc_response_tokens failed but left tokens");
		FUZZ_CHECK("api", terminated(why, sizeof(why)) && why[0] != '\0',
			   "ropc_response_tokens failed without a reason");
	}
	ropc_response_error(copy, blen, &e);
	check_idp(&e, "ropc_response_error");
	if (e.json)
		check_strict(body, blen, "ropc_response_error");
	free(copy);

	/* The whole path, as ropc_http_post leaves it. */
	ropc_http_result_init(&res);
	if (ropc_buf_append(&res.body, body, blen) < 0) {
		FUZZ_CHECK("api", blen > ROPC_MAX_RESPONSE,
			   "ropc_buf_append refused %zu bytes", blen);
		ropc_http_result_free(&res);
		if (trc == 0)
			ropc_tokens_free(&t);
		return 0;
	}
	res.net = net;
	res.status = status;
	ropc_classify(s, &res, &v);

	FUZZ_CHECK("outcome", (unsigned int)v.outcome < ROPC_OUT_COUNT,
		   "outcome %d out of range", (int)v.outcome);
	FUZZ_CHECK("outcome", v.outcome != ROPC_OUT_UNKNOWN_USER &&
		   v.outcome != ROPC_OUT_REJECTED_INPUT && v.outcome != ROPC_OUT_INTERNAL,
		   "outcome %s cannot come from an IdP answer",
		   ropc_outcome_info(v.outcome)->name);
	FUZZ_CHECK("detail", terminated(v.detail, sizeof(v.detail)),
		   "detail not NUL-terminated");
	check_idp(&v.idp, "ropc_classify");
	if (v.outcome == ROPC_OUT_SUCCESS) {
		FUZZ_CHECK("success", net == ROPC_NET_OK && status == 200,
			   "SUCCESS for net=%d status=%ld", (int)net, status);
		check_tokens(&v.tokens, "ropc_classify");
		check_strict(body, blen, "ropc_classify");
	} else {
		FUZZ_CHECK("success", no_tokens(&v.tokens),
			   "outcome %s but tokens kept", ropc_outcome_info(v.outcome)->name);
		FUZZ_CHECK("detail", v.detail[0] != '\0', "outcome %s without a detail",
			   ropc_outcome_info(v.outcome)->name);
	}
	if (net != ROPC_NET_OK || (status >= 300 && status < 400) || status >= 500 ||
	    status == 429)
		FUZZ_CHECK("unavailable", v.outcome == ROPC_OUT_UNAVAILABLE,
			   "net=%d status=%ld gave %s, not unavailable", (int)net, status,
			   ropc_outcome_info(v.outcome)->name);
	if (net == ROPC_NET_OK && (status == 401 || status == 403) && !v.idp.json)
		FUZZ_CHECK("glewlwyd", v.outcome == ROPC_OUT_INVALID_CREDENTIALS,
			   "HTTP %ld without JSON gave %s", status,
			   ropc_outcome_info(v.outcome)->name);
	/* The parser alone and the classification agree on a 200: a success
	 * is a token response that carries no error; a token response that
	 * carries no error and says nothing else is a success. */
	if (net == ROPC_NET_OK && status == 200) {
		if (v.outcome == ROPC_OUT_SUCCESS)
			FUZZ_CHECK("agree", trc == 0 && !v.idp.has_error,
				   "classified success, but ropc_response_tokens %d, has_error %d",
				   trc, (int)v.idp.has_error);
		if (trc == 0 && !v.idp.has_error && v.idp.code[0] == '\0' &&
		    v.idp.description[0] == '\0' && v.idp.codes[0] == '\0')
			FUZZ_CHECK("agree", v.outcome == ROPC_OUT_SUCCESS,
				   "a plain token response classified %s",
				   ropc_outcome_info(v.outcome)->name);
		if (trc == 0 && v.outcome == ROPC_OUT_SUCCESS)
			FUZZ_CHECK("agree", strcmp(t.access_token, v.tokens.access_token) == 0,
				   "two parses of one body gave two access tokens");
	}
	/* error_map entries, when given, come first. */
	if (s != NULL && v.outcome != ROPC_OUT_SUCCESS && v.idp.json &&
	    strstr(v.detail, "error_map") == NULL && status >= 400 && status < 500 &&
	    status != 429 && net == ROPC_NET_OK) {
		size_t i;

		for (i = 0; i < settings.n_error_map; i++)
			FUZZ_CHECK("error-map", strcasestr(v.idp.description, map[i].pattern) == NULL &&
				   strcasestr(v.idp.code, map[i].pattern) == NULL,
				   "error_map \"%s\" matches but the verdict is \"%s\"",
				   map[i].pattern, v.detail);
	}

	ropc_verdict_free(&v);
	FUZZ_CHECK("free", no_tokens(&v.tokens), "ropc_verdict_free left tokens");
	ropc_http_result_free(&res);
	if (trc == 0)
		ropc_tokens_free(&t);
	return 0;
}
