/*
 * test-offline.c: the offline credential cache (offline.h): store and
 * check, the claims and the age given back, the failure counter, the
 * lockout and its end, offline_ttl, forget (and ropc_cache_remove), no
 * entry, entries that must not be trusted (not JSON, wrong types, another
 * version, a hash that is not yescrypt even when it matches, mode 0644, a
 * success time in the future), the entry's name and content (a hash of
 * the key, no user name, no password), that the hash is real yescrypt at
 * the cost asked for, that concurrent checks count every failure (the
 * entry's lock), and the quiet refusals of a process that is not root.
 *
 * Everything happens under a directory made by tap_safe_tmpdir (under
 * /run/ropc-tests as root), since the directory rule refuses /tmp; the
 * test needs root (the cache's files are root's).  The clock is the
 * rules' now, moved by hand.
 *
 * pam_vsyslog is wrapped as in test-cache.c: every line the module logs is
 * kept, so that refusals can be checked to be logged at LOG_WARNING and
 * lines to hold no password and no hash.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* RTLD_NEXT, setresuid */
#endif
#include <crypt.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include <security/pam_ext.h>

#include "cache.h"
#include "offline.h"
#include "tap.h"

#define LOGCAP_SIZE (256 * 1024)
#include "logcap.h"

/* ---- fixtures --------------------------------------------------------------- */

#define IDP "https://idp.example.com"
#define CLIENT "pam-client"
#define PASSWORD "correct horse battery 42"
#define WRONG "correct horse battery 43"
#define T0 ((time_t)1700000000)

static char base[128];
static struct ropc_ctx ctx;
static const struct ropc_offline_key alice = { "alice", IDP, CLIENT };

/* base/name, in one of a few rotating buffers. */
static const char *
at(const char *name)
{
	static char p[8][512];
	static int i;

	i = (i + 1) % 8;
	snprintf(p[i], sizeof(p[i]), "%s/%s", base, name);
	return p[i];
}

/* The key's text as offline.c must make it: the fields joined with 0x1f. */
static const char *
key_text(const struct ropc_offline_key *k)
{
	static char s[512];

	snprintf(s, sizeof(s), "%s\x1f%s\x1f%s", k->user, k->idp,
		 k->client_id != NULL ? k->client_id : "");
	return s;
}

/* The entry file of k under the cache c. */
static const char *
entry_path(const char *c, const struct ropc_offline_key *k)
{
	static char p[4][512];
	static int i;
	char name[80];

	i = (i + 1) % 4;
	if (ropc_cache_name(key_text(k), name, sizeof(name)) != 0)
		name[0] = '\0';
	snprintf(p[i], sizeof(p[i]), "%s/%s/%s", c, ROPC_CACHE_OFFLINE, name);
	return p[i];
}

static struct ropc_offline_rules
rules_at(time_t now)
{
	struct ropc_offline_rules r = { now, 604800, 5, 300, 5 };

	return r;
}

#define SLURP_MAX ((size_t)256 * 1024)

