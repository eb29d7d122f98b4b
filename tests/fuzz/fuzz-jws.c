/*
 * fuzz-jws.c: a JWS in compact serialization, from the raw token to the
 * signature checks (jws.c).
 *
 * Input: a token, in one of two forms.
 *   - Anything that does not start with '{': the token itself, as the
 *     module would get it (a NUL-terminated copy; bytes after a NUL are
 *     dropped, as a C string would drop them).
 *   - '{' first (never the start of a token: '{' is not base64url):
 *     "header JSON" NUL "payload JSON" NUL "signature bytes".  The harness
 *     base64url-encodes the three parts and joins them with '.', so that
 *     mutations reach the header and payload JSON directly instead of
 *     through the base64 text.  A missing part is empty.
 * Example: "{\"alg\":\"HS256\"}\0{\"sub\":\"alice\"}\0\x01\x02".
 *
 * The keys (RSA 2048, P-256, P-384, P-521) and the HMAC secret are made
 * afresh, at random, by LLVMFuzzerInitialize: no input can carry a valid
 * signature for them, so "a token from the input never verifies" is an
 * honest invariant (a pass would be a forgery: the verifier accepted a
 * signature it should not).
 *
 * Checks: ropc_jws_parse returns 0 or -1; on -1 the struct is left zeroed
 * (nothing allocated), why is a non-empty printable sentence, and the
 * only quoted text in it is at most 16 characters (an alg name); on 0 the
 * token has exactly two dots and is at most ROPC_JWS_MAX_TOKEN bytes, alg
 * is in range and is the header's "alg", the header has no "crit", header
 * and payload are JSON objects, signing_input is exactly the bytes before
 * the second dot, the signature is 1 to 1024 bytes and re-encodes to the
 * third segment byte for byte (the decoder is canonical), kid is as the
 * header says and printable.  ropc_jws_verify_hmac and ropc_jws_verify_key
 * (with every fixed key, fitting or not) return 0 or -1, refuse the other
 * family, and never pass the input's own signature.  Then the harness signs
 * the parsed signing_input itself (HMAC always; RSA and ECDSA for about
 * one input in four, they are slow): the token rebuilt with that signature
 * parses and verifies, and the same token with one bit of the signature
 * flipped (chosen by the input) parses and fails.  ASan/UBSan/LSan watch
 * the rest.
 */
#define _GNU_SOURCE 1
#include "fuzz-common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "jws.h"
#include "../unit/b64enc.h"

static EVP_PKEY *rsa_key, *p256_key, *p384_key, *p521_key;
static unsigned char hmac_secret[32];

static EVP_PKEY *
gen(const char *type, const char *curve)
{
	EVP_PKEY *k = curve != NULL ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve)
				    : EVP_PKEY_Q_keygen(NULL, NULL, type, (size_t)2048);

	if (k == NULL) {
		fprintf(stderr, "fuzz-jws: cannot generate a %s key\n", curve ? curve : type);
		abort();
	}
	return k;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	rsa_key = gen("RSA", NULL);
	p256_key = gen("EC", "P-256");
	p384_key = gen("EC", "P-384");
	p521_key = gen("EC", "P-521");
	if (RAND_bytes(hmac_secret, sizeof(hmac_secret)) != 1)
		abort();
	return 0;
}

/* The raw form: three NUL-separated parts, encoded and joined. */
static char *
token_from_parts(const uint8_t *data, size_t size)
{
	const uint8_t *part[3] = { data, NULL, NULL };
	size_t len[3] = { size, 0, 0 }, i, n;
	char *enc[3], *t;
	const uint8_t *z;

	for (i = 0; i < 2; i++) {
		z = memchr(part[i], '\0', len[i]);
		if (z == NULL) {
			part[i + 1] = part[i] + len[i];
			break;
		}
		part[i + 1] = z + 1;
		len[i + 1] = len[i] - (size_t)(z + 1 - part[i]);
		len[i] = (size_t)(z - part[i]);
	}
	n = 3;
	for (i = 0; i < 3; i++) {
		enc[i] = b64url(part[i] != NULL ? part[i] : data, len[i]);
		n += strlen(enc[i]);
	}
	t = malloc(n);
	if (t == NULL)
		abort();
	snprintf(t, n, "%s.%s.%s", enc[0], enc[1], enc[2]);
	for (i = 0; i < 3; i++)
		free(enc[i]);
	return t;
}

