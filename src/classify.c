/*
 * classify.c: the recogniser table and the classification rules (see
 * classify.h).  The table is data: error texts and codes as the IdPs send
 * them, each with the outcome it means and who sends it.  Descriptions are
 * tried before codes, more specific texts before the ones they contain
 * ("User is locked. Access is unauthorized" is "locked", not "access
 * denied"), and all matching ignores case.  A description text must start
 * the IdP's description (so "Client authentication failed" is not OneLogin's
 * "Authentication Failed"), unless the entry says it may stand anywhere.
 */
#include "classify.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "options.h"

struct recogniser {
	const char *text;
	enum ropc_outcome outcome;
	const char *who;
	bool anywhere;          /* descriptions: match inside, not only at the start */
};

/* Substrings of error_description (or OneLogin's message). */
static const struct recogniser descriptions[] = {
	/* Entra ID: AADSTS codes lead the description. */
	{ "AADSTS50034", ROPC_OUT_IDP_UNKNOWN_USER, "Entra ID", false },
	{ "AADSTS50126", ROPC_OUT_INVALID_CREDENTIALS, "Entra ID", false },
	{ "AADSTS50076", ROPC_OUT_MFA_REQUIRED, "Entra ID", false },
	{ "AADSTS50079", ROPC_OUT_MFA_REQUIRED, "Entra ID", false },
	{ "AADSTS50074", ROPC_OUT_MFA_REQUIRED, "Entra ID", false },
	{ "AADSTS50053", ROPC_OUT_LOCKED, "Entra ID", false },
	{ "AADSTS50057", ROPC_OUT_SUSPENDED, "Entra ID", false },
	{ "AADSTS50055", ROPC_OUT_PASSWORD_EXPIRED, "Entra ID", false },
	{ "AADSTS50105", ROPC_OUT_ACCESS_DENIED, "Entra ID", false },
	{ "AADSTS53003", ROPC_OUT_ACCESS_DENIED, "Entra ID", false },
	{ "AADSTS7000215", ROPC_OUT_MISCONFIGURED, "Entra ID", false },
	{ "AADSTS7000218", ROPC_OUT_MISCONFIGURED, "Entra ID", false },
	{ "AADSTS700016", ROPC_OUT_MISCONFIGURED, "Entra ID", false },
	{ "AADSTS65001", ROPC_OUT_MISCONFIGURED, "Entra ID", false },
	/* OneLogin. */
	{ "MFA is required", ROPC_OUT_MFA_REQUIRED, "OneLogin", false },
	{ "User is locked", ROPC_OUT_LOCKED, "OneLogin", false },
	{ "User is suspended", ROPC_OUT_SUSPENDED, "OneLogin", false },
	{ "Password expired", ROPC_OUT_PASSWORD_EXPIRED, "OneLogin", false },
	{ "Access is unauthorized", ROPC_OUT_ACCESS_DENIED, "OneLogin", false },
	{ "Resource not found", ROPC_OUT_MISCONFIGURED, "OneLogin", false },
	{ "invalid authorization header value format", ROPC_OUT_MISCONFIGURED, "OneLogin", false },
	{ "Authentication Failed", ROPC_OUT_INVALID_CREDENTIALS, "OneLogin", false },
	{ "grant_type is incorrect", ROPC_OUT_MISCONFIGURED, "OneLogin", false },
	/* Keycloak ("temporarily disabled" before "disabled"). */
	{ "Account temporarily disabled", ROPC_OUT_LOCKED, "Keycloak", false },
	{ "Account disabled", ROPC_OUT_SUSPENDED, "Keycloak", false },
	{ "Account is not fully set up", ROPC_OUT_ACCESS_DENIED, "Keycloak", false },
	{ "Invalid user credentials", ROPC_OUT_INVALID_CREDENTIALS, "Keycloak", false },
	/* Okta and others. */
	{ "multifactor authentication", ROPC_OUT_MFA_REQUIRED, "Okta", true },
	{ "multi-factor authentication", ROPC_OUT_MFA_REQUIRED, "generic", true },
	{ "The credentials provided were invalid", ROPC_OUT_INVALID_CREDENTIALS, "Okta", false },
	{ "password has expired", ROPC_OUT_PASSWORD_EXPIRED, "generic", true },
};

/* Whole values of "error" (RFC 6749 §5.2 and extensions). */
static const struct recogniser codes[] = {
	{ "mfa_required", ROPC_OUT_MFA_REQUIRED, "Okta", false },
	{ "invalid_grant", ROPC_OUT_INVALID_CREDENTIALS, "RFC 6749", false },
	{ "access_denied", ROPC_OUT_ACCESS_DENIED, "RFC 6749", false },
	{ "invalid_client", ROPC_OUT_MISCONFIGURED, "RFC 6749", false },
	{ "unauthorized_client", ROPC_OUT_MISCONFIGURED, "RFC 6749", false },
	{ "unsupported_grant_type", ROPC_OUT_MISCONFIGURED, "RFC 6749", false },
	{ "invalid_scope", ROPC_OUT_MISCONFIGURED, "RFC 6749", false },
	{ "invalid_request", ROPC_OUT_MISCONFIGURED, "RFC 6749", false },
	{ "unsupported_response_type", ROPC_OUT_MISCONFIGURED, "RFC 6749", false },
	{ "temporarily_unavailable", ROPC_OUT_UNAVAILABLE, "RFC 6749", false },
	{ "server_error", ROPC_OUT_UNAVAILABLE, "RFC 6749", false },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Case-insensitive prefix test, leading white space skipped. */
static bool
starts(const char *hay, const char *needle)
{
	while (*hay == ' ' || *hay == '\t' || *hay == '\r' || *hay == '\n')
		hay++;
	return needle[0] != '\0' && strncasecmp(hay, needle, strlen(needle)) == 0;
}

/* Case-insensitive substring search; needle non-empty. */
static bool
contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0)
		return false;
	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

