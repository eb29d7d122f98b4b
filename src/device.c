/*
 * device.c: the device authorization grant (see device.h).  Every wait
 * is bounded: the person's prompt by the application, each request by
 * timeout, and the whole flow by device_timeout, counted from the device
 * authorization request and never past the IdP's expires_in.
 */
#include "device.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <json-c/json.h>
#include <security/pam_ext.h>

#include "form.h"
#include "http.h"
#include "logging.h"
#include "options.h"
#include "qr.h"
#include "response.h"

#define DEFAULT_INTERVAL 5      /* RFC 8628 §3.2: when the IdP gives none */
#define SLOW_DOWN_STEP 5        /* §3.5 */
#define MAX_INTERVAL 60

/* What the device authorization endpoint said. */
struct grant {
	char device_code[1024];         /* a secret */
	char user_code[64];
	char uri[1024];
	char uri_complete[1024];
	long expires_in;
	long interval;
};

static long
ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)((now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000);
}

/* Sleep ms milliseconds (through signals). */
static void
sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (ms > 0 && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* A string member into out; false when absent, not a string, empty, too
 * long or holding a byte outside printable ASCII. */
static bool
text_member(struct json_object *o, const char *name, char *out, size_t outsize)
{
	struct json_object *v;
	const char *p;
	size_t n;

	out[0] = '\0';
	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string))
		return false;
	n = (size_t)json_object_get_string_len(v);
	p = json_object_get_string(v);
	if (n == 0 || n >= outsize || strlen(p) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x21 || (unsigned char)p[i] > 0x7e)
			return false;
	memcpy(out, p, n + 1);
	return true;
}

static long
int_member(struct json_object *o, const char *name, long dflt, long lo, long hi)
{
	struct json_object *v;
	long long n;

	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_int))
		return dflt;
	n = (long long)json_object_get_int64(v);
	return n < lo ? lo : n > hi ? hi : (long)n;
}

/* RFC 8628 §3.1-3.2: ask for a device code. */
static enum ropc_outcome
authorize(struct ropc_ctx *ctx, struct grant *g, long *http, char *detail, size_t n)
{
	const struct ropc_settings *s = ctx->settings;
	struct ropc_http_request rq = { .url = s->device_authorization_endpoint,
					.what = "device authorization",
					.timeout_ms = s->device_timeout * 1000L };
	struct ropc_http_result res;
	struct ropc_buf body;
	struct json_object *o = NULL;
	enum ropc_outcome out = ROPC_OUT_UNAVAILABLE;
	char why[160];

	ropc_buf_init(&body, ROPC_MAX_BODY);
	ropc_http_result_init(&res);
	if ((s->scope != NULL && s->scope[0] != '\0' && ropc_form_add(&body, "scope", s->scope) < 0) ||
	    ropc_form_client(s, &body) < 0) {
		snprintf(detail, n, "device: out of memory");
		out = ROPC_OUT_INTERNAL;
		goto done;
	}
	if (s->client_auth == ROPC_CLIENT_AUTH_BASIC) {
		rq.basic_id = s->client_id;
		rq.basic_secret = s->client_secret;
	}
	rq.body = &body;
	if (ropc_http_request(ctx, &rq, &res) < 0) {
		snprintf(detail, n, "device: %s", res.error);
		out = ROPC_OUT_INTERNAL;
		goto done;
	}
	*http = res.status;
	if (res.net != ROPC_NET_OK || res.status >= 500 || res.status == 429 ||
	    (res.status >= 300 && res.status < 400)) {
		snprintf(detail, n, "device authorization: %s",
			 res.net != ROPC_NET_OK ? (res.error[0] != '\0' ? res.error : "no answer")
						: "the endpoint failed");
		goto done;
	}
	if (res.status != 200) {
		/* The IdP refuses our client the device grant: the admin's. */
		snprintf(detail, n, "device authorization: HTTP %ld (is the device grant enabled "
			 "for this client?)", res.status);
		out = ROPC_OUT_MISCONFIGURED;
		goto done;
	}
	o = ropc_json_object_parse(res.body.data != NULL ? res.body.data : "", res.body.len, why,
				   sizeof(why));
	if (o == NULL || !text_member(o, "device_code", g->device_code, sizeof(g->device_code)) ||
	    !text_member(o, "user_code", g->user_code, sizeof(g->user_code)) ||
	    !(text_member(o, "verification_uri", g->uri, sizeof(g->uri)) ||
	      text_member(o, "verification_url", g->uri, sizeof(g->uri)))) {
		snprintf(detail, n, "device authorization: not a device authorization answer%s%s",
			 o == NULL ? ": " : "", o == NULL ? why : "");
		goto done;
	}
	(void)text_member(o, "verification_uri_complete", g->uri_complete, sizeof(g->uri_complete));
	g->expires_in = int_member(o, "expires_in", 600, 1, 3600);
	g->interval = int_member(o, "interval", DEFAULT_INTERVAL, 1, MAX_INTERVAL);
	out = ROPC_OUT_SUCCESS;
done:
	if (o != NULL)
		ropc_json_object_done(o);
	ropc_buf_free(&body);
	ropc_http_result_free(&res);
	return out;
}

