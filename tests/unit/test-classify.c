/*
 * test-classify.c: every recogniser of DESIGN §2 and the classification
 * rules of classify.h, on answers built by hand (no network): the bodies
 * are those the IdPs send (as played by tests/idp/testidp.py).
 */
#include <stdlib.h>
#include <string.h>
#include <security/pam_appl.h>

#include "classify.h"
#include "http.h"
#include "options.h"
#include "outcome.h"
#include "tap.h"

#define IC ROPC_OUT_INVALID_CREDENTIALS
#define NOUSER ROPC_OUT_IDP_UNKNOWN_USER
#define MFA ROPC_OUT_MFA_REQUIRED
#define LOCKED ROPC_OUT_LOCKED
#define SUSP ROPC_OUT_SUSPENDED
#define EXPIRED ROPC_OUT_PASSWORD_EXPIRED
#define DENIED ROPC_OUT_ACCESS_DENIED
#define MISCONF ROPC_OUT_MISCONFIGURED
#define UNAVAIL ROPC_OUT_UNAVAILABLE
#define UNRECOG ROPC_OUT_UNRECOGNISED
#define SUCCESS ROPC_OUT_SUCCESS

/* Classify one answer; the raw answer is freed before returning, so what
 * the verdict holds must be its own copy. */
static void
run(const struct ropc_settings *s, enum ropc_net net, long status, const char *body,
    size_t len, struct ropc_verdict *v)
{
	struct ropc_http_result res;

	ropc_http_result_init(&res);
	res.net = net;
	res.status = status;
	if (body != NULL && len > 0 && ropc_buf_append(&res.body, body, len) < 0)
		tap_diag("could not build a body of %zu bytes", len);
	ropc_classify(s, &res, v);
	ropc_http_result_free(&res);
}

static const char *
oname(enum ropc_outcome o)
{
	return ropc_outcome_info(o)->name;
}

/* Expect outcome want for (net, status, body of len bytes). */
static int
expect_n(const struct ropc_settings *s, enum ropc_net net, long status, const char *body,
	 size_t len, enum ropc_outcome want, const char *what)
{
	struct ropc_verdict v;
	int ok;

	run(s, net, status, body, len, &v);
	ok = CHECK_STR(oname(v.outcome), oname(want), "%s -> %s", what, oname(want));
	if (!ok)
		tap_diag("detail: %s", v.detail);
	/* Only a success may carry tokens, and a success always does. */
	if ((v.outcome == SUCCESS) != (v.tokens.access_token != NULL))
		CHECK(0, "%s: tokens present exactly on success", what);
	ropc_verdict_free(&v);
	return ok;
}

/* expect_n with a NUL-terminated body. */
#define EXPECT_S(s, net, status, body, want, what) \
	expect_n((s), (net), (status), (body), strlen(body), (want), (what))

static int
expect(long status, const char *body, enum ropc_outcome want, const char *what)
{
	return expect_n(NULL, ROPC_NET_OK, status, body, body != NULL ? strlen(body) : 0,
			want, what);
}

/* ---- OneLogin ---------------------------------------------------------- */

static void
test_onelogin(void)
{
	static const struct {
		const char *msg;
		long status_code;       /* legacy status shape */
		const char *type;
		long error_code;        /* {"error","error_description"} shape */
		enum ropc_outcome want;
	} rows[] = {
		{ "Authentication Failed", 401, "Unauthorized", 400, IC },
		{ "Authentication Failed: Invalid user credentials", 401, "Unauthorized", 400, IC },
		{ "MFA is required for this user", 401, "Unauthorized", 400, MFA },
		{ "User is locked. Access is unauthorized", 401, "Unauthorized", 400, LOCKED },
		{ "User is suspended. Access is unauthorized", 401, "Unauthorized", 400, SUSP },
		{ "Password expired", 401, "Unauthorized", 400, EXPIRED },
		{ "Access is unauthorized", 401, "Unauthorized", 401, DENIED },
		{ "Resource not found", 404, "Not Found", 404, MISCONF },
		{ "invalid authorization header value format", 400, "bad request", 400, MISCONF },
		{ "grant_type is incorrect/absent", 400, "bad request", 400, MISCONF },
	};
	char body[512], what[256];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		/* OneLogin's error shape carries invalid_request, which alone
		 * would be "misconfigured": the description must win. */
		snprintf(body, sizeof(body),
			 "{\"error\":\"invalid_request\",\"error_description\":\"%s\"}",
			 rows[i].msg);
		snprintf(what, sizeof(what), "OneLogin \"%s\" error shape, %ld", rows[i].msg,
			 rows[i].error_code);
		expect(rows[i].error_code, body, rows[i].want, what);
		snprintf(body, sizeof(body),
			 "{\"status\":{\"error\":true,\"code\":%ld,\"type\":\"%s\",\"message\":\"%s\"}}",
			 rows[i].status_code, rows[i].type, rows[i].msg);
		snprintf(what, sizeof(what), "OneLogin \"%s\" status shape, %ld", rows[i].msg,
			 rows[i].status_code);
		expect(rows[i].status_code, body, rows[i].want, what);
		snprintf(body, sizeof(body),
			 "{\"statusCode\":%ld,\"name\":\"%s\",\"message\":\"%s\"}",
			 rows[i].status_code, rows[i].type, rows[i].msg);
		snprintf(what, sizeof(what), "OneLogin \"%s\" statusCode/message shape",
			 rows[i].msg);
		expect(rows[i].status_code, body, rows[i].want, what);
	}
	expect(400, "{\"error\":\"unsupported_grant_type\","
		    "\"error_description\":\"unsupported grant type\"}",
	       MISCONF, "OneLogin unsupported_grant_type (error shape)");
	expect(400, "{\"status\":{\"error\":true,\"code\":400,\"type\":\"unsupported_grant_type\","
		    "\"message\":\"unsupported grant type\"}}",
	       MISCONF, "OneLogin unsupported_grant_type (status shape, in type)");
	expect(401, "{\"status\":{\"error\":true,\"code\":401,\"type\":\"Unauthorized\","
		    "\"message\":\"authentication failed\"}}",
	       IC, "OneLogin message matched ignoring case");
	/* OneLogin API v1: HTTP 200 with status.message "MFA is required". */
	expect(200, "{\"status\":{\"type\":\"success\",\"message\":\"MFA is required for this user\","
		    "\"code\":200,\"error\":false},\"data\":[{\"state_token\":\"abc\"}]}",
	       MFA, "OneLogin v1 200 with MFA is required");

	/* The verdict keeps what the IdP said, for the log. */
	{
		struct ropc_verdict v;
		const char *b = "{\"status\":{\"error\":true,\"code\":401,\"type\":\"Unauthorized\","
				"\"message\":\"User is locked. Access is unauthorized\"}}";

		run(NULL, ROPC_NET_OK, 401, b, strlen(b), &v);
		CHECK_STR(v.idp.code, "Unauthorized", "status.type kept as the IdP's code");
		CHECK_STR(v.idp.description, "User is locked. Access is unauthorized",
			  "status.message kept as the IdP's description");
		CHECK(v.idp.json, "body noted as JSON");
		CHECK_CONTAINS(v.detail, "User is locked", "detail names the recogniser");
		ropc_verdict_free(&v);
	}
}

