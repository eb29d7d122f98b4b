/*
 * fuzz-jwks.c: a JWK Set as an IdP's jwks_uri would serve it, into
 * OpenSSL keys, and the choice of a key for a token (jwks.c).
 *
 * Input: the document, as is (an exact-size copy without a terminating
 * NUL, as libcurl's buffer would hold it; a read past it is an ASan
 * report).  Example: "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",...}]}".
 *
 * Checks: ropc_jwks_parse returns 0 or -1; on -1 the set is empty and why
 * is a non-empty printable sentence; on 0 the document is one strict JSON
 * object with a "keys" array (re-parsed here), every entry of which is
 * either kept or skipped (n + skipped == entries, n <= 32), skipped > 0
 * comes with a reason; every kept key has an EVP_PKEY whose type is its
 * kty, "RSA" with EVP_PKEY_get_bits >= 2048 or "EC" on P-256/P-384/P-521
 * with bits to match, and a kid, use and alg that are NUL-terminated
 * printable text.  Then, for each of the 12 algorithms and for a token
 * without kid, with the kid of each of the first keys and with a kid no
 * key has, ropc_jwks_select returns NULL or a key of the set that fits:
 * never for HS*, kty of the algorithm's family, on the algorithm's curve,
 * "use" empty or "sig", "alg" empty or the token's, the token's kid when
 * it has one, and, without kid, only when exactly one key fits (counted
 * here).  kid_unknown is set exactly when the token's kid is in no key
 * (and the algorithm is not HS*, which is refused before any kid).
 * A chosen key never verifies an all-zero signature of the right length.
 */
#define _GNU_SOURCE 1
#include "fuzz-common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "jwks.h"
#include "jws.h"

static bool
terminated(const char *a, size_t n)
{
	return memchr(a, '\0', n) != NULL;
}

static bool
printable(const char *s, bool space)
{
	for (; *s != '\0'; s++)
		if (*s < (space ? 0x20 : 0x21) || *s > 0x7e)
			return false;
	return true;
}

static void
check_text(const char *why, size_t size, const char *where)
{
	FUZZ_CHECK("why", terminated(why, size) && why[0] != '\0' && printable(why, true),
		   "%s: reason missing, unterminated or not printable", where);
}

/* The entries of "keys", counted independently of jwks.c; -1 when the
 * document is not one strict JSON object with a keys array. */
static long
count_entries(const uint8_t *data, size_t size)
{
	struct json_tokener *tok = json_tokener_new_ex(16);
	struct json_object *o, *keys;
	long n = -1;

	if (tok == NULL)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	if (o != NULL && json_tokener_get_error(tok) == json_tokener_success &&
	    json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, "keys", &keys) &&
	    json_object_is_type(keys, json_type_array))
		n = (long)json_object_array_length(keys);
	json_object_put(o);
	json_tokener_free(tok);
	return n;
}

static int
curve_bits(enum ropc_jws_alg alg)
{
	return alg == ROPC_JWS_ES256 ? 256 : alg == ROPC_JWS_ES384 ? 384 : 521;
}

/* Whether k may be chosen for alg (the rule of jwks.h, written here). */
static bool
may_fit(const struct ropc_jwk *k, enum ropc_jws_alg alg)
{
	if (k->use[0] != '\0' && strcmp(k->use, "sig") != 0)
		return false;
	if (k->alg[0] != '\0' && strcmp(k->alg, ropc_jws_alg_name(alg)) != 0)
		return false;
	if (ropc_jws_alg_is_rsa(alg))
		return strcmp(k->kty, "RSA") == 0;
	if (ropc_jws_alg_is_ec(alg))
		return strcmp(k->kty, "EC") == 0 && k->bits == curve_bits(alg);
	return false;
}

