/*
 * test-options.c: the three layers of settings (DESIGN §5): defaults, the
 * config file, the pam.d arguments; the validation of every kind of value;
 * the rules for where a client secret may come from.  Config files are
 * written into a directory made by tap_safe_tmpdir (under /run/ropc-tests
 * as root, so that every directory above them is root-owned and closed to
 * group and other writes) and read with ropc_settings_load_as, owner
 * geteuid().
 *
 * pam_vsyslog is wrapped here: every line the module logs is kept (to check
 * that problems are logged at LOG_ERR and that no secret is ever logged)
 * and then handed on to libpam's own pam_vsyslog, called with the NULL
 * handle the tests use, which libpam must accept.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* RTLD_NEXT */
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>
#include <security/pam_ext.h>

#include "options.h"
#include "outcome.h"
#include "tap.h"

#include "logcap.h"

/* ---- files ------------------------------------------------------------------ */

static char dir[64];
static uid_t me;
static const char *base = "token_endpoint = https://idp.example.com/token\n";

static const char *
path_of(const char *name)
{
	static char p[8][256];
	static int i;

	i = (i + 1) % 8;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static const char *
put(const char *name, const char *text, mode_t mode)
{
	const char *p = path_of(name);
	size_t len = strlen(text);
	int fd;

	unlink(p);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		tap_diag("cannot write %s: %s", p, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (chmod(p, mode) != 0)
		tap_diag("chmod %s: %s", p, strerror(errno));
	return p;
}

/* ---- loading ---------------------------------------------------------------- */

static struct ropc_ctx ctx;
static struct ropc_settings *S;

/* Load with config=conf (when not NULL) followed by the NULL-terminated
 * arguments; S holds the result until the next call. */
static int
load(const char *conf, ...)
{
	const char *argv[32];
	char cfg[300];
	int argc = 0, rc;
	va_list ap;
	const char *a;

	if (conf != NULL) {
		snprintf(cfg, sizeof(cfg), "config=%s", conf);
		argv[argc++] = cfg;
	}
	va_start(ap, conf);
	while ((a = va_arg(ap, const char *)) != NULL && argc < 31)
		argv[argc++] = a;
	va_end(ap);
	ropc_settings_free(S);
	S = NULL;
	log_reset();
	memset(&ctx, 0, sizeof(ctx));
	ctx.pamh = NULL;
	ctx.service = "test-options";
	rc = ropc_settings_load_as(&ctx, argc, argv, me, &S);
	return rc;
}

/* One argument on top of the base config: expect rc. */
static void
arg_rc(const char *arg, int want, const char *what)
{
	const char *conf = put("argtest.conf", base, 0644);
	int rc = load(conf, arg, (const char *)NULL);

	if (!CHECK_INT(rc, want, "%s (%s)", what, arg))
		tap_diag("log: %s", logbuf);
	else if (want == PAM_SERVICE_ERR)
		CHECK(logged(LOG_ERR, "config:"), "%s: logged at LOG_ERR", what);
}

/* One extra config file line on top of the base: expect rc. */
static void
line_rc(const char *line, int want, const char *what)
{
	char text[4096];
	const char *conf;
	int rc;

	snprintf(text, sizeof(text), "%s%s\n", base, line);
	conf = put("linetest.conf", text, 0644);
	rc = load(conf, (const char *)NULL);
	if (!CHECK_INT(rc, want, "%s (file: %s)", what, line))
		tap_diag("log: %s", logbuf);
}

/* ---- tests ---------------------------------------------------------------- */

static void
test_defaults(void)
{
	const char *conf = put("defaults.conf", base, 0644);

	CHECK_INT(load(conf, (const char *)NULL), PAM_SUCCESS, "base config loads");
	if (S == NULL) {
		FAIL(23, "no settings: the base config did not load");
		return;
	}
	CHECK_STR(S->token_endpoint, "https://idp.example.com/token", "token_endpoint from file");
	CHECK_STR(S->scope, "openid", "default scope openid");
	CHECK_STR(S->username_format, "%u", "default username_format %%u");
	CHECK_STR(S->env_prefix, "OAUTH2_", "default env_prefix OAUTH2_");
	CHECK_STR(S->config, conf, "config is the config= path");
	CHECK(S->require_local_user, "require_local_user on by default");
	CHECK_INT(S->timeout, 10, "default timeout 10");
	CHECK_INT(S->connect_timeout, 3, "default connect_timeout 3");
	CHECK(S->export_token, "export_token on by default");
	CHECK(!S->export_id_token, "export_id_token off by default");
	CHECK(!S->export_refresh_token, "export_refresh_token off by default");
	CHECK(!S->debug && !ctx.debug, "debug off by default");
	CHECK(!S->use_first_pass && !S->try_first_pass, "first_pass options off by default");
	CHECK_INT(S->client_auth, ROPC_CLIENT_AUTH_NONE, "no secret: client_auth resolves to none");
	CHECK(S->client_id == NULL && S->client_secret == NULL && S->client_secret_file == NULL,
	      "no client credentials by default");
	CHECK(S->resource == NULL && S->ca_file == NULL && S->ca_path == NULL &&
	      S->pinned_public_key == NULL && S->proxy == NULL, "no resource, CA, pin or proxy");
	CHECK_INT(S->n_extra_params, 0, "no extra_param");
	CHECK_INT(S->n_error_map, 0, "no error_map");
	CHECK_STR(ROPC_DEFAULT_CONFIG, "/etc/security/pam_ropc.conf", "default config path");

	CHECK_INT(load(conf, "debug", (const char *)NULL), PAM_SUCCESS, "bare debug loads");
	CHECK(S != NULL && S->debug && ctx.debug, "bare debug sets settings and ctx debug");
	conf = put("debugfile.conf", "token_endpoint = https://idp.example.com/token\ndebug = yes\n",
		   0644);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SUCCESS, "debug in the file loads");
	CHECK(S != NULL && S->debug && ctx.debug, "debug from the file reaches ctx");
	CHECK_INT(load(conf, "debug=no", (const char *)NULL), PAM_SUCCESS,
		  "debug=no argument over debug=yes file loads");
	CHECK(S != NULL && !S->debug && !ctx.debug, "debug=no argument wins");
}

static void
test_file_syntax(void)
{
	const char *conf = put("full.conf",
		"# pam_ropc test configuration\n"
		"\n"
		"   # an indented comment\n"
		"\t\n"
		"token_endpoint = https://idp.example.com/realms/x/protocol/openid-connect/token\n"
		"client_id=my-client\n"
		"\tscope   =   openid profile   \n"
		"timeout = 20\r\n"
		"connect_timeout=5\n"
		"extra_param = audience=api://default\n"
		"extra_param = x-two=a=b\n"
		"error_map = locked:too many attempts\n"
		"error_map = MFA_REQUIRED:second factor\n"
		"username_format = %u@example.com\n"
		"require_local_user = no\n"
		"export_token = off\n"
		"env_prefix = IDP_\n"
		"export_id_token = true\n"
		"export_refresh_token = 1\n"
		"ca_file = /etc/ssl/certs/ca-certificates.crt\n"
		"ca_path = /etc/ssl/certs\n"
		"pinned_public_key = sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
		"resource = https://api.example.com\n"
		"proxy = http://proxy.example.com:3128\n"
		"use_first_pass = yes\n"
		"client_auth = none", 0644);

	CHECK_INT(load(conf, (const char *)NULL), PAM_SUCCESS, "full config file loads");
	if (S == NULL) {
		FAIL(25, "no settings: the full config file did not load");
		return;
	}
	CHECK_STR(S->token_endpoint,
		  "https://idp.example.com/realms/x/protocol/openid-connect/token",
		  "token_endpoint");
	CHECK_STR(S->client_id, "my-client", "key=value without spaces");
	CHECK_STR(S->scope, "openid profile", "value trimmed, inner space kept");
	CHECK_INT(S->timeout, 20, "CRLF line ending trimmed");
	CHECK_INT(S->connect_timeout, 5, "connect_timeout");
	CHECK_INT(S->n_extra_params, 2, "extra_param repeatable");
	if (S->n_extra_params == 2) {
		CHECK_STR(S->extra_params[0].name, "audience", "extra_param 1 name");
		CHECK_STR(S->extra_params[0].value, "api://default", "extra_param 1 value");
		CHECK_STR(S->extra_params[1].name, "x-two", "extra_param 2 name");
		CHECK_STR(S->extra_params[1].value, "a=b", "extra_param value may hold =");
	} else {
		FAIL(4, "extra_param entries: %zu, not 2", S->n_extra_params);
	}
	CHECK_INT(S->n_error_map, 2, "error_map repeatable");
	if (S->n_error_map == 2) {
		CHECK_STR(S->error_map[0].pattern, "too many attempts", "error_map 1 pattern");
		CHECK_INT(S->error_map[0].outcome, ROPC_OUT_LOCKED, "error_map 1 outcome");
		CHECK_INT(S->error_map[1].outcome, ROPC_OUT_MFA_REQUIRED,
			  "error_map outcome name ignores case");
	} else {
		FAIL(3, "error_map entries: %zu, not 2", S->n_error_map);
	}
	CHECK_STR(S->username_format, "%u@example.com", "username_format");
	CHECK(!S->require_local_user, "require_local_user = no");
	CHECK(!S->export_token, "export_token = off");
	CHECK_STR(S->env_prefix, "IDP_", "env_prefix");
	CHECK(S->export_id_token && S->export_refresh_token, "true and 1 are yes");
	CHECK_STR(S->ca_file, "/etc/ssl/certs/ca-certificates.crt", "ca_file");
	CHECK_STR(S->ca_path, "/etc/ssl/certs", "ca_path");
	CHECK_STR(S->pinned_public_key, "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		  "pinned_public_key");
	CHECK_STR(S->resource, "https://api.example.com", "resource");
	CHECK_STR(S->proxy, "http://proxy.example.com:3128/", "proxy (as libcurl's URL API normalised it)");
	CHECK(S->use_first_pass, "use_first_pass");
	CHECK_INT(S->client_auth, ROPC_CLIENT_AUTH_NONE, "last line without a newline read");
}

static void
test_override(void)
{
	const char *conf = put("override.conf",
		"token_endpoint = https://file.example.com/token\n"
		"scope = openid profile\n"
		"timeout = 20\n"
		"require_local_user = no\n"
		"extra_param = audience=file\n", 0644);

	CHECK_INT(load(conf, "scope=email", "timeout=5", "require_local_user",
		       "token_endpoint=https://args.example.com/token", "extra_param=tenant=args",
		       (const char *)NULL),
		  PAM_SUCCESS, "file plus overriding arguments load");
	if (S == NULL) {
		FAIL(6, "no settings: the file plus arguments did not load");
		return;
	}
	CHECK_STR(S->scope, "email", "argument overrides file scope");
	CHECK_INT(S->timeout, 5, "argument overrides file timeout");
	CHECK_INT(S->connect_timeout, 3, "untouched key keeps its default");
	CHECK(S->require_local_user, "bare require_local_user overrides file's no");
	CHECK_STR(S->token_endpoint, "https://args.example.com/token",
		  "argument overrides token_endpoint");
	CHECK_INT(S->n_extra_params, 1, "extra_param in the arguments replaces the file's list");

	CHECK_INT(load(conf, "use_first_pass", "try_first_pass", "export_id_token",
		       "export_refresh_token", (const char *)NULL),
		  PAM_SUCCESS, "bare-word booleans load");
	if (S != NULL) {
		CHECK(S->use_first_pass && S->export_id_token && S->export_refresh_token,
		      "bare words are yes");
		CHECK(!S->try_first_pass, "use_first_pass and try_first_pass: use_first_pass wins");
	}
	CHECK_INT(load(conf, "export_token=no", "scope=", (const char *)NULL), PAM_SUCCESS,
		  "export_token=no and an empty scope load");
	if (S != NULL) {
		CHECK(!S->export_token, "export_token=no");
		CHECK_STR(S->scope, "", "scope= sends no scope");
	}
}

static void
test_unknown(void)
{
	const char *conf = put("unknown.conf",
		"token_endpoint = https://idp.example.com/token\n"
		"colour = blue\n", 0644);
	const char *good = put("known.conf",
		"token_endpoint = https://idp.example.com/token\n", 0644);

	/* Unknown keys fail closed: a typo in a key that restricts access
	 * must never leave a weaker default in force. */
	CHECK_INT(load(conf, (const char *)NULL), PAM_SERVICE_ERR,
		  "an unknown key in the file refuses the settings");
	CHECK(logged(LOG_ERR, "unknown option \"colour\""), "unknown file key logged at LOG_ERR");
	CHECK(logged(LOG_ERR, "line 2"), "the LOG_ERR line names the line");
	CHECK(logged(LOG_ERR, "unknown.conf"), "the LOG_ERR line names the file");
	CHECK(!logged(LOG_ERR, "blue"), "the unknown key's value is not logged");
	CHECK_INT(load(good, "frobnicate=1", (const char *)NULL), PAM_SERVICE_ERR,
		  "an unknown pam.d argument refuses the settings");
	CHECK(logged(LOG_ERR, "frobnicate") && logged(LOG_ERR, "pam.d arguments"),
	      "unknown argument logged at LOG_ERR, naming the pam.d arguments");
	CHECK_INT(load(good, "shiny", (const char *)NULL), PAM_SERVICE_ERR,
		  "an unknown bare word refuses the settings");
	CHECK(logged(LOG_ERR, "shiny"), "unknown bare word logged at LOG_ERR");
	CHECK_INT(load(good, "export_tokens=no", (const char *)NULL), PAM_SERVICE_ERR,
		  "export_tokens=no (a typo of export_token) refuses the settings");
	CHECK(logged(LOG_ERR, "did you mean export_token?"),
	      "the LOG_ERR line names the nearest known key");
	CHECK_INT(load(good, "Token_Endpoint=https://x.example.com/t", (const char *)NULL),
		  PAM_SERVICE_ERR, "keys are case-sensitive: Token_Endpoint is unknown");
	CHECK(logged(LOG_ERR, "did you mean token_endpoint?"),
	      "Token_Endpoint: the nearest key is suggested");
	line_rc("debug = maybe", PAM_SUCCESS, "a bad debug value is only logged");
}

/* error_map text is trimmed after the colon; pam.d lists replace the file's. */
static void
test_error_map_lists(void)
{
	char text[512];
	const char *conf;

	snprintf(text, sizeof(text), "%serror_map = locked:  too many attempts\n"
		 "error_map = suspended:gone\nextra_param = a=1\n", base);
	conf = put("lists.conf", text, 0600);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SUCCESS, "error_map lists load");
	if (S != NULL && S->n_error_map == 2)
		CHECK_STR(S->error_map[0].pattern, "too many attempts",
			  "error_map text is trimmed after the colon");
	else
		CHECK(0, "two error_map entries from the file");
	CHECK_INT(load(conf, "error_map=mfa_required:otp", "extra_param=b=2", (const char *)NULL),
		  PAM_SUCCESS, "pam.d error_map loads");
	CHECK(S != NULL && S->n_error_map == 1 && strcmp(S->error_map[0].pattern, "otp") == 0,
	      "pam.d error_map replaces the file's list");
	CHECK(S != NULL && S->n_extra_params == 1 && strcmp(S->extra_params[0].name, "b") == 0,
	      "pam.d extra_param replaces the file's list");
}

static void
test_malformed(void)
{
	static const char *const bad[] = {
		"token_endpoint=http://idp.example.com/token",
		"token_endpoint=ftp://idp.example.com/token",
		"token_endpoint=idp.example.com/token",
		"token_endpoint=https://",
		"token_endpoint=https:///token",
		"token_endpoint=https://idp.example.com/a b",
		"token_endpoint=",
		"timeout=abc",
		"timeout=10s",
		"timeout=0",
		"timeout=301",
		"timeout=-1",
		"timeout=+5",
		"timeout= 5",
		"timeout=",
		"timeout=99999999999999999999999",
		"connect_timeout=0",
		"connect_timeout=1000",
		"require_local_user=maybe",
		"require_local_user=",
		"require_local_user=2",
		"export_token=perhaps",
		"use_first_pass=sometimes",
		"client_auth=jwt",
		"client_auth=",
		"client_auth=private_key_jwt",
		"pinned_public_key=sha256//",
		"error_map=locked:   ",
		"username_format=alice",
		"username_format=%x@%u",
		"username_format=%u%",
		"username_format=%U",
		"username_format=",
		"env_prefix=1ABC_",
		"env_prefix=A-B",
		"env_prefix=A B",
		"env_prefix=",
		"env_prefix=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"error_map=success:Authentication Failed",
		"error_map=SUCCESS:x",
		"error_map=bogus:text",
		"error_map=unknown_user:x",
		"error_map=internal_error:x",
		"error_map=rejected_input:x",
		"error_map=locked",
		"error_map=locked:",
		"error_map=:text",
		"extra_param=password=x",
		"extra_param=username=bob",
		"extra_param=grant_type=client_credentials",
		"extra_param=client_secret=x",
		"extra_param=client_id=x",
		"extra_param=scope=admin",
		"extra_param=resource=x",
		"extra_param=noequals",
		"extra_param==value",
		"extra_param=a b=c",
		"extra_param=a&b=c",
		"client_id=my client",
		"client_id=",
		"client_id=caf\xc3\xa9",
		"scope=openid \"x\"",
		"scope=a\\b",
		"resource=",
		"ca_file=relative/ca.pem",
		"ca_path=certs",
		"client_secret_file=secret.txt",
		"pinned_public_key=pins.pem",
		"proxy=socks5://proxy:1080",
		"config=relative.conf",
		"config",
		"token_endpoint",
	};
	size_t i;
	char longval[2100];

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		arg_rc(bad[i], PAM_SERVICE_ERR, "malformed value refused");

	/* The same rules in the file. */
	line_rc("timeout = ten", PAM_SERVICE_ERR, "malformed timeout in the file");
	line_rc("require_local_user = perhaps", PAM_SERVICE_ERR, "malformed bool in the file");
	line_rc("error_map = success:Authentication Failed", PAM_SERVICE_ERR,
		"error_map to success in the file");
	line_rc("extra_param = password=hunter2", PAM_SERVICE_ERR,
		"extra_param naming password in the file");
	line_rc("just some words", PAM_SERVICE_ERR, "a line that is not key = value");

	memset(longval, 'a', sizeof(longval));
	memcpy(longval, "client_id=", 10);
	longval[10 + 2049] = '\0';
	arg_rc(longval, PAM_SERVICE_ERR, "value over 2048 bytes refused");
	longval[10 + 2048] = '\0';
	arg_rc(longval, PAM_SUCCESS, "value of 2048 bytes accepted");

	/* Fine values, for contrast. */
	arg_rc("timeout=300", PAM_SUCCESS, "timeout 300 accepted");
	arg_rc("timeout=1", PAM_SUCCESS, "timeout 1 accepted");
	arg_rc("username_format=%%%u", PAM_SUCCESS, "username_format %%%%%%u accepted");
	arg_rc("env_prefix=_X9", PAM_SUCCESS, "env_prefix _X9 accepted");
	arg_rc("error_map=unavailable:maintenance", PAM_SUCCESS, "error_map unavailable accepted");
	arg_rc("token_endpoint=HTTPS://idp.example.com/t", PAM_SUCCESS,
	       "HTTPS:// in capitals accepted");
}

static void
test_duplicates(void)
{
	char text[512];
	const char *conf;

	snprintf(text, sizeof(text), "%sscope = openid\nscope = profile\n", base);
	conf = put("dup.conf", text, 0644);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SERVICE_ERR, "duplicate key in the file");
	CHECK(logged(LOG_ERR, "scope"), "duplicate logged at LOG_ERR, naming the key");

	snprintf(text, sizeof(text), "%stoken_endpoint = https://other.example.com/t\n", base);
	conf = put("dup2.conf", text, 0644);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SERVICE_ERR,
		  "duplicate token_endpoint in the file");

	conf = put("dup3.conf", base, 0644);
	CHECK_INT(load(conf, "timeout=5", "timeout=6", (const char *)NULL), PAM_SERVICE_ERR,
		  "duplicate key in the arguments");
	CHECK_INT(load(conf, "debug", "debug=no", (const char *)NULL), PAM_SERVICE_ERR,
		  "duplicate debug in the arguments");
	{
		const char *other = put("other.conf", base, 0644);
		char c1[300], c2[300];
		const char *argv[2];
		int rc;

		snprintf(c1, sizeof(c1), "config=%s", conf);
		snprintf(c2, sizeof(c2), "config=%s", other);
		argv[0] = c1;
		argv[1] = c2;
		ropc_settings_free(S);
		S = NULL;
		memset(&ctx, 0, sizeof(ctx));
		ctx.service = "test-options";
		rc = ropc_settings_load_as(&ctx, 2, argv, me, &S);
		CHECK_INT(rc, PAM_SERVICE_ERR,
			  "config= given twice in the arguments is a duplicate key");
	}
	CHECK_INT(load(conf, "extra_param=a=1", "extra_param=b=2", "error_map=locked:x",
		       "error_map=suspended:y", (const char *)NULL),
		  PAM_SUCCESS, "extra_param and error_map may repeat");
	snprintf(text, sizeof(text), "%sconfig = /etc/other.conf\n", base);
	conf = put("cfgkey.conf", text, 0644);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SERVICE_ERR,
		  "config in the file refuses the settings (only the pam.d line names the file)");
	CHECK(logged(LOG_ERR, "only read from the pam.d arguments"),
	      "config in the file: LOG_ERR says where it belongs");
}

