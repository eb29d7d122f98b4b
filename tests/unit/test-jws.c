/*
 * test-jws.c: jws.c on tokens made here.  The keys are generated at test
 * time (RSA 2048 twice, RSA 1024, an RSA-PSS key, two keys on each of
 * P-256, P-384, P-521) and the tokens signed with OpenSSL's EVP by the
 * small signer below (ES* signatures turned from DER into raw r||s), so
 * every algorithm is checked against an independent signer: it verifies
 * with the right key, and fails with the wrong key, a changed payload, a
 * changed header, a signature one byte short or one byte long.  Then the
 * key/algorithm mismatches (HS256 "signed" with the RSA public key, RS256
 * with an EC key, ES256 with a P-384 key, ES384 made with a P-256 key, a
 * 1024-bit key, PSS with the wrong salt length), the base64url decoder's
 * edges, and every refusal and limit of the parser.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "jws.h"
#include "tap.h"
#include "b64enc.h"

static const char secret[] = "an-HS256-client-secret-0123456789";
static const char other_secret[] = "an-HS256-client-secret-0123456788";

static EVP_PKEY *rsa_a, *rsa_b, *rsa_1024, *rsa_pss, *p256_a, *p256_b, *p384_a,
	*p384_b, *p521_a, *p521_b;

/* ---- helpers: base64url, signing, tokens -------------------------------- */

static char *
b64url_s(const char *s)
{
	return b64url((const unsigned char *)s, strlen(s));
}

static char *
cat3(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + 3;
	char *out = malloc(n);

	if (out == NULL)
		abort();
	snprintf(out, n, "%s.%s.%s", a, b, c);
	return out;
}

static const EVP_MD *
md_of(enum ropc_jws_alg alg)
{
	const char *name = ropc_jws_alg_name(alg);

	if (strcmp(name + 2, "256") == 0)
		return EVP_sha256();
	if (strcmp(name + 2, "384") == 0)
		return EVP_sha384();
	return EVP_sha512();
}

static size_t
coord_of(enum ropc_jws_alg alg)
{
	return alg == ROPC_JWS_ES256 ? 32 : alg == ROPC_JWS_ES384 ? 48 : 66;
}

/*
 * Sign input as alg does: HMAC with secret for HS*, else with key.  For
 * PS*, saltlen is the PSS salt length (RSA_PSS_SALTLEN_DIGEST for JOSE);
 * for ES*, r and s are padded to coord bytes (coord_of(alg) for JOSE).
 * Returns the signature (free it) or NULL.
 */
static unsigned char *
sign_ex(enum ropc_jws_alg alg, EVP_PKEY *key, const char *hsecret, const char *input,
	int saltlen, size_t coord, size_t *siglen)
{
	const EVP_MD *md = md_of(alg);
	unsigned char *sig = NULL, *der = NULL;
	EVP_MD_CTX *mctx;
	EVP_PKEY_CTX *pctx = NULL;
	size_t dlen = 0;

	if (ropc_jws_alg_is_hmac(alg)) {
		unsigned int n = 0;

		sig = malloc(EVP_MAX_MD_SIZE);
		if (sig == NULL || HMAC(md, hsecret, (int)strlen(hsecret),
					(const unsigned char *)input, strlen(input), sig, &n) == NULL) {
			free(sig);
			return NULL;
		}
		*siglen = n;
		return sig;
	}
	mctx = EVP_MD_CTX_new();
	if (mctx == NULL || EVP_DigestSignInit(mctx, &pctx, md, NULL, key) != 1)
		goto fail;
	if (ropc_jws_alg_is_rsa(alg) && EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA_PSS &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, strncmp(ropc_jws_alg_name(alg), "PS", 2) == 0
					 ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING) <= 0)
		goto fail;
	if (strncmp(ropc_jws_alg_name(alg), "PS", 2) == 0 &&
	    (EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, saltlen) <= 0 ||
	     EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) <= 0))
		goto fail;
	if (EVP_DigestSign(mctx, NULL, &dlen, (const unsigned char *)input, strlen(input)) != 1)
		goto fail;
	der = malloc(dlen);
	if (der == NULL ||
	    EVP_DigestSign(mctx, der, &dlen, (const unsigned char *)input, strlen(input)) != 1)
		goto fail;
	EVP_MD_CTX_free(mctx);
	mctx = NULL;
	if (!ropc_jws_alg_is_ec(alg)) {
		*siglen = dlen;
		return der;
	} else {
		const unsigned char *p = der;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
		const BIGNUM *r, *s;

		if (es == NULL)
			goto fail;
		ECDSA_SIG_get0(es, &r, &s);
		sig = malloc(2 * coord);
		if (sig == NULL || BN_bn2binpad(r, sig, (int)coord) < 0 ||
		    BN_bn2binpad(s, sig + coord, (int)coord) < 0) {
			ECDSA_SIG_free(es);
			free(sig);
			sig = NULL;
			goto fail;
		}
		ECDSA_SIG_free(es);
		free(der);
		*siglen = 2 * coord;
		return sig;
	}
fail:
	ERR_print_errors_fp(stdout);
	EVP_MD_CTX_free(mctx);
	free(der);
	return NULL;
}

static unsigned char *
sign(enum ropc_jws_alg alg, EVP_PKEY *key, const char *hsecret, const char *input,
     size_t *siglen)
{
	return sign_ex(alg, key, hsecret, input, RSA_PSS_SALTLEN_DIGEST,
		       ropc_jws_alg_is_ec(alg) ? coord_of(alg) : 0, siglen);
}

/* The token header.payload.signature for JSON texts header and payload and
 * the raw signature sig; free it. */
static char *
token_raw(const char *header, const char *payload, const unsigned char *sig, size_t siglen)
{
	char *h = b64url_s(header), *p = b64url_s(payload), *s = b64url(sig, siglen);
	char *t = cat3(h, p, s);

	free(h);
	free(p);
	free(s);
	return t;
}

/* header.payload signed by alg with key or hsecret; free it. */
static char *
token_signed(enum ropc_jws_alg alg, EVP_PKEY *key, const char *hsecret, const char *header,
	     const char *payload)
{
	char *h = b64url_s(header), *p = b64url_s(payload), *input, *s, *t;
	unsigned char *sig;
	size_t siglen = 0;

	input = malloc(strlen(h) + strlen(p) + 2);
	if (input == NULL)
		abort();
	sprintf(input, "%s.%s", h, p);
	sig = sign(alg, key, hsecret, input, &siglen);
	if (sig == NULL) {
		tap_diag("could not sign %s", ropc_jws_alg_name(alg));
		sig = calloc(1, 1);
		siglen = 1;
	}
	s = b64url(sig, siglen);
	t = cat3(h, p, s);
	free(sig);
	free(h);
	free(p);
	free(s);
	free(input);
	return t;
}

