/*
 * auth.c: the login, step by step (DESIGN §1), account management and the
 * password stack (§6).  Each step that refuses says why in the one log line
 * written per authentication:
 *
 *   pam_ropc(SERVICE:auth): authentication outcome=NAME code=PAM_... user="..."
 *     rhost="..." service="..." http=STATUS elapsed_ms=N detail="..."
 *     [idp_error="..." idp_description="..."]
 *
 * Every field from outside is sanitised; no password, secret, token,
 * request or response body is ever part of it.
 */
#include "auth.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <security/pam_ext.h>
#include <security/pam_modutil.h>
#include <openssl/evp.h>

#include "classify.h"
#include "breaker.h"
#include "device.h"
#include "discovery.h"
#include "env.h"
#include "form.h"
#include "helper.h"
#include "http.h"
#include "logging.h"
#include "options.h"
#include "offline.h"
#include "user.h"
#include "verify.h"

/* Everything one authentication produces, for its log line. */
struct attempt {
	struct timespec start;
	enum ropc_outcome outcome;
	int code;               /* the PAM code returned */
	long http;
	char detail[600];       /* a verdict's detail and libcurl's error */
	const struct ropc_idp_error *idp;
	const char *typed;      /* PAM_USER as typed, when not the local name */
	bool unreachable;       /* the IdP could not be reached or failed: an outage */
};

static long
elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)((now.tv_sec - start->tv_sec) * 1000 +
		      (now.tv_nsec - start->tv_nsec) / 1000000);
}

static void
log_attempt(struct ropc_ctx *ctx, const struct attempt *a)
{
	const struct ropc_outcome_info *info = ropc_outcome_info(a->outcome);
	char user[300], rhost[300], service[140], detail[700], extra[1024] = "";
	const char *u = ctx->user != NULL ? ctx->user : "";
	const char *r = ctx->rhost != NULL ? ctx->rhost : "";

	ropc_sanitize(u, strlen(u), user, sizeof(user));
	ropc_sanitize(r, strlen(r), rhost, sizeof(rhost));
	ropc_sanitize(ctx->service, strlen(ctx->service), service, sizeof(service));
	ropc_sanitize(a->detail, strlen(a->detail), detail, sizeof(detail));
	if (a->idp != NULL && (a->idp->code[0] != '\0' || a->idp->description[0] != '\0')) {
		char code[140], desc[600];

		ropc_sanitize(a->idp->code, strlen(a->idp->code), code, sizeof(code));
		ropc_sanitize(a->idp->description, strlen(a->idp->description), desc,
			      sizeof(desc));
		snprintf(extra, sizeof(extra), " idp_error=\"%s\" idp_description=\"%s\"%s%s",
			 code, desc, a->idp->codes[0] != '\0' ? " idp_codes=" : "",
			 a->idp->codes);
	}
	if (a->typed != NULL) {
		char typed[300];
		size_t used = strlen(extra);

		ropc_sanitize(a->typed, strlen(a->typed), typed, sizeof(typed));
		snprintf(extra + used, sizeof(extra) - used, " typed_user=\"%s\"", typed);
	}
	ropc_log(ctx, info->log_priority,
		 "authentication outcome=%s code=%s user=\"%s\" rhost=\"%s\" service=\"%s\" "
		 "http=%ld elapsed_ms=%ld detail=\"%s\"%s",
		 info->name, ropc_pam_code_name(a->code), user, rhost, service,
		 a->http, elapsed_ms(&a->start), detail, extra);
}

/* Decide outcome o: its PAM code becomes the one returned. */
static void
decide(struct attempt *a, enum ropc_outcome o, const char *detail)
{
	a->outcome = o;
	a->code = ropc_outcome_info(o)->pam_code;
	if (detail != NULL)
		snprintf(a->detail, sizeof(a->detail), "%s", detail);
}

/* Tell the person why, unless the application asked for silence. */
static void
tell(struct ropc_ctx *ctx, enum ropc_outcome o)
{
	const char *msg = ropc_outcome_info(o)->message;

	if (msg != NULL && !(ctx->flags & PAM_SILENT))
		pam_error(ctx->pamh, "%s", msg);
}

/*
 * Whether p is sshd's stand-in password: OpenSSH repeats
 * "\b\n\r\177INCORRECT" to the length of what was typed (auth-pam.c,
 * fake_password), so the pattern, not one string, must be recognised.
 */
static bool
is_sshd_junk(const char *p)
{
	static const char junk[] = ROPC_SSHD_JUNK_PASSWORD;
	size_t i;

	for (i = 0; p[i] != '\0'; i++)
		if (p[i] != junk[i % (sizeof(junk) - 1)])
			return false;
	return i > 0;
}

const char *
ropc_password_check(const char *password)
{
	if (password == NULL || password[0] == '\0')
		return "empty password";
	if (strnlen(password, PAM_MAX_RESP_SIZE) >= PAM_MAX_RESP_SIZE)
		return "password of PAM_MAX_RESP_SIZE bytes or more";
	if (is_sshd_junk(password))
		return "sshd's stand-in password for a user it refuses";
	return NULL;
}

/*
 * The password.  An earlier module's PAM_AUTHTOK is used only when the
 * settings ask for it, as pam_unix and pam-krb5 do: try_first_pass (use
 * it, else prompt) or use_first_pass (use it, else fail); by default the
 * module prompts, so that a local password typed for another module is
 * never sent to a remote IdP.  The prompt's answer becomes PAM_AUTHTOK for
 * the modules after this one.  Returns PAM_SUCCESS with *password
 * (libpam's copy), PAM_AUTHTOK_RECOVERY_ERR when use_first_pass found
 * none, or the code of the failing conversation.  Not pam_get_authtok: it
 * reads use_first_pass from argv by prefix, so use_first_pass=no would
 * count.
 */
