/*
 * verify.c: token verification and the authorization rules (see
 * verify.h).  The order is that of OpenID Connect Core §3.1.3.7: the
 * signature first (with a key the settings chose, never the token), then
 * iss, aud, azp and the times; only verified claims are looked at.
 */
#include "verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "cache.h"
#include "claims.h"
#include "fetch.h"
#include "form.h"
#include "http.h"
#include "jwks.h"
#include "jws.h"
#include "logging.h"
#include "options.h"

/* An unknown kid refetches the key set at most this often (seconds). */
#define REFETCH_INTERVAL 60

void
ropc_identity_free(struct ropc_identity *id)
{
	if (id->claims != NULL)
		ropc_json_object_done(id->claims);
	free(id->sub);
	id->claims = NULL;
	id->sub = NULL;
}

/* Decide o with a detail. */
static enum ropc_outcome
refuse(enum ropc_outcome o, char *detail, size_t n, const char *prefix, const char *what)
{
	snprintf(detail, n, "%s%s", prefix, what);
	return o;
}

/* A key set that parses (whatever keys it holds) may be cached. */
static bool
jwks_valid(struct ropc_ctx *ctx, const char *doc, size_t len, void *arg, char *why,
	   size_t whysize)
{
	struct ropc_jwks set;
	char jwhy[200];
	bool ok;

	(void)ctx;
	(void)arg;
	memset(&set, 0, sizeof(set));
	ok = ropc_jwks_parse(doc, len, &set, jwhy, sizeof(jwhy)) == 0;
	if (!ok)
		snprintf(why, whysize, "jwks: %s", jwhy);
	ropc_jwks_free(&set);
	return ok;
}

/* The key set of the settings' jwks_uri into *set.  refresh: skip a fresh
 * cached copy.  ROPC_OUT_SUCCESS, or UNAVAILABLE with detail. */
static enum ropc_outcome
load_jwks(struct ropc_ctx *ctx, bool refresh, struct ropc_jwks *set, bool *fetched,
	  char *detail, size_t n)
{
	enum ropc_fetch_source source;
	char why[300], *doc = NULL;
	size_t len = 0;
	long age = 0;

	memset(set, 0, sizeof(*set));
	if (ropc_fetch_doc(ctx, ROPC_CACHE_JWKS, ctx->settings->jwks_uri, ROPC_JWKS_MAX_DOC,
			   refresh, jwks_valid, NULL, &doc, &len, &source, &age, why,
			   sizeof(why)) < 0)
		return refuse(ROPC_OUT_UNAVAILABLE, detail, n, "", why);
	*fetched = source == ROPC_FETCH_NETWORK;
	if (ropc_jwks_parse(doc, len, set, why, sizeof(why)) < 0) {
		free(doc);
		ropc_jwks_free(set);
		return refuse(ROPC_OUT_UNAVAILABLE, detail, n, "jwks: ", why);
	}
	free(doc);
	if (set->skipped > 0)
		ropc_debug(ctx, "verify: %zu key(s) of the key set not used (%s)", set->skipped,
			   set->skipped_why);
	return ROPC_OUT_SUCCESS;
}

/* The mark of the last refetch attempt of the key set: an entry of its
 * own (its time is the attempt's), so that the key set's own time stays
 * that of its fetch. */
static void
refetch_mark(const struct ropc_settings *s, char *out, size_t outsize)
{
	snprintf(out, outsize, "refetch %s", s->jwks_uri);
}

/* Whether the key set may be fetched again now: its copy and the last
 * attempt are both at least REFETCH_INTERVAL old.  Marks the attempt. */
static bool
may_refetch(struct ropc_ctx *ctx, const char *what)
{
	const struct ropc_settings *s = ctx->settings;
	char mark[2200];
	long age, tried;

	refetch_mark(s, mark, sizeof(mark));
	age = ropc_fetch_cached_age(ctx, ROPC_CACHE_JWKS, s->jwks_uri, ROPC_JWKS_MAX_DOC);
	tried = ropc_fetch_cached_age(ctx, ROPC_CACHE_JWKS, mark, 64);
	if ((age >= 0 && age < REFETCH_INTERVAL) || (tried >= 0 && tried < REFETCH_INTERVAL)) {
		ropc_debug(ctx, "verify: key set fetched or tried less than %d s ago; not again",
			   REFETCH_INTERVAL);
		return false;
	}
	ropc_log(ctx, LOG_NOTICE, "verify: no key of the cached key set verifies the %s; "
		 "fetching %s again", what, s->jwks_uri);
	(void)ropc_cache_write(ctx, s->cache_dir, ROPC_CACHE_JWKS, mark, "{}", 2);
	return true;
}

