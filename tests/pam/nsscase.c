/*
 * nsscase.so: a stand-in for a case-insensitive NSS source (SSSD with
 * case_sensitive = false, winbind), preloaded into pamdrive by the PAM
 * tests.  It answers getpwnam_r for two made-up local accounts and hands
 * every other name to the real C library:
 *
 *   "ropcci" in any spelling ("ROPCCI", "RopCi"...): pw_name "ropcci", uid 4242
 *   "ropcsys": a system account, uid 999
 *
 * so that the tests can show which name the module sends to the IdP and
 * what it does below minimum_uid, without touching /etc/passwd.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <strings.h>

typedef int (*getpwnam_r_fn)(const char *, struct passwd *, char *, size_t,
			     struct passwd **);

static int
fill(const char *name, uid_t uid, struct passwd *pw, char *buf, size_t buflen,
     struct passwd **result)
{
	static const char *const fields[] = { "x", "pamdrive test account", "/nonexistent",
					      "/usr/sbin/nologin" };
	size_t need = strlen(name) + 1, i, off;
	char *f[5];

	for (i = 0; i < 4; i++)
		need += strlen(fields[i]) + 1;
	if (buflen < need) {
		*result = NULL;
		return ERANGE;
	}
	f[0] = buf;
	strcpy(f[0], name);
	off = strlen(name) + 1;
	for (i = 0; i < 4; i++) {
		f[i + 1] = buf + off;
		strcpy(f[i + 1], fields[i]);
		off += strlen(fields[i]) + 1;
	}
	pw->pw_name = f[0];
	pw->pw_passwd = f[1];
	pw->pw_gecos = f[2];
	pw->pw_dir = f[3];
	pw->pw_shell = f[4];
	pw->pw_uid = uid;
	pw->pw_gid = uid;
	*result = pw;
	return 0;
}

int
getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t buflen,
	   struct passwd **result)
{
	getpwnam_r_fn real;

	if (name != NULL && strcasecmp(name, "ropcci") == 0)
		return fill("ropcci", 4242, pw, buf, buflen, result);
	if (name != NULL && strcmp(name, "ropcsys") == 0)
		return fill("ropcsys", 999, pw, buf, buflen, result);
	real = (getpwnam_r_fn)dlsym(RTLD_NEXT, "getpwnam_r");
	if (real == NULL) {
		*result = NULL;
		return ENOSYS;
	}
	return real(name, pw, buf, buflen, result);
}
