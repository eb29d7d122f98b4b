/*
 * test-outcome.c: the outcome table against DESIGN §2 (PAM code and the
 * message to the person, exactly), the names error_map accepts, and the
 * PAM code names used in the log line.
 */
#include <string.h>
#include <syslog.h>
#include <security/pam_appl.h>

#include "outcome.h"
#include "tap.h"

struct row {
	enum ropc_outcome o;
	const char *name;
	int pam_code;
	const char *message;
	int mappable;           /* error_map may name it */
};

/* DESIGN §2, one row per outcome. */
static const struct row table[] = {
	{ ROPC_OUT_SUCCESS, "success", PAM_SUCCESS, NULL, 0 },
	{ ROPC_OUT_INVALID_CREDENTIALS, "invalid_credentials", PAM_AUTH_ERR, NULL, 1 },
	/* Same code and message as a wrong password, so names cannot be probed. */
	{ ROPC_OUT_IDP_UNKNOWN_USER, "idp_unknown_user", PAM_AUTH_ERR, NULL, 1 },
	{ ROPC_OUT_UNKNOWN_USER, "unknown_user", PAM_USER_UNKNOWN, NULL, 0 },
	/* Root and system accounts (uid below minimum_uid): never sent. */
	{ ROPC_OUT_SYSTEM_ACCOUNT, "system_account", PAM_IGNORE, NULL, 0 },
	/* §1 step 3: empty, oversized, sshd's junk password. */
	{ ROPC_OUT_REJECTED_INPUT, "rejected_input", PAM_AUTH_ERR, NULL, 0 },
	{ ROPC_OUT_MFA_REQUIRED, "mfa_required", PAM_CRED_INSUFFICIENT,
	  "multi-factor authentication is required for this account", 1 },
	{ ROPC_OUT_LOCKED, "locked", PAM_MAXTRIES,
	  "account locked at the identity provider", 1 },
	{ ROPC_OUT_SUSPENDED, "suspended", PAM_PERM_DENIED,
	  "account disabled at the identity provider", 1 },
	{ ROPC_OUT_PASSWORD_EXPIRED, "password_expired", PAM_AUTHTOK_EXPIRED,
	  "password expired; change it at the identity provider", 1 },
	{ ROPC_OUT_ACCESS_DENIED, "access_denied", PAM_PERM_DENIED,
	  "not allowed to use this service", 1 },
	/* Token verification (issue: who the token is for): never mappable. */
	{ ROPC_OUT_TOKEN_INVALID, "token_invalid", PAM_AUTH_ERR, NULL, 0 },
	{ ROPC_OUT_IDENTITY_MISMATCH, "identity_mismatch", PAM_PERM_DENIED,
	  "the identity provider vouched for a different account", 0 },
	{ ROPC_OUT_NOT_AUTHORIZED, "not_authorized", PAM_PERM_DENIED,
	  "not allowed to use this service", 0 },
	/* A second factor that failed (issue: MFA): never mappable. */
	{ ROPC_OUT_MFA_FAILED, "mfa_failed", PAM_AUTH_ERR, "multi-factor authentication failed", 0 },
	/* The offline cache (issue: outages): never mappable. */
	{ ROPC_OUT_OFFLINE_SUCCESS, "offline_success", PAM_SUCCESS, NULL, 0 },
	{ ROPC_OUT_OFFLINE_REFUSED, "offline_refused", PAM_AUTH_ERR, NULL, 0 },
	{ ROPC_OUT_MISCONFIGURED, "misconfigured", PAM_SERVICE_ERR, NULL, 1 },
	{ ROPC_OUT_UNAVAILABLE, "unavailable", PAM_AUTHINFO_UNAVAIL, NULL, 1 },
	{ ROPC_OUT_UNRECOGNISED, "unrecognised", PAM_AUTH_ERR, NULL, 1 },
	{ ROPC_OUT_INTERNAL, "internal_error", PAM_SYSTEM_ERR, NULL, 0 },
};

#define NROWS (sizeof(table) / sizeof(table[0]))