static void
check_key(const struct ropc_jwk *k, size_t i)
{
	FUZZ_CHECK("key", k->key != NULL, "key %zu kept without an EVP_PKEY", i);
	if (k->key == NULL)
		return;
	FUZZ_CHECK("key", terminated(k->kty, sizeof(k->kty)) &&
		   terminated(k->kid, sizeof(k->kid)) && terminated(k->use, sizeof(k->use)) &&
		   terminated(k->alg, sizeof(k->alg)), "key %zu: a field is not terminated", i);
	FUZZ_CHECK("key", printable(k->kid, true) && printable(k->use, false) &&
		   printable(k->alg, false), "key %zu: kid, use or alg not printable", i);
	FUZZ_CHECK("key", k->has_kid == (k->kid[0] != '\0'), "key %zu: has_kid and kid disagree",
		   i);
	FUZZ_CHECK("key", k->bits == EVP_PKEY_get_bits(k->key), "key %zu: bits %d, the key has %d",
		   i, k->bits, EVP_PKEY_get_bits(k->key));
	if (strcmp(k->kty, "RSA") == 0) {
		FUZZ_CHECK("rsa", EVP_PKEY_get_base_id(k->key) == EVP_PKEY_RSA,
			   "key %zu: kty RSA but another key type", i);
		FUZZ_CHECK("rsa", k->bits >= ROPC_JWS_MIN_RSA_BITS,
			   "key %zu: an RSA key of %d bits kept", i, k->bits);
	} else if (strcmp(k->kty, "EC") == 0) {
		char group[64] = "";
		size_t glen = 0;

		FUZZ_CHECK("ec", EVP_PKEY_get_base_id(k->key) == EVP_PKEY_EC,
			   "key %zu: kty EC but another key type", i);
		FUZZ_CHECK("ec", EVP_PKEY_get_utf8_string_param(k->key, OSSL_PKEY_PARAM_GROUP_NAME,
								group, sizeof(group), &glen) == 1 &&
			   ((strcmp(group, "prime256v1") == 0 && k->bits == 256) ||
			    (strcmp(group, "secp384r1") == 0 && k->bits == 384) ||
			    (strcmp(group, "secp521r1") == 0 && k->bits == 521)),
			   "key %zu: an EC key on \"%s\" of %d bits kept", i, group, k->bits);
	} else {
		FUZZ_CHECK("kty", false, "key %zu: kty \"%.8s\" kept", i, k->kty);
	}
}