/* ropc_jws_verify_key (key) or ropc_jws_verify_hmac (hsecret) on token:
 * 0 or -1 as they return, -2 when the token does not parse. */
static int
verify(const char *token, EVP_PKEY *key, const char *hsecret, char *why, size_t whysize)
{
	struct ropc_jws jws;
	int rc;

	memset(&jws, 0, sizeof(jws));
	if (ropc_jws_parse(token, &jws, why, whysize) != 0) {
		tap_diag("parse: %s", why);
		return -2;
	}
	if (hsecret != NULL)
		rc = ropc_jws_verify_hmac(&jws, (const unsigned char *)hsecret, strlen(hsecret),
					  why, whysize);
	else
		rc = ropc_jws_verify_key(&jws, key, why, whysize);
	ropc_jws_free(&jws);
	return rc;
}

/* The token must be refused at parse with a reason holding word. */
static void
refused(const char *token, const char *word, const char *what)
{
	struct ropc_jws jws;
	char why[256] = "";
	int rc;

	memset(&jws, 0, sizeof(jws));
	rc = ropc_jws_parse(token, &jws, why, sizeof(why));
	if (!CHECK(rc == -1 && strstr(why, word) != NULL, "refused: %s", what))
		tap_diag("rc %d, why \"%s\", expected it to contain \"%s\"", rc, why, word);
	ropc_jws_free(&jws);
}

/* Refused with a header JSON text (payload and signature fine). */
static void
refused_header(const char *header, const char *word, const char *what)
{
	static const unsigned char sig[32] = { 1 };
	char *t = token_raw(header, "{\"sub\":\"alice\"}", sig, sizeof(sig));

	refused(t, word, what);
	free(t);
}

static void
refused_payload(const char *payload, const char *word, const char *what)
{
	static const unsigned char sig[32] = { 1 };
	char *t = token_raw("{\"alg\":\"HS256\"}", payload, sig, sizeof(sig));

	refused(t, word, what);
	free(t);
}

/* The header must parse. */
static void
accepted_header(const char *header, const char *what)
{
	static const unsigned char sig[32] = { 1 };
	char *t = token_raw(header, "{\"sub\":\"alice\"}", sig, sizeof(sig));
	struct ropc_jws jws;
	char why[256] = "";
	int rc;

	memset(&jws, 0, sizeof(jws));
	rc = ropc_jws_parse(t, &jws, why, sizeof(why));
	if (!CHECK_INT(rc, 0, "accepted: %s", what))
		tap_diag("why: %s", why);
	ropc_jws_free(&jws);
	free(t);
}

static EVP_PKEY *
keygen_rsa(const char *type, size_t bits)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *k = NULL;

	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits) != 1 ||
	    EVP_PKEY_generate(ctx, &k) != 1)
		k = NULL;
	EVP_PKEY_CTX_free(ctx);

	if (k == NULL) {
		printf("Bail out! cannot generate a %s key of %zu bits\n", type, bits);
		exit(1);
	}
	return k;
}

static EVP_PKEY *
keygen_ec(const char *curve)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);

	if (k == NULL) {
		printf("Bail out! cannot generate a key on %s\n", curve);
		exit(1);
	}
	return k;
}

/* ---- algorithm names ---------------------------------------------------- */

static void
test_alg_names(void)
{
	static const char *const names[] = { "RS256", "RS384", "RS512", "PS256", "PS384",
					     "PS512", "ES256", "ES384", "ES512", "HS256",
					     "HS384", "HS512" };
	int i, round = 0, rsa = 0, ec = 0, hmac = 0, one = 0;

	for (i = 0; i < (int)ROPC_JWS_ALG_COUNT; i++) {
		enum ropc_jws_alg a = (enum ropc_jws_alg)i;

		if (ropc_jws_alg_from_name(names[i]) == i &&
		    strcmp(ropc_jws_alg_name(a), names[i]) == 0)
			round++;
		rsa += ropc_jws_alg_is_rsa(a) && names[i][1] == 'S' && names[i][0] != 'H' &&
		       names[i][0] != 'E';
		ec += ropc_jws_alg_is_ec(a) && names[i][0] == 'E';
		hmac += ropc_jws_alg_is_hmac(a) && names[i][0] == 'H';
		one += (int)ropc_jws_alg_is_rsa(a) + (int)ropc_jws_alg_is_ec(a) +
		       (int)ropc_jws_alg_is_hmac(a) == 1;
	}
	CHECK_INT(round, 12, "the 12 names map to their enum values and back");
	CHECK(rsa == 6 && ec == 3 && hmac == 3 && one == 12,
	      "RS*/PS* are RSA, ES* EC, HS* HMAC, each exactly one family");
	CHECK_INT(ropc_jws_alg_from_name("none"), -1, "\"none\" is no algorithm");
	CHECK_INT(ropc_jws_alg_from_name("rs256"), -1, "names are case-sensitive");
	CHECK_INT(ropc_jws_alg_from_name("HS256 "), -1, "no trailing space");
	CHECK_INT(ropc_jws_alg_from_name("EdDSA"), -1, "EdDSA is not supported");
	CHECK_INT(ropc_jws_alg_from_name(NULL), -1, "NULL name");
	CHECK(!ropc_jws_alg_is_rsa(ROPC_JWS_ALG_COUNT) && !ropc_jws_alg_is_ec(ROPC_JWS_ALG_COUNT) &&
	      !ropc_jws_alg_is_hmac(ROPC_JWS_ALG_COUNT) &&
	      ropc_jws_alg_name(ROPC_JWS_ALG_COUNT) != NULL &&
	      ropc_jws_alg_from_name(ropc_jws_alg_name(ROPC_JWS_ALG_COUNT)) == -1,
	      "an out-of-range alg is in no family and has a printable non-name");
}

/* ---- base64url ---------------------------------------------------------- */

static void
b64_ok(const char *in, size_t max, const char *want, size_t wantlen, const char *what)
{
	unsigned char *out = NULL;
	size_t outlen = 0;
	int rc = ropc_b64url_decode(in, strlen(in), max, &out, &outlen);

	if (rc != 0) {
		CHECK(0, "decodes: %s", what);
	} else {
		CHECK(outlen == wantlen && memcmp(out, want, wantlen) == 0 && out[outlen] == '\0',
		      "decodes: %s", what);
	}
	free(out);
}

