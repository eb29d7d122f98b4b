/*
 * fuzz-claims.c: the claim rules of claims.c on any JSON document, any
 * claim path and any administrator's value.
 *
 * Input: a 2-byte header, two lines, then the claims.
 *   byte 0   flags: 0x01 case_insensitive (username); 0x02 require_iat;
 *            0x04 an issuer rule ("https://idp.example.com"); 0x08 an azp
 *            rule ("client-1"); 0x10 an answer scope ("openid email");
 *            0x20 a requested scope ("openid profile"); 0x40 the scope
 *            check gets NULL claims.
 *   byte 1   the clock: low 3 bits the skew (0 1 60 300 -1 -300 LONG_MAX
 *            LONG_MIN), next 3 bits now (1700000000 0 -1 1 4102444800
 *            -1700000000 INT64_MAX INT64_MIN), top 2 bits text's max
 *            (64 0 7 SIZE_MAX).
 *   line 1   the claim path (username, groups, require_claim, text, env name)
 *   line 2   the rule: expected user name, allowed_groups, require_scope
 *            and the require_claim value
 *   rest     the claims, parsed by json-c's lenient tokener (so NaN,
 *            Infinity and 1e400 reach the number checks)
 * The audience is always "client-1".  Example:
 *   "\x02\x02" "groups\n" "admins, ops\n" "{\"aud\":\"client-1\",\"exp\":1700000300}"
 *
 * Checks: every function agrees with an oracle written here independently
 * (strtok_r and memchr instead of the module's scanners, __int128 and long
 * double instead of its saturating int64 arithmetic): check_jwt accepts
 * exactly when iss, aud, azp, exp, nbf and iat hold (so an accepted token
 * has a finite exp later than now - skew and an aud that contains the
 * client); groups accepts exactly when an allowed name is in the claim;
 * username, scopes, require_claim and get likewise; text() is the claim's
 * own text, never holds a control character and is at most max bytes;
 * the env name is CLAIM_ and [A-Z0-9_]; every refusal has a why, which is
 * NUL-terminated and printable.  ASan/UBSan/LSan watch the rest (the
 * saturating time arithmetic, the reads of json-c strings by length).
 */
#define _GNU_SOURCE 1
#include "fuzz-common.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "claims.h"

#define ISS "https://idp.example.com"
#define AUD "client-1"
#define AZP "client-1"
#define ANSWER_SCOPE "openid email"
#define REQUESTED "openid profile"
#define MAX_LINE 512

static const long skews[8] = { 0, 1, 60, 300, -1, -300, LONG_MAX, LONG_MIN };
static const long long nows[8] = { 1700000000LL, 0, -1, 1, 4102444800LL, -1700000000LL,
				   INT64_MAX, INT64_MIN };
static const size_t maxes[4] = { 64, 0, 7, SIZE_MAX };

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* One line of the input (up to '\n' or the end) into a C string; a NUL in
 * it ends the string early, as it would in a configuration file. */
static const uint8_t *
take_line(const uint8_t *p, const uint8_t *end, char *out, size_t outsize)
{
	const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
	size_t n = (size_t)((nl != NULL ? nl : end) - p);

	if (n >= outsize)
		n = outsize - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	return nl != NULL ? nl + 1 : end;
}

static void
check_why(const char *why, size_t size, int rc, const char *where)
{
	size_t i, n;

	if (rc == 0)
		return;
	FUZZ_CHECK("why", memchr(why, '\0', size) != NULL, "%s: why not NUL-terminated", where);
	n = strnlen(why, size);
	FUZZ_CHECK("why", n > 0, "%s refused without a why", where);
	for (i = 0; i < n; i++)
		FUZZ_CHECK("why", (unsigned char)why[i] >= 0x20 && (unsigned char)why[i] < 0x7f,
			   "%s: why holds byte 0x%02x", where, (unsigned char)why[i]);
}

/* A JSON string equal to the C string s. */
static bool
str_eq(struct json_object *o, const char *s)
{
	return json_object_get_type(o) == json_type_string &&
	       (size_t)json_object_get_string_len(o) == strlen(s) &&
	       strcmp(json_object_get_string(o), s) == 0;
}

