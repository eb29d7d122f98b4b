/*
 * test-jwks.c: jwks.c on key sets built here from keys generated at test
 * time (RSA 2048 twice, RSA 1024, P-256 twice, P-384, P-521): which JWKs
 * are kept and which skipped (weak, symmetric, private, malformed, off the
 * curve), the document-level refusals and limits, and the choice of a key
 * for a token by kid, kty, curve, "use" and "alg".  A token signed here is
 * verified with the chosen key, end to end.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "jwks.h"
#include "jws.h"
#include "tap.h"
#include "b64enc.h"

static EVP_PKEY *rsa_a, *rsa_b, *rsa_1024, *p256_a, *p256_b, *p384, *p521;

/* ---- helpers ------------------------------------------------------------ */

/* base64url of the big-endian bytes of the BIGNUM parameter param of k,
 * padded to pad bytes when pad > 0. */
static char *
bn_param(EVP_PKEY *k, const char *param, int pad)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1100];
	int n;
	char *out;

	if (EVP_PKEY_get_bn_param(k, param, &bn) != 1)
		abort();
	n = pad > 0 ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
	if (n <= 0)
		abort();
	out = b64url(buf, (size_t)n);
	BN_free(bn);
	return out;
}

/* A JWK for an RSA key: {"kty":"RSA","n":..,"e":.. extra}; extra is more
 * members, starting with a comma, or "". */
static char *
rsa_jwk(EVP_PKEY *k, const char *extra)
{
	char *n = bn_param(k, OSSL_PKEY_PARAM_RSA_N, 0), *e = bn_param(k, OSSL_PKEY_PARAM_RSA_E, 0);
	size_t len = strlen(n) + strlen(e) + strlen(extra) + 64;
	char *out = malloc(len);

	snprintf(out, len, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"%s}", n, e, extra);
	free(n);
	free(e);
	return out;
}

static char *
ec_jwk(EVP_PKEY *k, const char *crv, const char *extra)
{
	int coord = strcmp(crv, "P-256") == 0 ? 32 : strcmp(crv, "P-384") == 0 ? 48 : 66;
	char *x = bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, coord);
	char *y = bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, coord);
	size_t len = strlen(x) + strlen(y) + strlen(extra) + 64;
	char *out = malloc(len);

	snprintf(out, len, "{\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"%s}", crv, x,
		 y, extra);
	free(x);
	free(y);
	return out;
}

/* {"keys":[a, b, ...]} of n JWK texts, freed here. */
static char *
set_of(int n, ...)
{
	va_list ap;
	size_t len = 16;
	char *out, *parts[40];
	int i;

	va_start(ap, n);
	for (i = 0; i < n; i++) {
		parts[i] = va_arg(ap, char *);
		len += strlen(parts[i]) + 1;
	}
	va_end(ap);
	out = malloc(len);
	strcpy(out, "{\"keys\":[");
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(out, ",");
		strcat(out, parts[i]);
		free(parts[i]);
	}
	strcat(out, "]}");
	return out;
}

/* Parse doc; returns the rc; *set must be freed by the caller. */
static int
parse(const char *doc, struct ropc_jwks *set, char *why, size_t whysize)
{
	why[0] = '\0';
	return ropc_jwks_parse(doc, strlen(doc), set, why, whysize);
}

/* The key set of one JWK must keep it (want_kept) or skip it with a reason
 * holding word. */
static void
one_jwk(char *jwk, bool want_kept, const char *word, const char *what)
{
	char *doc = set_of(1, jwk), why[256];
	struct ropc_jwks set;
	int rc = parse(doc, &set, why, sizeof(why));

	if (want_kept) {
		if (!CHECK(rc == 0 && set.n == 1 && set.skipped == 0 && set.keys[0].key != NULL,
			   "kept: %s", what))
			tap_diag("rc %d, n %zu, skipped %zu: %s", rc, set.n, set.skipped,
				 set.skipped_why);
	} else {
		if (!CHECK(rc == 0 && set.n == 0 && set.skipped == 1 &&
			   strstr(set.skipped_why, word) != NULL, "skipped: %s", what))
			tap_diag("rc %d (%s), n %zu, skipped %zu: \"%s\", expected \"%s\"", rc, why,
				 set.n, set.skipped, set.skipped_why, word);
	}
	ropc_jwks_free(&set);
	free(doc);
}