static bool
terminated(const char *a, size_t n)
{
	return memchr(a, '\0', n) != NULL;
}

static bool
all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* A reason: non-empty, printable, quoted spans of at most 16 chars. */
static void
check_why(const char *why, size_t whysize, const char *where)
{
	const char *p, *q;

	FUZZ_CHECK("why", terminated(why, whysize) && why[0] != '\0',
		   "%s: failure without a terminated reason", where);
	if (!terminated(why, whysize))
		return;         /* FUZZ_SKIP */
	for (p = why; *p != '\0'; p++)
		FUZZ_CHECK("why", *p >= 0x20 && *p <= 0x7e, "%s: byte 0x%02x in the reason", where,
			   (unsigned char)*p);
	for (p = strchr(why, '"'); p != NULL; p = q != NULL ? strchr(q + 1, '"') : NULL) {
		q = strchr(p + 1, '"');
		FUZZ_CHECK("why-quote", q != NULL && q - p - 1 <= 16,
			   "%s: the reason quotes more than 16 characters: %s", where, why);
	}
}

static EVP_PKEY *
key_for(enum ropc_jws_alg alg)
{
	if (ropc_jws_alg_is_rsa(alg))
		return rsa_key;
	if (alg == ROPC_JWS_ES256)
		return p256_key;
	if (alg == ROPC_JWS_ES384)
		return p384_key;
	if (alg == ROPC_JWS_ES512)
		return p521_key;
	return NULL;
}

static const EVP_MD *
md_for(enum ropc_jws_alg alg)
{
	const char *n = ropc_jws_alg_name(alg);

	if (strcmp(n + 2, "256") == 0)
		return EVP_sha256();
	if (strcmp(n + 2, "384") == 0)
		return EVP_sha384();
	return EVP_sha512();
}

/* The JOSE signature of input by alg with the fixed key or secret; NULL
 * if OpenSSL failed (reported by the caller). */
static unsigned char *
sign(enum ropc_jws_alg alg, const char *input, size_t len, size_t *siglen)
{
	EVP_MD_CTX *mctx;
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *der = NULL, *out = NULL;
	size_t dlen = 0;
	bool pss = strncmp(ropc_jws_alg_name(alg), "PS", 2) == 0;

	if (ropc_jws_alg_is_hmac(alg)) {
		unsigned int n = 0;

		out = malloc(EVP_MAX_MD_SIZE);
		if (out != NULL && HMAC(md_for(alg), hmac_secret, sizeof(hmac_secret),
					(const unsigned char *)input, len, out, &n) != NULL) {
			*siglen = n;
			return out;
		}
		free(out);
		return NULL;
	}
	mctx = EVP_MD_CTX_new();
	if (mctx == NULL || EVP_DigestSignInit(mctx, &pctx, md_for(alg), NULL, key_for(alg)) != 1)
		goto done;
	if (ropc_jws_alg_is_rsa(alg) &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING) <= 0 ||
	     (pss && (EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0 ||
		      EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md_for(alg)) <= 0))))
		goto done;
	if (EVP_DigestSign(mctx, NULL, &dlen, (const unsigned char *)input, len) != 1 ||
	    (der = malloc(dlen)) == NULL ||
	    EVP_DigestSign(mctx, der, &dlen, (const unsigned char *)input, len) != 1)
		goto done;
	if (ropc_jws_alg_is_rsa(alg)) {
		out = der;
		der = NULL;
		*siglen = dlen;
	} else {
		size_t coord = alg == ROPC_JWS_ES256 ? 32 : alg == ROPC_JWS_ES384 ? 48 : 66;
		const unsigned char *p = der;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
		const BIGNUM *r, *s;

		if (es != NULL) {
			ECDSA_SIG_get0(es, &r, &s);
			out = malloc(2 * coord);
			if (out != NULL && BN_bn2binpad(r, out, (int)coord) > 0 &&
			    BN_bn2binpad(s, out + coord, (int)coord) > 0) {
				*siglen = 2 * coord;
			} else {
				free(out);
				out = NULL;
			}
			ECDSA_SIG_free(es);
		}
	}
done:
	EVP_MD_CTX_free(mctx);
	free(der);
	return out;
}

