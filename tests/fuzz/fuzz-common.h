/*
 * fuzz-common.h: what the pam_ropc fuzz targets share (fuzz-common.c).
 *
 * - FUZZ_CHECK(name, cond, ...): an invariant.  When it does not hold, the
 *   target prints why and aborts, which libFuzzer reports as a crash and
 *   saves as a reproducer.  FUZZ_SKIP=name1,name2 in the environment turns
 *   named checks off, to keep fuzzing for other bugs while a known one is
 *   being fixed (never in the regression run).  A skipped check returns,
 *   so the code after a check that later code relies on guards itself.
 * - The module's log: pam_vsyslog is defined in fuzz-common.c, so the
 *   module's log lines are formatted (every argument is read, as libpam's
 *   vasprintf would), checked (no control characters may reach syslog) and
 *   kept for the current input (fuzz_log_text), but not sent to syslog:
 *   millions of lines a minute would flood the system log of whoever runs
 *   `make fuzz`.  FUZZ_SYSLOG=1 sends them on to libpam's real pam_vsyslog
 *   as well (it is safe with a NULL handle; see tests/fuzz/README).
 */
#ifndef ROPC_FUZZ_COMMON_H
#define ROPC_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Whether FUZZ_SKIP names this check. */
bool fuzz_skipped(const char *name);

/* Report a broken invariant and abort (unless skipped). */
void fuzz_fail(const char *name, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define FUZZ_CHECK(name, cond, ...)                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			fuzz_fail(name, __FILE__, __LINE__, __VA_ARGS__);      \
	} while (0)

/* The log lines of the current input, each ending in '\n' (at most 64 KiB
 * are kept; fuzz_log_truncated says whether some were dropped). */
void fuzz_log_reset(void);
const char *fuzz_log_text(void);
size_t fuzz_log_len(void);
bool fuzz_log_truncated(void);
/* Whether any log line contains needle (n bytes), outside the text of the
 * format strings themselves. */
bool fuzz_log_leaks(const char *needle, size_t n);

/* Print a short, escaped excerpt of a byte string to stderr. */
void fuzz_dump(const char *label, const void *p, size_t n);

#endif