static void
test_secrets(void)
{
	char text[512];
	const char *conf, *sf;

	/* Never from a pam.d argument. */
	conf = put("s1.conf", "token_endpoint = https://idp.example.com/token\nclient_id = app\n",
		   0600);
	CHECK_INT(load(conf, "client_secret=ArgvS3cret", (const char *)NULL), PAM_SERVICE_ERR,
		  "client_secret in the arguments refused");
	CHECK(logged(LOG_ERR, "client_secret"), "refusal logged at LOG_ERR");
	CHECK(strstr(logbuf, "ArgvS3cret") == NULL, "the refused secret is not logged");

	/* In the config file only when the file is private. */
	snprintf(text, sizeof(text), "%sclient_id = app\nclient_secret = FileS3cret\n", base);
	conf = put("s2.conf", text, 0644);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SERVICE_ERR,
		  "client_secret in a 0644 config file refused");
	CHECK(logged(LOG_ERR, "client_secret"), "0644 refusal logged at LOG_ERR");
	CHECK(strstr(logbuf, "FileS3cret") == NULL, "0644: the secret is not logged");
	conf = put("s2.conf", text, 0640);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SERVICE_ERR,
		  "client_secret in a 0640 config file refused");
	conf = put("s2.conf", text, 0604);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SERVICE_ERR,
		  "client_secret in a 0604 config file refused");
	conf = put("s2.conf", text, 0600);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SUCCESS,
		  "client_secret in a 0600 config file accepted");
	if (S != NULL) {
		CHECK_STR(S->client_secret, "FileS3cret", "secret read from the file");
		CHECK_INT(S->client_auth, ROPC_CLIENT_AUTH_BASIC, "a secret makes client_auth basic");
	}
	CHECK(strstr(logbuf, "FileS3cret") == NULL, "0600: the secret is not logged");
	conf = put("s2.conf", text, 0400);
	CHECK_INT(load(conf, "client_auth=post", (const char *)NULL), PAM_SUCCESS,
		  "0400 file, client_auth=post");
	if (S != NULL)
		CHECK_INT(S->client_auth, ROPC_CLIENT_AUTH_POST, "client_auth=post kept");
	snprintf(text, sizeof(text), "%sclient_id = app\nclient_secret = has space\n", base);
	conf = put("s3.conf", text, 0600);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SERVICE_ERR,
		  "client_secret with a space refused");
	CHECK(strstr(logbuf, "has space") == NULL, "the malformed secret is not logged");
	/* A 0644 config file without a secret is fine. */
	conf = put("s4.conf", base, 0644);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SUCCESS, "0644 file without a secret");
	conf = put("s4.conf", base, 0664);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SERVICE_ERR,
		  "group-writable (0664) config file refused");
	conf = put("s4.conf", base, 0646);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SERVICE_ERR,
		  "world-writable (0646) config file refused");

	/* client_secret_file. */
	sf = put("secret", "Fi1eS3cret\n", 0600);
	snprintf(text, sizeof(text), "%sclient_id = app\nclient_secret_file = %s\n", base, sf);
	conf = put("sf.conf", text, 0644);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SUCCESS, "client_secret_file 0600 accepted");
	if (S != NULL) {
		CHECK_STR(S->client_secret, "Fi1eS3cret", "secret read, trailing newline stripped");
		CHECK_STR(S->client_secret_file, sf, "client_secret_file kept");
		CHECK_INT(S->client_auth, ROPC_CLIENT_AUTH_BASIC, "secret file: client_auth basic");
	}
	CHECK(strstr(logbuf, "Fi1eS3cret") == NULL, "secret file: the secret is not logged");
	put("secret", "CrLfS3cret\r\n", 0600);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SUCCESS, "CRLF secret file accepted");
	if (S != NULL)
		CHECK_STR(S->client_secret, "CrLfS3cret", "CRLF stripped");
	put("secret", "NoNewline", 0400);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SUCCESS, "secret without newline, 0400");
	if (S != NULL)
		CHECK_STR(S->client_secret, "NoNewline", "secret without newline read whole");
	put("secret", "line1\nline2\n", 0600);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SERVICE_ERR, "two-line secret file refused");
	CHECK(strstr(logbuf, "line1") == NULL && strstr(logbuf, "line2") == NULL,
	      "two-line secret not logged");
	put("secret", "\n", 0600);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SERVICE_ERR, "empty secret file refused");
	put("secret", "GroupS3cret\n", 0640);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SERVICE_ERR,
		  "group-readable secret file refused");
	put("secret", "OtherS3cret\n", 0604);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SERVICE_ERR,
		  "world-readable secret file refused");
	sf = put("secret", "LinkS3cret\n", 0600);
	unlink(path_of("secret-link"));
	if (symlink(sf, path_of("secret-link")) != 0)
		tap_diag("symlink: %s", strerror(errno));
	snprintf(text, sizeof(text), "%sclient_id = app\nclient_secret_file = %s\n", base,
		 path_of("secret-link"));
	conf = put("sflink.conf", text, 0644);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SERVICE_ERR, "symlinked secret file refused");
	snprintf(text, sizeof(text), "%sclient_id = app\nclient_secret_file = %s\n", base,
		 path_of("no-such-secret"));
	conf = put("sfmissing.conf", text, 0644);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SERVICE_ERR, "missing secret file refused");
	if (me == 0) {
		sf = put("secret-uid1", "Uid1S3cret\n", 0600);
		if (chown(sf, 1, 1) != 0)
			tap_diag("chown: %s", strerror(errno));
		snprintf(text, sizeof(text), "%sclient_id = app\nclient_secret_file = %s\n", base, sf);
		conf = put("sfowner.conf", text, 0644);
		CHECK_INT(load(conf, (const char *)NULL), PAM_SERVICE_ERR,
			  "secret file owned by uid 1 refused");
		conf = put("owner.conf", base, 0644);
		if (chown(conf, 1, 1) != 0)
			tap_diag("chown: %s", strerror(errno));
		CHECK_INT(load(conf, (const char *)NULL), PAM_SERVICE_ERR,
			  "config file owned by uid 1 refused");
	} else {
		SKIP(2, "not root: cannot chown to uid 1");
	}

	/* Both a secret and a secret file. */
	sf = put("secret", "Fi1eS3cret\n", 0600);
	snprintf(text, sizeof(text),
		 "%sclient_id = app\nclient_secret = InlineS3cret\nclient_secret_file = %s\n",
		 base, sf);
	conf = put("both.conf", text, 0600);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SERVICE_ERR,
		  "client_secret and client_secret_file together refused");
	snprintf(text, sizeof(text), "%sclient_id = app\nclient_secret = InlineS3cret\n", base);
	conf = put("both2.conf", text, 0600);
	{
		char arg[300];

		snprintf(arg, sizeof(arg), "client_secret_file=%s", sf);
		CHECK_INT(load(conf, arg, (const char *)NULL), PAM_SERVICE_ERR,
			  "secret in the file and client_secret_file in the arguments refused");
	}
}

