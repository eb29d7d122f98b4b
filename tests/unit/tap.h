/*
 * tap.h: a tiny Test Anything Protocol producer for the unit tests.
 *
 *   CHECK(cond, "what %s", ...)          the condition holds
 *   CHECK_INT(got, expected, "what")     two integers are equal
 *   CHECK_STR(got, expected, "what")     two C strings are equal (NULL allowed)
 *   CHECK_MEM(got, glen, exp, elen, "")  two byte strings are equal
 *   CHECK_NULL(p, "what") / CHECK_NOT_NULL(p, "what")
 *   CHECK_CONTAINS(hay, needle, "what")  needle occurs in hay (hay may be NULL)
 *   SKIP(n, "why")                       n checks that cannot run here
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

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#endif
