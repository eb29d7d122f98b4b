/*
 * classify.h: turning what came back from the token endpoint (or did not)
 * into one outcome.  Pure: no network, no PAM calls; tested and fuzzed on
 * its own.
 */
#ifndef ROPC_CLASSIFY_H
#define ROPC_CLASSIFY_H

#include "http.h"
#include "outcome.h"
#include "response.h"

struct ropc_verdict {
	enum ropc_outcome outcome;
	struct ropc_tokens tokens;   /* filled only on success */
	struct ropc_idp_error idp;   /* what the IdP said, when it said it */
	char detail[256];            /* why this outcome, for the log */
};

/*
 * Classify res under the settings s (for error_map; may be NULL).
 * Always fills *v; free it with ropc_verdict_free.  The rules, in order:
 * a transport failure, a redirect, a 5xx or a 429 is unavailable; a 200
 * must be a valid token response (else unavailable, unless it carries a
 * recognised error); any other answer is matched against the admin's
 * error_map, then the built-in descriptions, then the RFC 6749 error
 * codes; a 401/403 with no JSON body is invalid credentials (Glewlwyd);
 * anything left is unrecognised, which fails closed.
 */
ROPC_HIDDEN void ropc_classify(const struct ropc_settings *s,
			       const struct ropc_http_result *res,
			       struct ropc_verdict *v);

ROPC_HIDDEN void ropc_verdict_free(struct ropc_verdict *v);

#endif
