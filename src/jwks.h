/*
 * jwks.h: a JSON Web Key Set (RFC 7517) as an IdP publishes it at its
 * jwks_uri, turned into OpenSSL keys with EVP_PKEY_fromdata: RSA from "n"
 * and "e" (2048 bits or more; smaller keys are dropped), EC from "crv"
 * (P-256, P-384, P-521), "x" and "y" (the point must be on the curve).
 * Symmetric ("oct") and other keys are never taken from a key set.  The
 * choice of a key for a token is the module's, never the token's: by
 * "kid", then "kty" and, when the JWK says, "use" and "alg".
 */
#ifndef ROPC_JWKS_H
#define ROPC_JWKS_H

#include <openssl/evp.h>
#include "common.h"
#include "jws.h"

#define ROPC_JWKS_MAX_DOC ((size_t)64 * 1024)
#define ROPC_JWKS_MAX_KEYS 32

struct ropc_jwk {
	bool has_kid;
	char kid[256];
	char kty[8];            /* "RSA" or "EC" */
	char use[16];           /* "" when absent */
	char alg[16];           /* "" when absent */
	int bits;               /* key size */
	EVP_PKEY *key;
};

struct ropc_jwks {
	struct ropc_jwk *keys;
	size_t n;
	size_t skipped;         /* JWKs dropped (unusable type, weak, malformed) */
	char skipped_why[160];  /* the first reason, for the debug log */
};

/*
 * Parse doc (len bytes) as a JWK Set: a JSON object whose "keys" is an
 * array.  Usable keys go into *set (zero it first); unusable ones are
 * counted in set->skipped.  Returns 0 (possibly with no usable key), or -1
 * with why when the document itself is malformed.  Free with
 * ropc_jwks_free.
 */
ROPC_HIDDEN int ropc_jwks_parse(const char *doc, size_t len, struct ropc_jwks *set,
				char *why, size_t whysize);

/*
 * The key for jws (never for an HS* algorithm): when the token names a
 * kid, the key with that kid; without a kid, the one key whose type fits,
 * if there is exactly one.  The key's kty must fit the algorithm, its
 * "use", when given, must be "sig", and its "alg", when given, must be the
 * token's.  Returns the key, or NULL with why; *kid_unknown is set when
 * the token's kid is in no key of the set (the caller may refetch the set
 * once, for key rotation).
 */
ROPC_HIDDEN const struct ropc_jwk *ropc_jwks_select(const struct ropc_jwks *set,
						    const struct ropc_jws *jws,
						    bool *kid_unknown, char *why,
						    size_t whysize);

ROPC_HIDDEN void ropc_jwks_free(struct ropc_jwks *set);

#endif
