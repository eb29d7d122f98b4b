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
#include <security/pam_ext.h>
#include <security/pam_modutil.h>

#include "classify.h"
#include "env.h"
#include "form.h"
#include "http.h"
#include "logging.h"
#include "options.h"
#include "user.h"

/* Everything one authentication produces, for its log line. */
struct attempt {
	struct timespec start;
	enum ropc_outcome outcome;
	int code;               /* the PAM code returned */
	long http;
	char detail[600];       /* a verdict's detail and libcurl's error */
	const struct ropc_idp_error *idp;
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
 * The password: PAM_AUTHTOK when an earlier module set it (what
 * try_first_pass asks for, and the default), else, unless use_first_pass
 * forbids it, one echo-off prompt whose answer becomes PAM_AUTHTOK for the
 * modules after this one.  Returns PAM_SUCCESS with *password (libpam's
 * copy), PAM_AUTHTOK_RECOVERY_ERR when use_first_pass found none, or the
 * code of the failing conversation.  Not pam_get_authtok: it reads
 * use_first_pass from argv by prefix, so use_first_pass=no would count.
 */
static int
get_password(struct ropc_ctx *ctx, const char **password)
{
	const void *item = NULL;
	char *resp = NULL;
	int rc;

	*password = NULL;
	rc = pam_get_item(ctx->pamh, PAM_AUTHTOK, &item);
	if (rc == PAM_SUCCESS && item != NULL) {
		*password = item;
		return PAM_SUCCESS;
	}
	if (ctx->settings->use_first_pass)
		return PAM_AUTHTOK_RECOVERY_ERR;
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
 * What the module leaves in the PAM handle about one user: that it
 * authenticated them (ROPC_DATA_USER), or that the IdP refused their
 * account (ROPC_DATA_REFUSAL).  A mark names the user and the token
 * endpoint, so two pam_ropc lines with different IdPs do not read each
 * other's marks.
 */
struct mark {
	enum ropc_outcome outcome;
	struct timespec when;           /* CLOCK_MONOTONIC */
	size_t user_len;
	char names[];                   /* user, NUL, token endpoint, NUL */
};

static void
free_mark(pam_handle_t *pamh, void *data, int status)
{
	(void)pamh;
	(void)status;
	free(data);
}

/* Leave a mark for ctx->user (best effort: a failure only costs memory). */
static int
set_mark(struct ropc_ctx *ctx, const char *name, enum ropc_outcome o)
{
	size_t ulen = strlen(ctx->user), elen = strlen(ctx->settings->token_endpoint);
	struct mark *m = malloc(sizeof(*m) + ulen + elen + 2);

	if (m == NULL)
		return PAM_BUF_ERR;
	m->outcome = o;
	clock_gettime(CLOCK_MONOTONIC, &m->when);
	m->user_len = ulen;
	memcpy(m->names, ctx->user, ulen + 1);
	memcpy(m->names + ulen + 1, ctx->settings->token_endpoint, elen + 1);
	if (pam_set_data(ctx->pamh, name, m, free_mark) != PAM_SUCCESS) {
		free(m);
		return PAM_BUF_ERR;
	}
	return PAM_SUCCESS;
}

/* The mark called name for user at this token endpoint, or NULL. */
static const struct mark *
get_mark(struct ropc_ctx *ctx, const char *name, const char *user)
{
	const void *data = NULL;
	const struct mark *m;

	if (user == NULL ||
	    pam_get_data(ctx->pamh, name, &data) != PAM_SUCCESS || data == NULL)
		return NULL;
	m = data;
	if (strcmp(m->names, user) != 0 ||
	    strcmp(m->names + m->user_len + 1, ctx->settings->token_endpoint) != 0)
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

/* The refusal remembered for this user, if it is younger than
 * ROPC_REFUSAL_MEMORY seconds (a screen locker keeps one transaction for
 * hours: an IdP that was down must be asked again), or -1. */
static int
remembered_refusal(struct ropc_ctx *ctx)
{
	const struct mark *m = get_mark(ctx, ROPC_DATA_REFUSAL, ctx->user);
	struct timespec now;

	if (m == NULL)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - m->when.tv_sec >= ROPC_REFUSAL_MEMORY)
		return -1;
	return (int)m->outcome;
}

/* Ask the IdP and classify its answer: decides a, fills v. */
static void
ask_idp(struct ropc_ctx *ctx, struct attempt *a, const char *password,
	struct ropc_verdict *v)
{
	const struct ropc_settings *s = ctx->settings;
	struct ropc_http_result res;
	struct ropc_buf body;
	char *idp_user;

	idp_user = ropc_user_map(s->username_format, ctx->user);
	if (idp_user == NULL) {
		decide(a, ROPC_OUT_INTERNAL, "out of memory");
		return;
	}
	ropc_buf_init(&body, ROPC_MAX_BODY);
	ropc_http_result_init(&res);
	if (ropc_form_build(s, idp_user, password, &body) < 0) {
		decide(a, ROPC_OUT_INTERNAL, "cannot build the request body");
		goto out;
	}
	ropc_debug(ctx, "auth: asking %s for %s", s->token_endpoint, idp_user);
	if (ropc_http_post(ctx, &body, &res) < 0) {
		decide(a, ROPC_OUT_INTERNAL, res.error);
		goto out;
	}
	ropc_buf_free(&body);
	a->http = res.status;
	ropc_classify(s, &res, v);
	a->idp = &v->idp;
	decide(a, v->outcome, v->detail);
	if (res.net != ROPC_NET_OK && res.error[0] != '\0')
		snprintf(a->detail, sizeof(a->detail), "%s: %s", v->detail, res.error);
out:
	ropc_buf_free(&body);
	ropc_http_result_free(&res);
	free(idp_user);
}

int
ropc_authenticate(struct ropc_ctx *ctx, int settings_rc)
{
	/* Until decided otherwise, a refusal: no path can fall through to
	 * PAM_SUCCESS. */
	struct attempt a = { .outcome = ROPC_OUT_INTERNAL, .code = PAM_AUTH_ERR };
	struct ropc_verdict v;
	const char *user = NULL, *password = NULL, *why, *refused_user;
	char *user_copy = NULL;
	int rc, remembered;

	memset(&v, 0, sizeof(v));
	clock_gettime(CLOCK_MONOTONIC, &a.start);
	if (pam_get_item(ctx->pamh, PAM_USER, (const void **)&user) == PAM_SUCCESS)
		ctx->user = user;

	if (settings_rc == PAM_BUF_ERR) {
		decide(&a, ROPC_OUT_INTERNAL, "out of memory reading the settings");
		a.code = PAM_BUF_ERR;
		goto done;
	}
	if (settings_rc != PAM_SUCCESS) {
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
	/* Our own copy: libpam's may change while the conversation runs. */
	user_copy = strdup(user);
	if (user_copy == NULL) {
		decide(&a, ROPC_OUT_INTERNAL, "out of memory");
		a.code = PAM_BUF_ERR;
		goto done;
	}
	ctx->user = user = user_copy;
	/* No token of an earlier attempt in this handle survives this one. */
	ropc_env_clear(ctx);
	/* The IdP already refused this account in this transaction. */
	remembered = remembered_refusal(ctx);
	if (remembered >= 0) {
		decide(&a, (enum ropc_outcome)remembered,
		       "refused earlier in this PAM transaction; the IdP is not asked again");
		tell(ctx, a.outcome);
		goto done;
	}
	refused_user = ropc_user_check(user);
	if (refused_user == NULL && ctx->settings->require_local_user &&
	    pam_modutil_getpwnam(ctx->pamh, user) == NULL)
		refused_user = "no local account (require_local_user)";

	/* Step 3: the password.  Asked for even when the user is refused, so
	 * that the prompts do not tell which local accounts exist. */
	rc = get_password(ctx, &password);
	if (refused_user != NULL) {
		decide(&a, ROPC_OUT_UNKNOWN_USER, refused_user);
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

	/* Steps 4 and 5: ask, classify.  elapsed_ms is the IdP's time, not
	 * the person's typing. */
	clock_gettime(CLOCK_MONOTONIC, &a.start);
	ask_idp(ctx, &a, password, &v);
	tell(ctx, a.outcome);
	if (account_level(a.outcome))
		(void)set_mark(ctx, ROPC_DATA_REFUSAL, a.outcome);

	/* Step 6: hand the tokens to the session. */
	if (a.outcome == ROPC_OUT_SUCCESS) {
		rc = ropc_env_export(ctx, &v.tokens, time(NULL));
		if (rc == PAM_SUCCESS)
			rc = set_mark(ctx, ROPC_DATA_USER, ROPC_OUT_SUCCESS);
		if (rc != PAM_SUCCESS) {
			ropc_env_clear(ctx);
			decide(&a, ROPC_OUT_INTERNAL, "cannot store the tokens in the PAM environment");
			a.code = rc;
		}
	}
done:
	log_attempt(ctx, &a);
	/* Step 7: every token copy goes. */
	ropc_verdict_free(&v);
	ctx->user = NULL;
	free(user_copy);
	return a.code;
}

int
ropc_account(struct ropc_ctx *ctx, int settings_rc)
{
	const char *user = NULL, *token, *owner;
	char var[128], uvar[128];

	if (settings_rc != PAM_SUCCESS) {
		ropc_log(ctx, LOG_ERR, "account: settings refused; failing closed");
		return settings_rc == PAM_BUF_ERR ? PAM_BUF_ERR : PAM_SERVICE_ERR;
	}
	if (pam_get_item(ctx->pamh, PAM_USER, (const void **)&user) != PAM_SUCCESS ||
	    user == NULL)
		return PAM_IGNORE;
	if (get_mark(ctx, ROPC_DATA_USER, user) != NULL) {
		ropc_debug(ctx, "account: authenticated by this module in this transaction");
		return PAM_SUCCESS;
	}
	/* sshd may authenticate in a child process; only the PAM environment
	 * comes back from it.  The token counts only for the user it was
	 * issued to (the USER variable the module sets beside it). */
	if (ropc_env_name(ctx->settings->env_prefix, ROPC_ENV_ACCESS_TOKEN, var,
			  sizeof(var)) == 0 &&
	    ropc_env_name(ctx->settings->env_prefix, ROPC_ENV_USER, uvar, sizeof(uvar)) == 0 &&
	    (token = pam_getenv(ctx->pamh, var)) != NULL && token[0] != '\0' &&
	    (owner = pam_getenv(ctx->pamh, uvar)) != NULL && strcmp(owner, user) == 0) {
		ropc_debug(ctx, "account: %s is set in the PAM environment for %s", var, uvar);
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