/* The whole file at path (NUL-terminated; free it), or NULL. */
static char *
slurp(const char *path)
{
	char *buf;
	size_t got = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	buf = malloc(SLURP_MAX);
	if (buf == NULL) {
		close(fd);
		return NULL;
	}
	while (got < SLURP_MAX - 1 && (n = read(fd, buf + got, SLURP_MAX - 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	return buf;
}

/* The entry of k under c, parsed (put it), or NULL. */
static struct json_object *
entry_json(const char *c, const struct ropc_offline_key *k)
{
	char *text = slurp(entry_path(c, k));
	struct json_object *o;

	if (text == NULL)
		return NULL;
	o = json_tokener_parse(text);
	free(text);
	return o;
}

/* An integer member of k's entry, or -999 when it cannot be read. */
static long long
entry_int(const char *c, const struct ropc_offline_key *k, const char *name)
{
	struct json_object *o = entry_json(c, k), *m;
	long long v = -999;

	if (o != NULL && json_object_object_get_ex(o, name, &m) &&
	    json_object_is_type(m, json_type_int))
		v = (long long)json_object_get_int64(m);
	json_object_put(o);
	return v;
}

/* The hash of k's entry into out, or "". */
static void
entry_hash(const char *c, const struct ropc_offline_key *k, char *out, size_t outsize)
{
	struct json_object *o = entry_json(c, k), *m;

	out[0] = '\0';
	if (o != NULL && json_object_object_get_ex(o, "hash", &m) &&
	    json_object_is_type(m, json_type_string))
		snprintf(out, outsize, "%s", json_object_get_string(m));
	json_object_put(o);
}

static int
is_missing(const char *path)
{
	struct stat st;

	return lstat(path, &st) != 0 && errno == ENOENT;
}

/* Check k under c: the result, with claims put and why kept in lastwhy. */
static char lastwhy[512];
static long lastage;

static enum ropc_offline_rc
check_rc(const char *c, const struct ropc_offline_key *k, const char *pw, time_t now)
{
	struct ropc_offline_rules r = rules_at(now);
	struct json_object *cl = NULL;
	enum ropc_offline_rc rc;

	lastage = -1;
	rc = ropc_offline_check(&ctx, c, k, pw, &r, &cl, &lastage, lastwhy, sizeof(lastwhy));
	json_object_put(cl);
	return rc;
}

/* Same with other rules. */
static enum ropc_offline_rc
check_with(const char *c, const struct ropc_offline_key *k, const char *pw,
	   const struct ropc_offline_rules *r)
{
	struct json_object *cl = NULL;
	enum ropc_offline_rc rc;

	lastage = -1;
	rc = ropc_offline_check(&ctx, c, k, pw, r, &cl, &lastage, lastwhy, sizeof(lastwhy));
	json_object_put(cl);
	return rc;
}

static int
store_at(const char *c, const struct ropc_offline_key *k, const char *pw, time_t now)
{
	struct ropc_offline_rules r = rules_at(now);

	return ropc_offline_store(&ctx, c, k, pw, NULL, &r);
}

/* Write text as k's entry under c, as cache.c would (atomic, 0600). */
static int
put_entry(const char *c, const struct ropc_offline_key *k, const char *text)
{
	return ropc_cache_write(&ctx, c, ROPC_CACHE_OFFLINE, key_text(k), text, strlen(text));
}

/* ---- tests ------------------------------------------------------------------ */

static void
test_round_trip(void)
{
	const char *c = at("rt");
	struct ropc_offline_rules r = rules_at(T0);
	struct json_object *claims, *got = NULL, *m;
	enum ropc_offline_rc rc;
	struct stat st;
	char why[256];
	long age = -1;

	claims = json_tokener_parse("{\"sub\":\"a-1\",\"groups\":[\"admins\",\"ops\"],"
				    "\"scope\":\"openid login\",\"n\":{\"deep\":true}}");
	log_reset();
	CHECK_INT(ropc_offline_store(&ctx, c, &alice, PASSWORD, claims, &r), 0,
		  "round trip: stored");
	CHECK(lstat(entry_path(c, &alice), &st) == 0 && S_ISREG(st.st_mode) &&
	      (st.st_mode & 07777) == 0600 && st.st_uid == 0,
	      "round trip: the entry is a root 0600 file at the key's name");
	CHECK(lstat(at("rt/offline"), &st) == 0 && S_ISDIR(st.st_mode) &&
	      (st.st_mode & 07777) == 0700, "round trip: the offline directory is 0700");
	CHECK_INT(entry_int(c, &alice, "v"), 1, "round trip: version 1");
	CHECK_INT(entry_int(c, &alice, "success"), T0, "round trip: success is now");
	CHECK_INT(entry_int(c, &alice, "failures"), 0, "round trip: no failures");
	CHECK_INT(entry_int(c, &alice, "locked_until"), 0, "round trip: not locked");

	r.now = T0 + 100;
	rc = ropc_offline_check(&ctx, c, &alice, PASSWORD, &r, &got, &age, why, sizeof(why));
	CHECK_INT(rc, ROPC_OFFLINE_OK, "round trip: the right password is OK");
	CHECK_INT(age, 100, "round trip: age is the seconds since the success");
	CHECK_NOT_NULL(got, "round trip: claims given back");
	CHECK(got != NULL && got != claims, "round trip: the claims are a copy");
	CHECK(got != NULL && json_object_equal(got, claims),
	      "round trip: the claims are the stored ones");
	CHECK(got != NULL && json_object_object_get_ex(got, "groups", &m) &&
	      json_object_array_length(m) == 2, "round trip: the groups array came back");
	json_object_put(got);
	got = NULL;
	CHECK_INT(count_problems(), 0, "round trip: no warning");
	CHECK(strstr(logbuf, PASSWORD) == NULL && strstr(logbuf, "$y$") == NULL,
	      "round trip: no password and no hash in the log");
	CHECK_INT(entry_int(c, &alice, "failures"), 0,
		  "round trip: an offline success writes nothing");

	/* Without claims. */
	r.now = T0;
	CHECK_INT(ropc_offline_store(&ctx, c, &alice, PASSWORD, NULL, &r), 0,
		  "round trip: stored without claims");
	got = (struct json_object *)1;
	r.now = T0 + 5;
	rc = ropc_offline_check(&ctx, c, &alice, PASSWORD, &r, &got, &age, why, sizeof(why));
	CHECK_INT(rc, ROPC_OFFLINE_OK, "round trip without claims: OK");
	CHECK_NULL(got, "round trip without claims: *claims is NULL");
	CHECK_INT(age, 5, "round trip without claims: age 5");
	/* NULL claims and age pointers are allowed. */
	rc = ropc_offline_check(&ctx, c, &alice, PASSWORD, &r, NULL, NULL, NULL, 0);
	CHECK_INT(rc, ROPC_OFFLINE_OK, "round trip: OK with no claims, age or why wanted");

	/* Claims that are not an object are refused, as claims the entry
	 * would not read back (nested deeper than the strict reader takes). */
	log_reset();
	m = json_object_new_array();
	CHECK_INT(ropc_offline_store(&ctx, c, &alice, PASSWORD, m, &r), -1,
		  "store: claims that are not an object refused");
	json_object_put(m);
	m = json_tokener_parse("{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":"
			       "{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":1}}}}}}}}}}}}}}}");
	CHECK_NOT_NULL(m, "store: 15-deep claims built");
	CHECK_INT(ropc_offline_store(&ctx, c, &alice, "another one", m, &r), -1,
		  "store: claims too deep to read back refused");
	CHECK(count_logged(LOG_WARNING, "read back") == 1, "store: the refusal says why");
	json_object_put(m);
	CHECK_INT(check_rc(c, &alice, PASSWORD, T0 + 6), ROPC_OFFLINE_OK,
		  "store: a refused store leaves the entry as it was");
	json_object_put(claims);
}

