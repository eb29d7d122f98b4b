/*
 * offline.h: the offline credential cache (offline_cache = yes): logins
 * while the IdP is unavailable, checked against what the IdP said last.
 * One entry per (user, IdP, client) in the cache directory's "offline"
 * kind (cache.h): a yescrypt hash of the password (libxcrypt,
 * crypt_gensalt_ra "$y$" with offline_hash_cost, crypt_rn: the format of
 * /etc/shadow), the time of the last online success, the claims that
 * success's rules used, and the offline failure counter and lockout.
 * The entry's name is the hash of its key, never the raw user name.
 * Each entry has a lock file beside it (<hash>.lock, empty, kept), made
 * by store and by a check of an existing entry, never for a name that
 * has no entry; see offline.c.
 */
#ifndef ROPC_OFFLINE_H
#define ROPC_OFFLINE_H

#include <time.h>
#include <json-c/json.h>
#include "common.h"

#define ROPC_CACHE_OFFLINE "offline"

/* Whose entry: the local user name, the IdP (issuer, else token
 * endpoint) and the client_id ("" or NULL for none).  They are joined with
 * the byte 0x1f into the key: a field holding that byte is refused. */
struct ropc_offline_key {
	const char *user;
	const char *idp;
	const char *client_id;
};

/* The rules of an offline login. */
struct ropc_offline_rules {
	time_t now;
	long ttl;               /* offline_ttl: seconds after the last online success */
	int max_failures;       /* offline_max_failures */
	long lockout;           /* offline_lockout: seconds */
	int cost;               /* offline_hash_cost (1..11), for store */
};

enum ropc_offline_rc {
	ROPC_OFFLINE_OK = 0,    /* the password matches a valid entry */
	ROPC_OFFLINE_NO_ENTRY,  /* no (usable) entry: the login stays unavailable */
	ROPC_OFFLINE_REFUSED,   /* wrong password, entry expired, or locked out */
};

/*
 * After an online success: store a new hash of password, now as the
 * success time, a copy of claims (an object, or NULL), and a failure
 * counter of zero with no lockout.  0, or -1 (logged; never fatal): also
 * for an empty password, and when the process is not root.
 */
ROPC_HIDDEN int ropc_offline_store(struct ropc_ctx *ctx, const char *dir,
				   const struct ropc_offline_key *key, const char *password,
				   struct json_object *claims,
				   const struct ropc_offline_rules *rules);

/* After an online refusal of the account: delete the entry at once.
 * 0 (also when there was none), or -1. */
ROPC_HIDDEN int ropc_offline_forget(struct ropc_ctx *ctx, const char *dir,
				    const struct ropc_offline_key *key);

/*
 * While the IdP is unavailable: check password against the entry, in
 * constant time.  OK with *claims (a copy, the caller puts it; NULL when
 * the entry has none) and *age (seconds since the last online success);
 * REFUSED with why (the password does not match — the failure counter
 * grows, and at max_failures the user is locked out for lockout seconds
 * —, the entry is older than ttl, or the user is locked out); NO_ENTRY
 * when there is none or it cannot be used (logged).  Only store resets
 * the counter: after a lockout, each further mismatch locks out again.
 * Checks of one entry are serialised (its lock); one that cannot have the
 * lock is NO_ENTRY.  claims, age and why may be NULL.
 */
ROPC_HIDDEN enum ropc_offline_rc ropc_offline_check(struct ropc_ctx *ctx, const char *dir,
						    const struct ropc_offline_key *key,
						    const char *password,
						    const struct ropc_offline_rules *rules,
						    struct json_object **claims, long *age,
						    char *why, size_t whysize);

/* What an admin may see of the entry of key (ropcctl cache status):
 * 0 with *success (the last online success), *failures and
 * *locked_until, never the hash; 1 when there is none; -1 when it cannot
 * be used (logged). */
ROPC_HIDDEN int ropc_offline_peek(struct ropc_ctx *ctx, const char *dir,
				  const struct ropc_offline_key *key, long long *success,
				  int *failures, long long *locked_until);

#endif
