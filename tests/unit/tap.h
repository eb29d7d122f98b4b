/*
 * tap.h: a tiny Test Anything Protocol producer for the unit tests.
 *
 *   CHECK(cond, "what %s", ...)          the condition holds
 *   CHECK_INT(got, expected, "what")     two integers are equal
 *   CHECK_STR(got, expected, "what")     two C strings are equal (NULL allowed)
 *   CHECK_MEM(got, glen, exp, elen, "")  two byte strings are equal
 *   CHECK_NULL(p, "what") / CHECK_NOT_NULL(p, "what")
 *   CHECK_CONTAINS(hay, needle, "what")  needle occurs in hay (hay may be NULL)
 *   SKIP(n, "why")                       n checks that cannot run here (only
 *                                        for what no test can arrange, e.g.
 *                                        chown when not root)
 *   FAIL(n, "why")                       n checks that depend on one that
 *                                        failed: reported as failures
 *   tap_safe_tmpdir(buf, n, "name")      a fresh directory for test files
 *                                        whose parents are all root-owned
 *   tap_remove_tmpdir(dir)               remove it and everything in it
 *   return tap_done();                   prints the plan "1..N" and gives the
 *                                        exit status (1 when a check failed)
 *
 * Each check prints "ok N - description" or "not ok N - description"; a
 * failure is followed by "#" lines with the source line, what was got and
 * what was expected (non-printable bytes escaped, long values cut).
 * Descriptions are printf formats so that table-driven tests can name each
 * row.  Header-only: every function is static and marked unused.
 */
#ifndef ROPC_TAP_H
#define ROPC_TAP_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TAP_UNUSED __attribute__((unused))
#define TAP_PRINTF(f, a) __attribute__((format(printf, f, a)))

static int tap_count;
static int tap_failures;