/* --- get ------------------------------------------------------------------ */

static struct json_object *
oracle_get(struct json_object *c, const char *path)
{
	char copy[MAX_LINE], *save = NULL, *step;
	size_t n = strlen(path);
	struct json_object *cur = c;

	if (n == 0 || n > ROPC_CLAIM_MAX_PATH || path[0] == '.' || path[n - 1] == '.' ||
	    strstr(path, "..") != NULL)
		return NULL;
	memcpy(copy, path, n + 1);
	for (step = strtok_r(copy, ".", &save); step != NULL; step = strtok_r(NULL, ".", &save)) {
		struct json_object *next = NULL;

		if (json_object_get_type(cur) != json_type_object ||
		    !json_object_object_get_ex(cur, step, &next))
			return NULL;
		cur = next;
	}
	return cur;     /* NULL for a JSON null */
}

/* --- check_jwt ------------------------------------------------------------ */

/* A finite JSON number as a long double (exact for int64 and double). */
static int
oracle_num(struct json_object *c, const char *name, long double *v)
{
	struct json_object *o = NULL;

	if (!json_object_object_get_ex(c, name, &o) || o == NULL)
		return 0;       /* missing */
	if (json_object_get_type(o) == json_type_int) {
		/* json-c holds 2^63 .. 2^64-1 as a uint64. */
		*v = json_object_get_int64(o) == INT64_MAX ?
			(long double)json_object_get_uint64(o) :
			(long double)json_object_get_int64(o);
		return 1;
	}
	if (json_object_get_type(o) == json_type_double && isfinite(json_object_get_double(o))) {
		*v = (long double)json_object_get_double(o);
		return 1;
	}
	return -1;      /* present, unusable */
}

/* now + d, as the module defines it: clamped to the int64 range. */
static long double
clamped(long long now, __int128 d)
{
	__int128 v = (__int128)now + d;

	if (v > INT64_MAX)
		v = INT64_MAX;
	if (v < INT64_MIN)
		v = INT64_MIN;
	return (long double)(long long)v;
}

static bool
oracle_jwt(struct json_object *c, const struct ropc_jwt_rules *r)
{
	struct json_object *o = NULL;
	__int128 skew = r->skew > 0 ? r->skew : 0;
	long double lo = clamped((long long)r->now, -skew), hi = clamped((long long)r->now, skew);
	long double v;
	size_t naud = 1;
	int k;

	if (json_object_get_type(c) != json_type_object)
		return false;
	if (r->issuer != NULL &&
	    (!json_object_object_get_ex(c, "iss", &o) || !str_eq(o, r->issuer)))
		return false;
	if (!json_object_object_get_ex(c, "aud", &o) || o == NULL)
		return false;
	if (json_object_get_type(o) == json_type_array) {
		bool found = false;
		size_t i;

		naud = json_object_array_length(o);
		for (i = 0; i < naud; i++) {
			struct json_object *e = json_object_array_get_idx(o, i);

			if (json_object_get_type(e) != json_type_string)
				return false;
			found = found || str_eq(e, r->audience);
		}
		if (!found)
			return false;
	} else if (!str_eq(o, r->audience)) {
		return false;
	}
	if (r->azp != NULL) {
		if (json_object_object_get_ex(c, "azp", &o) && o != NULL) {
			if (!str_eq(o, r->azp))
				return false;
		} else if (naud > 1) {
			return false;
		}
	}
	if (oracle_num(c, "exp", &v) != 1 || !(v > lo))
		return false;
	k = oracle_num(c, "nbf", &v);
	if (k < 0 || (k == 1 && v > hi))
		return false;
	k = oracle_num(c, "iat", &v);
	if (k < 0 || (k == 0 && r->require_iat) || (k == 1 && v > hi))
		return false;
	return true;
}

/* --- username ------------------------------------------------------------- */

