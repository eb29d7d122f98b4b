/*
 * trust.c: reading the TLS trust settings once (see trust.h).
 */
#include "trust.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "logging.h"
#include "options.h"
#include "secfile.h"

char *
ropc_trust_pin_of_key(const char *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE], *der = NULL;
	unsigned int mdlen = 0;
	const unsigned char *p;
	EVP_PKEY *key = NULL;
	BIO *bio;
	char *out = NULL;
	int derlen;

	if (len == 0 || len > (size_t)ROPC_MAX_TRUST_SIZE)
		return NULL;
	bio = BIO_new_mem_buf(data, (int)len);
	if (bio != NULL) {
		key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	if (key == NULL) {
		/* DER: the whole file must be the one key. */
		p = (const unsigned char *)data;
		key = d2i_PUBKEY(NULL, &p, (long)len);
		if (key != NULL && p != (const unsigned char *)data + len) {
			EVP_PKEY_free(key);
			key = NULL;
		}
	}
	if (key == NULL)
		return NULL;
	derlen = i2d_PUBKEY(key, &der);
	EVP_PKEY_free(key);
	if (derlen <= 0)
		return NULL;
	if (EVP_Digest(der, (size_t)derlen, md, &mdlen, EVP_sha256(), NULL) == 1) {
		/* base64 of 32 bytes is 44 characters. */
		out = malloc(8 + 4 * ((mdlen + 2) / 3) + 1);
		if (out != NULL) {
			memcpy(out, "sha256//", 8);
			EVP_EncodeBlock((unsigned char *)out + 8, md, (int)mdlen);
		}
	}
	OPENSSL_free(der);
	return out;
}

/* Read one trust file; logs and returns -1 on any problem. */
static int
read_trust_file(struct ropc_ctx *ctx, struct ropc_settings *s, const char *key,
		const char *path, uid_t owner, char **data, size_t *len)
{
	char why[512];
	bool missing;

	if (ropc_secfile_read(path, ROPC_FILE_TRUST, owner, ROPC_MAX_TRUST_SIZE, data, len,
			      NULL, &missing, why, sizeof(why)) == 0)
		return 0;
	if (errno == EACCES && geteuid() != 0) {
		ropc_settings_denied(s, path);
		ropc_debug(ctx, "config: %s %s: %s", key, path, why);
		return -1;
	}
	ropc_log(ctx, LOG_ERR, "config: %s %s refused: %s", key, path, why);
	return -1;
}

int
ropc_trust_load(struct ropc_ctx *ctx, struct ropc_settings *s, uid_t owner)
{
	char why[512];
	int rc = 0;

	if (s->ca_file != NULL) {
		if (read_trust_file(ctx, s, "ca_file", s->ca_file, owner, &s->ca_data,
				    &s->ca_len) < 0)
			rc = -1;
		else if (strstr(s->ca_data, "-----BEGIN CERTIFICATE-----") == NULL) {
			ropc_log(ctx, LOG_ERR,
				 "config: ca_file %s holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
				 s->ca_file);
			rc = -1;
		}
	}
	if (s->ca_path != NULL &&
	    ropc_secfile_check_dirs(s->ca_path, true, owner, why, sizeof(why)) < 0) {
		if (errno == EACCES && geteuid() != 0)
			ropc_settings_denied(s, s->ca_path);
		else
			ropc_log(ctx, LOG_ERR, "config: ca_path %s refused: %s", s->ca_path, why);
		rc = -1;
	}
	if (s->pinned_public_key != NULL) {
		if (s->pinned_public_key[0] == '/') {
			char *data = NULL;
			size_t len = 0;

			if (read_trust_file(ctx, s, "pinned_public_key", s->pinned_public_key,
					    owner, &data, &len) < 0) {
				rc = -1;
			} else {
				s->pin = ropc_trust_pin_of_key(data, len);
				if (s->pin == NULL) {
					ropc_log(ctx, LOG_ERR,
						 "config: pinned_public_key %s holds no public key "
						 "(PEM \"BEGIN PUBLIC KEY\" or DER)", s->pinned_public_key);
					rc = -1;
				}
				ropc_wipe(data, len);
				free(data);
			}
		} else {
			s->pin = strdup(s->pinned_public_key);
			if (s->pin == NULL)
				rc = -1;
		}
	}
	return rc;
}
