/*
 * jwks.c: a JWK Set into OpenSSL public keys, and the choice of a key for
 * a token (see jwks.h).
 *
 * Each JWK is kept only when it is a public RSA key of 2048 bits or more
 * or a public EC key on P-256, P-384 or P-521 whose point is on the curve;
 * every other entry is counted in skipped, with the first reason kept.
 * Reasons never quote the document, except a "kty" or "crv" of at most 16
 * printable ASCII characters.
 */
#include "jwks.h"
#include "user.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#define JWKS_JSON_DEPTH 16
#define JWK_MAX_N ((size_t)512)         /* 4096 bits: each key is checked, and checks of
                                         * larger keys cost a login seconds */
#define JWK_MAX_E ((size_t)8)
#define JWK_SHOW 16

/* ---- strict JSON (as in jws.c and response.c) --------------------------- */

static struct json_object *
strict_object(const char *doc, size_t len, char *why, size_t whysize)
{
	struct json_tokener *tok;
	struct json_object *o;
	enum json_tokener_error err;
	size_t end;

	if (!ropc_utf8_valid(doc, len)) {
		snprintf(why, whysize, "key set is not JSON (not valid UTF-8)");
		return NULL;
	}
	tok = json_tokener_new_ex(JWKS_JSON_DEPTH);
	if (tok == NULL) {
		snprintf(why, whysize, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, doc, (int)len);
	err = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (o == NULL || err != json_tokener_success) {
		snprintf(why, whysize, "key set is not JSON (%s at byte %zu)",
			 err == json_tokener_continue ? "truncated"
						      : json_tokener_error_desc(err),
			 end);
		json_object_put(o);
		return NULL;
	}
	while (end < len && doc[end] != '\0' && strchr(" \t\r\n", doc[end]) != NULL)
		end++;
	if (end < len) {
		snprintf(why, whysize, "key set is not JSON (data after the value at byte %zu)",
			 end);
		json_object_put(o);
		return NULL;
	}
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(why, whysize, "key set is not a JSON object");
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* ---- JWK members -------------------------------------------------------- */

/*
 * The string member name of jwk: 0 when absent, 1 with *s and *n when it
 * is a string without NUL bytes, -1 (reason set) otherwise.
 */
static int
member(struct json_object *jwk, const char *name, const char **s, size_t *n,
       char *reason, size_t rsize)
{
	struct json_object *v;

	if (!json_object_object_get_ex(jwk, name, &v))
		return 0;
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(reason, rsize, "%s is not a string", name);
		return -1;
	}
	*s = json_object_get_string(v);
	*n = (size_t)json_object_get_string_len(v);
	if (strlen(*s) != *n) {
		snprintf(reason, rsize, "%s holds a NUL byte", name);
		return -1;
	}
	return 1;
}

static bool
printable(const char *s, size_t n, bool space)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < (space ? 0x20 : 0x21) || s[i] > 0x7e)
			return false;
	return true;
}

/* Whether s (n bytes, no NUL) may be quoted in a reason. */
static bool
showable(const char *s, size_t n)
{
	return n > 0 && n <= JWK_SHOW && printable(s, n, true) && strchr(s, '"') == NULL &&
	       strchr(s, '\\') == NULL;
}

