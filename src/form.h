/*
 * form.h: the token request body (RFC 6749 §4.3.2), form-urlencoded
 * (Appendix B) into a wiping buffer, and the client's HTTP Basic header.
 */
#ifndef ROPC_FORM_H
#define ROPC_FORM_H

#include "buf.h"
#include "options.h"

#define ROPC_MAX_BODY ((size_t)64 * 1024)

/* Append name=value (both encoded), with a leading & unless first.
 * Returns 0 or -1 (too large, out of memory). */
ROPC_HIDDEN int ropc_form_add(struct ropc_buf *b, const char *name,
			      const char *value);
/* Append the form encoding of n bytes of s. */
ROPC_HIDDEN int ropc_form_encode(struct ropc_buf *b, const char *s, size_t n);

/* The client's identification in a token request body, as client_auth
 * says (client_id for a public client or post; client_secret with post;
 * nothing with basic, which is a header).  0 or -1. */
ROPC_HIDDEN int ropc_form_client(const struct ropc_settings *s, struct ropc_buf *body);

/* Build the whole request body for user (already mapped) and password
 * into body (initialised by the caller).  Returns 0 or -1. */
ROPC_HIDDEN int ropc_form_build(const struct ropc_settings *s,
				const char *user, const char *password,
				struct ropc_buf *body);

/* "Authorization: Basic base64(enc(id):enc(secret))" into hdr. */
ROPC_HIDDEN int ropc_form_basic_header(const char *id, const char *secret,
				       struct ropc_buf *hdr);

#endif