static void
test_cross(void)
{
	char text[512];
	const char *conf;

	conf = put("x1.conf", "client_id = app\n", 0644);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SERVICE_ERR, "no token_endpoint refused");
	CHECK(S != NULL, "settings handed out even when refused (for debug)");
	CHECK(logged(LOG_ERR, "token_endpoint"), "missing token_endpoint logged at LOG_ERR");
	CHECK_INT(load(conf, "token_endpoint=https://idp.example.com/t", (const char *)NULL),
		  PAM_SUCCESS, "token_endpoint from the arguments is enough");

	conf = put("x2.conf", base, 0644);
	CHECK_INT(load(conf, "timeout=5", "connect_timeout=20", (const char *)NULL), PAM_SUCCESS,
		  "connect_timeout > timeout loads");
	if (S != NULL)
		CHECK(S->connect_timeout == 5 && S->timeout == 5,
		      "connect_timeout corrected to timeout (got %ld, %ld)", S->connect_timeout,
		      S->timeout);
	CHECK(logged(LOG_WARNING, "connect_timeout"), "the correction is logged");
	CHECK_INT(load(conf, "timeout=5", "connect_timeout=5", (const char *)NULL), PAM_SUCCESS,
		  "connect_timeout == timeout loads");
	if (S != NULL)
		CHECK_INT(S->connect_timeout, 5, "connect_timeout == timeout kept");

	CHECK_INT(load(conf, "client_auth=basic", "client_id=app", (const char *)NULL),
		  PAM_SERVICE_ERR, "client_auth=basic without a secret refused");
	CHECK_INT(load(conf, "client_auth=post", "client_id=app", (const char *)NULL),
		  PAM_SERVICE_ERR, "client_auth=post without a secret refused");
	snprintf(text, sizeof(text), "%sclient_secret = S3cret\n", base);
	conf = put("x3.conf", text, 0600);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SERVICE_ERR,
		  "a secret without client_id refused");
	CHECK_INT(load(conf, "client_auth=none", (const char *)NULL), PAM_SUCCESS,
		  "client_auth=none with a secret loads (secret unused)");
	CHECK(logged(LOG_WARNING, "not sent"), "client_auth=none with a secret warns");
	conf = put("x4.conf", base, 0644);
	CHECK_INT(load(conf, "client_auth=none", "client_id=public-app", (const char *)NULL),
		  PAM_SUCCESS, "public client with client_id");

	/* The long names of RFC 6749 / OIDC are understood. */
	snprintf(text, sizeof(text), "%sclient_id = app\nclient_secret = S3cret\n", base);
	conf = put("x5.conf", text, 0600);
	CHECK_INT(load(conf, "client_auth=client_secret_post", (const char *)NULL), PAM_SUCCESS,
		  "client_auth=client_secret_post loads");
	if (S != NULL)
		CHECK_INT(S->client_auth, ROPC_CLIENT_AUTH_POST, "client_secret_post is post");
	CHECK_INT(load(conf, "client_auth=client_secret_basic", (const char *)NULL), PAM_SUCCESS,
		  "client_auth=client_secret_basic loads");
	if (S != NULL)
		CHECK_INT(S->client_auth, ROPC_CLIENT_AUTH_BASIC, "client_secret_basic is basic");
	CHECK_INT(load(conf, "client_auth=BASIC", (const char *)NULL), PAM_SUCCESS,
		  "client_auth ignores case");
}

