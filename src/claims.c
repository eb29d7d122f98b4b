/*
 * claims.c: the checks an administrator sets on what the IdP vouched for
 * (see claims.h).  Pure functions: no I/O, no logging, no locale.  Claim
 * values never reach why; the administrator's own values (audience, scope
 * names, required values) do, sanitised.
 */
#include "claims.h"
#include "logging.h"

#include <math.h>      /* isfinite, a macro */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for a sanitised administrator's value in why (cut with "..."). */
#define SAFE_TEXT 80
/* Room for a sanitised claim name: every byte may become \xHH. */
#define SAFE_NAME (ROPC_CLAIM_MAX_PATH * 4 + 4)

/* Fill why (when there is room) and return -1. */
static ROPC_PRINTF(3, 4) int
refuse(char *why, size_t whysize, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whysize == 0)
		return -1;
	va_start(ap, fmt);
	/* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is above */
	vsnprintf(why, whysize, fmt, ap);
	va_end(ap);
	return -1;
}

/* A C string made safe for why. */
static const char *
safe(const char *s, char *buf, size_t bufsize)
{
	return ropc_sanitize(s, s != NULL ? strlen(s) : 0, buf, bufsize);
}

/* Whether the JSON string o is exactly the n bytes at s (an embedded NUL
 * in o is part of its length, so it never equals a C string). */
static bool
string_is(struct json_object *o, const char *s, size_t n)
{
	int len;

	if (!json_object_is_type(o, json_type_string))
		return false;
	len = json_object_get_string_len(o);
	return len >= 0 && (size_t)len == n && memcmp(json_object_get_string(o), s, n) == 0;
}

struct json_object *
ropc_claims_get(struct json_object *claims, const char *path)
{
	char key[ROPC_CLAIM_MAX_PATH + 1];
	struct json_object *cur = claims;
	const char *p = path;
	size_t len;

	if (claims == NULL || path == NULL)
		return NULL;
	len = strlen(path);
	if (len == 0 || len > ROPC_CLAIM_MAX_PATH)
		return NULL;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot != NULL ? (size_t)(dot - p) : strlen(p);
		struct json_object *next = NULL;

		/* An empty step: "", ".a", "a.", "a..b". */
		if (n == 0 || !json_object_is_type(cur, json_type_object))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		if (!json_object_object_get_ex(cur, key, &next) || next == NULL)
			return NULL;    /* missing, or a JSON null */
		cur = next;
		if (dot == NULL)
			return cur;
		p = dot + 1;
	}
}

/* --- JWT times ------------------------------------------------------------ */

/* A JSON number: an integer (kept exactly) or a finite double. */
struct num {
	bool is_int;
	int64_t i;
	double d;
};

enum num_kind { NUM_MISSING, NUM_OK, NUM_NOT_A_NUMBER, NUM_NOT_FINITE };

static enum num_kind
get_num(struct json_object *claims, const char *name, struct num *out)
{
	struct json_object *o = ropc_claims_get(claims, name);

	out->is_int = false;
	out->i = 0;
	out->d = 0.0;
	if (o == NULL)
		return NUM_MISSING;
	switch (json_object_get_type(o)) {
	case json_type_int:
		out->i = json_object_get_int64(o);
		if (out->i == INT64_MAX && json_object_get_uint64(o) > (uint64_t)INT64_MAX) {
			/* json-c keeps 2^63 .. 2^64-1 as a uint64: later than
			 * every int64 time, which a double says exactly enough. */
			out->d = (double)json_object_get_uint64(o);
			return NUM_OK;
		}
		/* Below INT64_MIN json-c clamps to INT64_MIN: earlier than
		 * every clamped bound either way. */
		out->is_int = true;
		return NUM_OK;
	case json_type_double:
		/* json_tokener_parse takes NaN, Infinity and 1e400 (inf). */
		out->d = json_object_get_double(o);
		return isfinite(out->d) ? NUM_OK : NUM_NOT_FINITE;
	default:
		return NUM_NOT_A_NUMBER;
	}
}

