/*
 * outcome.h: every way a login can end, the PAM code each one returns and
 * what the person at the prompt is told.  This is the one table of DESIGN
 * §2; pam_ropc(8) prints the same table under RETURN VALUES.
 */
#ifndef ROPC_OUTCOME_H
#define ROPC_OUTCOME_H

#include "common.h"

/* The numbers are pam_ropc_helper's exit statuses (pam_ropc_helper(8),
 * EXIT STATUS): append new outcomes before ROPC_OUT_COUNT, never reorder. */
enum ropc_outcome {
	ROPC_OUT_SUCCESS = 0,
	ROPC_OUT_INVALID_CREDENTIALS,
	ROPC_OUT_IDP_UNKNOWN_USER,  /* the IdP says no such user: told and coded as a bad password */
	ROPC_OUT_UNKNOWN_USER,      /* no such local user: the IdP is never asked */
	ROPC_OUT_SYSTEM_ACCOUNT,    /* a local uid below minimum_uid: PAM_IGNORE, never asked */
	ROPC_OUT_REJECTED_INPUT,    /* empty, oversized or junk password: the IdP is never asked */
	ROPC_OUT_MFA_REQUIRED,
	ROPC_OUT_LOCKED,
	ROPC_OUT_SUSPENDED,
	ROPC_OUT_PASSWORD_EXPIRED,
	ROPC_OUT_ACCESS_DENIED,
	ROPC_OUT_TOKEN_INVALID,     /* the id_token, JWT or introspection answer fails a check */
	ROPC_OUT_IDENTITY_MISMATCH, /* username_claim missing or not the name sent */
	ROPC_OUT_NOT_AUTHORIZED,    /* a required scope, group or claim is missing */
	ROPC_OUT_MFA_FAILED,        /* a wrong or expired code, a device approval denied or late */
	ROPC_OUT_OFFLINE_SUCCESS,   /* the IdP unavailable, the offline cache says yes */
	ROPC_OUT_OFFLINE_REFUSED,   /* the IdP unavailable, the offline cache says no */
	ROPC_OUT_MISCONFIGURED,
	ROPC_OUT_UNAVAILABLE,
	ROPC_OUT_UNRECOGNISED,
	ROPC_OUT_INTERNAL,          /* out of memory, a failing libpam call */
	ROPC_OUT_COUNT
};

struct ropc_outcome_info {
	const char *name;       /* as in the log line and in error_map */
	int pam_code;
	const char *message;    /* shown with PAM_ERROR_MSG, or NULL */
	int log_priority;
};

ROPC_HIDDEN const struct ropc_outcome_info *ropc_outcome_info(enum ropc_outcome o);

/* The outcome named name (as in error_map), or -1.  Success is never
 * accepted: no text from an IdP can be mapped to a login. */
ROPC_HIDDEN int ropc_outcome_from_name(const char *name);

/* "PAM_SUCCESS", "PAM_AUTH_ERR"...: the macro name of a PAM code. */
ROPC_HIDDEN const char *ropc_pam_code_name(int code);

#endif
