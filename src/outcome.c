/*
 * outcome.c: the outcome table (see outcome.h).  Why these codes: sudo asks
 * again only after PAM_AUTH_ERR, PAM_AUTHINFO_UNAVAIL, PAM_MAXTRIES and
 * PAM_PERM_DENIED, and otherwise stops with pam_strerror's text; sudo runs
 * modules with PAM_SILENT, so for sudo the code is all the person sees.
 * login stops at PAM_MAXTRIES.  [authinfo_unavail=ignore] lets an admin fall
 * back to local passwords only when the IdP cannot be reached.
 */
#include "outcome.h"

#include <string.h>
#include <strings.h>
#include <syslog.h>

static const struct ropc_outcome_info outcomes[ROPC_OUT_COUNT] = {
	[ROPC_OUT_SUCCESS] = { "success", PAM_SUCCESS, NULL, LOG_INFO },
	[ROPC_OUT_INVALID_CREDENTIALS] = { "invalid_credentials", PAM_AUTH_ERR, NULL, LOG_NOTICE },
	[ROPC_OUT_IDP_UNKNOWN_USER] = { "idp_unknown_user", PAM_AUTH_ERR, NULL, LOG_NOTICE },
	[ROPC_OUT_UNKNOWN_USER] = { "unknown_user", PAM_USER_UNKNOWN, NULL, LOG_NOTICE },
	[ROPC_OUT_SYSTEM_ACCOUNT] = { "system_account", PAM_IGNORE, NULL, LOG_INFO },
	[ROPC_OUT_REJECTED_INPUT] = { "rejected_input", PAM_AUTH_ERR, NULL, LOG_NOTICE },
	[ROPC_OUT_MFA_REQUIRED] = { "mfa_required", PAM_CRED_INSUFFICIENT,
		"multi-factor authentication is required for this account", LOG_NOTICE },
	[ROPC_OUT_LOCKED] = { "locked", PAM_MAXTRIES,
		"account locked at the identity provider", LOG_NOTICE },
	[ROPC_OUT_SUSPENDED] = { "suspended", PAM_PERM_DENIED,
		"account disabled at the identity provider", LOG_NOTICE },
	[ROPC_OUT_PASSWORD_EXPIRED] = { "password_expired", PAM_AUTHTOK_EXPIRED,
		"password expired; change it at the identity provider", LOG_NOTICE },
	[ROPC_OUT_ACCESS_DENIED] = { "access_denied", PAM_PERM_DENIED,
		"not allowed to use this service", LOG_NOTICE },
	[ROPC_OUT_TOKEN_INVALID] = { "token_invalid", PAM_AUTH_ERR, NULL, LOG_ERR },
	[ROPC_OUT_IDENTITY_MISMATCH] = { "identity_mismatch", PAM_PERM_DENIED,
		"the identity provider vouched for a different account", LOG_WARNING },
	[ROPC_OUT_NOT_AUTHORIZED] = { "not_authorized", PAM_PERM_DENIED,
		"not allowed to use this service", LOG_NOTICE },
	[ROPC_OUT_MFA_FAILED] = { "mfa_failed", PAM_AUTH_ERR,
		"multi-factor authentication failed", LOG_NOTICE },
	[ROPC_OUT_OFFLINE_SUCCESS] = { "offline_success", PAM_SUCCESS, NULL, LOG_NOTICE },
	[ROPC_OUT_OFFLINE_REFUSED] = { "offline_refused", PAM_AUTH_ERR, NULL, LOG_NOTICE },
	[ROPC_OUT_MISCONFIGURED] = { "misconfigured", PAM_SERVICE_ERR, NULL, LOG_ERR },
	[ROPC_OUT_UNAVAILABLE] = { "unavailable", PAM_AUTHINFO_UNAVAIL, NULL, LOG_ERR },
	[ROPC_OUT_UNRECOGNISED] = { "unrecognised", PAM_AUTH_ERR, NULL, LOG_WARNING },
	[ROPC_OUT_INTERNAL] = { "internal_error", PAM_SYSTEM_ERR, NULL, LOG_CRIT },
};

const struct ropc_outcome_info *
ropc_outcome_info(enum ropc_outcome o)
{
	if ((unsigned int)o >= ROPC_OUT_COUNT)
		o = ROPC_OUT_INTERNAL;
	return &outcomes[o];
}

int
ropc_outcome_from_name(const char *name)
{
	int i;

	for (i = ROPC_OUT_SUCCESS + 1; i < ROPC_OUT_COUNT; i++)
		if (strcasecmp(name, outcomes[i].name) == 0)
			break;
	/* Only outcomes an IdP answer can have. */
	switch (i) {
	case ROPC_OUT_UNKNOWN_USER:
	case ROPC_OUT_SYSTEM_ACCOUNT:
	case ROPC_OUT_REJECTED_INPUT:
	case ROPC_OUT_TOKEN_INVALID:        /* decided by the module's checks, */
	case ROPC_OUT_IDENTITY_MISMATCH:    /* never by an IdP's error text */
	case ROPC_OUT_NOT_AUTHORIZED:
	case ROPC_OUT_MFA_FAILED:
	case ROPC_OUT_OFFLINE_SUCCESS:
	case ROPC_OUT_OFFLINE_REFUSED:
	case ROPC_OUT_INTERNAL:
	case ROPC_OUT_COUNT:
		return -1;
	default:
		return i;
	}
}

const char *
ropc_pam_code_name(int code)
{
	switch (code) {
	case PAM_SUCCESS: return "PAM_SUCCESS";
	case PAM_AUTH_ERR: return "PAM_AUTH_ERR";
	case PAM_USER_UNKNOWN: return "PAM_USER_UNKNOWN";
	case PAM_CRED_INSUFFICIENT: return "PAM_CRED_INSUFFICIENT";
	case PAM_MAXTRIES: return "PAM_MAXTRIES";
	case PAM_PERM_DENIED: return "PAM_PERM_DENIED";
	case PAM_AUTHTOK_EXPIRED: return "PAM_AUTHTOK_EXPIRED";
	case PAM_SERVICE_ERR: return "PAM_SERVICE_ERR";
	case PAM_AUTHINFO_UNAVAIL: return "PAM_AUTHINFO_UNAVAIL";
	case PAM_SYSTEM_ERR: return "PAM_SYSTEM_ERR";
	case PAM_BUF_ERR: return "PAM_BUF_ERR";
	case PAM_IGNORE: return "PAM_IGNORE";
	case PAM_AUTHTOK_ERR: return "PAM_AUTHTOK_ERR";
	case PAM_CONV_ERR: return "PAM_CONV_ERR";
	case PAM_ABORT: return "PAM_ABORT";
	default: return "PAM_(other)";
	}
}