/* An optional short printable member ("use", "alg") into out. */
static int
short_member(struct json_object *jwk, const char *name, char *out, size_t outsize,
	     char *reason, size_t rsize)
{
	const char *s = NULL;
	size_t n = 0;
	int rc = member(jwk, name, &s, &n, reason, rsize);

	if (rc <= 0)
		return rc;
	if (n == 0 || n >= outsize || !printable(s, n, false)) {
		snprintf(reason, rsize, "%s is not a short printable string", name);
		return -1;
	}
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

static int
read_kid(struct json_object *jwk, struct ropc_jwk *k, char *reason, size_t rsize)
{
	const char *s = NULL;
	size_t n = 0;
	int rc = member(jwk, "kid", &s, &n, reason, rsize);

	if (rc <= 0)
		return rc;
	if (n == 0 || n >= sizeof(k->kid) || !printable(s, n, true)) {
		snprintf(reason, rsize, "kid is empty, over %zu bytes or not printable ASCII",
			 sizeof(k->kid) - 1);
		return -1;
	}
	memcpy(k->kid, s, n);
	k->kid[n] = '\0';
	k->has_kid = true;
	return 0;
}

/* The base64url member name, required, of 1 to max bytes; exact (when not
 * 0) the one length allowed.  Returns the bytes (free them) or NULL. */
static unsigned char *
b64_member(struct json_object *jwk, const char *name, size_t max, size_t exact,
	   size_t *outlen, char *reason, size_t rsize)
{
	const char *s = NULL;
	size_t n = 0;
	unsigned char *out = NULL;
	int rc = member(jwk, name, &s, &n, reason, rsize);

	if (rc == 0)
		snprintf(reason, rsize, "%s is missing", name);
	if (rc <= 0)
		return NULL;
	if (ropc_b64url_decode(s, n, max, &out, outlen) != 0 || *outlen == 0 ||
	    (exact != 0 && *outlen != exact)) {
		free(out);
		if (exact != 0)
			snprintf(reason, rsize, "%s is not base64url of %zu bytes", name, exact);
		else
			snprintf(reason, rsize, "%s is not base64url of 1 to %zu bytes", name, max);
		return NULL;
	}
	return out;
}

/* pkey from params, of type name ("RSA", "EC"), as a public key. */
static EVP_PKEY *
from_params(const char *name, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;

	if (params != NULL)
		ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL);
	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

/* Whether OpenSSL's own check of the public key passes: for EC, the point
 * is on the curve and in the group; for RSA, n is odd, composite, not a
 * prime power and free of small factors, and e is odd and above 1. */
static bool
public_ok(EVP_PKEY *pkey)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	bool ok = ctx != NULL && EVP_PKEY_public_check(ctx) == 1;

	EVP_PKEY_CTX_free(ctx);
	return ok;
}

static EVP_PKEY *
rsa_key(struct json_object *jwk, int *bits, char *reason, size_t rsize)
{
	unsigned char *nb, *eb = NULL;
	size_t nlen = 0, elen = 0;
	BIGNUM *n = NULL, *e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;

	nb = b64_member(jwk, "n", JWK_MAX_N, 0, &nlen, reason, rsize);
	if (nb != NULL)
		eb = b64_member(jwk, "e", JWK_MAX_E, 0, &elen, reason, rsize);
	if (eb == NULL)
		goto done;
	n = BN_bin2bn(nb, (int)nlen, NULL);
	e = BN_bin2bn(eb, (int)elen, NULL);
	if (n == NULL || e == NULL) {
		snprintf(reason, rsize, "out of memory");
		goto done;
	}
	if (!BN_is_odd(e) || BN_is_one(e)) {
		snprintf(reason, rsize, "RSA e is not odd and above 1");
		goto done;
	}
	if (!BN_is_odd(n) || BN_cmp(e, n) >= 0) {
		snprintf(reason, rsize, "RSA n is not an odd number above e");
		goto done;
	}
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1 ||
	    (pkey = from_params("RSA", bld)) == NULL) {
		snprintf(reason, rsize, "RSA key not accepted by OpenSSL");
		goto done;
	}
	*bits = EVP_PKEY_get_bits(pkey);
	if (*bits < ROPC_JWS_MIN_RSA_BITS) {
		snprintf(reason, rsize, "RSA key of %d bits is too small", *bits);
		EVP_PKEY_free(pkey);
		pkey = NULL;
		goto done;
	}
	if (!public_ok(pkey)) {
		snprintf(reason, rsize, "RSA key fails the public key check");
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
done:
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	free(nb);
	free(eb);
	ERR_clear_error();
	return pkey;
}

static const struct {
	const char *crv;        /* JOSE */
	const char *group;      /* OpenSSL */
	size_t coord;
} curves[] = {
	{ "P-256", "prime256v1", 32 },
	{ "P-384", "secp384r1", 48 },
	{ "P-521", "secp521r1", 66 },
};

