/*
 * env.c: the PAM environment (see env.h).  Every NAME=value string is
 * built in memory we wipe; libpam keeps its own copy (and overwrites it
 * when the environment is dropped).  No value is ever logged.
 */
#include "env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <security/pam_appl.h>

#include "claims.h"
#include "logging.h"
#include "options.h"

int
ropc_env_name(const char *prefix, const char *name, char *out, size_t outsize)
{
	int n = snprintf(out, outsize, "%s%s", prefix, name);

	return n < 0 || (size_t)n >= outsize ? -1 : 0;
}

static int
put(struct ropc_ctx *ctx, const char *name, const char *value)
{
	char var[128];
	size_t n;
	char *s;
	int rc;

	if (ropc_env_name(ctx->settings->env_prefix, name, var, sizeof(var)) < 0)
		return PAM_BUF_ERR;
	n = strlen(var) + 1 + strlen(value) + 1;
	s = malloc(n);
	if (s == NULL)
		return PAM_BUF_ERR;
	snprintf(s, n, "%s=%s", var, value);
	rc = pam_putenv(ctx->pamh, s);
	ropc_wipe(s, n);
	free(s);
	if (rc != PAM_SUCCESS)
		ropc_log(ctx, LOG_ERR, "env: cannot set %s: %s", var,
			 pam_strerror(ctx->pamh, rc));
	else
		ropc_debug(ctx, "env: set %s", var);
	return rc;
}

void
ropc_env_clear(struct ropc_ctx *ctx, const char *prefix)
{
	static const char *const names[] = {
		ROPC_ENV_ACCESS_TOKEN, ROPC_ENV_TOKEN_TYPE, ROPC_ENV_EXPIRES_AT,
		ROPC_ENV_SCOPE, ROPC_ENV_ID_TOKEN, ROPC_ENV_REFRESH_TOKEN, ROPC_ENV_USER,
		ROPC_ENV_SUB, ROPC_ENV_OFFLINE,
	};
	char var[128], claim[128], **list;
	size_t i, clen;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (ropc_env_name(prefix, names[i], var, sizeof(var)) == 0 &&
		    pam_getenv(ctx->pamh, var) != NULL)
			(void)pam_putenv(ctx->pamh, var);   /* NAME alone removes it */
	/* <prefix>CLAIM_*: whatever names an earlier export_claims gave. */
	if (ropc_env_name(prefix, ROPC_ENV_CLAIM, claim, sizeof(claim)) < 0)
		return;
	clen = strlen(claim);
	list = pam_getenvlist(ctx->pamh);
	for (i = 0; list != NULL && list[i] != NULL; i++) {
		char *eq = strchr(list[i], '=');

		if (eq != NULL && strncmp(list[i], claim, clen) == 0 &&
		    (size_t)(eq - list[i]) < sizeof(var)) {
			memcpy(var, list[i], (size_t)(eq - list[i]));
			var[eq - list[i]] = '\0';
			(void)pam_putenv(ctx->pamh, var);
		}
	}
	for (i = 0; list != NULL && list[i] != NULL; i++) {
		ropc_wipe(list[i], strlen(list[i]));
		free(list[i]);
	}
	free(list);
}

int
ropc_env_export_identity(struct ropc_ctx *ctx, const char *sub, struct json_object *claims)
{
	const struct ropc_settings *s = ctx->settings;
	char buf[2048 + 1], *tok, *save = NULL;
	int rc = PAM_SUCCESS;

	if (!s->export_token)
		return PAM_SUCCESS;
	if (sub != NULL)
		rc = put(ctx, ROPC_ENV_SUB, sub);
	if (rc != PAM_SUCCESS || s->export_claims == NULL || claims == NULL)
		return rc;
	snprintf(buf, sizeof(buf), "%s", s->export_claims);
	for (tok = strtok_r(buf, " ,\t", &save); tok != NULL && rc == PAM_SUCCESS;
	     tok = strtok_r(NULL, " ,\t", &save)) {
		char name[160], *value = ropc_claims_text(claims, tok, 4096);

		if (value == NULL) {
			ropc_debug(ctx, "env: claim %s is missing or not exportable", tok);
			continue;
		}
		if (ropc_claims_env_suffix(tok, name, sizeof(name)) == 0 &&
		    strlen(s->env_prefix) + strlen(name) < 128)
			rc = put(ctx, name, value);
		else
			ropc_debug(ctx, "env: claim %s gives a variable name too long; skipped", tok);
		ropc_wipe(value, strlen(value));
		free(value);
	}
	return rc;
}

int
ropc_env_export(struct ropc_ctx *ctx, const struct ropc_tokens *t, time_t now)
{
	const struct ropc_settings *s = ctx->settings;
	int rc;

	if (!s->export_token) {
		ropc_debug(ctx, "env: export_token=no, nothing exported");
		return PAM_SUCCESS;
	}
	rc = put(ctx, ROPC_ENV_ACCESS_TOKEN, t->access_token);
	if (rc == PAM_SUCCESS)
		rc = put(ctx, ROPC_ENV_USER, ctx->user);
	if (rc == PAM_SUCCESS && t->token_type != NULL)
		rc = put(ctx, ROPC_ENV_TOKEN_TYPE, t->token_type);
	if (rc == PAM_SUCCESS && t->expires_in > 0) {
		char when[32];

		snprintf(when, sizeof(when), "%lld", (long long)now + t->expires_in);
		rc = put(ctx, ROPC_ENV_EXPIRES_AT, when);
	}
	if (rc == PAM_SUCCESS && t->scope != NULL)
		rc = put(ctx, ROPC_ENV_SCOPE, t->scope);
	if (rc == PAM_SUCCESS && s->export_id_token && t->id_token != NULL)
		rc = put(ctx, ROPC_ENV_ID_TOKEN, t->id_token);
	if (rc == PAM_SUCCESS && s->export_refresh_token && t->refresh_token != NULL)
		rc = put(ctx, ROPC_ENV_REFRESH_TOKEN, t->refresh_token);
	return rc;
}

int
ropc_env_export_offline(struct ropc_ctx *ctx)
{
	if (!ctx->settings->export_token)
		return PAM_SUCCESS;
	return put(ctx, ROPC_ENV_USER, ctx->user) == PAM_SUCCESS
	       ? put(ctx, ROPC_ENV_OFFLINE, "1") : PAM_BUF_ERR;
}