static int
verify_any(const struct ropc_jws *jws, char *why, size_t whysize)
{
	if (ropc_jws_alg_is_hmac(jws->alg))
		return ropc_jws_verify_hmac(jws, hmac_secret, sizeof(hmac_secret), why, whysize);
	return ropc_jws_verify_key(jws, key_for(jws->alg), why, whysize);
}

/* Sign jws's signing input here; the rebuilt token must verify, and with
 * one bit of its signature flipped must not. */
static void
sign_and_tamper(const struct ropc_jws *jws, uint32_t pick)
{
	struct ropc_jws again;
	unsigned char *sig;
	size_t siglen = 0, n;
	char *s, *t, why[160];
	int rc;

	sig = sign(jws->alg, jws->signing_input, jws->signing_input_len, &siglen);
	FUZZ_CHECK("harness", sig != NULL, "could not sign with %s", ropc_jws_alg_name(jws->alg));
	if (sig == NULL)
		return;
	for (rc = 0; rc < 2; rc++) {
		if (rc == 1)
			sig[pick % siglen] ^= (unsigned char)(1U << (pick / 7 % 8));
		s = b64url(sig, siglen);
		n = jws->signing_input_len + strlen(s) + 2;
		t = malloc(n);
		if (t == NULL)
			abort();
		snprintf(t, n, "%s.%s", jws->signing_input, s);
		memset(&again, 0, sizeof(again));
		memset(why, 'x', sizeof(why));
		if (ropc_jws_parse(t, &again, why, sizeof(why)) != 0) {
			/* Only the length can refuse it: the first two segments
			 * parsed before. */
			FUZZ_CHECK("resign", strlen(t) > ROPC_JWS_MAX_TOKEN,
				   "the token re-signed with %s does not parse: %s",
				   ropc_jws_alg_name(jws->alg), why);
		} else if (rc == 0) {
			int v = verify_any(&again, why, sizeof(why));

			FUZZ_CHECK("resign", v == 0, "a token signed here with %s does not verify: %s",
				   ropc_jws_alg_name(jws->alg), why);
		} else {
			FUZZ_CHECK("tamper", verify_any(&again, why, sizeof(why)) == -1,
				   "%s verifies with bit %u of signature byte %zu flipped",
				   ropc_jws_alg_name(jws->alg), pick / 7 % 8, (size_t)(pick % siglen));
		}
		ropc_jws_free(&again);
		free(t);
		free(s);
	}
	free(sig);
}