static void
test_name_and_content(void)
{
	const char *c = at("nc");
	char want[80], path[600];
	DIR *d;
	const struct dirent *de;
	int jsons = 0, locks = 0, others = 0, named = 0;
	char *text;

	CHECK_INT(store_at(c, &alice, PASSWORD, T0), 0, "name: stored");
	CHECK_INT(check_rc(c, &alice, PASSWORD, T0 + 1), ROPC_OFFLINE_OK, "name: checked");
	CHECK_INT(ropc_cache_name("alice\x1f" IDP "\x1f" CLIENT, want, sizeof(want)), 0,
		  "name: the expected name made");
	d = opendir(at("nc/offline"));
	while (d != NULL && (de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (strstr(de->d_name, "alice") != NULL || strstr(de->d_name, "idp") != NULL)
			named++;
		if (n == 69 && strcmp(de->d_name + 64, ".json") == 0) {
			jsons++;
			CHECK_STR(de->d_name, want,
				  "name: the entry is the SHA-256 of user 0x1f IdP 0x1f client_id");
		} else if (n == 69 && strcmp(de->d_name + 64, ".lock") == 0 &&
			   strncmp(de->d_name, want, 64) == 0) {
			locks++;
		} else {
			others++;
		}
	}
	if (d != NULL)
		closedir(d);
	CHECK_INT(jsons, 1, "name: one entry file");
	CHECK_INT(locks, 1, "name: one lock file, <same hash>.lock");
	CHECK_INT(others, 0, "name: nothing else (no temporary left)");
	CHECK_INT(named, 0, "name: no file name holds the user name or the IdP");
	snprintf(path, sizeof(path), "%s/offline/%s", c, want);
	text = slurp(path);
	CHECK_NOT_NULL(text, "content: read");
	CHECK(text != NULL && strstr(text, PASSWORD) == NULL, "content: no password in it");
	CHECK(text != NULL && strstr(text, "correct") == NULL, "content: no part of it either");
	CHECK(text != NULL && strstr(text, "\"hash\":\"$y$") != NULL, "content: a $y$ hash");
	free(text);
}

static void
test_yescrypt(void)
{
	const char *c = at("y");
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	char h[CRYPT_OUTPUT_SIZE], h2[CRYPT_OUTPUT_SIZE];
	const char *out;

	CHECK_INT(store_at(c, &alice, PASSWORD, T0), 0, "yescrypt: stored");
	entry_hash(c, &alice, h, sizeof(h));
	CHECK(strncmp(h, "$y$", 3) == 0, "yescrypt: the hash starts with $y$");
	out = cd != NULL ? crypt_rn(PASSWORD, h, cd, (int)sizeof(*cd)) : NULL;
	CHECK_STR(out, h, "yescrypt: crypt_rn of the password with the hash as setting gives it");
	out = cd != NULL ? crypt_rn(WRONG, h, cd, (int)sizeof(*cd)) : NULL;
	CHECK(out != NULL && strcmp(out, h) != 0, "yescrypt: another password gives another");
	CHECK_INT(store_at(c, &alice, PASSWORD, T0), 0, "yescrypt: stored again");
	entry_hash(c, &alice, h2, sizeof(h2));
	CHECK(strcmp(h, h2) != 0, "yescrypt: a fresh salt each time");
	free(cd);
}

/* The parameter field of a yescrypt string ("$y$<params>$..."). */
static void
params_of(const char *h, char *out, size_t outsize)
{
	const char *p, *e;

	out[0] = '\0';
	if (strncmp(h, "$y$", 3) != 0)
		return;
	p = h + 3;
	e = strchr(p, '$');
	if (e != NULL && (size_t)(e - p) < outsize) {
		memcpy(out, p, (size_t)(e - p));
		out[e - p] = '\0';
	}
}

static void
test_cost(void)
{
	const char *c = at("cost");
	const struct ropc_offline_key k3 = { "cost3", IDP, CLIENT }, k7 = { "cost7", IDP, CLIENT };
	struct ropc_offline_rules r = rules_at(T0);
	char h3[CRYPT_OUTPUT_SIZE], h7[CRYPT_OUTPUT_SIZE], p3[32], p7[32], g[32];
	char *setting;

	r.cost = 3;
	CHECK_INT(ropc_offline_store(&ctx, c, &k3, PASSWORD, NULL, &r), 0, "cost 3: stored");
	r.cost = 7;
	CHECK_INT(ropc_offline_store(&ctx, c, &k7, PASSWORD, NULL, &r), 0, "cost 7: stored");
	entry_hash(c, &k3, h3, sizeof(h3));
	entry_hash(c, &k7, h7, sizeof(h7));
	params_of(h3, p3, sizeof(p3));
	params_of(h7, p7, sizeof(p7));
	CHECK(p3[0] != '\0' && p7[0] != '\0' && strcmp(p3, p7) != 0,
	      "cost: the parameter fields of cost 3 (%s) and 7 (%s) differ", p3, p7);
	setting = crypt_gensalt_ra("$y$", 3, NULL, 0);
	params_of(setting != NULL ? setting : "", g, sizeof(g));
	CHECK_STR(p3, g, "cost 3: the parameters of crypt_gensalt_ra at cost 3");
	free(setting);
	setting = crypt_gensalt_ra("$y$", 7, NULL, 0);
	params_of(setting != NULL ? setting : "", g, sizeof(g));
	CHECK_STR(p7, g, "cost 7: the parameters of crypt_gensalt_ra at cost 7");
	free(setting);
	CHECK_INT(check_rc(c, &k3, PASSWORD, T0 + 1), ROPC_OFFLINE_OK, "cost 3: checks");
	CHECK_INT(check_rc(c, &k7, PASSWORD, T0 + 1), ROPC_OFFLINE_OK, "cost 7: checks");

	log_reset();
	r.cost = 0;
	CHECK_INT(ropc_offline_store(&ctx, c, &alice, PASSWORD, NULL, &r), -1, "cost 0 refused");
	r.cost = 12;
	CHECK_INT(ropc_offline_store(&ctx, c, &alice, PASSWORD, NULL, &r), -1, "cost 12 refused");
	CHECK_INT(count_logged(LOG_WARNING, "offline_hash_cost"), 2,
		  "cost: each refusal logged at LOG_WARNING");
	CHECK(is_missing(entry_path(c, &alice)), "cost: nothing written when refused");
}

static void
test_wrong_password(void)
{
	const char *c = at("wrong");

	CHECK_INT(store_at(c, &alice, PASSWORD, T0), 0, "wrong: stored");
	log_reset();
	CHECK_INT(check_rc(c, &alice, WRONG, T0 + 10), ROPC_OFFLINE_REFUSED,
		  "wrong: a wrong password is REFUSED");
	CHECK_CONTAINS(lastwhy, "does not match", "wrong: why says it does not match");
	CHECK_INT(entry_int(c, &alice, "failures"), 1, "wrong: the counter is 1");
	CHECK_INT(entry_int(c, &alice, "locked_until"), 0, "wrong: not locked");
	CHECK_INT(check_rc(c, &alice, "", T0 + 11), ROPC_OFFLINE_REFUSED,
		  "wrong: the empty password is REFUSED");
	CHECK_INT(entry_int(c, &alice, "failures"), 2, "wrong: the counter is 2");
	CHECK_INT(check_rc(c, &alice, PASSWORD "x", T0 + 12), ROPC_OFFLINE_REFUSED,
		  "wrong: the password with a byte more is REFUSED");
	CHECK_INT(check_rc(c, &alice, "correct horse battery 4", T0 + 12), ROPC_OFFLINE_REFUSED,
		  "wrong: the password with a byte less is REFUSED");
	CHECK_INT(entry_int(c, &alice, "failures"), 4, "wrong: the counter is 4");
	CHECK_CONTAINS(lastwhy, "failure 4 of 5", "wrong: why counts the failures");
	CHECK_INT(count_problems(), 0, "wrong: a mismatch is no warning");
	CHECK(strstr(logbuf, WRONG) == NULL && strstr(logbuf, "$y$") == NULL,
	      "wrong: no password and no hash in the log");
	CHECK_INT(check_rc(c, &alice, PASSWORD, T0 + 13), ROPC_OFFLINE_OK,
		  "wrong: then the right password is OK (below max_failures)");
	CHECK_INT(entry_int(c, &alice, "failures"), 4,
		  "wrong: an offline success does not reset the counter (only an online one)");
	CHECK_INT(entry_int(c, &alice, "success"), T0, "wrong: the success time is kept");
}

static void
test_lockout(void)
{
	const char *c = at("lock");
	struct ropc_offline_rules r = rules_at(T0);
	int i;

	r.max_failures = 3;
	r.lockout = 300;
	CHECK_INT(ropc_offline_store(&ctx, c, &alice, PASSWORD, NULL, &r), 0, "lockout: stored");
	r.now = T0 + 100;
	for (i = 1; i <= 3; i++)
		CHECK_INT(check_with(c, &alice, WRONG, &r), ROPC_OFFLINE_REFUSED,
			  "lockout: wrong password %d REFUSED", i);
	CHECK_CONTAINS(lastwhy, "locked out offline for 300 s",
		       "lockout: the third failure says the lockout began");
	CHECK_INT(entry_int(c, &alice, "failures"), 3, "lockout: the counter is 3");
	CHECK_INT(entry_int(c, &alice, "locked_until"), T0 + 400,
		  "lockout: locked_until is now + lockout");

	r.now = T0 + 110;
	CHECK_INT(check_with(c, &alice, PASSWORD, &r), ROPC_OFFLINE_REFUSED,
		  "lockout: even the right password is REFUSED while locked");
	CHECK_STR(lastwhy, "locked out offline for 290 more s", "lockout: why says how long");
	CHECK_INT(check_with(c, &alice, WRONG, &r), ROPC_OFFLINE_REFUSED,
		  "lockout: a wrong one too");
	CHECK_INT(entry_int(c, &alice, "failures"), 3,
		  "lockout: guesses while locked are not even tried (counter still 3)");
	r.now = T0 + 399;
	CHECK_INT(check_with(c, &alice, PASSWORD, &r), ROPC_OFFLINE_REFUSED,
		  "lockout: refused one second before its end");
	CHECK_STR(lastwhy, "locked out offline for 1 more s", "lockout: 1 more s");

	r.now = T0 + 400;
	CHECK_INT(check_with(c, &alice, PASSWORD, &r), ROPC_OFFLINE_OK,
		  "lockout over: the right password is OK");
	CHECK_INT(lastage, 400, "lockout over: the age is from the online success");
	r.now = T0 + 401;
	CHECK_INT(check_with(c, &alice, WRONG, &r), ROPC_OFFLINE_REFUSED,
		  "lockout over: a wrong password is REFUSED");
	CHECK_INT(entry_int(c, &alice, "locked_until"), T0 + 701,
		  "lockout over: one more failure locks out again at once (the counter was not reset)");
	CHECK_INT(check_with(c, &alice, PASSWORD, &r), ROPC_OFFLINE_REFUSED,
		  "lockout again: the right password REFUSED");

	/* An online success resets the counter and the lockout. */
	r.now = T0 + 402;
	CHECK_INT(ropc_offline_store(&ctx, c, &alice, PASSWORD, NULL, &r), 0,
		  "reset: stored after an online success");
	CHECK_INT(entry_int(c, &alice, "failures"), 0, "reset: the counter is 0");
	CHECK_INT(entry_int(c, &alice, "locked_until"), 0, "reset: no lockout");
	r.now = T0 + 403;
	CHECK_INT(check_with(c, &alice, PASSWORD, &r), ROPC_OFFLINE_OK,
		  "reset: the right password is OK at once");
	CHECK_INT(check_with(c, &alice, WRONG, &r), ROPC_OFFLINE_REFUSED,
		  "reset: a wrong password is REFUSED");
	CHECK_INT(entry_int(c, &alice, "failures"), 1, "reset: counted from 0 again");
	CHECK_INT(entry_int(c, &alice, "locked_until"), 0, "reset: not locked after one");

	/* max_failures 1: the first failure locks. */
	r.max_failures = 1;
	CHECK_INT(ropc_offline_store(&ctx, c, &alice, PASSWORD, NULL, &r), 0, "max 1: stored");
	CHECK_INT(check_with(c, &alice, WRONG, &r), ROPC_OFFLINE_REFUSED, "max 1: wrong REFUSED");
	CHECK_INT(check_with(c, &alice, PASSWORD, &r), ROPC_OFFLINE_REFUSED,
		  "max 1: locked after one failure");
}

static void
test_ttl(void)
{
	const char *c = at("ttl");
	struct ropc_offline_rules r = rules_at(T0);

	r.ttl = 1000;
	CHECK_INT(ropc_offline_store(&ctx, c, &alice, PASSWORD, NULL, &r), 0, "ttl: stored");
	r.now = T0 + 10;
	CHECK_INT(check_with(c, &alice, WRONG, &r), ROPC_OFFLINE_REFUSED, "ttl: one failure");
	r.now = T0 + 999;
	CHECK_INT(check_with(c, &alice, PASSWORD, &r), ROPC_OFFLINE_OK,
		  "ttl: OK one second before offline_ttl");
	CHECK_INT(lastage, 999, "ttl: age 999");
	r.now = T0 + 1000;
	log_reset();
	CHECK_INT(check_with(c, &alice, PASSWORD, &r), ROPC_OFFLINE_REFUSED,
		  "ttl: REFUSED at offline_ttl, even with the right password");
	CHECK_STR(lastwhy, "the offline entry is 1000 s old, past offline_ttl",
		  "ttl: why says how old");
	r.now = T0 + 5000;
	CHECK_INT(check_with(c, &alice, WRONG, &r), ROPC_OFFLINE_REFUSED,
		  "ttl: a wrong password REFUSED too");
	CHECK_INT(entry_int(c, &alice, "failures"), 1, "ttl: the counters are kept, untouched");
	CHECK(!is_missing(entry_path(c, &alice)), "ttl: the entry stays");
	CHECK_INT(count_problems(), 0, "ttl: no warning");
	r.ttl = 0;
	r.now = T0;
	CHECK_INT(check_with(c, &alice, PASSWORD, &r), ROPC_OFFLINE_REFUSED,
		  "ttl 0: nothing is valid");
	/* A new online success starts a new period. */
	r.ttl = 1000;
	r.now = T0 + 5000;
	CHECK_INT(ropc_offline_store(&ctx, c, &alice, PASSWORD, NULL, &r), 0, "ttl: stored again");
	r.now = T0 + 5999;
	CHECK_INT(check_with(c, &alice, PASSWORD, &r), ROPC_OFFLINE_OK,
		  "ttl: valid again after a new online success");
}

static void
test_forget(void)
{
	const char *c = at("forget");
	const struct ropc_offline_key bob = { "bob", IDP, CLIENT };

	CHECK_INT(store_at(c, &alice, PASSWORD, T0), 0, "forget: alice stored");
	CHECK_INT(store_at(c, &bob, PASSWORD, T0), 0, "forget: bob stored");
	log_reset();
	CHECK_INT(ropc_offline_forget(&ctx, c, &alice), 0, "forget: 0");
	CHECK(is_missing(entry_path(c, &alice)), "forget: the entry file is gone");
	CHECK(!is_missing(entry_path(c, &bob)), "forget: another user's entry stays");
	CHECK_INT(check_rc(c, &alice, PASSWORD, T0 + 1), ROPC_OFFLINE_NO_ENTRY,
		  "forget: then NO_ENTRY");
	CHECK_INT(check_rc(c, &bob, PASSWORD, T0 + 1), ROPC_OFFLINE_OK, "forget: bob still OK");
	CHECK_INT(ropc_offline_forget(&ctx, c, &alice), 0, "forget: again, 0 (no entry)");
	CHECK_INT(ropc_offline_forget(&ctx, at("never-made"), &alice), 0,
		  "forget: no cache directory, 0");
	CHECK(is_missing(at("never-made")), "forget: created no directory");
	CHECK_INT(count_problems(), 0, "forget: no warning");

	/* ropc_cache_remove itself: a directory open to others is refused. */
	CHECK_INT(store_at(c, &alice, PASSWORD, T0), 0, "remove: stored");
	if (chmod(at("forget/offline"), 0755) == 0) {
		log_reset();
		CHECK_INT(ropc_cache_remove(&ctx, c, ROPC_CACHE_OFFLINE, key_text(&alice)), -1,
			  "remove: refused in a directory open to others");
		CHECK_INT(count_logged(LOG_WARNING, "is not used"), 1,
			  "remove: the refusal is a warning");
		CHECK(!is_missing(entry_path(c, &alice)), "remove: nothing removed there");
		chmod(at("forget/offline"), 0700);
	} else {
		FAIL(3, "chmod failed");
	}
	CHECK_INT(ropc_cache_remove(&ctx, c, ".offline", key_text(&alice)), -1,
		  "remove: a kind that is not a plain name refused");
	CHECK_INT(ropc_cache_remove(&ctx, "relative/dir", ROPC_CACHE_OFFLINE, key_text(&alice)),
		  -1, "remove: a relative directory refused");
	/* A symbolic link at the entry's name is removed, not followed. */
	if (unlink(entry_path(c, &alice)) == 0 &&
	    symlink(entry_path(c, &bob), entry_path(c, &alice)) == 0) {
		CHECK_INT(ropc_offline_forget(&ctx, c, &alice), 0, "remove: a link at the name: 0");
		CHECK(is_missing(entry_path(c, &alice)), "remove: the link is gone");
		CHECK(!is_missing(entry_path(c, &bob)), "remove: what it pointed to stays");
	} else {
		FAIL(3, "symlink failed");
	}
}

/* The names in dir (not . or ..): how many, and how many start with
 * ".tmp-"; -1 when it cannot be read. */
static int
count_names(const char *dir, int *tmps)
{
	DIR *d = opendir(dir);
	const struct dirent *e;
	int n = 0;

	*tmps = 0;
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		n++;
		if (strncmp(e->d_name, ".tmp-", 5) == 0)
			(*tmps)++;
	}
	closedir(d);
	return n;
}

