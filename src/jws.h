/*
 * jws.h: reading and verifying a JSON Web Signature in compact
 * serialization (RFC 7515), as id_tokens and JWT access tokens are sent.
 * Hard limits: exactly three base64url segments, no padding, caps on the
 * sizes, a JSON object header and payload (json-c, depth-limited, strict);
 * "alg" must be one of the algorithms below ("none" is never one); a "crit"
 * header is refused (none is understood); "jku", "x5u", "jwk" and "x5c" are
 * never followed: keys come only from the caller (a JWKS the settings name,
 * or the client secret for HS*).  Signatures are checked with OpenSSL's
 * EVP: RSASSA-PKCS1-v1_5 and RSASSA-PSS with RSA keys of 2048 bits or more,
 * ECDSA with the curve of the algorithm (raw r||s turned into DER), HMAC
 * compared in constant time.
 */
#ifndef ROPC_JWS_H
#define ROPC_JWS_H

#include <json-c/json.h>
#include <openssl/evp.h>
#include "common.h"

#define ROPC_JWS_MAX_TOKEN ((size_t)16 * 1024)   /* the compact form */
#define ROPC_JWS_MAX_HEADER ((size_t)2048)       /* decoded header */
#define ROPC_JWS_MAX_PAYLOAD ((size_t)12 * 1024) /* decoded payload */
#define ROPC_JWS_MIN_RSA_BITS 2048

enum ropc_jws_alg {
	ROPC_JWS_RS256 = 0, ROPC_JWS_RS384, ROPC_JWS_RS512,
	ROPC_JWS_PS256, ROPC_JWS_PS384, ROPC_JWS_PS512,
	ROPC_JWS_ES256, ROPC_JWS_ES384, ROPC_JWS_ES512,
	ROPC_JWS_HS256, ROPC_JWS_HS384, ROPC_JWS_HS512,
	ROPC_JWS_ALG_COUNT
};

/* The JOSE name of alg ("RS256"...). */
ROPC_HIDDEN const char *ropc_jws_alg_name(enum ropc_jws_alg alg);
/* The algorithm named name (exact, case-sensitive as RFC 7518), or -1
 * ("none" and every other name). */
ROPC_HIDDEN int ropc_jws_alg_from_name(const char *name);
/* Whether alg is an HMAC algorithm (HS*), RSA (RS*, PS*) or EC (ES*). */
ROPC_HIDDEN bool ropc_jws_alg_is_hmac(enum ropc_jws_alg alg);
ROPC_HIDDEN bool ropc_jws_alg_is_rsa(enum ropc_jws_alg alg);
ROPC_HIDDEN bool ropc_jws_alg_is_ec(enum ropc_jws_alg alg);

/* A parsed JWS.  Zero it before ropc_jws_parse; free with ropc_jws_free
 * (which wipes the decoded payload and the token copy). */
struct ropc_jws {
	enum ropc_jws_alg alg;
	bool has_kid;
	char kid[256];                  /* "" when absent */
	struct json_object *header;     /* the header object */
	struct json_object *payload;    /* the claims object */
	char *signing_input;            /* base64url(header) "." base64url(payload) */
	size_t signing_input_len;
	unsigned char *sig;             /* the decoded signature */
	size_t sig_len;
};

/*
 * Parse token (NUL-terminated) into *jws.  The signature is NOT checked
 * here: call ropc_jws_verify_key or ropc_jws_verify_hmac, and trust the
 * payload only after one of them returned 0.  Returns 0, or -1 with a
 * sentence for the log in why (never a token value).
 */
ROPC_HIDDEN int ropc_jws_parse(const char *token, struct ropc_jws *jws, char *why,
			       size_t whysize);

/*
 * Verify jws's signature with key, which must agree with jws->alg: an RSA
 * key of ROPC_JWS_MIN_RSA_BITS or more for RS* and PS*, an EC key on P-256,
 * P-384 or P-521 for ES256, ES384, ES512; never an HMAC algorithm.
 * Returns 0 when the signature is valid, else -1 with why.
 */
ROPC_HIDDEN int ropc_jws_verify_key(const struct ropc_jws *jws, EVP_PKEY *key, char *why,
				    size_t whysize);

/*
 * Verify an HS* signature with secret (the client secret).  Refuses any
 * other algorithm.  Compared in constant time.  0, or -1 with why.
 */
ROPC_HIDDEN int ropc_jws_verify_hmac(const struct ropc_jws *jws, const unsigned char *secret,
				     size_t secret_len, char *why, size_t whysize);

ROPC_HIDDEN void ropc_jws_free(struct ropc_jws *jws);

/* base64url without padding (RFC 7515 §2) into a new buffer (*out, *outlen,
 * NUL-terminated); -1 on a character outside the alphabet, padding, a
 * length that cannot be base64, or len over max. */
ROPC_HIDDEN int ropc_b64url_decode(const char *in, size_t len, size_t max,
				   unsigned char **out, size_t *outlen);

#endif
