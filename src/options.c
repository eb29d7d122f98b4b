/*
 * options.c: the option table and the three layers of settings (see
 * options.h).  Policy: any unknown key, malformed value, duplicate key,
 * unsafe file or directory, or misplaced secret makes the whole settings
 * untrusted (PAM_SERVICE_ERR, fail closed), because nearly every key here
 * restricts access or steers where the password goes: a typo must never
 * silently keep a weaker default.  debug is the one key whose bad value is
 * only logged.  URLs are parsed here, with libcurl's URL API, so that a
 * malformed one is the admin's error and not "IdP unavailable".
 */
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <sys/stat.h>
#include <unistd.h>
#include <curl/curl.h>

#include "env.h"
#include "logging.h"
#include "outcome.h"
#include "secfile.h"
#include "trust.h"

#define MAX_VALUE_LEN 2048
#define MAX_REPEATS 32

enum opt_type {
	OPT_STRING,
	OPT_SECRET,         /* a string that is wiped; never from argv */
	OPT_BOOL,
	OPT_SECONDS,
	OPT_UID,            /* a uid: 0 to 4294967294 */
	OPT_URL,            /* an https:// URL, parsed with curl_url() */
	OPT_PROXY_URL,      /* an http:// or https:// URL, parsed the same way */
	OPT_CLIENT_AUTH,
	OPT_PARAM,          /* repeatable name=value */
	OPT_CLAIM_RULE,     /* repeatable claim=value (require_claim) */
	OPT_TOKEN_CHECK,
	OPT_CASE,           /* exact | insensitive */
	OPT_ALGS,           /* a list of JWS algorithms */
	OPT_MFA,            /* deny | otp | device */
	OPT_FLOW,           /* password | device */
	OPT_NUMBER,         /* a whole number from min to max */
	OPT_ERROR_MAP,      /* repeatable outcome:text */
};

/* A validator for a string value: returns NULL when fine, else why not. */
typedef const char *(*opt_check)(const char *value);

struct opt_def {
	const char *name;
	enum opt_type type;
	size_t offset;
	opt_check check;
	long min, max;      /* OPT_SECONDS */
};

static const char *check_abs_path(const char *v);
static const char *check_vschar(const char *v);
static const char *check_scope(const char *v);
static const char *check_env_prefix(const char *v);
static const char *check_username_format(const char *v);
static const char *check_pin(const char *v);
static const char *check_claim(const char *v);
static const char *check_required_scope(const char *v);
static const char *check_param_name(const char *v);
static const char *check_separator(const char *v);
static const char *check_claim_list(const char *v);
static const char *check_name_list(const char *v);

#define OFF(f) offsetof(struct ropc_settings, f)

/* Grouped as in struct ropc_settings and pam_ropc.conf(5). */
static const struct opt_def options[] = {
	{ "issuer", OPT_URL, OFF(issuer), NULL, 0, 0 },
	{ "token_endpoint", OPT_URL, OFF(token_endpoint), NULL, 0, 0 },
	{ "client_id", OPT_STRING, OFF(client_id), check_vschar, 0, 0 },
	{ "client_secret", OPT_SECRET, OFF(client_secret), check_vschar, 0, 0 },
	{ "client_secret_file", OPT_STRING, OFF(client_secret_file), check_abs_path, 0, 0 },
	{ "client_auth", OPT_CLIENT_AUTH, OFF(client_auth), NULL, 0, 0 },
	{ "scope", OPT_STRING, OFF(scope), check_scope, 0, 0 },
	{ "resource", OPT_STRING, OFF(resource), check_vschar, 0, 0 },
	{ "extra_param", OPT_PARAM, 0, NULL, 0, 0 },
	{ "username_format", OPT_STRING, OFF(username_format), check_username_format, 0, 0 },
	{ "token_check", OPT_TOKEN_CHECK, OFF(token_check), NULL, 0, 0 },
	{ "jwks_uri", OPT_URL, OFF(jwks_uri), NULL, 0, 0 },
	{ "introspection_endpoint", OPT_URL, OFF(introspection_endpoint), NULL, 0, 0 },
	{ "userinfo_endpoint", OPT_URL, OFF(userinfo_endpoint), NULL, 0, 0 },
	{ "device_authorization_endpoint", OPT_URL, OFF(device_authorization_endpoint), NULL, 0, 0 },
	{ "audience", OPT_STRING, OFF(audience), check_vschar, 0, 0 },
	{ "introspection_client_id", OPT_STRING, OFF(introspection_client_id), check_vschar, 0, 0 },
	{ "introspection_client_secret", OPT_SECRET, OFF(introspection_client_secret), check_vschar, 0, 0 },
	{ "introspection_client_secret_file", OPT_STRING, OFF(introspection_client_secret_file),
	  check_abs_path, 0, 0 },
	{ "userinfo", OPT_BOOL, OFF(userinfo), NULL, 0, 0 },
	{ "clock_skew", OPT_SECONDS, OFF(clock_skew), NULL, 0, 3600 },
	{ "allowed_algs", OPT_ALGS, 0, NULL, 0, 0 },
	{ "cache_dir", OPT_STRING, OFF(cache_dir), check_abs_path, 0, 0 },
	{ "cache_ttl", OPT_SECONDS, OFF(cache_ttl), NULL, 60, 86400 },
	{ "username_claim", OPT_STRING, OFF(username_claim), check_claim, 0, 0 },
	{ "username_claim_case", OPT_CASE, OFF(username_claim_insensitive), NULL, 0, 0 },
	{ "require_scope", OPT_STRING, OFF(require_scope), check_required_scope, 0, 0 },
	{ "groups_claim", OPT_STRING, OFF(groups_claim), check_claim, 0, 0 },
	{ "allowed_groups", OPT_STRING, OFF(allowed_groups), check_name_list, 0, 0 },
	{ "require_claim", OPT_CLAIM_RULE, 0, NULL, 0, 0 },
	{ "export_claims", OPT_STRING, OFF(export_claims), check_claim_list, 0, 0 },
	{ "mfa", OPT_MFA, 0, NULL, 0, 0 },
	{ "flow", OPT_FLOW, 0, NULL, 0, 0 },
	{ "otp_param", OPT_STRING, OFF(otp_param), check_param_name, 0, 0 },
	{ "otp_append", OPT_BOOL, OFF(otp_append), NULL, 0, 0 },
	{ "otp_separator", OPT_STRING, OFF(otp_separator), check_separator, 0, 0 },
	{ "device_qr", OPT_BOOL, OFF(device_qr), NULL, 0, 0 },
	{ "device_timeout", OPT_SECONDS, OFF(device_timeout), NULL, 10, 900 },
	{ "offline_cache", OPT_BOOL, OFF(offline_cache), NULL, 0, 0 },
	{ "offline_ttl", OPT_NUMBER, OFF(offline_ttl), NULL, 60, 31536000 },
	{ "offline_max_failures", OPT_NUMBER, OFF(offline_max_failures), NULL, 1, 100 },
	{ "offline_lockout", OPT_NUMBER, OFF(offline_lockout), NULL, 0, 86400 },
	{ "offline_hash_cost", OPT_NUMBER, OFF(offline_hash_cost), NULL, 1, 11 },
	{ "fail_fast", OPT_NUMBER, OFF(fail_fast), NULL, 0, 3600 },
	{ "require_local_user", OPT_BOOL, OFF(require_local_user), NULL, 0, 0 },
	{ "minimum_uid", OPT_UID, OFF(minimum_uid), NULL, 0, 0 },
	{ "timeout", OPT_SECONDS, OFF(timeout), NULL, 1, 300 },
	{ "connect_timeout", OPT_SECONDS, OFF(connect_timeout), NULL, 1, 300 },
	{ "ca_file", OPT_STRING, OFF(ca_file), check_abs_path, 0, 0 },
	{ "ca_path", OPT_STRING, OFF(ca_path), check_abs_path, 0, 0 },
	{ "pinned_public_key", OPT_STRING, OFF(pinned_public_key), check_pin, 0, 0 },
	{ "proxy", OPT_PROXY_URL, OFF(proxy), NULL, 0, 0 },
	{ "export_token", OPT_BOOL, OFF(export_token), NULL, 0, 0 },
	{ "env_prefix", OPT_STRING, OFF(env_prefix), check_env_prefix, 0, 0 },
	{ "export_id_token", OPT_BOOL, OFF(export_id_token), NULL, 0, 0 },
	{ "export_refresh_token", OPT_BOOL, OFF(export_refresh_token), NULL, 0, 0 },
	{ "error_map", OPT_ERROR_MAP, 0, NULL, 0, 0 },
	{ "debug", OPT_BOOL, OFF(debug), NULL, 0, 0 },
	{ "use_first_pass", OPT_BOOL, OFF(use_first_pass), NULL, 0, 0 },
	{ "try_first_pass", OPT_BOOL, OFF(try_first_pass), NULL, 0, 0 },
	{ "config", OPT_STRING, OFF(config), check_abs_path, 0, 0 },
};
#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