static void
b64_bad(const char *in, size_t len, size_t max, const char *what)
{
	unsigned char *out = (unsigned char *)"not touched";
	size_t outlen = 7;
	int rc = ropc_b64url_decode(in, len, max, &out, &outlen);

	CHECK(rc == -1 && out == NULL && outlen == 0, "refused: %s", what);
	if (rc == 0)
		free(out);
}

static void
test_b64url(void)
{
	b64_ok("", 10, "", 0, "empty text is zero bytes");
	b64_ok("Zg", 10, "f", 1, "\"Zg\" (2 chars, RFC 4648 'f')");
	b64_ok("Zm8", 10, "fo", 2, "\"Zm8\" (3 chars, 'fo')");
	b64_ok("Zm9vYmFy", 10, "foobar", 6, "\"Zm9vYmFy\" (8 chars, 'foobar')");
	b64_ok("-_8", 10, "\xfb\xff", 2, "'-' is 62 and '_' is 63");
	b64_ok("Zm9v", 3, "foo", 3, "exactly at the cap");
	b64_bad("Zm9v", 4, 2, "over the cap (3 bytes, cap 2)");
	b64_bad("Zg==", 4, 10, "'=' padding");
	b64_bad("Zm8=", 4, 10, "one '=' of padding");
	b64_bad("+_8A", 4, 10, "'+' (the standard alphabet)");
	b64_bad("/_8A", 4, 10, "'/' (the standard alphabet)");
	b64_bad("Zm9vY", 5, 10, "length 5 (len % 4 == 1)");
	b64_bad("Z", 1, 10, "length 1");
	b64_bad("Zh", 2, 10, "\"Zh\": non-zero trailing bits after 1 byte");
	b64_bad("Zm9", 3, 10, "\"Zm9\": non-zero trailing bits after 2 bytes");
	b64_bad("Zm 9v", 5, 10, "a space inside");
	b64_bad("Zm9v\n", 5, 10, "a newline at the end");
	b64_bad("Zm\0v", 4, 10, "a NUL byte inside (length given)");
	b64_bad("Zm9\xc3\xa9", 5, 10, "a non-ASCII byte");
	b64_bad(NULL, 4, 10, "NULL input with a length");
}

/* ---- every algorithm ---------------------------------------------------- */

struct alg_case {
	enum ropc_jws_alg alg;
	EVP_PKEY **right, **wrong;
};

static void
test_algorithms(void)
{
	const struct alg_case cases[] = {
		{ ROPC_JWS_RS256, &rsa_a, &rsa_b }, { ROPC_JWS_RS384, &rsa_a, &rsa_b },
		{ ROPC_JWS_RS512, &rsa_a, &rsa_b }, { ROPC_JWS_PS256, &rsa_a, &rsa_b },
		{ ROPC_JWS_PS384, &rsa_a, &rsa_b }, { ROPC_JWS_PS512, &rsa_a, &rsa_b },
		{ ROPC_JWS_ES256, &p256_a, &p256_b }, { ROPC_JWS_ES384, &p384_a, &p384_b },
		{ ROPC_JWS_ES512, &p521_a, &p521_b }, { ROPC_JWS_HS256, NULL, NULL },
		{ ROPC_JWS_HS384, NULL, NULL }, { ROPC_JWS_HS512, NULL, NULL },
	};
	const char *payload = "{\"iss\":\"https://idp.example\",\"sub\":\"alice\",\"exp\":4102444800}";
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct alg_case *c = &cases[i];
		const char *name = ropc_jws_alg_name(c->alg);
		bool hs = ropc_jws_alg_is_hmac(c->alg);
		EVP_PKEY *right = hs ? NULL : *c->right, *wrong = hs ? NULL : *c->wrong;
		const char *rs = hs ? secret : NULL, *ws = hs ? other_secret : NULL;
		char header[128], header2[160], why[256];
		char *t, *t2, *h2, *dot;

		snprintf(header, sizeof(header), "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"k1\"}",
			 name);
		t = token_signed(c->alg, right, rs, header, payload);
		CHECK_INT(verify(t, right, rs, why, sizeof(why)), 0, "%s verifies with its key",
			  name);
		CHECK_INT(verify(t, wrong, ws, why, sizeof(why)), -1, "%s fails with another %s",
			  name, hs ? "secret" : "key of the same type");

		/* The same signature over another payload. */
		dot = strrchr(t, '.');
		{
			char *p2 = b64url_s("{\"iss\":\"https://idp.example\",\"sub\":\"mallory\","
					    "\"exp\":4102444800}");
			char *h = b64url_s(header);

			t2 = cat3(h, p2, dot + 1);
			CHECK_INT(verify(t2, right, rs, why, sizeof(why)), -1,
				  "%s fails when the payload was changed", name);
			free(t2);
			free(h);
			free(p2);
		}
		/* The same signature under another header (same alg). */
		snprintf(header2, sizeof(header2), "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"k2\"}",
			 name);
		h2 = b64url_s(header2);
		{
			char *p = b64url_s(payload);

			t2 = cat3(h2, p, dot + 1);
			CHECK_INT(verify(t2, right, rs, why, sizeof(why)), -1,
				  "%s fails when the header was changed", name);
			free(t2);
			free(p);
		}
		free(h2);
		/* One byte short, one byte long. */
		{
			unsigned char *raw = NULL, *longer;
			size_t rawlen = 0;
			char *s, *h = b64url_s(header), *p = b64url_s(payload);

			if (ropc_b64url_decode(dot + 1, strlen(dot + 1), 4096, &raw, &rawlen) != 0)
				abort();
			s = b64url(raw, rawlen - 1);
			t2 = cat3(h, p, s);
			CHECK_INT(verify(t2, right, rs, why, sizeof(why)), -1,
				  "%s fails with the signature one byte short", name);
			free(t2);
			free(s);
			longer = malloc(rawlen + 1);
			memcpy(longer, raw, rawlen);
			longer[rawlen] = 0;
			s = b64url(longer, rawlen + 1);
			t2 = cat3(h, p, s);
			CHECK_INT(verify(t2, right, rs, why, sizeof(why)), -1,
				  "%s fails with a zero byte appended to the signature", name);
			free(t2);
			free(s);
			free(longer);
			free(raw);
			free(h);
			free(p);
		}
		/* Each verifier refuses the other family. */
		{
			struct ropc_jws jws;

			memset(&jws, 0, sizeof(jws));
			if (ropc_jws_parse(t, &jws, why, sizeof(why)) == 0) {
				if (hs)
					CHECK(ropc_jws_verify_key(&jws, rsa_a, why, sizeof(why)) == -1 &&
					      strstr(why, "client secret") != NULL,
					      "%s refused by ropc_jws_verify_key", name);
				else
					CHECK(ropc_jws_verify_hmac(&jws, (const unsigned char *)secret,
								   strlen(secret), why,
								   sizeof(why)) == -1 &&
					      strstr(why, "not an HMAC") != NULL,
					      "%s refused by ropc_jws_verify_hmac", name);
			} else {
				FAIL(1, "%s does not parse: %s", name, why);
			}
			ropc_jws_free(&jws);
		}
		free(t);
	}
}