static void
test_no_entry(void)
{
	const char *c = at("none");
	const struct ropc_offline_key other_user = { "bob", IDP, CLIENT };
	const struct ropc_offline_key other_idp = { "alice", "https://other.example.com", CLIENT };
	const struct ropc_offline_key other_client = { "alice", IDP, "other" };
	const struct ropc_offline_key no_client = { "alice", IDP, NULL };
	const struct ropc_offline_key empty_client = { "alice", IDP, "" };
	const struct ropc_offline_key sep_user = { "ali\x1f" "ce", IDP, CLIENT };
	const struct ropc_offline_key sep_idp = { "alice", IDP "\x1f" CLIENT, "" };
	const struct ropc_offline_key no_user = { "", IDP, CLIENT };

	log_reset();
	CHECK_INT(check_rc(c, &alice, PASSWORD, T0), ROPC_OFFLINE_NO_ENTRY,
		  "no cache directory: NO_ENTRY");
	CHECK(is_missing(c), "no cache directory: a check creates none");
	CHECK_INT(count_problems(), 0, "no cache directory: no warning");
	CHECK_INT(store_at(c, &alice, PASSWORD, T0), 0, "no entry: alice stored");
	CHECK_INT(check_rc(c, &alice, PASSWORD, T0), ROPC_OFFLINE_OK, "no entry: alice OK");
	log_reset();
	CHECK_INT(check_rc(c, &other_user, PASSWORD, T0), ROPC_OFFLINE_NO_ENTRY,
		  "no entry: another user");
	CHECK_INT(check_rc(c, &other_idp, PASSWORD, T0), ROPC_OFFLINE_NO_ENTRY,
		  "no entry: another IdP");
	CHECK_INT(check_rc(c, &other_client, PASSWORD, T0), ROPC_OFFLINE_NO_ENTRY,
		  "no entry: another client_id");
	CHECK_INT(count_problems(), 0, "no entry: no warning");
	CHECK_CONTAINS(lastwhy, "no offline entry", "no entry: why says so");
	CHECK_INT(ropc_offline_forget(&ctx, c, &other_user), 0, "no entry: forget of another: 0");
	{
		int tmps = 0;

		CHECK_INT(count_names(at("none/offline"), &tmps), 2,
			  "no entry: checks and forgets of names without an entry leave no file "
			  "(only alice's entry and lock)");
	}

	CHECK_INT(store_at(c, &no_client, PASSWORD, T0), 0, "no client_id: stored");
	CHECK_INT(check_rc(c, &empty_client, PASSWORD, T0), ROPC_OFFLINE_OK,
		  "no client_id: NULL and \"\" are the same key");

	/* The separator cannot be smuggled in: "ali\x1fce" is refused, and
	 * the IdP "IDP\x1fCLIENT" cannot pose as (IDP, CLIENT). */
	log_reset();
	CHECK_INT(store_at(c, &sep_user, PASSWORD, T0), -1, "0x1f in the user: store refused");
	CHECK_INT(check_rc(c, &sep_user, PASSWORD, T0), ROPC_OFFLINE_NO_ENTRY,
		  "0x1f in the user: NO_ENTRY");
	CHECK_INT(store_at(c, &sep_idp, PASSWORD, T0), -1, "0x1f in the IdP: store refused");
	CHECK_INT(check_rc(c, &sep_idp, PASSWORD, T0), ROPC_OFFLINE_NO_ENTRY,
		  "0x1f in the IdP: NO_ENTRY, not alice's entry");
	CHECK_INT(ropc_offline_forget(&ctx, c, &sep_idp), -1, "0x1f in the IdP: forget refused");
	CHECK(!is_missing(entry_path(c, &alice)), "0x1f in the IdP: alice's entry untouched");
	CHECK_INT(store_at(c, &no_user, PASSWORD, T0), -1, "no user: store refused");
	CHECK_INT(store_at(c, &alice, "", T0), -1, "the empty password: not stored");
	CHECK_INT(check_rc(c, &alice, NULL, T0), ROPC_OFFLINE_NO_ENTRY, "no password: NO_ENTRY");
	CHECK_INT(check_rc(c, &alice, PASSWORD, T0), ROPC_OFFLINE_OK,
		  "after the refusals: alice's entry still OK");
}

