/*
 * env.h: handing the tokens to the session through the PAM environment
 * (pam_putenv in pam_sm_authenticate: sshd carries PAM environment
 * variables from its authentication child into the session; it does not
 * carry pam_set_data).
 */
#ifndef ROPC_ENV_H
#define ROPC_ENV_H

#include <time.h>
#include "common.h"
#include "response.h"

/* The names, after the prefix. */
#define ROPC_ENV_ACCESS_TOKEN "ACCESS_TOKEN"
#define ROPC_ENV_TOKEN_TYPE "TOKEN_TYPE"
#define ROPC_ENV_EXPIRES_AT "EXPIRES_AT"
#define ROPC_ENV_SCOPE "SCOPE"
#define ROPC_ENV_ID_TOKEN "ID_TOKEN"
#define ROPC_ENV_REFRESH_TOKEN "REFRESH_TOKEN"
#define ROPC_ENV_USER "USER"          /* the local user the token was issued for */
#define ROPC_ENV_SUB "SUB"            /* the verified subject (token_check) */
#define ROPC_ENV_OFFLINE "OFFLINE"    /* "1" after an offline login */
#define ROPC_ENV_CLAIM "CLAIM_"       /* export_claims: CLAIM_<NAME> */

/* prefix + name into out; 0, or -1 when it does not fit. */
ROPC_HIDDEN int ropc_env_name(const char *prefix, const char *name, char *out,
			      size_t outsize);

/* Remove every variable the module sets under prefix, so that no token
 * of an earlier authentication in the same PAM handle outlives a later
 * one. */
ROPC_HIDDEN void ropc_env_clear(struct ropc_ctx *ctx, const char *prefix);

/* The prefix used by the default settings. */
#define ROPC_DEFAULT_ENV_PREFIX "OAUTH2_"

struct json_object;

/* Put the verified subject (<prefix>SUB) and the claims export_claims
 * names (<prefix>CLAIM_<NAME>) into the PAM environment; nothing with
 * export_token=no or without claims.  A claim that is missing or cannot
 * be a variable's value is skipped.  Returns a PAM code. */
ROPC_HIDDEN int ropc_env_export_identity(struct ropc_ctx *ctx, const char *sub,
					 struct json_object *claims);

/* After an offline login: <prefix>USER and <prefix>OFFLINE=1, no token
 * (nothing with export_token=no).  Returns a PAM code. */
ROPC_HIDDEN int ropc_env_export_offline(struct ropc_ctx *ctx);

/* Put the tokens into the PAM environment as the settings say (nothing
 * with export_token=no).  now is the time the answer arrived, for
 * EXPIRES_AT.  Returns a PAM code. */
ROPC_HIDDEN int ropc_env_export(struct ropc_ctx *ctx, const struct ropc_tokens *t,
				time_t now);

#endif