static bool
oracle_username(struct json_object *c, const char *path, const char *expected, bool ci)
{
	struct json_object *o = oracle_get(c, path);
	const char *s;
	size_t i, n;

	if (json_object_get_type(o) != json_type_string)
		return false;
	s = json_object_get_string(o);
	n = (size_t)json_object_get_string_len(o);
	if (n != strlen(expected) || strlen(s) != n)
		return false;
	if (!ci)
		return strcmp(s, expected) == 0;
	for (i = 0; i < n; i++) {
		unsigned char a = (unsigned char)s[i], b = (unsigned char)expected[i];
		unsigned char la = a | 0x20, lb = b | 0x20;

		if (a != b && !(la == lb && la >= 'a' && la <= 'z'))
			return false;
	}
	return true;
}

/* --- scopes --------------------------------------------------------------- */

/* Whether the n bytes at s, split at spaces, hold the C string t. */
static bool
words_hold(const char *s, size_t n, const char *t)
{
	size_t tn = strlen(t);
	const char *end = s + n;

	while (s < end) {
		const char *sp = memchr(s, ' ', (size_t)(end - s));
		const char *we = sp != NULL ? sp : end;

		if ((size_t)(we - s) == tn && memcmp(s, t, tn) == 0)
			return true;
		s = we + (sp != NULL ? 1 : 0);
		if (sp == NULL)
			break;
	}
	return false;
}

/* 1 granted, 0 not, -1 the claim is of an unusable type. */
static int
oracle_scopes(struct json_object *c, const char *answer, const char *requested,
	      const char *required)
{
	struct json_object *g = NULL;
	char copy[MAX_LINE], *save = NULL, *tok;
	size_t i, n;

	if (c != NULL && (!json_object_object_get_ex(c, "scope", &g) || g == NULL))
		if (!json_object_object_get_ex(c, "scp", &g))
			g = NULL;
	if (g != NULL) {
		if (json_object_get_type(g) == json_type_array) {
			n = json_object_array_length(g);
			for (i = 0; i < n; i++)
				if (json_object_get_type(json_object_array_get_idx(g, i)) !=
				    json_type_string)
					return -1;
		} else if (json_object_get_type(g) != json_type_string) {
			return -1;
		}
	}
	snprintf(copy, sizeof(copy), "%s", required);
	for (tok = strtok_r(copy, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save)) {
		bool ok = false;

		if (g == NULL) {
			const char *s = answer != NULL ? answer : requested;

			ok = s != NULL && words_hold(s, strlen(s), tok);
		} else if (json_object_get_type(g) == json_type_string) {
			ok = words_hold(json_object_get_string(g),
					(size_t)json_object_get_string_len(g), tok);
		} else {
			n = json_object_array_length(g);
			for (i = 0; i < n && !ok; i++)
				ok = str_eq(json_object_array_get_idx(g, i), tok);
		}
		if (!ok)
			return 0;
	}
	return 1;
}

/* --- groups --------------------------------------------------------------- */

/* The n bytes at s without blanks (space, tab) at either end. */
static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

/* Whether one allowed name (a trimmed, non-empty C string) is the n bytes
 * at g. */
static bool
in_allowed(const char *allowed, const char *g, size_t n)
{
	char copy[MAX_LINE], *save = NULL, *tok;

	snprintf(copy, sizeof(copy), "%s", allowed);
	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		const char *t = tok;
		size_t tn = strlen(tok);

		trim(&t, &tn);
		if (tn > 0 && tn == n && memcmp(t, g, n) == 0)
			return true;
	}
	return false;
}

/* 1 a group in common, 0 none, -1 missing or of the wrong type. */
static int
oracle_groups(struct json_object *c, const char *path, const char *allowed)
{
	struct json_object *o = oracle_get(c, path);

	if (json_object_get_type(o) == json_type_array) {
		size_t i, n = json_object_array_length(o);

		for (i = 0; i < n; i++) {
			struct json_object *e = json_object_array_get_idx(o, i);

			if (json_object_get_type(e) == json_type_string &&
			    in_allowed(allowed, json_object_get_string(e),
				       (size_t)json_object_get_string_len(e)))
				return 1;
		}
		return 0;
	}
	if (json_object_get_type(o) == json_type_string) {
		const char *s = json_object_get_string(o), *end;

		end = s + json_object_get_string_len(o);
		while (s <= end) {
			const char *comma = memchr(s, ',', (size_t)(end - s));
			const char *ne = comma != NULL ? comma : end, *t = s;
			size_t tn = (size_t)(ne - s);

			trim(&t, &tn);
			if (tn > 0 && in_allowed(allowed, t, tn))
				return 1;
			if (comma == NULL)
				break;
			s = comma + 1;
		}
		return 0;
	}
	return -1;
}

