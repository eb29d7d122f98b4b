/*
 * test-claims.c: the claim rules of claims.h on claims parsed from literal
 * JSON: dotted paths, the JWT checks of OpenID Connect Core §3.1.3.7 and
 * RFC 7519 §4.1 with their boundaries, username, scope, group and
 * require_claim matching, the text for the PAM environment and the names
 * it goes under.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "claims.h"
#include "tap.h"

#define NOW ((time_t)1700000000)
#define SKEW 60L
#define ISS "https://idp.example.com"
#define AUD "client-1"

static char whybuf[256];

/* The claims of a literal JSON text; a test that cannot parse its own
 * input is broken, so say so loudly. */
static struct json_object *
parse(const char *json)
{
	struct json_object *o = json_tokener_parse(json);

	if (o == NULL) {
		tap_diag("test input does not parse: %s", json);
		CHECK(0, "test input parses");
	}
	return o;
}

static void
clear_why(void)
{
	memset(whybuf, 0, sizeof(whybuf));
}

/* --- ropc_claims_get ------------------------------------------------------ */

static void
test_get(void)
{
	struct json_object *c = parse("{\"sub\":\"u1\",\"realm_access\":{\"roles\":[\"a\",\"b\"],"
				      "\"none\":null,\"deep\":{\"x\":{\"y\":7}}},"
				      "\"a\":{\"\":{\"b\":1}},\"\":{\"a\":2},\"nul\":null,"
				      "\"f\":false,\"z\":0}");
	struct json_object *o;
	char path[ROPC_CLAIM_MAX_PATH + 2], json[ROPC_CLAIM_MAX_PATH + 32];

	o = ropc_claims_get(c, "sub");
	CHECK_STR(o != NULL ? json_object_get_string(o) : NULL, "u1", "get: top-level member");
	o = ropc_claims_get(c, "realm_access.roles");
	CHECK(json_object_is_type(o, json_type_array) && json_object_array_length(o) == 2,
	      "get: realm_access.roles is the array");
	o = ropc_claims_get(c, "realm_access.deep.x.y");
	CHECK_INT(o != NULL ? json_object_get_int(o) : -1, 7, "get: four steps deep");
	CHECK_NULL(ropc_claims_get(c, "realm_access.missing"), "get: missing last step");
	CHECK_NULL(ropc_claims_get(c, "nothere.roles"), "get: missing first step");
	CHECK_NULL(ropc_claims_get(c, "sub.x"), "get: step through a string");
	CHECK_NULL(ropc_claims_get(c, "realm_access.roles.0"), "get: step through an array");
	CHECK_NULL(ropc_claims_get(c, "nul"), "get: a JSON null is missing");
	CHECK_NULL(ropc_claims_get(c, "realm_access.none"), "get: a nested JSON null is missing");
	CHECK_NULL(ropc_claims_get(c, "nul.x"), "get: step through a JSON null");
	o = ropc_claims_get(c, "f");
	CHECK(json_object_is_type(o, json_type_boolean), "get: false is found, not missing");
	o = ropc_claims_get(c, "z");
	CHECK(json_object_is_type(o, json_type_int), "get: 0 is found, not missing");
	CHECK_NULL(ropc_claims_get(c, ""), "get: empty path");
	CHECK_NULL(ropc_claims_get(c, ".a"), "get: leading dot (the \"\" member exists)");
	CHECK_NULL(ropc_claims_get(c, "sub."), "get: trailing dot");
	CHECK_NULL(ropc_claims_get(c, "a..b"), "get: empty middle step (a.\"\".b exists)");
	CHECK_NULL(ropc_claims_get(c, "."), "get: a lone dot");
	CHECK_NULL(ropc_claims_get(NULL, "sub"), "get: NULL claims");
	CHECK_NULL(ropc_claims_get(c, NULL), "get: NULL path");
	json_object_put(c);

	/* A name of exactly ROPC_CLAIM_MAX_PATH bytes is found; one byte more
	 * is refused (the member exists in both cases). */
	memset(path, 'k', ROPC_CLAIM_MAX_PATH);
	path[ROPC_CLAIM_MAX_PATH] = '\0';
	snprintf(json, sizeof(json), "{\"%s\":1}", path);
	c = parse(json);
	CHECK_NOT_NULL(ropc_claims_get(c, path), "get: path of ROPC_CLAIM_MAX_PATH bytes");
	json_object_put(c);
	memset(path, 'k', ROPC_CLAIM_MAX_PATH + 1);
	path[ROPC_CLAIM_MAX_PATH + 1] = '\0';
	snprintf(json, sizeof(json), "{\"%s\":1}", path);
	c = parse(json);
	CHECK_NULL(ropc_claims_get(c, path), "get: path of ROPC_CLAIM_MAX_PATH + 1 bytes");
	json_object_put(c);
}

/* --- ropc_claims_check_jwt ------------------------------------------------ */

static struct ropc_jwt_rules
rules(void)
{
	struct ropc_jwt_rules r;

	memset(&r, 0, sizeof(r));
	r.issuer = ISS;
	r.audience = AUD;
	r.azp = NULL;
	r.now = NOW;
	r.skew = SKEW;
	r.require_iat = true;
	return r;
}

/*
 * Check json against r: rc must be want; on a refusal why must contain
 * want_why (one more check).  Returns whether the rc matched.
 */
static int
jwt(const char *json, const struct ropc_jwt_rules *r, int want, const char *want_why,
    const char *what)
{
	struct json_object *c = parse(json);
	int rc, ok;

	clear_why();
	rc = ropc_claims_check_jwt(c, r, whybuf, sizeof(whybuf));
	ok = CHECK_INT(rc, want, "jwt: %s -> %d", what, want);
	if (!ok)
		tap_diag("why: %s", whybuf);
	if (want_why != NULL)
		CHECK_CONTAINS(whybuf, want_why, "jwt: %s: why says \"%s\"", what, want_why);
	json_object_put(c);
	return ok;
}