/* ---- keys that do not fit the algorithm ----------------------------------- */

static char *
pem_of(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out;
	long n;

	if (b == NULL || PEM_write_bio_PUBKEY(b, k) != 1)
		abort();
	n = BIO_get_mem_data(b, &data);
	out = malloc((size_t)n + 1);
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	BIO_free(b);
	return out;
}

static void
test_confusion(void)
{
	const char *payload = "{\"sub\":\"alice\"}";
	char why[256];
	char *pem = pem_of(rsa_a), *t;
	struct ropc_jws jws;

	/* The classic: alg HS256, "signed" with the public key's PEM. */
	t = token_signed(ROPC_JWS_HS256, NULL, pem, "{\"alg\":\"HS256\"}", payload);
	memset(&jws, 0, sizeof(jws));
	if (ropc_jws_parse(t, &jws, why, sizeof(why)) != 0) {
		FAIL(3, "HS256 token does not parse: %s", why);
	} else {
		CHECK(ropc_jws_verify_key(&jws, rsa_a, why, sizeof(why)) == -1 &&
		      strstr(why, "HS256 needs the client secret") != NULL,
		      "HS256 signed with the RSA public key PEM: the public key is refused");
		CHECK_INT(ropc_jws_verify_hmac(&jws, (const unsigned char *)secret, strlen(secret),
					       why, sizeof(why)), -1,
			  "HS256 signed with the PEM fails with the real client secret");
		/* What makes the caller's rule necessary: verify_hmac is plain
		 * HMAC, so whoever passes it a public key is open to forgery. */
		CHECK_INT(ropc_jws_verify_hmac(&jws, (const unsigned char *)pem, strlen(pem), why,
					       sizeof(why)), 0,
			  "documented: HMAC with the PEM as secret would verify (callers never pass a key)");
	}
	ropc_jws_free(&jws);
	free(t);
	free(pem);

	t = token_signed(ROPC_JWS_RS256, rsa_a, NULL, "{\"alg\":\"RS256\"}", payload);
	CHECK(verify(t, p256_a, NULL, why, sizeof(why)) == -1 && strstr(why, "RSA key") != NULL,
	      "RS256 token with an EC key refused");
	CHECK(verify(t, rsa_1024, NULL, why, sizeof(why)) == -1 &&
	      strstr(why, "too small") != NULL, "RS256 token with a 1024-bit key refused");
	CHECK(verify(t, rsa_pss, NULL, why, sizeof(why)) == -1 && strstr(why, "RSA key") != NULL,
	      "RS256 token with an RSA-PSS-only key refused");
	free(t);

	/* Correctly signed with the small key: only the size check stops it. */
	t = token_signed(ROPC_JWS_RS256, rsa_1024, NULL, "{\"alg\":\"RS256\"}", payload);
	CHECK(verify(t, rsa_1024, NULL, why, sizeof(why)) == -1 &&
	      strstr(why, "RSA key of 1024 bits is too small") != NULL,
	      "RS256 signed by a 1024-bit key refused though the signature is valid");
	free(t);
	t = token_signed(ROPC_JWS_PS256, rsa_1024, NULL, "{\"alg\":\"PS256\"}", payload);
	CHECK(verify(t, rsa_1024, NULL, why, sizeof(why)) == -1 &&
	      strstr(why, "too small") != NULL,
	      "PS256 signed by a 1024-bit key refused though the signature is valid");
	free(t);

	t = token_signed(ROPC_JWS_PS256, rsa_pss, NULL, "{\"alg\":\"PS256\"}", payload);
	CHECK_INT(verify(t, rsa_pss, NULL, why, sizeof(why)), 0,
		  "PS256 verifies with an RSA-PSS type key");
	free(t);

	t = token_signed(ROPC_JWS_ES256, p256_a, NULL, "{\"alg\":\"ES256\"}", payload);
	CHECK(verify(t, p384_a, NULL, why, sizeof(why)) == -1 && strstr(why, "P-256") != NULL,
	      "ES256 token with a P-384 key refused");
	CHECK(verify(t, rsa_a, NULL, why, sizeof(why)) == -1 && strstr(why, "EC key") != NULL,
	      "ES256 token with an RSA key refused");
	free(t);
	t = token_signed(ROPC_JWS_ES512, p521_a, NULL, "{\"alg\":\"ES512\"}", payload);
	CHECK(verify(t, p384_a, NULL, why, sizeof(why)) == -1 && strstr(why, "P-521") != NULL,
	      "ES512 token with a P-384 key refused");
	free(t);

	/* ES384 made with a P-256 key, r and s padded to 48 bytes: a valid
	 * ECDSA signature over SHA-384 for that key; only the curve check of
	 * ES384 stops it. */
	{
		char *h = b64url_s("{\"alg\":\"ES384\"}"), *p = b64url_s(payload), *s, *input;
		unsigned char *sig;
		size_t siglen = 0;

		input = malloc(strlen(h) + strlen(p) + 2);
		sprintf(input, "%s.%s", h, p);
		sig = sign_ex(ROPC_JWS_ES384, p256_a, NULL, input, 0, 48, &siglen);
		s = b64url(sig, siglen);
		t = cat3(h, p, s);
		CHECK(verify(t, p256_a, NULL, why, sizeof(why)) == -1 &&
		      strstr(why, "P-384") != NULL,
		      "ES384 signature made by a P-256 key (padded to 96 bytes) refused");
		free(t);
		free(s);
		free(sig);
		free(input);
		free(h);
		free(p);
	}

	/* PS256 with a salt other than the hash length (RFC 7518 §3.5). */
	{
		static const int salts[] = { 0, RSA_PSS_SALTLEN_MAX };
		static const char *const what[] = { "an empty salt", "the longest salt" };
		char *h = b64url_s("{\"alg\":\"PS256\"}"), *p = b64url_s(payload), *s, *input;
		unsigned char *sig;
		size_t siglen = 0, i;

		input = malloc(strlen(h) + strlen(p) + 2);
		sprintf(input, "%s.%s", h, p);
		for (i = 0; i < 2; i++) {
			sig = sign_ex(ROPC_JWS_PS256, rsa_a, NULL, input, salts[i], 0, &siglen);
			s = b64url(sig, siglen);
			t = cat3(h, p, s);
			CHECK_INT(verify(t, rsa_a, NULL, why, sizeof(why)), -1,
				  "PS256 signed with %s refused", what[i]);
			free(t);
			free(s);
			free(sig);
		}
		free(input);
		free(h);
		free(p);
	}

	/* An RSA signature whose first byte is 0, sent without it: RFC 8017
	 * wants exactly the modulus length (OpenSSL alone would accept it). */
	{
		char *h = b64url_s("{\"alg\":\"RS256\"}"), *p = NULL, *s, *input = NULL;
		unsigned char *sig = NULL;
		size_t siglen = 0;
		int n;

		for (n = 0; n < 5000; n++) {
			char claims[64];

			free(sig);
			free(p);
			free(input);
			snprintf(claims, sizeof(claims), "{\"sub\":\"alice\",\"n\":%d}", n);
			p = b64url_s(claims);
			input = malloc(strlen(h) + strlen(p) + 2);
			sprintf(input, "%s.%s", h, p);
			sig = sign(ROPC_JWS_RS256, rsa_a, NULL, input, &siglen);
			if (sig != NULL && sig[0] == 0)
				break;
		}
		if (sig != NULL && sig[0] == 0) {
			s = b64url(sig, siglen);
			t = cat3(h, p, s);
			CHECK_INT(verify(t, rsa_a, NULL, why, sizeof(why)), 0,
				  "RS256 with a leading zero byte verifies at full length");
			free(t);
			free(s);
			s = b64url(sig + 1, siglen - 1);
			t = cat3(h, p, s);
			CHECK(verify(t, rsa_a, NULL, why, sizeof(why)) == -1 &&
			      strstr(why, "bytes for an RSA key") != NULL,
			      "RS256 with the leading zero byte dropped refused");
			free(t);
			free(s);
		} else {
			FAIL(2, "no RS256 signature starting with a zero byte in 5000 tries");
		}
		free(sig);
		free(p);
		free(input);
		free(h);
	}

	/* ES256 with r = s = 0, and with r = s = n - 0 (all 0xff). */
	{
		unsigned char zero[64] = { 0 }, ff[64];

		memset(ff, 0xff, sizeof(ff));
		t = token_raw("{\"alg\":\"ES256\"}", payload, zero, sizeof(zero));
		CHECK_INT(verify(t, p256_a, NULL, why, sizeof(why)), -1, "ES256 with r = s = 0 fails");
		free(t);
		t = token_raw("{\"alg\":\"ES256\"}", payload, ff, sizeof(ff));
		CHECK_INT(verify(t, p256_a, NULL, why, sizeof(why)), -1,
			  "ES256 with r, s above the group order fails");
		free(t);
	}

	/* The arguments. */
	{
		struct ropc_jws z;

		memset(&z, 0, sizeof(z));
		CHECK(ropc_jws_verify_key(&z, rsa_a, why, sizeof(why)) == -1 &&
		      ropc_jws_verify_hmac(&z, (const unsigned char *)secret, strlen(secret), why,
					   sizeof(why)) == -1 &&
		      ropc_jws_verify_key(NULL, rsa_a, why, sizeof(why)) == -1,
		      "verifying a zeroed or NULL token fails");
		t = token_signed(ROPC_JWS_RS256, rsa_a, NULL, "{\"alg\":\"RS256\"}", payload);
		CHECK_INT(verify(t, NULL, NULL, why, sizeof(why)), -1, "RS256 with a NULL key fails");
		free(t);
		t = token_signed(ROPC_JWS_HS256, NULL, secret, "{\"alg\":\"HS256\"}", payload);
		memset(&z, 0, sizeof(z));
		if (ropc_jws_parse(t, &z, why, sizeof(why)) == 0) {
			CHECK(ropc_jws_verify_hmac(&z, (const unsigned char *)"", 0, why,
						   sizeof(why)) == -1 &&
			      ropc_jws_verify_hmac(&z, NULL, 5, why, sizeof(why)) == -1,
			      "HS256 with an empty or NULL secret refused");
		} else {
			FAIL(1, "HS256 token does not parse: %s", why);
		}
		ropc_jws_free(&z);
		free(t);
	}

	/* jku, x5u, jwk, x5c are never used: a token signed by another key
	 * that names it in its header still needs the caller's key. */
	{
		char header[512];

		snprintf(header, sizeof(header),
			 "{\"alg\":\"RS256\",\"jku\":\"https://evil.example/jwks\","
			 "\"x5u\":\"https://evil.example/c.pem\",\"x5c\":[\"MIIB\"],"
			 "\"jwk\":{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}}");
		t = token_signed(ROPC_JWS_RS256, rsa_b, NULL, header, payload);
		CHECK(verify(t, rsa_b, NULL, why, sizeof(why)) == 0 &&
		      verify(t, rsa_a, NULL, why, sizeof(why)) == -1,
		      "jku/x5u/x5c/jwk in the header parse, are ignored, and do not pick the key");
		free(t);
	}
}