/* Show the person what to do, as the text of one echo-off prompt: sshd
 * before OpenSSH 10.3 shows PAM_TEXT_INFO only with the next prompt, and
 * sudo passes PAM_SILENT.  Returns a PAM code. */
static int
instruct(struct ropc_ctx *ctx, const struct grant *g)
{
	struct ropc_buf text, qr;
	char *resp = NULL;
	int rc;

	ropc_buf_init(&text, (size_t)64 * 1024);
	ropc_buf_init(&qr, (size_t)48 * 1024);
	rc = ropc_buf_append_str(&text, "To log in, open ") < 0 ||
	     ropc_buf_append_str(&text, g->uri) < 0 ||
	     ropc_buf_append_str(&text, " and enter the code ") < 0 ||
	     ropc_buf_append_str(&text, g->user_code) < 0 ||
	     ropc_buf_append_str(&text, "\n") < 0 ? -1 : 0;
	if (rc == 0 && ctx->settings->device_qr && g->uri_complete[0] != '\0') {
		if (ropc_qr_render(g->uri_complete, &qr) == 0 && qr.data != NULL)
			rc = ropc_buf_append_str(&text, "or scan this code:\n") < 0 ||
			     ropc_buf_append_str(&text, qr.data) < 0 ? -1 : 0;
		else
			ropc_debug(ctx, "device: no QR code (the URI did not fit)");
	}
	if (rc == 0)
		rc = ropc_buf_append_str(&text, "Press Enter after approving: ");
	ropc_buf_free(&qr);
	if (rc < 0) {
		ropc_buf_free(&text);
		return PAM_BUF_ERR;
	}
	rc = pam_prompt(ctx->pamh, PAM_PROMPT_ECHO_OFF, &resp, "%s", text.data);
	ropc_free_secret(resp);
	ropc_buf_free(&text);
	return rc;
}

/* One poll of the token endpoint (§3.4), bounded by left milliseconds
 * (the flow's deadline), not only by timeout.  Fills *res. */
static int
poll_once(struct ropc_ctx *ctx, const struct grant *g, long left, struct ropc_http_result *res)
{
	const struct ropc_settings *s = ctx->settings;
	struct ropc_http_request rq = { .url = s->token_endpoint, .what = "device poll",
					.timeout_ms = left > 0 ? left : 1 };
	struct ropc_buf body;
	int rc;

	ropc_buf_init(&body, ROPC_MAX_BODY);
	if (ropc_form_add(&body, "grant_type", ROPC_DEVICE_GRANT) < 0 ||
	    ropc_form_add(&body, "device_code", g->device_code) < 0 ||
	    ropc_form_client(s, &body) < 0) {
		ropc_buf_free(&body);
		snprintf(res->error, sizeof(res->error), "out of memory");
		return -1;
	}
	if (s->client_auth == ROPC_CLIENT_AUTH_BASIC) {
		rq.basic_id = s->client_id;
		rq.basic_secret = s->client_secret;
	}
	rq.body = &body;
	rc = ropc_http_request(ctx, &rq, res);
	ropc_buf_free(&body);
	return rc;
}