/* Where a key=value came from, for the messages and the rules. */
struct source {
	const char *name;       /* the file path, or "pam.d arguments" */
	bool is_argv;
	bool file_private;      /* the file is not readable by group/others */
	unsigned int mode;
	unsigned int line;
	bool seen[N_OPTIONS];
};

/* ---- validators ---- */

static bool
has_ctl(const char *v)
{
	for (; *v != '\0'; v++)
		if ((unsigned char)*v < 0x20 || (unsigned char)*v == 0x7f)
			return true;
	return false;
}

/*
 * Parse the URL v with libcurl's URL API, the parser that will use it.
 * proxy: http:// or https:// (else https:// only).  On success returns
 * NULL with *url the URL as libcurl normalised it (the caller frees it
 * with curl_free) and *creds whether it holds user:password@; else why.
 */
static const char *
parse_url(const char *v, bool proxy, char **url, bool *creds)
{
	const char *why = NULL, *p;
	char *part = NULL;
	CURLU *u;

	*url = NULL;
	*creds = false;
	for (p = v; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return "holds a space, control character or non-ASCII byte";
	if (strncasecmp(v, "https://", 8) != 0 &&
	    (!proxy || strncasecmp(v, "http://", 7) != 0))
		return proxy ? "must be an http:// or https:// proxy URL" : "must be an https:// URL";
	/* libcurl reads "https:///x" as the host x: no host is no host. */
	p = strstr(v, "://") + 3;
	if (*p == '\0' || *p == '/')
		return "has no host";
	u = curl_url();
	if (u == NULL)
		return "could not be parsed (out of memory)";
	if (curl_url_set(u, CURLUPART_URL, v, 0) != CURLUE_OK) {
		why = "is not a valid URL";
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &part, 0) != CURLUE_OK || part == NULL ||
	    part[0] == '\0') {
		why = "has no host";
		goto out;
	}
	curl_free(part);
	part = NULL;
	if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK)
		*creds = true;
	if (part != NULL) {
		ropc_wipe(part, strlen(part));
		curl_free(part);
		part = NULL;
	}
	if (curl_url_get(u, CURLUPART_URL, url, 0) != CURLUE_OK || *url == NULL) {
		why = "is not a valid URL";
		*url = NULL;
	} else {
		/* libcurl decodes a percent-encoded host ("%cc" is the byte
		 * 0xcc) and gives it back raw (found by fuzz-config). */
		for (p = *url; *p != '\0'; p++)
			if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
				why = "has a host that decodes to bytes other than printable ASCII";
				curl_free(*url);
				*url = NULL;
				break;
			}
	}
out:
	curl_free(part);
	curl_url_cleanup(u);
	return why;
}

/*
 * A URL for a log line: control characters escaped, and whatever stands
 * between "://" and the last "@" of the authority replaced, so that no
 * log line ever shows URL credentials, even of a URL that does not parse.
 */
static void
shown_url(const char *v, char *out, size_t outsize)
{
	const char *start = strstr(v, "://"), *at = NULL, *p;
	char buf[MAX_VALUE_LEN + 64];

	if (start != NULL) {
		const char *end;

		start += 3;
		end = start + strcspn(start, "/?#");
		for (p = start; p < end; p++)
			if (*p == '@')
				at = p;
	}
	if (at != NULL)
		snprintf(buf, sizeof(buf), "%.*s<credentials removed>%s",
			 (int)(start - v), v, at);
	else
		snprintf(buf, sizeof(buf), "%s", v);
	ropc_sanitize(buf, strlen(buf), out, outsize);
	ropc_wipe(buf, sizeof(buf));
}

static const char *
check_abs_path(const char *v)
{
	if (v[0] != '/')
		return "must be an absolute path";
	if (has_ctl(v))
		return "holds a control character";
	return NULL;
}

/* RFC 6749 VSCHAR: printable ASCII, no space. */
static const char *
check_vschar(const char *v)
{
	if (v[0] == '\0')
		return "is empty";
	for (; *v != '\0'; v++)
		if ((unsigned char)*v <= 0x20 || (unsigned char)*v >= 0x7f)
			return "may hold only printable ASCII without spaces";
	return NULL;
}

/* RFC 6749 scope: NQCHAR tokens separated by spaces; empty sends none. */
static const char *
check_scope(const char *v)
{
	for (; *v != '\0'; v++) {
		unsigned char c = (unsigned char)*v;

		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			return "may hold only printable ASCII without \" and \\";
	}
	return NULL;
}

static const char *
check_env_prefix(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > 64)
		return "must be 1 to 64 characters";
	if (!(isalpha((unsigned char)v[0]) || v[0] == '_'))
		return "must start with a letter or _";
	for (; *v != '\0'; v++)
		if (!(isalnum((unsigned char)*v) || *v == '_'))
			return "may hold only letters, digits and _";
	return NULL;
}

static const char *
check_username_format(const char *v)
{
	bool has_user = false;

	if (strlen(v) > 256)
		return "is longer than 256 characters";
	if (has_ctl(v))
		return "holds a control character";
	for (; *v != '\0'; v++) {
		if (*v != '%')
			continue;
		v++;
		if (*v == 'u')
			has_user = true;
		else if (*v != '%')
			return "may use only %u (the user name) and %% (a percent sign)";
	}
	return has_user ? NULL : "must contain %u";
}

static const char *
check_pin(const char *v)
{
	if (strncmp(v, "sha256//", 8) == 0)
		return v[8] == '\0' ? "has no hash after sha256//" : check_vschar(v);
	return check_abs_path(v);
}

/* A claim name: a dotted path of names of letters, digits, _ - : (no
 * empty step), at most 128 bytes. */
static const char *
check_claim(const char *v)
{
	size_t n = strlen(v), i;

	if (n == 0 || n > 128)
		return "must be a claim name of 1 to 128 characters";
	if (v[0] == '.' || v[n - 1] == '.' || strstr(v, "..") != NULL)
		return "has an empty step in its dotted path";
	for (i = 0; i < n; i++)
		if (!(isalnum((unsigned char)v[i]) || strchr("_-:.", v[i]) != NULL))
			return "may hold only letters, digits and _ - : . (a dotted path)";
	return NULL;
}