/* What the loads without config= gave.  Plain data: it may be filled in a
 * child process and sent back through a pipe. */
struct default_result {
	char setup_error[512];  /* why ROPC_DEFAULT_CONFIG could not be made
				 * missing; "" when it was */
	int rc_args;            /* load(NULL, token_endpoint=...) */
	int have_config;        /* S and S->config were set after it */
	char config[256];       /* S->config */
	int logged_error;       /* it logged a LOG_ERR line naming "config" */
	int rc_none;            /* load(NULL) */
};

/* The loads without config=; ROPC_DEFAULT_CONFIG must not exist. */
static void
default_loads(struct default_result *r)
{
	r->rc_args = load(NULL, "token_endpoint=https://idp.example.com/t", (const char *)NULL);
	r->have_config = S != NULL && S->config != NULL;
	if (r->have_config)
		snprintf(r->config, sizeof(r->config), "%s", S->config);
	r->logged_error = logged(LOG_ERR, "config");
	r->rc_none = load(NULL, (const char *)NULL);
}

/*
 * default_loads in a child process in a private mount namespace where the
 * directory of ROPC_DEFAULT_CONFIG is an empty tmpfs (root, 0755): there
 * the file is missing whatever this machine holds, and the real directory
 * is never touched (the mount ends with the child).  Needs root
 * (CAP_SYS_ADMIN).  r gets the child's results, or r->setup_error says why
 * there are none.
 */