/* A parsed token with alg and kid (NULL: none), for select; free it. */
static void
token_for(struct ropc_jws *jws, const char *alg, const char *kid)
{
	char header[512], *h, *t, why[256];

	if (kid != NULL)
		snprintf(header, sizeof(header), "{\"alg\":\"%s\",\"kid\":\"%s\"}", alg, kid);
	else
		snprintf(header, sizeof(header), "{\"alg\":\"%s\"}", alg);
	h = b64url((const unsigned char *)header, strlen(header));
	t = malloc(strlen(h) + 16);
	sprintf(t, "%s.e30.AAAA", h);
	memset(jws, 0, sizeof(*jws));
	if (ropc_jws_parse(t, jws, why, sizeof(why)) != 0)
		tap_diag("token_for: %s", why);
	free(t);
	free(h);
}

static EVP_PKEY *
keygen(const char *type, const char *curve, size_t bits)
{
	EVP_PKEY *k = curve != NULL ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve)
				    : EVP_PKEY_Q_keygen(NULL, NULL, type, bits);

	if (k == NULL) {
		printf("Bail out! cannot generate a %s key\n", curve != NULL ? curve : type);
		exit(1);
	}
	return k;
}

/* ---- keys kept and keys skipped ----------------------------------------- */

static void
test_keys(void)
{
	char why[256], *doc;
	struct ropc_jwks set;
	int rc;

	/* A real set: two RSA keys and one of each curve, with metadata. */
	doc = set_of(5, rsa_jwk(rsa_a, ",\"kid\":\"r1\",\"use\":\"sig\",\"alg\":\"RS256\""),
		     rsa_jwk(rsa_b, ",\"kid\":\"r2\""),
		     ec_jwk(p256_a, "P-256", ",\"kid\":\"e1\",\"use\":\"sig\""),
		     ec_jwk(p384, "P-384", ",\"kid\":\"e2\""), ec_jwk(p521, "P-521", ""));
	rc = parse(doc, &set, why, sizeof(why));
	if (!CHECK(rc == 0 && set.n == 5 && set.skipped == 0, "a set of 5 good keys: all kept")) {
		tap_diag("rc %d (%s) n %zu skipped %zu (%s)", rc, why, set.n, set.skipped,
			 set.skipped_why);
		FAIL(5, "the good set did not parse");
	} else {
		const struct ropc_jwk *k = set.keys;

		CHECK(strcmp(k[0].kty, "RSA") == 0 && k[0].bits == 2048 && k[0].has_kid &&
		      strcmp(k[0].kid, "r1") == 0 && strcmp(k[0].use, "sig") == 0 &&
		      strcmp(k[0].alg, "RS256") == 0 &&
		      EVP_PKEY_get_base_id(k[0].key) == EVP_PKEY_RSA,
		      "RSA JWK: kty, bits, kid, use, alg stored, an RSA EVP_PKEY");
		CHECK(EVP_PKEY_eq(k[0].key, rsa_a) == 1 && EVP_PKEY_eq(k[1].key, rsa_b) == 1,
		      "the RSA keys are the ones published (n, e)");
		CHECK(strcmp(k[2].kty, "EC") == 0 && k[2].bits == 256 &&
		      EVP_PKEY_eq(k[2].key, p256_a) == 1 && k[3].bits == 384 &&
		      EVP_PKEY_eq(k[3].key, p384) == 1 && k[4].bits == 521 &&
		      EVP_PKEY_eq(k[4].key, p521) == 1,
		      "the EC keys are the ones published, on their curves");
		CHECK(k[1].use[0] == '\0' && k[1].alg[0] == '\0' && k[3].use[0] == '\0',
		      "absent use and alg are empty");
		CHECK(!k[4].has_kid && k[4].kid[0] == '\0', "a JWK without kid");
	}
	ropc_jwks_free(&set);
	free(doc);

	one_jwk(rsa_jwk(rsa_1024, ",\"kid\":\"weak\""), false, "RSA key of 1024 bits is too small",
		"RSA 1024");
	one_jwk(strdup("{\"kty\":\"oct\",\"k\":\"c2VjcmV0\",\"kid\":\"hs\"}"), false, "oct",
		"symmetric key (kty oct)");
	one_jwk(strdup("{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
		       "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}"),
		false, "kty \"OKP\" not supported", "kty OKP (Ed25519)");
	one_jwk(strdup("{\"kty\":\"rsa\",\"n\":\"AQAB\",\"e\":\"AQAB\"}"), false, "not supported",
		"kty in lower case");
	one_jwk(strdup("{\"n\":\"AQAB\",\"e\":\"AQAB\"}"), false, "no kty", "no kty");
	one_jwk(strdup("{\"kty\":1}"), false, "kty is not a string", "kty a number");
	one_jwk(rsa_jwk(rsa_a, ",\"d\":\"AQAB\""), false, "private key material published",
		"RSA with d");
	one_jwk(ec_jwk(p256_a, "P-256", ",\"d\":\"AQAB\""), false,
		"private key material published", "EC with d");
	one_jwk(rsa_jwk(rsa_a, ",\"p\":\"AQAB\",\"q\":\"AQAB\""), false,
		"private key material published", "RSA with p and q");
	one_jwk(strdup("[1]"), false, "not a JSON object", "an array as a key");

	/* RSA n and e. */
	{
		char *n = bn_param(rsa_a, OSSL_PKEY_PARAM_RSA_N, 0), buf[2000];
		unsigned char big[513], *raw = NULL;
		size_t rawlen = 0;
		char *bn;

		snprintf(buf, sizeof(buf), "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AAEAAQ\"}", n);
		one_jwk(strdup(buf), true, "", "e with a leading zero byte (AAEAAQ)");
		if (ropc_b64url_decode(n, strlen(n), 1024, &raw, &rawlen) == 0) {
			unsigned char padded[300];

			padded[0] = 0;
			memcpy(padded + 1, raw, rawlen);
			bn = b64url(padded, rawlen + 1);
			snprintf(buf, sizeof(buf), "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}", bn);
			one_jwk(strdup(buf), true, "", "n with a leading zero byte");
			free(bn);
			/* An even n. */
			raw[rawlen - 1] &= 0xfe;
			bn = b64url(raw, rawlen);
			snprintf(buf, sizeof(buf), "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}", bn);
			one_jwk(strdup(buf), false, "n is not an odd number", "an even n");
			free(bn);
			free(raw);
		} else {
			FAIL(2, "cannot decode n");
		}
		snprintf(buf, sizeof(buf), "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAA\"}", n);
		one_jwk(strdup(buf), false, "e is not odd", "an even e (65536)");
		snprintf(buf, sizeof(buf), "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQ\"}", n);
		one_jwk(strdup(buf), false, "e is not odd and above 1", "e = 1");
		snprintf(buf, sizeof(buf), "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AA\"}", n);
		one_jwk(strdup(buf), false, "e is not odd", "e = 0");
		snprintf(buf, sizeof(buf), "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAAAAAAAAAB\"}", n);
		one_jwk(strdup(buf), false, "e is not base64url of 1 to 8 bytes", "e of 9 bytes");
		snprintf(buf, sizeof(buf), "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB=\"}", n);
		one_jwk(strdup(buf), false, "e is not base64url", "e with padding");
		snprintf(buf, sizeof(buf), "{\"kty\":\"RSA\",\"n\":\"%s\"}", n);
		one_jwk(strdup(buf), false, "e is missing", "no e");
		snprintf(buf, sizeof(buf), "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":65537}", n);
		one_jwk(strdup(buf), false, "e is not a string", "e a number");
		one_jwk(strdup("{\"kty\":\"RSA\",\"e\":\"AQAB\"}"), false, "n is missing", "no n");
		one_jwk(strdup("{\"kty\":\"RSA\",\"n\":\"\",\"e\":\"AQAB\"}"), false,
			"n is not base64url", "empty n");
		snprintf(buf, sizeof(buf), "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}",
			 n + 1);
		one_jwk(strdup(buf), false, "n is not base64url", "n of a length no base64 has");
		/* n of 513 bytes (odd): over the 4096-bit cap. */
		memset(big, 0xc5, sizeof(big));
		bn = b64url(big, sizeof(big));
		{
			char *jd = malloc(strlen(bn) + 64);

			sprintf(jd, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}", bn);
			one_jwk(jd, false, "n is not base64url of 1 to 512 bytes", "n of 513 bytes");
		}
		free(bn);
		/* n of 512 bytes of 0xc5 (odd, 4096 bits): passes the size
		 * rules, then OpenSSL's public key check (it has small factors). */
		bn = b64url(big, 512);
		{
			char *jd = malloc(strlen(bn) + 64);

			sprintf(jd, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}", bn);
			one_jwk(jd, false, "public key check", "n of 512 bytes with small factors");
		}
		free(bn);
		free(n);
	}

	/* EC crv, x and y. */
	{
		char *x = bn_param(p256_a, OSSL_PKEY_PARAM_EC_PUB_X, 32);
		char *y = bn_param(p256_a, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
		char *x33 = bn_param(p256_a, OSSL_PKEY_PARAM_EC_PUB_X, 33);
		char buf[600], *yb;
		unsigned char *raw = NULL;
		size_t rawlen = 0;

		snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"%s\",\"y\":\"%s\"}",
			 x, y);
		one_jwk(strdup(buf), false, "x is not base64url of 48 bytes",
			"P-256 coordinates with crv P-384");
		snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"x\":\"%s\",\"y\":\"%s\"}",
			 x, y);
		one_jwk(strdup(buf), false, "curve \"secp256k1\" not supported", "crv secp256k1");
		snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"p-256\",\"x\":\"%s\",\"y\":\"%s\"}",
			 x, y);
		one_jwk(strdup(buf), false, "not supported", "crv in lower case");
		snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
		one_jwk(strdup(buf), false, "EC key without crv", "no crv");
		snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}",
			 x33, y);
		one_jwk(strdup(buf), false, "x is not base64url of 32 bytes", "x of 33 bytes");
		snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\"}", x);
		one_jwk(strdup(buf), false, "y is missing", "no y");
		/* y + 1: a point off the curve. */
		if (ropc_b64url_decode(y, strlen(y), 32, &raw, &rawlen) == 0) {
			raw[31] ^= 1;
			yb = b64url(raw, rawlen);
			snprintf(buf, sizeof(buf),
				 "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", x, yb);
			one_jwk(strdup(buf), false, "EC point is not on P-256", "a point off the curve");
			free(yb);
			free(raw);
		} else {
			FAIL(1, "cannot decode y");
		}
		/* x = p (out of range), y = 0. */
		snprintf(buf, sizeof(buf), "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}",
			 "_____wAAAAEAAAAAAAAAAAAAAAD_______________8",
			 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
		one_jwk(strdup(buf), false, "EC point is not on P-256", "x = p, y = 0");
		free(x);
		free(y);
		free(x33);
	}

	/* kid, use, alg members. */
	{
		char kid[300], extra[400];

		memset(kid, 'k', 255);
		kid[255] = '\0';
		snprintf(extra, sizeof(extra), ",\"kid\":\"%s\"", kid);
		one_jwk(ec_jwk(p256_a, "P-256", extra), true, "", "kid of 255 bytes");
		memset(kid, 'k', 256);
		kid[256] = '\0';
		snprintf(extra, sizeof(extra), ",\"kid\":\"%s\"", kid);
		one_jwk(ec_jwk(p256_a, "P-256", extra), false, "kid is empty, over 255 bytes",
			"kid of 256 bytes");
		one_jwk(ec_jwk(p256_a, "P-256", ",\"kid\":5"), false, "kid is not a string",
			"kid a number");
		one_jwk(ec_jwk(p256_a, "P-256", ",\"kid\":\"a\\u0000b\""), false, "kid holds a NUL",
			"kid with a NUL byte");
		one_jwk(ec_jwk(p256_a, "P-256", ",\"use\":\"signature-and-more\""), false,
			"use is not a short printable string", "use of 18 bytes");
		one_jwk(ec_jwk(p256_a, "P-256", ",\"alg\":[\"ES256\"]"), false, "alg is not a string",
			"alg an array");
		one_jwk(ec_jwk(p256_a, "P-256", ",\"use\":\"enc\""), true, "",
			"use enc is kept (select refuses it)");
	}
}

