/*
 * logging.h: the module's voice in syslog.  Thin wrappers over pam_syslog
 * (facility authpriv, never openlog/closelog), and the sanitiser that makes
 * text from the network or the person safe to put in a log line.
 */
#ifndef ROPC_LOGGING_H
#define ROPC_LOGGING_H

#include "common.h"

/* Log at priority prio (LOG_ERR, LOG_NOTICE...), whatever debug says. */
ROPC_HIDDEN void ropc_log(struct ropc_ctx *ctx, int prio, const char *fmt, ...)
	ROPC_PRINTF(3, 4);
/* Log at LOG_DEBUG only when the debug option is on.  Never pass secrets. */
ROPC_HIDDEN void ropc_debug(struct ropc_ctx *ctx, const char *fmt, ...)
	ROPC_PRINTF(2, 3);

/*
 * Copy at most inlen bytes of untrusted text into out (outsize bytes,
 * always NUL-terminated), so that it can stand inside a double-quoted log
 * field: printable ASCII is kept, '"' and '\\' are escaped with a
 * backslash, other bytes become \xHH.  When the text does not fit, it is cut
 * at a whole escape and "..." is appended.  Returns out.
 */
ROPC_HIDDEN char *ropc_sanitize(const char *in, size_t inlen, char *out,
				size_t outsize);

#endif
