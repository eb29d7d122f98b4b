/*
 * form.c: form-urlencoding and the token request (see form.h).  Only the
 * unreserved characters of RFC 3986 pass through; a space becomes '+';
 * every other byte, UTF-8 included, becomes %XX.  So a password holding
 * "&scope=admin" stays one value.
 */
#include "form.h"

#include <string.h>
#include <openssl/evp.h>

int
ropc_form_encode(struct ropc_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[3];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			if (ropc_buf_append(b, &s[i], 1) < 0)
				return -1;
		} else if (c == ' ') {
			if (ropc_buf_append(b, "+", 1) < 0)
				return -1;
		} else {
			esc[0] = '%';
			esc[1] = hex[c >> 4];
			esc[2] = hex[c & 0xf];
			if (ropc_buf_append(b, esc, 3) < 0)
				return -1;
		}
	}
	return 0;
}

int
ropc_form_add(struct ropc_buf *b, const char *name, const char *value)
{
	if (b->len > 0 && ropc_buf_append(b, "&", 1) < 0)
		return -1;
	if (ropc_form_encode(b, name, strlen(name)) < 0 ||
	    ropc_buf_append(b, "=", 1) < 0 ||
	    ropc_form_encode(b, value, strlen(value)) < 0)
		return -1;
	return 0;
}

int
ropc_form_client(const struct ropc_settings *s, struct ropc_buf *body)
{
	/* RFC 6749 §2.3.1: in the body only with client_secret_post; a
	 * public client identifies itself with client_id alone (§3.2.1). */
	if (s->client_auth != ROPC_CLIENT_AUTH_BASIC && s->client_id != NULL &&
	    ropc_form_add(body, "client_id", s->client_id) < 0)
		return -1;
	if (s->client_auth == ROPC_CLIENT_AUTH_POST &&
	    ropc_form_add(body, "client_secret", s->client_secret) < 0)
		return -1;
	return 0;
}

int
ropc_form_build(const struct ropc_settings *s, const char *user,
		const char *password, struct ropc_buf *body)
{
	size_t i;

	if (ropc_form_add(body, "grant_type", "password") < 0 ||
	    ropc_form_add(body, "username", user) < 0 ||
	    ropc_form_add(body, "password", password) < 0)
		return -1;
	if (s->scope != NULL && s->scope[0] != '\0' &&
	    ropc_form_add(body, "scope", s->scope) < 0)
		return -1;
	if (s->resource != NULL && ropc_form_add(body, "resource", s->resource) < 0)
		return -1;
	if (ropc_form_client(s, body) < 0)
		return -1;
	for (i = 0; i < s->n_extra_params; i++)
		if (ropc_form_add(body, s->extra_params[i].name,
				  s->extra_params[i].value) < 0)
			return -1;
	return 0;
}

int
ropc_form_basic_header(const char *id, const char *secret, struct ropc_buf *hdr)
{
	struct ropc_buf plain;
	unsigned char *out;
	size_t outlen;
	int rc = -1;

	ropc_buf_init(&plain, 3 * (strlen(id) + strlen(secret)) + 1);
	if (ropc_form_encode(&plain, id, strlen(id)) < 0 ||
	    ropc_buf_append(&plain, ":", 1) < 0 ||
	    ropc_form_encode(&plain, secret, strlen(secret)) < 0)
		goto out;
	outlen = 4 * ((plain.len + 2) / 3) + 1;
	out = OPENSSL_malloc(outlen);
	if (out == NULL)
		goto out;
	EVP_EncodeBlock(out, (const unsigned char *)plain.data, (int)plain.len);
	if (ropc_buf_append_str(hdr, "Authorization: Basic ") == 0 &&
	    ropc_buf_append_str(hdr, (const char *)out) == 0)
		rc = 0;
	OPENSSL_clear_free(out, outlen);
out:
	ropc_buf_free(&plain);
	return rc;
}