/* Print n bytes of s as a C string literal, cut after 200 bytes. */
static TAP_UNUSED void
tap_print_quoted(const char *s, size_t n)
{
	size_t i, shown = n > 200 ? 200 : n;

	if (s == NULL) {
		fputs("(null)", stdout);
		return;
	}
	putchar('"');
	for (i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			putchar(c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\r')
			fputs("\\r", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else
			printf("\\x%02x", c);
	}
	putchar('"');
	if (shown < n)
		printf("... (%zu bytes)", n);
}

/* "ok N - desc" or "not ok N - desc"; newlines in desc become spaces. */
static TAP_UNUSED TAP_PRINTF(2, 0) int
tap_vresult(int ok, const char *fmt, va_list ap)
{
	char desc[512];
	char *p;

	vsnprintf(desc, sizeof(desc), fmt, ap);
	for (p = desc; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	tap_count++;
	if (!ok)
		tap_failures++;
	printf("%sok %d - %s\n", ok ? "" : "not ", tap_count, desc);
	fflush(stdout);
	return ok;
}

static TAP_UNUSED TAP_PRINTF(4, 5) int
tap_check(int ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vresult(ok, fmt, ap);
	va_end(ap);
	if (!ok)
		printf("#   at %s line %d\n", file, line);
	return ok;
}

static TAP_UNUSED TAP_PRINTF(6, 7) int
tap_check_int(long long got, long long expected, const char *file, int line,
	      const char *expr, const char *fmt, ...)
{
	va_list ap;
	int ok = got == expected;

	va_start(ap, fmt);
	tap_vresult(ok, fmt, ap);
	va_end(ap);
	if (!ok)
		printf("#   at %s line %d: %s\n#   got %lld expected %lld\n",
		       file, line, expr, got, expected);
	return ok;
}

static TAP_UNUSED TAP_PRINTF(8, 9) int
tap_check_mem(const char *got, size_t glen, const char *expected, size_t elen,
	      const char *file, int line, const char *expr, const char *fmt, ...)
{
	va_list ap;
	int ok;

	if (got == NULL || expected == NULL)
		ok = got == expected;
	else
		ok = glen == elen && memcmp(got, expected, glen) == 0;
	va_start(ap, fmt);
	tap_vresult(ok, fmt, ap);
	va_end(ap);
	if (!ok) {
		printf("#   at %s line %d: %s\n#   got ", file, line, expr);
		tap_print_quoted(got, glen);
		fputs("\n#   expected ", stdout);
		tap_print_quoted(expected, elen);
		putchar('\n');
	}
	return ok;
}

static TAP_UNUSED TAP_PRINTF(6, 7) int
tap_check_str(const char *got, const char *expected, const char *file, int line,
	      const char *expr, const char *fmt, ...)
{
	va_list ap;
	int ok;

	if (got == NULL || expected == NULL)
		ok = got == expected;
	else
		ok = strcmp(got, expected) == 0;
	va_start(ap, fmt);
	tap_vresult(ok, fmt, ap);
	va_end(ap);
	if (!ok) {
		printf("#   at %s line %d: %s\n#   got ", file, line, expr);
		tap_print_quoted(got, got != NULL ? strlen(got) : 0);
		fputs("\n#   expected ", stdout);
		tap_print_quoted(expected, expected != NULL ? strlen(expected) : 0);
		putchar('\n');
	}
	return ok;
}

static TAP_UNUSED TAP_PRINTF(6, 7) int
tap_check_contains(const char *hay, const char *needle, const char *file, int line,
		   const char *expr, const char *fmt, ...)
{
	va_list ap;
	int ok = hay != NULL && strstr(hay, needle) != NULL;

	va_start(ap, fmt);
	tap_vresult(ok, fmt, ap);
	va_end(ap);
	if (!ok) {
		printf("#   at %s line %d: %s\n#   got ", file, line, expr);
		tap_print_quoted(hay, hay != NULL ? strlen(hay) : 0);
		fputs("\n#   expected it to contain ", stdout);
		tap_print_quoted(needle, strlen(needle));
		putchar('\n');
	}
	return ok;
}

static TAP_UNUSED TAP_PRINTF(2, 3) void
tap_skip(int n, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	while (n-- > 0)
		printf("ok %d # SKIP %s\n", ++tap_count, why);
	fflush(stdout);
}

/*
 * n checks that could not run because a check they depend on failed (e.g.
 * the settings did not load): each is counted and printed as a failure,
 * "not ok N - why", so that the plan keeps its size and the run goes red.
 */
static TAP_UNUSED TAP_PRINTF(4, 5) void
tap_fail(int n, const char *file, int line, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	while (n-- > 0) {
		tap_count++;
		tap_failures++;
		printf("not ok %d - not run: %s\n#   at %s line %d\n", tap_count, why, file,
		       line);
	}
	fflush(stdout);
}

/* A free-form diagnostic line. */
static TAP_UNUSED TAP_PRINTF(1, 2) void
tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

#define TAP_SAFE_BASE "/run/ropc-tests"

/* Whether path is a directory (not a symlink) owned by root and not
 * writable by group or others; when not, why says so. */
static TAP_UNUSED int
tap_dir_safe(const char *path, char *why, size_t whylen)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "%s is %s", path, S_ISLNK(st.st_mode) ?
			 "a symbolic link" : "not a directory");
		return 0;
	}
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(why, whylen, "%s has owner uid %u and mode %04o; it must be owned by "
			 "root and not writable by group or others", path,
			 (unsigned int)st.st_uid, (unsigned int)(st.st_mode & 07777));
		return 0;
	}
	return 1;
}

/*
 * Make a fresh directory (mode 0755) for a test's files and write its path
 * to buf (n bytes); name goes into the directory's name.  Returns 0, or
 * prints "Bail out! ..." and returns -1.
 *
 * The module refuses a config, secret or trust file when a directory above
 * it, up to /, is not owned by root (or the expected owner) or is writable
 * by group or others; /tmp (1777) is such a directory.  So, as root, the
 * directory is made under /run/ropc-tests, created here (root, 0755) when
 * missing and shared by the tests; when it, /run or / is not a root-owned
 * directory closed to group and other writes, this bails out rather than
 * use it.  When not root (a developer machine), it falls back to mkdtemp
 * under /tmp: checks that need safe parent directories may then fail, which
 * is accepted there; CI runs as root.
 */