/*
 * Verify the JWS token under rules; on success *claims is a copy of its
 * payload (the caller owns it).
 */
static enum ropc_outcome
verify_jwt(struct ropc_ctx *ctx, const char *token, const char *what,
	   const struct ropc_jwt_rules *rules, struct json_object **claims, char *detail,
	   size_t n)
{
	const struct ropc_settings *s = ctx->settings;
	struct ropc_jws jws;
	struct ropc_jwks set;
	char why[300];
	enum ropc_outcome o = ROPC_OUT_TOKEN_INVALID;

	memset(&jws, 0, sizeof(jws));
	memset(&set, 0, sizeof(set));
	*claims = NULL;
	if (ropc_jws_parse(token, &jws, why, sizeof(why)) < 0) {
		snprintf(detail, n, "%s: %s", what, why);
		goto out;
	}
	if (!s->allowed_algs[jws.alg]) {
		snprintf(detail, n, "%s: alg %s is not in allowed_algs", what,
			 ropc_jws_alg_name(jws.alg));
		goto out;
	}
	if (ropc_jws_alg_is_hmac(jws.alg)) {
		/* Core §3.1.3.7 item 8: the client secret is the key.  Never a
		 * key from the key set: an RSA public key is not a secret. */
		if (s->client_secret == NULL) {
			snprintf(detail, n, "%s: alg %s needs the client secret, and none is set",
				 what, ropc_jws_alg_name(jws.alg));
			goto out;
		}
		if (ropc_jws_verify_hmac(&jws, (const unsigned char *)s->client_secret,
					 strlen(s->client_secret), why, sizeof(why)) < 0) {
			snprintf(detail, n, "%s: %s", what, why);
			goto out;
		}
	} else {
		bool fetched = false;
		int tries;

		if (s->jwks_uri == NULL) {
			snprintf(detail, n, "%s: alg %s needs jwks_uri", what,
				 ropc_jws_alg_name(jws.alg));
			o = ROPC_OUT_MISCONFIGURED;
			goto out;
		}
		o = load_jwks(ctx, false, &set, &fetched, detail, n);
		if (o != ROPC_OUT_SUCCESS)
			goto out;
		/* With a cached key set, a token no key verifies may be the
		 * IdP's new key (rotation, with or without a kid): fetch the set
		 * again, once, at most once a minute across processes. */
		for (tries = 0;; tries++) {
			const struct ropc_jwk *key;
			bool kid_unknown = false;

			o = ROPC_OUT_TOKEN_INVALID;
			key = ropc_jwks_select(&set, &jws, &kid_unknown, why, sizeof(why));
			if (key != NULL && ropc_jws_verify_key(&jws, key->key, why, sizeof(why)) == 0)
				break;
			snprintf(detail, n, "%s: %s", what, why);
			if (tries > 0 || fetched || !may_refetch(ctx, what))
				goto out;
			ropc_jwks_free(&set);
			o = load_jwks(ctx, true, &set, &fetched, detail, n);
			if (o != ROPC_OUT_SUCCESS)
				goto out;
		}
	}
	/* Only now are the claims worth reading. */
	if (ropc_claims_check_jwt(jws.payload, rules, why, sizeof(why)) < 0) {
		snprintf(detail, n, "%s: %s", what, why);
		goto out;
	}
	if (json_object_deep_copy(jws.payload, claims, NULL) != 0 || *claims == NULL) {
		*claims = NULL;
		snprintf(detail, n, "out of memory");
		o = ROPC_OUT_INTERNAL;
		goto out;
	}
	/* For the log line: what was verified. */
	snprintf(detail, n, "%s %s%s%s verified", what, ropc_jws_alg_name(jws.alg),
		 jws.has_kid ? " kid " : "", jws.has_kid ? jws.kid : "");
	o = ROPC_OUT_SUCCESS;
out:
	ropc_jwks_free(&set);
	ropc_jws_free(&jws);
	return o;
}