static void
default_loads_hidden(struct default_result *r)
{
	char parent[128], *slash;
	struct stat st;
	size_t got = 0;
	ssize_t k;
	int fds[2], status = 0;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	snprintf(parent, sizeof(parent), "%s", ROPC_DEFAULT_CONFIG);
	slash = strrchr(parent, '/');
	if (slash == NULL || slash == parent) {
		snprintf(r->setup_error, sizeof(r->setup_error), "no directory in %s",
			 ROPC_DEFAULT_CONFIG);
		return;
	}
	*slash = '\0';
	if (pipe(fds) != 0) {
		snprintf(r->setup_error, sizeof(r->setup_error), "pipe: %s", strerror(errno));
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		snprintf(r->setup_error, sizeof(r->setup_error), "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0) {
		const char *p = (const char *)r;

		close(fds[0]);
		if (unshare(CLONE_NEWNS) != 0)
			snprintf(r->setup_error, sizeof(r->setup_error), "unshare(CLONE_NEWNS): %s",
				 strerror(errno));
		else if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
			snprintf(r->setup_error, sizeof(r->setup_error),
				 "mount --make-rprivate /: %s", strerror(errno));
		else if (stat(parent, &st) == 0 &&
			 mount("ropc-test", parent, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			       "mode=0755") != 0)
			snprintf(r->setup_error, sizeof(r->setup_error), "mount a tmpfs on %s: %s",
				 parent, strerror(errno));
		else if (lstat(ROPC_DEFAULT_CONFIG, &st) == 0 || errno != ENOENT)
			snprintf(r->setup_error, sizeof(r->setup_error),
				 "%s still there under the empty tmpfs", ROPC_DEFAULT_CONFIG);
		else
			default_loads(r);
		while (got < sizeof(*r) && (k = write(fds[1], p + got, sizeof(*r) - got)) > 0)
			got += (size_t)k;
		_exit(got == sizeof(*r) ? 0 : 1);
	}
	close(fds[1]);
	while (got < sizeof(*r) && (k = read(fds[0], (char *)r + got, sizeof(*r) - got)) > 0)
		got += (size_t)k;
	close(fds[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    got != sizeof(*r)) {
		memset(r, 0, sizeof(*r));
		snprintf(r->setup_error, sizeof(r->setup_error),
			 "the child ended with status 0x%x after %zu of %zu bytes", (unsigned int)status,
			 got, sizeof(*r));
	}
}

static void
test_missing_and_size(void)
{
	struct default_result dr;
	struct stat st;
	char *big;
	const char *conf;
	int fd, ran = 0;
	size_t n;

	CHECK_INT(load(path_of("does-not-exist.conf"), "token_endpoint=https://idp.example.com/t",
		       (const char *)NULL),
		  PAM_SERVICE_ERR, "missing explicit config= refused");
	CHECK(logged(LOG_ERR, "does-not-exist.conf"), "missing explicit config logged");
	/* Without config=, a missing default config file is not an error.  As
	 * root the file is hidden in a private mount namespace, whatever this
	 * machine has; otherwise the checks run only where it is absent. */
	memset(&dr, 0, sizeof(dr));
	if (me == 0) {
		default_loads_hidden(&dr);
		ran = 1;
	} else if (stat(ROPC_DEFAULT_CONFIG, &st) != 0 && errno == ENOENT) {
		default_loads(&dr);
		ran = 1;
	}
	if (!ran) {
		SKIP(4, "%s exists on this system, and not root: cannot hide it",
		     ROPC_DEFAULT_CONFIG);
	} else if (dr.setup_error[0] != '\0') {
		FAIL(4, "cannot make %s missing: %s", ROPC_DEFAULT_CONFIG, dr.setup_error);
	} else {
		CHECK_INT(dr.rc_args, PAM_SUCCESS,
			  "missing default config: the arguments alone are used");
		CHECK_STR(dr.have_config ? dr.config : NULL, ROPC_DEFAULT_CONFIG,
			  "config is the default path");
		CHECK(!dr.logged_error, "missing default config is not an error");
		CHECK_INT(dr.rc_none, PAM_SERVICE_ERR,
			  "no config file and no arguments: no token_endpoint");
	}

	/* Exactly 64 KiB is fine, one byte more is not. */
	big = malloc(ROPC_MAX_CONFIG_SIZE + 2);
	n = strlen(base);
	memcpy(big, base, n);
	memset(big + n, '#', ROPC_MAX_CONFIG_SIZE - n);
	big[ROPC_MAX_CONFIG_SIZE - 1] = '\n';
	big[ROPC_MAX_CONFIG_SIZE] = '\0';
	conf = put("max.conf", big, 0644);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SUCCESS, "config file of exactly 64 KiB read");
	big[ROPC_MAX_CONFIG_SIZE - 1] = '#';
	big[ROPC_MAX_CONFIG_SIZE] = '\n';
	big[ROPC_MAX_CONFIG_SIZE + 1] = '\0';
	conf = put("max1.conf", big, 0644);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SERVICE_ERR,
		  "config file of 64 KiB + 1 refused");
	CHECK(logged(LOG_ERR, "max1.conf"), "oversized config logged at LOG_ERR");
	free(big);

	/* Not a regular file, a symlink, a NUL byte. */
	mkdir(path_of("conf-dir"), 0755);
	CHECK_INT(load(path_of("conf-dir"), (const char *)NULL), PAM_SERVICE_ERR,
		  "config= naming a directory refused");
	conf = put("real.conf", base, 0644);
	unlink(path_of("link.conf"));
	if (symlink(conf, path_of("link.conf")) != 0)
		tap_diag("symlink: %s", strerror(errno));
	CHECK_INT(load(path_of("link.conf"), (const char *)NULL), PAM_SERVICE_ERR,
		  "symlinked config file refused");
	fd = open(path_of("nul.conf"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (write(fd, base, strlen(base)) < 0 || write(fd, "scope = a\0b\n", 12) < 0)
			tap_diag("write: %s", strerror(errno));
		close(fd);
	}
	CHECK_INT(load(path_of("nul.conf"), (const char *)NULL), PAM_SERVICE_ERR,
		  "config file with a NUL byte refused");
}

/* URLs are parsed with libcurl's URL API when read; credentials in URLs
 * are refused where they could leak, and never logged. */
static void
test_urls(void)
{
	char text[1024];
	const char *conf;

	arg_rc("token_endpoint=https://[::1/token", PAM_SERVICE_ERR,
	       "malformed IPv6 endpoint refused when read");
	CHECK(logged(LOG_ERR, "is not a valid URL"), "malformed endpoint: LOG_ERR says why");
	arg_rc("token_endpoint=https://[::1]:8443/token", PAM_SUCCESS, "IPv6 endpoint accepted");
	arg_rc("token_endpoint=https://idp.ex%cc.com/token", PAM_SERVICE_ERR,
	       "a host that decodes to a non-ASCII byte refused (found by fuzz-config)");
	arg_rc("token_endpoint=https://u:hunter2@idp.example.com/token", PAM_SERVICE_ERR,
	       "endpoint with user:password@ refused");
	CHECK(!logged(LOG_ERR, "hunter2") && logged(LOG_ERR, "<credentials removed>"),
	      "endpoint credentials never logged");
	arg_rc("token_endpoint=https://u:hunter2@[::1/token", PAM_SERVICE_ERR,
	       "malformed endpoint with credentials refused");
	CHECK(!logged(LOG_ERR, "hunter2"), "credentials of a malformed endpoint never logged");
	arg_rc("proxy=http://[::1:3128", PAM_SERVICE_ERR, "malformed proxy refused when read");
	arg_rc("proxy=http://pu:hunter3@proxy.example.com:3128", PAM_SERVICE_ERR,
	       "proxy credentials refused in the pam.d arguments");
	CHECK(!logged(LOG_ERR, "hunter3"), "proxy credentials never logged");
	snprintf(text, sizeof(text), "%sproxy = http://pu:hunter3@proxy.example.com:3128\n", base);
	conf = put("proxycreds.conf", text, 0644);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SERVICE_ERR,
		  "proxy credentials refused in a file readable by others");
	CHECK(!logged(LOG_ERR, "hunter3"), "proxy credentials in a 0644 file never logged");
	conf = put("proxycreds600.conf", text, 0600);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SUCCESS,
		  "proxy credentials accepted from a mode 600 config file");
	CHECK(S != NULL && S->proxy != NULL && strstr(S->proxy, "hunter3") != NULL,
	      "the proxy URL keeps its credentials");
}