/* ---- the parser --------------------------------------------------------- */

static void
test_parse_fields(void)
{
	const char *header = "{\"alg\":\"RS256\",\"kid\":\"key-2024\",\"typ\":\"JWT\"}";
	const char *payload = "{\"sub\":\"alice\",\"aud\":[\"a\",\"b\"]}";
	static const unsigned char sig[] = { 0, 1, 2, 0xfe, 0xff };
	char *t = token_raw(header, payload, sig, sizeof(sig)), *h = b64url_s(header),
	     *p = b64url_s(payload), why[256] = "";
	struct ropc_jws jws, zero;
	struct json_object *v;
	int rc;

	memset(&jws, 0, sizeof(jws));
	rc = ropc_jws_parse(t, &jws, why, sizeof(why));
	if (!CHECK_INT(rc, 0, "a well-formed token parses")) {
		tap_diag("why: %s", why);
		FAIL(6, "the token did not parse");
	} else {
		size_t hl = strlen(h), pl = strlen(p);

		CHECK_INT(jws.alg, ROPC_JWS_RS256, "alg read");
		CHECK(jws.has_kid && strcmp(jws.kid, "key-2024") == 0, "kid read");
		CHECK(jws.signing_input_len == hl + 1 + pl &&
		      strncmp(jws.signing_input, t, hl + 1 + pl) == 0 &&
		      jws.signing_input[hl + 1 + pl] == '\0',
		      "signing_input is exactly the first two segments and the dot");
		CHECK_MEM((const char *)jws.sig, jws.sig_len, (const char *)sig, sizeof(sig),
			  "the signature is decoded");
		CHECK(json_object_is_type(jws.header, json_type_object) &&
		      json_object_object_get_ex(jws.header, "typ", &v) &&
		      strcmp(json_object_get_string(v), "JWT") == 0,
		      "the header object is kept");
		CHECK(json_object_is_type(jws.payload, json_type_object) &&
		      json_object_object_get_ex(jws.payload, "sub", &v) &&
		      strcmp(json_object_get_string(v), "alice") == 0,
		      "the payload object is kept");
	}
	ropc_jws_free(&jws);
	memset(&zero, 0, sizeof(zero));
	CHECK(memcmp(&jws, &zero, sizeof(jws)) == 0, "ropc_jws_free leaves the struct zeroed");
	ropc_jws_free(&jws);
	ropc_jws_free(NULL);
	free(t);
	free(h);
	free(p);

	/* No kid. */
	t = token_raw("{\"alg\":\"ES256\"}", payload, sig, sizeof(sig));
	memset(&jws, 0, sizeof(jws));
	rc = ropc_jws_parse(t, &jws, why, sizeof(why));
	CHECK(rc == 0 && !jws.has_kid && jws.kid[0] == '\0' && jws.alg == ROPC_JWS_ES256,
	      "a header without kid: has_kid false, kid empty");
	ropc_jws_free(&jws);
	free(t);

	/* A failure after the header and payload were allocated. */
	{
		char *hh = b64url_s("{\"alg\":\"HS256\"}"), *pp = b64url_s(payload);

		t = cat3(hh, pp, "AA+A");
		memset(&jws, 0xa5, sizeof(jws));        /* parse must not trust it */
		rc = ropc_jws_parse(t, &jws, why, sizeof(why));
		CHECK(rc == -1 && jws.header == NULL && jws.payload == NULL && jws.sig == NULL &&
		      jws.signing_input == NULL && strstr(why, "signature is not base64url"),
		      "a failure at the signature frees the header and payload and zeroes the struct");
		ropc_jws_free(&jws);
		free(t);
		free(hh);
		free(pp);
	}
}