/* otp_param: a form parameter name the module does not set itself. */
static const char *
check_param_name(const char *v)
{
	static const char *const reserved[] = {
		"grant_type", "username", "password", "client_id", "client_secret", "scope",
		"resource", "mfa_token", "otp", "device_code",
	};
	size_t i;

	if (v[0] == '\0' || strlen(v) > 64)
		return "must be a parameter name of 1 to 64 characters";
	for (i = 0; v[i] != '\0'; i++)
		if (!(isalnum((unsigned char)v[i]) || strchr("_.-", v[i]) != NULL))
			return "may hold only letters, digits and _ . -";
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcmp(v, reserved[i]) == 0 && strcmp(v, "otp") != 0)
			return "names a parameter the module sets itself";
	return NULL;
}

/* otp_separator: printable ASCII, possibly empty, at most 8 bytes. */
static const char *
check_separator(const char *v)
{
	if (strlen(v) > 8)
		return "is longer than 8 characters";
	for (; *v != '\0'; v++)
		if ((unsigned char)*v < 0x20 || (unsigned char)*v >= 0x7f)
			return "may hold only printable ASCII";
	return NULL;
}

/* require_scope: a scope list that names at least one scope (an empty
 * value would silently cancel a rule of the file). */
static const char *
check_required_scope(const char *v)
{
	const char *why = check_scope(v), *p;

	if (why != NULL)
		return why;
	for (p = v; *p != '\0'; p++)
		if (*p != ' ')
			return NULL;
	return "names no scope";
}

/* Claim names separated by spaces or commas (export_claims). */
static const char *
check_claim_list(const char *v)
{
	char buf[MAX_VALUE_LEN + 1], *tok, *save = NULL;
	int n = 0;

	if (strlen(v) > MAX_VALUE_LEN)
		return "is too long";
	snprintf(buf, sizeof(buf), "%s", v);
	for (tok = strtok_r(buf, " ,\t", &save); tok != NULL; tok = strtok_r(NULL, " ,\t", &save)) {
		if (check_claim(tok) != NULL)
			return "holds a name that is not a claim name (letters, digits, _ - : .)";
		n++;
	}
	if (n == 0 || n > MAX_REPEATS)
		return "must name 1 to 32 claims";
	return NULL;
}

/* Names separated by commas (allowed_groups): printable, no control
 * characters, at least one non-blank name. */
static const char *
check_name_list(const char *v)
{
	const char *p;
	bool any = false;

	if (has_ctl(v))
		return "holds a control character";
	for (p = v; *p != '\0'; p++)
		if (*p != ',' && *p != ' ' && *p != '\t')
			any = true;
	return any ? NULL : "names no group";
}

/* ---- storing values ---- */

static int
parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static int
parse_seconds(const char *v, long min, long max, long *out)
{
	char *end;
	long n;

	if (!isdigit((unsigned char)v[0]))
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

static int
parse_uid(const char *v, unsigned long *out)
{
	unsigned long long n;
	char *end;

	if (!isdigit((unsigned char)v[0]) || strlen(v) > 10)
		return -1;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0' || n > 4294967294ULL)
		return -1;
	*out = (unsigned long)n;
	return 0;
}

static void
replace_string(char **slot, const char *v, bool secret)
{
	char *copy = strdup(v);

	if (copy == NULL)
		return;         /* caller checks *slot against v */
	if (secret)
		ropc_free_secret(*slot);
	else
		free(*slot);
	*slot = copy;
}

/* name=value for extra_param. */
static const char *
add_param(struct ropc_settings *s, const char *v)
{
	static const char *const reserved[] = {
		"grant_type", "username", "password", "client_id",
		"client_secret", "scope", "resource",
	};
	const char *eq = strchr(v, '=');
	struct ropc_param *p;
	size_t i, nlen;

	if (eq == NULL || eq == v)
		return "must be name=value";
	nlen = (size_t)(eq - v);
	for (i = 0; i < nlen; i++)
		if (!(isalnum((unsigned char)v[i]) || strchr("_.-", v[i]) != NULL))
			return "has a name with characters other than letters, digits, _ . -";
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strlen(reserved[i]) == nlen && strncmp(v, reserved[i], nlen) == 0)
			return "names a parameter the module sets itself";
	if (has_ctl(eq + 1))
		return "holds a control character";
	if (s->n_extra_params >= MAX_REPEATS)
		return "is repeated too often";
	p = realloc(s->extra_params, (s->n_extra_params + 1) * sizeof(*p));
	if (p == NULL)
		return "could not be stored (out of memory)";
	s->extra_params = p;
	p = &s->extra_params[s->n_extra_params];
	p->name = strndup(v, nlen);
	p->value = strdup(eq + 1);
	if (p->name == NULL || p->value == NULL) {
		free(p->name);
		free(p->value);
		return "could not be stored (out of memory)";
	}
	s->n_extra_params++;
	return NULL;
}

/* claim=value for require_claim. */
static const char *
add_claim_rule(struct ropc_settings *s, const char *v)
{
	const char *eq = strchr(v, '=');
	struct ropc_param *p;
	char name[160];

	if (eq == NULL || eq == v || (size_t)(eq - v) >= sizeof(name))
		return "must be claim=value, e.g. department=engineering";
	memcpy(name, v, (size_t)(eq - v));
	name[eq - v] = '\0';
	if (check_claim(name) != NULL)
		return "names a claim with characters other than letters, digits, _ - : .";
	if (eq[1] == '\0' || has_ctl(eq + 1))
		return "must have a value without control characters";
	if (s->n_require_claims >= MAX_REPEATS)
		return "is repeated too often";
	p = realloc(s->require_claims, (s->n_require_claims + 1) * sizeof(*p));
	if (p == NULL)
		return "could not be stored (out of memory)";
	s->require_claims = p;
	p = &s->require_claims[s->n_require_claims];
	p->name = strdup(name);
	p->value = strdup(eq + 1);
	if (p->name == NULL || p->value == NULL) {
		free(p->name);
		free(p->value);
		return "could not be stored (out of memory)";
	}
	s->n_require_claims++;
	return NULL;
}

/* allowed_algs: JWS algorithm names separated by spaces or commas. */
static const char *
set_algs(struct ropc_settings *s, const char *v)
{
	char buf[MAX_VALUE_LEN + 1], *tok, *save = NULL;
	bool algs[ROPC_JWS_ALG_COUNT] = { false };
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", v);
	for (tok = strtok_r(buf, " ,\t", &save); tok != NULL; tok = strtok_r(NULL, " ,\t", &save)) {
		int a = ropc_jws_alg_from_name(tok);

		if (a < 0)
			return strcmp(tok, "none") == 0 ? "may never hold none"
							 : "names an unknown algorithm (RS256 ... HS512)";
		algs[a] = true;
		n++;
	}
	if (n == 0)
		return "names no algorithm";
	memcpy(s->allowed_algs, algs, sizeof(algs));
	return NULL;
}

