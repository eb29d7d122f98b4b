/*
 * jws.c: JWS compact serialization (RFC 7515), read strictly and checked
 * with OpenSSL's EVP (see jws.h).
 *
 * Nothing here looks at the header's "jku", "x5u", "jwk" or "x5c": the key
 * is always the caller's.  Reasons written to why are fixed sentences; the
 * only text from the token that may appear in one is the header's "alg",
 * and only when it is at most 16 printable ASCII characters without '"'
 * or '\' (it is shown in double quotes).
 */
#include "jws.h"
#include "response.h"
#include "user.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <json-c/json.h>
#include <json-c/printbuf.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

/* The largest signature: RSA with an 8192-bit modulus. */
#define JWS_MAX_SIG ((size_t)1024)
/* The longest "alg" that a reason may quote. */
#define JWS_SHOW_ALG 16

static const struct alg_info {
	const char *name;
	unsigned int hash;      /* SHA-2 output in bits */
	const char *curve;      /* ES*: the JOSE name of the curve */
	const char *group;      /* ES*: OpenSSL's name for it */
	const char *group_alias;
	size_t coord;           /* ES*: bytes of r, of s */
} algs[ROPC_JWS_ALG_COUNT] = {
	[ROPC_JWS_RS256] = { "RS256", 256, NULL, NULL, NULL, 0 },
	[ROPC_JWS_RS384] = { "RS384", 384, NULL, NULL, NULL, 0 },
	[ROPC_JWS_RS512] = { "RS512", 512, NULL, NULL, NULL, 0 },
	[ROPC_JWS_PS256] = { "PS256", 256, NULL, NULL, NULL, 0 },
	[ROPC_JWS_PS384] = { "PS384", 384, NULL, NULL, NULL, 0 },
	[ROPC_JWS_PS512] = { "PS512", 512, NULL, NULL, NULL, 0 },
	[ROPC_JWS_ES256] = { "ES256", 256, "P-256", "prime256v1", "P-256", 32 },
	[ROPC_JWS_ES384] = { "ES384", 384, "P-384", "secp384r1", "P-384", 48 },
	[ROPC_JWS_ES512] = { "ES512", 512, "P-521", "secp521r1", "P-521", 66 },
	[ROPC_JWS_HS256] = { "HS256", 256, NULL, NULL, NULL, 0 },
	[ROPC_JWS_HS384] = { "HS384", 384, NULL, NULL, NULL, 0 },
	[ROPC_JWS_HS512] = { "HS512", 512, NULL, NULL, NULL, 0 },
};

static bool
alg_valid(enum ropc_jws_alg alg)
{
	return (unsigned int)alg < (unsigned int)ROPC_JWS_ALG_COUNT;
}

const char *
ropc_jws_alg_name(enum ropc_jws_alg alg)
{
	return alg_valid(alg) ? algs[alg].name : "(invalid)";
}

int
ropc_jws_alg_from_name(const char *name)
{
	int i;

	if (name == NULL)
		return -1;
	for (i = 0; i < (int)ROPC_JWS_ALG_COUNT; i++)
		if (strcmp(name, algs[i].name) == 0)
			return i;
	return -1;
}

bool
ropc_jws_alg_is_hmac(enum ropc_jws_alg alg)
{
	return alg == ROPC_JWS_HS256 || alg == ROPC_JWS_HS384 || alg == ROPC_JWS_HS512;
}

bool
ropc_jws_alg_is_rsa(enum ropc_jws_alg alg)
{
	return alg == ROPC_JWS_RS256 || alg == ROPC_JWS_RS384 || alg == ROPC_JWS_RS512 ||
	       alg == ROPC_JWS_PS256 || alg == ROPC_JWS_PS384 || alg == ROPC_JWS_PS512;
}

bool
ropc_jws_alg_is_ec(enum ropc_jws_alg alg)
{
	return alg == ROPC_JWS_ES256 || alg == ROPC_JWS_ES384 || alg == ROPC_JWS_ES512;
}

