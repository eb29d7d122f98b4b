/*
 * claims.h: what the IdP vouched for, and the rules an administrator sets
 * on it.  Claims are one JSON object (json-c): the verified id_token or
 * JWT payload, or the introspection answer, with userinfo's members added.
 * Names may be dotted paths ("realm_access.roles") that walk objects.
 * Every function here is pure: no I/O, no logging; each refusal comes with
 * a sentence for the log in why (claim names and the admin's values only,
 * never a token).
 */
#ifndef ROPC_CLAIMS_H
#define ROPC_CLAIMS_H

#include <time.h>
#include <json-c/json.h>
#include "common.h"

#define ROPC_CLAIM_MAX_PATH 128

/* The member at path (dotted: "a.b.c" walks objects), or NULL when a step
 * is missing or not an object.  A path with an empty step is never found. */
ROPC_HIDDEN struct json_object *ropc_claims_get(struct json_object *claims, const char *path);

/* The time and audience rules of a JWT (OpenID Connect Core §3.1.3.7,
 * RFC 7519 §4.1). */
struct ropc_jwt_rules {
	const char *issuer;     /* "iss" must equal it exactly; NULL: not checked */
	const char *audience;   /* "aud" (string or array) must contain it */
	const char *azp;        /* id_tokens: with several audiences "azp" must be
				 * present and equal it; when "azp" is present it
				 * must equal it.  NULL: not checked */
	time_t now;
	long skew;              /* seconds allowed for clocks that disagree */
	bool require_iat;       /* id_tokens carry iat */
};

/*
 * Check claims against r: iss, aud, azp, "exp" present, a number, and
 * later than now - skew; "iat" (when required, or present) a number not
 * later than now + skew; "nbf", when present, a number not later than
 * now + skew.  Returns 0, or -1 with why naming the failed check
 * ("exp: expired 120 s ago", "aud: does not contain the client", ...).
 */
ROPC_HIDDEN int ropc_claims_check_jwt(struct json_object *claims,
				      const struct ropc_jwt_rules *r, char *why,
				      size_t whysize);

/*
 * username_claim: the claim at path must be a string equal to expected
 * (exactly, or ASCII-case-insensitively with case_insensitive).  Returns 0,
 * or -1 with why (missing, not a string, or a different value; the value
 * itself is not in why).
 */
ROPC_HIDDEN int ropc_claims_username(struct json_object *claims, const char *path,
				     const char *expected, bool case_insensitive,
				     char *why, size_t whysize);

/*
 * require_scope: every space-separated scope of required is granted.  The
 * grant is the claims' own "scope" (a space-separated string or an array
 * of strings) when claims is not NULL and has one; else answer_scope (the
 * token answer's "scope" member); else, when that is NULL too, requested
 * (RFC 6749 §5.1: absent means as requested).  0, or -1 with why naming
 * the first missing scope.
 */
ROPC_HIDDEN int ropc_claims_scopes(struct json_object *claims, const char *answer_scope,
				   const char *requested, const char *required, char *why,
				   size_t whysize);

/*
 * allowed_groups: the claim at path is an array of strings, or one string
 * of comma-separated names (blanks around names ignored); the user holds
 * at least one of allowed (comma-separated).  0, or -1 with why (the claim
 * missing, of the wrong type, or no group in common).
 */
ROPC_HIDDEN int ropc_claims_groups(struct json_object *claims, const char *path,
				   const char *allowed, char *why, size_t whysize);

/*
 * require_claim NAME=VALUE: the claim at path holds value: a string equal
 * to it; an array with an element that holds it; a number or boolean
 * whose JSON text equals it ("true", "42").  0, or -1 with why.
 */
ROPC_HIDDEN int ropc_claims_require(struct json_object *claims, const char *path,
				    const char *value, char *why, size_t whysize);

/*
 * The text of the claim at path for the PAM environment: strings as they
 * are; numbers, booleans, arrays and objects as their JSON text.  A new
 * string, or NULL when the claim is missing, is null, holds a control
 * character or a NUL, or is longer than max bytes.
 */
ROPC_HIDDEN char *ropc_claims_text(struct json_object *claims, const char *path, size_t max);

/*
 * The environment name suffix of claim name: "CLAIM_" and the name upper
 * case, every byte that is not a letter or digit as "_" ("realm_access.roles"
 * gives "CLAIM_REALM_ACCESS_ROLES").  0, or -1 when it does not fit.
 */
ROPC_HIDDEN int ropc_claims_env_suffix(const char *name, char *out, size_t outsize);

#endif
