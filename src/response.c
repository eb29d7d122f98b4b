/*
 * response.c: JSON answers of the token endpoint (see response.h).
 */
#include "response.h"
#include "user.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <json-c/printbuf.h>

/* Wipe every string in o (values and nested values) in place, so that the
 * tokens do not outlive the JSON tree in freed memory.  The recursion is
 * bounded: the tokener refuses trees deeper than ROPC_JSON_DEPTH. */
static void
wipe_json(struct json_object *o, int depth) /* NOLINT(misc-no-recursion) */
{
	if (o == NULL || depth > ROPC_JSON_DEPTH + 1)
		return;
	switch (json_object_get_type(o)) {
	case json_type_string:
		ropc_wipe((char *)json_object_get_string(o),
			  (size_t)json_object_get_string_len(o));
		break;
	case json_type_object: {
		json_object_object_foreach(o, key, val) {
			(void)key;
			wipe_json(val, depth + 1);
		}
		break;
	}
	case json_type_array: {
		size_t i, n = json_object_array_length(o);

		for (i = 0; i < n; i++)
			wipe_json(json_object_array_get_idx(o, i), depth + 1);
		break;
	}
	default:
		break;
	}
}

struct json_object *
ropc_json_strict(const char *text, size_t len, struct ropc_json_fault *f)
{
	struct json_tokener *tok;
	struct json_object *o;
	enum json_tokener_error err;
	size_t end;

	f->kind = ROPC_JSON_OK;
	f->desc = "";
	f->at = 0;
	if (len == 0) {
		f->kind = ROPC_JSON_EMPTY;
		return NULL;
	}
	if (len > INT32_MAX) {
		f->kind = ROPC_JSON_TOO_LARGE;
		return NULL;
	}
	/* json-c's own check lets overlong forms and surrogates through. */
	if (!ropc_utf8_valid(text, len)) {
		f->kind = ROPC_JSON_NOT_UTF8;
		return NULL;
	}
	tok = json_tokener_new_ex(ROPC_JSON_DEPTH);
	if (tok == NULL) {
		f->kind = ROPC_JSON_NOMEM;
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, text, (int)len);
	err = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (o == NULL || err != json_tokener_success) {
		f->kind = ROPC_JSON_SYNTAX;
		f->desc = err == json_tokener_continue ? "truncated" : json_tokener_error_desc(err);
		f->at = end;
	} else {
		/* JSON white space only; strchr would also match a NUL byte. */
		while (end < len && text[end] != '\0' && strchr(" \t\r\n", text[end]) != NULL)
			end++;
		if (end < len) {
			f->kind = ROPC_JSON_TRAILING;
			f->at = end;
		} else if (!json_object_is_type(o, json_type_object)) {
			f->kind = ROPC_JSON_NOT_OBJECT;
		}
	}
	if (f->kind != ROPC_JSON_OK) {
		ropc_json_object_done(o);
		o = NULL;
	}
	/* The tokener's scratch buffer holds the last string it read. */
	if (tok->pb != NULL && tok->pb->buf != NULL && tok->pb->size > 0)
		ropc_wipe(tok->pb->buf, (size_t)tok->pb->size);
	json_tokener_free(tok);
	return o;
}

/*
 * Parse body as exactly one JSON object.  Returns the object (the caller
 * wipes and puts it with json_done) or NULL with why.
 */
static struct json_object *
parse_object(const char *body, size_t len, char *why, size_t whysize)
{
	struct ropc_json_fault f;
	struct json_object *o = ropc_json_strict(body, len, &f);

	switch (f.kind) {
	case ROPC_JSON_OK:
		break;
	case ROPC_JSON_EMPTY:
		snprintf(why, whysize, "empty body");
		break;
	case ROPC_JSON_TOO_LARGE:
		snprintf(why, whysize, "body too large");
		break;
	case ROPC_JSON_NOT_UTF8:
		snprintf(why, whysize, "not JSON (not valid UTF-8)");
		break;
	case ROPC_JSON_NOMEM:
		snprintf(why, whysize, "out of memory");
		break;
	case ROPC_JSON_SYNTAX:
		snprintf(why, whysize, "not JSON (%s at byte %zu)", f.desc, f.at);
		break;
	case ROPC_JSON_TRAILING:
		snprintf(why, whysize, "data after the JSON value at byte %zu", f.at);
		break;
	case ROPC_JSON_NOT_OBJECT:
		snprintf(why, whysize, "JSON value is not an object");
		break;
	}
	return o;
}