static int
get_password(struct ropc_ctx *ctx, const char **password)
{
	const struct ropc_settings *s = ctx->settings;
	const void *item = NULL;
	char *resp = NULL;
	int rc;

	*password = NULL;
	if (s->use_first_pass || s->try_first_pass) {
		rc = pam_get_item(ctx->pamh, PAM_AUTHTOK, &item);
		if (rc == PAM_SUCCESS && item != NULL) {
			ropc_debug(ctx, "auth: using the password of an earlier module (%s)",
				   s->use_first_pass ? "use_first_pass" : "try_first_pass");
			*password = item;
			return PAM_SUCCESS;
		}
		if (s->use_first_pass)
			return PAM_AUTHTOK_RECOVERY_ERR;
	}
	rc = pam_prompt(ctx->pamh, PAM_PROMPT_ECHO_OFF, &resp, "Password: ");
	if (rc != PAM_SUCCESS) {
		ropc_free_secret(resp);
		return rc;
	}
	if (resp == NULL)
		return PAM_CONV_ERR;
	rc = pam_set_item(ctx->pamh, PAM_AUTHTOK, resp);
	ropc_free_secret(resp);
	if (rc != PAM_SUCCESS)
		return rc;
	rc = pam_get_item(ctx->pamh, PAM_AUTHTOK, &item);
	if (rc != PAM_SUCCESS || item == NULL)
		return rc != PAM_SUCCESS ? rc : PAM_CONV_ERR;
	*password = item;
	return PAM_SUCCESS;
}

/*
 * What the module leaves in the PAM handle: that it authenticated a user
 * (one mark, ROPC_DATA_USER, for pam_sm_acct_mgmt), and that the IdP
 * refused an account (one mark per refusal, under a name derived from its
 * key, so that several can be remembered).  A mark holds its key: the
 * user, and everything that decides the IdP's answer (token endpoint,
 * client_id, username_format), so that two pam_ropc lines with different
 * IdPs or clients never read each other's marks.
 */
struct mark {
	enum ropc_outcome outcome;
	struct timespec when;           /* CLOCK_MONOTONIC */
	size_t key_len;
	char key[];                     /* NUL-terminated */
};

static void
free_mark(pam_handle_t *pamh, void *data, int status)
{
	(void)pamh;
	(void)status;
	free(data);
}

/* The key of user under these settings, as configured (before discovery
 * fills endpoints in): the fields separated by a byte that none of them
 * may hold (user names and settings have no control characters).  A new
 * string, or NULL. */
static char *
mark_key(const struct ropc_settings *s, const char *user)
{
	const char *cid = s->client_id != NULL ? s->client_id : "";
	const char *ep = s->token_endpoint != NULL ? s->token_endpoint : "";
	const char *iss = s->issuer != NULL ? s->issuer : "";
	size_t n = strlen(user) + strlen(ep) + strlen(iss) + strlen(cid) +
		   strlen(s->username_format) + 5;
	char *key = malloc(n);

	if (key != NULL)
		snprintf(key, n, "%s\x1f%s\x1f%s\x1f%s\x1f%s", user, ep, iss, cid,
			 s->username_format);
	return key;
}

/* The key of the success mark: mark_key and every rule that decided who
 * may log in, so that an account line vouches only for a login made under
 * the same rules (an account line with allowed_groups that the auth line
 * lacked must not say yes).  A new string, or NULL. */
static char *
success_key(const struct ropc_settings *s, const char *user)
{
	struct ropc_buf b;
	char *key = mark_key(s, user), num[32], *out = NULL;

	if (key == NULL)
		return NULL;
	ropc_buf_init(&b, (size_t)64 * 1024);
	snprintf(num, sizeof(num), "\x1e%d\x1f%d", (int)s->token_check,
		 (int)s->username_claim_insensitive);
	if (ropc_buf_append_str(&b, key) == 0 && ropc_buf_append_str(&b, num) == 0 &&
	    ropc_buf_append_str(&b, "\x1f") == 0 &&
	    ropc_buf_append_str(&b, s->username_claim != NULL ? s->username_claim : "") == 0 &&
	    ropc_buf_append_str(&b, "\x1f") == 0 &&
	    ropc_buf_append_str(&b, s->require_scope != NULL ? s->require_scope : "") == 0 &&
	    ropc_buf_append_str(&b, "\x1f") == 0 &&
	    ropc_buf_append_str(&b, s->groups_claim != NULL ? s->groups_claim : "") == 0 &&
	    ropc_buf_append_str(&b, "\x1f") == 0 &&
	    ropc_buf_append_str(&b, s->allowed_groups != NULL ? s->allowed_groups : "") == 0 &&
	    ropc_buf_append_str(&b, "\x1f") == 0 &&
	    ropc_buf_append_str(&b, s->audience != NULL ? s->audience : "") == 0) {
		bool ok = true;

		for (size_t i = 0; i < s->n_require_claims && ok; i++)
			ok = ropc_buf_append_str(&b, "\x1f") == 0 &&
			     ropc_buf_append_str(&b, s->require_claims[i].name) == 0 &&
			     ropc_buf_append_str(&b, "=") == 0 &&
			     ropc_buf_append_str(&b, s->require_claims[i].value) == 0;
		if (ok && b.data != NULL)
			out = strdup(b.data);
	}
	ropc_buf_free(&b);
	free(key);
	return out;
}

/* The PAM data name of a refusal for key: ROPC_DATA_REFUSAL, a dot and
 * the SHA-256 of the key in hex (names stay short and hold nothing from
 * outside).  0, or -1. */
static int
refusal_name(const char *key, char *out, size_t outsize)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t i;
	int n;

	if (EVP_Digest(key, strlen(key), md, &mdlen, EVP_sha256(), NULL) != 1)
		return -1;
	n = snprintf(out, outsize, "%s.", ROPC_DATA_REFUSAL);
	if (n < 0 || (size_t)n + (size_t)2 * mdlen + 1 > outsize)
		return -1;
	for (i = 0; i < mdlen; i++)
		snprintf(out + (size_t)n + (size_t)2 * i, 3, "%02x", md[i]);
	return 0;
}

/* Leave a mark called name holding key (best effort: a failure only
 * costs memory). */
static int
set_mark(struct ropc_ctx *ctx, const char *name, const char *key, enum ropc_outcome o)
{
	size_t klen;
	struct mark *m;

	if (key == NULL)
		return PAM_SUCCESS;     /* a refused name has no key: nothing to mark */
	klen = strlen(key);
	m = malloc(sizeof(*m) + klen + 1);
	if (m == NULL)
		return PAM_BUF_ERR;
	m->outcome = o;
	clock_gettime(CLOCK_MONOTONIC, &m->when);
	m->key_len = klen;
	memcpy(m->key, key, klen + 1);
	if (pam_set_data(ctx->pamh, name, m, free_mark) != PAM_SUCCESS) {
		free(m);
		return PAM_BUF_ERR;
	}
	return PAM_SUCCESS;
}