static bool
alg_is_pss(enum ropc_jws_alg alg)
{
	return alg == ROPC_JWS_PS256 || alg == ROPC_JWS_PS384 || alg == ROPC_JWS_PS512;
}

static const EVP_MD *
alg_md(enum ropc_jws_alg alg)
{
	switch (algs[alg].hash) {
	case 256:
		return EVP_sha256();
	case 384:
		return EVP_sha384();
	default:
		return EVP_sha512();
	}
}

/* ---- base64url ---------------------------------------------------------- */

static int
b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* The number of bytes len base64url characters stand for, or SIZE_MAX
 * when no unpadded base64 text has that length. */
static size_t
b64url_decoded_len(size_t len)
{
	if (len % 4 == 1)
		return SIZE_MAX;
	return len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1);
}

int
ropc_b64url_decode(const char *in, size_t len, size_t max, unsigned char **out,
		   size_t *outlen)
{
	unsigned char *buf;
	size_t need, i, o = 0;
	uint32_t acc = 0;
	unsigned int bits = 0;

	if (out == NULL || outlen == NULL)
		return -1;
	*out = NULL;
	*outlen = 0;
	if (in == NULL && len > 0)
		return -1;
	need = b64url_decoded_len(len);
	if (need == SIZE_MAX || need > max)
		return -1;
	buf = malloc(need + 1);
	if (buf == NULL)
		return -1;
	for (i = 0; i < len; i++) {
		int v = b64url_value((unsigned char)in[i]);

		if (v < 0)
			goto bad;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (unsigned char)(acc >> bits);
			acc &= (1U << bits) - 1;
		}
	}
	/* The unused low bits of the last character must be zero: one text
	 * per byte string (RFC 4648 §3.5). */
	if (acc != 0 || o != need)
		goto bad;
	buf[o] = '\0';
	*out = buf;
	*outlen = o;
	return 0;
bad:
	ropc_wipe(buf, need + 1);
	free(buf);
	return -1;
}

/* ---- strict JSON -------------------------------------------------------- */

static void
json_done(struct json_object *o)
{
	ropc_json_object_done(o);
}

/*
 * The decoded segment buf (len bytes) as exactly one JSON object, by the
 * project's strict reader (response.h: valid UTF-8, nesting at most
 * ROPC_JSON_DEPTH, strict syntax, nothing but JSON white space after it).
 * what names the segment in why.  Duplicate member names leave the last
 * one (json-c), which RFC 7515 §4 allows.
 */
static struct json_object *
strict_object(const unsigned char *buf, size_t len, const char *what, char *why,
	      size_t whysize)
{
	struct ropc_json_fault f;
	struct json_object *o = ropc_json_strict((const char *)buf, len, &f);

	switch (f.kind) {
	case ROPC_JSON_OK:
		break;
	case ROPC_JSON_EMPTY:
		snprintf(why, whysize, "%s is not JSON (empty)", what);
		break;
	case ROPC_JSON_TOO_LARGE:
		snprintf(why, whysize, "%s is not JSON (too large)", what);
		break;
	case ROPC_JSON_NOT_UTF8:
		snprintf(why, whysize, "%s is not JSON (not valid UTF-8)", what);
		break;
	case ROPC_JSON_NOMEM:
		snprintf(why, whysize, "out of memory");
		break;
	case ROPC_JSON_SYNTAX:
		snprintf(why, whysize, "%s is not JSON (%s at byte %zu)", what, f.desc, f.at);
		break;
	case ROPC_JSON_TRAILING:
		snprintf(why, whysize, "%s is not JSON (data after the value at byte %zu)",
			 what, f.at);
		break;
	case ROPC_JSON_NOT_OBJECT:
		snprintf(why, whysize, "%s is not a JSON object", what);
		break;
	}
	return o;
}