/* A malformed entry text: NO_ENTRY, a warning, and the file left as it was. */
static void
malformed(const char *c, const char *what, const char *text)
{
	char *before, *after;

	if (put_entry(c, &alice, text) != 0) {
		FAIL(3, "%s: could not write the entry", what);
		return;
	}
	before = slurp(entry_path(c, &alice));
	log_reset();
	CHECK_INT(check_rc(c, &alice, PASSWORD, T0 + 1), ROPC_OFFLINE_NO_ENTRY,
		  "malformed, %s: NO_ENTRY", what);
	CHECK(count_problems() >= 1, "malformed, %s: logged at LOG_WARNING", what);
	after = slurp(entry_path(c, &alice));
	CHECK(before != NULL && after != NULL && strcmp(before, after) == 0,
	      "malformed, %s: the file is left as it was", what);
	free(before);
	free(after);
}

static void
test_malformed(void)
{
	const char *c = at("bad");
	char good_hash[CRYPT_OUTPUT_SIZE], text[2048], md5[CRYPT_OUTPUT_SIZE];
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *h;
	struct stat st;

	CHECK_INT(store_at(c, &alice, PASSWORD, T0), 0, "malformed: a good entry stored first");
	entry_hash(c, &alice, good_hash, sizeof(good_hash));

#define GOOD(fmt) (snprintf(text, sizeof(text), fmt, good_hash), text)
	malformed(c, "not JSON", "this is not JSON");
	malformed(c, "truncated JSON", "{\"v\":1,\"hash\":");
	malformed(c, "an array", "[1,2]");
	malformed(c, "empty object", "{}");
	malformed(c, "JSON and more", GOOD("{\"v\":1,\"hash\":\"%s\",\"success\":1700000000,"
					   "\"failures\":0,\"locked_until\":0} {}"));
	malformed(c, "version 2", GOOD("{\"v\":2,\"hash\":\"%s\",\"success\":1700000000,"
				       "\"failures\":0,\"locked_until\":0}"));
	malformed(c, "no version", GOOD("{\"hash\":\"%s\",\"success\":1700000000,"
					"\"failures\":0,\"locked_until\":0}"));
	malformed(c, "an unknown member", GOOD("{\"v\":1,\"hash\":\"%s\",\"success\":1700000000,"
					       "\"failures\":0,\"locked_until\":0,\"x\":1}"));
	CHECK(strstr(logbuf, good_hash) == NULL && strstr(logbuf, "alice") == NULL,
	      "malformed: the warning names neither the hash nor the user");
	malformed(c, "failures a string", GOOD("{\"v\":1,\"hash\":\"%s\",\"success\":1700000000,"
					       "\"failures\":\"0\",\"locked_until\":0}"));
	malformed(c, "failures negative", GOOD("{\"v\":1,\"hash\":\"%s\",\"success\":1700000000,"
					       "\"failures\":-1,\"locked_until\":0}"));
	malformed(c, "failures over INT_MAX", GOOD("{\"v\":1,\"hash\":\"%s\",\"success\":1700000000,"
						   "\"failures\":2147483648,\"locked_until\":0}"));
	malformed(c, "success a float", GOOD("{\"v\":1,\"hash\":\"%s\",\"success\":1700000000.5,"
					     "\"failures\":0,\"locked_until\":0}"));
	malformed(c, "success missing", GOOD("{\"v\":1,\"hash\":\"%s\","
					     "\"failures\":0,\"locked_until\":0}"));
	malformed(c, "locked_until null", GOOD("{\"v\":1,\"hash\":\"%s\",\"success\":1700000000,"
					       "\"failures\":0,\"locked_until\":null}"));
	malformed(c, "locked_until a boolean", GOOD("{\"v\":1,\"hash\":\"%s\","
						    "\"success\":1700000000,\"failures\":0,"
						    "\"locked_until\":false}"));
	malformed(c, "claims an array", GOOD("{\"v\":1,\"hash\":\"%s\",\"success\":1700000000,"
					     "\"failures\":0,\"locked_until\":0,\"claims\":[]}"));
	malformed(c, "hash a number", "{\"v\":1,\"hash\":5,\"success\":1700000000,"
				      "\"failures\":0,\"locked_until\":0}");
	malformed(c, "hash missing", "{\"v\":1,\"success\":1700000000,"
				     "\"failures\":0,\"locked_until\":0}");
	malformed(c, "hash $y$ only", "{\"v\":1,\"hash\":\"$y$\",\"success\":1700000000,"
				      "\"failures\":0,\"locked_until\":0}");
	malformed(c, "hash with a NUL", "{\"v\":1,\"hash\":\"$y$j9T$a\\u0000$b\","
					"\"success\":1700000000,\"failures\":0,\"locked_until\":0}");
	malformed(c, "hash \"*0\"", "{\"v\":1,\"hash\":\"*0\",\"success\":1700000000,"
				    "\"failures\":0,\"locked_until\":0}");
	malformed(c, "hash empty", "{\"v\":1,\"hash\":\"\",\"success\":1700000000,"
				   "\"failures\":0,\"locked_until\":0}");
	malformed(c, "hash of the right shape but bad parameters",
		  "{\"v\":1,\"hash\":\"$y$!!!$abc$def\",\"success\":1700000000,"
		  "\"failures\":0,\"locked_until\":0}");
	malformed(c, "hash with yescrypt parameters crypt_rn refuses",
		  "{\"v\":1,\"hash\":\"$y$zzzz$abc$def\",\"success\":1700000000,"
		  "\"failures\":0,\"locked_until\":0}");
	CHECK_INT(count_logged(LOG_WARNING, "refused by crypt_rn"), 1,
		  "malformed, parameters crypt_rn refuses: the warning says so");
	malformed(c, "success far in the future",
		  GOOD("{\"v\":1,\"hash\":\"%s\",\"success\":1800000000,"
		       "\"failures\":0,\"locked_until\":0}"));
	CHECK_INT(count_logged(LOG_WARNING, "in the future"), 1,
		  "malformed, success in the future: the warning says so");
	/* The right password's MD5-crypt and SHA-512-crypt hashes: they
	 * match, and must not be trusted. */
	h = cd != NULL ? crypt_rn(PASSWORD, "$1$saltsalt", cd, (int)sizeof(*cd)) : NULL;
	snprintf(md5, sizeof(md5), "%s", h != NULL ? h : "");
	CHECK(strncmp(md5, "$1$", 3) == 0, "malformed: an MD5-crypt hash of the password made");
	snprintf(text, sizeof(text), "{\"v\":1,\"hash\":\"%s\",\"success\":1700000000,"
		 "\"failures\":0,\"locked_until\":0}", md5);
	malformed(c, "the right password's MD5-crypt hash", text);
	CHECK_INT(count_logged(LOG_WARNING, "not a yescrypt hash"), 1,
		  "malformed, MD5-crypt: the warning says it is not yescrypt");
	h = cd != NULL ? crypt_rn(PASSWORD, "$6$saltsalt", cd, (int)sizeof(*cd)) : NULL;
	snprintf(md5, sizeof(md5), "%s", h != NULL ? h : "");
	snprintf(text, sizeof(text), "{\"v\":1,\"hash\":\"%s\",\"success\":1700000000,"
		 "\"failures\":0,\"locked_until\":0}", md5);
	malformed(c, "the right password's SHA-512-crypt hash", text);
	/* Hashes of other schemes with yescrypt's very shape ("$id$params$
	 * salt$hash", crypt's alphabet): only the $y$ prefix tells them apart. */
	{
		static const char *const others[] = { "$gy$", "$7$", "$sha1$" };
		size_t i;

		for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
			char *setting = crypt_gensalt_ra(others[i], 0, NULL, 0);

			h = setting != NULL && cd != NULL ?
			    crypt_rn(PASSWORD, setting, cd, (int)sizeof(*cd)) : NULL;
			free(setting);
			snprintf(md5, sizeof(md5), "%s", h != NULL ? h : "");
			CHECK(strncmp(md5, others[i], strlen(others[i])) == 0,
			      "malformed: a %s hash of the password made", others[i]);
			snprintf(text, sizeof(text), "{\"v\":1,\"hash\":\"%s\",\"success\":1700000000,"
				 "\"failures\":0,\"locked_until\":0}", md5);
			malformed(c, others[i], text);
			CHECK_INT(count_logged(LOG_WARNING, "not a yescrypt hash"), 1,
				  "malformed, %s: the warning says it is not yescrypt", others[i]);
		}
	}
	free(cd);

	/* The same entry, well formed, is fine: the refusals above were the
	 * shapes, not the test.  A success a little in the future (a clock
	 * stepped back) is taken as age 0; claims null as none. */
	CHECK_INT(put_entry(c, &alice, GOOD("{\"v\":1,\"hash\":\"%s\",\"success\":1700000000,"
					    "\"failures\":0,\"locked_until\":0,"
					    "\"claims\":null}")), 0, "well formed: written");
	CHECK_INT(check_rc(c, &alice, PASSWORD, T0 + 1), ROPC_OFFLINE_OK, "well formed: OK");
	CHECK_INT(put_entry(c, &alice, GOOD("{\"locked_until\":0,\"failures\":0,"
					    "\"success\":1700000030,\"hash\":\"%s\",\"v\":1}")),
		  0, "in another order, 30 s ahead: written");
	CHECK_INT(check_rc(c, &alice, PASSWORD, T0), ROPC_OFFLINE_OK,
		  "in another order, 30 s ahead: OK");
	CHECK_INT(lastage, 0, "30 s ahead: age 0");