enum ropc_outcome
ropc_device_login(struct ropc_ctx *ctx, struct ropc_verdict *v, struct ropc_device_stats *st,
		  bool show_only, char *detail, size_t n)
{
	const struct ropc_settings *s = ctx->settings;
	struct timespec t0;
	struct grant g;
	enum ropc_outcome out;
	long deadline_ms, interval_ms;

	memset(&g, 0, sizeof(g));
	memset(st, 0, sizeof(*st));
	memset(v, 0, sizeof(*v));
	v->tokens.expires_in = -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (s->device_authorization_endpoint == NULL) {
		snprintf(detail, n, "device: no device_authorization_endpoint");
		return ROPC_OUT_MISCONFIGURED;
	}
	out = authorize(ctx, &g, &st->http, detail, n);
	if (out != ROPC_OUT_SUCCESS)
		goto done;
	deadline_ms = 1000L * (s->device_timeout < g.expires_in ? s->device_timeout
								  : g.expires_in);
	interval_ms = 1000L * g.interval;
	ropc_log(ctx, LOG_INFO, "device: user code issued; waiting for approval (up to %ld s)",
		 deadline_ms / 1000);
	if (instruct(ctx, &g) != PAM_SUCCESS) {
		snprintf(detail, n, "device: the prompt was not answered");
		out = ROPC_OUT_MFA_FAILED;
		goto done;
	}
	if (show_only) {
		snprintf(detail, n, "device: instructions shown, not polled");
		out = ROPC_OUT_UNKNOWN_USER;
		goto done;
	}
	for (;;) {
		struct ropc_http_result res;
		struct ropc_idp_error e;
		long left = deadline_ms - ms_since(&t0);

		if (left <= 0) {
			snprintf(detail, n, "device: not approved within %ld s (device_timeout)",
				 deadline_ms / 1000);
			out = ROPC_OUT_MFA_FAILED;
			break;
		}
		/* The first poll too waits for the interval: the person may
		 * have pressed Enter before the IdP took the approval. */
		sleep_ms(interval_ms < left ? interval_ms : left);
		ropc_http_result_init(&res);
		if (poll_once(ctx, &g, deadline_ms - ms_since(&t0), &res) < 0) {
			snprintf(detail, n, "device: %s", res.error);
			ropc_http_result_free(&res);
			out = ROPC_OUT_INTERNAL;
			break;
		}
		st->polls++;
		st->http = res.status;
		if (res.net == ROPC_NET_TIMEOUT && ms_since(&t0) >= deadline_ms - 50) {
			/* The request was cut by the flow's own deadline. */
			ropc_http_result_free(&res);
			snprintf(detail, n, "device: not approved within %ld s (device_timeout)",
				 deadline_ms / 1000);
			out = ROPC_OUT_MFA_FAILED;
			break;
		}
		if (res.net == ROPC_NET_OK && res.status >= 400 && res.status < 500) {
			memset(&e, 0, sizeof(e));
			ropc_response_error(res.body.data != NULL ? res.body.data : "", res.body.len, &e);
			ropc_idp_error_wipe(&e);
			if (strcasecmp(e.code, "authorization_pending") == 0) {
				ropc_http_result_free(&res);
				continue;
			}
			if (strcasecmp(e.code, "slow_down") == 0) {
				interval_ms += 1000L * SLOW_DOWN_STEP;
				ropc_http_result_free(&res);
				continue;
			}
			if (strcasecmp(e.code, "access_denied") == 0 ||
			    strcasecmp(e.code, "expired_token") == 0) {
				snprintf(detail, n, "device: %s",
					 (e.code[0] | 0x20) == 'a' ? "the approval was denied (access_denied)"
								   : "the code expired (expired_token)");
				ropc_http_result_free(&res);
				out = ROPC_OUT_MFA_FAILED;
				break;
			}
		}
		/* Anything else is the IdP's last word, read like any answer. */
		ropc_classify(s, &res, v);
		ropc_http_result_free(&res);
		out = v->outcome;
		if (out == ROPC_OUT_INVALID_CREDENTIALS || out == ROPC_OUT_UNRECOGNISED)
			out = ROPC_OUT_MFA_FAILED;
		snprintf(detail, n, "device: %s", v->detail);
		break;
	}
done:
	st->waited_ms = ms_since(&t0);
	ropc_wipe(g.device_code, sizeof(g.device_code));
	return out;
}