/* ---- Keycloak, Okta, generic RFC 6749 ----------------------------------- */

static void
test_keycloak_okta(void)
{
	expect(401, "{\"error\":\"invalid_grant\",\"error_description\":\"Invalid user credentials\"}",
	       IC, "Keycloak invalid_grant Invalid user credentials");
	expect(400, "{\"error\":\"invalid_grant\",\"error_description\":\"Account disabled\"}",
	       SUSP, "Keycloak Account disabled");
	expect(400, "{\"error\":\"invalid_grant\",\"error_description\":\"Account temporarily disabled\"}",
	       LOCKED, "Keycloak Account temporarily disabled (brute force)");
	expect(400, "{\"error\":\"invalid_grant\",\"error_description\":\"Account is not fully set up\"}",
	       DENIED, "Keycloak Account is not fully set up");
	expect(401, "{\"error\":\"unauthorized_client\","
		    "\"error_description\":\"Invalid client or Invalid client credentials\"}",
	       MISCONF, "Keycloak bad client");
	expect(400, "{\"error\":\"unauthorized_client\","
		    "\"error_description\":\"Client not allowed for direct access grants\"}",
	       MISCONF, "Keycloak direct grants off");
	expect(400, "{\"error\":\"invalid_scope\",\"error_description\":\"Invalid scopes: openid x\"}",
	       MISCONF, "Keycloak invalid_scope");

	expect(403, "{\"error\":\"mfa_required\",\"error_description\":"
		    "\"An MFA challenge is required to complete this request.\",\"mfa_token\":\"ftMfa\"}",
	       MFA, "Okta mfa_required");
	expect(403, "{\"error\":\"mfa_required\"}", MFA, "Okta mfa_required without description");
	expect(400, "{\"error\":\"invalid_grant\","
		    "\"error_description\":\"The credentials provided were invalid.\"}",
	       IC, "Okta invalid_grant");
	expect(400, "{\"error\":\"access_denied\",\"error_description\":"
		    "\"Policy evaluation failed for this request, please check the policy configurations.\"}",
	       DENIED, "Okta policy access_denied");
	expect(401, "{\"error\":\"invalid_client\","
		    "\"error_description\":\"Invalid value for 'client_id' parameter.\"}",
	       MISCONF, "Okta invalid_client");
	/* "Client authentication failed" (Okta, league/oauth2-server,
	 * Doorkeeper) is a client problem, not OneLogin's "Authentication
	 * Failed": it must not read as a wrong password. */
	expect(401, "{\"error\":\"invalid_client\","
		    "\"error_description\":\"Client authentication failed\"}",
	       MISCONF, "invalid_client \"Client authentication failed\"");
	expect(401, "{\"error\":\"invalid_client\",\"error_description\":\"Client authentication "
		    "failed. Either the client or the client credentials are invalid.\"}",
	       MISCONF, "Okta invalid_client \"Client authentication failed. Either...\"");
	expect(400, "{\"error\":\"invalid_grant\",\"error_description\":"
		    "\"The user must use multifactor authentication to sign in.\"}",
	       MFA, "multifactor authentication anywhere in the text");
}