static void
test_documents(void)
{
	char why[256], *doc;
	struct ropc_jwks set;
	int i, rc;

	memset(&set, 0x5a, sizeof(set));
	rc = parse("{\"keys\":[]}", &set, why, sizeof(why));
	CHECK(rc == 0 && set.n == 0 && set.skipped == 0 && set.keys == NULL,
	      "an empty key set parses, with no key");
	ropc_jwks_free(&set);

	rc = parse("{\"keys\":[1,2]", &set, why, sizeof(why));
	CHECK(rc == -1 && strstr(why, "not JSON") != NULL && set.n == 0 && set.keys == NULL,
	      "truncated JSON refused");
	ropc_jwks_free(&set);
	rc = parse("[{\"kty\":\"RSA\"}]", &set, why, sizeof(why));
	CHECK(rc == -1 && strstr(why, "not a JSON object") != NULL, "a bare array refused");
	ropc_jwks_free(&set);
	rc = parse("{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}", &set, why, sizeof(why));
	CHECK(rc == -1 && strstr(why, "no \"keys\" array") != NULL, "a single JWK refused");
	ropc_jwks_free(&set);
	rc = parse("{\"keys\":{}}", &set, why, sizeof(why));
	CHECK(rc == -1 && strstr(why, "no \"keys\" array") != NULL, "keys an object refused");
	ropc_jwks_free(&set);
	rc = parse("{\"keys\":[]} x", &set, why, sizeof(why));
	CHECK(rc == -1 && strstr(why, "not JSON") != NULL, "garbage after the set refused");
	ropc_jwks_free(&set);
	rc = ropc_jwks_parse("{\"keys\":[]}\0", 12, &set, why, sizeof(why));
	CHECK(rc == -1 && strstr(why, "not JSON") != NULL, "a NUL byte after the set refused");
	ropc_jwks_free(&set);
	rc = parse("{\"keys\":[]} \r\n\t", &set, why, sizeof(why));
	CHECK_INT(rc, 0, "JSON white space after the set accepted");
	ropc_jwks_free(&set);
	rc = parse("{\"keys\":[],\"x\":\"\xc0\xaf\"}", &set, why, sizeof(why));
	CHECK(rc == -1 && strstr(why, "UTF-8") != NULL, "overlong UTF-8 refused");
	ropc_jwks_free(&set);
	rc = ropc_jwks_parse("", 0, &set, why, sizeof(why));
	CHECK(rc == -1 && strstr(why, "empty") != NULL, "an empty document refused");
	ropc_jwks_free(&set);

	/* Depth: the set object, "keys" and a JWK are 3 levels; 13 more
	 * arrays make 16, 14 make 17. */
	{
		char deep[256];
		int d;

		for (d = 13; d <= 14; d++) {
			strcpy(deep, "{\"keys\":[{\"kty\":\"none\",\"x\":");
			for (i = 0; i < d; i++)
				strcat(deep, "[");
			for (i = 0; i < d; i++)
				strcat(deep, "]");
			strcat(deep, "}]}");
			rc = parse(deep, &set, why, sizeof(why));
			if (d == 13)
				CHECK(rc == 0 && set.skipped == 1, "a set nested 16 deep parses");
			else
				CHECK(rc == -1 && strstr(why, "not JSON") != NULL,
				      "a set nested 17 deep refused");
			ropc_jwks_free(&set);
		}
	}

	/* Size: ROPC_JWKS_MAX_DOC bytes (white space padded) parse, one more
	 * does not. */
	doc = malloc(ROPC_JWKS_MAX_DOC + 2);
	memset(doc, ' ', ROPC_JWKS_MAX_DOC + 1);
	memcpy(doc, "{\"keys\":[]}", 11);
	doc[ROPC_JWKS_MAX_DOC + 1] = '\0';
	rc = ropc_jwks_parse(doc, ROPC_JWKS_MAX_DOC, &set, why, sizeof(why));
	CHECK_INT(rc, 0, "a set of exactly %zu bytes parses", ROPC_JWKS_MAX_DOC);
	ropc_jwks_free(&set);
	rc = ropc_jwks_parse(doc, ROPC_JWKS_MAX_DOC + 1, &set, why, sizeof(why));
	CHECK(rc == -1 && strstr(why, "over 65536 bytes") != NULL, "a set of %zu bytes refused",
	      ROPC_JWKS_MAX_DOC + 1);
	ropc_jwks_free(&set);
	free(doc);

	/* 34 keys: the first 32 are looked at (the 2nd is weak), the rest
	 * counted as skipped. */
	{
		char *jwk = ec_jwk(p256_a, "P-256", ""), *weak = rsa_jwk(rsa_1024, "");
		size_t len = 64 + 34 * (strlen(jwk) + strlen(weak) + 1);

		doc = malloc(len);
		strcpy(doc, "{\"keys\":[");
		for (i = 0; i < 34; i++) {
			if (i > 0)
				strcat(doc, ",");
			strcat(doc, i == 1 ? weak : jwk);
		}
		strcat(doc, "]}");
		rc = parse(doc, &set, why, sizeof(why));
		CHECK(rc == 0 && set.n == 31 && set.skipped == 3 &&
		      strstr(set.skipped_why, "key 1: RSA key of 1024 bits") != NULL,
		      "34 keys: 31 of the first 32 kept, 1 weak and 2 beyond the cap skipped");
		ropc_jwks_free(&set);
		free(doc);
		free(jwk);
		free(weak);
	}
	{
		char *jwk = ec_jwk(p256_a, "P-256", "");
		size_t len = 64 + 33 * (strlen(jwk) + 1);

		doc = malloc(len);
		strcpy(doc, "{\"keys\":[");
		for (i = 0; i < 33; i++) {
			if (i > 0)
				strcat(doc, ",");
			strcat(doc, jwk);
		}
		strcat(doc, "]}");
		rc = parse(doc, &set, why, sizeof(why));
		CHECK(rc == 0 && set.n == 32 && set.skipped == 1 &&
		      strstr(set.skipped_why, "more than 32 keys") != NULL,
		      "33 good keys: 32 kept, the 33rd skipped as over the cap");
		ropc_jwks_free(&set);
		free(doc);
		free(jwk);
	}

	/* The first reason is the one kept. */
	doc = set_of(3, rsa_jwk(rsa_a, ",\"d\":\"AQAB\""), rsa_jwk(rsa_1024, ""),
		     rsa_jwk(rsa_a, ""));
	rc = parse(doc, &set, why, sizeof(why));
	CHECK(rc == 0 && set.n == 1 && set.skipped == 2 &&
	      strstr(set.skipped_why, "key 0: private key material") != NULL,
	      "two skipped: count 2, first reason kept");
	ropc_jwks_free(&set);
	free(doc);

	memset(&set, 0, sizeof(set));
	ropc_jwks_free(&set);
	ropc_jwks_free(NULL);
	CHECK(set.keys == NULL && set.n == 0, "freeing a zeroed set is safe");
}

