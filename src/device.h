/*
 * device.h: the OAuth 2.0 device authorization grant (RFC 8628), for
 * accounts whose second factor the password grant cannot carry (mfa =
 * device) and for passwordless logins (flow = device).  The person is
 * shown where to approve the login (and a QR code of it), approves with
 * the IdP's own MFA on a phone or a browser, and presses Enter; the module
 * then polls the token endpoint at the IdP's interval until approved,
 * denied, expired or device_timeout.
 */
#ifndef ROPC_DEVICE_H
#define ROPC_DEVICE_H

#include "classify.h"
#include "common.h"
#include "outcome.h"

#define ROPC_DEVICE_GRANT "urn:ietf:params:oauth:grant-type:device_code"

/* What the flow did, for the log line. */
struct ropc_device_stats {
	int polls;              /* token requests made */
	long waited_ms;         /* from the device authorization request to the end */
	long http;              /* the HTTP status of the last answer */
};

/*
 * Run the device flow.  show_only: ask for a device code and show the
 * instructions, then stop (for a name with no local account, so that the
 * prompts do not tell which accounts exist; returns ROPC_OUT_UNKNOWN_USER).
 * Returns ROPC_OUT_SUCCESS with *v holding the
 * approving answer's tokens (the caller verifies them: token_check and
 * username_claim), or the outcome that ends it with detail: mfa_failed
 * (access_denied, expired_token, device_timeout passed, the person's
 * prompt refused), unavailable, misconfigured (the device endpoint
 * refuses our client), internal_error.
 */
ROPC_HIDDEN enum ropc_outcome ropc_device_login(struct ropc_ctx *ctx, struct ropc_verdict *v,
						struct ropc_device_stats *st, bool show_only,
						char *detail, size_t detailsize);

#endif