static void
test_rfc6749_codes(void)
{
	static const struct {
		const char *code;
		enum ropc_outcome want;
	} rows[] = {
		{ "invalid_request", MISCONF },
		{ "invalid_client", MISCONF },
		{ "invalid_grant", IC },
		{ "unauthorized_client", MISCONF },
		{ "unsupported_grant_type", MISCONF },
		{ "invalid_scope", MISCONF },
		{ "access_denied", DENIED },
		{ "unsupported_response_type", MISCONF },
		{ "server_error", UNAVAIL },
		{ "temporarily_unavailable", UNAVAIL },
		{ "INVALID_GRANT", IC },
		{ "Invalid_Client", MISCONF },
	};
	char body[256], what[128];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(body, sizeof(body), "{\"error\":\"%s\"}", rows[i].code);
		snprintf(what, sizeof(what), "RFC 6749 %s, 400", rows[i].code);
		expect(400, body, rows[i].want, what);
		snprintf(body, sizeof(body),
			 "{\"error\":\"%s\",\"error_description\":\"Something went wrong\","
			 "\"error_uri\":\"https://idp.example.com/e\"}", rows[i].code);
		snprintf(what, sizeof(what), "RFC 6749 %s with description, 401", rows[i].code);
		expect(401, body, rows[i].want, what);
	}
	/* The code is the whole value, not a substring. */
	expect(400, "{\"error\":\"invalid_grant_extra\"}", UNRECOG, "invalid_grant_extra is no code");
	expect(400, "{\"error\":\"xinvalid_client\"}", UNRECOG, "xinvalid_client is no code");
	/* A non-string error is no code. */
	expect(400, "{\"error\":42}", UNRECOG, "numeric error");
}

/* ---- Entra ID ------------------------------------------------------------- */

static void
entra(long status, const char *error, int code, const char *text, enum ropc_outcome want,
      const char *what)
{
	char body[2048], codes[16];
	struct ropc_verdict v;

	snprintf(body, sizeof(body),
		 "{\"error\":\"%s\",\"error_description\":\"AADSTS%d: %s\\r\\nTrace ID: "
		 "0b1c2d3e-0000-4000-8000-000000000001\\r\\nCorrelation ID: "
		 "0b1c2d3e-0000-4000-8000-000000000002\\r\\nTimestamp: 2024-01-01 00:00:00Z\","
		 "\"error_codes\":[%d],\"timestamp\":\"2024-01-01 00:00:00Z\","
		 "\"trace_id\":\"0b1c2d3e-0000-4000-8000-000000000001\","
		 "\"correlation_id\":\"0b1c2d3e-0000-4000-8000-000000000002\","
		 "\"error_uri\":\"https://login.microsoftonline.com/error?code=%d\"}",
		 error, code, text, code, code);
	expect(status, body, want, what);
	run(NULL, ROPC_NET_OK, status, body, strlen(body), &v);
	snprintf(codes, sizeof(codes), "%d", code);
	CHECK_STR(v.idp.codes, codes, "%s: error_codes kept as \"%s\"", what, codes);
	ropc_verdict_free(&v);
}

static void
test_entra(void)
{
	struct ropc_verdict v;
	const char *b;

	entra(400, "invalid_grant", 50126,
	      "Error validating credentials due to invalid username or password.", IC,
	      "Entra AADSTS50126 bad password");
	entra(400, "invalid_grant", 50034,
	      "The user account {EUII Hidden} does not exist in the "
	      "9188040d-6c67-4c5b-b112-36a304b66dad directory. To sign into this application, "
	      "the account must be added to the directory.", NOUSER,
	      "Entra AADSTS50034 no such user");
	entra(400, "invalid_grant", 50076,
	      "Due to a configuration change made by your administrator, or because you moved "
	      "to a new location, you must use multi-factor authentication to access "
	      "'00000003-0000-0000-c000-000000000000'.", MFA, "Entra AADSTS50076 MFA");
	entra(400, "invalid_grant", 50079,
	      "Due to a configuration change made by your administrator, or because you moved "
	      "to a new location, you must enroll in multi-factor authentication to access "
	      "'00000003-0000-0000-c000-000000000000'.", MFA, "Entra AADSTS50079 MFA enrolment");
	entra(400, "invalid_grant", 50053,
	      "The account is locked, you've tried to sign in too many times with an "
	      "incorrect user ID or password.", LOCKED, "Entra AADSTS50053 locked");
	entra(400, "invalid_grant", 50057, "The user account is disabled.", SUSP,
	      "Entra AADSTS50057 disabled");
	entra(400, "invalid_grant", 50055, "The password is expired.", EXPIRED,
	      "Entra AADSTS50055 password expired");
	entra(401, "invalid_client", 7000215,
	      "Invalid client secret provided. Ensure the secret being sent in the request is "
	      "the client secret value, not the client secret ID.", MISCONF,
	      "Entra AADSTS7000215 bad client secret");
	entra(400, "invalid_grant", 65001,
	      "The user or administrator has not consented to use the application.", MISCONF,
	      "Entra AADSTS65001 consent");

	/* idp_unknown_user is told and coded as a bad password (§2). */
	CHECK_INT(ropc_outcome_info(NOUSER)->pam_code, ropc_outcome_info(IC)->pam_code,
		  "AADSTS50034 returns the same PAM code as a wrong password");
	CHECK_STR(ropc_outcome_info(NOUSER)->message, ropc_outcome_info(IC)->message,
		  "AADSTS50034 tells the person the same as a wrong password");

	b = "{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS50076: x\","
	    "\"error_codes\":[50076,50079,\"x\",1.5,50126]}";
	run(NULL, ROPC_NET_OK, 400, b, strlen(b), &v);
	CHECK_STR(v.idp.codes, "50076,50079,50126", "several error_codes, non-integers skipped");
	ropc_verdict_free(&v);
}