/* --- require, text, env --------------------------------------------------- */

static bool
scalar_holds(struct json_object *o, const char *value)
{
	enum json_type t = json_object_get_type(o);

	if (t == json_type_string)
		return str_eq(o, value);
	if (t == json_type_int || t == json_type_double || t == json_type_boolean)
		return strcmp(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), value) == 0;
	return false;
}

static bool
oracle_require(struct json_object *c, const char *path, const char *value)
{
	struct json_object *o = oracle_get(c, path);
	size_t i, n;

	if (json_object_get_type(o) != json_type_array)
		return scalar_holds(o, value);
	n = json_object_array_length(o);
	for (i = 0; i < n; i++)
		if (scalar_holds(json_object_array_get_idx(o, i), value))
			return true;
	return false;
}

static void
check_text(struct json_object *c, const char *path, size_t max)
{
	struct json_object *o = oracle_get(c, path);
	char *t = ropc_claims_text(c, path, max);
	const char *want = NULL;
	size_t wn = 0, i;
	bool ok = true;

	if (o != NULL) {
		if (json_object_get_type(o) == json_type_string) {
			want = json_object_get_string(o);
			wn = (size_t)json_object_get_string_len(o);
		} else {
			want = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
			wn = strlen(want);
		}
		for (i = 0; i < wn; i++)
			if ((unsigned char)want[i] < 0x20 || (unsigned char)want[i] == 0x7f)
				ok = false;
		if (wn > max)
			ok = false;
	}
	if (t != NULL) {
		size_t n = strlen(t);

		FUZZ_CHECK("text", n <= max, "text of %zu bytes, max %zu", n, max);
		for (i = 0; i < n; i++)
			FUZZ_CHECK("text", (unsigned char)t[i] >= 0x20 && (unsigned char)t[i] != 0x7f,
				   "text holds control byte 0x%02x", (unsigned char)t[i]);
		FUZZ_CHECK("text", want != NULL && ok && n == wn && memcmp(t, want, n) == 0,
			   "text is not the claim's own text");
	} else {
		FUZZ_CHECK("text", want == NULL || !ok, "a usable claim gave no text");
	}
	free(t);
}