/* What a successful parse must look like. */
static void
check_parsed(const char *token, const struct ropc_jws *jws)
{
	const char *dot1 = strchr(token, '.'), *dot2 = dot1 != NULL ? strchr(dot1 + 1, '.') : NULL;
	struct json_object *v;
	char *enc;

	FUZZ_CHECK("parse", strlen(token) <= ROPC_JWS_MAX_TOKEN, "a token of %zu bytes accepted",
		   strlen(token));
	FUZZ_CHECK("parse", dot2 != NULL && strchr(dot2 + 1, '.') == NULL,
		   "accepted a token without exactly two dots");
	if (dot2 == NULL)
		return;         /* FUZZ_SKIP */
	FUZZ_CHECK("parse", (unsigned int)jws->alg < ROPC_JWS_ALG_COUNT, "alg %d", (int)jws->alg);
	FUZZ_CHECK("parse", json_object_is_type(jws->header, json_type_object) &&
		   json_object_is_type(jws->payload, json_type_object),
		   "header or payload is not an object");
	FUZZ_CHECK("parse", json_object_object_get_ex(jws->header, "alg", &v) &&
		   json_object_is_type(v, json_type_string) &&
		   strcmp(json_object_get_string(v), ropc_jws_alg_name(jws->alg)) == 0,
		   "alg is not the header's");
	FUZZ_CHECK("parse", !json_object_object_get_ex(jws->header, "crit", NULL),
		   "a crit header accepted");
	FUZZ_CHECK("parse", jws->signing_input != NULL &&
		   jws->signing_input_len == (size_t)(dot2 - token) &&
		   memcmp(jws->signing_input, token, jws->signing_input_len) == 0 &&
		   jws->signing_input[jws->signing_input_len] == '\0',
		   "signing_input is not the first two segments");
	FUZZ_CHECK("parse", jws->sig != NULL && jws->sig_len >= 1 && jws->sig_len <= 1024,
		   "signature of %zu bytes", jws->sig_len);
	if (jws->sig == NULL)
		return;
	enc = b64url(jws->sig, jws->sig_len);
	FUZZ_CHECK("canonical", strcmp(enc, dot2 + 1) == 0,
		   "the signature re-encodes to another text (non-canonical base64url accepted)");
	free(enc);
	FUZZ_CHECK("kid", terminated(jws->kid, sizeof(jws->kid)), "kid not terminated");
	if (jws->has_kid) {
		const char *p;

		FUZZ_CHECK("kid", jws->kid[0] != '\0', "empty kid kept");
		for (p = jws->kid; *p != '\0'; p++)
			FUZZ_CHECK("kid", *p >= 0x20 && *p <= 0x7e, "kid byte 0x%02x",
				   (unsigned char)*p);
		FUZZ_CHECK("kid", json_object_object_get_ex(jws->header, "kid", &v) &&
			   strcmp(json_object_get_string(v), jws->kid) == 0,
			   "kid is not the header's");
	} else {
		FUZZ_CHECK("kid", jws->kid[0] == '\0' &&
			   !json_object_object_get_ex(jws->header, "kid", NULL),
			   "has_kid false but a kid");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ropc_jws jws;
	char *token, why[160];
	uint32_t pick = 0;
	size_t i;
	int rc;

	if (size > 0 && data[0] == '{') {
		token = token_from_parts(data, size);
	} else {
		token = malloc(size + 1);
		if (token == NULL)
			return 0;
		memcpy(token, data, size);
		token[size] = '\0';
	}
	for (i = 0; i < size; i++)
		pick = pick * 31 + data[i];

	memset(&jws, 0, sizeof(jws));
	memset(why, 'x', sizeof(why));
	rc = ropc_jws_parse(token, &jws, why, sizeof(why));
	FUZZ_CHECK("api", rc == 0 || rc == -1, "ropc_jws_parse returned %d", rc);
	if (rc != 0) {
		check_why(why, sizeof(why), "ropc_jws_parse");
		FUZZ_CHECK("api", all_zero(&jws, sizeof(jws)),
			   "ropc_jws_parse failed but left the struct filled");
		ropc_jws_free(&jws);
		free(token);
		return 0;
	}
	check_parsed(token, &jws);

	/* Every verifier, every key: no crash, the families kept apart, and
	 * nothing from the input passes (the keys are random). */
	{
		EVP_PKEY *keys[4] = { rsa_key, p256_key, p384_key, p521_key };
		int v;

		memset(why, 'x', sizeof(why));
		v = ropc_jws_verify_hmac(&jws, hmac_secret, sizeof(hmac_secret), why, sizeof(why));
		FUZZ_CHECK("forgery", v == -1, "the input's %s signature verified with a random secret",
			   ropc_jws_alg_name(jws.alg));
		check_why(why, sizeof(why), "ropc_jws_verify_hmac");
		if (!ropc_jws_alg_is_hmac(jws.alg))
			FUZZ_CHECK("family", strstr(why, "not an HMAC") != NULL,
				   "verify_hmac on %s: %s", ropc_jws_alg_name(jws.alg), why);
		for (i = 0; i < 4; i++) {
			memset(why, 'x', sizeof(why));
			v = ropc_jws_verify_key(&jws, keys[i], why, sizeof(why));
			FUZZ_CHECK("forgery", v == -1,
				   "the input's %s signature verified with random key %zu",
				   ropc_jws_alg_name(jws.alg), i);
			check_why(why, sizeof(why), "ropc_jws_verify_key");
			if (ropc_jws_alg_is_hmac(jws.alg))
				FUZZ_CHECK("family", strstr(why, "client secret") != NULL,
					   "verify_key on %s: %s", ropc_jws_alg_name(jws.alg), why);
		}
		v = ropc_jws_verify_key(&jws, NULL, why, sizeof(why));
		FUZZ_CHECK("api", v == -1, "verify_key with a NULL key returned %d", v);
	}

	/* A signature made here passes; one bit off does not. */
	if (ropc_jws_alg_is_hmac(jws.alg) || pick % 4 == 0)
		sign_and_tamper(&jws, pick);

	ropc_jws_free(&jws);
	FUZZ_CHECK("free", all_zero(&jws, sizeof(jws)), "ropc_jws_free left data");
	free(token);
	return 0;
}