/* ---- Glewlwyd and bodies that are not JSON ------------------------------- */

static void
test_no_json(void)
{
	expect(403, "", IC, "Glewlwyd 403 empty body");
	expect(401, "", IC, "401 empty body");
	expect(400, "", UNRECOG, "Glewlwyd 400 empty body");
	expect(403, "Forbidden\n", IC, "403 text/plain body");
	expect(401, "<html><body>Unauthorized</body></html>", IC, "401 HTML body");
	expect(404, "<html><body>Not Found</body></html>", UNRECOG, "404 HTML body");
	expect(401, "{}", UNRECOG, "401 with an empty JSON object is not Glewlwyd's");
	expect(418, "{\"error\":\"teapot\"}", UNRECOG, "418 teapot");
	expect(400, "Bad Request\n", UNRECOG, "400 text/plain");
	{
		struct ropc_verdict v;

		run(NULL, ROPC_NET_OK, 418, "{\"error\":\"teapot\"}", strlen("{\"error\":\"teapot\"}"), &v);
		CHECK_INT(ropc_outcome_info(v.outcome)->pam_code, PAM_AUTH_ERR,
			  "unrecognised fails closed with PAM_AUTH_ERR");
		CHECK_STR(v.idp.code, "teapot", "unrecognised: the IdP's code kept for the log");
		ropc_verdict_free(&v);
	}
}

/* ---- unavailable --------------------------------------------------------- */

static void
test_unavailable(void)
{
	static const long statuses[] = { 500, 502, 503, 504, 429, 599 };
	static const long redirects[] = { 301, 302, 303, 307, 308, 300 };
	static const long moved[] = { 301, 302, 303, 307, 308 };
	static const enum ropc_net nets[] = {
		ROPC_NET_CONNECT, ROPC_NET_TIMEOUT, ROPC_NET_TLS, ROPC_NET_TOO_BIG, ROPC_NET_ERROR,
	};
	static const char *const netnames[] = { "CONNECT", "TIMEOUT", "TLS", "TOO_BIG", "ERROR" };
	const char *ok = "{\"access_token\":\"tok\",\"token_type\":\"Bearer\"}";
	const char *ic = "{\"error\":\"invalid_grant\",\"error_description\":\"Invalid user credentials\"}";
	char what[128];
	size_t i;

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		snprintf(what, sizeof(what), "HTTP %ld with an invalid_grant body", statuses[i]);
		expect(statuses[i], ic, UNAVAIL, what);
		snprintf(what, sizeof(what), "HTTP %ld with no body", statuses[i]);
		expect(statuses[i], "", UNAVAIL, what);
	}
	expect(502, "<html><head><title>502 Bad Gateway</title></head></html>", UNAVAIL,
	       "nginx 502 HTML");
	expect(429, "{\"errorCode\":\"E0000047\",\"errorSummary\":\"API call exceeded rate limit\"}",
	       UNAVAIL, "Okta 429 rate limit");
	for (i = 0; i < sizeof(redirects) / sizeof(redirects[0]); i++) {
		snprintf(what, sizeof(what), "redirect %ld, even with a token body", redirects[i]);
		expect(redirects[i], ok, UNAVAIL, what);
	}
	/* The redirect rule itself, not the later "unexpected HTTP" catch-all
	 * for statuses under 400 (which also gives unavailable): only the
	 * redirect rule writes this detail. */
	for (i = 0; i < sizeof(moved) / sizeof(moved[0]); i++) {
		struct ropc_verdict v;

		run(NULL, ROPC_NET_OK, moved[i], ok, strlen(ok), &v);
		CHECK_STR(v.detail, "redirect not followed",
			  "redirect %ld: the detail says the redirect was not followed", moved[i]);
		ropc_verdict_free(&v);
	}
	for (i = 0; i < sizeof(nets) / sizeof(nets[0]); i++) {
		snprintf(what, sizeof(what), "net %s with status 0", netnames[i]);
		expect_n(NULL, nets[i], 0, NULL, 0, UNAVAIL, what);
		/* Even a whole token in the buffer does not count: the transfer
		 * failed (e.g. TOO_BIG cut it). */
		snprintf(what, sizeof(what), "net %s with status 200 and a token body", netnames[i]);
		expect_n(NULL, nets[i], 200, ok, strlen(ok), UNAVAIL, what);
		snprintf(what, sizeof(what), "net %s with status 401 invalid_grant", netnames[i]);
		expect_n(NULL, nets[i], 401, ic, strlen(ic), UNAVAIL, what);
	}
	expect(204, "", UNAVAIL, "HTTP 204");
	expect(201, ok, UNAVAIL, "HTTP 201 with a token body");
	expect(100, "", UNAVAIL, "HTTP 100");
	expect(0, "", UNAVAIL, "no status with net OK");
	{
		struct ropc_verdict v;

		run(NULL, ROPC_NET_OK, 503, "{\"error\":\"temporarily_unavailable\"}",
		    strlen("{\"error\":\"temporarily_unavailable\"}"), &v);
		CHECK_INT(ropc_outcome_info(v.outcome)->pam_code, PAM_AUTHINFO_UNAVAIL,
			  "unavailable returns PAM_AUTHINFO_UNAVAIL");
		CHECK_STR(v.idp.code, "temporarily_unavailable", "5xx: the IdP's error kept for the log");
		ropc_verdict_free(&v);
	}
}