/* The mark called name, when it holds key; else NULL. */
static const struct mark *
get_mark(struct ropc_ctx *ctx, const char *name, const char *key)
{
	const void *data = NULL;
	const struct mark *m;

	if (key == NULL ||
	    pam_get_data(ctx->pamh, name, &data) != PAM_SUCCESS || data == NULL)
		return NULL;
	m = data;
	if (m->key_len != strlen(key) || strcmp(m->key, key) != 0)
		return NULL;
	return m;
}

/* Outcomes that hold for the account, whatever password is typed next. */
static bool
account_level(enum ropc_outcome o)
{
	switch (o) {
	case ROPC_OUT_MFA_REQUIRED:
	case ROPC_OUT_LOCKED:
	case ROPC_OUT_SUSPENDED:
	case ROPC_OUT_PASSWORD_EXPIRED:
	case ROPC_OUT_ACCESS_DENIED:
	case ROPC_OUT_UNAVAILABLE:
		return true;
	default:
		return false;
	}
}

/* The refusal remembered under name for key, if it is younger than
 * ROPC_REFUSAL_MEMORY seconds (a screen locker keeps one transaction for
 * hours: an IdP that was down must be asked again), or -1. */
static int
remembered_refusal(struct ropc_ctx *ctx, const char *name, const char *key)
{
	const struct mark *m = get_mark(ctx, name, key);

	if (m == NULL)
		return -1;
	if (elapsed_ms(&m->when) >= (long)ROPC_REFUSAL_MEMORY * 1000)
		return -1;
	return (int)m->outcome;
}

/* The cleanup of ROPC_DATA_ENV_PREFIX: the prefix of the variables the
 * last export in this handle used. */
static void
free_string_data(pam_handle_t *pamh, void *data, int status)
{
	(void)pamh;
	(void)status;
	free(data);
}

/*
 * First thing in every authentication, whether or not the settings could
 * be read:
 * forget that this module authenticated anybody in this handle, and
 * remove the variables of an earlier export, under the prefix it used,
 * the default one and the one configured now.
 */
static void
clean_handle(struct ropc_ctx *ctx)
{
	const void *data = NULL;

	(void)pam_set_data(ctx->pamh, ROPC_DATA_USER, NULL, NULL);
	if (pam_get_data(ctx->pamh, ROPC_DATA_ENV_PREFIX, &data) == PAM_SUCCESS &&
	    data != NULL)
		ropc_env_clear(ctx, data);
	ropc_env_clear(ctx, ROPC_DEFAULT_ENV_PREFIX);
	if (ctx->settings != NULL && ctx->settings->env_prefix != NULL)
		ropc_env_clear(ctx, ctx->settings->env_prefix);
}

/* Remember the prefix of this export for clean_handle. */
static int
remember_prefix(struct ropc_ctx *ctx)
{
	char *copy = strdup(ctx->settings->env_prefix);

	if (copy == NULL)
		return PAM_BUF_ERR;
	if (pam_set_data(ctx->pamh, ROPC_DATA_ENV_PREFIX, copy, free_string_data) !=
	    PAM_SUCCESS) {
		free(copy);
		return PAM_BUF_ERR;
	}
	return PAM_SUCCESS;
}

/* Put prefix before and suffix after a's detail (cut to fit): the step
 * of a second factor. */
static void
frame_detail(struct attempt *a, const char *prefix, const char *suffix)
{
	char d[sizeof(a->detail) + 128];
	size_t n;

	snprintf(d, sizeof(d), "%s%s%s", prefix, a->detail, suffix);
	n = strlen(d);
	if (n >= sizeof(a->detail))
		n = sizeof(a->detail) - 1;
	memcpy(a->detail, d, n);
	a->detail[n] = '\0';
}

/* The OTP grant of Okta's direct authentication and Auth0. */
#define MFA_OTP_GRANT "http://auth0.com/oauth/grant-type/mfa-otp"

/* Decide a from the verdict of one token request, and on success verify
 * whom the token is for (token_check, the claim rules). */
static void
settle(struct ropc_ctx *ctx, struct attempt *a, struct ropc_verdict *v,
       const char *idp_user, struct ropc_identity *id)
{
	a->idp = &v->idp;
	decide(a, v->outcome, v->detail);
	if (a->outcome == ROPC_OUT_SUCCESS) {
		/* The IdP said yes: now who for, and may they log in here. */
		char detail[500] = "";
		enum ropc_outcome o = ropc_verify(ctx, &v->tokens, idp_user, id, detail,
						  sizeof(detail));

		decide(a, o, detail);
	}
}

/* POST body to the token endpoint and classify the answer into v.  0, or
 * -1 (decided: internal). */
static int
post_token(struct ropc_ctx *ctx, struct attempt *a, struct ropc_buf *body,
	   struct ropc_verdict *v)
{
	struct ropc_http_result res;

	ropc_http_result_init(&res);
	if (ropc_http_post(ctx, body, &res) < 0) {
		decide(a, ROPC_OUT_INTERNAL, res.error);
		ropc_http_result_free(&res);
		return -1;
	}
	a->http = res.status;
	/* An outage, for the offline cache: no answer, or the IdP failing
	 * (5xx).  Never an answer that says something (a 4xx, a 429, an
	 * oversized or malformed 200). */
	a->unreachable = (res.net != ROPC_NET_OK && res.net != ROPC_NET_TOO_BIG) ||
			 res.status >= 500;
	ropc_classify(ctx->settings, &res, v);
	if (res.net != ROPC_NET_OK && res.error[0] != '\0') {
		size_t used = strlen(v->detail);

		snprintf(v->detail + used, sizeof(v->detail) - used, ": %s", res.error);
	}
	ropc_http_result_free(&res);
	return 0;
}