/* ---- the header --------------------------------------------------------- */

/* Whether the header's alg s (n bytes, no NUL) may be quoted in a reason. */
static bool
alg_showable(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > JWS_SHOW_ALG)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
			return false;
	return true;
}

static int
read_alg(struct json_object *header, enum ropc_jws_alg *alg, char *why, size_t whysize)
{
	struct json_object *v;
	const char *s;
	size_t n;
	int a;

	if (!json_object_object_get_ex(header, "alg", &v)) {
		snprintf(why, whysize, "header has no alg");
		return -1;
	}
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(why, whysize, "alg is not a string");
		return -1;
	}
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (strlen(s) != n) {
		snprintf(why, whysize, "alg holds a NUL byte");
		return -1;
	}
	if (n == 0) {
		snprintf(why, whysize, "alg is empty");
		return -1;
	}
	a = ropc_jws_alg_from_name(s);
	if (a >= 0) {
		*alg = (enum ropc_jws_alg)a;
		return 0;
	}
	if (strcasecmp(s, "none") == 0)
		snprintf(why, whysize, "alg \"%s\" is never accepted", s);
	else if (alg_showable(s, n))
		snprintf(why, whysize, "unknown alg \"%s\"", s);
	else
		snprintf(why, whysize, "unknown alg (not shown)");
	return -1;
}

static int
read_kid(struct json_object *header, struct ropc_jws *jws, char *why, size_t whysize)
{
	struct json_object *v;
	const char *s;
	size_t n, i;

	if (!json_object_object_get_ex(header, "kid", &v))
		return 0;
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(why, whysize, "kid is not a string");
		return -1;
	}
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (n == 0) {
		snprintf(why, whysize, "kid is empty");
		return -1;
	}
	if (n >= sizeof(jws->kid)) {
		snprintf(why, whysize, "kid is over %zu bytes", sizeof(jws->kid) - 1);
		return -1;
	}
	if (strlen(s) != n) {
		snprintf(why, whysize, "kid holds a NUL byte");
		return -1;
	}
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e) {
			snprintf(why, whysize, "kid holds a byte that is not printable ASCII");
			return -1;
		}
	memcpy(jws->kid, s, n);
	jws->kid[n] = '\0';
	jws->has_kid = true;
	return 0;
}

static int
read_header(struct ropc_jws *jws, char *why, size_t whysize)
{
	struct json_object *h = jws->header, *v;

	/* No extension is understood, so none may be critical (RFC 7515
	 * §4.1.11); "crit":null or [] is refused as well. */
	if (json_object_object_get_ex(h, "crit", NULL)) {
		snprintf(why, whysize, "crit header not supported");
		return -1;
	}
	/* RFC 7797: "b64":false means the payload is not base64url. */
	if (json_object_object_get_ex(h, "b64", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			snprintf(why, whysize, "b64 header is not a boolean");
			return -1;
		}
		if (!json_object_get_boolean(v)) {
			snprintf(why, whysize, "b64 false (RFC 7797 unencoded payload) not supported");
			return -1;
		}
	}
	if (read_alg(h, &jws->alg, why, whysize) != 0)
		return -1;
	return read_kid(h, jws, why, whysize);
}

/* ---- parsing ------------------------------------------------------------ */

/* Decode one JSON segment of the token (len characters at seg, at most max
 * bytes decoded) into an object. */
static struct json_object *
json_segment(const char *seg, size_t len, size_t max, const char *what, char *why,
	     size_t whysize)
{
	struct json_object *o;
	unsigned char *raw;
	size_t rawlen, need = b64url_decoded_len(len);

	if (need != SIZE_MAX && need > max) {
		snprintf(why, whysize, "%s is over %zu bytes", what, max);
		return NULL;
	}
	if (ropc_b64url_decode(seg, len, max, &raw, &rawlen) != 0) {
		snprintf(why, whysize, "%s is not base64url", what);
		return NULL;
	}
	o = strict_object(raw, rawlen, what, why, whysize);
	ropc_wipe(raw, rawlen);
	free(raw);
	return o;
}