/* ---- 200 ------------------------------------------------------------------ */

static void
test_success(void)
{
	struct ropc_verdict v;
	const char *b;

	b = "{\"access_token\":\"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln\","
	    "\"token_type\":\"Bearer\",\"scope\":\"openid profile\",\"expires_in\":3600,"
	    "\"id_token\":\"eyJ.id.tok\",\"refresh_token\":\"rt-1/2+3=\"}";
	run(NULL, ROPC_NET_OK, 200, b, strlen(b), &v);
	CHECK_STR(oname(v.outcome), "success", "200 full token response is success");
	CHECK_STR(v.tokens.access_token, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln",
		  "access_token copied");
	CHECK_STR(v.tokens.token_type, "Bearer", "token_type copied");
	CHECK_STR(v.tokens.scope, "openid profile", "scope copied");
	CHECK_INT(v.tokens.expires_in, 3600, "expires_in integer");
	CHECK_STR(v.tokens.id_token, "eyJ.id.tok", "id_token copied");
	CHECK_STR(v.tokens.refresh_token, "rt-1/2+3=", "refresh_token copied");
	CHECK_INT(ropc_outcome_info(v.outcome)->pam_code, PAM_SUCCESS, "success is PAM_SUCCESS");
	ropc_verdict_free(&v);
	CHECK(v.tokens.access_token == NULL && v.tokens.id_token == NULL &&
	      v.tokens.refresh_token == NULL, "verdict_free clears the token pointers");

	/* Entra v1 sends numbers as strings. */
	b = "{\"token_type\":\"Bearer\",\"scope\":\"User.Read\",\"expires_in\":\"3599\","
	    "\"ext_expires_in\":\"3599\",\"access_token\":\"at\"}";
	run(NULL, ROPC_NET_OK, 200, b, strlen(b), &v);
	CHECK_STR(oname(v.outcome), "success", "Entra v1 is success");
	CHECK_INT(v.tokens.expires_in, 3599, "expires_in as a string");
	ropc_verdict_free(&v);

	/* Minimal: only access_token. */
	b = "{\"access_token\":\"at\"}";
	run(NULL, ROPC_NET_OK, 200, b, strlen(b), &v);
	CHECK_STR(oname(v.outcome), "success", "access_token alone is success");
	CHECK(v.tokens.token_type == NULL && v.tokens.scope == NULL && v.tokens.id_token == NULL &&
	      v.tokens.refresh_token == NULL, "absent fields are NULL");
	CHECK_INT(v.tokens.expires_in, -1, "absent expires_in is -1");
	ropc_verdict_free(&v);

	/* Whitespace around the object is fine. */
	expect(200, " \r\n\t{\"access_token\":\"at\"} \r\n\t", SUCCESS,
	       "white space around the object");
	expect(200, "{\"token_type\":\"bearer\",\"access_token\":\"at\",\"iat\":1700000000,"
		    "\"expires_in\":3600,\"scope\":\"openid\",\"id_token\":\"a.b.c\"}",
	       SUCCESS, "Glewlwyd token_type bearer");
	{
		/* Unusable optional fields are dropped, not fatal. */
		b = "{\"access_token\":\"at\",\"scope\":\"a\\\"b\",\"id_token\":\"a b\","
		    "\"refresh_token\":\"r\\nx\",\"expires_in\":3599.5}";
		run(NULL, ROPC_NET_OK, 200, b, strlen(b), &v);
		CHECK_STR(oname(v.outcome), "success", "unusable optional fields: still success");
		CHECK_STR(v.tokens.scope, NULL, "scope with a quote dropped");
		CHECK_STR(v.tokens.id_token, NULL, "id_token with a space dropped");
		CHECK_STR(v.tokens.refresh_token, NULL, "refresh_token with a newline dropped");
		CHECK_INT(v.tokens.expires_in, -1, "expires_in float dropped");
		ropc_verdict_free(&v);
	}
	{
		static const struct {
			const char *json;
			long long want;
		} rows[] = {
			{ "0", -1 }, { "-1", -1 }, { "\"-5\"", -1 }, { "\"\"", -1 },
			{ "\"3599abc\"", -1 }, { "\" 3599\"", -1 }, { "\"+3599\"", -1 },
			{ "null", -1 }, { "true", -1 }, { "99999999999999999999999", -1 },
			{ "316224000", 316224000 }, { "316224001", -1 }, { "\"316224000\"", 316224000 },
			{ "1", 1 }, { "\"60\"", 60 },
		};
		char body[256];
		size_t i;

		for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			snprintf(body, sizeof(body), "{\"access_token\":\"at\",\"expires_in\":%s}",
				 rows[i].json);
			run(NULL, ROPC_NET_OK, 200, body, strlen(body), &v);
			if (!CHECK(v.outcome == SUCCESS && v.tokens.expires_in == rows[i].want,
				   "expires_in %s gives %lld", rows[i].json, rows[i].want))
				tap_diag("got %s, expires_in %lld", oname(v.outcome),
					 v.tokens.expires_in);
			ropc_verdict_free(&v);
		}
	}
	{
		/* An access token of 32 KiB is kept; more is refused. */
		size_t n = 32 * 1024;
		char *big = malloc(n + 64);

		strcpy(big, "{\"access_token\":\"");
		memset(big + 17, 'A', n);
		strcpy(big + 17 + n, "\"}");
		expect(200, big, SUCCESS, "access_token of 32 KiB");
		memset(big + 17, 'A', n + 1);
		strcpy(big + 17 + n + 1, "\"}");
		expect(200, big, UNAVAIL, "access_token of 32 KiB + 1");
		free(big);
	}
}