static void
json_done(struct json_object *o)
{
	ropc_json_object_done(o);
}

/* The string field name of o, when it is a string without NUL and with
 * bytes that pass ok(); else NULL.  *present tells whether it was there. */
static const char *
string_field(struct json_object *o, const char *name, size_t max,
	     bool (*ok)(unsigned char), bool *present, const char **why)
{
	struct json_object *v;
	const char *s;
	size_t n, i;

	*present = json_object_object_get_ex(o, name, &v);
	if (!*present)
		return NULL;
	if (!json_object_is_type(v, json_type_string)) {
		*why = "is not a string";
		return NULL;
	}
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (n == 0) {
		*why = "is empty";
		return NULL;
	}
	if (n > max) {
		*why = "is too long";
		return NULL;
	}
	if (strlen(s) != n) {
		*why = "holds a NUL byte";
		return NULL;
	}
	for (i = 0; i < n; i++)
		if (!ok((unsigned char)s[i])) {
			*why = "holds a character a token may not hold";
			return NULL;
		}
	return s;
}

/* RFC 6749 Appendix A: VSCHAR, and NQSCHAR plus space for scope. */
static bool
is_vschar(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e;
}

static bool
is_token68(unsigned char c)
{
	return c > 0x20 && c <= 0x7e;
}

static bool
is_scopechar(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\';
}

static long long
expires_field(struct json_object *o)
{
	struct json_object *v;
	long long n = -1;

	if (!json_object_object_get_ex(o, "expires_in", &v))
		return -1;
	if (json_object_is_type(v, json_type_int)) {
		n = (long long)json_object_get_int64(v);
	} else if (json_object_is_type(v, json_type_string)) {
		/* Some IdPs (Entra ID v1) send it as a string. */
		const char *s = json_object_get_string(v);
		char *end;

		if (s[0] >= '0' && s[0] <= '9') {
			n = strtoll(s, &end, 10);
			if (*end != '\0')
				n = -1;
		}
	}
	/* Ten years is plenty; anything larger is nonsense. */
	if (n <= 0 || n > 10LL * 366 * 24 * 3600)
		return -1;
	return n;
}

static char *
dup_or_fail(const char *s, bool *oom)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
		*oom = true;
	return d;
}

/* The tokens of the parsed answer o into *t (zeroed first).  0, or -1
 * with why. */
static int
read_tokens(struct json_object *o, struct ropc_tokens *t, char *why, size_t whysize)
{
	const char *at, *tt, *sc, *it, *rt, *bad = NULL;
	bool present, oom = false;

	memset(t, 0, sizeof(*t));
	t->expires_in = -1;
	at = string_field(o, "access_token", ROPC_MAX_TOKEN, is_vschar, &present, &bad);
	if (at == NULL) {
		snprintf(why, whysize, "access_token %s", present ? bad : "is missing");
		return -1;
	}
	bad = NULL;
	tt = string_field(o, "token_type", 64, is_token68, &present, &bad);
	if (present && tt == NULL) {
		snprintf(why, whysize, "token_type %s", bad);
		return -1;
	}
	/* Optional fields that are unusable are dropped, not fatal. */
	sc = string_field(o, "scope", 4096, is_scopechar, &present, &bad);
	it = string_field(o, "id_token", ROPC_MAX_TOKEN, is_token68, &present, &bad);
	rt = string_field(o, "refresh_token", ROPC_MAX_TOKEN, is_vschar, &present, &bad);
	t->access_token = dup_or_fail(at, &oom);
	t->token_type = dup_or_fail(tt, &oom);
	t->scope = dup_or_fail(sc, &oom);
	t->id_token = dup_or_fail(it, &oom);
	t->refresh_token = dup_or_fail(rt, &oom);
	t->expires_in = expires_field(o);
	if (oom) {
		ropc_tokens_free(t);
		snprintf(why, whysize, "out of memory");
		return -1;
	}
	return 0;
}

int
ropc_response_tokens(const char *body, size_t len, struct ropc_tokens *t,
		     char *why, size_t whysize)
{
	struct json_object *o;
	int rc;

	memset(t, 0, sizeof(*t));
	t->expires_in = -1;
	o = parse_object(body, len, why, whysize);
	if (o == NULL)
		return -1;
	rc = read_tokens(o, t, why, whysize);
	json_done(o);
	return rc;
}

