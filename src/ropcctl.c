/*
 * ropcctl.c: ropcctl(8), the admin's command.  Built from the module's own
 * code (the option table, the file checks, the cache and offline code), so
 * that what it says is what the module will do.
 *
 *   ropcctl [--json] [--config PATH] [--pam-dir DIR] check [--service NAME]
 *   ropcctl [--json] [--config PATH] cache status | forget USER | flush
 *   ropcctl [--json] [--pam-dir DIR] login USER [--service NAME]
 *   ropcctl [--json] [--config PATH] discover
 *   ropcctl --help | --version
 *
 * Exit status: 0 fine; 1 a problem was found (check) or an action failed;
 * 2 bad usage (one line on stderr).  No secret is ever printed: the
 * settings come through ropc_settings_each, which shows a secret as its
 * size, and the offline entries through ropc_offline_peek, which gives
 * no hash.
 */
#include <dirent.h>
#include <stddef.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <termios.h>
#include <syslog.h>
#include <security/pam_appl.h>
#include <security/pam_ext.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <json-c/json.h>

#include "breaker.h"
#include "cache.h"
#include "discovery.h"
#include "fetch.h"
#include "http.h"
#include "jwks.h"
#include "common.h"
#include "helper.h"
#include "offline.h"
#include "options.h"
#include "outcome.h"

#define MAX_ARGS 64
#define MAX_LINES 16
#define MAX_DEPTH 8

static bool json_out;
static const char *config_path;         /* --config */
static const char *pam_dir = "/etc/pam.d";

static void
usage(FILE *f)
{
	fputs("usage: ropcctl [--json] [--config PATH] [--pam-dir DIR] check [--service NAME]\n"
	      "       ropcctl [--json] [--config PATH] cache status | forget USER | flush\n"
	      "       ropcctl [--json] [--pam-dir DIR] login USER [--service NAME]\n"
	      "       ropcctl [--json] [--config PATH] discover\n"
	      "       ropcctl --help | --version\n"
	      "\n"
	      "  check          read the settings as the module would (the config file, and\n"
	      "                 with --service the arguments of each pam_ropc.so line of\n"
	      "                 that service), print them (secrets as their size), every\n"
	      "                 problem and the files' owners and modes; exit 1 on a problem\n"
	      "  cache status   the offline entries of local users (age, failures, lockout)\n"
	      "                 and the fail-fast state of the configured IdP\n"
	      "  cache forget USER   delete USER's offline entry\n"
	      "  cache flush    delete every cached document, offline entry and fail-fast\n"
	      "                 state\n"
	      "  discover       the IdP's endpoints (discovery, through the cache), its keys\n"
	      "                 (kid, type, size, algorithm) and its TLS certificate\n"
	      "  login USER     a real PAM transaction through the service's stack (default\n"
	      "                 login), prompting on the terminal: the outcome, the PAM codes,\n"
	      "                 the module's log lines and the PAM environment (tokens cut)\n"
	      "See ropcctl(8).\n", f);
}

/* Bad usage: one line, exit 2. */
static void __attribute__((noreturn))
bad_usage(const char *what)
{
	fprintf(stderr, "ropcctl: %s; see ropcctl --help\n", what);
	exit(2);
}

/* ---- printing ----------------------------------------------------------- */

static void
print_json(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
}

static void
add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v != NULL ? json_object_new_string(v) : NULL);
}

/* ---- one context, log lines captured ---------------------------------------- */

struct capture {
	struct ropc_ctx ctx;
	char *text;
	size_t len;
};

static int
capture_start(struct capture *c)
{
	memset(c, 0, sizeof(*c));
	c->ctx.service = "ropcctl";
	c->ctx.echo = open_memstream(&c->text, &c->len);
	return c->ctx.echo != NULL ? 0 : -1;
}