static char *
nested(const char *prefix, int depth, const char *suffix)
{
	size_t pl = strlen(prefix), sl = strlen(suffix);
	char *s = malloc(pl + 2 * (size_t)depth + sl + 1);

	memcpy(s, prefix, pl);
	memset(s + pl, '[', (size_t)depth);
	memset(s + pl + depth, ']', (size_t)depth);
	memcpy(s + pl + 2 * depth, suffix, sl + 1);
	return s;
}

static void
test_bad_200(void)
{
	char *s;

	expect(200, "<!DOCTYPE html>\n<html lang=\"en\"><head><title>Sign in</title></head>"
		    "<body><form method=\"post\" action=\"/login\"></form></body></html>",
	       UNAVAIL, "200 HTML login page");
	expect(200, "", UNAVAIL, "200 empty body");
	/* A 200 that also carries "error" is not a yes. */
	expect(200, "{\"access_token\":\"at\",\"token_type\":\"Bearer\",\"error\":\"invalid_grant\"}",
	       ROPC_OUT_INVALID_CREDENTIALS, "200 with a token and error=invalid_grant");
	expect(200, "{\"access_token\":\"at\",\"error\":\"something_new\"}", UNAVAIL,
	       "200 with a token and an unknown error");
	/* A NUL after the object is not white space (found by fuzz-response). */
	expect_n(NULL, ROPC_NET_OK, 200, "{\"access_token\":\"at\"}\0",
		 sizeof("{\"access_token\":\"at\"}\0") - 1, UNAVAIL,
		 "200 token response followed by a NUL byte");
	expect_n(NULL, ROPC_NET_OK, 400, "{\"error\":\"invalid_grant\"}\0",
		 sizeof("{\"error\":\"invalid_grant\"}\0") - 1, UNRECOG,
		 "400 error followed by a NUL byte is not read as JSON");
	expect(200, "[]", UNAVAIL, "200 []");
	expect(200, "[{\"access_token\":\"at\"}]", UNAVAIL, "200 array holding a token");
	expect(200, "{}", UNAVAIL, "200 {}");
	expect(200, "\"at\"", UNAVAIL, "200 JSON string");
	expect(200, "null", UNAVAIL, "200 null");
	expect(200, "{\"access_token\":123,\"token_type\":\"Bearer\"}", UNAVAIL,
	       "access_token a number");
	expect(200, "{\"access_token\":\"\",\"token_type\":\"Bearer\"}", UNAVAIL,
	       "access_token empty");
	expect(200, "{\"access_token\":null,\"token_type\":\"Bearer\"}", UNAVAIL,
	       "access_token null");
	expect(200, "{\"access_token\":true}", UNAVAIL, "access_token true");
	expect(200, "{\"access_token\":{\"value\":\"tok-x\"}}", UNAVAIL, "access_token object");
	expect(200, "{\"access_token\":[\"tok-x\"]}", UNAVAIL, "access_token array");
	expect(200, "{\"token_type\":\"Bearer\",\"expires_in\":3600}", UNAVAIL,
	       "access_token missing");
	expect(200, "{\"Access_Token\":\"at\"}", UNAVAIL, "key case matters");
	expect(200, "{\"access_token\":\"x\",\"token_type\":\"Bearer\"}garbage", UNAVAIL,
	       "trailing garbage");
	expect(200, "{\"access_token\":\"x\"}{\"access_token\":\"y\"}", UNAVAIL,
	       "two objects");
	expect(200, "{\"access_token\":\"x\"", UNAVAIL, "truncated object");
	expect(200, "{\"access_token\":\"x\",}", UNAVAIL, "trailing comma (strict JSON)");
	expect(200, "{'access_token':'x'}", UNAVAIL, "single quotes (strict JSON)");
	expect(200, "\xef\xbb\xbf{\"access_token\":\"x\"}", UNAVAIL, "UTF-8 BOM before the object");
	expect(200, "{\"access_token\":\"tok-\xff\xfe-x\",\"token_type\":\"Bearer\"}", UNAVAIL,
	       "invalid UTF-8 in access_token");
	expect(200, "{\"access_token\":\"x\",\"note\":\"\xc0\xaf\"}", UNAVAIL,
	       "invalid UTF-8 (overlong) in another field");
	expect(200, "{\"access_token\":\"x\",\"note\":\"\xed\xa0\x80\"}", UNAVAIL,
	       "invalid UTF-8 (surrogate) in another field");
	expect(200, "{\"access_token\":\"x\",\"note\":\"\xf4\x90\x80\x80\"}", UNAVAIL,
	       "invalid UTF-8 (above U+10FFFF) in another field");
	expect(200, "{\"access_token\":\"tok-a\\u0000b\",\"token_type\":\"Bearer\"}", UNAVAIL,
	       "\\u0000 escape inside access_token");
	{
		static const char raw[] = "{\"access_token\":\"tok-a\0b\",\"token_type\":\"Bearer\"}";
		static const char after[] = "{\"access_token\":\"tok-a\"}\0{\"x\":1}";
		static const char before[] = "\0{\"access_token\":\"tok-a\"}";

		expect_n(NULL, ROPC_NET_OK, 200, raw, sizeof(raw) - 1, UNAVAIL,
			 "raw NUL byte inside access_token");
		expect_n(NULL, ROPC_NET_OK, 200, after, sizeof(after) - 1, UNAVAIL,
			 "raw NUL byte after the object, then more data");
		expect_n(NULL, ROPC_NET_OK, 200, before, sizeof(before) - 1, UNAVAIL,
			 "raw NUL byte before the object");
	}
	expect(200, "{\"access_token\":\"abc\\u0001def\"}", UNAVAIL, "control char in access_token");
	expect(200, "{\"access_token\":\"abc\\ndef\"}", UNAVAIL, "newline in access_token");
	expect(200, "{\"access_token\":\"abc\\u001b[31m\"}", UNAVAIL, "ESC in access_token");
	expect(200, "{\"access_token\":\"abc\\u007f\"}", UNAVAIL, "DEL in access_token");
	expect(200, "{\"access_token\":\"j\\u00f6rg\"}", UNAVAIL, "non-ASCII in access_token");
	expect(200, "{\"access_token\":\"at\",\"token_type\":\"Bear er\"}", UNAVAIL,
	       "token_type with a space");
	expect(200, "{\"access_token\":\"at\",\"token_type\":5}", UNAVAIL, "token_type a number");
	expect(200, "{\"access_token\":\"at\",\"token_type\":\"\"}", UNAVAIL, "token_type empty");

	s = nested("{\"access_token\":\"tok-deep\",\"token_type\":\"Bearer\",\"nested\":", 10000, "}");
	expect(200, s, UNAVAIL, "object with 10,000 nested arrays inside");
	free(s);
	s = nested("", 10000, "");
	expect(200, s, UNAVAIL, "10,000 nested arrays at top level");
	free(s);
	s = nested("{\"error\":\"invalid_grant\",\"n\":", 10000, "}");
	expect(400, s, UNRECOG, "error body nested 10,000 deep is not read");
	free(s);
	s = nested("{\"access_token\":\"at\",\"n\":", 8, "}");
	expect(200, s, SUCCESS, "nesting 9 deep is fine");
	free(s);
	s = nested("{\"access_token\":\"at\",\"n\":", 20, "}");
	expect(200, s, UNAVAIL, "nesting 21 deep is refused");
	free(s);

	/* A 200 that carries a recognised error is that error. */
	expect(200, "{\"error\":\"invalid_grant\",\"error_description\":\"Invalid user credentials\"}",
	       IC, "200 with invalid_grant");
	expect(200, "{\"error\":\"mfa_required\"}", MFA, "200 with mfa_required");
	expect(200, "{\"error\":\"something_else\"}", UNAVAIL, "200 with an unknown error");
	expect(200, "{\"access_token\":\"\",\"error\":\"access_denied\"}", DENIED,
	       "200 with an empty token and access_denied");
}