/* minimum_uid: a uid, default 1000. */
static void
test_minimum_uid(void)
{
	const char *conf = put("uid.conf", base, 0644);

	CHECK_INT(load(conf, (const char *)NULL), PAM_SUCCESS, "base config loads");
	CHECK(S != NULL && S->minimum_uid == 1000, "minimum_uid defaults to 1000");
	CHECK_INT(load(conf, "minimum_uid=0", (const char *)NULL), PAM_SUCCESS, "minimum_uid=0");
	CHECK(S != NULL && S->minimum_uid == 0, "minimum_uid=0 is stored");
	CHECK_INT(load(conf, "minimum_uid=4294967294", (const char *)NULL), PAM_SUCCESS,
		  "minimum_uid=4294967294");
	arg_rc("minimum_uid=4294967295", PAM_SERVICE_ERR, "minimum_uid past the last uid refused");
	arg_rc("minimum_uid=-1", PAM_SERVICE_ERR, "negative minimum_uid refused");
	arg_rc("minimum_uid=1000x", PAM_SERVICE_ERR, "minimum_uid with junk refused");
	arg_rc("minimum_uid=", PAM_SERVICE_ERR, "empty minimum_uid refused");
}

/* Who the token is for (token_check) and the claim rules: what loads,
 * what is refused when read. */
