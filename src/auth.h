/*
 * auth.h: what each PAM entry point does, decided in one place each.
 */
#ifndef ROPC_AUTH_H
#define ROPC_AUTH_H

#include "common.h"
#include "outcome.h"

/* The name under which pam_sm_authenticate records, with pam_set_data,
 * the user it authenticated (and under which token endpoint, client_id
 * and username_format), for pam_sm_acct_mgmt.  Removed first thing in
 * every authentication. */
#define ROPC_DATA_USER "pam_ropc_authenticated_user"

/* The prefix of the PAM environment variables the last export used, so
 * that the next authentication removes them whatever its settings. */
#define ROPC_DATA_ENV_PREFIX "pam_ropc_env_prefix"

/* The start of the names under which an account-level refusal (locked,
 * suspended, MFA required, password expired, access denied, IdP
 * unavailable) is kept for the rest of the PAM transaction, so that
 * retries (sudo asks three times) do not ask the IdP again: one entry per
 * user, token endpoint, client_id and username_format. */
#define ROPC_DATA_REFUSAL "pam_ropc_refusal"
/* How long, in seconds, a remembered refusal holds. */
#define ROPC_REFUSAL_MEMORY 60

/* sshd's stand-in password for users it will not let in: this, repeated
 * or cut to the length of what the person typed. */
#define ROPC_SSHD_JUNK_PASSWORD "\b\n\r\177INCORRECT"

/*
 * The login (DESIGN §1).  settings_rc is what ropc_settings_load
 * returned: anything but PAM_SUCCESS fails closed with a log line, except
 * PAM_AUTHINFO_UNAVAIL with settings->use_helper, where pam_ropc_helper
 * asks the IdP.  Returns the PAM code of the outcome (see outcome.c), or
 * the code of a failing libpam call (PAM_CONV_ERR, PAM_BUF_ERR...); the
 * outcome itself into *outcome unless outcome is NULL.
 */
ROPC_HIDDEN int ropc_authenticate(struct ropc_ctx *ctx, int settings_rc,
				  enum ropc_outcome *outcome);

/*
 * The login of pam_ropc_helper: steps 2 to 5 for user and password with
 * the settings already read (settings_rc as above), without PAM data or
 * items (an application may not use them), and the one log line.  Its
 * caller has checked that the user is its own.  Returns the outcome.
 */
ROPC_HIDDEN enum ropc_outcome ropc_authenticate_helper(struct ropc_ctx *ctx, int settings_rc,
						       const char *user,
						       const char *password);

/* Account management: PAM_SUCCESS when this module authenticated the user
 * in this transaction (its own PAM data, for the same PAM_USER and
 * settings), else PAM_IGNORE (also when an unprivileged caller cannot read
 * the settings), or PAM_SERVICE_ERR when the settings cannot be trusted. */
ROPC_HIDDEN int ropc_account(struct ropc_ctx *ctx, int settings_rc);

/* Password changes are made at the IdP: PAM_AUTHTOK_ERR and a message. */
ROPC_HIDDEN int ropc_chauthtok(struct ropc_ctx *ctx);

/* Whether the password may be sent: NULL, or why not (for the log). */
ROPC_HIDDEN const char *ropc_password_check(const char *password);

#endif