int
ropc_jws_parse(const char *token, struct ropc_jws *jws, char *why, size_t whysize)
{
	const char *dot1, *dot2, *sig;
	size_t len, hlen, plen, slen, need;

	if (jws == NULL) {
		snprintf(why, whysize, "no place for the token");
		return -1;
	}
	memset(jws, 0, sizeof(*jws));
	if (token == NULL || token[0] == '\0') {
		snprintf(why, whysize, "empty token");
		return -1;
	}
	len = strnlen(token, ROPC_JWS_MAX_TOKEN + 1);
	if (len > ROPC_JWS_MAX_TOKEN) {
		snprintf(why, whysize, "token is over %zu bytes", ROPC_JWS_MAX_TOKEN);
		return -1;
	}
	dot1 = memchr(token, '.', len);
	dot2 = dot1 != NULL ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
	if (dot1 == NULL || dot2 == NULL ||
	    memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL) {
		snprintf(why, whysize, "not three segments");
		return -1;
	}
	hlen = (size_t)(dot1 - token);
	plen = (size_t)(dot2 - dot1 - 1);
	sig = dot2 + 1;
	slen = len - (size_t)(sig - token);
	if (hlen == 0 || plen == 0) {
		snprintf(why, whysize, "%s segment is empty", hlen == 0 ? "header" : "payload");
		return -1;
	}

	/* The header first: an "alg": "none" token (whose signature segment
	 * is empty) is reported as what it is. */
	jws->header = json_segment(token, hlen, ROPC_JWS_MAX_HEADER, "header", why, whysize);
	if (jws->header == NULL || read_header(jws, why, whysize) != 0)
		goto fail;
	if (slen == 0) {
		snprintf(why, whysize, "signature segment is empty");
		goto fail;
	}
	jws->payload = json_segment(dot1 + 1, plen, ROPC_JWS_MAX_PAYLOAD, "payload", why,
				    whysize);
	if (jws->payload == NULL)
		goto fail;
	need = b64url_decoded_len(slen);
	if (need != SIZE_MAX && need > JWS_MAX_SIG) {
		snprintf(why, whysize, "signature is over %zu bytes", JWS_MAX_SIG);
		goto fail;
	}
	if (ropc_b64url_decode(sig, slen, JWS_MAX_SIG, &jws->sig, &jws->sig_len) != 0) {
		snprintf(why, whysize, "signature is not base64url");
		goto fail;
	}
	/* The exact bytes that were signed: ASCII(header "." payload). */
	jws->signing_input_len = (size_t)(dot2 - token);
	jws->signing_input = malloc(jws->signing_input_len + 1);
	if (jws->signing_input == NULL) {
		snprintf(why, whysize, "out of memory");
		goto fail;
	}
	memcpy(jws->signing_input, token, jws->signing_input_len);
	jws->signing_input[jws->signing_input_len] = '\0';
	return 0;
fail:
	ropc_jws_free(jws);
	return -1;
}

void
ropc_jws_free(struct ropc_jws *jws)
{
	if (jws == NULL)
		return;
	json_done(jws->header);
	json_done(jws->payload);
	if (jws->signing_input != NULL) {
		ropc_wipe(jws->signing_input, jws->signing_input_len);
		free(jws->signing_input);
	}
	if (jws->sig != NULL) {
		ropc_wipe(jws->sig, jws->sig_len);
		free(jws->sig);
	}
	ropc_wipe(jws, sizeof(*jws));
}

/* ---- verification ------------------------------------------------------- */

static bool
jws_ready(const struct ropc_jws *jws, char *why, size_t whysize)
{
	if (jws == NULL || jws->signing_input == NULL || jws->sig == NULL ||
	    jws->sig_len == 0) {
		snprintf(why, whysize, "no parsed token");
		return false;
	}
	if (!alg_valid(jws->alg)) {
		snprintf(why, whysize, "unknown alg");
		return false;
	}
	return true;
}