static void
test_parse_segments(void)
{
	char *h = b64url_s("{\"alg\":\"HS256\"}"), *p = b64url_s("{\"sub\":\"alice\"}");
	char buf[512];

	refused(NULL, "empty", "NULL token");
	refused("", "empty", "empty token");
	refused("abc", "not three segments", "one segment");
	snprintf(buf, sizeof(buf), "%s.%s", h, p);
	refused(buf, "not three segments", "two segments");
	snprintf(buf, sizeof(buf), "%s.%s.AAAA.AAAA", h, p);
	refused(buf, "not three segments", "four segments");
	snprintf(buf, sizeof(buf), "%s.%s.AAAA.", h, p);
	refused(buf, "not three segments", "four segments, the last empty");
	snprintf(buf, sizeof(buf), ".%s.AAAA", p);
	refused(buf, "header segment is empty", "empty header segment");
	snprintf(buf, sizeof(buf), "%s..AAAA", h);
	refused(buf, "payload segment is empty", "empty payload segment");
	snprintf(buf, sizeof(buf), "%s.%s.", h, p);
	refused(buf, "signature segment is empty", "empty signature segment (unsecured JWS)");
	snprintf(buf, sizeof(buf), "%s=.%s.AAAA", h, p);
	refused(buf, "header is not base64url", "padding on the header");
	snprintf(buf, sizeof(buf), "%s.%s.AAAA==", h, p);
	refused(buf, "signature is not base64url", "padding on the signature");
	snprintf(buf, sizeof(buf), "%s.%s.AA+/", h, p);
	refused(buf, "signature is not base64url", "'+' and '/' in the signature");
	snprintf(buf, sizeof(buf), "%s.%s.AAAAA", h, p);
	refused(buf, "signature is not base64url", "signature of length 5 (len % 4 == 1)");
	snprintf(buf, sizeof(buf), "%s.%s.AB", h, p);
	refused(buf, "signature is not base64url", "non-canonical trailing bits in the signature");
	snprintf(buf, sizeof(buf), "%s.%s .AAAA", h, p);
	refused(buf, "payload is not base64url", "a space in the payload segment");
	snprintf(buf, sizeof(buf), " %s.%s.AAAA", h, p);
	refused(buf, "header is not base64url", "a leading space");
	snprintf(buf, sizeof(buf), "%s.%s.AAAA\n", h, p);
	refused(buf, "signature is not base64url", "a trailing newline");
	free(h);
	free(p);
}