/* ---- choosing a key ----------------------------------------------------- */

/* select for (alg, kid); want is the index of the key expected, or -1 for
 * NULL with a reason holding word and kid_unknown as want_unknown. */
static void
expect_select(const struct ropc_jwks *set, const char *alg, const char *kid, int want,
	      const char *word, bool want_unknown, const char *what)
{
	struct ropc_jws jws;
	const struct ropc_jwk *k;
	bool unknown = !want_unknown;
	char why[256] = "";

	token_for(&jws, alg, kid);
	k = ropc_jwks_select(set, &jws, &unknown, why, sizeof(why));
	if (want >= 0) {
		if (!CHECK(k == &set->keys[want] && !unknown, "select %s: %s", alg, what))
			tap_diag("got key %d (%s), unknown %d", k != NULL ? (int)(k - set->keys) : -1,
				 why, (int)unknown);
	} else {
		if (!CHECK(k == NULL && strstr(why, word) != NULL && unknown == want_unknown,
			   "select %s: %s", alg, what))
			tap_diag("got key %d, why \"%s\", unknown %d",
				 k != NULL ? (int)(k - set->keys) : -1, why, (int)unknown);
	}
	ropc_jws_free(&jws);
}

static void
test_select(void)
{
	char why[256], *doc;
	struct ropc_jwks set;

	/* 0 r1 RSA use=sig alg=RS256 | 1 r2 RSA | 2 e1 P-256 | 3 e3 P-384
	 * | 4 enc RSA use=enc | 5 dup RSA (rsa_a) | 6 dup P-256 | 7 dup RSA
	 * (rsa_b) | 8 P-256 without kid | 9 r384 RSA alg=RS384. */
	doc = set_of(10, rsa_jwk(rsa_a, ",\"kid\":\"r1\",\"use\":\"sig\",\"alg\":\"RS256\""),
		     rsa_jwk(rsa_b, ",\"kid\":\"r2\""), ec_jwk(p256_a, "P-256", ",\"kid\":\"e1\""),
		     ec_jwk(p384, "P-384", ",\"kid\":\"e3\""),
		     rsa_jwk(rsa_a, ",\"kid\":\"enc\",\"use\":\"enc\""),
		     rsa_jwk(rsa_a, ",\"kid\":\"dup\""), ec_jwk(p256_b, "P-256", ",\"kid\":\"dup\""),
		     rsa_jwk(rsa_b, ",\"kid\":\"dup\""), ec_jwk(p256_b, "P-256", ""),
		     rsa_jwk(rsa_b, ",\"kid\":\"r384\",\"alg\":\"RS384\""));
	if (parse(doc, &set, why, sizeof(why)) != 0 || set.n != 10) {
		FAIL(16, "the select set did not parse: %s (%zu keys, %s)", why, set.n,
		     set.skipped_why);
		ropc_jwks_free(&set);
		free(doc);
		return;
	}
	expect_select(&set, "RS256", "r1", 0, "", false, "kid r1, use sig, alg RS256");
	expect_select(&set, "PS256", "r1", -1, "does not fit PS256", false,
		      "kid r1 has alg RS256: not for PS256");
	expect_select(&set, "PS256", "r2", 1, "", false, "kid r2 without alg: any RSA alg");
	expect_select(&set, "ES256", "r2", -1, "does not fit ES256", false,
		      "kid r2 is RSA: not for ES256");
	expect_select(&set, "ES256", "e1", 2, "", false, "kid e1 on P-256");
	expect_select(&set, "ES384", "e1", -1, "does not fit", false,
		      "kid e1 on P-256: not for ES384");
	expect_select(&set, "ES256", "e3", -1, "does not fit", false,
		      "kid e3 on P-384: not for ES256");
	expect_select(&set, "RS256", "enc", -1, "does not fit", false, "use enc: not selected");
	expect_select(&set, "RS256", "nope", -1, "no key in the set has the token's kid", true,
		      "unknown kid sets kid_unknown");
	expect_select(&set, "ES256", "dup", 6, "", false, "duplicate kid: the EC one for ES256");
	expect_select(&set, "RS256", "dup", 5, "", false,
		      "duplicate kid: the first RSA one for RS256");
	expect_select(&set, "RS384", "r384", 9, "", false, "kid r384 with alg RS384");
	expect_select(&set, "RS256", "r384", -1, "does not fit", false,
		      "alg RS384 of the key differs from RS256");
	expect_select(&set, "RS256", NULL, -1, "several keys", false,
		      "no kid, several RSA keys: none");
	expect_select(&set, "HS256", "r1", -1, "client secret", false, "HS256 never from a set");
	{
		struct ropc_jws jws;

		token_for(&jws, "RS256", "r1");
		CHECK(ropc_jwks_select(NULL, &jws, NULL, why, sizeof(why)) == NULL &&
		      ropc_jwks_select(&set, NULL, NULL, why, sizeof(why)) == NULL &&
		      ropc_jwks_select(&set, &jws, NULL, why, sizeof(why)) == &set.keys[0],
		      "NULL set or token: NULL; kid_unknown may be NULL");
		ropc_jws_free(&jws);
	}
	ropc_jwks_free(&set);
	free(doc);

	/* Without kid. */
	doc = set_of(2, rsa_jwk(rsa_a, ",\"kid\":\"r1\""), ec_jwk(p256_a, "P-256", ""));
	if (parse(doc, &set, why, sizeof(why)) == 0) {
		expect_select(&set, "RS256", NULL, 0, "", false,
			      "no kid, one RSA key among others: that one");
		expect_select(&set, "ES256", NULL, 1, "", false, "no kid, one P-256 key: that one");
		expect_select(&set, "ES512", NULL, -1, "no key in the set fits ES512", false,
			      "no kid, no P-521 key: none");
	} else {
		FAIL(3, "the set did not parse: %s", why);
	}
	ropc_jwks_free(&set);
	free(doc);
	doc = set_of(1, rsa_jwk(rsa_a, ",\"use\":\"enc\""));
	if (parse(doc, &set, why, sizeof(why)) == 0)
		expect_select(&set, "RS256", NULL, -1, "no key in the set fits", false,
			      "no kid, the only key is use enc: none");
	else
		FAIL(1, "the set did not parse: %s", why);
	ropc_jwks_free(&set);
	free(doc);
	doc = set_of(1, rsa_jwk(rsa_a, ""));
	if (parse(doc, &set, why, sizeof(why)) == 0)
		expect_select(&set, "RS256", "k9", -1, "has the token's kid", true,
			      "token kid, one key without kid: no fallback, kid_unknown");
	else
		FAIL(1, "the set did not parse: %s", why);
	ropc_jwks_free(&set);
	free(doc);
}

