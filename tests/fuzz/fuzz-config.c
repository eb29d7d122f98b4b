/*
 * fuzz-config.c: the settings, from the config file text and the pam.d
 * arguments through ropc_settings_load_as (options.c, secfile.c).
 *
 * Input: the config file text, a NUL, then NUL-separated items.  Up to 7
 * items become pam.d arguments after the first, which is always
 * config=<private dir>/pam_ropc.conf.  Items that start with '@' are
 * directives for the files instead:
 *   @mode=OOO     the config file's mode (octal; default 600)
 *   @secret=TEXT  write TEXT to <private dir>/secret (else it is removed)
 *   @smode=OOO    the secret file's mode (default 600)
 *   @owner        the files must be owned by another uid than ours
 *   @nul          a NUL byte at the end of the config file
 *   @noconfig     no config file at all
 *   @symlink      the config path is a symbolic link to the file
 *   @big          a 64 KiB comment line at the end of the config file
 *   @bigsecret    the secret file padded past its 4 KiB limit
 *   @config-last  the config= argument goes last instead of first
 * "@DIR@" anywhere in the config text or an argument is replaced by the
 * private directory, so client_secret_file=@DIR@/secret can be tried.
 * The directory is made once per process (mkdtemp, mode 700; in
 * $FUZZ_TMPDIR, else /dev/shm, else $TMPDIR or /tmp) and removed at exit;
 * the files are rewritten for every input, so an input alone decides the
 * result.
 *
 * Checks: the return code is one of the three documented; on PAM_SUCCESS
 * every value is one its validator allows (token_endpoint an https:// URL
 * with a host, timeouts in 1..300 with connect_timeout <= timeout,
 * env_prefix a valid variable name prefix, client authentication complete,
 * error_map outcomes never success...), and a request body and Basic header
 * can be built from it; a client_secret in the pam.d arguments, or in a
 * config file that group or others may read, never gives PAM_SUCCESS; no
 * log line holds a control character, or a client secret (one of 8 or more
 * bytes, with a letter and a digit, no space or backslash, found once in the
 * input, so that no other log text can hold it by chance).
 */
#define _GNU_SOURCE 1
#include "fuzz-common.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "env.h"
#include "form.h"
#include "options.h"
#include "outcome.h"
#include "user.h"

#define MAX_ARGS 8
#define BIG ((size_t)ROPC_MAX_CONFIG_SIZE)

static char dir[256];
static char cfg_path[300];
static char secret_path[300];
static char real_path[300];
static char config_arg[320];

static void
cleanup(void)
{
	if (dir[0] == '\0')
		return;
	unlink(cfg_path);
	unlink(secret_path);
	unlink(real_path);
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("FUZZ_TMPDIR");

	(void)argc;
	(void)argv;
	/* The module refuses files below a directory that group or others
	 * may write (/tmp, /dev/shm): as root, use /run/ropc-tests (root's
	 * alone, and a tmpfs on most systems, several times faster than a
	 * journalled disk for files rewritten at every input). */
	if (tmp == NULL && geteuid() == 0 &&
	    (mkdir("/run/ropc-tests", 0755) == 0 || errno == EEXIST))
		tmp = "/run/ropc-tests";
	if (tmp == NULL && access("/dev/shm", W_OK | X_OK) == 0)
		tmp = "/dev/shm";
	if (tmp == NULL)
		tmp = getenv("TMPDIR");
	if (tmp == NULL || tmp[0] != '/' || strlen(tmp) > 150)
		tmp = "/tmp";
	snprintf(dir, sizeof(dir), "%s/fuzz-config.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "fuzz-config: mkdtemp %s: %s\n", dir, strerror(errno));
		exit(1);
	}
	snprintf(cfg_path, sizeof(cfg_path), "%s/pam_ropc.conf", dir);
	snprintf(secret_path, sizeof(secret_path), "%s/secret", dir);
	snprintf(real_path, sizeof(real_path), "%s/real.conf", dir);
	snprintf(config_arg, sizeof(config_arg), "config=%s", cfg_path);
	atexit(cleanup);
	return 0;
}