static void
check_env(const char *path)
{
	char out[ROPC_CLAIM_MAX_PATH + 16];
	size_t n = strlen(path), i;
	int rc = ropc_claims_env_suffix(path, out, sizeof(out));

	FUZZ_CHECK("env", (rc == 0) == (n >= 1 && n <= ROPC_CLAIM_MAX_PATH),
		   "env_suffix %d for a name of %zu bytes", rc, n);
	if (rc != 0)
		return;
	FUZZ_CHECK("env", strlen(out) == 6 + n && strncmp(out, "CLAIM_", 6) == 0,
		   "env name \"%s\" for a name of %zu bytes", out, n);
	for (i = 6; out[i] != '\0'; i++)
		FUZZ_CHECK("env", (out[i] >= 'A' && out[i] <= 'Z') ||
			   (out[i] >= '0' && out[i] <= '9') || out[i] == '_',
			   "env name holds byte 0x%02x", (unsigned char)out[i]);
	/* Too small by one byte is refused. */
	FUZZ_CHECK("env", ropc_claims_env_suffix(path, out, 6 + n) == -1,
		   "env_suffix wrote %zu bytes into %zu", 7 + n, 6 + n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p, *end = data + size;
	char path[MAX_LINE], rule[MAX_LINE], why[1024];
	struct json_tokener *tok;
	struct json_object *c, *got;
	struct ropc_jwt_rules r;
	uint8_t flags, clock;
	size_t max;
	int rc, want;
	bool ci;

	if (size < 2)
		return 0;
	flags = data[0];
	clock = data[1];
	p = take_line(data + 2, end, path, sizeof(path));
	p = take_line(p, end, rule, sizeof(rule));
	tok = json_tokener_new_ex(16);
	if (tok == NULL)
		return 0;
	c = json_tokener_parse_ex(tok, (const char *)p, (int)(end - p));
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(c);
		c = NULL;
	}
	json_tokener_free(tok);
	ci = (flags & 0x01) != 0;
	max = maxes[clock >> 6];

	/* get */
	got = ropc_claims_get(c, path);
	FUZZ_CHECK("get", got == oracle_get(c, path), "ropc_claims_get(\"%s\") disagrees", path);

	/* check_jwt */
	memset(&r, 0, sizeof(r));
	r.issuer = (flags & 0x04) ? ISS : NULL;
	r.audience = AUD;
	r.azp = (flags & 0x08) ? AZP : NULL;
	r.now = (time_t)nows[(clock >> 3) & 7];
	r.skew = skews[clock & 7];
	r.require_iat = (flags & 0x02) != 0;
	memset(why, 'x', sizeof(why));
	rc = ropc_claims_check_jwt(c, &r, why, sizeof(why));
	FUZZ_CHECK("api", rc == 0 || rc == -1, "check_jwt returned %d", rc);
	FUZZ_CHECK("jwt", (rc == 0) == oracle_jwt(c, &r),
		   "check_jwt %d (why \"%.*s\"), the oracle disagrees", rc,
		   rc ? (int)strnlen(why, sizeof(why)) : 0, why);
	check_why(why, sizeof(why), rc, "check_jwt");

	/* username */
	memset(why, 'x', sizeof(why));
	rc = ropc_claims_username(c, path, rule, ci, why, sizeof(why));
	FUZZ_CHECK("username", (rc == 0) == oracle_username(c, path, rule, ci),
		   "username %d, the oracle disagrees", rc);
	check_why(why, sizeof(why), rc, "username");

	/* scopes */
	{
		struct json_object *sc = (flags & 0x40) ? NULL : c;
		const char *answer = (flags & 0x10) ? ANSWER_SCOPE : NULL;
		const char *requested = (flags & 0x20) ? REQUESTED : NULL;

		memset(why, 'x', sizeof(why));
		rc = ropc_claims_scopes(sc, answer, requested, rule, why, sizeof(why));
		want = oracle_scopes(sc, answer, requested, rule);
		FUZZ_CHECK("scopes", (rc == 0) == (want == 1), "scopes %d, the oracle %d", rc, want);
		if (want == -1)
			FUZZ_CHECK("scopes", strstr(why, "unusable type") != NULL,
				   "an unusable scope claim refused as \"%.*s\"",
				   (int)strnlen(why, sizeof(why)), why);
		check_why(why, sizeof(why), rc, "scopes");
	}

	/* groups: 0 only when an allowed name is in the claim. */
	memset(why, 'x', sizeof(why));
	rc = ropc_claims_groups(c, path, rule, why, sizeof(why));
	want = oracle_groups(c, path, rule);
	FUZZ_CHECK("groups", (rc == 0) == (want == 1), "groups %d, the oracle %d", rc, want);
	if (want == -1 && got == NULL)
		FUZZ_CHECK("groups", strstr(why, ": missing") != NULL, "a missing claim refused as "
			   "\"%.*s\"", (int)strnlen(why, sizeof(why)), why);
	check_why(why, sizeof(why), rc, "groups");

	/* require_claim */
	memset(why, 'x', sizeof(why));
	rc = ropc_claims_require(c, path, rule, why, sizeof(why));
	FUZZ_CHECK("require", (rc == 0) == oracle_require(c, path, rule),
		   "require_claim %d, the oracle disagrees", rc);
	check_why(why, sizeof(why), rc, "require");

	check_text(c, path, max);
	check_env(path);

	/* A tiny why buffer is filled, never overrun (ASan watches). */
	{
		char small[1];

		rc = ropc_claims_check_jwt(c, &r, small, sizeof(small));
		FUZZ_CHECK("why", rc == 0 || small[0] == '\0', "a 1-byte why holds text");
		(void)ropc_claims_groups(c, path, rule, NULL, 0);
	}

	json_object_put(c);
	return 0;
}
