/*
 * fetch.h: the documents an IdP publishes for everyone (the discovery
 * document, the JWK set), fetched over the same hardened HTTPS as the
 * token request and kept in the cache directory (cache.h), so that after
 * the first login a login makes only the requests it must.
 */
#ifndef ROPC_FETCH_H
#define ROPC_FETCH_H

#include "common.h"

/* How a document was obtained, for the log and the tests. */
enum ropc_fetch_source {
	ROPC_FETCH_CACHE,       /* a fresh cached copy (younger than cache_ttl) */
	ROPC_FETCH_NETWORK,     /* fetched now (and cached) */
	ROPC_FETCH_STALE,       /* the IdP failed; a stale copy serves */
};

/*
 * The document at url (a JSON object, at most max bytes), of cache kind
 * kind (ROPC_CACHE_DISCOVERY, ROPC_CACHE_JWKS).  refresh: skip a fresh
 * cached copy (key rotation).  On the network, anything but a 200 with a
 * JSON object (no connection, timeout, TLS, 5xx, redirect, too big, not
 * JSON) is a failure; then a cached copy up to a day older than cache_ttl
 * serves (logged).  valid (when not NULL) checks the content: a document
 * it refuses is never cached, and a cached copy it refuses is ignored.
 * Returns 0 with *data (*len bytes, NUL-terminated;
 * free it) and *source; -1 with why when the document is unavailable; -2
 * when it arrived and valid refused it; -3 when the IdP could not be
 * reached or failed (no connection, timeout, 5xx, 429) and no cached copy
 * serves.
 * *age is the age in seconds of what is returned (0 when fetched now).
 */
/* A check of a document's content (the discovery document's issuer, a
 * key set's shape): true when it may be used and cached, else false with
 * why.  arg is the caller's. */
typedef bool (*ropc_fetch_valid)(struct ropc_ctx *ctx, const char *doc, size_t len,
				 void *arg, char *why, size_t whysize);

ROPC_HIDDEN int ropc_fetch_doc(struct ropc_ctx *ctx, const char *kind, const char *url,
			       size_t max, bool refresh, ropc_fetch_valid valid, void *arg,
			       char **data, size_t *len, enum ropc_fetch_source *source,
			       long *age, char *why, size_t whysize);

/* The age in seconds of kind's cached copy of url, or -1 when there is
 * none (for the once-a-minute refetch rule). */
ROPC_HIDDEN long ropc_fetch_cached_age(struct ropc_ctx *ctx, const char *kind, const char *url,
				       size_t max);

#endif