/* n bytes of s with every "@DIR@" replaced by dir; a new C string. */
static char *
subst(const char *s, size_t n)
{
	static const char mark[] = "@DIR@";
	size_t dl = strlen(dir), count = 0, i, o = 0;
	const char *p = s, *q;
	char *out;

	while ((q = memmem(p, n - (size_t)(p - s), mark, 5)) != NULL) {
		count++;
		p = q + 5;
	}
	out = malloc(n + count * dl + 1);
	if (out == NULL)
		return NULL;
	for (i = 0; i < n;) {
		if (n - i >= 5 && memcmp(s + i, mark, 5) == 0) {
			memcpy(out + o, dir, dl);
			o += dl;
			i += 5;
		} else {
			out[o++] = s[i++];
		}
	}
	out[o] = '\0';
	return out;
}

static int
write_file(const char *path, const char *text, size_t n, unsigned int mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	size_t done = 0;

	if (fd < 0)
		return -1;
	while (done < n) {
		ssize_t w = write(fd, text + done, n - done);

		if (w < 0) {
			close(fd);
			return -1;
		}
		done += (size_t)w;
	}
	if (fchmod(fd, mode & 0777) < 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static bool
all_bytes(const char *s, int lo, int hi)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < lo || (unsigned char)*s > hi)
			return false;
	return true;
}

static bool
has_ctl(const char *s)
{
	return !all_bytes(s, 0x20, 0xff) || strchr(s, 0x7f) != NULL;
}

static bool
abs_path_ok(const char *s)
{
	return s[0] == '/' && !has_ctl(s);
}