#undef GOOD

	/* An entry file others may read is not used (cache.c's reader). */
	CHECK_INT(store_at(c, &alice, PASSWORD, T0), 0, "mode 0644: stored");
	if (chmod(entry_path(c, &alice), 0644) == 0 && stat(entry_path(c, &alice), &st) == 0 &&
	    (st.st_mode & 07777) == 0644) {
		log_reset();
		CHECK_INT(check_rc(c, &alice, PASSWORD, T0 + 1), ROPC_OFFLINE_NO_ENTRY,
			  "mode 0644: NO_ENTRY");
		CHECK(count_logged(LOG_WARNING, "ignored") >= 1, "mode 0644: logged at LOG_WARNING");
		CHECK(stat(entry_path(c, &alice), &st) == 0 && (st.st_mode & 07777) == 0644,
		      "mode 0644: left as it was");
	} else {
		FAIL(3, "chmod 0644 failed");
	}
	/* Nor one that is not root's. */
	CHECK_INT(store_at(c, &alice, PASSWORD, T0), 0, "not root's: stored");
	if (chown(entry_path(c, &alice), 65534, 65534) == 0) {
		log_reset();
		CHECK_INT(check_rc(c, &alice, PASSWORD, T0 + 1), ROPC_OFFLINE_NO_ENTRY,
			  "owned by nobody: NO_ENTRY");
		CHECK(count_problems() >= 1, "owned by nobody: logged at LOG_WARNING");
	} else {
		FAIL(2, "chown failed");
	}
	/* A store replaces a bad entry. */
	CHECK_INT(store_at(c, &alice, PASSWORD, T0), 0, "a bad entry replaced by a store");
	CHECK_INT(check_rc(c, &alice, PASSWORD, T0 + 1), ROPC_OFFLINE_OK, "and then OK");
}