static bool
match_admin(const struct ropc_settings *s, struct ropc_verdict *v)
{
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; i < s->n_error_map; i++) {
		const char *p = s->error_map[i].pattern;

		/* The loader never stores success; never trust that here. */
		if (s->error_map[i].outcome == ROPC_OUT_SUCCESS)
			continue;
		if (contains(v->idp.description, p) || contains(v->idp.code, p) ||
		    contains(v->idp.codes, p)) {
			v->outcome = (enum ropc_outcome)s->error_map[i].outcome;
			snprintf(v->detail, sizeof(v->detail), "error_map entry %zu", i + 1);
			return true;
		}
	}
	return false;
}

static bool
match_builtin(struct ropc_verdict *v)
{
	size_t i;

	for (i = 0; i < N(descriptions); i++)
		if (descriptions[i].anywhere ? contains(v->idp.description, descriptions[i].text)
					     : starts(v->idp.description, descriptions[i].text)) {
			v->outcome = descriptions[i].outcome;
			snprintf(v->detail, sizeof(v->detail), "%s \"%s\"",
				 descriptions[i].who, descriptions[i].text);
			return true;
		}
	for (i = 0; i < N(codes); i++)
		if (strcasecmp(v->idp.code, codes[i].text) == 0) {
			v->outcome = codes[i].outcome;
			snprintf(v->detail, sizeof(v->detail), "%s %s",
				 codes[i].who, codes[i].text);
			return true;
		}
	return false;
}

static const char *
net_text(enum ropc_net n)
{
	switch (n) {
	case ROPC_NET_CONNECT: return "no connection";
	case ROPC_NET_TIMEOUT: return "timed out";
	case ROPC_NET_TLS: return "TLS failure";
	case ROPC_NET_TOO_BIG: return "answer larger than the 256 KiB cap";
	default: return "transfer failed";
	}
}

void
ropc_classify(const struct ropc_settings *s, const struct ropc_http_result *res,
	      struct ropc_verdict *v)
{
	const char *body = res->body.data != NULL ? res->body.data : "";

	memset(v, 0, sizeof(*v));
	v->tokens.expires_in = -1;

	if (res->net != ROPC_NET_OK) {
		v->outcome = ROPC_OUT_UNAVAILABLE;
		snprintf(v->detail, sizeof(v->detail), "%s", net_text(res->net));
		return;
	}
	if (res->status >= 300 && res->status < 400) {
		v->outcome = ROPC_OUT_UNAVAILABLE;
		snprintf(v->detail, sizeof(v->detail), "redirect not followed");
		return;
	}
	if (res->status >= 500 || res->status == 429) {
		v->outcome = ROPC_OUT_UNAVAILABLE;
		snprintf(v->detail, sizeof(v->detail), "IdP answered HTTP %ld", res->status);
		ropc_response_error(body, res->body.len, &v->idp);
		return;
	}
	if (res->status == 200) {
		char why[160];
		int rc = ropc_response_read(body, res->body.len, &v->idp, &v->tokens, why,
					    sizeof(why));

		/* Every recogniser runs on every answer, a 200 included: a 200
		 * whose error or description says a refusal is that refusal,
		 * even when it also holds a token (an IdP that says both is not
		 * saying yes).  No recogniser gives success. */
		if (match_admin(s, v) || match_builtin(v)) {
			ropc_tokens_free(&v->tokens);
			return;
		}
		/* Any other answer that carries an error is never a success. */
		if (v->idp.has_error) {
			ropc_tokens_free(&v->tokens);
			v->outcome = ROPC_OUT_UNAVAILABLE;
			snprintf(v->detail, sizeof(v->detail), "a 200 answer that carries an error");
			return;
		}
		if (rc == 0) {
			v->outcome = ROPC_OUT_SUCCESS;
			return;
		}
		v->outcome = ROPC_OUT_UNAVAILABLE;
		snprintf(v->detail, sizeof(v->detail), "not a token response: %s", why);
		return;
	}
	if (res->status < 400) {
		v->outcome = ROPC_OUT_UNAVAILABLE;
		snprintf(v->detail, sizeof(v->detail), "unexpected HTTP %ld", res->status);
		return;
	}
	ropc_response_error(body, res->body.len, &v->idp);
	if (match_admin(s, v) || match_builtin(v))
		return;
	if (!v->idp.json && (res->status == 401 || res->status == 403)) {
		v->outcome = ROPC_OUT_INVALID_CREDENTIALS;
		snprintf(v->detail, sizeof(v->detail), "HTTP %ld without a JSON body",
			 res->status);
		return;
	}
	v->outcome = ROPC_OUT_UNRECOGNISED;
	snprintf(v->detail, sizeof(v->detail), "unrecognised HTTP %ld answer",
		 res->status);
}

void
ropc_verdict_free(struct ropc_verdict *v)
{
	ropc_tokens_free(&v->tokens);
	ropc_idp_error_wipe(&v->idp);
}
