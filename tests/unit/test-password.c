/*
 * test-password.c: which passwords are never sent to the IdP (DESIGN §1
 * step 3): empty, PAM_MAX_RESP_SIZE bytes or more, and sshd's stand-in
 * password for users it refuses.
 */
#include <stdlib.h>
#include <string.h>
#include <security/pam_appl.h>

#include "auth.h"
#include "tap.h"

static char *
repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

int
main(void)
{
	char *p;

	CHECK_INT(PAM_MAX_RESP_SIZE, 512, "this libpam's PAM_MAX_RESP_SIZE is 512");

	CHECK_CONTAINS(ropc_password_check(NULL), "empty", "NULL refused as empty");
	CHECK_CONTAINS(ropc_password_check(""), "empty", "empty password refused");

	CHECK_STR(ropc_password_check("x"), NULL, "one character accepted");
	CHECK_STR(ropc_password_check("correct horse battery staple"), NULL,
		  "passphrase with spaces accepted");
	CHECK_STR(ropc_password_check("p\xc3\xa4ss\xf0\x9f\x94\x91"), NULL, "UTF-8 accepted");
	CHECK_STR(ropc_password_check("a&b=c+d%20"), NULL, "form metacharacters accepted");

	p = repeat('a', 511);
	CHECK_STR(ropc_password_check(p), NULL, "511 bytes accepted");
	free(p);
	p = repeat('a', 512);
	CHECK_CONTAINS(ropc_password_check(p), "PAM_MAX_RESP_SIZE", "512 bytes refused");
	free(p);
	p = repeat('a', 513);
	CHECK_CONTAINS(ropc_password_check(p), "PAM_MAX_RESP_SIZE", "513 bytes refused");
	free(p);
	p = repeat('a', 100000);
	CHECK_CONTAINS(ropc_password_check(p), "PAM_MAX_RESP_SIZE", "100000 bytes refused");
	free(p);

	CHECK_STR(ROPC_SSHD_JUNK_PASSWORD, "\b\n\r\177INCORRECT", "sshd's junk password constant");
	CHECK_CONTAINS(ropc_password_check("\b\n\r\177INCORRECT"), "sshd",
		       "sshd's junk password refused");
	CHECK_STR(ropc_password_check("\b\n\r\177INCORRECTx"), NULL,
		  "junk password plus a byte is a password");
	/* OpenSSH repeats the pattern to the typed password's length. */
	{
		static const char junk[] = "\b\n\r\177INCORRECT";
		static const size_t lens[] = { 1, 4, 12, 13, 14, 26, 27, 100, 511 };
		char buf[512];
		size_t i, j;

		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			for (j = 0; j < lens[i]; j++)
				buf[j] = junk[j % (sizeof(junk) - 1)];
			buf[lens[i]] = '\0';
			CHECK_CONTAINS(ropc_password_check(buf), "sshd",
				       "sshd's junk pattern of %zu bytes refused", lens[i]);
		}
		memcpy(buf, junk, 13);
		memcpy(buf + 13, junk, 13);
		buf[20] = 'x';
		buf[26] = '\0';
		CHECK_STR(ropc_password_check(buf), NULL,
			  "the pattern with one byte changed is a password");
	}
	CHECK_STR(ropc_password_check("INCORRECT"), NULL, "INCORRECT alone is a password");
	CHECK_STR(ropc_password_check("\b\n\r\177incorrect"), NULL,
		  "the match is exact, case included");
	return tap_done();
}