/*
 * crypt_rn reads only the parameters and the salt of its setting: a stored
 * hash cut short (or with bytes added) still makes the right password's
 * full hash, so only the length check keeps a prefix from matching.
 */
static void
test_truncated(void)
{
	const char *c = at("trunc");
	char good[CRYPT_OUTPUT_SIZE], cut[CRYPT_OUTPUT_SIZE], text[1024];
	size_t n;

	CHECK_INT(store_at(c, &alice, PASSWORD, T0), 0, "truncated: stored");
	entry_hash(c, &alice, good, sizeof(good));
	n = strlen(good);
	CHECK(n > 20, "truncated: a hash read");
	snprintf(cut, sizeof(cut), "%.*s", (int)(n > 20 ? n - 20 : 0), good);
	snprintf(text, sizeof(text), "{\"v\":1,\"hash\":\"%s\",\"success\":1700000000,"
		 "\"failures\":0,\"locked_until\":0}", cut);
	CHECK_INT(put_entry(c, &alice, text), 0, "truncated: written");
	CHECK(check_rc(c, &alice, PASSWORD, T0 + 1) != ROPC_OFFLINE_OK,
	      "truncated: the right password is not OK against the hash cut short");
	snprintf(text, sizeof(text), "{\"v\":1,\"hash\":\"%sAAAA\",\"success\":1700000000,"
		 "\"failures\":0,\"locked_until\":0}", good);
	CHECK_INT(put_entry(c, &alice, text), 0, "extended: written");
	CHECK(check_rc(c, &alice, PASSWORD, T0 + 1) != ROPC_OFFLINE_OK,
	      "extended: the right password is not OK against the hash with bytes added");
	snprintf(text, sizeof(text), "{\"v\":1,\"hash\":\"%s\",\"success\":1700000000,"
		 "\"failures\":0,\"locked_until\":0}", good);
	CHECK_INT(put_entry(c, &alice, text), 0, "whole: written");
	CHECK_INT(check_rc(c, &alice, PASSWORD, T0 + 1), ROPC_OFFLINE_OK,
		  "whole: the same hash whole is OK");
}

/* ---- the lock --------------------------------------------------------------- */

static const char *child_cache;
static const char *child_password;

static int
child_check(void)
{
	struct ropc_offline_rules r = rules_at(T0 + 1);

	r.max_failures = 1000;
	log_reset();
	return (int)ropc_offline_check(&ctx, child_cache, &alice, child_password, &r, NULL, NULL,
				       NULL, 0);
}

/* Run what in n child processes at once; how many exited with want. */
static int
in_parallel(int n, int (*what)(void), int want)
{
	pid_t pids[16];
	int i, ok = 0, go[2];
	char b;

	if (n > 16 || pipe(go) != 0)
		return -1;
	fflush(stdout);
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			/* All start when the pipe is closed. */
			close(go[1]);
			if (read(go[0], &b, 1) < 0)
				_exit(255);
			_exit(what() & 0xff);
		}
	}
	close(go[0]);
	close(go[1]);
	for (i = 0; i < n; i++) {
		int status = 0;

		if (pids[i] > 0 && waitpid(pids[i], &status, 0) == pids[i] && WIFEXITED(status) &&
		    WEXITSTATUS(status) == want)
			ok++;
	}
	return ok;
}