/* outcome:text for error_map. */
static const char *
add_map(struct ropc_settings *s, const char *v)
{
	const char *colon = strchr(v, ':');
	struct ropc_map_entry *m;
	char name[64];
	int outcome;
	size_t n;

	if (colon == NULL || colon == v || colon[1] == '\0')
		return "must be outcome:text, e.g. locked:too many failed attempts";
	n = (size_t)(colon - v);
	if (n >= sizeof(name))
		return "names an unknown outcome";
	memcpy(name, v, n);
	name[n] = '\0';
	outcome = ropc_outcome_from_name(name);
	if (outcome < 0)
		return "names an unknown outcome (see pam_ropc.conf(5) for the list)";
	colon++;
	while (*colon == ' ' || *colon == '\t')
		colon++;
	if (*colon == '\0')
		return "must be outcome:text, e.g. locked:too many failed attempts";
	if (has_ctl(colon))
		return "holds a control character";
	if (s->n_error_map >= MAX_REPEATS)
		return "is repeated too often";
	m = realloc(s->error_map, (s->n_error_map + 1) * sizeof(*m));
	if (m == NULL)
		return "could not be stored (out of memory)";
	s->error_map = m;
	m = &s->error_map[s->n_error_map];
	m->pattern = strdup(colon);
	if (m->pattern == NULL)
		return "could not be stored (out of memory)";
	m->outcome = outcome;
	s->n_error_map++;
	return NULL;
}

/* Edit distance of a (n bytes) and b, when at most 2; else 3. */
static int
distance(const char *a, size_t n, const char *b)
{
	size_t m = strlen(b), i, j;
	int row[72];

	if (n > 64 || m > 64 || (n > m ? n - m : m - n) > 2)
		return 3;
	for (j = 0; j <= m; j++)
		row[j] = (int)j;
	for (i = 1; i <= n; i++) {
		int prev = row[0];      /* the diagonal: row[j - 1] of the last row */

		row[0] = (int)i;
		for (j = 1; j <= m; j++) {
			int best = prev + (tolower((unsigned char)a[i - 1]) !=
					   tolower((unsigned char)b[j - 1]));
			int above = row[j];

			if (above + 1 < best)
				best = above + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = above;
		}
	}
	return row[m] < 3 ? row[m] : 3;
}

/* The known option an unknown key is probably a typo of, or NULL. */
static const struct opt_def *
nearest_option(const char *key, size_t keylen)
{
	const struct opt_def *best = NULL;
	int bestd = 3;
	size_t i;

	for (i = 0; i < N_OPTIONS; i++) {
		int d = distance(key, keylen, options[i].name);

		if (d < bestd) {
			bestd = d;
			best = &options[i];
		}
	}
	return best;
}

/* Empty the extra_param or error_map list. */
static void
clear_list(struct ropc_settings *s, enum opt_type type)
{
	size_t i;

	if (type == OPT_CLAIM_RULE) {
		for (i = 0; i < s->n_require_claims; i++) {
			free(s->require_claims[i].name);
			free(s->require_claims[i].value);
		}
		free(s->require_claims);
		s->require_claims = NULL;
		s->n_require_claims = 0;
	} else if (type == OPT_PARAM) {
		for (i = 0; i < s->n_extra_params; i++) {
			free(s->extra_params[i].name);
			free(s->extra_params[i].value);
		}
		free(s->extra_params);
		s->extra_params = NULL;
		s->n_extra_params = 0;
	} else {
		for (i = 0; i < s->n_error_map; i++)
			free(s->error_map[i].pattern);
		free(s->error_map);
		s->error_map = NULL;
		s->n_error_map = 0;
	}
}

static const struct opt_def *
find_option(const char *key, size_t keylen)
{
	size_t i;

	for (i = 0; i < N_OPTIONS; i++)
		if (strlen(options[i].name) == keylen &&
		    strncmp(options[i].name, key, keylen) == 0)
			return &options[i];
	return NULL;
}

/*
 * Apply one key=value from src.  Returns 0 when applied or ignored (an
 * unknown key), -1 when the settings can no longer be trusted.  Never logs
 * a value of a secret.
 */