/* A request of ours to an endpoint, parsed as one JSON object; NULL with
 * detail when it does not give one, and *status the HTTP status (0 when
 * none arrived). */
static struct json_object *
ask_json(struct ropc_ctx *ctx, const struct ropc_http_request *rq, long *status, char *detail,
	 size_t n)
{
	struct ropc_http_result res;
	struct json_object *o = NULL;
	char why[160];

	ropc_http_result_init(&res);
	*status = 0;
	if (ropc_http_request(ctx, rq, &res) < 0) {
		snprintf(detail, n, "%s: %s", rq->what, res.error);
	} else if (res.net != ROPC_NET_OK) {
		snprintf(detail, n, "%s: %s", rq->what,
			 res.net == ROPC_NET_TOO_BIG ? "answer larger than the 256 KiB cap" :
			 res.net == ROPC_NET_TIMEOUT ? "timed out" :
			 res.net == ROPC_NET_TLS ? "TLS failure" :
			 res.net == ROPC_NET_CONNECT ? "no connection" : "transfer failed");
	} else {
		*status = res.status;
		if (res.status != 200)
			snprintf(detail, n, "%s: HTTP %ld%s", rq->what, res.status,
				 res.status >= 300 && res.status < 400 ? " (redirect not followed)"
									: "");
		else if ((o = ropc_json_object_parse(res.body.data != NULL ? res.body.data : "",
						     res.body.len, why, sizeof(why))) == NULL)
			snprintf(detail, n, "%s: %s", rq->what, why);
	}
	ropc_http_result_free(&res);
	return o;
}

/* RFC 7662: ask whether the access token is active; its answer is the
 * claims. */
static enum ropc_outcome
introspect(struct ropc_ctx *ctx, const struct ropc_tokens *t, struct json_object **claims,
	   char *detail, size_t n)
{
	const struct ropc_settings *s = ctx->settings;
	const char *cid = s->introspection_client_id != NULL ? s->introspection_client_id
							     : s->client_id;
	const char *secret = s->introspection_client_secret != NULL
			     ? s->introspection_client_secret
			     : s->introspection_client_id == NULL ? s->client_secret : NULL;
	struct ropc_http_request rq = { .url = s->introspection_endpoint, .what = "introspection" };
	struct json_object *o, *v;
	struct ropc_buf body;
	enum ropc_outcome out = ROPC_OUT_TOKEN_INVALID;
	const char *owner = NULL;
	long status = 0;

	*claims = NULL;
	ropc_buf_init(&body, ROPC_MAX_BODY);
	if (ropc_form_add(&body, "token", t->access_token) < 0 ||
	    ropc_form_add(&body, "token_type_hint", "access_token") < 0) {
		ropc_buf_free(&body);
		snprintf(detail, n, "out of memory");
		return ROPC_OUT_INTERNAL;
	}
	if (s->client_auth == ROPC_CLIENT_AUTH_POST && cid != NULL && secret != NULL) {
		if (ropc_form_add(&body, "client_id", cid) < 0 ||
		    ropc_form_add(&body, "client_secret", secret) < 0) {
			ropc_buf_free(&body);
			snprintf(detail, n, "out of memory");
			return ROPC_OUT_INTERNAL;
		}
	} else if (secret != NULL && cid != NULL &&
		   (s->client_auth != ROPC_CLIENT_AUTH_NONE ||
		    s->introspection_client_secret != NULL)) {
		/* A secret of introspection's own is sent even when the
		 * module's client is public. */
		rq.basic_id = cid;
		rq.basic_secret = secret;
	} else if (cid != NULL && ropc_form_add(&body, "client_id", cid) < 0) {
		ropc_buf_free(&body);
		snprintf(detail, n, "out of memory");
		return ROPC_OUT_INTERNAL;
	}
	rq.body = &body;
	o = ask_json(ctx, &rq, &status, detail, n);
	ropc_buf_free(&body);
	/* 4xx: the IdP refuses our introspection credentials or request, an
	 * admin's error (never "unavailable", which a fallback forgives). */
	if (o == NULL)
		return status >= 400 && status < 500 && status != 429 ? ROPC_OUT_MISCONFIGURED
								      : ROPC_OUT_UNAVAILABLE;
	/* "active" must be the JSON value true: not "true", not 1. */
	if (!json_object_object_get_ex(o, "active", &v) ||
	    !json_object_is_type(v, json_type_boolean) || !json_object_get_boolean(v)) {
		snprintf(detail, n, "introspection: the token is not active");
		goto bad;
	}
	if (json_object_object_get_ex(o, "exp", &v) && v != NULL) {
		/* Written so that NaN (json-c reads it) fails too. */
		if (!(json_object_is_type(v, json_type_int) ||
		      json_object_is_type(v, json_type_double)) ||
		    !(json_object_get_double(v) > (double)time(NULL) - (double)s->clock_skew &&
		      json_object_get_double(v) < 1e17)) {
			snprintf(detail, n, "introspection: exp is not a time in the future");
			goto bad;
		}
	}
	/* Issued to us (onePortal writes clientId). */
	if ((json_object_object_get_ex(o, "client_id", &v) && v != NULL) ||
	    (json_object_object_get_ex(o, "clientId", &v) && v != NULL)) {
		owner = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
		if (owner == NULL || s->client_id == NULL || strcmp(owner, s->client_id) != 0) {
			snprintf(detail, n, "introspection: the token was issued to another client");
			goto bad;
		}
	}
	*claims = o;
	snprintf(detail, n, "introspection: active");
	return ROPC_OUT_SUCCESS;
bad:
	ropc_json_object_done(o);
	return out;
}

