/*
 * helper.h: pam_ropc_helper(8), the program that logs in a caller that is
 * not root (a screen locker), as unix_chkpwd does for pam_unix.  The module
 * side (helper.c) runs it; the program is pam_ropc_helper.c.
 *
 * The protocol, all of it:
 *   argv:   pam_ropc_helper USER SERVICE   (SERVICE serves the log line only)
 *   fd 0:   a pipe holding the password, no newline, then end of file
 *   env:    none (the helper clears what it is given)
 *   exit:   the outcome's number (enum ropc_outcome, outcome.h); any other
 *           status or a signal is not an outcome (see ropc_helper_run)
 * Nothing else passes between them: no setting, no token.
 */
#ifndef ROPC_HELPER_H
#define ROPC_HELPER_H

#include "common.h"
#include "outcome.h"

#ifndef ROPC_HELPER_PATH
#define ROPC_HELPER_PATH "/usr/sbin/pam_ropc_helper"
#endif

/* How long the helper waits for the password and the user database
 * before its own settings give it a bound (seconds). */
#define ROPC_HELPER_START_SECONDS 30

/* The most the helper's alarm gives a whole login (seconds). */
#define ROPC_HELPER_MAX_SECONDS 120

/* How long the helper pauses after any outcome but a success, as a brake
 * on guessing (seconds, as unix_chkpwd). */
#define ROPC_HELPER_FAIL_DELAY 2

/*
 * Run ROPC_HELPER_PATH for user (a local account name) with password, and
 * wait for it (its own alarm bounds it; see pam_ropc_helper.c).  Returns
 * the outcome it exited with; ROPC_OUT_UNAVAILABLE when it cannot be run
 * or ran out of time; ROPC_OUT_INTERNAL when it died otherwise or exited
 * with a status that is no outcome.  detail says which, for the log line.
 */
ROPC_HIDDEN enum ropc_outcome ropc_helper_run(struct ropc_ctx *ctx, const char *user,
					      const char *password, char *detail,
					      size_t detailsize);

#endif