static void
test_identity_keys(void)
{
	const char *conf = put("identity.conf", base, 0644);
	const char *iss = "issuer=https://idp.example.com/realms/r";

	CHECK_INT(load(conf, (const char *)NULL), PAM_SUCCESS, "base config loads");
	CHECK(S != NULL && S->token_check == ROPC_CHECK_NONE, "no issuer: token_check none");
	CHECK(S != NULL && S->clock_skew == 60 && S->cache_ttl == 3600,
	      "clock_skew 60 and cache_ttl 3600 by default");
	CHECK(S != NULL && strcmp(S->cache_dir, "/var/cache/pam_ropc") == 0 &&
	      strcmp(S->groups_claim, "groups") == 0, "cache_dir and groups_claim defaults");
	CHECK(S != NULL && S->allowed_algs[ROPC_JWS_RS256] && S->allowed_algs[ROPC_JWS_HS512] &&
	      S->allowed_algs[ROPC_JWS_ES384], "every algorithm allowed by default");
	CHECK_INT(load(conf, iss, "client_id=box", (const char *)NULL), PAM_SUCCESS,
		  "issuer and client_id load");
	CHECK(S != NULL && S->token_check == ROPC_CHECK_ID_TOKEN, "issuer: token_check id_token");
	arg_rc("token_check=id_token", PAM_SERVICE_ERR, "id_token without issuer refused");
	arg_rc("token_check=jwt", PAM_SERVICE_ERR, "jwt without issuer refused");
	arg_rc("token_check=introspection", PAM_SERVICE_ERR,
	       "introspection without an endpoint or issuer refused");
	arg_rc("token_check=maybe", PAM_SERVICE_ERR, "an unknown token_check refused");
	CHECK_INT(load(conf, "token_check=introspection",
		       "introspection_endpoint=https://idp.example.com/introspect",
		       (const char *)NULL), PAM_SUCCESS, "introspection with its endpoint loads");
	arg_rc("username_claim=preferred_username", PAM_SERVICE_ERR,
	       "username_claim with token_check none refused");
	arg_rc("allowed_groups=admins", PAM_SERVICE_ERR,
	       "allowed_groups with token_check none refused");
	arg_rc("require_claim=dept=eng", PAM_SERVICE_ERR,
	       "require_claim with token_check none refused");
	arg_rc("export_claims=email", PAM_SERVICE_ERR,
	       "export_claims with token_check none refused");
	arg_rc("userinfo=yes", PAM_SERVICE_ERR, "userinfo with token_check none refused");
	arg_rc("require_scope=custom:scope", PAM_SUCCESS,
	       "require_scope may be used with token_check none");
	CHECK_INT(load(conf, iss, (const char *)NULL), PAM_SERVICE_ERR,
		  "id_token without client_id refused (aud must hold it)");
	CHECK_INT(load(conf, iss, "client_id=box", "username_claim=preferred_username",
		       "username_claim_case=insensitive", "allowed_groups=admins, ssh-users",
		       "require_claim=realm_access.roles=admin", "require_claim=email_verified=true",
		       "export_claims=email realm_access.roles", "allowed_algs=RS256,ES256",
		       "clock_skew=0", "cache_ttl=60", (const char *)NULL),
		  PAM_SUCCESS, "every claim rule loads");
	if (S != NULL) {
		CHECK(S->username_claim_insensitive, "username_claim_case=insensitive");
		CHECK(S->n_require_claims == 2 &&
		      strcmp(S->require_claims[0].name, "realm_access.roles") == 0 &&
		      strcmp(S->require_claims[0].value, "admin") == 0,
		      "require_claim repeats, name=value");
		CHECK(S->allowed_algs[ROPC_JWS_RS256] && S->allowed_algs[ROPC_JWS_ES256] &&
		      !S->allowed_algs[ROPC_JWS_HS256] && !S->allowed_algs[ROPC_JWS_PS256],
		      "allowed_algs replaces the default list");
		CHECK(S->clock_skew == 0 && S->cache_ttl == 60, "clock_skew=0, cache_ttl=60");
	} else {
		FAIL(4, "the claim rules did not load");
	}
	arg_rc("allowed_algs=none", PAM_SERVICE_ERR, "allowed_algs=none refused");
	CHECK(logged(LOG_ERR, "may never hold none"), "allowed_algs=none: LOG_ERR says why");
	arg_rc("allowed_algs=RS256,rs512", PAM_SERVICE_ERR, "allowed_algs names are exact");
	arg_rc("username_claim_case=upper", PAM_SERVICE_ERR, "username_claim_case: exact|insensitive");
	arg_rc("clock_skew=3601", PAM_SERVICE_ERR, "clock_skew over an hour refused");
	arg_rc("cache_ttl=59", PAM_SERVICE_ERR, "cache_ttl under a minute refused");
	arg_rc("username_claim=a..b", PAM_SERVICE_ERR, "a claim path with an empty step refused");
	arg_rc("export_claims=a;b", PAM_SERVICE_ERR, "export_claims with a bad name refused");
	arg_rc("require_claim=novalue", PAM_SERVICE_ERR, "require_claim without = refused");
	arg_rc("introspection_client_secret=s3cr3t", PAM_SERVICE_ERR,
	       "introspection_client_secret refused in pam.d");
	arg_rc("issuer=http://idp.example.com", PAM_SERVICE_ERR, "an http:// issuer refused");
	arg_rc("jwks_uri=https://u:p@idp.example.com/jwks", PAM_SERVICE_ERR,
	       "a jwks_uri with credentials refused");
	conf = put("issuer-only.conf", "issuer = https://idp.example.com\nclient_id = box\n", 0644);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SUCCESS,
		  "issuer without token_endpoint loads (discovery names it)");
	CHECK(S != NULL && strcmp(S->issuer, "https://idp.example.com") == 0,
	      "the issuer is kept as written (no / added: it is compared byte for byte)");
	arg_rc("require_scope=", PAM_SERVICE_ERR, "an empty require_scope refused");
	conf = put("nothing.conf", "client_id = box\n", 0644);
	CHECK_INT(load(conf, (const char *)NULL), PAM_SERVICE_ERR,
		  "neither issuer nor token_endpoint refused");
}

