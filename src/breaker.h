/*
 * breaker.h: fail fast (fail_fast = SECONDS): a circuit breaker shared by
 * every process on the host.  After a connection failure or a timeout the
 * module records that the endpoint is down, in ROPC_BREAKER_DIR (root,
 * 0700; one small file per endpoint, named by the hash of its URL,
 * written atomically).  For the next window seconds logins do not contact
 * it: they are unavailable at once.  After the window, one process at a
 * time (the half-open state, claimed with an atomic lock file) probes the
 * IdP with the real timeout; the others still fail fast.  A success
 * clears the state, a failure opens a new window.  Without write access
 * (not root) or with window 0 there is no breaker: every login asks.
 *
 * Layout (see breaker.c):
 *
 *   dir/                       root, mode 0700 (created when missing)
 *     <sha256 hex>.down        "SINCE UNTIL\n", two times in seconds
 *     <sha256 hex>.probe       the probe lock: the prober's pid
 *
 * Every problem (a directory of the wrong owner or mode, an unreadable or
 * garbled file) is logged at LOG_WARNING and answered CLOSED: ask the IdP,
 * as if there were no breaker.  Nothing here is ever fatal.
 *
 * The calling protocol, per endpoint and login:
 *
 *   st = ropc_breaker_check(ctx, dir, url, window, &since);
 *   OPEN:   do not ask; unavailable ("failing fast since <since>"); no report.
 *   CLOSED: ask; then ropc_breaker_report(..., down, window, false).
 *   PROBE:  ask; then, on every path, ropc_breaker_report(..., down,
 *           window, true): it releases the probe lock.  A prober that
 *           never reports holds the probe until its lock is stale
 *           (window + 300 s old) and another process takes it over.
 *
 * The last argument of ropc_breaker_report, probing, is the token of the
 * probe: true exactly when this process's ropc_breaker_check returned
 * ROPC_BREAKER_PROBE for this endpoint.  Without it, report never touches
 * the probe lock, which may be another process's (a CLOSED caller that
 * reports must not end someone else's probe).  Even with it, the lock is
 * removed only when it still holds this process's pid (it may have been
 * taken over as stale).
 */
#ifndef ROPC_BREAKER_H
#define ROPC_BREAKER_H

#include <time.h>
#include "common.h"

#define ROPC_BREAKER_DIR "/run/pam_ropc"

enum ropc_breaker_state {
	ROPC_BREAKER_CLOSED = 0,        /* ask the IdP */
	ROPC_BREAKER_OPEN,              /* fail fast: *since tells since when */
	ROPC_BREAKER_PROBE,             /* ask the IdP: this process holds the probe */
};

/*
 * Whether to ask endpoint now.  dir is ROPC_BREAKER_DIR (the tests give
 * their own).  OPEN with *since (when the endpoint was first seen down);
 * PROBE when the window has passed and this process won the probe (*since
 * is set too; the process must then call ropc_breaker_report with probing
 * true); CLOSED otherwise (*since 0): no state, window <= 0, not root, or
 * any problem with the directory or the files (logged, never fatal).
 * since may be NULL.  Creates nothing but the probe lock.
 */
ROPC_HIDDEN enum ropc_breaker_state ropc_breaker_check(struct ropc_ctx *ctx, const char *dir,
						       const char *endpoint, long window,
						       time_t *since);

/*
 * After asking endpoint: down (a connection failure or a timeout) opens
 * a window of window seconds from now (keeping the first "since"; creates
 * dir, 0700, when missing, its parent passing the directory rule); up
 * clears the state.  probing: true when check returned ROPC_BREAKER_PROBE
 * to this process (see above); then the probe lock is released.  Does
 * nothing when window <= 0 or when not root (logged at LOG_DEBUG only).
 */
ROPC_HIDDEN void ropc_breaker_report(struct ropc_ctx *ctx, const char *dir,
				     const char *endpoint, bool down, long window,
				     bool probing);

#endif