/* Append text to the detail of a success (cut when it does not fit). */
static void
note(char *detail, size_t n, const char *text)
{
	size_t used = strlen(detail);

	if (used < n)
		snprintf(detail + used, n - used, "; %s", text);
}

/* Core §5.3: userinfo's members join the claims; its sub must be the
 * verified one. */
static enum ropc_outcome
add_userinfo(struct ropc_ctx *ctx, const struct ropc_tokens *t, struct json_object *claims,
	     char *detail, size_t n)
{
	struct ropc_http_request rq = { .url = ctx->settings->userinfo_endpoint,
					.bearer = t->access_token, .what = "userinfo" };
	struct json_object *o, *sub1, *sub2;
	long status = 0;

	o = ask_json(ctx, &rq, &status, detail, n);
	/* 401/403: userinfo does not take the access token the IdP just
	 * issued; other 4xx: our request is wrong. */
	if (o == NULL)
		return status == 401 || status == 403 ? ROPC_OUT_TOKEN_INVALID
		       : status >= 400 && status < 500 && status != 429 ? ROPC_OUT_MISCONFIGURED
									 : ROPC_OUT_UNAVAILABLE;
	/* §5.3.2: userinfo's sub MUST be there, and be the verified one;
	 * without a verified sub there is nothing to bind it to. */
	if (!json_object_object_get_ex(o, "sub", &sub1) ||
	    !json_object_object_get_ex(claims, "sub", &sub2) ||
	    !json_object_is_type(sub1, json_type_string) ||
	    !json_object_is_type(sub2, json_type_string) ||
	    json_object_get_string_len(sub1) != json_object_get_string_len(sub2) ||
	    strcmp(json_object_get_string(sub1), json_object_get_string(sub2)) != 0) {
		ropc_json_object_done(o);
		snprintf(detail, n, "userinfo: its sub is missing or not the verified sub");
		return ROPC_OUT_TOKEN_INVALID;
	}
	{
		json_object_object_foreach(o, key, val) {
			struct json_object *have, *copy = NULL;

			if (json_object_object_get_ex(claims, key, &have))
				continue;       /* verified claims win */
			if (json_object_deep_copy(val, &copy, NULL) != 0) {
				ropc_json_object_done(o);
				snprintf(detail, n, "out of memory");
				return ROPC_OUT_INTERNAL;
			}
			json_object_object_add(claims, key, copy);
		}
	}
	ropc_json_object_done(o);
	note(detail, n, "userinfo joined");
	return ROPC_OUT_SUCCESS;
}

