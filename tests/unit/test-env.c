/*
 * test-env.c: names of the PAM environment variables (DESIGN §3):
 * prefix + name, refused rather than cut when the buffer is too small.
 */
#include <string.h>

#include "env.h"
#include "tap.h"

static void
test_names(void)
{
	static const struct {
		const char *name;
		const char *full;
	} rows[] = {
		{ ROPC_ENV_ACCESS_TOKEN, "OAUTH2_ACCESS_TOKEN" },
		{ ROPC_ENV_TOKEN_TYPE, "OAUTH2_TOKEN_TYPE" },
		{ ROPC_ENV_EXPIRES_AT, "OAUTH2_EXPIRES_AT" },
		{ ROPC_ENV_SCOPE, "OAUTH2_SCOPE" },
		{ ROPC_ENV_ID_TOKEN, "OAUTH2_ID_TOKEN" },
		{ ROPC_ENV_REFRESH_TOKEN, "OAUTH2_REFRESH_TOKEN" },
	};
	char out[128];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(out, 'Z', sizeof(out));
		CHECK_INT(ropc_env_name("OAUTH2_", rows[i].name, out, sizeof(out)), 0,
			  "%s fits", rows[i].full);
		CHECK_STR(out, rows[i].full, "default prefix + %s", rows[i].name);
	}
	ropc_env_name("IDP_", ROPC_ENV_ACCESS_TOKEN, out, sizeof(out));
	CHECK_STR(out, "IDP_ACCESS_TOKEN", "custom prefix");
	ropc_env_name("", ROPC_ENV_SCOPE, out, sizeof(out));
	CHECK_STR(out, "SCOPE", "empty prefix");
}

static void
test_overflow(void)
{
	char out[32], prefix[80];
	size_t need = strlen("OAUTH2_ACCESS_TOKEN") + 1; /* 20 */

	memset(out, 'Z', sizeof(out));
	CHECK_INT(ropc_env_name("OAUTH2_", "ACCESS_TOKEN", out, need), 0,
		  "exactly enough room (20 bytes) fits");
	CHECK_STR(out, "OAUTH2_ACCESS_TOKEN", "exact fit is whole");

	memset(out, 'Z', sizeof(out));
	CHECK_INT(ropc_env_name("OAUTH2_", "ACCESS_TOKEN", out, need - 1), -1,
		  "one byte short is refused");
	CHECK(memchr(out, '\0', need - 1) != NULL && out[need - 1] == 'Z',
	      "refused: still NUL-terminated, nothing written past outsize");

	CHECK_INT(ropc_env_name("OAUTH2_", "ACCESS_TOKEN", out, 1), -1, "1 byte refused");
	CHECK_STR(out, "", "1 byte holds the empty string");
	out[0] = 'Z';
	CHECK_INT(ropc_env_name("OAUTH2_", "ACCESS_TOKEN", out, 0), -1, "0 bytes refused");
	CHECK_INT(out[0], 'Z', "0 bytes: nothing written");

	/* The longest prefix env_prefix accepts (64) with the longest name
	 * must fit the 128-byte buffer env.c uses. */
	memset(prefix, 'P', 64);
	prefix[64] = '\0';
	{
		char var[128];

		CHECK_INT(ropc_env_name(prefix, ROPC_ENV_REFRESH_TOKEN, var, sizeof(var)), 0,
			  "64-byte prefix + REFRESH_TOKEN fits 128 bytes");
		CHECK_INT(strlen(var), 64 + strlen(ROPC_ENV_REFRESH_TOKEN), "and is whole");
	}
	memset(prefix, 'P', 79);
	prefix[79] = '\0';
	{
		char var[64];

		CHECK_INT(ropc_env_name(prefix, ROPC_ENV_SCOPE, var, sizeof(var)), -1,
			  "prefix longer than the buffer refused");
	}
}

int
main(void)
{
	test_names();
	test_overflow();
	return tap_done();
}
