/*
 * options.h: the module's settings.  One typed struct, filled in three
 * layers: built-in defaults, then the config file
 * (/etc/security/pam_ropc.conf or config=), then the pam.d arguments, which
 * win.  The option table in options.c is the only list of keys; the man page
 * pam_ropc.conf(5) documents the same list in the same groups.
 */
#ifndef ROPC_OPTIONS_H
#define ROPC_OPTIONS_H

#include "common.h"
#include "jws.h"

#define ROPC_DEFAULT_CONFIG "/etc/security/pam_ropc.conf"
#define ROPC_MAX_CONFIG_SIZE ((size_t)64 * 1024)
#define ROPC_MAX_SECRET_SIZE 4096
#define ROPC_MAX_TRUST_SIZE ((size_t)4 * 1024 * 1024)
#define ROPC_DEFAULT_MINIMUM_UID 1000UL

/* What proves whom the IdP vouched for (token_check). */
enum ropc_token_check {
	ROPC_CHECK_DEFAULT = 0,      /* id_token with issuer, none without */
	ROPC_CHECK_NONE,
	ROPC_CHECK_ID_TOKEN,
	ROPC_CHECK_JWT,
	ROPC_CHECK_INTROSPECTION,
};

#define ROPC_DEFAULT_CACHE_DIR "/var/cache/pam_ropc"

/* What to do when the IdP says MFA is required (mfa). */
enum ropc_mfa {
	ROPC_MFA_DENY = 0,           /* refuse: mfa_required */
	ROPC_MFA_OTP,                /* ask for a code: the mfa_token grant */
	ROPC_MFA_DEVICE,             /* the device authorization grant */
};

/* How a login starts (flow). */
enum ropc_flow {
	ROPC_FLOW_PASSWORD = 0,
	ROPC_FLOW_DEVICE,            /* no password: the device flow alone */
};

enum ropc_client_auth {
	ROPC_CLIENT_AUTH_DEFAULT = 0, /* basic with a secret, none without */
	ROPC_CLIENT_AUTH_BASIC,
	ROPC_CLIENT_AUTH_POST,
	ROPC_CLIENT_AUTH_NONE,
};

/* One extra_param: sent as name=value in the token request body. */
struct ropc_param {
	char *name;
	char *value;
};

/* One error_map entry: text found in the IdP's error code or description
 * (case-insensitive substring) gives this outcome. */
struct ropc_map_entry {
	char *pattern;
	int outcome;                 /* enum ropc_outcome */
};

struct ropc_settings {
	/* Where to ask and as whom. */
	char *issuer;                /* OpenID Connect discovery */
	char *token_endpoint;
	char *client_id;
	char *client_secret;         /* wiped when freed */
	char *client_secret_file;
	enum ropc_client_auth client_auth;
	/* What to ask for. */
	char *scope;
	char *resource;
	struct ropc_param *extra_params;
	size_t n_extra_params;
	char *username_format;
	/* Who the token is for: verification (verify.c). */
	enum ropc_token_check token_check;
	char *jwks_uri;
	char *introspection_endpoint;
	char *userinfo_endpoint;
	char *device_authorization_endpoint;
	char *audience;              /* jwt: "aud" must hold it (default client_id) */
	char *introspection_client_id;
	char *introspection_client_secret;      /* wiped when freed */
	char *introspection_client_secret_file;
	bool userinfo;
	long clock_skew;             /* seconds */
	bool allowed_algs[ROPC_JWS_ALG_COUNT];
	char *cache_dir;
	long cache_ttl;              /* seconds */
	/* Who may log in (claims.c). */
	char *username_claim;
	bool username_claim_insensitive;
	char *require_scope;
	char *groups_claim;
	char *allowed_groups;
	struct ropc_param *require_claims;
	size_t n_require_claims;
	char *export_claims;         /* claim names, space-separated */
	/* Second factors (mfa.c, device.c). */
	enum ropc_mfa mfa;
	enum ropc_flow flow;
	char *otp_param;             /* send the code as this form parameter */
	bool otp_append;             /* send password, separator, code */
	char *otp_separator;
	bool device_qr;
	long device_timeout;         /* seconds */
	/* Outages (offline.c, breaker.c). */
	bool offline_cache;
	long offline_ttl;            /* seconds after the last online success */
	long offline_max_failures;
	long offline_lockout;        /* seconds */
	long offline_hash_cost;      /* yescrypt cost */
	long fail_fast;              /* seconds; 0: off */
	/* Who may ask. */
	bool require_local_user;
	unsigned long minimum_uid;   /* local users below it: PAM_IGNORE */
	/* How to reach the IdP. */
	long timeout;                /* seconds, whole exchange */
	long connect_timeout;        /* seconds */
	char *ca_file;
	char *ca_path;
	char *pinned_public_key;
	char *proxy;
	/* What the trust files held when the settings were read (trust.c):
	 * handed to libcurl from memory, so that what was checked is what is
	 * used.  NULL when not configured. */
	char *ca_data;               /* the bytes of ca_file */
	size_t ca_len;
	char *pin;                   /* "sha256//..." for CURLOPT_PINNEDPUBLICKEY */
	/* What the session gets. */
	bool export_token;
	char *env_prefix;
	bool export_id_token;
	bool export_refresh_token;
	/* How IdP answers are read. */
	struct ropc_map_entry *error_map;
	size_t n_error_map;
	/* Module behaviour. */
	bool debug;
	bool use_first_pass;
	bool try_first_pass;
	char *config;
	/* Set while reading to the first file that could not be opened for
	 * lack of permission by a caller that is not root (a screen locker):
	 * when that is the only problem, the settings are "unreadable here",
	 * not "wrong". */
	char *denied_path;
	/* With denied_path: whether pam_ropc_helper can stand in, because
	 * the config file is the one the helper reads and every pam.d
	 * argument is one the module applies itself (see
	 * ropc_settings_load). */
	bool use_helper;
};