static void
test_parse_json(void)
{
	char deep[256], over[256];
	int i;

	refused_header("{\"alg\":\"HS256\"", "header is not JSON", "header JSON truncated");
	refused_header("alg=HS256", "header is not JSON", "header not JSON at all");
	refused_header("[\"HS256\"]", "header is not a JSON object", "header a JSON array");
	refused_header("\"HS256\"", "header is not a JSON object", "header a JSON string");
	refused_header("{\"alg\":\"HS256\"}x", "header is not JSON", "garbage after the header object");
	refused_header("{\"alg\":\"HS256\"}{}", "header is not JSON", "two header objects");
	{
		static const unsigned char sig[4] = { 1, 2, 3, 4 };
		char *h = b64url((const unsigned char *)"{\"alg\":\"HS256\"}\0", 16);
		char *p = b64url_s("{}"), *s = b64url(sig, sizeof(sig)), *t = cat3(h, p, s);

		refused(t, "header is not JSON", "a NUL byte after the header object");
		free(t);
		free(h);
		free(p);
		free(s);
	}
	accepted_header("{\"alg\":\"HS256\"} \t\r\n", "JSON white space after the header object");
	refused_header("{\"alg\":\"HS256\",}", "header is not JSON", "trailing comma (strict)");
	refused_header("{'alg':'HS256'}", "header is not JSON", "single quotes (strict)");
	refused_header("{\"alg\":\"HS256\",\"x\":\"\xc0\xaf\"}", "UTF-8",
		       "overlong UTF-8 in the header");
	refused_header("{\"alg\":\"HS256\",\"x\":\"\xed\xa0\x80\"}", "UTF-8",
		       "a UTF-8 surrogate in the header");

	/* Depth: the header object and 15 arrays are 16 levels; one more is
	 * refused. */
	strcpy(deep, "{\"alg\":\"HS256\",\"x\":");
	for (i = 0; i < 15; i++)
		strcat(deep, "[");
	for (i = 0; i < 15; i++)
		strcat(deep, "]");
	strcat(deep, "}");
	accepted_header(deep, "header nested 16 deep");
	strcpy(over, "{\"alg\":\"HS256\",\"x\":");
	for (i = 0; i < 16; i++)
		strcat(over, "[");
	for (i = 0; i < 16; i++)
		strcat(over, "]");
	strcat(over, "}");
	refused_header(over, "header is not JSON", "header nested 17 deep");

	refused_payload("{\"sub\":", "payload is not JSON", "payload JSON truncated");
	refused_payload("[{\"sub\":\"alice\"}]", "payload is not a JSON object",
			"payload a JSON array");
	refused_payload("\"alice\"", "payload is not a JSON object", "payload a JSON string");
	refused_payload("{\"sub\":\"alice\"} x", "payload is not JSON", "garbage after the payload");
	refused_payload("{\"sub\":\"\xff\"}", "UTF-8", "byte 0xff in the payload");
	strcpy(over, "{\"x\":");
	for (i = 0; i < 16; i++)
		strcat(over, "{\"y\":");
	strcat(over, "1");
	for (i = 0; i < 17; i++)
		strcat(over, "}");
	refused_payload(over, "payload is not JSON", "payload nested 17 deep");
	refused_payload("", "payload segment is empty", "empty payload");
}

static void
test_parse_header_fields(void)
{
	char kid[300], hdr[400];

	refused_header("{\"alg\":\"none\"}", "alg \"none\" is never accepted", "alg none");
	refused_header("{\"alg\":\"None\"}", "is never accepted", "alg None");
	refused_header("{\"alg\":\"NONE\"}", "is never accepted", "alg NONE");
	refused_header("{\"alg\":\"\"}", "alg is empty", "alg \"\"");
	refused_header("{\"alg\":\"HS256 \"}", "unknown alg \"HS256 \"", "alg \"HS256 \"");
	refused_header("{\"alg\":\"hs256\"}", "unknown alg \"hs256\"", "alg in lower case");
	refused_header("{\"alg\":\"EdDSA\"}", "unknown alg", "alg EdDSA");
	refused_header("{\"typ\":\"JWT\"}", "header has no alg", "no alg");
	refused_header("{\"alg\":256}", "alg is not a string", "alg a number");
	refused_header("{\"alg\":null}", "alg is not a string", "alg null");
	refused_header("{\"alg\":[\"RS256\"]}", "alg is not a string", "alg an array");
	refused_header("{\"alg\":\"HS256\\u0000\"}", "alg holds a NUL byte",
		       "alg \"HS256\\u0000\" (NUL)");
	refused_header("{\"alg\":\"none\",\"alg\":\"HS256\",\"alg\":\"RS256x\"}", "unknown alg",
		       "duplicate alg: the last one counts");

	refused_header("{\"alg\":\"RS256\",\"crit\":[\"exp\"],\"exp\":1}",
		       "crit header not supported", "crit [\"exp\"]");
	refused_header("{\"alg\":\"RS256\",\"crit\":[]}", "crit header not supported",
		       "crit [] (empty)");
	refused_header("{\"alg\":\"RS256\",\"crit\":null}", "crit header not supported",
		       "crit null");
	refused_header("{\"alg\":\"RS256\",\"b64\":false,\"crit\":[\"b64\"]}", "crit",
		       "RFC 7797 with crit");
	refused_header("{\"alg\":\"RS256\",\"b64\":false}", "b64 false", "b64 false without crit");
	refused_header("{\"alg\":\"RS256\",\"b64\":\"false\"}", "b64 header is not a boolean",
		       "b64 as a string");
	accepted_header("{\"alg\":\"RS256\",\"b64\":true}", "b64 true (the default)");

	refused_header("{\"alg\":\"RS256\",\"kid\":7}", "kid is not a string", "kid a number");
	refused_header("{\"alg\":\"RS256\",\"kid\":\"\"}", "kid is empty", "kid empty");
	refused_header("{\"alg\":\"RS256\",\"kid\":\"a\\u0000b\"}", "kid holds a NUL byte",
		       "kid with a NUL byte");
	refused_header("{\"alg\":\"RS256\",\"kid\":\"a\\nb\"}", "not printable ASCII",
		       "kid with a newline");
	refused_header("{\"alg\":\"RS256\",\"kid\":\"cl\xc3\xa9\"}", "not printable ASCII",
		       "kid with a non-ASCII character");
	memset(kid, 'k', 255);
	kid[255] = '\0';
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"kid\":\"%s\"}", kid);
	accepted_header(hdr, "kid of 255 bytes");
	memset(kid, 'k', 256);
	kid[256] = '\0';
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"kid\":\"%s\"}", kid);
	refused_header(hdr, "kid is over 255 bytes", "kid of 256 bytes");
}

/* The reasons show no token bytes but an alg of at most 16 plain chars. */
static void
test_reasons(void)
{
	static const unsigned char sig[4] = { 9, 9, 9, 9 };
	struct {
		const char *header, *payload, *what;
	} rows[] = {
		{ "{\"alg\":\"SECRETSECRETSECRET1\"}", "{}", "an alg of 19 chars" },
		{ "{\"alg\":\"SECRET\\\"x\"}", "{}", "an alg with a quote" },
		{ "{\"alg\":\"SECRET\\u0001\"}", "{}", "an alg with a control char" },
		{ "{\"alg\":\"RS256\",\"kid\":\"SECRET\\n\"}", "{}", "a bad kid" },
		{ "{\"alg\":\"RS256\",\"SECRET\":1,}", "{}", "a bad header" },
		{ "{\"alg\":\"RS256\"}", "{\"sub\":\"SECRET\"", "a bad payload" },
		{ "{\"alg\":\"RS256\"}", "{\"sub\":\"SECRET\"}SECRET", "data after the payload" },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *t = token_raw(rows[i].header, rows[i].payload, sig, sizeof(sig));
		struct ropc_jws jws;
		char why[256] = "";
		int rc;

		memset(&jws, 0, sizeof(jws));
		rc = ropc_jws_parse(t, &jws, why, sizeof(why));
		if (!CHECK(rc == -1 && why[0] != '\0' && strstr(why, "SECRET") == NULL &&
			   strstr(why, "ECRE") == NULL,
			   "the reason for %s does not show it", rows[i].what))
			tap_diag("why: %s", why);
		ropc_jws_free(&jws);
		free(t);
	}
}

