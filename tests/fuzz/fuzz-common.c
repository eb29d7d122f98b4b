/*
 * fuzz-common.c: invariant reporting and the log capture shared by the
 * fuzz targets (see fuzz-common.h).
 */
#define _GNU_SOURCE 1
#include "fuzz-common.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <security/pam_ext.h>

#define LOG_KEEP ((size_t)64 * 1024)

static char log_text[LOG_KEEP + 1];
static size_t log_len;
static char log_fmts[LOG_KEEP + 1];
static size_t log_fmts_len;
static bool log_trunc;

bool
fuzz_skipped(const char *name)
{
	const char *skip = getenv("FUZZ_SKIP");
	size_t n = strlen(name);

	while (skip != NULL && *skip != '\0') {
		const char *end = strchr(skip, ',');
		size_t len = end != NULL ? (size_t)(end - skip) : strlen(skip);

		if (len == n && strncmp(skip, name, n) == 0)
			return true;
		skip = end != NULL ? end + 1 : NULL;
	}
	return false;
}

void
fuzz_fail(const char *name, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (fuzz_skipped(name))
		return;
	fprintf(stderr, "\n==FUZZ== invariant \"%s\" broken at %s:%d: ", name, file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (log_len > 0)
		fprintf(stderr, "==FUZZ== log lines of this input:\n%.*s", (int)log_len, log_text);
	fflush(stderr);
	abort();
}

void
fuzz_dump(const char *label, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;

	fprintf(stderr, "==FUZZ== %s (%zu bytes): \"", label, n);
	for (i = 0; i < n && i < 300; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\')
			fputc(s[i], stderr);
		else
			fprintf(stderr, "\\x%02x", s[i]);
	}
	fprintf(stderr, "\"%s\n", n > 300 ? "..." : "");
}

void
fuzz_log_reset(void)
{
	log_len = 0;
	log_text[0] = '\0';
	log_fmts_len = 0;
	log_fmts[0] = '\0';
	log_trunc = false;
}

const char *
fuzz_log_text(void)
{
	return log_text;
}

size_t
fuzz_log_len(void)
{
	return log_len;
}

bool
fuzz_log_truncated(void)
{
	return log_trunc;
}

bool
fuzz_log_leaks(const char *needle, size_t n)
{
	if (n == 0 || memmem(log_text, log_len, needle, n) == NULL)
		return false;
	return memmem(log_fmts, log_fmts_len, needle, n) == NULL;
}

static void
keep(char *buf, size_t *len, const char *s, size_t n)
{
	if (n + 1 > LOG_KEEP - *len) {
		log_trunc = true;
		return;
	}
	memcpy(buf + *len, s, n);
	buf[*len + n] = '\n';
	*len += n + 1;
	buf[*len] = '\0';
}

/*
 * Stands in for libpam's pam_vsyslog (the module calls nothing else of
 * syslog's).  The executable's definition wins over libpam's for the
 * module's own calls.
 */
void
pam_vsyslog(const pam_handle_t *pamh, int priority, const char *fmt, va_list args)
{
	static int forward = -1;
	static void (*real)(const pam_handle_t *, int, const char *, va_list);
	char *msg = NULL;
	va_list ap;
	size_t n, i;
	int w;

	if (forward < 0) {
		const char *e = getenv("FUZZ_SYSLOG");

		forward = e != NULL && e[0] == '1';
		if (forward)
			*(void **)&real = dlsym(RTLD_NEXT, "pam_vsyslog");
	}
	FUZZ_CHECK("log-priority", priority >= LOG_EMERG && priority <= LOG_DEBUG,
		   "log priority %d", priority);
	va_copy(ap, args);
	w = vasprintf(&msg, fmt, ap);
	va_end(ap);
	FUZZ_CHECK("log-format", w >= 0 && msg != NULL, "vasprintf failed for \"%s\"", fmt);
	if (w < 0 || msg == NULL)
		return;
	n = (size_t)w;
	/* A log line must be one line of text: no newline, escape or other
	 * control character may come from outside (log injection). */
	for (i = 0; i < n; i++)
		if ((unsigned char)msg[i] < 0x20 || (unsigned char)msg[i] == 0x7f) {
			fuzz_dump("log line", msg, n);
			FUZZ_CHECK("log-ctl", false,
				   "control character 0x%02x at byte %zu of a log line (format \"%s\")",
				   (unsigned char)msg[i], i, fmt);
			break;
		}
	keep(log_text, &log_len, msg, n);
	keep(log_fmts, &log_fmts_len, fmt, strlen(fmt));
	free(msg);
	if (forward && real != NULL)
		real(pamh, priority, fmt, args);
}