static int
apply(struct ropc_ctx *ctx, struct ropc_settings *s, struct source *src,
      const char *key, size_t keylen, const char *value)
{
	const struct opt_def *o = find_option(key, keylen);
	char where[300], numwhy[80];
	const char *why = NULL;
	char *base = (char *)s;

	if (src->is_argv)
		snprintf(where, sizeof(where), "pam.d arguments");
	else
		snprintf(where, sizeof(where), "%s line %u", src->name, src->line);

	if (o == NULL) {
		char shown[128];
		const struct opt_def *near = nearest_option(key, keylen);

		/* Fail closed: a mistyped key that restricts access must not
		 * leave its weaker default in force. */
		ropc_sanitize(key, keylen, shown, sizeof(shown));
		ropc_log(ctx, LOG_ERR,
			 "config: unknown option \"%s\" in %s%s%s%s; the settings are refused "
			 "until it is corrected (see pam_ropc.conf(5))",
			 shown, where, near != NULL ? "; did you mean " : "",
			 near != NULL ? near->name : "", near != NULL ? "?" : "");
		return -1;
	}
	if (strlen(value) > MAX_VALUE_LEN) {
		ropc_log(ctx, LOG_ERR, "config: %s in %s is longer than %d bytes",
			 o->name, where, MAX_VALUE_LEN);
		return -1;
	}
	if ((o->type == OPT_PARAM || o->type == OPT_ERROR_MAP || o->type == OPT_CLAIM_RULE) &&
	    src->is_argv && !src->seen[o - options]) {
		/* The pam.d arguments win: their list replaces the file's. */
		src->seen[o - options] = true;
		clear_list(s, o->type);
	}
	if (o->type != OPT_PARAM && o->type != OPT_ERROR_MAP && o->type != OPT_CLAIM_RULE) {
		if (src->seen[o - options]) {
			if (src->is_argv)
				ropc_log(ctx, LOG_ERR,
					 "config: %s is given twice in the pam.d arguments; give it once",
					 o->name);
			else
				ropc_log(ctx, LOG_ERR,
					 "config: %s is given twice in %s (again at line %u); give it once",
					 o->name, src->name, src->line);
			return -1;
		}
		src->seen[o - options] = true;
	}
	if (o->type == OPT_SECRET) {
		if (src->is_argv) {
			ropc_log(ctx, LOG_ERR,
				 "config: %s refused in pam.d arguments: /etc/pam.d is world-readable; "
				 "put it in a root-owned mode 600 config file or use client_secret_file",
				 o->name);
			return -1;
		}
		if (!src->file_private) {
			ropc_log(ctx, LOG_ERR,
				 "config: %s refused: %s has mode %04o, readable by group or others; "
				 "chmod 600 %s, or move the secret to %s_file",
				 o->name, src->name, src->mode & 07777, src->name, o->name);
			return -1;
		}
	}
	if (o->type == OPT_STRING && strcmp(o->name, "config") == 0 && !src->is_argv) {
		/* Refused like an unknown key: whoever wrote it expected another
		 * file's settings to apply, and they would not. */
		ropc_log(ctx, LOG_ERR,
			 "config: config in %s refused: it is only read from the pam.d arguments",
			 where);
		return -1;
	}

	switch (o->type) {
	case OPT_URL:
	case OPT_PROXY_URL: {
		char *url = NULL, **slot = (char **)(void *)(base + o->offset);
		bool creds = false;

		why = parse_url(value, o->type == OPT_PROXY_URL, &url, &creds);
		if (why == NULL && creds && o->type == OPT_URL)
			why = "holds user:password@; give the client's credentials with client_id "
			      "and client_secret instead";
		else if (why == NULL && creds && src->is_argv)
			why = "holds proxy credentials, which /etc/pam.d (world-readable) may never "
			      "hold; put proxy in a root-owned mode 600 config file";
		else if (why == NULL && creds && !src->file_private)
			why = "holds proxy credentials in a file readable by group or others; "
			      "chmod 600 it";
		if (why == NULL) {
			/* The issuer is compared byte for byte with the discovery
			 * document and every token's iss (Discovery §4.3): keep it
			 * as written, not as libcurl normalised it. */
			const char *keep = o->offset == OFF(issuer) ? value : url;

			replace_string(slot, keep, true);
			if (*slot == NULL || strcmp(*slot, keep) != 0)
				why = "could not be stored (out of memory)";
		}
		if (url != NULL) {
			ropc_wipe(url, strlen(url));
			curl_free(url);
		}
		break;
	}
	case OPT_STRING:
	case OPT_SECRET:
		why = o->check != NULL ? o->check(value) : NULL;
		if (why == NULL) {
			char **slot = (char **)(void *)(base + o->offset);

			replace_string(slot, value, o->type == OPT_SECRET);
			if (*slot == NULL || strcmp(*slot, value) != 0)
				why = "could not be stored (out of memory)";
		}
		break;
	case OPT_BOOL:
		if (parse_bool(value, (bool *)(void *)(base + o->offset)) < 0)
			why = "must be yes or no";
		break;
	case OPT_NUMBER:
		if (parse_seconds(value, o->min, o->max, (long *)(void *)(base + o->offset)) < 0) {
			snprintf(numwhy, sizeof(numwhy), "must be a whole number from %ld to %ld",
				 o->min, o->max);
			why = numwhy;
		}
		break;
	case OPT_UID:
		if (parse_uid(value, (unsigned long *)(void *)(base + o->offset)) < 0)
			why = "must be a uid, a whole number from 0 to 4294967294";
		break;
	case OPT_SECONDS:
		if (parse_seconds(value, o->min, o->max, (long *)(void *)(base + o->offset)) < 0)
			why = o->max == 300 ? "must be a whole number of seconds from 1 to 300"
			      : o->max == 3600 ? "must be a whole number of seconds from 0 to 3600"
			      : o->max == 900 ? "must be a whole number of seconds from 10 to 900"
					      : "must be a whole number of seconds from 60 to 86400";
		break;
	case OPT_CLIENT_AUTH:
		if (strcasecmp(value, "basic") == 0 || strcasecmp(value, "client_secret_basic") == 0)
			s->client_auth = ROPC_CLIENT_AUTH_BASIC;
		else if (strcasecmp(value, "post") == 0 || strcasecmp(value, "client_secret_post") == 0)
			s->client_auth = ROPC_CLIENT_AUTH_POST;
		else if (strcasecmp(value, "none") == 0)
			s->client_auth = ROPC_CLIENT_AUTH_NONE;
		else
			why = "must be basic, post or none";
		break;
	case OPT_PARAM:
		why = add_param(s, value);
		break;
	case OPT_CLAIM_RULE:
		why = add_claim_rule(s, value);
		break;
	case OPT_ALGS:
		why = set_algs(s, value);
		break;
	case OPT_CASE:
		if (strcasecmp(value, "exact") == 0)
			s->username_claim_insensitive = false;
		else if (strcasecmp(value, "insensitive") == 0)
			s->username_claim_insensitive = true;
		else
			why = "must be exact or insensitive";
		break;
	case OPT_MFA:
		if (strcasecmp(value, "deny") == 0)
			s->mfa = ROPC_MFA_DENY;
		else if (strcasecmp(value, "otp") == 0)
			s->mfa = ROPC_MFA_OTP;
		else if (strcasecmp(value, "device") == 0)
			s->mfa = ROPC_MFA_DEVICE;
		else
			why = "must be deny, otp or device";
		break;
	case OPT_FLOW:
		if (strcasecmp(value, "password") == 0)
			s->flow = ROPC_FLOW_PASSWORD;
		else if (strcasecmp(value, "device") == 0)
			s->flow = ROPC_FLOW_DEVICE;
		else
			why = "must be password or device";
		break;
	case OPT_TOKEN_CHECK:
		if (strcasecmp(value, "none") == 0)
			s->token_check = ROPC_CHECK_NONE;
		else if (strcasecmp(value, "id_token") == 0)
			s->token_check = ROPC_CHECK_ID_TOKEN;
		else if (strcasecmp(value, "jwt") == 0)
			s->token_check = ROPC_CHECK_JWT;
		else if (strcasecmp(value, "introspection") == 0)
			s->token_check = ROPC_CHECK_INTROSPECTION;
		else
			why = "must be none, id_token, jwt or introspection";
		break;
	case OPT_ERROR_MAP:
		why = add_map(s, value);
		break;
	}
	if (why == NULL)
		return 0;
	if (o->type == OPT_SECRET) {
		ropc_log(ctx, LOG_ERR, "config: %s in %s %s", o->name, where, why);
	} else if (o->type == OPT_URL || o->type == OPT_PROXY_URL) {
		char shown[300];

		shown_url(value, shown, sizeof(shown));
		ropc_log(ctx, LOG_ERR, "config: %s = \"%s\" in %s %s", o->name, shown,
			 where, why);
	} else {
		char shown[160];

		ropc_sanitize(value, strlen(value), shown, sizeof(shown));
		ropc_log(ctx, LOG_ERR, "config: %s = \"%s\" in %s %s", o->name, shown,
			 where, why);
	}
	if (strcmp(o->name, "debug") == 0)
		return 0;       /* the one key whose bad value does not fail closed */
	return -1;
}

static char *
trim(char *p, char *end)
{
	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	return p;
}