/* The key of a pam.d argument is the text before '=' (all of a bare word). */
static bool
arg_key_is(const char *arg, const char *key)
{
	size_t n = strlen(key);

	return strncmp(arg, key, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

/* ---- client secrets in the input, for the log check ---- */

#define MAX_SECRETS 16

struct secrets {
	char *v[MAX_SECRETS];
	size_t n;
};

static void
add_secret(struct secrets *sc, const char *s, size_t n)
{
	if (sc->n < MAX_SECRETS && n > 0 && (sc->v[sc->n] = strndup(s, n)) != NULL)
		sc->n++;
}

/* client_secret = VALUE lines of the config text, as options.c reads them. */
static void
file_secrets(struct secrets *sc, const char *text)
{
	const char *line = text;

	while (line != NULL && *line != '\0') {
		const char *nl = strchr(line, '\n');
		const char *end = nl != NULL ? nl : line + strlen(line);
		const char *k = line, *eq, *ke, *v, *ve;

		while (k < end && isspace((unsigned char)*k))
			k++;
		eq = memchr(k, '=', (size_t)(end - k));
		if (eq != NULL) {
			ke = eq;
			while (ke > k && isspace((unsigned char)ke[-1]))
				ke--;
			v = eq + 1;
			ve = end;
			while (v < ve && isspace((unsigned char)*v))
				v++;
			while (ve > v && isspace((unsigned char)ve[-1]))
				ve--;
			if (ke - k == 13 && memcmp(k, "client_secret", 13) == 0)
				add_secret(sc, v, (size_t)(ve - v));
		}
		line = nl != NULL ? nl + 1 : NULL;
	}
}

static size_t
count(const uint8_t *hay, size_t n, const char *needle)
{
	size_t c = 0, nl = strlen(needle);
	const uint8_t *p = hay, *q;

	while ((q = memmem(p, n - (size_t)(p - hay), needle, nl)) != NULL) {
		c++;
		p = q + 1;
	}
	return c;
}

/* The input as ropc_sanitize escapes it: every log field cut from the
 * input is a substring of this. */
static char *
escaped(const uint8_t *data, size_t size, size_t *len)
{
	static const char hex[] = "0123456789abcdef";
	char *out = malloc(4 * size + 1), *o = out;
	size_t i;

	if (out == NULL)
		return NULL;
	for (i = 0; i < size; i++) {
		if (data[i] == '"' || data[i] == '\\') {
			*o++ = '\\';
			*o++ = (char)data[i];
		} else if (data[i] >= 0x20 && data[i] < 0x7f) {
			*o++ = (char)data[i];
		} else {
			*o++ = '\\';
			*o++ = 'x';
			*o++ = hex[data[i] >> 4];
			*o++ = hex[data[i] & 0xf];
		}
	}
	*o = '\0';
	*len = (size_t)(o - out);
	return out;
}

static void
check_secrets_not_logged(const struct secrets *sc, const uint8_t *data, size_t size)
{
	size_t i, elen = 0;
	char *esc = NULL;

	for (i = 0; i < sc->n; i++) {
		const char *s = sc->v[i];
		size_t n = strlen(s), j;
		bool letter = false, digit = false;

		for (j = 0; j < n; j++) {
			letter |= isalpha((unsigned char)s[j]) != 0;
			digit |= isdigit((unsigned char)s[j]) != 0;
		}
		/* Only secrets no other log text can contain by chance: no
		 * white space (the paths and "line N" are logged), no quote or
		 * backslash, a letter and a digit (the texts and numbers the
		 * module logs itself), found once in the input and once in the
		 * input as escaped for the log (where "\xb9f8..." holds
		 * "9f8..."). */
		if (n < 8 || !letter || !digit || strpbrk(s, " \t\r\n\v\f\\\"") != NULL ||
		    count(data, size, s) != 1)
			continue;
		if (esc == NULL && (esc = escaped(data, size, &elen)) == NULL)
			return;
		if (count((const uint8_t *)esc, elen, s) != 1 ||
		    strstr(cfg_path, s) != NULL || strstr(secret_path, s) != NULL ||
		    strstr(s, "@DIR@") != NULL)
			continue;
		FUZZ_CHECK("secret-logged", !fuzz_log_leaks(s, n),
			   "the client secret \"%s\" is in the log", s);
	}
	free(esc);
}

/* ---- the settings a PAM_SUCCESS may give ---- */

static void
check_settings(const struct ropc_settings *s)
{
	static const char *const reserved[] = {
		"grant_type", "username", "password", "client_id",
		"client_secret", "scope", "resource",
	};
	const char *te = s->token_endpoint, *p;
	size_t i, j;
	char var[128];
	bool has_u = false;

	FUZZ_CHECK("endpoint", te != NULL, "PAM_SUCCESS without token_endpoint");
	if (te == NULL || s->env_prefix == NULL || s->username_format == NULL ||
	    s->scope == NULL || s->config == NULL)
		return;         /* FUZZ_SKIP: nothing more to look at */
	FUZZ_CHECK("endpoint", strncasecmp(te, "https://", 8) == 0 && te[8] != '\0' &&
		   te[8] != '/' && all_bytes(te, 0x21, 0x7e),
		   "token_endpoint \"%s\"", te);
	FUZZ_CHECK("timeout", s->timeout >= 1 && s->timeout <= 300, "timeout %ld", s->timeout);
	FUZZ_CHECK("timeout", s->connect_timeout >= 1 && s->connect_timeout <= s->timeout,
		   "connect_timeout %ld with timeout %ld", s->connect_timeout, s->timeout);
	p = s->env_prefix;
	FUZZ_CHECK("env-prefix", p != NULL && strlen(p) >= 1 && strlen(p) <= 64 &&
		   (isalpha((unsigned char)p[0]) || p[0] == '_'),
		   "env_prefix \"%s\"", p != NULL ? p : "(null)");
	for (; p != NULL && *p != '\0'; p++)
		FUZZ_CHECK("env-prefix", isalnum((unsigned char)*p) || *p == '_',
			   "env_prefix \"%s\"", s->env_prefix);
	FUZZ_CHECK("env-prefix", ropc_env_name(s->env_prefix, ROPC_ENV_REFRESH_TOKEN, var,
					       sizeof(var)) == 0,
		   "env_prefix \"%s\" makes no variable name", s->env_prefix);
	FUZZ_CHECK("client-auth", s->client_auth == ROPC_CLIENT_AUTH_BASIC ||
		   s->client_auth == ROPC_CLIENT_AUTH_POST ||
		   s->client_auth == ROPC_CLIENT_AUTH_NONE,
		   "client_auth %d after loading", (int)s->client_auth);
	if (s->client_auth != ROPC_CLIENT_AUTH_NONE)
		FUZZ_CHECK("client-auth", s->client_id != NULL && s->client_secret != NULL,
			   "client_auth %d without id and secret", (int)s->client_auth);
	FUZZ_CHECK("client-id", s->client_id == NULL ||
		   (s->client_id[0] != '\0' && all_bytes(s->client_id, 0x21, 0x7e)),
		   "client_id \"%s\"", s->client_id);
	FUZZ_CHECK("client-secret", s->client_secret == NULL ||
		   (s->client_secret[0] != '\0' && all_bytes(s->client_secret, 0x21, 0x7e)),
		   "a client_secret outside VSCHAR");
	FUZZ_CHECK("scope", s->scope != NULL && all_bytes(s->scope, 0x20, 0x7e) &&
		   strpbrk(s->scope, "\"\\") == NULL, "scope \"%s\"", s->scope);
	FUZZ_CHECK("resource", s->resource == NULL ||
		   (s->resource[0] != '\0' && all_bytes(s->resource, 0x21, 0x7e)),
		   "resource \"%s\"", s->resource);
	p = s->username_format;
	FUZZ_CHECK("username-format", p != NULL && strlen(p) <= 256 && !has_ctl(p),
		   "username_format \"%s\"", p);
	for (; *p != '\0'; p++) {
		if (*p != '%')
			continue;
		p++;
		FUZZ_CHECK("username-format", *p == 'u' || *p == '%',
			   "username_format \"%s\"", s->username_format);
		if (*p == '\0')
			break;
		has_u |= *p == 'u';
	}
	FUZZ_CHECK("username-format", has_u, "username_format \"%s\" without %%u",
		   s->username_format);
	FUZZ_CHECK("error-map", s->n_error_map <= 32 && (s->n_error_map == 0) ==
		   (s->error_map == NULL), "%zu error_map entries", s->n_error_map);
	for (i = 0; s->error_map != NULL && i < s->n_error_map; i++) {
		int o = s->error_map[i].outcome;

		FUZZ_CHECK("error-map", o > ROPC_OUT_SUCCESS && o < ROPC_OUT_COUNT &&
			   ropc_outcome_from_name(ropc_outcome_info(o)->name) == o,
			   "error_map entry %zu has outcome %d", i, o);
		FUZZ_CHECK("error-map", s->error_map[i].pattern != NULL &&
			   s->error_map[i].pattern[0] != '\0' && !has_ctl(s->error_map[i].pattern),
			   "error_map entry %zu has an unusable pattern", i);
	}
	FUZZ_CHECK("extra-param", s->n_extra_params <= 32, "%zu extra_params",
		   s->n_extra_params);
	for (i = 0; s->extra_params != NULL && i < s->n_extra_params; i++) {
		const char *name = s->extra_params[i].name;

		FUZZ_CHECK("extra-param", name[0] != '\0' && !has_ctl(s->extra_params[i].value),
			   "extra_param %zu", i);
		for (p = name; *p != '\0'; p++)
			FUZZ_CHECK("extra-param", isalnum((unsigned char)*p) ||
				   strchr("_.-", *p) != NULL, "extra_param name \"%s\"", name);
		for (j = 0; j < sizeof(reserved) / sizeof(reserved[0]); j++)
			FUZZ_CHECK("extra-param", strcmp(name, reserved[j]) != 0,
				   "extra_param overrides \"%s\"", name);
	}
	FUZZ_CHECK("first-pass", !(s->use_first_pass && s->try_first_pass),
		   "both use_first_pass and try_first_pass");
	FUZZ_CHECK("paths", (s->ca_file == NULL || abs_path_ok(s->ca_file)) &&
		   (s->ca_path == NULL || abs_path_ok(s->ca_path)) &&
		   (s->client_secret_file == NULL || abs_path_ok(s->client_secret_file)) &&
		   s->config != NULL && abs_path_ok(s->config), "a path that is not absolute");
	FUZZ_CHECK("proxy", s->proxy == NULL ||
		   ((strncasecmp(s->proxy, "http://", 7) == 0 ||
		     strncasecmp(s->proxy, "https://", 8) == 0) &&
		    !has_ctl(s->proxy) && strchr(s->proxy, ' ') == NULL),
		   "proxy \"%s\"", s->proxy);
	FUZZ_CHECK("pin", s->pinned_public_key == NULL ||
		   (strncmp(s->pinned_public_key, "sha256//", 8) == 0
			    ? all_bytes(s->pinned_public_key, 0x21, 0x7e)
			    : abs_path_ok(s->pinned_public_key)),
		   "pinned_public_key \"%s\"", s->pinned_public_key);
}

/* What the rest of the module builds from the settings must work. */
static void
use_settings(const struct ropc_settings *s)
{
	struct ropc_buf body, hdr;
	char *user;

	user = ropc_user_map(s->username_format, "alice");
	FUZZ_CHECK("use", user == NULL || strstr(user, "alice") != NULL,
		   "username_format \"%s\" maps alice to \"%s\"", s->username_format, user);
	ropc_buf_init(&body, ROPC_MAX_BODY);
	if (user != NULL && ropc_form_build(s, user, "correct horse", &body) == 0)
		FUZZ_CHECK("use", body.data != NULL && strncmp(body.data,
			   "grant_type=password&username=", 29) == 0,
			   "request body \"%.80s\"", body.data);
	ropc_buf_free(&body);
	free(user);
	if (s->client_auth == ROPC_CLIENT_AUTH_BASIC && s->client_id != NULL &&
	    s->client_secret != NULL) {
		ropc_buf_init(&hdr, (size_t)16 * 1024);
		FUZZ_CHECK("use", ropc_form_basic_header(s->client_id, s->client_secret, &hdr) == 0,
			   "no Basic header for a %zu-byte id and %zu-byte secret",
			   strlen(s->client_id), strlen(s->client_secret));
		ropc_buf_free(&hdr);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t tlen = nul != NULL ? (size_t)(nul - data) : size;
	char *text, *argstore[MAX_ARGS] = { NULL };
	const char *argv[MAX_ARGS];
	int argc = 1, rc, i;
	unsigned int mode = 0600, smode = 0600;
	bool nul_end = false, no_config = false, other_owner = false;
	bool secret_arg = false, config_arg_again = false, have_secret = false;
	bool symlinked = false, big = false, big_secret = false, config_last = false;
	struct ropc_settings *s = NULL;
	struct ropc_ctx ctx;
	struct secrets sc = { .n = 0 };
	size_t off;

	text = subst((const char *)data, tlen);
	if (text == NULL)
		return 0;
	argv[0] = config_arg;

	/* The items after the text. */
	off = nul != NULL ? tlen + 1 : size;
	while (off < size) {
		const uint8_t *e = memchr(data + off, '\0', size - off);
		size_t n = e != NULL ? (size_t)(e - (data + off)) : size - off;
		const char *item = (const char *)data + off;

		off += n + 1;
		if (n >= 6 && memcmp(item, "@mode=", 6) == 0) {
			char v[8] = "";

			memcpy(v, item + 6, n - 6 < 7 ? n - 6 : 7);
			mode = (unsigned int)strtoul(v, NULL, 8) & 0777;
		} else if (n >= 7 && memcmp(item, "@smode=", 7) == 0) {
			char v[8] = "";

			memcpy(v, item + 7, n - 7 < 7 ? n - 7 : 7);
			smode = (unsigned int)strtoul(v, NULL, 8) & 0777;
		} else if (n >= 8 && memcmp(item, "@secret=", 8) == 0) {
			char *sv = subst(item + 8, n - 8);

			if (sv != NULL) {
				size_t sl = strlen(sv);

				if (write_file(secret_path, sv, sl, 0600) == 0)
					have_secret = true;
				while (sl > 0 && (sv[sl - 1] == '\n' || sv[sl - 1] == '\r'))
					sl--;
				add_secret(&sc, sv, sl);
				free(sv);
			}
		} else if (n == 6 && memcmp(item, "@owner", 6) == 0) {
			other_owner = true;
		} else if (n == 4 && memcmp(item, "@nul", 4) == 0) {
			nul_end = true;
		} else if (n == 9 && memcmp(item, "@noconfig", 9) == 0) {
			no_config = true;
		} else if (n == 8 && memcmp(item, "@symlink", 8) == 0) {
			symlinked = true;
		} else if (n == 4 && memcmp(item, "@big", 4) == 0) {
			big = true;
		} else if (n == 10 && memcmp(item, "@bigsecret", 10) == 0) {
			big_secret = true;
		} else if (n == 12 && memcmp(item, "@config-last", 12) == 0) {
			config_last = true;
		} else if (argc < MAX_ARGS) {
			char *a = subst(item, n);

			if (a == NULL)
				continue;
			argstore[argc] = a;
			argv[argc++] = a;
			if (arg_key_is(a, "client_secret")) {
				const char *eq = strchr(a, '=');

				secret_arg = true;
				if (eq != NULL)
					add_secret(&sc, eq + 1, strlen(eq + 1));
			}
			if (arg_key_is(a, "config"))
				config_arg_again = true;
		}
	}
	if (have_secret && big_secret) {
		int fd = open(secret_path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
		char pad[ROPC_MAX_SECRET_SIZE + 1];

		memset(pad, 'x', sizeof(pad));
		if (fd < 0 || write(fd, pad, sizeof(pad)) != (ssize_t)sizeof(pad))
			have_secret = false;
		if (fd >= 0)
			close(fd);
	}
	if (have_secret && chmod(secret_path, smode) < 0)
		have_secret = false;
	if (!have_secret)
		unlink(secret_path);

	/* The config file (or a symbolic link to it). */
	unlink(cfg_path);
	unlink(real_path);
	if (!no_config) {
		size_t n = strlen(text), extra = (nul_end ? 1 : 0) + (big ? BIG + 2 : 0);
		char *t = malloc(n + extra + 1), *e;

		if (t == NULL)
			abort();
		memcpy(t, text, n);
		e = t + n;
		if (big) {
			*e++ = '#';
			memset(e, '#', BIG);
			e += BIG;
			*e++ = '\n';
		}
		if (nul_end)
			*e++ = '\0';
		if (write_file(symlinked ? real_path : cfg_path, t, (size_t)(e - t), mode) < 0 ||
		    (symlinked && symlink(real_path, cfg_path) < 0)) {
			fprintf(stderr, "fuzz-config: cannot write %s: %s\n", cfg_path,
				strerror(errno));
			abort();
		}
		free(t);
	}
	if (config_last) {
		for (i = 0; i < argc - 1; i++)
			argv[i] = argv[i + 1];
		argv[argc - 1] = config_arg;
	}
	file_secrets(&sc, text);

	fuzz_log_reset();
	memset(&ctx, 0, sizeof(ctx));
	ctx.pamh = NULL;
	ctx.service = "fuzz";
	rc = ropc_settings_load_as(&ctx, argc, argv, other_owner ? geteuid() + 1 : geteuid(), &s);

	FUZZ_CHECK("rc", rc == PAM_SUCCESS || rc == PAM_SERVICE_ERR || rc == PAM_BUF_ERR,
		   "ropc_settings_load_as returned %d", rc);
	FUZZ_CHECK("rc", (s != NULL) == (rc != PAM_BUF_ERR),
		   "settings %s with return code %d", s != NULL ? "given" : "missing", rc);
	if (rc == PAM_SUCCESS && s != NULL) {
		check_settings(s);
		FUZZ_CHECK("debug", ctx.debug == s->debug, "ctx.debug and settings debug differ");
		FUZZ_CHECK("secret-argv", !secret_arg,
			   "PAM_SUCCESS with client_secret in the pam.d arguments");
		FUZZ_CHECK("file-owner", !other_owner || no_config || config_arg_again,
			   "PAM_SUCCESS with a config file owned by another uid");
		FUZZ_CHECK("file-symlink", !symlinked || no_config || config_arg_again,
			   "PAM_SUCCESS with the config file behind a symbolic link");
		FUZZ_CHECK("file-size", !big || no_config || config_arg_again,
			   "PAM_SUCCESS with a config file over 64 KiB");
		if (!no_config && !config_arg_again && !other_owner &&
		    (mode & 077) != 0 && s->client_secret != NULL)
			FUZZ_CHECK("secret-file-mode", s->client_secret_file != NULL,
				   "PAM_SUCCESS with client_secret in a config file of mode %04o",
				   mode);
		if (!no_config && !config_arg_again)
			FUZZ_CHECK("file-mode", (mode & 022) == 0,
				   "PAM_SUCCESS with a config file of mode %04o", mode);
		use_settings(s);
	}
	if (s != NULL && s->client_secret != NULL)
		add_secret(&sc, s->client_secret, strlen(s->client_secret));
	check_secrets_not_logged(&sc, data, size);
	ropc_settings_free(s);

	for (i = 0; i < MAX_ARGS; i++)
		free(argstore[i]);
	for (size_t k = 0; k < sc.n; k++)
		free(sc.v[k]);
	free(text);
	return 0;
}