/* A token whose time claims are given as JSON text (NULL: left out). */
static const char *
timed(char *buf, size_t n, const char *exp, const char *nbf, const char *iat)
{
	int len = snprintf(buf, n, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\"");

	if (exp != NULL)
		len += snprintf(buf + len, n - (size_t)len, ",\"exp\":%s", exp);
	if (nbf != NULL)
		len += snprintf(buf + len, n - (size_t)len, ",\"nbf\":%s", nbf);
	if (iat != NULL)
		len += snprintf(buf + len, n - (size_t)len, ",\"iat\":%s", iat);
	snprintf(buf + len, n - (size_t)len, "}");
	return buf;
}

/* The decimal text of NOW + d. */
static const char *
at(char *buf, size_t n, long long d)
{
	snprintf(buf, n, "%lld", (long long)NOW + d);
	return buf;
}

static void
test_jwt_iss_aud(void)
{
	struct ropc_jwt_rules r = rules();

#define T(rest) "{\"exp\":1700000300,\"iat\":1699999990" rest "}"
	jwt(T(",\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"nbf\":1699999990"), &r, 0, NULL,
	    "a valid id_token");

	/* iss */
	jwt(T(",\"iss\":\"https://other.example.com\",\"aud\":\"" AUD "\""), &r, -1,
	    "iss: does not match the issuer", "another issuer");
	jwt(T(",\"iss\":\"" ISS "/\",\"aud\":\"" AUD "\""), &r, -1,
	    "iss: does not match the issuer", "issuer with a trailing slash");
	jwt(T(",\"iss\":\"HTTPS://IDP.EXAMPLE.COM\",\"aud\":\"" AUD "\""), &r, -1,
	    "iss: does not match the issuer", "issuer in another case");
	jwt(T(",\"iss\":\"" ISS "\\u0000x\",\"aud\":\"" AUD "\""), &r, -1,
	    "iss: does not match the issuer", "issuer with an embedded NUL");
	jwt(T(",\"aud\":\"" AUD "\""), &r, -1, "iss: missing", "iss missing");
	jwt(T(",\"iss\":null,\"aud\":\"" AUD "\""), &r, -1, "iss: missing", "iss null");
	jwt(T(",\"iss\":[\"" ISS "\"],\"aud\":\"" AUD "\""), &r, -1, "iss: not a string",
	    "iss an array");
	r.issuer = NULL;
	jwt(T(",\"iss\":\"https://other.example.com\",\"aud\":\"" AUD "\""), &r, 0, NULL,
	    "no issuer rule: iss not checked");
	jwt(T(",\"aud\":\"" AUD "\""), &r, 0, NULL, "no issuer rule: iss may be missing");
	r.issuer = ISS;

	/* aud */
	jwt(T(",\"iss\":\"" ISS "\""), &r, -1, "aud: missing", "aud missing");
	jwt(T(",\"iss\":\"" ISS "\",\"aud\":null"), &r, -1, "aud: missing", "aud null");
	jwt(T(",\"iss\":\"" ISS "\",\"aud\":\"client-2\""), &r, -1,
	    "aud: does not contain \"client-1\"", "aud another string");
	jwt(T(",\"iss\":\"" ISS "\",\"aud\":\"client-10\""), &r, -1,
	    "aud: does not contain", "aud a longer string");
	jwt(T(",\"iss\":\"" ISS "\",\"aud\":\"CLIENT-1\""), &r, -1,
	    "aud: does not contain", "aud in another case");
	jwt(T(",\"iss\":\"" ISS "\",\"aud\":[\"api\",\"" AUD "\"]"), &r, 0, NULL,
	    "aud an array that contains the client");
	jwt(T(",\"iss\":\"" ISS "\",\"aud\":[\"" AUD "\"]"), &r, 0, NULL,
	    "aud an array of the client alone");
	jwt(T(",\"iss\":\"" ISS "\",\"aud\":[\"api\",\"client-2\"]"), &r, -1,
	    "aud: does not contain \"client-1\"", "aud an array without the client");
	jwt(T(",\"iss\":\"" ISS "\",\"aud\":[\"" AUD "\",5]"), &r, -1,
	    "aud: an array with a non-string element", "aud array with a number");
	jwt(T(",\"iss\":\"" ISS "\",\"aud\":[null,\"" AUD "\"]"), &r, -1,
	    "aud: an array with a non-string element", "aud array with a null");
	jwt(T(",\"iss\":\"" ISS "\",\"aud\":[]"), &r, -1, "aud: an empty array",
	    "aud an empty array");
	jwt(T(",\"iss\":\"" ISS "\",\"aud\":7"), &r, -1, "aud: not a string or an array",
	    "aud a number");
	jwt(T(",\"iss\":\"" ISS "\",\"aud\":{\"" AUD "\":true}"), &r, -1,
	    "aud: not a string or an array", "aud an object");
	r.audience = "cli\"ent\n";
	jwt(T(",\"iss\":\"" ISS "\",\"aud\":\"x\""), &r, -1,
	    "aud: does not contain \"cli\\\"ent\\x0a\"", "the audience in why is sanitised");
	r.audience = NULL;
	jwt(T(",\"iss\":\"" ISS "\",\"aud\":\"" AUD "\""), &r, -1, "aud:",
	    "no audience rule is refused");
	r.audience = AUD;

	/* azp */
	r.azp = AUD;
	jwt(T(",\"iss\":\"" ISS "\",\"aud\":\"" AUD "\""), &r, 0, NULL,
	    "azp rule, one audience, azp absent");
	jwt(T(",\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"azp\":\"" AUD "\""), &r, 0, NULL,
	    "azp rule, one audience, azp the client");
	jwt(T(",\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"azp\":\"client-2\""), &r, -1,
	    "azp: not the client", "azp rule, one audience, azp another client");
	jwt(T(",\"iss\":\"" ISS "\",\"aud\":[\"" AUD "\"],\"azp\":\"client-2\""), &r, -1,
	    "azp: not the client", "azp rule, one-element array, azp another client");
	jwt(T(",\"iss\":\"" ISS "\",\"aud\":[\"" AUD "\"]"), &r, 0, NULL,
	    "azp rule, one-element array, azp absent");
	jwt(T(",\"iss\":\"" ISS "\",\"aud\":[\"" AUD "\",\"api\"]"), &r, -1,
	    "azp: missing with several audiences", "azp rule, two audiences, azp absent");
	jwt(T(",\"iss\":\"" ISS "\",\"aud\":[\"" AUD "\",\"api\"],\"azp\":null"), &r, -1,
	    "azp: missing with several audiences", "azp rule, two audiences, azp null");
	jwt(T(",\"iss\":\"" ISS "\",\"aud\":[\"" AUD "\",\"api\"],\"azp\":\"" AUD "\""), &r,
	    0, NULL, "azp rule, two audiences, azp the client");
	jwt(T(",\"iss\":\"" ISS "\",\"aud\":[\"" AUD "\",\"api\"],\"azp\":\"api\""), &r, -1,
	    "azp: not the client", "azp rule, two audiences, azp another client");
	jwt(T(",\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"azp\":[\"" AUD "\"]"), &r, -1,
	    "azp: not a string", "azp rule, azp an array");
	jwt(T(",\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"azp\":\"" AUD "\\u0000\""), &r, -1,
	    "azp: not the client", "azp rule, azp with an embedded NUL");
	r.azp = NULL;
	jwt(T(",\"iss\":\"" ISS "\",\"aud\":[\"" AUD "\",\"api\"]"), &r, 0, NULL,
	    "no azp rule, two audiences, azp absent");
	jwt(T(",\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"azp\":\"client-2\""), &r, 0, NULL,
	    "no azp rule, azp another client");
#undef T

	/* Not a JSON object at all. */
	jwt("[1,2]", &r, -1, "claims: not a JSON object", "claims an array");
	clear_why();
	CHECK_INT(ropc_claims_check_jwt(NULL, &r, whybuf, sizeof(whybuf)), -1, "jwt: NULL claims");
	CHECK_INT(ropc_claims_check_jwt(NULL, NULL, NULL, 0), -1,
		  "jwt: NULL rules and no why buffer");
}

