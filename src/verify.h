/*
 * verify.h: after the IdP said yes to the password, who did it vouch for,
 * and may they log in here (token_check, the claim rules).  One function
 * decides; its outcome is one of the table's (outcome.h).
 */
#ifndef ROPC_VERIFY_H
#define ROPC_VERIFY_H

#include <json-c/json.h>
#include "common.h"
#include "outcome.h"
#include "response.h"

/* What a verified login carries to the session. */
struct ropc_identity {
	struct json_object *claims;     /* the verified claims, or NULL (token_check none) */
	char *sub;                      /* the verified subject, or NULL */
};

/*
 * Verify the token answer t for the name sent to the IdP (idp_user, after
 * username_format), as token_check says, then apply username_claim,
 * require_scope, allowed_groups and require_claim.  Returns
 * ROPC_OUT_SUCCESS with *id filled (free it with ropc_identity_free), or
 * the outcome that refuses (token_invalid, identity_mismatch,
 * not_authorized, unavailable when a verification endpoint cannot be
 * reached, misconfigured, internal_error), with detail for the log line.
 */
ROPC_HIDDEN enum ropc_outcome ropc_verify(struct ropc_ctx *ctx, const struct ropc_tokens *t,
					  const char *idp_user, struct ropc_identity *id,
					  char *detail, size_t detailsize);

ROPC_HIDDEN void ropc_identity_free(struct ropc_identity *id);

/* What an offline entry keeps of an online success: the verified claims
 * (a copy; may be NULL) and the answer's scope.  A new object, or NULL. */
ROPC_HIDDEN struct json_object *ropc_verify_offline_record(const struct ropc_tokens *t,
							   struct json_object *claims);

/* The rules (username_claim, require_scope, allowed_groups, require_claim)
 * checked offline against a record of ropc_verify_offline_record: the
 * same outcomes as ropc_verify, with detail. */
ROPC_HIDDEN enum ropc_outcome ropc_verify_offline(struct ropc_ctx *ctx, struct json_object *rec,
						  const char *idp_user, char *detail,
						  size_t detailsize);

#endif