/* A token of exactly total bytes: HS256, payload grown with a claim. */
static char *
token_of_size(size_t total, size_t *got)
{
	const char *hj = "{\"alg\":\"HS256\"}";
	char *h = b64url_s(hj), *t = NULL;
	char *payload = malloc(ROPC_JWS_MAX_PAYLOAD + 64);
	size_t fill, pad;

	/* The signature is 43 chars, the header 20, two dots; adjust the
	 * payload's length and the white space after it. */
	*got = 0;
	for (fill = 0; fill < ROPC_JWS_MAX_PAYLOAD; fill++) {
		for (pad = 0; pad < 3; pad++) {
			size_t plen = 10 + fill + pad, enc = plen / 3 * 4 + (plen % 3 ? plen % 3 + 1 : 0);

			if (strlen(h) + 1 + enc + 1 + 43 == total) {
				memcpy(payload, "{\"x\":\"", 6);
				memset(payload + 6, 'a', fill);
				memcpy(payload + 6 + fill, "\"}", 2);
				memset(payload + 8 + fill, ' ', pad + 2);
				payload[10 + fill + pad] = '\0';
				t = token_signed(ROPC_JWS_HS256, NULL, secret, hj, payload);
				*got = strlen(t);
				free(payload);
				free(h);
				return t;
			}
		}
	}
	free(payload);
	free(h);
	return NULL;
}

static void
test_limits(void)
{
	char why[256] = "", *t, *h, *p, *s;
	size_t got = 0;
	unsigned char *big;
	struct ropc_jws jws;

	t = token_of_size(ROPC_JWS_MAX_TOKEN, &got);
	if (t == NULL || got != ROPC_JWS_MAX_TOKEN) {
		FAIL(1, "could not build a token of %zu bytes", ROPC_JWS_MAX_TOKEN);
	} else {
		CHECK_INT(verify(t, NULL, secret, why, sizeof(why)), 0,
			  "a token of exactly %zu bytes (payload near its cap) verifies",
			  ROPC_JWS_MAX_TOKEN);
	}
	free(t);
	t = token_of_size(ROPC_JWS_MAX_TOKEN + 1, &got);
	if (t == NULL || got != ROPC_JWS_MAX_TOKEN + 1) {
		FAIL(1, "could not build a token of %zu bytes", ROPC_JWS_MAX_TOKEN + 1);
	} else {
		refused(t, "token is over 16384 bytes", "a token of MAX + 1 bytes, otherwise valid");
	}
	free(t);
	/* ROPC_JWS_MAX_PAYLOAD cannot be passed inside a token within
	 * ROPC_JWS_MAX_TOKEN: 16384 characters are 12288 bytes, and the
	 * header and signature take some.  The cap stays as a second fence;
	 * the largest payload the token cap lets through is checked above. */

	/* Header: 2048 bytes decoded is the cap. */
	{
		char hdr[ROPC_JWS_MAX_HEADER + 8];
		static const unsigned char sig[32] = { 1 };

		memset(hdr, ' ', sizeof(hdr));
		memcpy(hdr, "{\"alg\":\"HS256\"}", 15);
		hdr[ROPC_JWS_MAX_HEADER] = '\0';
		t = token_raw(hdr, "{}", sig, sizeof(sig));
		memset(&jws, 0, sizeof(jws));
		CHECK_INT(ropc_jws_parse(t, &jws, why, sizeof(why)), 0,
			  "a header of exactly %zu bytes parses", ROPC_JWS_MAX_HEADER);
		ropc_jws_free(&jws);
		free(t);
		hdr[ROPC_JWS_MAX_HEADER] = ' ';
		hdr[ROPC_JWS_MAX_HEADER + 1] = '\0';
		t = token_raw(hdr, "{}", sig, sizeof(sig));
		refused(t, "header is over 2048 bytes", "a header of 2049 bytes");
		free(t);
	}

	/* Signature: 1024 bytes (RSA 8192) at most. */
	big = calloc(1, 1025);
	h = b64url_s("{\"alg\":\"RS256\"}");
	p = b64url_s("{}");
	s = b64url(big, 1024);
	t = cat3(h, p, s);
	memset(&jws, 0, sizeof(jws));
	CHECK(ropc_jws_parse(t, &jws, why, sizeof(why)) == 0 && jws.sig_len == 1024,
	      "a signature of 1024 bytes parses");
	ropc_jws_free(&jws);
	free(t);
	free(s);
	s = b64url(big, 1025);
	t = cat3(h, p, s);
	refused(t, "signature is over 1024 bytes", "a signature of 1025 bytes");
	free(t);
	free(s);
	free(big);
	free(h);
	free(p);
}

int
main(void)
{
	rsa_a = keygen_rsa("RSA", 2048);
	rsa_b = keygen_rsa("RSA", 2048);
	rsa_1024 = keygen_rsa("RSA", 1024);
	rsa_pss = keygen_rsa("RSA-PSS", 2048);
	p256_a = keygen_ec("P-256");
	p256_b = keygen_ec("P-256");
	p384_a = keygen_ec("P-384");
	p384_b = keygen_ec("P-384");
	p521_a = keygen_ec("P-521");
	p521_b = keygen_ec("P-521");

	test_alg_names();
	test_b64url();
	test_algorithms();
	test_confusion();
	test_parse_fields();
	test_parse_segments();
	test_parse_json();
	test_parse_header_fields();
	test_reasons();
	test_limits();

	EVP_PKEY_free(rsa_a);
	EVP_PKEY_free(rsa_b);
	EVP_PKEY_free(rsa_1024);
	EVP_PKEY_free(rsa_pss);
	EVP_PKEY_free(p256_a);
	EVP_PKEY_free(p256_b);
	EVP_PKEY_free(p384_a);
	EVP_PKEY_free(p384_b);
	EVP_PKEY_free(p521_a);
	EVP_PKEY_free(p521_b);
	return tap_done();
}