/* Append name=<its value, sanitised and cut> to seen (the debug line of
 * authorize, which ropcctl login shows). */
static void
looked_at(struct json_object *claims, const char *name, char *seen, size_t size)
{
	char *v = ropc_claims_text(claims, name, 200), shown[260];
	size_t used = strlen(seen);

	ropc_sanitize(v != NULL ? v : "(absent)", strlen(v != NULL ? v : "(absent)"), shown,
		      sizeof(shown));
	snprintf(seen + used, size - used, "%s%s=%s", used > 0 ? " " : "", name, shown);
	free(v);
}

/* The rules an admin set on the claims.  On success the detail (what
 * was verified) gets which rules held; on a refusal it says which failed. */
static enum ropc_outcome
authorize(struct ropc_ctx *ctx, const struct ropc_tokens *t, struct json_object *claims,
	  const char *idp_user, char *detail, size_t n)
{
	const struct ropc_settings *s = ctx->settings;
	char why[300];
	size_t i;

	if (s->username_claim != NULL &&
	    ropc_claims_username(claims, s->username_claim, idp_user,
				 s->username_claim_insensitive, why, sizeof(why)) < 0) {
		snprintf(detail, n, "%s", why);
		return ROPC_OUT_IDENTITY_MISMATCH;
	}
	/* The access token's own scope (jwt, introspection); an id_token
	 * says nothing about what the access token may do. */
	if (s->require_scope != NULL &&
	    ropc_claims_scopes(s->token_check == ROPC_CHECK_ID_TOKEN ? NULL : claims, t->scope,
			       s->scope, s->require_scope, why, sizeof(why)) < 0) {
		snprintf(detail, n, "require_scope: %s", why);
		return ROPC_OUT_NOT_AUTHORIZED;
	}
	if (s->allowed_groups != NULL &&
	    ropc_claims_groups(claims, s->groups_claim, s->allowed_groups, why,
			       sizeof(why)) < 0) {
		snprintf(detail, n, "%s", why);
		return ROPC_OUT_NOT_AUTHORIZED;
	}
	for (i = 0; i < s->n_require_claims; i++)
		if (ropc_claims_require(claims, s->require_claims[i].name,
					s->require_claims[i].value, why, sizeof(why)) < 0) {
			snprintf(detail, n, "require_claim %s: %s", s->require_claims[i].name, why);
			return ROPC_OUT_NOT_AUTHORIZED;
		}
	if (s->username_claim != NULL) {
		snprintf(why, sizeof(why), "%s matches", s->username_claim);
		note(detail, n, why);
	}
	if (s->require_scope != NULL)
		note(detail, n, "require_scope granted");
	if (s->allowed_groups != NULL) {
		snprintf(why, sizeof(why), "%s in allowed_groups", s->groups_claim);
		note(detail, n, why);
	}
	if (s->n_require_claims > 0)
		note(detail, n, "require_claim holds");
	if (ctx->debug) {
		char seen[900] = "";

		if (s->username_claim != NULL)
			looked_at(claims, s->username_claim, seen, sizeof(seen));
		if (s->allowed_groups != NULL)
			looked_at(claims, s->groups_claim, seen, sizeof(seen));
		for (i = 0; i < s->n_require_claims; i++)
			looked_at(claims, s->require_claims[i].name, seen, sizeof(seen));
		if (s->require_scope != NULL)
			looked_at(claims, "scope", seen, sizeof(seen));
		if (seen[0] != '\0')
			ropc_debug(ctx, "verify: the claims the rules looked at: %s", seen);
	}
	return ROPC_OUT_SUCCESS;
}

enum ropc_outcome
ropc_verify(struct ropc_ctx *ctx, const struct ropc_tokens *t, const char *idp_user,
	    struct ropc_identity *id, char *detail, size_t n)
{
	const struct ropc_settings *s = ctx->settings;
	struct ropc_jwt_rules rules = { .issuer = s->issuer, .now = time(NULL),
					.skew = s->clock_skew };
	struct json_object *claims = NULL, *sub;
	enum ropc_outcome o;
	char why[300];

