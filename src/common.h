/*
 * common.h: what every part of pam_ropc shares: the per-call context that is
 * passed first to every internal function, and the visibility and printf
 * attributes.  All internal symbols start with ropc_ and are hidden; only the
 * pam_sm_* entry points are exported (see pam_ropc.map).
 */
#ifndef ROPC_COMMON_H
#define ROPC_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <security/pam_modules.h>

#define ROPC_HIDDEN __attribute__((visibility("hidden")))
#define ROPC_EXPORT __attribute__((visibility("default")))
#define ROPC_PRINTF(f, a) __attribute__((format(printf, f, a)))

struct ropc_settings;

/*
 * One PAM call.  Built by the entry point, freed by it; nothing in it
 * outlives the call.  settings may be NULL while the settings are being
 * read (logging then only uses pamh).
 */
struct ropc_ctx {
	pam_handle_t *pamh;
	struct ropc_settings *settings;
	int flags;                 /* the PAM flags of this call (PAM_SILENT...) */
	const char *service;       /* PAM_SERVICE, or "(unknown)" */
	const char *user;          /* PAM_USER once known, else NULL */
	const char *rhost;         /* PAM_RHOST, or NULL */
	bool debug;                /* copy of settings->debug, usable before settings */
	unsigned int errors;       /* lines logged at LOG_ERR or worse in this call */
	bool idp_down;             /* a request of this call found no connection or timed
				    * out (http.c): what opens the fail-fast breaker */
	FILE *echo;                /* ropcctl: log lines go here, not to syslog */
	bool breaker_read_only;    /* pam_ropc_helper: obey the breaker, never change it */
};

/* Wipe memory so the compiler cannot elide it. */
ROPC_HIDDEN void ropc_wipe(void *p, size_t n);
/* Wipe a NUL-terminated string and free it; NULL is fine. */
ROPC_HIDDEN void ropc_free_secret(char *s);

#endif