/* The password grant (with otp, the code as otp_param), decided into a. */
static void
ask_idp(struct ropc_ctx *ctx, struct attempt *a, const char *idp_user, const char *password,
	const char *otp, struct ropc_verdict *v, struct ropc_identity *id)
{
	const struct ropc_settings *s = ctx->settings;
	struct ropc_buf body;

	ropc_buf_init(&body, ROPC_MAX_BODY);
	if (ropc_form_build(s, idp_user, password, &body) < 0 ||
	    (otp != NULL && ropc_form_add(&body, s->otp_param, otp) < 0)) {
		decide(a, ROPC_OUT_INTERNAL, "cannot build the request body");
		ropc_buf_free(&body);
		return;
	}
	ropc_debug(ctx, "auth: asking %s for %s", s->token_endpoint, idp_user);
	if (post_token(ctx, a, &body, v) == 0)
		settle(ctx, a, v, idp_user, id);
	ropc_buf_free(&body);
}

/* Ask for the second factor: one echo-off "Verification code: " prompt.
 * Returns a new string (wipe and free it), or NULL with a decided. */
static char *
ask_code(struct ropc_ctx *ctx, struct attempt *a)
{
	char *code = NULL;
	int rc = pam_prompt(ctx->pamh, PAM_PROMPT_ECHO_OFF, &code, "Verification code: ");

	if (rc != PAM_SUCCESS || code == NULL) {
		ropc_free_secret(code);
		decide(a, ROPC_OUT_MFA_FAILED, "no verification code was entered");
		if (rc != PAM_SUCCESS)
			a->code = rc;
		return NULL;
	}
	if (code[0] == '\0' || strnlen(code, 64) >= 64) {
		ropc_free_secret(code);
		decide(a, ROPC_OUT_MFA_FAILED, "the verification code is empty or longer than 63 "
		       "bytes");
		return NULL;
	}
	return code;
}

/* Okta direct authentication, Auth0: the mfa_token of the mfa_required
 * answer and a code complete the login (mfa = otp). */
static void
mfa_otp(struct ropc_ctx *ctx, struct attempt *a, const char *idp_user, struct ropc_verdict *v,
	struct ropc_identity *id)
{
	const struct ropc_settings *s = ctx->settings;
	char mfa_token[sizeof(v->idp.mfa_token)], *code;
	struct ropc_buf body;

	memcpy(mfa_token, v->idp.mfa_token, sizeof(mfa_token));
	ropc_verdict_free(v);
	memset(v, 0, sizeof(*v));
	code = ask_code(ctx, a);
	if (code == NULL) {
		ropc_wipe(mfa_token, sizeof(mfa_token));
		return;
	}
	ropc_buf_init(&body, ROPC_MAX_BODY);
	if (ropc_form_add(&body, "grant_type", MFA_OTP_GRANT) < 0 ||
	    ropc_form_add(&body, "mfa_token", mfa_token) < 0 ||
	    ropc_form_add(&body, "otp", code) < 0 ||
	    (s->scope != NULL && s->scope[0] != '\0' && ropc_form_add(&body, "scope", s->scope) < 0) ||
	    ropc_form_client(s, &body) < 0) {
		decide(a, ROPC_OUT_INTERNAL, "cannot build the request body");
	} else if (post_token(ctx, a, &body, v) == 0) {
		settle(ctx, a, v, idp_user, id);
		/* A refused code or mfa_token is a failed second factor. */
		if (a->outcome == ROPC_OUT_INVALID_CREDENTIALS ||
		    a->outcome == ROPC_OUT_IDP_UNKNOWN_USER || a->outcome == ROPC_OUT_UNRECOGNISED ||
		    a->outcome == ROPC_OUT_MFA_REQUIRED)
			decide(a, ROPC_OUT_MFA_FAILED, NULL);
	}
	frame_detail(a, "mfa-otp: ", "");
	ropc_buf_free(&body);
	ropc_free_secret(code);
	ropc_wipe(mfa_token, sizeof(mfa_token));
}

/* The device flow (mfa = device after an MFA refusal, or flow = device). */
static void
device_login(struct ropc_ctx *ctx, struct attempt *a, const char *idp_user,
	     struct ropc_verdict *v, struct ropc_identity *id)
{
	struct ropc_device_stats st;
	char detail[500], stats[64];
	enum ropc_outcome o;

	ropc_verdict_free(v);
	o = ropc_device_login(ctx, v, &st, false, detail, sizeof(detail));
	a->http = st.http;
	if (o == ROPC_OUT_SUCCESS) {
		settle(ctx, a, v, idp_user, id);
	} else {
		a->idp = &v->idp;
		decide(a, o, detail);
	}
	snprintf(stats, sizeof(stats), "%spolls=%d waited_ms=%ld", a->detail[0] != '\0' ? " " : "",
		 st.polls, st.waited_ms);
	frame_detail(a, o == ROPC_OUT_SUCCESS ? "device: " : "", stats);
}

/* The IdP as the settings name it (before discovery): the key of the
 * breaker and of the offline cache. */
static const char *
idp_name(const struct ropc_settings *s)
{
	return s->issuer != NULL ? s->issuer : s->token_endpoint;
}

/* Fail fast: true (a decided) when the IdP was found down within the
 * last fail_fast seconds; *probing when this process is the one that
 * asks it again after the window. */