/* The captured lines, as an array (and printed unless --json). */
static struct json_object *
capture_end(struct capture *c, const char *indent)
{
	struct json_object *a = json_object_new_array();
	char *line, *save = NULL;

	fclose(c->ctx.echo);
	c->ctx.echo = NULL;
	for (line = strtok_r(c->text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		json_object_array_add(a, json_object_new_string(line));
		if (!json_out)
			printf("%s%s\n", indent, line);
	}
	free(c->text);
	c->text = NULL;
	return a;
}

/* ---- pam.d --------------------------------------------------------------- */

struct line {
	char file[PATH_MAX];
	unsigned int lineno;
	char type[16];
	int argc;
	char *argv[MAX_ARGS];
};

static bool
name_ok(const char *n)
{
	size_t i;

	if (n[0] == '\0' || n[0] == '.' || strlen(n) > 128)
		return false;
	for (i = 0; n[i] != '\0'; i++)
		if (!(n[i] == '-' || n[i] == '_' || n[i] == '.' || (n[i] >= '0' && n[i] <= '9') ||
		      (n[i] >= 'a' && n[i] <= 'z') || (n[i] >= 'A' && n[i] <= 'Z')))
			return false;
	return true;
}

static bool
is_module(const char *path)
{
	const char *b = strrchr(path, '/');

	return strcmp(b != NULL ? b + 1 : path, "pam_ropc.so") == 0;
}

/* The pam_ropc.so lines of service (following @include, include and
 * substack) into lines.  0, or -1 with a message on stderr. */
static int
/* Includes nest: the recursion is bounded by MAX_DEPTH. */
/* NOLINTNEXTLINE(misc-no-recursion) */
read_service(const char *service, int depth, struct line *lines, int *n)
{
	char path[PATH_MAX], buf[4096];
	unsigned int lineno = 0;
	FILE *f;

	if (depth > MAX_DEPTH || !name_ok(service)) {
		fprintf(stderr, "ropcctl: %s: not a service name (or includes too deep)\n", service);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", pam_dir, service);
	f = fopen(path, "re");
	if (f == NULL) {
		fprintf(stderr, "ropcctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(buf, sizeof(buf), f) != NULL) {
		char *tok[MAX_ARGS + 4], *save = NULL, *hash = strchr(buf, '#'), *t;
		int nt = 0, i = 1;

		lineno++;
		if (hash != NULL)
			*hash = '\0';
		for (t = strtok_r(buf, " \t\r\n", &save); t != NULL && nt < MAX_ARGS + 4;
		     t = strtok_r(NULL, " \t\r\n", &save))
			tok[nt++] = t;
		if (nt == 0)
			continue;
		if (strcmp(tok[0], "@include") == 0) {
			if (nt > 1 && read_service(tok[1], depth + 1, lines, n) < 0)
				goto bad;
			continue;
		}
		if (nt < 3)
			continue;
		/* The control: one word, or [ ... ] over several. */
		if (tok[1][0] == '[')
			while (i < nt && strchr(tok[i], ']') == NULL)
				i++;
		if (i + 1 >= nt)
			continue;
		if (strcmp(tok[1], "include") == 0 || strcmp(tok[1], "substack") == 0) {
			if (read_service(tok[2], depth + 1, lines, n) < 0)
				goto bad;
			continue;
		}
		if (!is_module(tok[i + 1]) || *n >= MAX_LINES)
			continue;
		{
			struct line *l = &lines[(*n)++];
			int j;

			snprintf(l->file, sizeof(l->file), "%s", path);
			l->lineno = lineno;
			snprintf(l->type, sizeof(l->type), "%s", tok[0][0] == '-' ? tok[0] + 1 : tok[0]);
			l->argc = 0;
			for (j = i + 2; j < nt && l->argc < MAX_ARGS; j++)
				l->argv[l->argc++] = strdup(tok[j]);
		}
	}
	fclose(f);
	return 0;
bad:
	fclose(f);
	return -1;
}

/* ---- check ------------------------------------------------------------------ */

static void
add_setting(void *arg, const char *key, const char *value)
{
	struct json_object *o = arg;

	add_str(o, key, value);
	if (!json_out)
		printf("    %s = %s\n", key, value);
}

/* One file's owner and mode, and whether it is there. */
static void
add_file(struct json_object *files, const char *what, const char *path)
{
	struct json_object *o;
	struct stat st;

	if (path == NULL)
		return;
	o = json_object_new_object();
	add_str(o, "what", what);
	add_str(o, "path", path);
	if (stat(path, &st) < 0) {
		add_str(o, "state", strerror(errno));
		if (!json_out)
			printf("    %-34s %s: %s\n", what, path, strerror(errno));
	} else {
		const struct passwd *pw = getpwuid(st.st_uid);
		const struct group *gr = getgrgid(st.st_gid);
		char shown[64];

		snprintf(shown, sizeof(shown), "%04o", (unsigned int)(st.st_mode & 07777));
		add_str(o, "owner", pw != NULL ? pw->pw_name : "?");
		add_str(o, "group", gr != NULL ? gr->gr_name : "?");
		add_str(o, "mode", shown);
		if (!json_out)
			printf("    %-34s %s  %s:%s %s\n", what, path, pw != NULL ? pw->pw_name : "?",
			       gr != NULL ? gr->gr_name : "?", shown);
	}
	json_object_array_add(files, o);
}

/* The settings of one pam_ropc line (or of the config alone): true when
 * they are fine. */
static bool
check_one(const struct line *l, struct json_object *out)
{
	const char *argv[MAX_ARGS + 1];
	struct json_object *settings = json_object_new_object(), *files = json_object_new_array();
	struct json_object *args = json_object_new_array();
	struct ropc_settings *s = NULL;
	struct capture c;
	char cfg[PATH_MAX + 8];
	int argc = 0, i, rc;
	bool ok;

	if (config_path != NULL) {
		snprintf(cfg, sizeof(cfg), "config=%s", config_path);
		argv[argc++] = cfg;
	}
	for (i = 0; l != NULL && i < l->argc && argc < MAX_ARGS; i++) {
		argv[argc++] = l->argv[i];
		json_object_array_add(args, json_object_new_string(l->argv[i]));
	}
	if (l != NULL) {
		add_str(out, "file", l->file);
		json_object_object_add(out, "line", json_object_new_int((int)l->lineno));
		add_str(out, "type", l->type);
		if (!json_out) {
			printf("%s line %u: %s pam_ropc.so", l->file, l->lineno, l->type);
			for (i = 0; i < l->argc; i++)
				printf(" %s", l->argv[i]);
			putchar('\n');
		}
	} else if (!json_out) {
		printf("the config file alone:\n");
	}
	json_object_object_add(out, "arguments", args);
	if (capture_start(&c) < 0) {
		perror("ropcctl");
		exit(1);
	}
	rc = ropc_settings_load(&c.ctx, argc, argv, &s);
	ok = rc == PAM_SUCCESS && c.ctx.errors == 0;
	if (!json_out)
		printf("  problems:\n");
	json_object_object_add(out, "problems", capture_end(&c, "    "));
	if (!json_out && ok)
		printf("    none\n");
	if (s != NULL) {
		if (!json_out)
			printf("  settings:\n");
		ropc_settings_each(s, add_setting, settings);
		if (!json_out)
			printf("  files:\n");
		add_file(files, "config", s->config);
		add_file(files, "client_secret_file", s->client_secret_file);
		add_file(files, "introspection_client_secret_file",
			 s->introspection_client_secret_file);
		add_file(files, "ca_file", s->ca_file);
		add_file(files, "ca_path", s->ca_path);
		add_file(files, "cache_dir", s->cache_dir);
		add_file(files, "fail_fast state", ROPC_BREAKER_DIR);
		add_file(files, "pam_ropc_helper", ROPC_HELPER_PATH);
		ropc_settings_free(s);
	}
	json_object_object_add(out, "settings", settings);
	json_object_object_add(out, "files", files);
	json_object_object_add(out, "ok", json_object_new_boolean(ok));
	if (!json_out)
		printf("  result: %s\n", ok ? "fine" : "PROBLEMS (the module fails closed)");
	return ok;
}

static int
cmd_check(const char *service)
{
	struct line lines[MAX_LINES];
	struct json_object *root = json_object_new_object(), *arr = json_object_new_array();
	int n = 0, i, j;
	bool ok = true;

	memset(lines, 0, sizeof(lines));
	if (service != NULL) {
		if (read_service(service, 0, lines, &n) < 0)
			return 2;
		if (n == 0) {
			fprintf(stderr, "ropcctl: %s/%s does not use pam_ropc.so\n", pam_dir, service);
			return 1;
		}
	}
	add_str(root, "service", service);
	for (i = 0; i < (n > 0 ? n : 1); i++) {
		struct json_object *o = json_object_new_object();

		if (!check_one(n > 0 ? &lines[i] : NULL, o))
			ok = false;
		json_object_array_add(arr, o);
		for (j = 0; j < lines[i].argc; j++)
			free(lines[i].argv[j]);
	}
	json_object_object_add(root, "lines", arr);
	json_object_object_add(root, "ok", json_object_new_boolean(ok));
	if (json_out)
		print_json(root);
	json_object_put(root);
	return ok ? 0 : 1;
}

/* ---- cache ------------------------------------------------------------------ */

/* The settings of the config file, or NULL (problems printed). */
static struct ropc_settings *
config_settings(void)
{
	const char *argv[1];
	char cfg[PATH_MAX + 8];
	struct ropc_settings *s = NULL;
	struct capture c;
	int argc = 0, rc;

	if (config_path != NULL) {
		snprintf(cfg, sizeof(cfg), "config=%s", config_path);
		argv[argc++] = cfg;
	}
	if (capture_start(&c) < 0)
		return NULL;
	rc = ropc_settings_load(&c.ctx, argc, argv, &s);
	fclose(c.ctx.echo);
	if (rc != PAM_SUCCESS) {
		fprintf(stderr, "ropcctl: the settings are refused (see ropcctl check):\n%s",
			c.text != NULL ? c.text : "");
		ropc_settings_free(s);
		s = NULL;
	}
	free(c.text);
	return s;
}

static const char *
idp_of(const struct ropc_settings *s)
{
	return s->issuer != NULL ? s->issuer : s->token_endpoint;
}

/* The breaker's file for the IdP: dir/<sha256 hex>.down into out, named
 * as breaker.c names it (ropc_cache_name's hash, not its ".json"). */
static void
down_file(const char *idp, char *out, size_t size)
{
	char name[80] = "";

	if (ropc_cache_name(idp, name, sizeof(name)) == 0 && strlen(name) > 5)
		name[strlen(name) - 5] = '\0';
	snprintf(out, size, "%s/%s.down", ROPC_BREAKER_DIR, name);
}

static void
fmt_time(long long t, char *out, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL || strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, size, "-");
}

static int
cache_status(const struct ropc_settings *s)
{
	struct json_object *root = json_object_new_object(), *arr = json_object_new_array();
	struct json_object *ff = json_object_new_object();
	struct capture c;
	const struct passwd *pw;
	char path[PATH_MAX], until[40];
	time_t now = time(NULL);
	FILE *f;
	int found = 0;

	add_str(root, "cache_dir", s->cache_dir);
	add_str(root, "idp", idp_of(s));
	add_str(root, "client_id", s->client_id);
	if (!json_out)
		printf("offline entries (cache_dir %s, IdP %s, client_id %s):\n", s->cache_dir,
		       idp_of(s), s->client_id != NULL ? s->client_id : "-");
	if (capture_start(&c) < 0)
		return 1;
	setpwent();
	while ((pw = getpwent()) != NULL) {
		struct ropc_offline_key key = { pw->pw_name, idp_of(s), s->client_id };
		long long success = 0, locked = 0;
		int failures = 0;
		struct json_object *e;

		if ((unsigned long)pw->pw_uid < s->minimum_uid ||
		    ropc_offline_peek(&c.ctx, s->cache_dir, &key, &success, &failures, &locked) != 0)
			continue;
		found++;
		fmt_time(locked > now ? locked : 0, until, sizeof(until));
		e = json_object_new_object();
		add_str(e, "user", pw->pw_name);
		json_object_object_add(e, "age", json_object_new_int64(now - success));
		json_object_object_add(e, "failures", json_object_new_int(failures));
		add_str(e, "locked_until", locked > now ? until : NULL);
		json_object_array_add(arr, e);
		if (!json_out)
			printf("  %-20s age %lld s, %d failed offline attempt(s)%s%s\n", pw->pw_name,
			       (long long)(now - success), failures,
			       locked > now ? ", locked out until " : "", locked > now ? until : "");
	}
	endpwent();
	if (!json_out && found == 0)
		printf("  none for the local users\n");
	json_object_object_add(root, "offline", arr);
	json_object_object_add(root, "warnings", capture_end(&c, "  "));
	down_file(idp_of(s), path, sizeof(path));
	f = fopen(path, "re");
	if (f != NULL) {
		long long since = 0, till = 0;
		char text[64] = "", *end = NULL;

		if (fgets(text, sizeof(text), f) != NULL) {
			errno = 0;
			since = strtoll(text, &end, 10);
			if (errno == 0 && end != text && *end == ' ')
				till = strtoll(end + 1, &end, 10);
			else
				since = till = 0;
		}
		if (since > 0 && till > 0 && errno == 0 && (*end == '\n' || *end == '\0')) {
			char when[40];

			fmt_time(since, when, sizeof(when));
			fmt_time(till, until, sizeof(until));
			add_str(ff, "state", till > now ? "open" : "closed (the next login probes)");
			add_str(ff, "since", when);
			add_str(ff, "until", until);
			if (!json_out)
				printf("fail fast: %s, the IdP down since %s, window until %s\n",
				       till > now ? "OPEN (logins do not ask the IdP)" :
				       "window over (the next login probes)", when, until);
		}
		fclose(f);
	} else {
		add_str(ff, "state", "closed");
		if (!json_out)
			printf("fail fast: closed (logins ask the IdP)\n");
	}
	json_object_object_add(root, "fail_fast", ff);
	if (json_out)
		print_json(root);
	json_object_put(root);
	return 0;
}

static int
cache_forget(const struct ropc_settings *s, const char *user)
{
	struct ropc_offline_key key = { user, idp_of(s), s->client_id };
	long long success, locked;
	int failures, had, rc;
	struct capture c;

	if (capture_start(&c) < 0)
		return 1;
	had = ropc_offline_peek(&c.ctx, s->cache_dir, &key, &success, &failures, &locked);
	rc = ropc_offline_forget(&c.ctx, s->cache_dir, &key);
	json_object_put(capture_end(&c, ""));
	if (json_out)
		printf("{ \"user\": %s, \"forgotten\": %s }\n",
		       json_object_to_json_string(json_object_new_string(user)),
		       rc == 0 && had == 0 ? "true" : "false");
	else if (rc != 0)
		printf("cannot remove the offline entry of %s\n", user);
	else
		printf(had == 0 ? "removed the offline entry of %s\n" :
		       "no offline entry of %s\n", user);
	return rc == 0 ? 0 : 1;
}

/* Remove the regular files of dir (not following links); the count, or
 * -1. */
static int
empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0, fd;

	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	fd = dirfd(d);
	while ((e = readdir(d)) != NULL) {
		struct stat st;

		if (e->d_name[0] == '.' && (e->d_name[1] == '\0' ||
					    (e->d_name[1] == '.' && e->d_name[2] == '\0')))
			continue;
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) &&
		    unlinkat(fd, e->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static int
cache_flush(const struct ropc_settings *s)
{
	static const char *const kinds[] = { ROPC_CACHE_DISCOVERY, ROPC_CACHE_JWKS,
					     ROPC_CACHE_OFFLINE };
	char path[PATH_MAX];
	int n = 0, k, bad = 0;
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", s->cache_dir, kinds[i]);
		k = empty_dir(path);
		if (k < 0)
			bad++;
		else
			n += k;
	}
	k = empty_dir(ROPC_BREAKER_DIR);
	if (k < 0)
		bad++;
	else
		n += k;
	if (json_out)
		printf("{ \"removed\": %d, \"failed\": %d }\n", n, bad);
	else
		printf("removed %d file(s) from %s and %s%s\n", n, s->cache_dir, ROPC_BREAKER_DIR,
		       bad ? " (some directories could not be read)" : "");
	return bad ? 1 : 0;
}

/* ---- discover ---------------------------------------------------------------- */

static int
cmd_discover(struct ropc_settings *s)
{
	static const struct { const char *name; size_t off; } eps[] = {
		{ "issuer", offsetof(struct ropc_settings, issuer) },
		{ "token_endpoint", offsetof(struct ropc_settings, token_endpoint) },
		{ "jwks_uri", offsetof(struct ropc_settings, jwks_uri) },
		{ "introspection_endpoint", offsetof(struct ropc_settings, introspection_endpoint) },
		{ "userinfo_endpoint", offsetof(struct ropc_settings, userinfo_endpoint) },
		{ "device_authorization_endpoint",
		  offsetof(struct ropc_settings, device_authorization_endpoint) },
	};
	struct json_object *root = json_object_new_object(), *keys = json_object_new_array();
	struct json_object *e = json_object_new_object(), *tls = json_object_new_object();
	struct ropc_http_request rq;
	struct ropc_http_result res;
	struct capture c;
	char why[300] = "";
	int rc = 0;
	size_t i;

	if (capture_start(&c) < 0)
		return 1;
	c.ctx.settings = s;
	if (ropc_discovery_resolve(&c.ctx, why, sizeof(why)) != ROPC_DISCOVERY_OK) {
		fprintf(c.ctx.echo, "error: %s\n", why);
		rc = 1;
	}
	if (!json_out)
		printf("endpoints:\n");
	for (i = 0; i < sizeof(eps) / sizeof(eps[0]); i++) {
		const char *v = *(char **)(void *)((char *)s + eps[i].off);

		add_str(e, eps[i].name, v);
		if (!json_out)
			printf("  %-30s %s\n", eps[i].name, v != NULL ? v : "-");
	}
	json_object_object_add(root, "endpoints", e);
	if (s->jwks_uri != NULL) {
		enum ropc_fetch_source source;
		struct ropc_jwks set;
		char *doc = NULL;
		size_t len = 0;
		long age = 0;

		memset(&set, 0, sizeof(set));
		if (ropc_fetch_doc(&c.ctx, ROPC_CACHE_JWKS, s->jwks_uri, ROPC_JWKS_MAX_DOC, false,
				   NULL, NULL, &doc, &len, &source, &age, why, sizeof(why)) < 0 ||
		    ropc_jwks_parse(doc, len, &set, why, sizeof(why)) < 0) {
			fprintf(c.ctx.echo, "error: the key set: %s\n", why);
			rc = 1;
		} else if (!json_out) {
			printf("keys (%s, %ld s old; %zu not usable):\n",
			       source == ROPC_FETCH_CACHE ? "from the cache" :
			       source == ROPC_FETCH_STALE ? "a stale copy" : "fetched now", age,
			       set.skipped);
		}
		for (i = 0; i < set.n; i++) {
			const struct ropc_jwk *k = &set.keys[i];
			struct json_object *o = json_object_new_object();

			add_str(o, "kid", k->has_kid ? k->kid : NULL);
			add_str(o, "kty", k->kty);
			json_object_object_add(o, "bits", json_object_new_int(k->bits));
			add_str(o, "alg", k->alg[0] != '\0' ? k->alg : NULL);
			add_str(o, "use", k->use[0] != '\0' ? k->use : NULL);
			json_object_array_add(keys, o);
			if (!json_out)
				printf("  kid %-24s %s %d bits, alg %s, use %s\n",
				       k->has_kid ? k->kid : "(none)", k->kty, k->bits,
				       k->alg[0] != '\0' ? k->alg : "(any the type allows)",
				       k->use[0] != '\0' ? k->use : "-");
		}
		ropc_jwks_free(&set);
		free(doc);
	}
	json_object_object_add(root, "keys", keys);
	/* The TLS peer: one GET of the token endpoint, answered or not. */
	memset(&rq, 0, sizeof(rq));
	rq.url = s->token_endpoint;
	rq.what = "discover";
	rq.peer = true;
	ropc_http_result_init(&res);
	if (rq.url != NULL && ropc_http_request(&c.ctx, &rq, &res) == 0 && res.peer_pin[0] != '\0') {
		add_str(tls, "subject", res.peer_subject);
		add_str(tls, "issuer", res.peer_issuer);
		add_str(tls, "expires", res.peer_expiry);
		add_str(tls, "pin", res.peer_pin);
		if (!json_out)
			printf("TLS peer of %s:\n  subject %s\n  issuer  %s\n  expires %s\n"
			       "  pin     %s\n", rq.url, res.peer_subject, res.peer_issuer,
			       res.peer_expiry, res.peer_pin);
	} else {
		fprintf(c.ctx.echo, "error: no TLS peer: %s\n",
			res.error[0] != '\0' ? res.error : "no token endpoint");
		rc = 1;
	}
	ropc_http_result_free(&res);
	json_object_object_add(root, "tls", tls);
	if (!json_out)
		printf("problems:\n");
	json_object_object_add(root, "problems", capture_end(&c, "  "));
	json_object_object_add(root, "ok", json_object_new_boolean(rc == 0));
	if (json_out)
		print_json(root);
	json_object_put(root);
	return rc;
}

/* ---- login ------------------------------------------------------------------ */

/*
 * The log lines of the modules the transaction runs: ropcctl defines
 * pam_syslog and pam_vsyslog itself and exports them (Makefile.am), so
 * that the modules that libpam loads call these first; each line is kept
 * and handed on to libpam's own (syslog).
 */
#define MAX_LOG 64
static char *log_lines[MAX_LOG];
static int log_prio[MAX_LOG];
static int n_log;

ROPC_EXPORT void
pam_vsyslog(const pam_handle_t *pamh, int priority, const char *fmt, va_list args)
{
	typedef void (*real_fn)(const pam_handle_t *, int, const char *, va_list);
	static real_fn real;
	va_list copy;
	char *line = NULL;

	va_copy(copy, args);
	if (n_log < MAX_LOG && vasprintf(&line, fmt, copy) >= 0) {
		log_prio[n_log] = priority;
		log_lines[n_log++] = line;
	}
	va_end(copy);
	if (real == NULL)
		real = (real_fn)dlsym(RTLD_NEXT, "pam_vsyslog");
	if (real != NULL)
		real(pamh, priority, fmt, args);
}

ROPC_EXPORT void
pam_syslog(const pam_handle_t *pamh, int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pam_vsyslog(pamh, priority, fmt, ap);
	va_end(ap);
}

/* One answer from the terminal (or standard input when it is not one),
 * without echo when asked.  A new string, or NULL. */
static char *
read_answer(const char *prompt, bool echo_on)
{
	struct termios old, quiet;
	char buf[PAM_MAX_RESP_SIZE];
	bool tty = isatty(0);
	size_t n;

	fputs(prompt, stderr);
	fflush(stderr);
	if (tty && !echo_on && tcgetattr(0, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(0, TCSAFLUSH, &quiet);
	} else {
		tty = false;
	}
	if (fgets(buf, sizeof(buf), stdin) == NULL)
		buf[0] = '\0';
	if (tty) {
		tcsetattr(0, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	{
		char *out = strdup(buf);

		explicit_bzero(buf, sizeof(buf));
		return out;
	}
}

static int
converse(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pam_response *r;
	int i;

	(void)data;
	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	r = calloc((size_t)n, sizeof(*r));
	if (r == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			r[i].resp = read_answer(msg[i]->msg, msg[i]->msg_style == PAM_PROMPT_ECHO_ON);
			if (r[i].resp == NULL)
				goto fail;
			break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			fprintf(stderr, "%s\n", msg[i]->msg);
			break;
		default:
			goto fail;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
fail:
	for (i = 0; i < n; i++)
		if (r[i].resp != NULL) {
			explicit_bzero(r[i].resp, strlen(r[i].resp));
			free(r[i].resp);
		}
	free(r);
	return PAM_CONV_ERR;
}

/* A value of the PAM environment as shown: a token cut to its ends. */
static void
shown_value(const char *name, const char *v, char *out, size_t size)
{
	size_t n = strlen(v);

	if (strstr(name, "TOKEN") != NULL && n > 16)
		snprintf(out, size, "%.6s...%s (%zu chars)", v, v + n - 4, n);
	else
		snprintf(out, size, "%s", v);
}

/* One pam.d line with " debug" added when it is a pam_ropc.so line (the
 * module is the first word after the type and the control). */
static void
add_debug(const char *line, FILE *out)
{
	char buf[4096], *hash, *tok[MAX_ARGS + 4] = { NULL }, *save = NULL, *t;
	int nt = 0;
	size_t n;

	snprintf(buf, sizeof(buf), "%s", line);
	n = strcspn(buf, "\n");
	buf[n] = '\0';
	hash = strchr(buf, '#');
	if (hash != NULL)
		*hash = '\0';
	fputs(buf, out);
	for (t = strtok_r(buf, " \t\r", &save); t != NULL && nt < MAX_ARGS + 4;
	     t = strtok_r(NULL, " \t\r", &save))
		tok[nt++] = t;
	if (nt >= 3 && tok[0][0] != '@') {
		int i = 1;

		if (tok[1][0] == '[')
			while (i < nt && strchr(tok[i], ']') == NULL)
				i++;
		if (i + 1 < nt && is_module(tok[i + 1]))
			fputs(" debug", out);
	}
	fputc('\n', out);
}

/*
 * A copy of pam_dir in a new directory, every pam_ropc.so line with debug
 * added (so that the module's debug line says which claims its rules
 * looked at; debug changes no decision).  The directory's path into dir,
 * 0, or -1 (said on stderr).
 */
static int
copy_with_debug(char *dir, size_t size)
{
	DIR *d;
	struct dirent *e;

	snprintf(dir, size, "/tmp/ropcctl.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "ropcctl: cannot make a directory: %s\n", strerror(errno));
		return -1;
	}
	d = opendir(pam_dir);
	if (d == NULL) {
		fprintf(stderr, "ropcctl: %s: %s\n", pam_dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		char from[PATH_MAX], to[PATH_MAX], line[4096];
		FILE *in, *out;

		if (e->d_name[0] == '.' || !name_ok(e->d_name))
			continue;
		snprintf(from, sizeof(from), "%s/%s", pam_dir, e->d_name);
		snprintf(to, sizeof(to), "%s/%s", dir, e->d_name);
		in = fopen(from, "re");
		if (in == NULL)
			continue;
		out = fopen(to, "wxe");
		if (out == NULL) {
			fclose(in);
			continue;
		}
		while (fgets(line, sizeof(line), in) != NULL)
			add_debug(line, out);
		fclose(in);
		fclose(out);
	}
	closedir(d);
	return 0;
}

static void
remove_copy(const char *dir)
{
	if (empty_dir(dir) >= 0)
		rmdir(dir);
}

static int
cmd_login(const char *user, const char *service)
{
	struct pam_conv conv = { converse, NULL };
	struct json_object *root = json_object_new_object(), *logs = json_object_new_array();
	struct json_object *env = json_object_new_object();
	const char *outcome = NULL;
	pam_handle_t *pamh = NULL;
	char **list, name[160], copy[64];
	int rc, arc = -1, i;

	if (copy_with_debug(copy, sizeof(copy)) < 0)
		return 1;
	rc = pam_start_confdir(service, user, &conv, copy, &pamh);
	if (rc != PAM_SUCCESS) {
		remove_copy(copy);
		fprintf(stderr, "ropcctl: pam_start: %s\n", pam_strerror(pamh, rc));
		return 1;
	}
	rc = pam_authenticate(pamh, 0);
	if (rc == PAM_SUCCESS)
		arc = pam_acct_mgmt(pamh, 0);
	add_str(root, "service", service);
	add_str(root, "user", user);
	add_str(root, "authenticate", ropc_pam_code_name(rc));
	add_str(root, "acct_mgmt", arc >= 0 ? ropc_pam_code_name(arc) : NULL);
	for (i = 0; i < n_log; i++) {
		const char *o = strstr(log_lines[i], "authentication outcome=");

		if (o != NULL) {
			size_t k = strcspn(o + 23, " ");

			snprintf(name, sizeof(name), "%.*s", (int)k, o + 23);
			outcome = name;
		}
		json_object_array_add(logs, json_object_new_string(log_lines[i]));
	}
	add_str(root, "outcome", outcome);
	json_object_object_add(root, "log", logs);
	if (!json_out) {
		printf("service %s, user %s (the service's stack, with debug added to its "
		       "pam_ropc.so lines)\n", service, user);
		printf("outcome: %s\n", outcome != NULL ? outcome : "(no pam_ropc line ran)");
		printf("pam_authenticate: %s (%s)\n", ropc_pam_code_name(rc), pam_strerror(pamh, rc));
		if (arc >= 0)
			printf("pam_acct_mgmt: %s (%s)\n", ropc_pam_code_name(arc),
			       pam_strerror(pamh, arc));
		printf("log lines:\n");
		for (i = 0; i < n_log; i++)
			printf("  <%d> %s\n", log_prio[i], log_lines[i]);
		printf("PAM environment (tokens cut):\n");
	}
	list = pam_getenvlist(pamh);
	for (i = 0; list != NULL && list[i] != NULL; i++) {
		char *eq = strchr(list[i], '=');

		if (eq != NULL) {
			char shown[200];

			*eq = '\0';
			shown_value(list[i], eq + 1, shown, sizeof(shown));
			add_str(env, list[i], shown);
			if (!json_out)
				printf("  %s=%s\n", list[i], shown);
			explicit_bzero(eq + 1, strlen(eq + 1));
		}
		free(list[i]);
	}
	free(list);
	json_object_object_add(root, "environment", env);
	if (json_out)
		print_json(root);
	json_object_put(root);
	pam_end(pamh, rc);
	remove_copy(copy);
	for (i = 0; i < n_log; i++)
		free(log_lines[i]);
	return rc == PAM_SUCCESS && arc == PAM_SUCCESS ? 0 : 1;
}

int
main(int argc, char **argv)
{
	const char *service = NULL;
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("ropcctl (pam_ropc) %s\n", PACKAGE_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--json") == 0) {
			json_out = true;
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc && argv[i + 1][0] == '/') {
			config_path = argv[++i];
		} else if (strcmp(argv[i], "--pam-dir") == 0 && i + 1 < argc &&
			   argv[i + 1][0] == '/') {
			pam_dir = argv[++i];
		} else {
			bad_usage("unknown option, or one without its absolute path");
		}
	}
	if (i >= argc)
		bad_usage("no command");
	if (strcmp(argv[i], "check") == 0) {
		if (i + 1 < argc) {
			if (strcmp(argv[i + 1], "--service") != 0 || i + 3 != argc)
				bad_usage("check takes only --service NAME");
			service = argv[i + 2];
			if (!name_ok(service))
				bad_usage("not a PAM service name");
		}
		return cmd_check(service);
	}
	if (strcmp(argv[i], "cache") == 0) {
		struct ropc_settings *s;
		const char *sub = i + 1 < argc ? argv[i + 1] : "";
		int rc;

		if (!((strcmp(sub, "status") == 0 && i + 2 == argc) ||
		      (strcmp(sub, "flush") == 0 && i + 2 == argc) ||
		      (strcmp(sub, "forget") == 0 && i + 3 == argc && argv[i + 2][0] != '\0')))
			bad_usage("cache takes status, forget USER or flush");
		if (geteuid() != 0) {
			fprintf(stderr, "ropcctl: cache needs root (the cache is root's)\n");
			return 1;
		}
		s = config_settings();
		if (s == NULL)
			return 1;
		if (idp_of(s) == NULL) {
			fprintf(stderr, "ropcctl: no issuer and no token_endpoint in the settings\n");
			ropc_settings_free(s);
			return 1;
		}
		rc = strcmp(sub, "status") == 0 ? cache_status(s) :
		     strcmp(sub, "flush") == 0 ? cache_flush(s) : cache_forget(s, argv[i + 2]);
		ropc_settings_free(s);
		return rc;
	}
	if (strcmp(argv[i], "discover") == 0) {
		struct ropc_settings *s;
		int rc;

		if (i + 1 != argc)
			bad_usage("discover takes no argument");
		s = config_settings();
		if (s == NULL)
			return 1;
		rc = cmd_discover(s);
		ropc_settings_free(s);
		return rc;
	}
	if (strcmp(argv[i], "login") == 0) {
		const char *user = i + 1 < argc ? argv[i + 1] : "";

		service = "login";
		if (user[0] == '\0' || user[0] == '-')
			bad_usage("login takes USER [--service NAME]");
		if (i + 2 < argc) {
			if (strcmp(argv[i + 2], "--service") != 0 || i + 4 != argc)
				bad_usage("login takes USER [--service NAME]");
			service = argv[i + 3];
		}
		if (!name_ok(service))
			bad_usage("not a PAM service name");
		return cmd_login(user, service);
	}
	bad_usage("unknown command");
}