	memset(id, 0, sizeof(*id));
	switch (s->token_check) {
	case ROPC_CHECK_ID_TOKEN:
		if (t->id_token == NULL)
			return refuse(ROPC_OUT_TOKEN_INVALID, detail, n, "",
				      "id_token: the answer holds none; check that openid is in scope");
		rules.audience = s->client_id;
		rules.azp = s->client_id;
		rules.require_iat = true;
		o = verify_jwt(ctx, t->id_token, "id_token", &rules, &claims, detail, n);
		break;
	case ROPC_CHECK_JWT:
		rules.audience = s->audience != NULL ? s->audience : s->client_id;
		o = verify_jwt(ctx, t->access_token, "access token", &rules, &claims, detail, n);
		break;
	case ROPC_CHECK_INTROSPECTION:
		o = introspect(ctx, t, &claims, detail, n);
		break;
	default:
		/* none: the token answer over verified TLS is all there is. */
		if (s->require_scope != NULL &&
		    ropc_claims_scopes(NULL, t->scope, s->scope, s->require_scope, why,
				       sizeof(why)) < 0)
			return refuse(ROPC_OUT_NOT_AUTHORIZED, detail, n, "require_scope: ", why);
		return ROPC_OUT_SUCCESS;
	}
	if (o != ROPC_OUT_SUCCESS)
		return o;
	if (s->userinfo) {
		o = add_userinfo(ctx, t, claims, detail, n);
		if (o != ROPC_OUT_SUCCESS) {
			ropc_json_object_done(claims);
			return o;
		}
	}
	o = authorize(ctx, t, claims, idp_user, detail, n);
	if (o != ROPC_OUT_SUCCESS) {
		ropc_json_object_done(claims);
		return o;
	}
	if (json_object_object_get_ex(claims, "sub", &sub) &&
	    json_object_is_type(sub, json_type_string)) {
		id->sub = ropc_claims_text(claims, "sub", 1024);
	}
	id->claims = claims;
	return ROPC_OUT_SUCCESS;
}

struct json_object *
ropc_verify_offline_record(const struct ropc_tokens *t, struct json_object *claims)
{
	struct json_object *rec = json_object_new_object(), *copy = NULL;

	if (rec == NULL)
		return NULL;
	if (claims != NULL && (json_object_deep_copy(claims, &copy, NULL) != 0 ||
			       json_object_object_add(rec, "claims", copy) != 0)) {
		json_object_put(copy);
		json_object_put(rec);
		return NULL;
	}
	if (t->scope != NULL &&
	    json_object_object_add(rec, "scope", json_object_new_string(t->scope)) != 0) {
		json_object_put(rec);
		return NULL;
	}
	return rec;
}

enum ropc_outcome
ropc_verify_offline(struct ropc_ctx *ctx, struct json_object *rec, const char *idp_user,
		    char *detail, size_t n)
{
	const struct ropc_settings *s = ctx->settings;
	struct ropc_tokens t;
	struct json_object *claims = NULL, *v;

	memset(&t, 0, sizeof(t));
	t.expires_in = -1;
	if (rec != NULL && json_object_object_get_ex(rec, "scope", &v) &&
	    json_object_is_type(v, json_type_string))
		t.scope = (char *)json_object_get_string(v);   /* read only */
	if (rec != NULL && json_object_object_get_ex(rec, "claims", &v) &&
	    json_object_is_type(v, json_type_object))
		claims = v;
	if (s->token_check == ROPC_CHECK_NONE) {
		char why[300];

		if (s->require_scope != NULL &&
		    ropc_claims_scopes(NULL, t.scope, s->scope, s->require_scope, why,
				       sizeof(why)) < 0)
			return refuse(ROPC_OUT_NOT_AUTHORIZED, detail, n, "require_scope: ", why);
		return ROPC_OUT_SUCCESS;
	}
	if (claims == NULL)
		return refuse(ROPC_OUT_TOKEN_INVALID, detail, n, "",
			      "offline: the entry holds no verified claims");
	return authorize(ctx, &t, claims, idp_user, detail, n);
}