/* Whether key can check an RS* or PS* signature of jws. */
static bool
rsa_key_fits(const struct ropc_jws *jws, EVP_PKEY *key, char *why, size_t whysize)
{
	int id = EVP_PKEY_get_base_id(key), bits, size;

	/* An RSA-PSS key cannot make PKCS #1 v1.5 signatures. */
	if (id != EVP_PKEY_RSA && !(id == EVP_PKEY_RSA_PSS && alg_is_pss(jws->alg))) {
		snprintf(why, whysize, "%s needs an RSA key", algs[jws->alg].name);
		return false;
	}
	bits = EVP_PKEY_get_bits(key);
	if (bits < ROPC_JWS_MIN_RSA_BITS) {
		snprintf(why, whysize, "RSA key of %d bits is too small (%d at least)", bits,
			 ROPC_JWS_MIN_RSA_BITS);
		return false;
	}
	/* RFC 8017 §8.2.2: the signature is exactly as long as the modulus
	 * (OpenSSL would take a shorter one, as if left-padded with zeros). */
	size = EVP_PKEY_get_size(key);
	if (size <= 0 || jws->sig_len != (size_t)size) {
		snprintf(why, whysize, "signature of %zu bytes for an RSA key of %d bytes",
			 jws->sig_len, size);
		return false;
	}
	return true;
}

/* Whether key can check an ES* signature of jws: an EC key on the named
 * curve of the algorithm, and a signature of 2 * the coordinate size. */
static bool
ec_key_fits(const struct ropc_jws *jws, EVP_PKEY *key, char *why, size_t whysize)
{
	const struct alg_info *a = &algs[jws->alg];
	char group[64];
	size_t glen = 0;

	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) {
		snprintf(why, whysize, "%s needs an EC key", a->name);
		return false;
	}
	if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
					   sizeof(group), &glen) != 1 ||
	    (strcmp(group, a->group) != 0 && strcmp(group, a->group_alias) != 0)) {
		ERR_clear_error();
		snprintf(why, whysize, "%s needs a key on %s", a->name, a->curve);
		return false;
	}
	if (jws->sig_len != 2 * a->coord) {
		snprintf(why, whysize, "%s signature of %zu bytes, not %zu", a->name,
			 jws->sig_len, 2 * a->coord);
		return false;
	}
	return true;
}

/* The raw r||s signature (2 * coord bytes) in DER, for EVP; NULL when out
 * of memory.  Free with OPENSSL_free. */
static unsigned char *
ec_sig_der(const unsigned char *raw, size_t coord, size_t *derlen)
{
	ECDSA_SIG *es;
	BIGNUM *r, *s;
	unsigned char *der = NULL;
	int n;

	es = ECDSA_SIG_new();
	r = BN_bin2bn(raw, (int)coord, NULL);
	s = BN_bin2bn(raw + coord, (int)coord, NULL);
	if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return NULL;
	}
	/* es owns r and s now. */
	n = i2d_ECDSA_SIG(es, &der);
	ECDSA_SIG_free(es);
	if (n <= 0) {
		OPENSSL_free(der);
		return NULL;
	}
	*derlen = (size_t)n;
	return der;
}