static int64_t
sat_add(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static int64_t
sat_sub(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_sub_overflow(a, b, &r))
		return b < 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* Whether n > lim, exactly (no rounding of lim or of an integer n; no
 * libm either: the module does not link it). */
static bool
num_gt(const struct num *n, int64_t lim)
{
	int64_t t;

	if (n->is_int)
		return n->i > lim;
	if (n->d >= 9223372036854775808.0)    /* 2^63: above every int64 */
		return true;
	if (n->d < -9223372036854775808.0)
		return false;
	/* In range, so the conversion (towards zero) is defined and t is
	 * exact as a double.  t > lim: d > t - 1 >= lim (d < 0) or
	 * d >= t > lim; t < lim: d < t + 1 <= lim or d <= t < lim. */
	t = (int64_t)n->d;
	if (t != lim)
		return t > lim;
	return n->d > (double)t;
}

/* a - b in whole seconds, saturated to the int64 range; one of them is the
 * claim n, the other the integer t (n_first: n - t, else t - n). */
static long long
num_diff(const struct num *n, int64_t t, bool n_first)
{
	double diff;

	if (n->is_int)
		return (long long)(n_first ? sat_sub(n->i, t) : sat_sub(t, n->i));
	diff = n_first ? n->d - (double)t : (double)t - n->d;
	if (diff >= 9223372036854775807.0)
		return INT64_MAX;
	if (diff <= -9223372036854775807.0)
		return -INT64_MAX;
	return (long long)diff;
}

/* Why a number claim is unusable, or NULL when it is usable or missing. */
static const char *
num_problem(enum num_kind k)
{
	if (k == NUM_NOT_A_NUMBER)
		return "not a number";
	if (k == NUM_NOT_FINITE)
		return "not a finite number";
	return NULL;
}

static int
check_times(struct json_object *claims, const struct ropc_jwt_rules *r, char *why,
	    size_t whysize)
{
	int64_t now = (int64_t)r->now;
	int64_t skew = r->skew > 0 ? (int64_t)r->skew : 0;
	int64_t lo = sat_sub(now, skew), hi = sat_add(now, skew);
	struct num n;
	enum num_kind k;
	const char *bad;

	k = get_num(claims, "exp", &n);
	if (k == NUM_MISSING)
		return refuse(why, whysize, "exp: missing");
	if ((bad = num_problem(k)) != NULL)
		return refuse(why, whysize, "exp: %s", bad);
	if (!num_gt(&n, lo))
		return refuse(why, whysize, "exp: expired %lld s ago", num_diff(&n, now, false));

	k = get_num(claims, "nbf", &n);
	if ((bad = num_problem(k)) != NULL)
		return refuse(why, whysize, "nbf: %s", bad);
	if (k == NUM_OK && num_gt(&n, hi))
		return refuse(why, whysize, "nbf: not yet valid (in %lld s)", num_diff(&n, now, true));

	k = get_num(claims, "iat", &n);
	if (k == NUM_MISSING && r->require_iat)
		return refuse(why, whysize, "iat: missing");
	if ((bad = num_problem(k)) != NULL)
		return refuse(why, whysize, "iat: %s", bad);
	if (k == NUM_OK && num_gt(&n, hi))
		return refuse(why, whysize, "iat: in the future (by %lld s)", num_diff(&n, now, true));
	return 0;
}

/* --- JWT audience --------------------------------------------------------- */

/* aud holds audience; *count gets its number of audiences. */
static int
check_aud(struct json_object *claims, const char *audience, size_t *count, char *why,
	  size_t whysize)
{
	struct json_object *aud = ropc_claims_get(claims, "aud");
	size_t alen = strlen(audience);
	bool found = false;

	*count = 0;
	if (aud == NULL)
		return refuse(why, whysize, "aud: missing");
	if (json_object_is_type(aud, json_type_string)) {
		*count = 1;
		found = string_is(aud, audience, alen);
	} else if (json_object_is_type(aud, json_type_array)) {
		size_t i, n = json_object_array_length(aud);

		if (n == 0)
			return refuse(why, whysize, "aud: an empty array");
		for (i = 0; i < n; i++) {
			struct json_object *e = json_object_array_get_idx(aud, i);

			if (!json_object_is_type(e, json_type_string))
				return refuse(why, whysize, "aud: an array with a non-string element");
			if (string_is(e, audience, alen))
				found = true;
		}
		*count = n;
	} else {
		return refuse(why, whysize, "aud: not a string or an array");
	}
	if (!found) {
		char sa[SAFE_TEXT];

		return refuse(why, whysize, "aud: does not contain \"%s\"",
			      safe(audience, sa, sizeof(sa)));
	}
	return 0;
}

int
ropc_claims_check_jwt(struct json_object *claims, const struct ropc_jwt_rules *r, char *why,
		      size_t whysize)
{
	struct json_object *o;
	size_t naud = 0;

	if (r == NULL || !json_object_is_type(claims, json_type_object))
		return refuse(why, whysize, "claims: not a JSON object");
	if (r->audience == NULL)
		return refuse(why, whysize, "aud: no audience to check against");

	if (r->issuer != NULL) {
		o = ropc_claims_get(claims, "iss");
		if (o == NULL)
			return refuse(why, whysize, "iss: missing");
		if (!json_object_is_type(o, json_type_string))
			return refuse(why, whysize, "iss: not a string");
		if (!string_is(o, r->issuer, strlen(r->issuer)))
			return refuse(why, whysize, "iss: does not match the issuer");
	}

	if (check_aud(claims, r->audience, &naud, why, whysize) < 0)
		return -1;

	if (r->azp != NULL) {
		o = ropc_claims_get(claims, "azp");
		if (o == NULL && naud > 1)
			return refuse(why, whysize, "azp: missing with several audiences");
		if (o != NULL && !json_object_is_type(o, json_type_string))
			return refuse(why, whysize, "azp: not a string");
		if (o != NULL && !string_is(o, r->azp, strlen(r->azp)))
			return refuse(why, whysize, "azp: not the client");
	}

	return check_times(claims, r, why, whysize);
}

/* --- username ------------------------------------------------------------- */

static unsigned char
ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* n bytes each: equal, folding only the ASCII letters A-Z when fold. */
static bool
same_name(const char *a, const char *b, size_t n, bool fold)
{
	size_t i;

	if (!fold)
		return memcmp(a, b, n) == 0;
	for (i = 0; i < n; i++)
		if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
			return false;
	return true;
}

int
ropc_claims_username(struct json_object *claims, const char *path, const char *expected,
		     bool case_insensitive, char *why, size_t whysize)
{
	char sn[SAFE_NAME];
	struct json_object *o;
	size_t n;
	int len;

	if (path == NULL || expected == NULL)
		return refuse(why, whysize, "username_claim: nothing to compare");
	o = ropc_claims_get(claims, path);
	if (o == NULL)
		return refuse(why, whysize, "%s: missing", safe(path, sn, sizeof(sn)));
	if (!json_object_is_type(o, json_type_string))
		return refuse(why, whysize, "%s: not a string", safe(path, sn, sizeof(sn)));
	len = json_object_get_string_len(o);
	n = strlen(expected);
	if (len < 0 || (size_t)len != n ||
	    !same_name(json_object_get_string(o), expected, n, case_insensitive))
		return refuse(why, whysize, "%s: names another account",
			      safe(path, sn, sizeof(sn)));
	return 0;
}

/* --- scopes --------------------------------------------------------------- */

/* Whether the space-separated list s (n bytes) has the token t (tn bytes). */
static bool
list_has(const char *s, size_t n, const char *t, size_t tn)
{
	size_t i = 0;

	while (i < n) {
		size_t start;

		while (i < n && s[i] == ' ')
			i++;
		start = i;
		while (i < n && s[i] != ' ')
			i++;
		if (i > start && i - start == tn && memcmp(s + start, t, tn) == 0)
			return true;
	}
	return false;
}

/* Whether the grant holds scope t: a JSON string or array of strings (o),
 * else the C string s. */
static bool
grant_has(struct json_object *o, const char *s, const char *t, size_t tn)
{
	size_t i, n;

	if (o == NULL)
		return s != NULL && list_has(s, strlen(s), t, tn);
	if (json_object_is_type(o, json_type_string)) {
		int len = json_object_get_string_len(o);

		return len > 0 && list_has(json_object_get_string(o), (size_t)len, t, tn);
	}
	n = json_object_array_length(o);
	for (i = 0; i < n; i++)
		if (string_is(json_object_array_get_idx(o, i), t, tn))
			return true;
	return false;
}

/* Whether o is a string, or an array whose elements are all strings. */
static bool
usable_scope(struct json_object *o)
{
	size_t i, n;

	if (json_object_is_type(o, json_type_string))
		return true;
	if (!json_object_is_type(o, json_type_array))
		return false;
	n = json_object_array_length(o);
	for (i = 0; i < n; i++)
		if (!json_object_is_type(json_object_array_get_idx(o, i), json_type_string))
			return false;
	return true;
}

int
ropc_claims_scopes(struct json_object *claims, const char *answer_scope,
		   const char *requested, const char *required, char *why, size_t whysize)
{
	struct json_object *grant = NULL;
	const char *text = NULL, *from, *p;
	char st[SAFE_TEXT];

	if (required == NULL)
		return 0;
	if (claims != NULL) {
		const char *name = "scope";

		grant = ropc_claims_get(claims, name);
		if (grant == NULL) {
			name = "scp";
			grant = ropc_claims_get(claims, name);
		}
		if (grant != NULL && !usable_scope(grant))
			return refuse(why, whysize, "%s: scope claim of an unusable type", name);
	}
	if (grant != NULL) {
		from = "the token's claims";
	} else if (answer_scope != NULL) {
		text = answer_scope;
		from = "the token answer";
	} else {
		text = requested;
		from = "the request";
	}

	p = required;
	while (*p != '\0') {
		size_t tn;

		while (*p == ' ')
			p++;
		tn = strcspn(p, " ");
		if (tn > 0 && !grant_has(grant, text, p, tn)) {
			char tok[SAFE_TEXT];
			size_t cut = tn < sizeof(tok) - 1 ? tn : sizeof(tok) - 1;

			memcpy(tok, p, cut);
			tok[cut] = '\0';
			return refuse(why, whysize, "scope: \"%s\" not granted by %s",
				      safe(tok, st, sizeof(st)), from);
		}
		p += tn;
	}
	return 0;
}

/* --- groups --------------------------------------------------------------- */

static bool
blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The next comma-separated name of s[*i..n), blanks around it trimmed;
 * false when no bytes are left.  *len may be 0 (an empty name). */
static bool
next_name(const char *s, size_t n, size_t *i, const char **name, size_t *len)
{
	size_t start, end;

	if (*i >= n)
		return false;
	start = *i;
	end = start;
	while (end < n && s[end] != ',')
		end++;
	*i = end < n ? end + 1 : n;
	while (start < end && blank(s[start]))
		start++;
	while (end > start && blank(s[end - 1]))
		end--;
	*name = s + start;
	*len = end - start;
	return true;
}

/* Whether allowed (comma-separated) names the n bytes at g. */
static bool
allowed_has(const char *allowed, const char *g, size_t n)
{
	size_t i = 0, alen = strlen(allowed), len;
	const char *name;

	if (n == 0)
		return false;
	while (next_name(allowed, alen, &i, &name, &len))
		if (len == n && memcmp(name, g, n) == 0)
			return true;
	return false;
}

int
ropc_claims_groups(struct json_object *claims, const char *path, const char *allowed,
		   char *why, size_t whysize)
{
	char sn[SAFE_NAME];
	struct json_object *o;
	int slen;

	if (path == NULL || allowed == NULL)
		return refuse(why, whysize, "allowed_groups: nothing to compare");
	o = ropc_claims_get(claims, path);
	if (o == NULL)
		return refuse(why, whysize, "%s: missing", safe(path, sn, sizeof(sn)));
	if (json_object_is_type(o, json_type_array)) {
		size_t i, n = json_object_array_length(o);

		for (i = 0; i < n; i++) {
			struct json_object *e = json_object_array_get_idx(o, i);

			if (!json_object_is_type(e, json_type_string))
				continue;
			slen = json_object_get_string_len(e);
			if (slen > 0 && allowed_has(allowed, json_object_get_string(e), (size_t)slen))
				return 0;
		}
	} else if (json_object_is_type(o, json_type_string)) {
		const char *s = json_object_get_string(o), *name;
		size_t i = 0, len;

		slen = json_object_get_string_len(o);
		while (slen > 0 && next_name(s, (size_t)slen, &i, &name, &len))
			if (allowed_has(allowed, name, len))
				return 0;
	} else {
		return refuse(why, whysize, "%s: not an array or a string",
			      safe(path, sn, sizeof(sn)));
	}
	return refuse(why, whysize, "%s: none of allowed_groups", safe(path, sn, sizeof(sn)));
}

/* --- require_claim -------------------------------------------------------- */

/* Whether the scalar o holds value (n bytes): a string equal to it, or a
 * number or boolean whose JSON text equals it. */
static bool
holds(struct json_object *o, const char *value, size_t n)
{
	const char *t;

	switch (json_object_get_type(o)) {
	case json_type_string:
		return string_is(o, value, n);
	case json_type_int:
	case json_type_double:
	case json_type_boolean:
		t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
		return t != NULL && strlen(t) == n && memcmp(t, value, n) == 0;
	default:
		return false;   /* null, object; arrays are handled by the caller */
	}
}

int
ropc_claims_require(struct json_object *claims, const char *path, const char *value,
		    char *why, size_t whysize)
{
	char sn[SAFE_NAME], sv[SAFE_TEXT];
	struct json_object *o;
	size_t vlen;

	if (path == NULL || value == NULL)
		return refuse(why, whysize, "require_claim: nothing to compare");
	o = ropc_claims_get(claims, path);
	if (o == NULL)
		return refuse(why, whysize, "%s: missing", safe(path, sn, sizeof(sn)));
	vlen = strlen(value);
	if (json_object_is_type(o, json_type_array)) {
		/* One level: an element holds the value when it is a scalar
		 * that does; nested arrays and objects never do. */
		size_t i, n = json_object_array_length(o);

		for (i = 0; i < n; i++) {
			struct json_object *e = json_object_array_get_idx(o, i);

			if (e != NULL && !json_object_is_type(e, json_type_array) &&
			    holds(e, value, vlen))
				return 0;
		}
	} else if (holds(o, value, vlen)) {
		return 0;
	}
	return refuse(why, whysize, "%s: does not hold \"%s\"", safe(path, sn, sizeof(sn)),
		      safe(value, sv, sizeof(sv)));
}

/* --- text and environment names ------------------------------------------ */

static bool
has_control(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return true;
	return false;
}

char *
ropc_claims_text(struct json_object *claims, const char *path, size_t max)
{
	struct json_object *o = ropc_claims_get(claims, path);
	const char *t;
	size_t n;
	char *out;

	if (o == NULL)
		return NULL;
	if (json_object_is_type(o, json_type_string)) {
		int len = json_object_get_string_len(o);

		if (len < 0)
			return NULL;
		t = json_object_get_string(o);
		n = (size_t)len;        /* an embedded NUL counts, and is refused */
	} else {
		t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						   JSON_C_TO_STRING_NOSLASHESCAPE);
		if (t == NULL)
			return NULL;
		n = strlen(t);
	}
	if (n > max || has_control(t, n))
		return NULL;
	out = malloc(n + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, t, n);
	out[n] = '\0';
	return out;
}

int
ropc_claims_env_suffix(const char *name, char *out, size_t outsize)
{
	static const char prefix[] = "CLAIM_";
	size_t n, i, plen = sizeof(prefix) - 1;

	if (out != NULL && outsize > 0)
		out[0] = '\0';
	if (name == NULL || out == NULL)
		return -1;
	n = strlen(name);
	if (n == 0 || n > ROPC_CLAIM_MAX_PATH || outsize < plen + n + 1)
		return -1;
	memcpy(out, prefix, plen);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c >= 'a' && c <= 'z')
			c = (unsigned char)(c - 'a' + 'A');
		else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			c = '_';
		out[plen + i] = (char)c;
	}
	out[plen + n] = '\0';
	return 0;
}