static void
test_jwt_times(void)
{
	struct ropc_jwt_rules r = rules();
	char b[512], e[32], n[32], i[32];

	/* exp */
	jwt(timed(b, sizeof(b), at(e, sizeof(e), -SKEW), NULL, NULL), &r, -1,
	    "exp: expired 60 s ago", "exp exactly now - skew is refused");
	jwt(timed(b, sizeof(b), at(e, sizeof(e), -SKEW + 1), NULL, at(i, sizeof(i), 0)), &r, 0,
	    NULL, "exp now - skew + 1 is accepted");
	jwt(timed(b, sizeof(b), at(e, sizeof(e), -90), NULL, at(i, sizeof(i), -100)), &r, -1,
	    "exp: expired 90 s ago", "exp 90 s ago");
	jwt(timed(b, sizeof(b), NULL, NULL, at(i, sizeof(i), 0)), &r, -1, "exp: missing",
	    "exp missing");
	jwt(timed(b, sizeof(b), "null", NULL, at(i, sizeof(i), 0)), &r, -1, "exp: missing",
	    "exp null");
	jwt(timed(b, sizeof(b), "\"1700000300\"", NULL, at(i, sizeof(i), 0)), &r, -1,
	    "exp: not a number", "exp a string of digits");
	jwt(timed(b, sizeof(b), "true", NULL, at(i, sizeof(i), 0)), &r, -1,
	    "exp: not a number", "exp a boolean");
	jwt(timed(b, sizeof(b), "[1700000300]", NULL, at(i, sizeof(i), 0)), &r, -1,
	    "exp: not a number", "exp an array");
	jwt(timed(b, sizeof(b), "NaN", NULL, at(i, sizeof(i), 0)), &r, -1,
	    "exp: not a finite number", "exp NaN (json-c's lenient parser)");
	jwt(timed(b, sizeof(b), "1e400", NULL, at(i, sizeof(i), 0)), &r, -1,
	    "exp: not a finite number", "exp 1e400 (infinite)");
	jwt(timed(b, sizeof(b), "1699999940.5", NULL, at(i, sizeof(i), 0)), &r, 0, NULL,
	    "exp now - skew + 0.5 (double) is accepted");
	jwt(timed(b, sizeof(b), "1699999940.0", NULL, at(i, sizeof(i), 0)), &r, -1,
	    "exp: expired 60 s ago", "exp now - skew as a double is refused");
	jwt(timed(b, sizeof(b), "1699999939.9", NULL, at(i, sizeof(i), 0)), &r, -1,
	    "exp: expired", "exp just under now - skew (double) is refused");
	jwt(timed(b, sizeof(b), "1e300", NULL, at(i, sizeof(i), 0)), &r, 0, NULL,
	    "exp 1e300 is accepted");
	jwt(timed(b, sizeof(b), "-1e300", NULL, at(i, sizeof(i), 0)), &r, -1,
	    "exp: expired 9223372036854775807 s ago", "exp -1e300: expired, saturated");
	jwt(timed(b, sizeof(b), "9223372036854775807", NULL, at(i, sizeof(i), 0)), &r, 0,
	    NULL, "exp INT64_MAX is accepted");
	jwt(timed(b, sizeof(b), "18446744073709551615", NULL, at(i, sizeof(i), 0)), &r, 0,
	    NULL, "exp UINT64_MAX is accepted");
	jwt(timed(b, sizeof(b), "-9223372036854775808", NULL, at(i, sizeof(i), 0)), &r, -1,
	    "exp: expired 9223372036854775807 s ago", "exp INT64_MIN: expired, saturated");

	/* nbf */
	jwt(timed(b, sizeof(b), at(e, sizeof(e), 300), at(n, sizeof(n), SKEW),
		  at(i, sizeof(i), 0)), &r, 0, NULL, "nbf exactly now + skew is accepted");
	jwt(timed(b, sizeof(b), at(e, sizeof(e), 300), at(n, sizeof(n), SKEW + 1),
		  at(i, sizeof(i), 0)), &r, -1, "nbf: not yet valid (in 61 s)",
	    "nbf now + skew + 1 is refused");
	jwt(timed(b, sizeof(b), at(e, sizeof(e), 300), at(n, sizeof(n), 120 + SKEW),
		  at(i, sizeof(i), 0)), &r, -1, "nbf: not yet valid (in 180 s)",
	    "nbf 180 s ahead");
	jwt(timed(b, sizeof(b), at(e, sizeof(e), 300), "\"0\"", at(i, sizeof(i), 0)), &r, -1,
	    "nbf: not a number", "nbf a string");
	jwt(timed(b, sizeof(b), at(e, sizeof(e), 300), "null", at(i, sizeof(i), 0)), &r, 0,
	    NULL, "nbf null is absent");
	jwt(timed(b, sizeof(b), at(e, sizeof(e), 300), "1e300", at(i, sizeof(i), 0)), &r, -1,
	    "nbf: not yet valid", "nbf 1e300 is refused");
	jwt(timed(b, sizeof(b), at(e, sizeof(e), 300), "-1e300", at(i, sizeof(i), 0)), &r, 0,
	    NULL, "nbf -1e300 is accepted");
	jwt(timed(b, sizeof(b), at(e, sizeof(e), 300), "1700000060.5", at(i, sizeof(i), 0)),
	    &r, -1, "nbf: not yet valid", "nbf now + skew + 0.5 (double) is refused");

	/* iat */
	jwt(timed(b, sizeof(b), at(e, sizeof(e), 300), NULL, at(i, sizeof(i), SKEW)), &r, 0,
	    NULL, "iat exactly now + skew is accepted");
	jwt(timed(b, sizeof(b), at(e, sizeof(e), 300), NULL, at(i, sizeof(i), SKEW + 1)), &r,
	    -1, "iat: in the future", "iat now + skew + 1 is refused");
	jwt(timed(b, sizeof(b), at(e, sizeof(e), 300), NULL, NULL), &r, -1, "iat: missing",
	    "iat required and missing");
	jwt(timed(b, sizeof(b), at(e, sizeof(e), 300), NULL, "false"), &r, -1,
	    "iat: not a number", "iat a boolean");
	r.require_iat = false;
	jwt(timed(b, sizeof(b), at(e, sizeof(e), 300), NULL, NULL), &r, 0, NULL,
	    "iat not required and missing");
	jwt(timed(b, sizeof(b), at(e, sizeof(e), 300), NULL, at(i, sizeof(i), SKEW + 1)), &r,
	    -1, "iat: in the future", "iat not required but present in the future");
	jwt(timed(b, sizeof(b), at(e, sizeof(e), 300), NULL, "\"x\""), &r, -1,
	    "iat: not a number", "iat not required but present as a string");

	/* skew */
	r.skew = -100;
	jwt(timed(b, sizeof(b), at(e, sizeof(e), 0), NULL, NULL), &r, -1,
	    "exp: expired 0 s ago", "negative skew counts as 0: exp now refused");
	jwt(timed(b, sizeof(b), at(e, sizeof(e), 1), NULL, NULL), &r, 0, NULL,
	    "negative skew counts as 0: exp now + 1 accepted");
	jwt(timed(b, sizeof(b), at(e, sizeof(e), 10), at(n, sizeof(n), 1), NULL), &r, -1,
	    "nbf: not yet valid (in 1 s)", "negative skew counts as 0: nbf now + 1 refused");
	r.skew = 0;
	jwt(timed(b, sizeof(b), at(e, sizeof(e), 10), at(n, sizeof(n), 0), at(i, sizeof(i), 0)),
	    &r, 0, NULL, "skew 0: nbf and iat now accepted");
	r.skew = LONG_MAX;
	jwt(timed(b, sizeof(b), "-9000000000000000000", "9223372036854775807",
		  "9223372036854775807"), &r, 0, NULL,
	    "skew LONG_MAX: now + skew saturates, far times accepted");
	r.skew = SKEW;
	r.now = (time_t)INT64_MAX;
	jwt(timed(b, sizeof(b), "9223372036854775747", NULL, NULL), &r, -1,
	    "exp: expired 60 s ago", "now INT64_MAX: exp now - skew refused");
	jwt(timed(b, sizeof(b), "9223372036854775748", "9223372036854775807", NULL), &r, 0,
	    NULL, "now INT64_MAX: exp now - skew + 1, nbf INT64_MAX accepted");
	r.skew = 0;
	jwt(timed(b, sizeof(b), "9223372036854775808", NULL, NULL), &r, 0, NULL,
	    "now INT64_MAX, skew 0: exp 2^63 (a uint64 in json-c) accepted");
	jwt(timed(b, sizeof(b), "9223372036854775807", NULL, NULL), &r, -1,
	    "exp: expired 0 s ago", "now INT64_MAX, skew 0: exp INT64_MAX refused");
	jwt(timed(b, sizeof(b), "9223372036854775808", "9223372036854775808", NULL), &r, -1,
	    "nbf: not yet valid", "now INT64_MAX, skew 0: nbf 2^63 refused");
}