static bool
failing_fast(struct ropc_ctx *ctx, struct attempt *a, bool *probing)
{
	time_t since = 0;
	enum ropc_breaker_state st;

	*probing = false;
	if (ctx->settings->fail_fast <= 0)
		return false;
	st = ropc_breaker_check(ctx, ROPC_BREAKER_DIR, idp_name(ctx->settings),
				ctx->settings->fail_fast, &since);
	if (st == ROPC_BREAKER_PROBE)
		*probing = true;
	if (st != ROPC_BREAKER_OPEN)
		return false;
	{
		char when[64], d[128];
		struct tm tm;

		if (gmtime_r(&since, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
			snprintf(when, sizeof(when), "%lld", (long long)since);
		snprintf(d, sizeof(d), "failing fast since %s: the IdP was not reached", when);
		decide(a, ROPC_OUT_UNAVAILABLE, d);
		a->unreachable = true;
	}
	return true;
}

/* After asking: tell the breaker whether any request of this login found
 * the IdP down (no connection, a timeout: ctx->idp_down, set by http.c),
 * whichever it was (discovery, the key set, the token request...). */
static void
breaker_after(struct ropc_ctx *ctx, const struct attempt *a, bool probing)
{
	/* Down only when the login found nothing else: a stale copy that
	 * served, or a token endpoint that answered, says the IdP is there. */
	bool down = ctx->idp_down && a->outcome == ROPC_OUT_UNAVAILABLE;

	/* pam_ropc_helper's caller can slow it down at will (its cgroup):
	 * the helper never records anything. */
	if (ctx->settings->fail_fast > 0 && !ctx->breaker_read_only)
		ropc_breaker_report(ctx, ROPC_BREAKER_DIR, idp_name(ctx->settings), down,
				    ctx->settings->fail_fast, probing);
}

/* Outcomes that say the IdP refused the account itself: its offline
 * entry goes at once. */
static bool
account_refused(enum ropc_outcome o)
{
	switch (o) {
	case ROPC_OUT_INVALID_CREDENTIALS:
	case ROPC_OUT_IDP_UNKNOWN_USER:
	case ROPC_OUT_LOCKED:
	case ROPC_OUT_SUSPENDED:
	case ROPC_OUT_PASSWORD_EXPIRED:
	case ROPC_OUT_ACCESS_DENIED:
	case ROPC_OUT_NOT_AUTHORIZED:
	case ROPC_OUT_IDENTITY_MISMATCH:
		return true;
	default:
		return false;
	}
}

/* The offline cache, after the IdP answered or could not be reached
 * (offline_cache = yes, a password login with no second factor): store
 * on success, forget on an account refusal, answer when unavailable. */
static void
offline_step(struct ropc_ctx *ctx, struct attempt *a, const char *idp_user,
	     const char *password, const struct ropc_verdict *v, const struct ropc_identity *id)
{
	const struct ropc_settings *s = ctx->settings;
	struct ropc_offline_key k = { .user = ctx->user, .idp = idp_name(s),
				      .client_id = s->client_id != NULL ? s->client_id : "" };
	struct ropc_offline_rules r = { .now = time(NULL), .ttl = s->offline_ttl,
					.max_failures = (int)s->offline_max_failures,
					.lockout = s->offline_lockout,
					.cost = (int)s->offline_hash_cost };
	struct json_object *rec = NULL;
	char why[300], d[600];
	long age = 0;

	if (!s->offline_cache || s->flow != ROPC_FLOW_PASSWORD || s->mfa != ROPC_MFA_DENY ||
	    s->otp_param != NULL || s->otp_append || password == NULL)
		return;
	if (a->outcome == ROPC_OUT_SUCCESS) {
		rec = ropc_verify_offline_record(&v->tokens, id->claims);
		(void)ropc_offline_store(ctx, s->cache_dir, &k, password, rec, &r);
		if (rec != NULL)
			ropc_json_object_done(rec);
		return;
	}
	if (account_refused(a->outcome)) {
		(void)ropc_offline_forget(ctx, s->cache_dir, &k);
		return;
	}
	/* Only in an outage: never after an answer of the IdP. */
	if (a->outcome != ROPC_OUT_UNAVAILABLE || !a->unreachable)
		return;
	switch (ropc_offline_check(ctx, s->cache_dir, &k, password, &r, &rec, &age, why,
				   sizeof(why))) {
	case ROPC_OFFLINE_OK: {
		enum ropc_outcome o = ropc_verify_offline(ctx, rec, idp_user, d, sizeof(d));

		if (o == ROPC_OUT_SUCCESS) {
			snprintf(d, sizeof(d), "offline: the entry is %ld s old; %.400s", age,
				 a->detail);
			decide(a, ROPC_OUT_OFFLINE_SUCCESS, d);
		} else {
			decide(a, o, d);
		}
		break;
	}
	case ROPC_OFFLINE_REFUSED:
		snprintf(d, sizeof(d), "offline: %.250s; %.300s", why, a->detail);
		decide(a, ROPC_OUT_OFFLINE_REFUSED, d);
		break;
	default:
		break;
	}
	if (rec != NULL)
		json_object_put(rec);
}

/* Discovery (with issuer): fills the endpoints in.  0, or -1 decided
 * (the caller remembers an unavailable IdP like the token endpoint's). */
static int
resolve(struct ropc_ctx *ctx, struct attempt *a)
{
	char why[300] = "";
	enum ropc_discovery_rc drc = ropc_discovery_resolve(ctx, why, sizeof(why));

	if (drc == ROPC_DISCOVERY_OK)
		return 0;
	decide(a, drc == ROPC_DISCOVERY_MISCONFIGURED ? ROPC_OUT_MISCONFIGURED : ROPC_OUT_UNAVAILABLE,
	       why);
	a->unreachable = drc == ROPC_DISCOVERY_UNREACHABLE;
	return -1;
}

/*
 * Steps 4 and 5 of a password login: fail fast or ask the IdP (discovery,
 * the token request, the token checks, a second step), and when it is
 * unavailable the offline cache.  Only ctx, the network and cache_dir:
 * no PAM data or item, so pam_ropc_helper runs it too.  code: the one-time
 * code asked for beside the password, or NULL.
 */
static void
ask(struct ropc_ctx *ctx, struct attempt *a, const char *idp_user, const char *password,
    const char *code, struct ropc_verdict *v, struct ropc_identity *id)
{
	bool probing = false;

	if (failing_fast(ctx, a, &probing)) {
		/* decided: unavailable */
	} else if (resolve(ctx, a) < 0) {
		breaker_after(ctx, a, probing);
	} else {
		ask_idp(ctx, a, idp_user, password,
			ctx->settings->otp_param != NULL ? code : NULL, v, id);
		breaker_after(ctx, a, probing);
		if (code != NULL)
			frame_detail(a, ctx->settings->otp_append ? "otp_append: " : "otp_param: ",
				     "");
		/* MFA required after a correct password: a step, not a refusal. */
		if (a->outcome == ROPC_OUT_MFA_REQUIRED && ctx->settings->mfa == ROPC_MFA_OTP &&
		    v->idp.mfa_token[0] != '\0')
			mfa_otp(ctx, a, idp_user, v, id);
		else if (a->outcome == ROPC_OUT_MFA_REQUIRED && ctx->settings->mfa == ROPC_MFA_DEVICE)
			device_login(ctx, a, idp_user, v, id);
	}
	offline_step(ctx, a, idp_user, password, v, id);
}

/* Whether the settings need more of the person than a password: a code or
 * the device flow, which pam_ropc_helper has no conversation for. */
static bool
needs_conversation(const struct ropc_settings *s)
{
	return s->flow == ROPC_FLOW_DEVICE || s->otp_param != NULL || s->otp_append;
}

/* Root and system accounts are never sent to the IdP: true (decided
 * system_account) when pw's uid is below minimum_uid. */
static bool
system_account(struct ropc_ctx *ctx, struct attempt *a, const struct passwd *pw)
{
	char d[96];

	if (pw == NULL || (unsigned long)pw->pw_uid >= ctx->settings->minimum_uid)
		return false;
	snprintf(d, sizeof(d), "local uid %lu is below minimum_uid %lu",
		 (unsigned long)pw->pw_uid, ctx->settings->minimum_uid);
	decide(a, ROPC_OUT_SYSTEM_ACCOUNT, d);
	return true;
}

/* Steps 4 and 5 for a caller that is not root: pam_ropc_helper asks the
 * IdP (or the offline cache) with the settings only root may read, and
 * its exit status is the outcome. */
static void
helper_step(struct ropc_ctx *ctx, struct attempt *a, const char *user, const char *password)
{
	char d[400] = "";
	enum ropc_outcome o = ropc_helper_run(ctx, user, password, d, sizeof(d));

	decide(a, o, d);
}

int
ropc_authenticate(struct ropc_ctx *ctx, int settings_rc, enum ropc_outcome *outcome)
{
	/* Until decided otherwise, a refusal: no path can fall through to
	 * PAM_SUCCESS. */
	struct attempt a = { .outcome = ROPC_OUT_INTERNAL, .code = PAM_AUTH_ERR };
	struct ropc_verdict v;
	const struct passwd *pw = NULL;
	const char *user = NULL, *password = NULL, *why, *refused_user = NULL;
	char *user_copy = NULL, *typed = NULL, *key = NULL, *mark_user = NULL, *akey = NULL;
	char *idp_user = NULL, *code = NULL, *joined = NULL;
	struct ropc_identity id = { NULL, NULL };
	char refusal[sizeof(ROPC_DATA_REFUSAL) + (size_t)2 * EVP_MAX_MD_SIZE + 2];
	int rc, remembered;
	bool probing = false, via_helper = false;

	memset(&v, 0, sizeof(v));
	clock_gettime(CLOCK_MONOTONIC, &a.start);
	/* Step 0: nothing an earlier attempt in this handle left counts. */
	clean_handle(ctx);
	if (pam_get_item(ctx->pamh, PAM_USER, (const void **)&user) == PAM_SUCCESS)
		ctx->user = user;

	if (settings_rc == PAM_BUF_ERR) {
		decide(&a, ROPC_OUT_INTERNAL, "out of memory reading the settings");
		a.code = PAM_BUF_ERR;
		goto done;
	}
	if (settings_rc == PAM_AUTHINFO_UNAVAIL && !ctx->settings->use_helper) {
		decide(&a, ROPC_OUT_UNAVAILABLE,
		       "the settings cannot be read by this unprivileged caller");
		goto done;
	}
	/* Not root, and the helper reads what this caller may not: the
	 * local steps (who, the password) run here, the rest there. */
	via_helper = settings_rc == PAM_AUTHINFO_UNAVAIL;
	if (via_helper && needs_conversation(ctx->settings)) {
		decide(&a, ROPC_OUT_UNAVAILABLE, "not root, and the settings ask for a code or the "
		       "device flow, which pam_ropc_helper cannot do");
		goto done;
	}
	if (settings_rc != PAM_SUCCESS && !via_helper) {
		decide(&a, ROPC_OUT_MISCONFIGURED,
		       "settings refused; see the config: lines before this one");
		goto done;
	}

	/* Step 2: who. */
	rc = pam_get_user(ctx->pamh, &user, NULL);
	if (rc != PAM_SUCCESS) {
		decide(&a, ROPC_OUT_INTERNAL, "pam_get_user failed");
		a.code = rc;
		goto done;
	}
	/* Our own copies: libpam's may change while the conversation runs. */
	user_copy = strdup(user);
	mark_user = strdup(user);
	/* The success mark's key, for the user as account management will
	 * see PAM_USER, under the settings as configured. */
	akey = mark_user != NULL ? success_key(ctx->settings, mark_user) : NULL;
	if (user_copy == NULL || mark_user == NULL || akey == NULL) {
		decide(&a, ROPC_OUT_INTERNAL, "out of memory");
		a.code = PAM_BUF_ERR;
		goto done;
	}
	ctx->user = user = user_copy;
	refused_user = ropc_user_check(user);
	if (refused_user == NULL)
		pw = pam_modutil_getpwnam(ctx->pamh, user);
	/* Root and system accounts are never sent to the IdP: whoever owns an
	 * IdP account of that name must not become them.  No prompt: the
	 * modules after this one (pam_unix) handle them. */
	if (system_account(ctx, &a, pw))
		goto done;
	if (refused_user == NULL && ctx->settings->require_local_user) {
		if (pw == NULL) {
			refused_user = "no local account (require_local_user)";
		} else if (strcmp(pw->pw_name, user) != 0) {
			/* A case-insensitive NSS source (SSSD, winbind) found the
			 * account under another spelling: the IdP is asked about
			 * the local account's own name, never what was typed. */
			typed = user_copy;
			user_copy = strdup(pw->pw_name);
			if (user_copy == NULL) {
				decide(&a, ROPC_OUT_INTERNAL, "out of memory");
				a.code = PAM_BUF_ERR;
				goto done;
			}
			ctx->user = user = user_copy;
		}
	}
	a.typed = typed;
	if (refused_user == NULL) {
		key = mark_key(ctx->settings, user);
		if (key == NULL || refusal_name(key, refusal, sizeof(refusal)) < 0) {
			decide(&a, ROPC_OUT_INTERNAL, "out of memory");
			a.code = PAM_BUF_ERR;
			goto done;
		}
		/* The IdP already refused this account in this transaction.
		 * "MFA required" counts only where it is a refusal (mfa = deny);
		 * a line with a second factor takes it as a step. */
		remembered = remembered_refusal(ctx, refusal, key);
		if (remembered == ROPC_OUT_MFA_REQUIRED &&
		    (ctx->settings->mfa != ROPC_MFA_DENY || ctx->settings->flow == ROPC_FLOW_DEVICE))
			remembered = -1;
		if (remembered >= 0) {
			decide(&a, (enum ropc_outcome)remembered,
			       "refused earlier in this PAM transaction; the IdP is not asked again");
			tell(ctx, a.outcome);
			goto done;
		}
		idp_user = ropc_user_map(ctx->settings->username_format, user);
		if (idp_user == NULL) {
			decide(&a, ROPC_OUT_INTERNAL, "out of memory");
			a.code = PAM_BUF_ERR;
			goto done;
		}
	}
	if (ctx->settings->flow == ROPC_FLOW_DEVICE) {
		/* Passwordless: the device flow alone. */
		if (refused_user != NULL) {
			/* The same instructions (the device authorization request
			 * names nobody), then the refusal: the prompts must not
			 * tell which local accounts exist. */
			struct ropc_device_stats st;
			char detail[500];

			if (resolve(ctx, &a) == 0)
				(void)ropc_device_login(ctx, &v, &st, true, detail, sizeof(detail));
			decide(&a, ROPC_OUT_UNKNOWN_USER, refused_user);
			a.code = ropc_outcome_info(ROPC_OUT_UNKNOWN_USER)->pam_code;
			goto done;
		}
		clock_gettime(CLOCK_MONOTONIC, &a.start);
		if (failing_fast(ctx, &a, &probing)) {
			goto asked;
		} else if (resolve(ctx, &a) < 0) {
			breaker_after(ctx, &a, probing);
			goto asked;
		}
		device_login(ctx, &a, idp_user, &v, &id);
		breaker_after(ctx, &a, probing);
		goto asked;
	}

	/* Step 3: the password.  Asked for even when the user is refused, so
	 * that the prompts do not tell which local accounts exist. */
	rc = get_password(ctx, &password);
	if (refused_user != NULL) {
		/* The code too, when one is always asked: the prompts must not
		 * tell which local accounts exist. */
		if (rc == PAM_SUCCESS &&
		    (ctx->settings->otp_param != NULL || ctx->settings->otp_append))
			code = ask_code(ctx, &a);
		decide(&a, ROPC_OUT_UNKNOWN_USER, refused_user);
		a.code = ropc_outcome_info(ROPC_OUT_UNKNOWN_USER)->pam_code;
		goto done;
	}
	if (rc == PAM_AUTHTOK_RECOVERY_ERR) {
		decide(&a, ROPC_OUT_REJECTED_INPUT,
		       "use_first_pass: no password from an earlier module");
		goto done;
	}
	if (rc != PAM_SUCCESS) {
		decide(&a, ROPC_OUT_REJECTED_INPUT, "no password was entered");
		a.code = rc;
		goto done;
	}
	why = ropc_password_check(password);
	if (why != NULL) {
		decide(&a, ROPC_OUT_REJECTED_INPUT, why);
		goto done;
	}
	/* A code asked for every time, beside the password (otp_param) or
	 * glued to it (otp_append): the IdP's answer cannot tell us when. */
	if (ctx->settings->otp_param != NULL || ctx->settings->otp_append) {
		code = ask_code(ctx, &a);
		if (code == NULL)
			goto done;
	}
	if (ctx->settings->otp_append) {
		const char *sep = ctx->settings->otp_separator != NULL ?
				  ctx->settings->otp_separator : "";
		size_t n = strlen(password) + strlen(sep) + strlen(code) + 1;

		if (n > PAM_MAX_RESP_SIZE) {
			decide(&a, ROPC_OUT_REJECTED_INPUT,
			       "otp_append: password and code are PAM_MAX_RESP_SIZE bytes or more");
			goto done;
		}
		joined = malloc(n);
		if (joined == NULL) {
			decide(&a, ROPC_OUT_INTERNAL, "out of memory");
			a.code = PAM_BUF_ERR;
			goto done;
		}
		snprintf(joined, n, "%s%s%s", password, sep, code);
		password = joined;
	}

	/* Steps 4 and 5: ask, classify.  elapsed_ms is the IdP's time, not
	 * the person's typing. */
	clock_gettime(CLOCK_MONOTONIC, &a.start);
	if (via_helper) {
		/* The helper checks only its caller's own password: another
		 * account is not asked about at all (a fallback stack goes on). */
		if (pw == NULL || pw->pw_uid != getuid())
			decide(&a, ROPC_OUT_UNAVAILABLE, "not root, and not the caller's own account: "
			       "pam_ropc_helper checks only its caller's password");
		else
			helper_step(ctx, &a, user, password);
		goto asked;
	}
	ask(ctx, &a, idp_user, password, code, &v, &id);
asked:
	tell(ctx, a.outcome);
	if (account_level(a.outcome) &&
	    !(a.outcome == ROPC_OUT_MFA_REQUIRED && ctx->settings->mfa != ROPC_MFA_DENY))
		(void)set_mark(ctx, refusal, key, a.outcome);

	/* Step 6: hand the tokens and the verified identity to the session;
	 * after an offline login, no token, and OFFLINE=1. */
	if (a.outcome == ROPC_OUT_OFFLINE_SUCCESS) {
		rc = akey != NULL ? PAM_SUCCESS : PAM_BUF_ERR;
		if (rc == PAM_SUCCESS && ctx->settings->export_token)
			rc = remember_prefix(ctx);
		if (rc == PAM_SUCCESS)
			rc = ropc_env_export_offline(ctx);
		if (rc == PAM_SUCCESS)
			rc = set_mark(ctx, ROPC_DATA_USER, akey, ROPC_OUT_OFFLINE_SUCCESS);
		if (rc != PAM_SUCCESS) {
			ropc_env_clear(ctx, ctx->settings->env_prefix);
			(void)pam_set_data(ctx->pamh, ROPC_DATA_USER, NULL, NULL);
			decide(&a, ROPC_OUT_INTERNAL, "cannot store the offline login in the handle");
			a.code = rc;
		}
	}
	if (a.outcome == ROPC_OUT_SUCCESS && via_helper) {
		/* The helper exports no token: only the mark. */
		rc = set_mark(ctx, ROPC_DATA_USER, akey, ROPC_OUT_SUCCESS);
		if (rc != PAM_SUCCESS) {
			decide(&a, ROPC_OUT_INTERNAL, "cannot store the login in the handle");
			a.code = rc;
		}
	} else if (a.outcome == ROPC_OUT_SUCCESS) {
		rc = akey != NULL ? PAM_SUCCESS : PAM_BUF_ERR;
		if (rc == PAM_SUCCESS && ctx->settings->export_token)
			rc = remember_prefix(ctx);
		if (rc == PAM_SUCCESS)
			rc = ropc_env_export(ctx, &v.tokens, time(NULL));
		if (rc == PAM_SUCCESS)
			rc = ropc_env_export_identity(ctx, id.sub, id.claims);
		if (rc == PAM_SUCCESS)
			rc = set_mark(ctx, ROPC_DATA_USER, akey, ROPC_OUT_SUCCESS);
		if (rc != PAM_SUCCESS) {
			ropc_env_clear(ctx, ctx->settings->env_prefix);
			(void)pam_set_data(ctx->pamh, ROPC_DATA_USER, NULL, NULL);
			decide(&a, ROPC_OUT_INTERNAL, "cannot store the tokens in the PAM environment");
			a.code = rc;
		}
	}
done:
	log_attempt(ctx, &a);
	if (outcome != NULL)
		*outcome = a.outcome;
	/* Step 7: every token copy goes. */
	ropc_verdict_free(&v);
	ropc_identity_free(&id);
	free(akey);
	free(idp_user);
	ropc_free_secret(code);
	ropc_free_secret(joined);
	ctx->user = NULL;
	free(user_copy);
	free(typed);
	free(mark_user);
	free(key);
	return a.code;
}

enum ropc_outcome
ropc_authenticate_helper(struct ropc_ctx *ctx, int settings_rc, const char *user,
			 const char *password)
{
	struct attempt a = { .outcome = ROPC_OUT_INTERNAL, .code = PAM_AUTH_ERR };
	const struct ropc_settings *s = ctx->settings;
	struct ropc_identity id = { NULL, NULL };
	struct ropc_verdict v;
	const struct passwd *pw = NULL;
	char *name = NULL, *idp_user = NULL;
	const char *why;

	memset(&v, 0, sizeof(v));
	clock_gettime(CLOCK_MONOTONIC, &a.start);
	ctx->user = user;
	if (settings_rc == PAM_BUF_ERR || s == NULL) {
		decide(&a, ROPC_OUT_INTERNAL, "out of memory reading the settings");
	} else if (settings_rc != PAM_SUCCESS) {
		decide(&a, ROPC_OUT_MISCONFIGURED,
		       "settings refused; see the config: lines before this one");
	} else if (needs_conversation(s)) {
		decide(&a, ROPC_OUT_UNAVAILABLE,
		       "the settings ask for a code or the device flow, which need a conversation "
		       "that pam_ropc_helper does not have");
	} else if ((why = ropc_user_check(user)) != NULL) {
		decide(&a, ROPC_OUT_UNKNOWN_USER, why);
	} else if ((pw = getpwnam(user)) == NULL) {
		decide(&a, ROPC_OUT_UNKNOWN_USER, "no local account");
	} else if (system_account(ctx, &a, pw)) {
		/* decided */
	} else if ((why = ropc_password_check(password)) != NULL) {
		decide(&a, ROPC_OUT_REJECTED_INPUT, why);
	} else if ((name = strdup(pw->pw_name)) == NULL ||
		   (idp_user = ropc_user_map(s->username_format, name)) == NULL) {
		decide(&a, ROPC_OUT_INTERNAL, "out of memory");
	} else {
		/* The local account's own name, as step 2 of the module. */
		ctx->user = name;
		ask(ctx, &a, idp_user, password, NULL, &v, &id);
	}
	log_attempt(ctx, &a);
	ropc_verdict_free(&v);
	ropc_identity_free(&id);
	ctx->user = NULL;
	free(idp_user);
	free(name);
	return a.outcome;
}

/*
 * Account management vouches only for what this module did in this
 * handle: its own mark, for the same PAM_USER under the same settings.
 * There is no second way in through the PAM environment: sshd's
 * keyboard-interactive child (auth-pam.c, sshpam_thread) runs
 * pam_authenticate and then do_pam_account() itself, in the process and
 * handle where the mark is, and hands the account status to the parent
 * with the result, where do_pam_account() returns it without calling
 * pam_acct_mgmt again (sshpam_account_status is no longer -1).
 */
int
ropc_account(struct ropc_ctx *ctx, int settings_rc)
{
	const char *user = NULL;
	char *key;
	bool mine;

	if (settings_rc == PAM_AUTHINFO_UNAVAIL && !ctx->settings->use_helper) {
		ropc_debug(ctx, "account: settings unreadable by this caller; ignoring");
		return PAM_IGNORE;
	}
	/* With the helper, the mark of a login through it (under the pam.d
	 * arguments, the settings this caller has) counts as any other. */
	if (settings_rc != PAM_SUCCESS && settings_rc != PAM_AUTHINFO_UNAVAIL) {
		ropc_log(ctx, LOG_ERR, "account: settings refused; failing closed");
		return settings_rc == PAM_BUF_ERR ? PAM_BUF_ERR : PAM_SERVICE_ERR;
	}
	if (pam_get_item(ctx->pamh, PAM_USER, (const void **)&user) != PAM_SUCCESS ||
	    user == NULL)
		return PAM_IGNORE;
	key = success_key(ctx->settings, user);
	if (key == NULL)
		return PAM_BUF_ERR;
	mine = get_mark(ctx, ROPC_DATA_USER, key) != NULL;
	free(key);
	if (mine) {
		ropc_debug(ctx, "account: authenticated by this module in this transaction");
		return PAM_SUCCESS;
	}
	ropc_debug(ctx, "account: not authenticated by this module; ignoring");
	return PAM_IGNORE;
}

int
ropc_chauthtok(struct ropc_ctx *ctx)
{
	if (!(ctx->flags & PAM_UPDATE_AUTHTOK)) {
		if (!(ctx->flags & PAM_SILENT))
			pam_error(ctx->pamh,
				  "passwords are changed at the identity provider, not here");
		ropc_log(ctx, LOG_NOTICE,
			 "password: change refused; passwords are changed at the identity provider");
	}
	return PAM_AUTHTOK_ERR;
}