/* Second factors (issue: MFA). */
static void
test_mfa_keys(void)
{
	const char *conf = put("mfa.conf", base, 0644);
	const char *iss = "issuer=https://idp.example.com/r";

	CHECK_INT(load(conf, (const char *)NULL), PAM_SUCCESS, "base config loads");
	CHECK(S != NULL && S->mfa == ROPC_MFA_DENY && S->flow == ROPC_FLOW_PASSWORD &&
	      S->device_qr && S->device_timeout == 120 && S->otp_param == NULL && !S->otp_append,
	      "mfa deny, flow password, device_qr yes, device_timeout 120 by default");
	arg_rc("mfa=otp", PAM_SERVICE_ERR, "mfa=otp without username_claim refused");
	CHECK_INT(load(conf, iss, "client_id=box", "mfa=otp", "username_claim=preferred_username",
		       (const char *)NULL), PAM_SUCCESS, "mfa=otp with username_claim loads");
	CHECK(S != NULL && S->mfa == ROPC_MFA_OTP, "mfa=otp is stored");
	arg_rc("mfa=device", PAM_SERVICE_ERR, "mfa=device without username_claim refused");
	CHECK(logged(LOG_ERR, "needs username_claim"), "mfa=device: LOG_ERR says why");
	arg_rc("flow=device", PAM_SERVICE_ERR, "flow=device without username_claim refused");
	CHECK_INT(load(conf, iss, "client_id=box", "mfa=device",
		       "username_claim=preferred_username", (const char *)NULL), PAM_SUCCESS,
		  "mfa=device with issuer and username_claim loads");
	CHECK_INT(load(conf, "token_check=introspection",
		       "introspection_endpoint=https://idp.example.com/i", "flow=device",
		       "username_claim=username", (const char *)NULL), PAM_SERVICE_ERR,
		  "the device flow without device_authorization_endpoint or issuer refused");
	CHECK(logged(LOG_ERR, "device_authorization_endpoint"),
	      "no device endpoint: LOG_ERR names it");
	arg_rc("mfa=sometimes", PAM_SERVICE_ERR, "an unknown mfa refused");
	arg_rc("flow=magic", PAM_SERVICE_ERR, "an unknown flow refused");
	arg_rc("otp_param=otp", PAM_SUCCESS, "otp_param=otp loads");
	arg_rc("otp_param=password", PAM_SERVICE_ERR, "otp_param naming password refused");
	arg_rc("otp_param=a b", PAM_SERVICE_ERR, "otp_param with a space refused");
	CHECK_INT(load(conf, "otp_param=otp", "otp_append=yes", (const char *)NULL),
		  PAM_SERVICE_ERR, "otp_param and otp_append together refused");
	CHECK_INT(load(conf, "otp_append=yes", "otp_separator=:", (const char *)NULL),
		  PAM_SUCCESS, "otp_append with a separator loads");
	CHECK(S != NULL && S->otp_append && strcmp(S->otp_separator, ":") == 0,
	      "otp_append and otp_separator are stored");
	arg_rc("otp_separator=123456789", PAM_SERVICE_ERR, "a separator over 8 bytes refused");
	arg_rc("device_timeout=9", PAM_SERVICE_ERR, "device_timeout under 10 s refused");
	arg_rc("device_timeout=901", PAM_SERVICE_ERR, "device_timeout over 900 s refused");
	arg_rc("device_qr=maybe", PAM_SERVICE_ERR, "device_qr must be yes or no");
}

/* Outages (issue: outages): the offline cache and fail fast. */
static void
test_outage_keys(void)
{
	const char *conf = put("outage.conf", base, 0644);

	CHECK_INT(load(conf, (const char *)NULL), PAM_SUCCESS, "base config loads");
	CHECK(S != NULL && !S->offline_cache && S->offline_ttl == 604800 &&
	      S->offline_max_failures == 5 && S->offline_lockout == 300 &&
	      S->offline_hash_cost == 5 && S->fail_fast == 30,
	      "offline cache off, ttl 7 days, 5 failures, 300 s lockout, cost 5, fail_fast 30");
	CHECK_INT(load(conf, "offline_cache=yes", "offline_ttl=60", "offline_max_failures=1",
		       "offline_lockout=0", "offline_hash_cost=11", "fail_fast=0",
		       (const char *)NULL), PAM_SUCCESS, "every outage key at its bound loads");
	CHECK(S != NULL && S->offline_cache && S->offline_ttl == 60 && S->fail_fast == 0 &&
	      S->offline_hash_cost == 11, "the outage keys are stored");
	arg_rc("offline_ttl=59", PAM_SERVICE_ERR, "offline_ttl under a minute refused");
	CHECK(logged(LOG_ERR, "must be a whole number from 60 to 31536000"),
	      "offline_ttl: LOG_ERR gives the range");
	arg_rc("offline_max_failures=0", PAM_SERVICE_ERR, "offline_max_failures=0 refused");
	arg_rc("offline_hash_cost=12", PAM_SERVICE_ERR, "offline_hash_cost over 11 refused");
	arg_rc("fail_fast=3601", PAM_SERVICE_ERR, "fail_fast over an hour refused");
	arg_rc("fail_fast=-1", PAM_SERVICE_ERR, "a negative fail_fast refused");
}

int
main(void)
{
	me = geteuid();
	umask(022);
	/* Under /run/ropc-tests as root: every directory above the files is
	 * root-owned and closed to group and other writes, as the module
	 * demands of the config, secret and trust files (tap.h). */
	if (tap_safe_tmpdir(dir, sizeof(dir), "options") != 0)
		return 1;

	test_defaults();
	test_file_syntax();
	test_override();
	test_unknown();
	test_urls();
	test_minimum_uid();
	test_identity_keys();
	test_mfa_keys();
	test_outage_keys();
	test_malformed();
	test_error_map_lists();
	test_duplicates();
	test_secrets();
	test_cross();
	test_missing_and_size();

	CHECK(real_calls > 0, "libpam's pam_vsyslog took a NULL handle %d times without crashing",
	      real_calls);
	ropc_settings_free(S);
	tap_remove_tmpdir(dir);
	return tap_done();
}
