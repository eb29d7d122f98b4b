/*
 * response.h: reading the token endpoint's JSON answer: the tokens of a
 * success (RFC 6749 §5.1), or the error of a refusal (§5.2, and the shapes
 * OneLogin and Entra ID use).  Parsing is strict: one JSON object, nothing
 * after it, valid UTF-8, nesting at most ROPC_JSON_DEPTH; every field's type
 * is checked, and what is kept is copied out before the JSON is wiped.
 */
#ifndef ROPC_RESPONSE_H
#define ROPC_RESPONSE_H

#include "common.h"

#define ROPC_JSON_DEPTH 16
#define ROPC_MAX_TOKEN ((size_t)32 * 1024)

struct ropc_tokens {
	char *access_token;   /* always set on success; wiped when freed */
	char *token_type;     /* NULL when the IdP sent none */
	char *scope;          /* NULL when the IdP sent none */
	char *id_token;       /* NULL when none or unusable; wiped */
	char *refresh_token;  /* NULL when none or unusable; wiped */
	long long expires_in; /* seconds, or -1 when absent or unusable */
};

struct ropc_idp_error {
	char code[128];         /* "error", or OneLogin's status.type */
	char description[1024]; /* "error_description" or status.message */
	char codes[128];        /* Entra's error_codes, as "50126,50034" */
	bool json;              /* the body was a JSON object */
	/* The answer says it is an error, decided from its structure, not
	 * from what could be copied: an "error" member that is present and
	 * not null (whatever its type or content, "" and "\u0000" included),
	 * or OneLogin's "status" object with an "error" member that is
	 * present and neither null nor false. */
	bool has_error;
	/* Okta's and Auth0's MFA challenge: the "mfa_token" of an
	 * mfa_required answer (a secret: wiped by ropc_idp_error_wipe). */
	char mfa_token[1024];
};

/* Wipe what an error answer left that is secret (the mfa_token). */
ROPC_HIDDEN void ropc_idp_error_wipe(struct ropc_idp_error *e);

/*
 * Parse a 200 answer.  Returns 0 with *t filled (free with
 * ropc_tokens_free), or -1 with a reason in why (no secrets in it).
 */
ROPC_HIDDEN int ropc_response_tokens(const char *body, size_t len,
				     struct ropc_tokens *t, char *why,
				     size_t whysize);

/* Read what an error answer says into *e; never fails (an unreadable body
 * leaves the fields empty and e->json false). */
ROPC_HIDDEN void ropc_response_error(const char *body, size_t len,
				     struct ropc_idp_error *e);

/*
 * A 200 answer, parsed once: what it says as an error into *e (always,
 * as ropc_response_error), and, only when it carries no error
 * (e->has_error false), its tokens into *t (as ropc_response_tokens).
 * Returns 0 when *t holds a token response, else -1 with why.
 */
ROPC_HIDDEN int ropc_response_read(const char *body, size_t len,
				   struct ropc_idp_error *e, struct ropc_tokens *t,
				   char *why, size_t whysize);

ROPC_HIDDEN void ropc_tokens_free(struct ropc_tokens *t);

struct json_object;

/*
 * The strict JSON reader of this file, for the other answers of the IdP
 * (discovery, introspection, userinfo): body must be exactly one JSON
 * object (valid UTF-8, depth ROPC_JSON_DEPTH, nothing after it).  Returns
 * the object, or NULL with why.  Put it with ropc_json_object_done, which
 * wipes every string first.
 */
ROPC_HIDDEN struct json_object *ropc_json_object_parse(const char *body, size_t len,
						       char *why, size_t whysize);
ROPC_HIDDEN void ropc_json_object_done(struct json_object *o);

/*
 * The strict reader itself, for callers that word their own errors (the
 * JWS segments): text must be exactly one JSON object, as above.  Returns
 * the object, or NULL with what was wrong in *f (desc: json-c's words for
 * a syntax error; at: the byte offset of a syntax error or of trailing
 * data).  Every refused tree is wiped before it is freed.
 */
enum ropc_json_fault_kind {
	ROPC_JSON_OK,
	ROPC_JSON_EMPTY,
	ROPC_JSON_TOO_LARGE,
	ROPC_JSON_NOT_UTF8,
	ROPC_JSON_NOMEM,
	ROPC_JSON_SYNTAX,
	ROPC_JSON_TRAILING,
	ROPC_JSON_NOT_OBJECT,
};
struct ropc_json_fault {
	enum ropc_json_fault_kind kind;
	const char *desc;
	size_t at;
};
ROPC_HIDDEN struct json_object *ropc_json_strict(const char *text, size_t len,
						 struct ropc_json_fault *f);

#endif