/*
 * Read the settings for one call: defaults, then the config file, then
 * argv.  Problems are logged at LOG_ERR.  Returns PAM_SUCCESS with *out
 * set, PAM_BUF_ERR, or PAM_SERVICE_ERR when the settings cannot be trusted
 * (a malformed value, an unsafe file, a secret where it must not be, no
 * token endpoint): the caller must then fail closed.  *out is set to a
 * settings struct in every case except PAM_BUF_ERR, so the caller can still
 * honour debug; free it with ropc_settings_free.
 */
/*
 * PAM_AUTHINFO_UNAVAIL when the only problem is that this caller is not
 * root and a root-only file (the config, a secret) cannot be opened: then
 * use_helper says whether pam_ropc_helper(8) can stand in.  It can when
 * the config is ROPC_DEFAULT_CONFIG (the only file the helper reads) and
 * every pam.d argument is one that the module applies itself (debug,
 * config, use_first_pass, try_first_pass, minimum_uid, export_token,
 * env_prefix); any other argument would be silently dropped by the
 * helper, so it is refused, with one LOG_ERR line that names it.
 */
ROPC_HIDDEN int ropc_settings_load(struct ropc_ctx *ctx, int argc,
				   const char **argv,
				   struct ropc_settings **out);

/* Same, but with the config file path and its required owner given, for
 * the tests (the module always uses uid 0). */
ROPC_HIDDEN int ropc_settings_load_as(struct ropc_ctx *ctx, int argc,
				      const char **argv, uid_t owner,
				      struct ropc_settings **out);

ROPC_HIDDEN void ropc_settings_free(struct ropc_settings *s);

/*
 * Every setting of s as text, in the order of the option table (that of
 * pam_ropc.conf(5)), for ropcctl check: fn(arg, key, value) once per key.
 * A secret (client_secret, introspection_client_secret, proxy, the values
 * of extra_param) is never given: value is "<set, N bytes>" or
 * "<not set>" for it.  Unset strings are "<not set>".
 */
typedef void (*ropc_setting_fn)(void *arg, const char *key, const char *value);
ROPC_HIDDEN void ropc_settings_each(const struct ropc_settings *s, ropc_setting_fn fn,
				    void *arg);

/* Record that path could not be opened by this unprivileged caller
 * (the first such path is kept, for the log line). */
ROPC_HIDDEN void ropc_settings_denied(struct ropc_settings *s, const char *path);

/* The rule of token_endpoint for a URL from elsewhere (a discovery
 * document): an https URL that libcurl's URL API parses, with a host and
 * no credentials.  NULL with *url the normalised URL (free it with
 * curl_free), or why not. */
ROPC_HIDDEN const char *ropc_settings_https_url(const char *v, char **url);

#endif