static void
test_table(void)
{
	size_t i, j, dups = 0;

	CHECK_INT(NROWS, ROPC_OUT_COUNT, "the test covers every outcome");
	for (i = 0; i < NROWS; i++) {
		const struct ropc_outcome_info *info = ropc_outcome_info(table[i].o);

		CHECK_STR(info->name, table[i].name, "outcome %d is named %s",
			  (int)table[i].o, table[i].name);
		CHECK_INT(info->pam_code, table[i].pam_code, "%s returns %s", table[i].name,
			  ropc_pam_code_name(table[i].pam_code));
		CHECK_STR(info->message, table[i].message, "%s tells the person %s",
			  table[i].name, table[i].message != NULL ? table[i].message : "nothing");
		if (table[i].mappable)
			CHECK_INT(ropc_outcome_from_name(table[i].name), table[i].o,
				  "error_map accepts %s", table[i].name);
		else
			CHECK_INT(ropc_outcome_from_name(table[i].name), -1,
				  "error_map refuses %s", table[i].name);
	}
	for (i = 0; i < NROWS; i++)
		for (j = i + 1; j < NROWS; j++)
			if (strcmp(ropc_outcome_info(table[i].o)->name,
				   ropc_outcome_info(table[j].o)->name) == 0)
				dups++;
	CHECK_INT(dups, 0, "outcome names are unique");

	/* Log priorities: config and IdP problems reach the admin at LOG_ERR
	 * (§2 "logged at LOG_ERR for the admin"); everyday failures do not. */
	CHECK_INT(ropc_outcome_info(ROPC_OUT_MISCONFIGURED)->log_priority, LOG_ERR,
		  "misconfigured logs at LOG_ERR");
	CHECK(ropc_outcome_info(ROPC_OUT_UNAVAILABLE)->log_priority <= LOG_ERR,
	      "unavailable logs at LOG_ERR or higher");
	CHECK(ropc_outcome_info(ROPC_OUT_INVALID_CREDENTIALS)->log_priority > LOG_ERR,
	      "a wrong password logs below LOG_ERR");
	CHECK_INT(ropc_outcome_info(ROPC_OUT_IDP_UNKNOWN_USER)->log_priority,
		  ropc_outcome_info(ROPC_OUT_INVALID_CREDENTIALS)->log_priority,
		  "an IdP-unknown user logs like a wrong password");

	/* Out of range: the internal error, never success. */
	CHECK_STR(ropc_outcome_info(ROPC_OUT_COUNT)->name, "internal_error",
		  "ROPC_OUT_COUNT gives internal_error");
	CHECK_INT(ropc_outcome_info((enum ropc_outcome)-1)->pam_code, PAM_SYSTEM_ERR,
		  "outcome -1 gives PAM_SYSTEM_ERR");
	CHECK_INT(ropc_outcome_info((enum ropc_outcome)1000)->pam_code, PAM_SYSTEM_ERR,
		  "outcome 1000 gives PAM_SYSTEM_ERR");
}

static void
test_from_name(void)
{
	CHECK_INT(ropc_outcome_from_name("success"), -1, "success cannot be mapped");
	CHECK_INT(ropc_outcome_from_name("SUCCESS"), -1, "SUCCESS cannot be mapped");
	CHECK_INT(ropc_outcome_from_name("Success"), -1, "Success cannot be mapped");
	CHECK_INT(ropc_outcome_from_name("LOCKED"), ROPC_OUT_LOCKED, "names ignore case");
	CHECK_INT(ropc_outcome_from_name("Mfa_Required"), ROPC_OUT_MFA_REQUIRED,
		  "mixed case");
	CHECK_INT(ropc_outcome_from_name(""), -1, "empty name refused");
	CHECK_INT(ropc_outcome_from_name("lock"), -1, "prefix of a name refused");
	CHECK_INT(ropc_outcome_from_name("locked "), -1, "trailing space refused");
	CHECK_INT(ropc_outcome_from_name("bogus"), -1, "unknown name refused");
	CHECK_INT(ropc_outcome_from_name("internal"), -1, "internal refused");
	CHECK_INT(ropc_outcome_from_name("0"), -1, "a number is not a name");
}

static void
test_code_names(void)
{
	static const struct {
		int code;
		const char *name;
	} names[] = {
		{ PAM_SUCCESS, "PAM_SUCCESS" },
		{ PAM_AUTH_ERR, "PAM_AUTH_ERR" },
		{ PAM_USER_UNKNOWN, "PAM_USER_UNKNOWN" },
		{ PAM_CRED_INSUFFICIENT, "PAM_CRED_INSUFFICIENT" },
		{ PAM_MAXTRIES, "PAM_MAXTRIES" },
		{ PAM_PERM_DENIED, "PAM_PERM_DENIED" },
		{ PAM_AUTHTOK_EXPIRED, "PAM_AUTHTOK_EXPIRED" },
		{ PAM_SERVICE_ERR, "PAM_SERVICE_ERR" },
		{ PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL" },
		{ PAM_SYSTEM_ERR, "PAM_SYSTEM_ERR" },
		{ PAM_BUF_ERR, "PAM_BUF_ERR" },
		{ PAM_IGNORE, "PAM_IGNORE" },
		{ PAM_AUTHTOK_ERR, "PAM_AUTHTOK_ERR" },
		{ PAM_CONV_ERR, "PAM_CONV_ERR" },
		{ PAM_ABORT, "PAM_ABORT" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		CHECK_STR(ropc_pam_code_name(names[i].code), names[i].name,
			  "code %d is %s", names[i].code, names[i].name);
	/* Every code an outcome returns has a name of its own. */
	for (i = 0; i < NROWS; i++)
		CHECK(strcmp(ropc_pam_code_name(table[i].pam_code), "PAM_(other)") != 0,
		      "code of %s has a name", table[i].name);
	CHECK_STR(ropc_pam_code_name(9999), "PAM_(other)", "unknown code");
}

int
main(void)
{
	test_table();
	test_from_name();
	test_code_names();
	return tap_done();
}