static EVP_PKEY *
ec_key(struct json_object *jwk, int *bits, char *reason, size_t rsize)
{
	unsigned char point[1 + 2 * 66];
	unsigned char *x = NULL, *y = NULL;
	const char *crv = NULL;
	size_t crvlen = 0, xlen = 0, ylen = 0, i, c = sizeof(curves) / sizeof(curves[0]);
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;
	int rc = member(jwk, "crv", &crv, &crvlen, reason, rsize);

	if (rc == 0)
		snprintf(reason, rsize, "EC key without crv");
	if (rc <= 0)
		return NULL;
	for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if (strcmp(crv, curves[i].crv) == 0)
			c = i;
	if (c == sizeof(curves) / sizeof(curves[0])) {
		if (showable(crv, crvlen))
			snprintf(reason, rsize, "curve \"%s\" not supported", crv);
		else
			snprintf(reason, rsize, "curve not supported");
		return NULL;
	}
	x = b64_member(jwk, "x", curves[c].coord, curves[c].coord, &xlen, reason, rsize);
	if (x != NULL)
		y = b64_member(jwk, "y", curves[c].coord, curves[c].coord, &ylen, reason, rsize);
	if (y == NULL)
		goto done;
	/* SEC 1 §2.3.3: the uncompressed point 04 || x || y. */
	point[0] = 0x04;
	memcpy(point + 1, x, curves[c].coord);
	memcpy(point + 1 + curves[c].coord, y, curves[c].coord);
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
					    curves[c].group, 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
					     1 + 2 * curves[c].coord) != 1) {
		snprintf(reason, rsize, "out of memory");
		goto done;
	}
	/* fromdata refuses most points off the curve; the public key check
	 * also tests the coordinates' range and the order. */
	pkey = from_params("EC", bld);
	if (pkey == NULL || !public_ok(pkey)) {
		snprintf(reason, rsize, "EC point is not on %s", curves[c].crv);
		EVP_PKEY_free(pkey);
		pkey = NULL;
		goto done;
	}
	*bits = EVP_PKEY_get_bits(pkey);
done:
	OSSL_PARAM_BLD_free(bld);
	free(x);
	free(y);
	ERR_clear_error();
	return pkey;
}

/* Members that only a private (or symmetric) key has, RFC 7518 §6. */
static const char *const private_members[] = { "d", "p", "q", "dp", "dq", "qi", "oth", "k" };

/* One JWK into *k (zeroed); 0, or -1 with reason when it is skipped. */
static int
read_jwk(struct json_object *jwk, struct ropc_jwk *k, char *reason, size_t rsize)
{
	const char *kty = NULL;
	size_t ktylen = 0, i;
	int rc;

	if (!json_object_is_type(jwk, json_type_object)) {
		snprintf(reason, rsize, "not a JSON object");
		return -1;
	}
	rc = member(jwk, "kty", &kty, &ktylen, reason, rsize);
	if (rc == 0)
		snprintf(reason, rsize, "no kty");
	if (rc <= 0)
		return -1;
	if (strcmp(kty, "oct") == 0) {
		snprintf(reason, rsize, "symmetric key (kty \"oct\") never taken from a key set");
		return -1;
	}
	for (i = 0; i < sizeof(private_members) / sizeof(private_members[0]); i++)
		if (json_object_object_get_ex(jwk, private_members[i], NULL)) {
			snprintf(reason, rsize, "private key material published");
			return -1;
		}
	if (strcmp(kty, "RSA") != 0 && strcmp(kty, "EC") != 0) {
		if (showable(kty, ktylen))
			snprintf(reason, rsize, "kty \"%s\" not supported", kty);
		else
			snprintf(reason, rsize, "kty not supported");
		return -1;
	}
	if (read_kid(jwk, k, reason, rsize) != 0 ||
	    short_member(jwk, "use", k->use, sizeof(k->use), reason, rsize) != 0 ||
	    short_member(jwk, "alg", k->alg, sizeof(k->alg), reason, rsize) != 0)
		return -1;
	if (strcmp(kty, "RSA") == 0)
		k->key = rsa_key(jwk, &k->bits, reason, rsize);
	else
		k->key = ec_key(jwk, &k->bits, reason, rsize);
	if (k->key == NULL)
		return -1;
	snprintf(k->kty, sizeof(k->kty), "%s", kty);
	return 0;
}

static void
skip(struct ropc_jwks *set, size_t index, const char *reason)
{
	if (set->skipped == 0)
		snprintf(set->skipped_why, sizeof(set->skipped_why), "key %zu: %s", index,
			 reason);
	set->skipped++;
}