/* A token signed here, verified with the key the set gives for it. */
static void
test_end_to_end(void)
{
	char why[256], *doc, *h, *p, *input, *s, *t;
	struct ropc_jwks set;
	struct ropc_jws jws;
	const struct ropc_jwk *k;
	unsigned char sig[512];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	bool unknown = true;
	int rc = -1;

	doc = set_of(2, rsa_jwk(rsa_b, ",\"kid\":\"other\""), rsa_jwk(rsa_a, ",\"kid\":\"main\""));
	h = b64url((const unsigned char *)"{\"alg\":\"RS256\",\"kid\":\"main\"}", 28);
	p = b64url((const unsigned char *)"{\"sub\":\"alice\"}", 15);
	input = malloc(strlen(h) + strlen(p) + 2);
	sprintf(input, "%s.%s", h, p);
	if (mctx == NULL || EVP_DigestSignInit(mctx, NULL, EVP_sha256(), NULL, rsa_a) != 1 ||
	    EVP_DigestSign(mctx, sig, &siglen, (const unsigned char *)input, strlen(input)) != 1)
		abort();
	s = b64url(sig, siglen);
	t = malloc(strlen(input) + strlen(s) + 2);
	sprintf(t, "%s.%s", input, s);
	memset(&jws, 0, sizeof(jws));
	if (parse(doc, &set, why, sizeof(why)) == 0 &&
	    ropc_jws_parse(t, &jws, why, sizeof(why)) == 0) {
		k = ropc_jwks_select(&set, &jws, &unknown, why, sizeof(why));
		if (k != NULL)
			rc = ropc_jws_verify_key(&jws, k->key, why, sizeof(why));
		CHECK(k == &set.keys[1] && rc == 0 && !unknown,
		      "RS256 token: key chosen by kid from the set verifies it");
		if (set.keys != NULL)
			CHECK_INT(ropc_jws_verify_key(&jws, set.keys[0].key, why, sizeof(why)), -1,
				  "the other key of the set does not");
	} else {
		FAIL(2, "%s", why);
	}
	ropc_jws_free(&jws);
	ropc_jwks_free(&set);
	EVP_MD_CTX_free(mctx);
	free(doc);
	free(h);
	free(p);
	free(input);
	free(s);
	free(t);
}

int
main(void)
{
	rsa_a = keygen("RSA", NULL, 2048);
	rsa_b = keygen("RSA", NULL, 2048);
	rsa_1024 = keygen("RSA", NULL, 1024);
	p256_a = keygen("EC", "P-256", 0);
	p256_b = keygen("EC", "P-256", 0);
	p384 = keygen("EC", "P-384", 0);
	p521 = keygen("EC", "P-521", 0);

	test_keys();
	test_documents();
	test_select();
	test_end_to_end();

	EVP_PKEY_free(rsa_a);
	EVP_PKEY_free(rsa_b);
	EVP_PKEY_free(rsa_1024);
	EVP_PKEY_free(p256_a);
	EVP_PKEY_free(p256_b);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(p521);
	return tap_done();
}