/* --- ropc_claims_username ------------------------------------------------- */

static void
user(const char *json, const char *path, const char *expected, bool ci, int want,
     const char *want_why, const char *what)
{
	struct json_object *c = parse(json);
	int rc;

	clear_why();
	rc = ropc_claims_username(c, path, expected, ci, whybuf, sizeof(whybuf));
	if (!CHECK_INT(rc, want, "username: %s -> %d", what, want))
		tap_diag("why: %s", whybuf);
	if (want_why != NULL)
		CHECK_STR(whybuf, want_why, "username: %s: why", what);
	json_object_put(c);
}

static void
test_username(void)
{
	const char *pu = "preferred_username";

	user("{\"preferred_username\":\"alice\"}", pu, "alice", false, 0, NULL, "exact");
	user("{\"preferred_username\":\"bob\"}", pu, "alice", false, -1,
	     "preferred_username: names another account", "another name");
	user("{\"preferred_username\":\"Alice\"}", pu, "alice", false, -1, NULL,
	     "case differs, exact");
	user("{\"preferred_username\":\"Alice\"}", pu, "alice", true, 0, NULL,
	     "case differs, case-insensitive");
	user("{\"preferred_username\":\"ALICE.SMITH\"}", pu, "alice.smith", true, 0, NULL,
	     "all upper, case-insensitive");
	user("{\"preferred_username\":\"\\u00c9LODIE\"}", pu, "\xc3\xa9lodie", true, -1,
	     "preferred_username: names another account",
	     "ÉLODIE vs élodie, case-insensitive (ASCII only)");
	user("{\"preferred_username\":\"\\u00c9LODIE\"}", pu, "\xc3\x89lodie", true, 0, NULL,
	     "ÉLODIE vs Élodie, case-insensitive (É bytes equal)");
	user("{\"preferred_username\":\"\\u00e9lodie\"}", pu, "\xc3\xa9lodie", false, 0, NULL,
	     "élodie exact");
	user("{\"preferred_username\":\"a@b\"}", pu, "a`b", true, -1, NULL,
	     "@ and ` differ only by 0x20 but are not letters");
	user("{\"preferred_username\":\"a[b\"}", pu, "a{b", true, -1, NULL,
	     "[ and { differ only by 0x20 but are not letters");
	user("{\"preferred_username\":\"alic\"}", pu, "alice", true, -1, NULL, "a prefix");
	user("{\"preferred_username\":\"alice2\"}", pu, "alice", true, -1, NULL, "longer");
	user("{\"preferred_username\":\"\"}", pu, "alice", true, -1, NULL, "empty claim");
	user("{\"preferred_username\":\"alice\\u0000\"}", pu, "alice", false, -1,
	     "preferred_username: names another account", "trailing embedded NUL");
	user("{\"preferred_username\":\"alice\\u0000x\"}", pu, "alice", true, -1, NULL,
	     "embedded NUL, case-insensitive");
	user("{\"sub\":\"alice\"}", pu, "alice", false, -1, "preferred_username: missing",
	     "missing");
	user("{\"preferred_username\":null}", pu, "alice", false, -1,
	     "preferred_username: missing", "null");
	user("{\"preferred_username\":42}", pu, "42", false, -1,
	     "preferred_username: not a string", "a number");
	user("{\"preferred_username\":[\"alice\"]}", pu, "alice", false, -1,
	     "preferred_username: not a string", "an array");
	user("{\"user\":{\"name\":\"Alice\"}}", "user.name", "ALICE", true, 0, NULL,
	     "dotted path");
	user("{\"email\":\"x\"}", "email", "y", false, -1, "email: names another account",
	     "why names the claim given");
	user("{\"preferred_username\":\"alice\"}", pu, NULL, false, -1, NULL,
	     "NULL expected is refused");

	/* Neither the claim's value nor the expected name is in why. */
	{
		struct json_object *c = parse("{\"preferred_username\":\"mallory\"}");

		clear_why();
		ropc_claims_username(c, pu, "trent", true, whybuf, sizeof(whybuf));
		CHECK(strstr(whybuf, "mallory") == NULL && strstr(whybuf, "trent") == NULL,
		      "username: why holds neither name (\"%s\")", whybuf);
		json_object_put(c);
	}
}