/* Parse the config file's text.  Returns 0 or -1 (untrusted). */
static int
parse_file(struct ropc_ctx *ctx, struct ropc_settings *s, struct source *src,
	   char *text)
{
	char *line = text, *next;
	int rc = 0;

	for (src->line = 1; line != NULL; src->line++, line = next) {
		char *nl = strchr(line, '\n'), *eq, *key, *value;

		next = nl != NULL ? nl + 1 : NULL;
		if (nl == NULL)
			nl = line + strlen(line);
		key = trim(line, nl);
		if (*key == '\0' || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (eq == NULL) {
			ropc_log(ctx, LOG_ERR,
				 "config: %s line %u is not key = value",
				 src->name, src->line);
			rc = -1;
			continue;
		}
		value = trim(eq + 1, eq + 1 + strlen(eq + 1));
		*eq = '\0';
		key = trim(key, eq);
		if (apply(ctx, s, src, key, strlen(key), value) < 0)
			rc = -1;
	}
	return rc;
}

static int
read_config_file(struct ropc_ctx *ctx, struct ropc_settings *s, uid_t owner,
		 bool explicit_path)
{
	struct source src = { .name = s->config };
	char why[256];
	char *text = NULL;
	size_t len = 0;
	bool missing;
	int rc;

	if (ropc_secfile_read(s->config, ROPC_FILE_SETTINGS, owner,
			      ROPC_MAX_CONFIG_SIZE, &text, &len, &src.mode,
			      &missing, why, sizeof(why)) < 0) {
		if (missing && !explicit_path) {
			ropc_debug(ctx, "config: %s does not exist; using the pam.d arguments only",
				   s->config);
			return 0;
		}
		if (errno == EACCES && geteuid() != 0) {
			ropc_settings_denied(s, s->config);
			ropc_debug(ctx, "config: cannot use %s: %s", s->config, why);
			return -1;
		}
		ropc_log(ctx, LOG_ERR, "config: cannot use %s: %s", s->config, why);
		return -1;
	}
	src.file_private = ropc_secfile_mode_ok(src.mode, ROPC_FILE_SECRET);
	rc = parse_file(ctx, s, &src, text);
	ropc_wipe(text, len);
	free(text);
	return rc;
}

/* Read the secret file path (the setting key) into *slot (the setting
 * secret_key must not be set as well). */
static int
read_secret_file(struct ropc_ctx *ctx, struct ropc_settings *s, uid_t owner,
		 const char *key, const char *path, const char *secret_key, char **slot)
{
	char why[256];
	char *text = NULL;
	size_t len = 0;
	bool missing;
	const char *bad;

	if (*slot != NULL) {
		ropc_log(ctx, LOG_ERR, "config: both %s and %s are set; keep one", secret_key, key);
		return -1;
	}
	if (ropc_secfile_read(path, ROPC_FILE_SECRET, owner, ROPC_MAX_SECRET_SIZE, &text, &len,
			      NULL, &missing, why, sizeof(why)) < 0) {
		if (errno == EACCES && geteuid() != 0) {
			ropc_settings_denied(s, path);
			ropc_debug(ctx, "config: cannot use %s %s: %s", key, path, why);
			return -1;
		}
		ropc_log(ctx, LOG_ERR, "config: cannot use %s %s: %s", key, path, why);
		return -1;
	}
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	bad = check_vschar(text);
	if (bad != NULL) {
		ropc_log(ctx, LOG_ERR, "config: %s %s: the secret %s (one line, no spaces)", key,
			 path, bad);
		ropc_wipe(text, len);
		free(text);
		return -1;
	}
	*slot = text;
	return 0;
}

/* The checks of the second-factor keys.  0 or -1, each problem logged. */
static int
check_mfa(struct ropc_ctx *ctx, const struct ropc_settings *s)
{
	bool device = s->mfa == ROPC_MFA_DEVICE || s->flow == ROPC_FLOW_DEVICE;
	int rc = 0;

	/* Any token of a second step must be bound to the user: anyone can
	 * approve a device code with their own account, and an mfa-otp
	 * answer names its user on its own. */
	if ((device || s->mfa == ROPC_MFA_OTP) && s->username_claim == NULL) {
		ropc_log(ctx, LOG_ERR,
			 "config: %s needs username_claim: the token of a second step must name the "
			 "user (anyone can approve a device code with their own account)",
			 s->flow == ROPC_FLOW_DEVICE ? "flow = device" :
			 s->mfa == ROPC_MFA_DEVICE ? "mfa = device" : "mfa = otp");
		rc = -1;
	}
	if (device && s->device_authorization_endpoint == NULL && s->issuer == NULL) {
		ropc_log(ctx, LOG_ERR,
			 "config: the device flow needs device_authorization_endpoint (or issuer, "
			 "whose discovery names it)");
		rc = -1;
	}
	if (s->otp_param != NULL && s->otp_append) {
		ropc_log(ctx, LOG_ERR, "config: otp_param and otp_append exclude each other");
		rc = -1;
	}
	if (s->flow == ROPC_FLOW_DEVICE && (s->otp_param != NULL || s->otp_append)) {
		ropc_log(ctx, LOG_ERR,
			 "config: flow = device asks for no password: otp_param and otp_append "
			 "do not apply");
		rc = -1;
	}
	for (size_t i = 0; s->otp_param != NULL && i < s->n_extra_params; i++)
		if (strcmp(s->extra_params[i].name, s->otp_param) == 0) {
			ropc_log(ctx, LOG_ERR,
				 "config: extra_param %s is also otp_param; the code would be sent "
				 "twice", s->otp_param);
			rc = -1;
		}
	if (s->offline_cache && (s->mfa != ROPC_MFA_DENY || device || s->otp_param != NULL ||
				 s->otp_append))
		ropc_log(ctx, LOG_WARNING,
			 "config: offline_cache is not used with a second factor (a cached password "
			 "is one factor)");
	if (s->otp_separator != NULL && !s->otp_append)
		ropc_log(ctx, LOG_WARNING, "config: otp_separator is set but otp_append is not");
	return rc;
}

/* The checks of token_check and the claim rules (issue: who the token is
 * for).  Returns 0 or -1, each problem logged. */
static int
check_identity(struct ropc_ctx *ctx, struct ropc_settings *s)
{
	bool rules;
	int rc = 0;

	if (s->token_check == ROPC_CHECK_DEFAULT)
		s->token_check = s->issuer != NULL ? ROPC_CHECK_ID_TOKEN : ROPC_CHECK_NONE;
	rules = s->username_claim != NULL || s->allowed_groups != NULL ||
		s->n_require_claims > 0 || s->export_claims != NULL;
	if (check_mfa(ctx, s) < 0)
		rc = -1;
	if (s->token_check == ROPC_CHECK_NONE) {
		if (rules) {
			ropc_log(ctx, LOG_ERR,
				 "config: username_claim, allowed_groups, require_claim and export_claims "
				 "need verified claims: set token_check (id_token, jwt or introspection)");
			rc = -1;
		}
		if (s->userinfo) {
			ropc_log(ctx, LOG_ERR,
				 "config: userinfo = yes needs token_check (its sub is checked against "
				 "the verified one)");
			rc = -1;
		}
		return rc;
	}
	/* id_token and jwt need the issuer: a token's iss is checked against
	 * it, and its discovery names the key set (unless jwks_uri is set). */
	if ((s->token_check == ROPC_CHECK_ID_TOKEN || s->token_check == ROPC_CHECK_JWT) &&
	    s->issuer == NULL) {
		ropc_log(ctx, LOG_ERR,
			 "config: token_check = %s needs issuer (the token's iss is checked against it)",
			 s->token_check == ROPC_CHECK_JWT ? "jwt" : "id_token");
		rc = -1;
	}
	if (s->token_check == ROPC_CHECK_INTROSPECTION && s->introspection_endpoint == NULL &&
	    s->issuer == NULL) {
		ropc_log(ctx, LOG_ERR,
			 "config: token_check = introspection needs introspection_endpoint (or "
			 "issuer, whose discovery names it)");
		rc = -1;
	}
	if (s->token_check != ROPC_CHECK_INTROSPECTION &&
	    (s->introspection_client_id != NULL || s->introspection_client_secret != NULL))
		ropc_log(ctx, LOG_WARNING,
			 "config: introspection_client_id/secret are set but token_check is not "
			 "introspection; they are not used");
	if (s->client_id == NULL &&
	    (s->token_check == ROPC_CHECK_ID_TOKEN ||
	     (s->token_check == ROPC_CHECK_JWT && s->audience == NULL))) {
		ropc_log(ctx, LOG_ERR,
			 "config: token_check = %s needs client_id (the token's aud must hold it)%s",
			 s->token_check == ROPC_CHECK_JWT ? "jwt" : "id_token",
			 s->token_check == ROPC_CHECK_JWT ? " or audience" : "");
		rc = -1;
	}
	return rc;
}

/* Checks across keys, after every layer is read. */
static int
cross_check(struct ropc_ctx *ctx, struct ropc_settings *s, uid_t owner)
{
	int rc = 0;

	if (s->token_endpoint == NULL && s->issuer == NULL) {
		ropc_log(ctx, LOG_ERR,
			 "config: no token_endpoint and no issuer; set one in %s or as a pam.d "
			 "argument", s->config);
		rc = -1;
	}
	if (check_identity(ctx, s) < 0)
		rc = -1;
	if (s->client_auth == ROPC_CLIENT_AUTH_DEFAULT)
		s->client_auth = s->client_secret != NULL ? ROPC_CLIENT_AUTH_BASIC
							  : ROPC_CLIENT_AUTH_NONE;
	if (s->client_auth != ROPC_CLIENT_AUTH_NONE) {
		if (s->client_secret == NULL) {
			ropc_log(ctx, LOG_ERR,
				 "config: client_auth=%s needs client_secret or client_secret_file",
				 s->client_auth == ROPC_CLIENT_AUTH_BASIC ? "basic" : "post");
			rc = -1;
		}
		if (s->client_id == NULL) {
			ropc_log(ctx, LOG_ERR, "config: client_auth=%s needs client_id",
				 s->client_auth == ROPC_CLIENT_AUTH_BASIC ? "basic" : "post");
			rc = -1;
		}
	} else if (s->client_secret != NULL) {
		ropc_log(ctx, LOG_WARNING,
			 "config: client_auth=none: the client secret is not sent");
	}
	/* Files the TLS layer will need, read now and used from memory: a
	 * typo here must be a config error, not an "IdP unavailable" that
	 * [authinfo_unavail=ignore] forgives. */
	if (ropc_trust_load(ctx, s, owner) < 0)
		rc = -1;
	if (s->connect_timeout > s->timeout) {
		ropc_log(ctx, LOG_WARNING,
			 "config: connect_timeout %ld is longer than timeout %ld; using %ld",
			 s->connect_timeout, s->timeout, s->timeout);
		s->connect_timeout = s->timeout;
	}
	if (s->use_first_pass && s->try_first_pass) {
		ropc_log(ctx, LOG_WARNING,
			 "config: both use_first_pass and try_first_pass; using use_first_pass");
		s->try_first_pass = false;
	}
	return rc;
}

static struct ropc_settings *
settings_new(void)
{
	struct ropc_settings *s = calloc(1, sizeof(*s));
	size_t i;

	if (s == NULL)
		return NULL;
	s->scope = strdup("openid");
	s->username_format = strdup("%u");
	s->env_prefix = strdup(ROPC_DEFAULT_ENV_PREFIX);
	s->config = strdup(ROPC_DEFAULT_CONFIG);
	s->cache_dir = strdup(ROPC_DEFAULT_CACHE_DIR);
	s->groups_claim = strdup("groups");
	if (s->scope == NULL || s->username_format == NULL || s->env_prefix == NULL ||
	    s->config == NULL || s->cache_dir == NULL || s->groups_claim == NULL) {
		ropc_settings_free(s);
		return NULL;
	}
	s->require_local_user = true;
	s->minimum_uid = ROPC_DEFAULT_MINIMUM_UID;
	s->clock_skew = 60;
	s->cache_ttl = 3600;
	s->device_qr = true;
	s->device_timeout = 120;
	s->offline_ttl = 604800;
	s->offline_max_failures = 5;
	s->offline_lockout = 300;
	s->offline_hash_cost = 5;
	s->fail_fast = 30;
	for (i = 0; i < ROPC_JWS_ALG_COUNT; i++)
		s->allowed_algs[i] = true;
	s->timeout = 10;
	s->connect_timeout = 3;
	s->export_token = true;
	return s;
}

/* Split one pam.d argument into key and value; a bare word is key=yes. */
static void
split_arg(const char *arg, size_t *keylen, const char **value)
{
	const char *eq = strchr(arg, '=');

	if (eq == NULL) {
		*keylen = strlen(arg);
		*value = "yes";
	} else {
		*keylen = (size_t)(eq - arg);
		*value = eq + 1;
	}
}

/*
 * Whether pam_ropc_helper(8) would apply these settings: it reads
 * ROPC_DEFAULT_CONFIG and nothing from its caller, so the config must be
 * that file and every pam.d argument one that the module applies on its
 * own side.  true, or false with why.
 */
static bool
helper_can_stand_in(const struct ropc_settings *s, int argc, const char **argv, char *why,
		    size_t whysize)
{
	static const char *const local[] = {
		"debug", "config", "use_first_pass", "try_first_pass", "minimum_uid",
		"export_token", "env_prefix",
	};
	int i;

	if (strcmp(s->config, ROPC_DEFAULT_CONFIG) != 0) {
		snprintf(why, whysize, "it reads only %s, not config=", ROPC_DEFAULT_CONFIG);
		return false;
	}
	for (i = 0; i < argc; i++) {
		size_t kl, j;
		const char *v;
		char shown[80];

		split_arg(argv[i], &kl, &v);
		for (j = 0; j < sizeof(local) / sizeof(local[0]); j++)
			if (strlen(local[j]) == kl && strncmp(argv[i], local[j], kl) == 0)
				break;
		if (j < sizeof(local) / sizeof(local[0]))
			continue;
		ropc_sanitize(argv[i], kl, shown, sizeof(shown));
		snprintf(why, whysize, "it takes its settings from %s only, and the pam.d "
			 "argument %s would not apply (move it there)", ROPC_DEFAULT_CONFIG, shown);
		return false;
	}
	return true;
}

int
ropc_settings_load_as(struct ropc_ctx *ctx, int argc, const char **argv,
		      uid_t owner, struct ropc_settings **out)
{
	struct source args = { .name = "pam.d arguments", .is_argv = true };
	struct ropc_settings *s;
	bool explicit_config = false;
	unsigned int errors_before = ctx->errors;
	int i, rc = 0;

	*out = NULL;
	s = settings_new();
	if (s == NULL)
		return PAM_BUF_ERR;

	/* debug and config= first: they govern how the rest is read. */
	for (i = 0; i < argc; i++) {
		size_t kl;
		const char *v;
		bool b;

		split_arg(argv[i], &kl, &v);
		if (kl == 5 && strncmp(argv[i], "debug", 5) == 0 && parse_bool(v, &b) == 0)
			ctx->debug = b;
		if (kl == 6 && strncmp(argv[i], "config", 6) == 0) {
			if (explicit_config) {
				ropc_log(ctx, LOG_ERR,
					 "config: config is given twice in the pam.d arguments; give it once");
				rc = -1;
			} else if (check_abs_path(v) != NULL) {
				ropc_log(ctx, LOG_ERR, "config: config= must be an absolute path");
				rc = -1;
			} else {
				replace_string(&s->config, v, false);
				if (s->config == NULL || strcmp(s->config, v) != 0) {
					ropc_settings_free(s);
					return PAM_BUF_ERR;
				}
				explicit_config = true;
			}
		}
	}
	if (rc == 0 && read_config_file(ctx, s, owner, explicit_config) < 0)
		rc = -1;
	for (i = 0; i < argc; i++) {
		size_t kl;
		const char *v;

		split_arg(argv[i], &kl, &v);
		if (kl == 6 && strncmp(argv[i], "config", 6) == 0)
			continue;
		if (apply(ctx, s, &args, argv[i], kl, v) < 0)
			rc = -1;
	}
	if (rc == 0 && s->client_secret_file != NULL &&
	    read_secret_file(ctx, s, owner, "client_secret_file", s->client_secret_file,
			     "client_secret", &s->client_secret) < 0)
		rc = -1;
	if (rc == 0 && s->introspection_client_secret_file != NULL &&
	    read_secret_file(ctx, s, owner, "introspection_client_secret_file",
			     s->introspection_client_secret_file, "introspection_client_secret",
			     &s->introspection_client_secret) < 0)
		rc = -1;
	/* With a file this caller may not read, what is missing from it
	 * would only add false complaints. */
	if (s->denied_path == NULL && cross_check(ctx, s, owner) < 0)
		rc = -1;
	ctx->debug = s->debug || ctx->debug;
	s->debug = ctx->debug;
	*out = s;
	if (rc != 0 && s->denied_path != NULL && ctx->errors == errors_before) {
		/* A screen locker runs PAM as the user: the root-only settings
		 * are unreadable here, and nothing else is wrong with them.
		 * pam_ropc_helper reads them instead, when it would read the
		 * same ones; else say so once, and let a fallback stack
		 * ([authinfo_unavail=ignore]) unlock with the local password. */
		char why[300];

		if (helper_can_stand_in(s, argc, argv, why, sizeof(why))) {
			s->use_helper = true;
			ropc_debug(ctx, "config: running as uid %lu, not root: %s is readable only "
				   "by root; asking pam_ropc_helper", (unsigned long)geteuid(),
				   s->denied_path);
			return PAM_AUTHINFO_UNAVAIL;
		}
		ropc_log(ctx, LOG_ERR,
			 "config: running as uid %lu, not root: the settings (%s) are readable only "
			 "by root, and pam_ropc_helper cannot stand in: %s; returning "
			 "PAM_AUTHINFO_UNAVAIL for the local fallback (see pam_ropc(8), UNPRIVILEGED "
			 "CALLERS)", (unsigned long)geteuid(), s->denied_path, why);
		return PAM_AUTHINFO_UNAVAIL;
	}
	return rc == 0 ? PAM_SUCCESS : PAM_SERVICE_ERR;
}

int
ropc_settings_load(struct ropc_ctx *ctx, int argc, const char **argv,
		   struct ropc_settings **out)
{
	return ropc_settings_load_as(ctx, argc, argv, 0, out);
}

void
ropc_settings_denied(struct ropc_settings *s, const char *path)
{
	if (s->denied_path == NULL)
		s->denied_path = strdup(path != NULL ? path : "(unknown)");
}

void
ropc_settings_free(struct ropc_settings *s)
{
	if (s == NULL)
		return;
	free(s->token_endpoint);
	free(s->client_id);
	ropc_free_secret(s->client_secret);
	free(s->client_secret_file);
	free(s->scope);
	free(s->resource);
	clear_list(s, OPT_PARAM);
	clear_list(s, OPT_ERROR_MAP);
	clear_list(s, OPT_CLAIM_RULE);
	free(s->issuer);
	free(s->jwks_uri);
	free(s->introspection_endpoint);
	free(s->userinfo_endpoint);
	free(s->device_authorization_endpoint);
	free(s->audience);
	free(s->introspection_client_id);
	ropc_free_secret(s->introspection_client_secret);
	free(s->introspection_client_secret_file);
	free(s->cache_dir);
	free(s->username_claim);
	free(s->require_scope);
	free(s->groups_claim);
	free(s->allowed_groups);
	free(s->export_claims);
	free(s->otp_param);
	free(s->otp_separator);
	free(s->username_format);
	free(s->ca_file);
	free(s->ca_path);
	free(s->pinned_public_key);
	ropc_free_secret(s->proxy);     /* may hold proxy credentials */
	if (s->ca_data != NULL) {
		ropc_wipe(s->ca_data, s->ca_len);
		free(s->ca_data);
	}
	free(s->pin);
	free(s->denied_path);
	free(s->env_prefix);
	free(s->config);
	free(s);
}

/* "<set, N bytes>" or "<not set>" into buf. */
static const char *
shown_secret(const char *v, char *buf, size_t size)
{
	if (v == NULL)
		return "<not set>";
	snprintf(buf, size, "<set, %zu bytes>", strlen(v));
	return buf;
}

void
ropc_settings_each(const struct ropc_settings *s, ropc_setting_fn fn, void *arg)
{
	static const char *const auth[] = { "default", "basic", "post", "none" };
	static const char *const check[] = { "default", "none", "id_token", "jwt",
					     "introspection" };
	static const char *const mfa[] = { "deny", "otp", "device" };
	static const char *const flow[] = { "password", "device" };
	const char *base = (const char *)s;
	char buf[1024];
	size_t i, j;

	for (i = 0; i < N_OPTIONS; i++) {
		const struct opt_def *o = &options[i];
		const char *v = buf;
		size_t used = 0;

		buf[0] = '\0';
		switch (o->type) {
		case OPT_STRING:
		case OPT_URL:
			v = *(char *const *)(const void *)(base + o->offset);
			if (v == NULL)
				v = "<not set>";
			break;
		case OPT_SECRET:
		case OPT_PROXY_URL:     /* may hold user:password@ */
			v = shown_secret(*(char *const *)(const void *)(base + o->offset), buf,
					 sizeof(buf));
			break;
		case OPT_BOOL:
			v = *(const bool *)(const void *)(base + o->offset) ? "yes" : "no";
			break;
		case OPT_NUMBER:
		case OPT_SECONDS:
			snprintf(buf, sizeof(buf), "%ld", *(const long *)(const void *)(base + o->offset));
			break;
		case OPT_UID:
			snprintf(buf, sizeof(buf), "%lu",
				 *(const unsigned long *)(const void *)(base + o->offset));
			break;
		case OPT_CASE:
			v = s->username_claim_insensitive ? "insensitive" : "sensitive";
			break;
		case OPT_CLIENT_AUTH:
			v = auth[s->client_auth];
			break;
		case OPT_TOKEN_CHECK:
			v = check[s->token_check];
			break;
		case OPT_MFA:
			v = mfa[s->mfa];
			break;
		case OPT_FLOW:
			v = flow[s->flow];
			break;
		case OPT_ALGS:
			for (j = 0; j < ROPC_JWS_ALG_COUNT; j++)
				if (s->allowed_algs[j] && used < sizeof(buf))
					used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s",
								 used > 0 ? " " : "",
								 ropc_jws_alg_name((enum ropc_jws_alg)j));
			break;
		case OPT_PARAM:
			/* Values may be secrets: names and sizes only. */
			for (j = 0; j < s->n_extra_params && used < sizeof(buf); j++)
				used += (size_t)snprintf(buf + used, sizeof(buf) - used,
							 "%s%s=<%zu bytes>", used > 0 ? " " : "",
							 s->extra_params[j].name,
							 strlen(s->extra_params[j].value));
			break;
		case OPT_CLAIM_RULE:
			for (j = 0; j < s->n_require_claims && used < sizeof(buf); j++)
				used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s=%s",
							 used > 0 ? " " : "",
							 s->require_claims[j].name,
							 s->require_claims[j].value);
			break;
		case OPT_ERROR_MAP:
			for (j = 0; j < s->n_error_map && used < sizeof(buf); j++)
				used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s:%s",
							 used > 0 ? " | " : "",
							 ropc_outcome_info(s->error_map[j].outcome)->name,
							 s->error_map[j].pattern);
			break;
		}
		if (v == buf && buf[0] == '\0')
			v = "<not set>";
		fn(arg, o->name, v);
	}
}

const char *
ropc_settings_https_url(const char *v, char **url)
{
	bool creds = false;
	const char *why = parse_url(v, false, url, &creds);

	if (why == NULL && creds) {
		ropc_wipe(*url, strlen(*url));
		curl_free(*url);
		*url = NULL;
		why = "holds user:password@";
	}
	return why;
}