int
ropc_jwks_parse(const char *doc, size_t len, struct ropc_jwks *set, char *why,
		size_t whysize)
{
	struct json_object *root, *keys;
	size_t total, i, use;

	if (set == NULL) {
		snprintf(why, whysize, "no place for the key set");
		return -1;
	}
	memset(set, 0, sizeof(*set));
	if (doc == NULL || len == 0) {
		snprintf(why, whysize, "empty key set");
		return -1;
	}
	if (len > ROPC_JWKS_MAX_DOC) {
		snprintf(why, whysize, "key set is over %zu bytes", ROPC_JWKS_MAX_DOC);
		return -1;
	}
	root = strict_object(doc, len, why, whysize);
	if (root == NULL)
		return -1;
	if (!json_object_object_get_ex(root, "keys", &keys) ||
	    !json_object_is_type(keys, json_type_array)) {
		snprintf(why, whysize, "key set has no \"keys\" array");
		json_object_put(root);
		return -1;
	}
	total = json_object_array_length(keys);
	use = total;
	if (use > ROPC_JWKS_MAX_KEYS)
		use = ROPC_JWKS_MAX_KEYS;
	if (use > 0) {
		set->keys = calloc(use, sizeof(*set->keys));
		if (set->keys == NULL) {
			snprintf(why, whysize, "out of memory");
			json_object_put(root);
			return -1;
		}
	}
	for (i = 0; i < use; i++) {
		char reason[128];
		struct ropc_jwk *k = &set->keys[set->n];

		memset(k, 0, sizeof(*k));
		if (read_jwk(json_object_array_get_idx(keys, i), k, reason,
			     sizeof(reason)) != 0) {
			memset(k, 0, sizeof(*k));
			skip(set, i, reason);
			continue;
		}
		set->n++;
	}
	/* Only the first ROPC_JWKS_MAX_KEYS are looked at; the others count as
	 * skipped. */
	if (total > use) {
		if (set->skipped == 0)
			snprintf(set->skipped_why, sizeof(set->skipped_why),
				 "keys %zu and after: more than %d keys", use, ROPC_JWKS_MAX_KEYS);
		set->skipped += total - use;
	}
	json_object_put(root);
	return 0;
}

/* ---- choosing a key ----------------------------------------------------- */

/* Whether k can check a signature of alg (RS*, PS*, ES*). */
static bool
fits(const struct ropc_jwk *k, enum ropc_jws_alg alg)
{
	int want_bits;

	if (k->key == NULL)
		return false;
	if (k->use[0] != '\0' && strcmp(k->use, "sig") != 0)
		return false;
	if (k->alg[0] != '\0' && strcmp(k->alg, ropc_jws_alg_name(alg)) != 0)
		return false;
	if (ropc_jws_alg_is_rsa(alg))
		return strcmp(k->kty, "RSA") == 0 && k->bits >= ROPC_JWS_MIN_RSA_BITS;
	if (!ropc_jws_alg_is_ec(alg) || strcmp(k->kty, "EC") != 0)
		return false;
	want_bits = alg == ROPC_JWS_ES256 ? 256 : alg == ROPC_JWS_ES384 ? 384 : 521;
	return k->bits == want_bits;
}

const struct ropc_jwk *
ropc_jwks_select(const struct ropc_jwks *set, const struct ropc_jws *jws,
		 bool *kid_unknown, char *why, size_t whysize)
{
	const struct ropc_jwk *found = NULL;
	const char *name;
	size_t i, fitting = 0;

	if (kid_unknown != NULL)
		*kid_unknown = false;
	if (set == NULL || jws == NULL) {
		snprintf(why, whysize, "no key set or no token");
		return NULL;
	}
	if (!ropc_jws_alg_is_rsa(jws->alg) && !ropc_jws_alg_is_ec(jws->alg)) {
		snprintf(why, whysize, "%s is checked with the client secret, not a key set",
			 ropc_jws_alg_name(jws->alg));
		return NULL;
	}
	name = ropc_jws_alg_name(jws->alg);
	if (jws->has_kid) {
		bool kid_seen = false;

		for (i = 0; i < set->n; i++) {
			const struct ropc_jwk *k = &set->keys[i];

			if (!k->has_kid || strcmp(k->kid, jws->kid) != 0)
				continue;
			kid_seen = true;
			if (fits(k, jws->alg))
				return k;
		}
		if (kid_seen) {
			snprintf(why, whysize, "the key with the token's kid does not fit %s", name);
		} else {
			if (kid_unknown != NULL)
				*kid_unknown = true;
			snprintf(why, whysize, "no key in the set has the token's kid");
		}
		return NULL;
	}
	for (i = 0; i < set->n; i++)
		if (fits(&set->keys[i], jws->alg)) {
			if (found == NULL)
				found = &set->keys[i];
			fitting++;
		}
	if (fitting == 1)
		return found;
	if (fitting == 0)
		snprintf(why, whysize, "no key in the set fits %s", name);
	else
		snprintf(why, whysize, "token has no kid and the key set has several keys for %s",
			 name);
	return NULL;
}

void
ropc_jwks_free(struct ropc_jwks *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++)
		EVP_PKEY_free(set->keys[i].key);
	free(set->keys);
	memset(set, 0, sizeof(*set));
}