/* --- ropc_claims_scopes --------------------------------------------------- */

static void
scopes(const char *json, const char *answer, const char *requested, const char *required,
       int want, const char *want_why, const char *what)
{
	struct json_object *c = json != NULL ? parse(json) : NULL;
	int rc;

	clear_why();
	rc = ropc_claims_scopes(c, answer, requested, required, whybuf, sizeof(whybuf));
	if (!CHECK_INT(rc, want, "scopes: %s -> %d", what, want))
		tap_diag("why: %s", whybuf);
	if (want_why != NULL)
		CHECK_CONTAINS(whybuf, want_why, "scopes: %s: why says \"%s\"", what, want_why);
	json_object_put(c);
}

static void
test_scopes(void)
{
	const char *s3 = "{\"scope\":\"openid profile email\"}";

	scopes(s3, NULL, NULL, NULL, 0, NULL, "nothing required (NULL)");
	scopes(s3, NULL, NULL, "", 0, NULL, "nothing required (empty)");
	scopes(NULL, NULL, NULL, "   ", 0, NULL, "only spaces required, no grant at all");
	scopes(s3, NULL, NULL, "openid  email", 0, NULL, "two of three, double space");
	scopes(s3, NULL, NULL, "  email ", 0, NULL, "blanks around the required scope");
	scopes(s3, NULL, NULL, "openid groups", -1, "scope: \"groups\" not granted",
	       "one not granted");
	scopes(s3, NULL, NULL, "OpenID", -1, "\"OpenID\" not granted", "case differs");
	scopes(s3, NULL, NULL, "open", -1, "\"open\" not granted", "a prefix of a scope");
	scopes(s3, NULL, NULL, "file", -1, "\"file\" not granted", "inside a scope");
	scopes(s3, NULL, NULL, "email groups admin", -1, "\"groups\"",
	       "why names the first missing scope");
	scopes("{\"scope\":\"openid   email \"}", NULL, NULL, "email", 0, NULL,
	       "grant with several spaces");
	scopes("{\"scope\":[\"openid\",\"email\"]}", NULL, NULL, "email openid", 0, NULL,
	       "grant an array");
	scopes("{\"scope\":[\"openid\",\"email\"]}", NULL, NULL, "profile", -1,
	       "\"profile\" not granted by the token's claims", "array without it");
	scopes("{\"scope\":[\"openid email\"]}", NULL, NULL, "email", -1, "\"email\"",
	       "array elements are not split");
	scopes("{\"scope\":[\"openid\",3]}", NULL, NULL, "openid", -1,
	       "scope claim of an unusable type", "array with a number");
	scopes("{\"scope\":42}", "openid", NULL, "openid", -1,
	       "scope claim of an unusable type", "scope a number (no fallback)");
	scopes("{\"scope\":{\"openid\":true}}", NULL, NULL, "openid", -1,
	       "scope claim of an unusable type", "scope an object");
	scopes("{\"scp\":[\"api.read\",\"api.write\"]}", NULL, NULL, "api.write", 0, NULL,
	       "scp array (Okta, Entra)");
	scopes("{\"scp\":\"api.read api.write\"}", NULL, NULL, "api.read", 0, NULL,
	       "scp string");
	scopes("{\"scp\":[true]}", NULL, NULL, "api.read", -1,
	       "scp: scope claim of an unusable type", "scp array with a boolean");
	scopes("{\"scope\":\"a\",\"scp\":[\"b\"]}", NULL, NULL, "b", -1, "\"b\" not granted",
	       "scope comes before scp");
	scopes("{\"scope\":\"openid\"}", "openid email", NULL, "email", -1,
	       "not granted by the token's claims", "the claims' scope comes before the answer");
	scopes("{\"scope\":\"\"}", "openid", "openid", "openid", -1, "\"openid\" not granted",
	       "an empty scope claim grants nothing");
	scopes("{\"sub\":\"x\"}", "openid email", NULL, "email", 0, NULL,
	       "no scope claim: the answer's scope");
	scopes("{\"scope\":null}", "openid email", NULL, "email", 0, NULL,
	       "scope null: the answer's scope");
	scopes(NULL, "openid email", "openid profile", "email", 0, NULL,
	       "no claims: the answer's scope");
	scopes(NULL, "openid email", "openid profile", "profile", -1,
	       "\"profile\" not granted by the token answer",
	       "the answer's scope comes before the request");
	scopes(NULL, NULL, "openid profile", "profile openid", 0, NULL,
	       "no answer scope: as requested");
	scopes("{\"sub\":\"x\"}", NULL, "openid profile", "email", -1,
	       "\"email\" not granted by the request", "not requested either");
	scopes(NULL, NULL, NULL, "openid", -1, "\"openid\" not granted", "no grant at all");
	scopes(NULL, "", "openid", "openid", -1, "\"openid\" not granted",
	       "an empty answer scope is not absent");
}

