/*
 * discovery.h: OpenID Connect Discovery 1.0 (§4): the settings' issuer
 * names the IdP; its /.well-known/openid-configuration names the
 * endpoints.  The document's "issuer" must equal the setting exactly
 * (§4.3).  An endpoint set in the config wins over the document's.
 */
#ifndef ROPC_DISCOVERY_H
#define ROPC_DISCOVERY_H

#include "common.h"

enum ropc_discovery_rc {
	ROPC_DISCOVERY_OK = 0,
	ROPC_DISCOVERY_UNAVAILABLE,     /* no document (and no usable cached copy) */
	ROPC_DISCOVERY_UNREACHABLE,     /* the same, because the IdP is down (an outage) */
	ROPC_DISCOVERY_MISCONFIGURED,   /* another issuer, or an endpoint missing or bad */
};

/*
 * With settings->issuer set, fill the endpoints the settings leave unset
 * (token_endpoint, jwks_uri, introspection_endpoint, userinfo_endpoint,
 * device_authorization_endpoint) from the discovery document, through the
 * cache, and check that what the chosen token_check needs is there.
 * Without an issuer, does nothing and returns ROPC_DISCOVERY_OK.  why
 * says what failed.
 */
ROPC_HIDDEN enum ropc_discovery_rc ropc_discovery_resolve(struct ropc_ctx *ctx, char *why,
							  size_t whysize);

/* The discovery URL of issuer into out: issuer without a trailing "/",
 * then "/.well-known/openid-configuration".  0, or -1 when it does not fit. */
ROPC_HIDDEN int ropc_discovery_url(const char *issuer, char *out, size_t outsize);

#endif