static void
copy_field(struct json_object *o, const char *name, char *out, size_t outsize)
{
	struct json_object *v;
	size_t n;

	if (!json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return;
	n = (size_t)json_object_get_string_len(v);
	if (n >= outsize)
		n = outsize - 1;
	memcpy(out, json_object_get_string(v), n);
	out[n] = '\0';
}

/* What the parsed answer o says as an error into *e (zeroed by the
 * caller); e->json is set. */
static void
read_error(struct json_object *o, struct ropc_idp_error *e)
{
	struct json_object *status, *codes, *member;

	e->json = true;
	/* json-c gives a JSON null as a NULL object. */
	if (json_object_object_get_ex(o, "error", &member) && member != NULL)
		e->has_error = true;
	copy_field(o, "error", e->code, sizeof(e->code));
	copy_field(o, "error_description", e->description, sizeof(e->description));
	copy_field(o, "mfa_token", e->mfa_token, sizeof(e->mfa_token));
	if (strlen(e->mfa_token) >= sizeof(e->mfa_token) - 1)
		ropc_wipe(e->mfa_token, sizeof(e->mfa_token));     /* too long: not usable */
	/* OneLogin: {"status":{"error":true,"code":401,"type":"Unauthorized",
	 * "message":"Authentication Failed"}}. */
	if (json_object_object_get_ex(o, "status", &status) &&
	    json_object_is_type(status, json_type_object)) {
		if (json_object_object_get_ex(status, "error", &member) && member != NULL &&
		    !(json_object_is_type(member, json_type_boolean) &&
		      !json_object_get_boolean(member)))
			e->has_error = true;
		if (e->code[0] == '\0')
			copy_field(status, "type", e->code, sizeof(e->code));
		if (e->description[0] == '\0')
			copy_field(status, "message", e->description, sizeof(e->description));
	}
	/* OneLogin's newer API: {"statusCode":401,"name":"...","message":"..."}. */
	if (e->description[0] == '\0')
		copy_field(o, "message", e->description, sizeof(e->description));
	/* Entra ID: "error_codes":[50126]. */
	if (json_object_object_get_ex(o, "error_codes", &codes) &&
	    json_object_is_type(codes, json_type_array)) {
		size_t i, n = json_object_array_length(codes), used = 0;

		for (i = 0; i < n && i < 8; i++) {
			struct json_object *c = json_object_array_get_idx(codes, i);
			int w;

			if (!json_object_is_type(c, json_type_int))
				continue;
			w = snprintf(e->codes + used, sizeof(e->codes) - used, "%s%lld",
				     used > 0 ? "," : "", (long long)json_object_get_int64(c));
			if (w < 0 || (size_t)w >= sizeof(e->codes) - used)
				break;
			used += (size_t)w;
		}
	}
}

void
ropc_response_error(const char *body, size_t len, struct ropc_idp_error *e)
{
	struct json_object *o;
	char why[128];

	memset(e, 0, sizeof(*e));
	o = parse_object(body, len, why, sizeof(why));
	if (o == NULL)
		return;
	read_error(o, e);
	json_done(o);
}

int
ropc_response_read(const char *body, size_t len, struct ropc_idp_error *e,
		   struct ropc_tokens *t, char *why, size_t whysize)
{
	struct json_object *o;
	int rc = -1;

	memset(e, 0, sizeof(*e));
	memset(t, 0, sizeof(*t));
	t->expires_in = -1;
	o = parse_object(body, len, why, whysize);
	if (o == NULL)
		return -1;
	read_error(o, e);
	if (!e->has_error)
		rc = read_tokens(o, t, why, whysize);
	else
		snprintf(why, whysize, "it carries an error");
	json_done(o);
	return rc;
}

void
ropc_tokens_free(struct ropc_tokens *t)
{
	ropc_free_secret(t->access_token);
	free(t->token_type);
	free(t->scope);
	ropc_free_secret(t->id_token);
	ropc_free_secret(t->refresh_token);
	memset(t, 0, sizeof(*t));
	t->expires_in = -1;
}

struct json_object *
ropc_json_object_parse(const char *body, size_t len, char *why, size_t whysize)
{
	return parse_object(body, len, why, whysize);
}

void
ropc_json_object_done(struct json_object *o)
{
	wipe_json(o, 0);
	json_object_put(o);
}

void
ropc_idp_error_wipe(struct ropc_idp_error *e)
{
	ropc_wipe(e->mfa_token, sizeof(e->mfa_token));
}
