/*
 * trust.h: the files that decide whom the module trusts over TLS (ca_file,
 * ca_path, a pinned_public_key file), read once when the settings are read
 * and handed to libcurl from memory, so that what was checked is what is
 * used: nothing can swap a file between the check and the handshake.
 */
#ifndef ROPC_TRUST_H
#define ROPC_TRUST_H

#include "common.h"

/*
 * Check and load the trust settings of s: ca_file's bytes into
 * s->ca_data, the pin (a sha256// list as given, or the hash of the
 * public key in the pin file) into s->pin, and ca_path's directory rule.
 * owner is the uid the files must belong to (root for the module).
 * Returns 0, or -1 after logging at LOG_ERR what is wrong (a missing or
 * unsafe file is the admin's error, never "IdP unavailable", which a
 * fallback stack would forgive).
 */
ROPC_HIDDEN int ropc_trust_load(struct ropc_ctx *ctx, struct ropc_settings *s,
				uid_t owner);

/*
 * The pin of a public key in PEM or DER (SubjectPublicKeyInfo) form:
 * "sha256//" and the base64 of the SHA-256 of its DER encoding, as
 * libcurl's CURLOPT_PINNEDPUBLICKEY takes it.  Returns a new string, or
 * NULL when data holds no public key (or out of memory).
 */
ROPC_HIDDEN char *ropc_trust_pin_of_key(const char *data, size_t len);

#endif