static void
test_lock(void)
{
	const char *c = at("par");
	char lockpath[600], name[80];
	struct ropc_offline_rules r = rules_at(T0);
	int n, fd, status = 0;
	pid_t pid;

	r.cost = 4;
	CHECK_INT(ropc_offline_store(&ctx, c, &alice, PASSWORD, NULL, &r), 0, "parallel: stored");
	child_cache = c;
	child_password = WRONG;
	n = in_parallel(12, child_check, ROPC_OFFLINE_REFUSED);
	CHECK_INT(n, 12, "parallel: 12 concurrent wrong passwords all REFUSED");
	CHECK_INT(entry_int(c, &alice, "failures"), 12,
		  "parallel: and all 12 counted (the checks are serialised)");
	child_password = PASSWORD;
	n = in_parallel(6, child_check, ROPC_OFFLINE_OK);
	CHECK_INT(n, 6, "parallel: 6 concurrent right passwords all OK");

	/* A check waits for the lock, and reads the entry only once it has
	 * it: here the entry is replaced while a check waits, and the check
	 * sees the new one. */
	CHECK_INT(store_at(c, &alice, "old password", T0), 0, "waiting: the old entry stored");
	CHECK_INT(ropc_cache_name(key_text(&alice), name, sizeof(name)), 0, "waiting: named");
	memcpy(name + 64, ".lock", sizeof(".lock"));
	snprintf(lockpath, sizeof(lockpath), "%s/offline/%s", c, name);
	fd = open(lockpath, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0 && flock(fd, LOCK_EX) == 0, "waiting: the test holds the entry's lock");
	child_password = "new password";
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		/* The lock belongs to the open file description: the child's
		 * copy of fd would keep it held after the parent's close. */
		if (fd >= 0)
			close(fd);
		_exit(child_check() & 0xff);
	}
	usleep(300 * 1000);
	/* Written under the lock the test holds: not through store, which
	 * would wait for it too. */
	{
		struct ropc_offline_rules r2 = rules_at(T0);
		const struct ropc_offline_key tmp = { "tmp-user", IDP, CLIENT };
		char *text;

		CHECK_INT(ropc_offline_store(&ctx, c, &tmp, "new password", NULL, &r2), 0,
			  "waiting: a new entry made aside");
		text = slurp(entry_path(c, &tmp));
		CHECK(text != NULL && put_entry(c, &alice, text) == 0,
		      "waiting: and put in place of the old one while the check waits");
		free(text);
	}
	if (fd >= 0)
		close(fd);
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) == ROPC_OFFLINE_OK,
	      "waiting: the waiting check saw the new entry (OK with the new password)");
}

/* A write that fails (a caller's file size limit): no free guess. */
static void
test_uncountable(void)
{
	const char *c = at("uncountable");
	struct rlimit old, none = { 0, 0 };

	CHECK_INT(store_at(c, &alice, PASSWORD, T0), 0, "uncountable: stored");
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	none.rlim_max = old.rlim_max;
	CHECK_INT(setrlimit(RLIMIT_FSIZE, &none), 0, "uncountable: RLIMIT_FSIZE 0");
	log_reset();
	CHECK_INT(check_rc(c, &alice, PASSWORD, T0 + 10), ROPC_OFFLINE_REFUSED,
		  "uncountable: the right password is REFUSED when the attempt cannot be counted");
	CHECK_CONTAINS(lastwhy, "cannot be counted", "uncountable: why says so");
	CHECK_INT(check_rc(c, &alice, WRONG, T0 + 11), ROPC_OFFLINE_REFUSED,
		  "uncountable: a wrong one too");
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	CHECK_INT(entry_int(c, &alice, "failures"), 0, "uncountable: the entry is unchanged");
	CHECK_INT(check_rc(c, &alice, PASSWORD, T0 + 12), ROPC_OFFLINE_OK,
		  "uncountable: with the limit gone, the right password is OK");
	CHECK_INT(entry_int(c, &alice, "failures"), 0,
		  "uncountable: a match takes its count back");
}

/* ---- not root ---------------------------------------------------------------- */

/* Bits of a child's answer. */
#define A_WARNED 64
#define A_RC_MASK 7

/* Run what in a child with uid and gid 65534; its answer, or -1. */
static int
as_nobody(int (*what)(void))
{
	int status = 0;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int a;

		if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
		    setresuid(65534, 65534, 65534) != 0 || geteuid() != 65534)
			_exit(255);
		a = what();
		if (count_problems() > 0)
			a |= A_WARNED;
		_exit(a & 0xff);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static int
nobody_store(void)
{
	log_reset();
	return store_at(child_cache, &alice, PASSWORD, T0) == -1 ? 1 : 0;
}

static int
nobody_forget(void)
{
	log_reset();
	return ropc_offline_forget(&ctx, child_cache, &alice) == -1 ? 1 : 0;
}

static void
test_not_root(void)
{
	const char *c = at("nobody");
	int a;

	CHECK_INT(store_at(c, &alice, PASSWORD, T0), 0, "not root: stored as root");
	child_cache = c;
	child_password = PASSWORD;
	ctx.debug = true;
	a = as_nobody(child_check);
	CHECK_INT(a, ROPC_OFFLINE_NO_ENTRY, "not root: check is NO_ENTRY, with no warning");
	a = as_nobody(nobody_store);
	CHECK_INT(a, 1, "not root: store is -1, with no warning");
	a = as_nobody(nobody_forget);
	CHECK_INT(a, 1, "not root: forget is -1, with no warning");
	ctx.debug = false;
	CHECK(!is_missing(entry_path(c, &alice)), "not root: the entry is still there");
	CHECK_INT(check_rc(c, &alice, PASSWORD, T0 + 1), ROPC_OFFLINE_OK,
		  "not root: root's check still OK, counter untouched");
	CHECK_INT(entry_int(c, &alice, "failures"), 0, "not root: no failure was counted");
}

int
main(void)
{
	if (geteuid() != 0) {
		printf("Bail out! test-offline needs root (root-owned cache files)\n");
		return 1;
	}
	umask(022);
	ctx.service = "test-offline";
	if (tap_safe_tmpdir(base, sizeof(base), "offline") != 0)
		return 1;

	test_round_trip();
	test_name_and_content();
	test_yescrypt();
	test_cost();
	test_wrong_password();
	test_lockout();
	test_ttl();
	test_forget();
	test_no_entry();
	test_malformed();
	test_truncated();
	test_lock();
	test_uncountable();
	test_not_root();

	tap_remove_tmpdir(base);
	return tap_done();
}