/* ---- error_map ------------------------------------------------------------ */

static void
test_error_map(void)
{
	struct ropc_settings s;
	struct ropc_map_entry map[4] = {
		{ "authentication failed", ROPC_OUT_LOCKED },
		{ "user credentials", ROPC_OUT_ACCESS_DENIED },
		{ "custom_code", ROPC_OUT_SUSPENDED },
		{ "50126", ROPC_OUT_MFA_REQUIRED },
	};
	const char *ol = "{\"status\":{\"error\":true,\"code\":401,\"type\":\"Unauthorized\","
			 "\"message\":\"Authentication Failed\"}}";
	const char *kc = "{\"error\":\"invalid_grant\",\"error_description\":\"Invalid user credentials\"}";
	const char *entra = "{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS50126: Error\","
			    "\"error_codes\":[50126]}";
	struct ropc_verdict v;

	memset(&s, 0, sizeof(s));
	s.error_map = map;
	s.n_error_map = 4;

	expect_n(&s, ROPC_NET_OK, 401, ol, strlen(ol), LOCKED,
		 "error_map beats OneLogin's built-in Authentication Failed");
	expect_n(&s, ROPC_NET_OK, 401, kc, strlen(kc), DENIED,
		 "error_map matches inside the description");
	EXPECT_S(&s, ROPC_NET_OK, 400, "{\"error\":\"my_custom_code_x\"}", SUSP,
		 "error_map matches inside the error code");
	expect_n(&s, ROPC_NET_OK, 400, entra, strlen(entra), MFA,
		 "error_map matches Entra's error_codes");
	EXPECT_S(&s, ROPC_NET_OK, 200, "{\"error\":\"custom_code\"}", SUSP,
		 "error_map applies to a 200 carrying an error");
	expect_n(&s, ROPC_NET_OK, 503, kc, strlen(kc), UNAVAIL,
		 "error_map does not override a 5xx");
	expect_n(&s, ROPC_NET_TIMEOUT, 0, NULL, 0, UNAVAIL,
		 "error_map does not override a transport failure");
	EXPECT_S(&s, ROPC_NET_OK, 400, "{\"error\":\"access_denied\"}", DENIED,
		 "no entry matches: built-ins still apply");
	EXPECT_S(&s, ROPC_NET_OK, 200, "{\"access_token\":\"at\",\"error_description\":"
		 "\"Authentication Failed\"}", LOCKED,
		 "a token response whose description says a refusal is that refusal, "
		 "error_map included");

	run(&s, ROPC_NET_OK, 401, ol, strlen(ol), &v);
	CHECK_CONTAINS(v.detail, "error_map entry 1", "detail names the error_map entry");
	ropc_verdict_free(&v);

	/* The first matching entry wins. */
	map[0].pattern = "Invalid user";
	map[0].outcome = ROPC_OUT_PASSWORD_EXPIRED;
	expect_n(&s, ROPC_NET_OK, 401, kc, strlen(kc), EXPIRED, "first matching entry wins");

	/* Whatever the map holds, no answer without a token is a success. */
	{
		int o, bad = 0;
		static const char *const bodies[] = {
			"{\"error\":\"invalid_grant\",\"error_description\":\"Invalid user credentials\"}",
			"{\"error\":\"mfa_required\"}",
			"{\"status\":{\"type\":\"success\",\"message\":\"MFA is required for this user\"}}",
		};
		size_t b;

		for (o = ROPC_OUT_SUCCESS + 1; o < ROPC_OUT_COUNT; o++) {
			if (ropc_outcome_from_name(ropc_outcome_info((enum ropc_outcome)o)->name) < 0)
				continue;
			map[0].pattern = "e";
			map[0].outcome = o;
			for (b = 0; b < 3; b++) {
				run(&s, ROPC_NET_OK, 200, bodies[b], strlen(bodies[b]), &v);
				if (v.outcome == SUCCESS)
					bad++;
				ropc_verdict_free(&v);
				run(&s, ROPC_NET_OK, 401, bodies[b], strlen(bodies[b]), &v);
				if (v.outcome == SUCCESS)
					bad++;
				ropc_verdict_free(&v);
			}
		}
		CHECK_INT(bad, 0, "no mappable outcome turns an error answer into success");
		CHECK_INT(ropc_outcome_from_name("success"), -1,
			  "error_map cannot name success at all");
	}
}

