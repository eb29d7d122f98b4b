/*
 * logcap.h: the unit tests' captured log.  pam_vsyslog is wrapped: every
 * line the code under test logs is kept in logbuf as "<priority>text\n"
 * (and still handed to libpam's own), so that a test can check what was
 * logged and at which priority.  Include it once, in the test's only
 * source file, after defining _GNU_SOURCE (RTLD_NEXT); LOGCAP_SIZE may be
 * defined first for a bigger buffer.
 */
#ifndef ROPC_TEST_LOGCAP_H
#define ROPC_TEST_LOGCAP_H

#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <security/pam_ext.h>

#ifndef RTLD_NEXT
#error "define _GNU_SOURCE before the first #include to use logcap.h"
#endif

#ifndef LOGCAP_SIZE
#define LOGCAP_SIZE (64 * 1024)
#endif

static char logbuf[LOGCAP_SIZE];
static size_t loglen;
/* How many lines also reached libpam's pam_vsyslog. */
static int real_calls;

typedef void (*logcap_vsyslog_fn)(const pam_handle_t *, int, const char *, va_list);

void
pam_vsyslog(const pam_handle_t *pamh, int priority, const char *fmt, va_list args)
{
	static logcap_vsyslog_fn real;
	char line[2048];
	va_list copy;
	int n;

	va_copy(copy, args);
	vsnprintf(line, sizeof(line), fmt, copy);
	va_end(copy);
	n = snprintf(logbuf + loglen, sizeof(logbuf) - loglen, "<%d>%s\n", priority, line);
	if (n > 0 && (size_t)n < sizeof(logbuf) - loglen)
		loglen += (size_t)n;
	if (real == NULL)
		real = (logcap_vsyslog_fn)(uintptr_t)dlsym(RTLD_NEXT, "pam_vsyslog");
	if (real == NULL) {
		/* The linker dropped libpam (--as-needed: nothing else from it
		 * may be used by the test); load it. */
		void *h = dlopen("libpam.so.0", RTLD_NOW | RTLD_LOCAL);

		if (h != NULL)
			real = (logcap_vsyslog_fn)(uintptr_t)dlsym(h, "pam_vsyslog");
	}
	if (real != NULL) {
		real(pamh, priority, fmt, args);
		real_calls++;
	}
}

static void __attribute__((unused))
log_reset(void)
{
	loglen = 0;
	logbuf[0] = '\0';
}

/* How many lines were logged at priority prio (that contain word, when
 * word is not NULL). */
static int __attribute__((unused))
count_logged(int prio, const char *word)
{
	char tag[16];
	const char *p = logbuf;
	int count = 0;

	snprintf(tag, sizeof(tag), "<%d>", prio);
	while ((p = strstr(p, tag)) != NULL) {
		const char *end = strchr(p, '\n');
		char line[2100];
		size_t n;

		if (end == NULL)
			end = p + strlen(p);
		n = (size_t)(end - p) < sizeof(line) - 1 ? (size_t)(end - p) : sizeof(line) - 1;
		memcpy(line, p, n);
		line[n] = '\0';
		if (word == NULL || strstr(line, word) != NULL)
			count++;
		p = end;
	}
	return count;
}

/* Whether a line logged at priority prio contains word. */
static int __attribute__((unused))
logged(int prio, const char *word)
{
	return count_logged(prio, word) > 0;
}

/* Lines logged at LOG_WARNING or worse. */
static int __attribute__((unused))
count_problems(void)
{
	int prio, n = 0;

	for (prio = LOG_EMERG; prio <= LOG_WARNING; prio++)
		n += count_logged(prio, NULL);
	return n;
}

#endif