/* --- ropc_claims_groups --------------------------------------------------- */

static void
groups(const char *json, const char *path, const char *allowed, int want,
       const char *want_why, const char *what)
{
	struct json_object *c = parse(json);
	int rc;

	clear_why();
	rc = ropc_claims_groups(c, path, allowed, whybuf, sizeof(whybuf));
	if (!CHECK_INT(rc, want, "groups: %s -> %d", what, want))
		tap_diag("why: %s", whybuf);
	if (want_why != NULL)
		CHECK_STR(whybuf, want_why, "groups: %s: why", what);
	json_object_put(c);
}

static void
test_groups(void)
{
	const char *g = "groups";

	groups("{\"groups\":[\"admins\",\"users\"]}", g, "ops, users", 0, NULL,
	       "array, second allowed name");
	groups("{\"groups\":[\"admins\",\"users\"]}", g, "admins", 0, NULL, "array, one name");
	groups("{\"groups\":[\"admins\",\"users\"]}", g, "ops,dev", -1,
	       "groups: none of allowed_groups", "array, none in common");
	groups("{\"groups\":[\"Admins\"]}", g, "admins", -1, NULL, "case differs");
	groups("{\"groups\":[\"admin\"]}", g, "admins", -1, NULL, "a prefix of an allowed name");
	groups("{\"groups\":[\"admins\"]}", g, "admin", -1, NULL, "allowed a prefix of a group");
	groups("{\"groups\":[\" admins\"]}", g, "admins", -1, NULL,
	       "array elements are exact (not trimmed)");
	groups("{\"groups\":[1,null,true,{\"a\":\"admins\"},[\"admins\"],\"admins\"]}", g,
	       "admins", 0, NULL, "non-string elements ignored, the string found");
	groups("{\"groups\":[1,true]}", g, "1,true", -1, "groups: none of allowed_groups",
	       "non-string elements never match");
	groups("{\"groups\":[\"admins\\u0000x\"]}", g, "admins", -1, NULL,
	       "element with an embedded NUL");
	groups("{\"groups\":[]}", g, "admins", -1, "groups: none of allowed_groups",
	       "empty array");
	groups("{\"groups\":[\"\"]}", g, "admins,", -1, NULL, "empty element, empty allowed name");
	groups("{\"groups\":\"admins, users ,ops\"}", g, "ops", 0, NULL,
	       "comma string, last name");
	groups("{\"groups\":\"admins, users ,ops\"}", g, " users ", 0, NULL,
	       "comma string, blanks on both sides");
	groups("{\"groups\":\"a,\\tstaff\\t\"}", g, "x,staff", 0, NULL, "comma string with tabs");
	groups("{\"groups\":\"admins\"}", g, "admins", 0, NULL, "a single name as a string");
	groups("{\"groups\":\"admins users\"}", g, "admins", -1, NULL,
	       "names are comma-separated, not space-separated");
	groups("{\"groups\":\"\"}", g, "admins", -1, "groups: none of allowed_groups",
	       "empty string");
	groups("{\"groups\":\",, ,\"}", g, " , ,", -1, "groups: none of allowed_groups",
	       "empty names on both sides are ignored");
	groups("{\"groups\":\"ops,\\u0000,dev\"}", g, "dev", 0, NULL,
	       "comma string with a NUL name, later name found");
	groups("{\"groups\":[\"admins\"]}", g, "", -1, NULL, "empty allowed list");
	groups("{\"roles\":[\"admins\"]}", g, "admins", -1, "groups: missing", "missing");
	groups("{\"groups\":null}", g, "admins", -1, "groups: missing", "null");
	groups("{\"groups\":7}", g, "7", -1, "groups: not an array or a string", "a number");
	groups("{\"groups\":{\"admins\":true}}", g, "admins", -1,
	       "groups: not an array or a string", "an object");
	groups("{\"realm_access\":{\"roles\":[\"offline_access\",\"pam-login\"]}}",
	       "realm_access.roles", "pam-login", 0, NULL, "Keycloak realm_access.roles");
	groups("{\"realm_access\":{}}", "realm_access.roles", "pam-login", -1,
	       "realm_access.roles: missing", "why names the claim path");
}