static TAP_UNUSED int
tap_safe_tmpdir(char *buf, size_t n, const char *name)
{
	static const char *const parents[] = { "/", "/run", TAP_SAFE_BASE };
	char why[300];
	size_t i;
	int tries;

	if (geteuid() != 0) {
		if ((size_t)snprintf(buf, n, "/tmp/ropc-%s-XXXXXX", name) >= n ||
		    mkdtemp(buf) == NULL) {
			printf("Bail out! mkdtemp /tmp/ropc-%s-XXXXXX: %s\n", name, strerror(errno));
			return -1;
		}
		chmod(buf, 0755);
		return 0;
	}
	/* Should something remove the shared directory between mkdir and
	 * mkdtemp, make it again. */
	for (tries = 0; tries < 5; tries++) {
		if (mkdir(TAP_SAFE_BASE, 0755) == 0) {
			if (chmod(TAP_SAFE_BASE, 0755) != 0) {
				printf("Bail out! chmod %s: %s\n", TAP_SAFE_BASE, strerror(errno));
				return -1;
			}
		} else if (errno != EEXIST) {
			printf("Bail out! mkdir %s: %s\n", TAP_SAFE_BASE, strerror(errno));
			return -1;
		}
		for (i = 0; i < sizeof(parents) / sizeof(parents[0]); i++)
			if (!tap_dir_safe(parents[i], why, sizeof(why))) {
				printf("Bail out! unsafe place for test files: %s\n", why);
				return -1;
			}
		if ((size_t)snprintf(buf, n, "%s/%s-XXXXXX", TAP_SAFE_BASE, name) >= n) {
			printf("Bail out! %s/%s-XXXXXX: name too long\n", TAP_SAFE_BASE, name);
			return -1;
		}
		if (mkdtemp(buf) != NULL) {
			if (chmod(buf, 0755) != 0) {
				printf("Bail out! chmod %s: %s\n", buf, strerror(errno));
				return -1;
			}
			return 0;
		}
		if (errno != ENOENT)
			break;
	}
	printf("Bail out! mkdtemp %s/%s-XXXXXX: %s\n", TAP_SAFE_BASE, name, strerror(errno));
	return -1;
}

/* Remove dir (made by tap_safe_tmpdir) and all in it.  /run/ropc-tests
 * itself stays: other tests, possibly running now, share it (removing it
 * under one of them would make its mkdtemp fail), and /run is emptied at
 * boot. */
static TAP_UNUSED void
tap_remove_tmpdir(const char *dir)
{
	char cmd[300];

	if (dir[0] == '\0' || strchr(dir, '\'') != NULL) {
		tap_diag("not removing %s", dir);
		return;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
}

static TAP_UNUSED int
tap_done(void)
{
	printf("1..%d\n", tap_count);
	if (tap_failures > 0)
		printf("# %d of %d checks failed\n", tap_failures, tap_count);
	fflush(stdout);
	return tap_failures > 0 ? 1 : 0;
}

#define CHECK(cond, ...) \
	tap_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_INT(got, expected, ...) \
	tap_check_int((long long)(got), (long long)(expected), __FILE__, __LINE__, \
		      #got, __VA_ARGS__)
#define CHECK_STR(got, expected, ...) \
	tap_check_str((got), (expected), __FILE__, __LINE__, #got, __VA_ARGS__)
#define CHECK_MEM(got, glen, expected, elen, ...) \
	tap_check_mem((got), (glen), (expected), (elen), __FILE__, __LINE__, #got, \
		      __VA_ARGS__)
#define CHECK_NULL(p, ...) \
	tap_check((p) == NULL, __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_NOT_NULL(p, ...) \
	tap_check((p) != NULL, __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_CONTAINS(hay, needle, ...) \
	tap_check_contains((hay), (needle), __FILE__, __LINE__, #hay, __VA_ARGS__)
#define SKIP(n, ...) tap_skip((n), __VA_ARGS__)
#define FAIL(n, ...) tap_fail((n), __FILE__, __LINE__, __VA_ARGS__)

#endif