int
ropc_jws_verify_key(const struct ropc_jws *jws, EVP_PKEY *key, char *why, size_t whysize)
{
	const unsigned char *sig;
	unsigned char *der = NULL;
	size_t sig_len;
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *md;
	int ok = 0;

	if (!jws_ready(jws, why, whysize))
		return -1;
	if (key == NULL) {
		snprintf(why, whysize, "no key");
		return -1;
	}
	if (ropc_jws_alg_is_hmac(jws->alg)) {
		snprintf(why, whysize, "%s needs the client secret, not a public key",
			 algs[jws->alg].name);
		return -1;
	}
	if (ropc_jws_alg_is_rsa(jws->alg)) {
		if (!rsa_key_fits(jws, key, why, whysize))
			return -1;
		sig = jws->sig;
		sig_len = jws->sig_len;
	} else {
		if (!ec_key_fits(jws, key, why, whysize))
			return -1;
		der = ec_sig_der(jws->sig, algs[jws->alg].coord, &sig_len);
		if (der == NULL) {
			snprintf(why, whysize, "out of memory");
			return -1;
		}
		sig = der;
	}
	md = alg_md(jws->alg);
	mctx = EVP_MD_CTX_new();
	if (mctx == NULL || EVP_DigestVerifyInit(mctx, &pctx, md, NULL, key) != 1) {
		snprintf(why, whysize, "cannot verify %s with this key", algs[jws->alg].name);
		goto done;
	}
	if (ropc_jws_alg_is_rsa(jws->alg)) {
		/* RFC 7518 §3.3 and §3.5: PKCS #1 v1.5, or PSS with MGF1 of the
		 * same hash and a salt as long as the hash. */
		bool pss = alg_is_pss(jws->alg);

		if (EVP_PKEY_CTX_set_rsa_padding(pctx, pss ? RSA_PKCS1_PSS_PADDING
							   : RSA_PKCS1_PADDING) <= 0 ||
		    (pss && (EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0 ||
			     EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) <= 0))) {
			snprintf(why, whysize, "cannot verify %s with this key",
				 algs[jws->alg].name);
			goto done;
		}
	}
	if (EVP_DigestVerify(mctx, sig, sig_len, (const unsigned char *)jws->signing_input,
			     jws->signing_input_len) == 1)
		ok = 1;
	else
		snprintf(why, whysize, "%s signature does not verify", algs[jws->alg].name);
done:
	EVP_MD_CTX_free(mctx);
	OPENSSL_free(der);
	ERR_clear_error();
	return ok ? 0 : -1;
}

/*
 * HS* only.  The algorithm-confusion attack (a token that says HS256 and
 * is "signed" with the IdP's public RSA key, in PEM or as JWK bytes, used
 * as the HMAC secret) works only against code that hands whatever key it
 * has to whatever alg the token names.  Here the two are apart:
 * ropc_jws_verify_key refuses HS*, this function refuses anything else,
 * and the caller passes only the client secret of its settings, never a
 * key of the key set.
 */
int
ropc_jws_verify_hmac(const struct ropc_jws *jws, const unsigned char *secret,
		     size_t secret_len, char *why, size_t whysize)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	int ok;

	if (!jws_ready(jws, why, whysize))
		return -1;
	if (!ropc_jws_alg_is_hmac(jws->alg)) {
		snprintf(why, whysize, "%s is not an HMAC algorithm", algs[jws->alg].name);
		return -1;
	}
	if (secret == NULL || secret_len == 0) {
		snprintf(why, whysize, "no client secret to check %s with",
			 algs[jws->alg].name);
		return -1;
	}
	if (secret_len > INT_MAX) {
		snprintf(why, whysize, "client secret too long");
		return -1;
	}
	if (HMAC(alg_md(jws->alg), secret, (int)secret_len,
		 (const unsigned char *)jws->signing_input, jws->signing_input_len, mac,
		 &maclen) == NULL) {
		ERR_clear_error();
		snprintf(why, whysize, "HMAC failed");
		return -1;
	}
	/* The length is public; only the bytes are compared in constant time. */
	ok = jws->sig_len == (size_t)maclen && CRYPTO_memcmp(mac, jws->sig, maclen) == 0;
	ropc_wipe(mac, sizeof(mac));
	if (!ok) {
		snprintf(why, whysize, "%s signature does not verify", algs[jws->alg].name);
		return -1;
	}
	return 0;
}