/* select for (alg, kid) and check the answer. */
static void
check_select(const struct ropc_jwks *set, enum ropc_jws_alg alg, const char *kid)
{
	static unsigned char zeros[1024];
	struct ropc_jws jws;
	const struct ropc_jwk *k;
	bool unknown = false, kid_in_set = false;
	size_t i, fitting = 0;
	char why[160];

	memset(&jws, 0, sizeof(jws));
	jws.alg = alg;
	if (kid != NULL) {
		jws.has_kid = true;
		snprintf(jws.kid, sizeof(jws.kid), "%s", kid);
	}
	for (i = 0; i < set->n; i++) {
		if (kid != NULL && set->keys[i].has_kid && strcmp(set->keys[i].kid, kid) == 0)
			kid_in_set = true;
		if (may_fit(&set->keys[i], alg))
			fitting++;
	}
	memset(why, 'x', sizeof(why));
	k = ropc_jwks_select(set, &jws, &unknown, why, sizeof(why));
	/* HS* is refused before any kid is looked at. */
	FUZZ_CHECK("unknown", unknown == (!ropc_jws_alg_is_hmac(alg) && kid != NULL && !kid_in_set),
		   "kid_unknown %d for a kid %s the set", (int)unknown,
		   kid_in_set ? "in" : "not in");
	if (k == NULL) {
		check_text(why, sizeof(why), "ropc_jwks_select");
		if (kid == NULL && !ropc_jws_alg_is_hmac(alg))
			FUZZ_CHECK("select", fitting != 1, "no kid and one key fits %s, but none chosen",
				   ropc_jws_alg_name(alg));
		return;
	}
	FUZZ_CHECK("select", k >= set->keys && k < set->keys + set->n, "a key outside the set");
	FUZZ_CHECK("select", !ropc_jws_alg_is_hmac(alg), "a key chosen for %s",
		   ropc_jws_alg_name(alg));
	FUZZ_CHECK("select", may_fit(k, alg), "a key of kty %s, use \"%s\", alg \"%s\", %d bits "
		   "chosen for %s", k->kty, k->use, k->alg, k->bits, ropc_jws_alg_name(alg));
	if (kid != NULL)
		FUZZ_CHECK("select", k->has_kid && strcmp(k->kid, kid) == 0,
			   "a key of another kid chosen");
	else
		FUZZ_CHECK("select", fitting == 1, "no kid, %zu keys fit, one chosen", fitting);

	/* A zero signature never verifies. */
	jws.signing_input = (char *)"e30.e30";
	jws.signing_input_len = 7;
	jws.sig = zeros;
	jws.sig_len = ropc_jws_alg_is_rsa(alg) ? (size_t)EVP_PKEY_get_size(k->key)
					       : (size_t)(curve_bits(alg) + 7) / 8 * 2;
	if (jws.sig_len > 0 && jws.sig_len <= sizeof(zeros))
		FUZZ_CHECK("verify", ropc_jws_verify_key(&jws, k->key, why, sizeof(why)) == -1,
			   "an all-zero %s signature verified", ropc_jws_alg_name(alg));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ropc_jwks set;
	char why[160], *doc;
	long entries;
	size_t i;
	int rc, a;

	doc = malloc(size > 0 ? size : 1);
	if (doc == NULL)
		return 0;
	if (size > 0)
		memcpy(doc, data, size);
	memset(why, 'x', sizeof(why));
	rc = ropc_jwks_parse(doc, size, &set, why, sizeof(why));
	FUZZ_CHECK("api", rc == 0 || rc == -1, "ropc_jwks_parse returned %d", rc);
	if (rc != 0) {
		check_text(why, sizeof(why), "ropc_jwks_parse");
		FUZZ_CHECK("api", set.n == 0 && set.keys == NULL && set.skipped == 0,
			   "failed but left keys");
		ropc_jwks_free(&set);
		free(doc);
		return 0;
	}
	entries = count_entries(data, size);
	FUZZ_CHECK("strict", entries >= 0, "accepted a document without a \"keys\" array");
	FUZZ_CHECK("count", entries < 0 || set.n + set.skipped == (size_t)entries,
		   "%zu kept + %zu skipped != %ld entries", set.n, set.skipped, entries);
	FUZZ_CHECK("count", set.n <= ROPC_JWKS_MAX_KEYS, "%zu keys kept", set.n);
	FUZZ_CHECK("count", set.n == 0 || set.keys != NULL, "keys without an array");
	FUZZ_CHECK("skipped", terminated(set.skipped_why, sizeof(set.skipped_why)) &&
		   (set.skipped == 0 || (set.skipped_why[0] != '\0' &&
					 printable(set.skipped_why, true))),
		   "skipped %zu, reason unterminated, missing or not printable", set.skipped);
	for (i = 0; i < set.n; i++)
		check_key(&set.keys[i], i);

	for (a = 0; a < (int)ROPC_JWS_ALG_COUNT; a++) {
		enum ropc_jws_alg alg = (enum ropc_jws_alg)a;

		check_select(&set, alg, NULL);
		check_select(&set, alg, "no-key-has-this-kid-\x7e");
		for (i = 0; i < set.n && i < 3; i++)
			if (set.keys[i].has_kid)
				check_select(&set, alg, set.keys[i].kid);
	}
	ropc_jwks_free(&set);
	FUZZ_CHECK("free", set.keys == NULL && set.n == 0, "ropc_jwks_free left keys");
	free(doc);
	return 0;
}