/* --- ropc_claims_require -------------------------------------------------- */

static void
require(const char *json, const char *path, const char *value, int want, const char *what)
{
	struct json_object *c = parse(json);
	int rc;

	clear_why();
	rc = ropc_claims_require(c, path, value, whybuf, sizeof(whybuf));
	if (!CHECK_INT(rc, want, "require: %s -> %d", what, want))
		tap_diag("why: %s", whybuf);
	json_object_put(c);
}

static void
test_require(void)
{
	struct json_object *c;

	require("{\"dept\":\"finance\"}", "dept", "finance", 0, "string equal");
	require("{\"dept\":\"finance\"}", "dept", "Finance", -1, "string, case differs");
	require("{\"dept\":\"finance\"}", "dept", "fin", -1, "string, a prefix");
	require("{\"dept\":\"finance\\u0000x\"}", "dept", "finance", -1,
		"string with an embedded NUL");
	require("{\"dept\":\"42\"}", "dept", "42", 0, "a string of digits");
	require("{\"n\":42}", "n", "42", 0, "integer");
	require("{\"n\":-7}", "n", "-7", 0, "negative integer");
	require("{\"n\":42}", "n", "42.0", -1, "integer vs 42.0");
	require("{\"n\":42}", "n", "4", -1, "integer vs a prefix of its text");
	require("{\"n\":1.5}", "n", "1.5", 0, "double");
	require("{\"n\":1.50}", "n", "1.50", 0, "double keeps its JSON text");
	require("{\"n\":1.50}", "n", "1.5", -1, "double 1.50 is not \"1.5\"");
	require("{\"b\":true}", "b", "true", 0, "true");
	require("{\"b\":false}", "b", "false", 0, "false");
	require("{\"b\":true}", "b", "True", -1, "true vs True");
	require("{\"b\":true}", "b", "1", -1, "true vs 1");
	require("{\"a\":[\"x\",\"finance\"]}", "a", "finance", 0, "array of strings");
	require("{\"a\":[1,2]}", "a", "2", 0, "array of numbers");
	require("{\"a\":[false,true]}", "a", "true", 0, "array of booleans");
	require("{\"a\":[null,\"x\"]}", "a", "x", 0, "array with a null");
	require("{\"a\":[\"x\"]}", "a", "y", -1, "array without it");
	require("{\"a\":[]}", "a", "", -1, "empty array");
	require("{\"a\":[[\"finance\"]]}", "a", "finance", -1, "nested array does not hold");
	require("{\"a\":[{\"finance\":1}]}", "a", "finance", -1, "object element does not hold");
	require("{\"o\":{\"a\":1}}", "o", "{\"a\":1}", -1, "object vs its own JSON text");
	require("{\"o\":{}}", "o", "{}", -1, "empty object");
	require("{\"x\":1}", "dept", "finance", -1, "missing");
	require("{\"dept\":null}", "dept", "null", -1, "null is missing");
	require("{\"org\":{\"dept\":\"finance\"}}", "org.dept", "finance", 0, "dotted path");

	c = parse("{\"dept\":\"sales\"}");
	clear_why();
	ropc_claims_require(c, "dept", "finance", whybuf, sizeof(whybuf));
	CHECK_STR(whybuf, "dept: does not hold \"finance\"", "require: why names claim and value");
	clear_why();
	ropc_claims_require(c, "team", "finance", whybuf, sizeof(whybuf));
	CHECK_STR(whybuf, "team: missing", "require: why for a missing claim");
	json_object_put(c);
}

/* --- ropc_claims_text ----------------------------------------------------- */

