/*
 * discovery.c: the endpoints from the issuer's discovery document (see
 * discovery.h).  Never refuses a document for what it leaves out that the
 * module does not need: Glewlwyd's, for one, does not list "password" in
 * grant_types_supported, and the password grant works.
 */
#include "discovery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <json-c/json.h>

#include "cache.h"
#include "fetch.h"
#include "logging.h"
#include "options.h"
#include "response.h"
#include <syslog.h>

#define MAX_DISCOVERY ((size_t)64 * 1024)

int
ropc_discovery_url(const char *issuer, char *out, size_t outsize)
{
	size_t n = strlen(issuer);
	int w;

	if (n > 0 && issuer[n - 1] == '/')
		n--;
	w = snprintf(out, outsize, "%.*s/.well-known/openid-configuration", (int)n, issuer);
	return w < 0 || (size_t)w >= outsize ? -1 : 0;
}

/* Take the document's member name into *slot when the settings left it
 * unset.  0, or -1 with why when the member is there but unusable. */
static int
take_endpoint(struct json_object *doc, const char *name, char **slot, char *why,
	      size_t whysize)
{
	struct json_object *v;
	const char *bad;
	char *url = NULL;

	if (*slot != NULL)
		return 0;               /* the config wins */
	if (!json_object_object_get_ex(doc, name, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string) ||
	    strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v)) {
		snprintf(why, whysize, "discovery: %s is not a string", name);
		return -1;
	}
	bad = ropc_settings_https_url(json_object_get_string(v), &url);
	if (bad != NULL) {
		snprintf(why, whysize, "discovery: %s %s", name, bad);
		return -1;
	}
	*slot = strdup(url);
	curl_free(url);
	if (*slot == NULL) {
		snprintf(why, whysize, "out of memory");
		return -1;
	}
	return 0;
}

/* §4.3: the document's issuer is the one the settings name, byte for
 * byte; a document that says otherwise is never used or cached. */
static bool
issuer_matches(struct ropc_ctx *ctx, const char *data, size_t len, void *arg, char *why,
	       size_t whysize)
{
	const char *issuer = ctx->settings->issuer;
	struct json_object *doc = ropc_json_object_parse(data, len, why, whysize), *iss;
	bool ok;

	(void)arg;
	if (doc == NULL)
		return false;
	ok = json_object_object_get_ex(doc, "issuer", &iss) &&
	     json_object_is_type(iss, json_type_string) &&
	     strlen(issuer) == (size_t)json_object_get_string_len(iss) &&
	     strcmp(json_object_get_string(iss), issuer) == 0;
	if (!ok)
		snprintf(why, whysize, "discovery: the document names another issuer than %s",
			 issuer);
	ropc_json_object_done(doc);
	return ok;
}

/* An endpoint the chosen checks do not need: a bad one is logged and
 * left out, not fatal. */
static void
take_optional(struct ropc_ctx *ctx, struct json_object *doc, const char *name, char **slot)
{
	char why[300];

	if (take_endpoint(doc, name, slot, why, sizeof(why)) < 0)
		ropc_log(ctx, LOG_WARNING, "%s; not used", why);
}

enum ropc_discovery_rc
ropc_discovery_resolve(struct ropc_ctx *ctx, char *why, size_t whysize)
{
	struct ropc_settings *s = ctx->settings;
	enum ropc_fetch_source source;
	struct json_object *doc;
	char url[2200], jwhy[160], *data = NULL;
	size_t len = 0;
	long age = 0;
	enum ropc_discovery_rc rc = ROPC_DISCOVERY_MISCONFIGURED;

	if (s->issuer == NULL)
		return ROPC_DISCOVERY_OK;
	if (ropc_discovery_url(s->issuer, url, sizeof(url)) < 0) {
		snprintf(why, whysize, "discovery: the issuer is too long");
		return ROPC_DISCOVERY_MISCONFIGURED;
	}
	switch (ropc_fetch_doc(ctx, ROPC_CACHE_DISCOVERY, url, MAX_DISCOVERY, false,
			       issuer_matches, NULL, &data, &len, &source, &age, why, whysize)) {
	case 0:
		break;
	case -2:
		return ROPC_DISCOVERY_MISCONFIGURED;
	case -3:
		return ROPC_DISCOVERY_UNREACHABLE;
	default:
		return ROPC_DISCOVERY_UNAVAILABLE;
	}
	doc = ropc_json_object_parse(data, len, jwhy, sizeof(jwhy));
	free(data);
	if (doc == NULL) {
		snprintf(why, whysize, "discovery: %s", jwhy);
		return ROPC_DISCOVERY_UNAVAILABLE;
	}
	/* (issuer_matches checked the issuer before the document was used.)
	 * What the checks need must be usable; the rest is taken if it is. */
	if (take_endpoint(doc, "token_endpoint", &s->token_endpoint, why, whysize) < 0)
		goto out;
	if (s->token_check == ROPC_CHECK_ID_TOKEN || s->token_check == ROPC_CHECK_JWT) {
		if (take_endpoint(doc, "jwks_uri", &s->jwks_uri, why, whysize) < 0)
			goto out;
	} else {
		take_optional(ctx, doc, "jwks_uri", &s->jwks_uri);
	}
	if (s->token_check == ROPC_CHECK_INTROSPECTION) {
		if (take_endpoint(doc, "introspection_endpoint", &s->introspection_endpoint, why,
				  whysize) < 0)
			goto out;
	} else {
		take_optional(ctx, doc, "introspection_endpoint", &s->introspection_endpoint);
	}
	if (s->userinfo) {
		if (take_endpoint(doc, "userinfo_endpoint", &s->userinfo_endpoint, why, whysize) < 0)
			goto out;
	} else {
		take_optional(ctx, doc, "userinfo_endpoint", &s->userinfo_endpoint);
	}
	take_optional(ctx, doc, "device_authorization_endpoint",
		      &s->device_authorization_endpoint);
	if (s->token_endpoint == NULL) {
		snprintf(why, whysize, "discovery: no token_endpoint in the document");
		goto out;
	}
	if ((s->token_check == ROPC_CHECK_ID_TOKEN || s->token_check == ROPC_CHECK_JWT) &&
	    s->jwks_uri == NULL) {
		bool only_hmac = true;
		int i;

		for (i = 0; i < ROPC_JWS_ALG_COUNT; i++)
			if (s->allowed_algs[i] && !ropc_jws_alg_is_hmac((enum ropc_jws_alg)i))
				only_hmac = false;
		if (!only_hmac) {
			snprintf(why, whysize, "discovery: no jwks_uri in the document; set jwks_uri");
			goto out;
		}
	}
	if (s->token_check == ROPC_CHECK_INTROSPECTION && s->introspection_endpoint == NULL) {
		snprintf(why, whysize,
			 "discovery: no introspection_endpoint in the document; set it");
		goto out;
	}
	if (s->userinfo && s->userinfo_endpoint == NULL) {
		snprintf(why, whysize, "discovery: no userinfo_endpoint in the document; set it");
		goto out;
	}
	ropc_debug(ctx, "discovery: %s (%s, %ld s old)", url,
		   source == ROPC_FETCH_NETWORK ? "fetched" :
		   source == ROPC_FETCH_CACHE ? "cached" : "stale", age);
	rc = ROPC_DISCOVERY_OK;
out:
	ropc_json_object_done(doc);
	return rc;
}