/* A 200 carries an error when its structure says so, whatever the
 * member holds; and a 200 whose description says a refusal is that
 * refusal (issue: close the fail-open paths, item 1). */
static void
test_error_bearing_200(void)
{
	struct ropc_verdict v;

	expect(200, "{\"access_token\":\"at\",\"error\":{\"code\":1}}", UNAVAIL,
	       "200 with a token and \"error\": an object");
	expect(200, "{\"access_token\":\"at\",\"error\":true}", UNAVAIL,
	       "200 with a token and \"error\": true");
	expect(200, "{\"access_token\":\"at\",\"error\":\"\"}", UNAVAIL,
	       "200 with a token and \"error\": \"\"");
	expect(200, "{\"access_token\":\"at\",\"error\":\"\\u0000invalid_grant\"}", UNAVAIL,
	       "200 with a token and \"error\": \"\\u0000...\"");
	expect(200, "{\"access_token\":\"at\",\"error\":0}", UNAVAIL,
	       "200 with a token and \"error\": 0");
	expect(200, "{\"access_token\":\"at\",\"error\":[]}", UNAVAIL,
	       "200 with a token and \"error\": []");
	expect(200, "{\"access_token\":\"at\",\"status\":{\"error\":true,\"code\":401}}", UNAVAIL,
	       "200 with a token and OneLogin status.error true without type");
	expect(200, "{\"access_token\":\"at\",\"status\":{\"error\":\"yes\"}}", UNAVAIL,
	       "200 with a token and status.error a string");
	expect(200, "{\"access_token\":\"at\",\"error_description\":"
		    "\"MFA is required for this user\"}", MFA,
	       "200 with a token whose description alone says MFA is required");
	expect(200, "{\"access_token\":\"at\",\"error_description\":"
		    "\"User is locked. Access is unauthorized\"}", LOCKED,
	       "200 with a token whose description alone says locked");
	expect(200, "{\"access_token\":\"at\",\"error_description\":\"Account disabled\"}", SUSP,
	       "200 with a token whose description alone says disabled");
	/* What stays a success: null members and status.error false. */
	expect(200, "{\"access_token\":\"at\",\"error\":null}", SUCCESS,
	       "200 with a token and \"error\": null is a success");
	expect(200, "{\"access_token\":\"at\",\"status\":{\"error\":false}}", SUCCESS,
	       "200 with a token and status.error false is a success");
	expect(200, "{\"access_token\":\"at\",\"status\":{\"error\":null}}", SUCCESS,
	       "200 with a token and status.error null is a success");
	/* A refused 200 keeps no token. */
	run(NULL, ROPC_NET_OK, 200, "{\"access_token\":\"at\",\"error\":true}",
	    strlen("{\"access_token\":\"at\",\"error\":true}"), &v);
	CHECK(v.tokens.access_token == NULL, "an error-bearing 200 keeps no access token");
	CHECK(strstr(v.detail, "carries an error") != NULL, "its detail says it carries an error");
	ropc_verdict_free(&v);
	run(NULL, ROPC_NET_OK, 200, "{\"access_token\":\"at\",\"error_description\":"
	    "\"MFA is required for this user\"}", strlen("{\"access_token\":\"at\",\"error_description\":"
	    "\"MFA is required for this user\"}"), &v);
	CHECK(v.tokens.access_token == NULL, "a 200 refusal keeps no access token");
	ropc_verdict_free(&v);
}

int
main(void)
{
	test_onelogin();
	test_keycloak_okta();
	test_rfc6749_codes();
	test_entra();
	test_no_json();
	test_unavailable();
	test_success();
	test_bad_200();
	test_error_bearing_200();
	test_error_map();
	return tap_done();
}
