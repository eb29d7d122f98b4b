/*
 * pam_ropc.c: the PAM entry points.  Each one builds the per-call context,
 * reads the settings where it needs them, calls the one function in auth.c
 * that decides, and frees.  See pam_ropc(8).
 */
#include <stdlib.h>
#include <string.h>
#include <security/pam_modules.h>

#include "auth.h"
#include "common.h"
#include "options.h"

static void
ctx_init(struct ropc_ctx *ctx, pam_handle_t *pamh, int flags)
{
	const void *item = NULL;

	memset(ctx, 0, sizeof(*ctx));
	ctx->pamh = pamh;
	ctx->flags = flags;
	ctx->service = "(unknown)";
	if (pam_get_item(pamh, PAM_SERVICE, &item) == PAM_SUCCESS && item != NULL)
		ctx->service = item;
	if (pam_get_item(pamh, PAM_RHOST, &item) == PAM_SUCCESS && item != NULL)
		ctx->rhost = item;
}

ROPC_EXPORT PAM_EXTERN int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct ropc_ctx ctx;
	int rc;

	ctx_init(&ctx, pamh, flags);
	rc = ropc_settings_load(&ctx, argc, argv, &ctx.settings);
	rc = ropc_authenticate(&ctx, rc, NULL);
	ropc_settings_free(ctx.settings);
	return rc;
}

/* Credentials are the tokens in the environment, set at authentication;
 * PAM_IGNORE here would fail stacks where every module ignores. */
ROPC_EXPORT PAM_EXTERN int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}

ROPC_EXPORT PAM_EXTERN int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct ropc_ctx ctx;
	int rc;

	ctx_init(&ctx, pamh, flags);
	rc = ropc_settings_load(&ctx, argc, argv, &ctx.settings);
	rc = ropc_account(&ctx, rc);
	ropc_settings_free(ctx.settings);
	return rc;
}

ROPC_EXPORT PAM_EXTERN int
pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct ropc_ctx ctx;

	(void)argc;
	(void)argv;
	ctx_init(&ctx, pamh, flags);
	return ropc_chauthtok(&ctx);
}