static void
text(const char *json, const char *path, size_t max, const char *want, const char *what)
{
	struct json_object *c = parse(json);
	char *t = ropc_claims_text(c, path, max);

	CHECK_STR(t, want, "text: %s", what);
	free(t);
	json_object_put(c);
}

static void
test_text(void)
{
	text("{\"s\":\"alice\"}", "s", 64, "alice", "string as it is");
	text("{\"s\":\"a/b\"}", "s", 64, "a/b", "string with a slash");
	text("{\"s\":\"\\u00e9lodie\"}", "s", 64, "\xc3\xa9lodie", "UTF-8 kept");
	text("{\"s\":\"\"}", "s", 0, "", "empty string, max 0");
	text("{\"s\":\"alice\"}", "s", 5, "alice", "exactly max bytes");
	text("{\"s\":\"alice\"}", "s", 4, NULL, "one byte over max");
	text("{\"s\":\"a\\nb\"}", "s", 64, NULL, "newline");
	text("{\"s\":\"a\\tb\"}", "s", 64, NULL, "tab");
	text("{\"s\":\"a\\u001fb\"}", "s", 64, NULL, "0x1f");
	text("{\"s\":\"a\\u007fb\"}", "s", 64, NULL, "DEL");
	text("{\"s\":\"ab\\u0000\"}", "s", 64, NULL, "embedded NUL");
	text("{\"s\":\" a~\"}", "s", 64, " a~", "space and ~ are not control characters");
	text("{\"n\":42}", "n", 64, "42", "integer");
	text("{\"n\":-1.25}", "n", 64, "-1.25", "double");
	text("{\"b\":false}", "b", 64, "false", "boolean");
	text("{\"a\":[\"x\",\"y/z\",1]}", "a", 64, "[\"x\",\"y/z\",1]",
	     "array as plain JSON, slash not escaped");
	text("{\"o\":{\"a\":{\"b\":[1,\"https://x/y\"]},\"c\":null}}", "o", 64,
	     "{\"a\":{\"b\":[1,\"https://x/y\"]},\"c\":null}", "nested object");
	text("{\"o\":{\"a\":\"x\\ny\"}}", "o", 64, "{\"a\":\"x\\ny\"}",
	     "newline inside an object is escaped by JSON, so allowed");
	text("{\"a\":[\"\\u007f\"]}", "a", 64, NULL, "raw DEL in the JSON text");
	text("{\"a\":[1,2]}", "a", 5, "[1,2]", "array text of exactly max bytes");
	text("{\"a\":[1,2]}", "a", 4, NULL, "array text over max");
	text("{\"o\":{\"p\":{\"q\":\"deep\"}}}", "o.p.q", 64, "deep", "dotted path");
	text("{\"s\":\"x\"}", "t", 64, NULL, "missing");
	text("{\"s\":null}", "s", 64, NULL, "null");
	CHECK_NULL(ropc_claims_text(NULL, "s", 64), "text: NULL claims");
}

/* --- ropc_claims_env_suffix ----------------------------------------------- */

static void
suffix(const char *name, size_t outsize, int want, const char *want_out, const char *what)
{
	char out[512];
	int rc;

	memset(out, 'x', sizeof(out));
	rc = ropc_claims_env_suffix(name, out, outsize);
	CHECK_INT(rc, want, "env_suffix: %s -> %d", what, want);
	if (want_out != NULL)
		CHECK_STR(out, want_out, "env_suffix: %s: name", what);
}

static void
test_env_suffix(void)
{
	char name[ROPC_CLAIM_MAX_PATH + 2], want[ROPC_CLAIM_MAX_PATH + 8];

	suffix("realm_access.roles", 64, 0, "CLAIM_REALM_ACCESS_ROLES", "realm_access.roles");
	suffix("email", 64, 0, "CLAIM_EMAIL", "email");
	suffix("x-Y9z", 64, 0, "CLAIM_X_Y9Z", "dash, upper case and digit");
	suffix("https://a.b/c", 64, 0, "CLAIM_HTTPS___A_B_C", "URL-style claim name");
	suffix("\xc3\xa9t\xc3\xa9", 64, 0, "CLAIM___T__", "UTF-8 bytes each become _");
	suffix("a b\x7f", 64, 0, "CLAIM_A_B_", "space and DEL");
	suffix("", 64, -1, "", "empty name");
	suffix(NULL, 64, -1, "", "NULL name");
	suffix("email", 12, 0, "CLAIM_EMAIL", "exactly fits");
	suffix("email", 11, -1, "", "one byte short");
	suffix("email", 1, -1, "", "room for the NUL only");
	suffix("email", 0, -1, NULL, "no room at all");
	CHECK_INT(ropc_claims_env_suffix("email", NULL, 64), -1, "env_suffix: NULL out");

	memset(name, 'a', ROPC_CLAIM_MAX_PATH);
	name[ROPC_CLAIM_MAX_PATH] = '\0';
	memcpy(want, "CLAIM_", 6);
	memset(want + 6, 'A', ROPC_CLAIM_MAX_PATH);
	want[6 + ROPC_CLAIM_MAX_PATH] = '\0';
	suffix(name, 512, 0, want, "name of ROPC_CLAIM_MAX_PATH bytes");
	name[ROPC_CLAIM_MAX_PATH] = 'a';
	name[ROPC_CLAIM_MAX_PATH + 1] = '\0';
	suffix(name, 512, -1, "", "name of ROPC_CLAIM_MAX_PATH + 1 bytes");
}

int
main(void)
{
	test_get();
	test_jwt_iss_aud();
	test_jwt_times();
	test_username();
	test_scopes();
	test_groups();
	test_require();
	test_text();
	test_env_suffix();
	return tap_done();
}
