/*
 * pamdrive: a PAM application for the tests.  It runs one transaction
 * through the real libpam (under pam_wrapper, with a service file of the
 * test's own), answers the module's prompts from standard input (one line
 * per prompt; passwords never travel in argv), and prints one JSON object:
 * the return codes, every message the module sent to the person, and the
 * PAM environment afterwards.
 *
 *   pamdrive --service NAME --user NAME [--rhost HOST] [--silent]
 *            [--no-auth] [--acct] [--chauthtok] [--setcred] [--repeat N]
 *            [--setenv NAME=VALUE]... [--scan-secrets]
 *            [--between SHELL-COMMAND] [--users NAME,NAME...]
 *            [--putenv NAME=VALUE]... [--echo-prompts FILE]
 *
 * --echo-prompts: append every message of the module to FILE as it
 * comes (each followed by a line holding only \036), for tests that act
 * while the module waits.
 *
 * --repeat N: N authentications in one handle; "auths" lists every code.
 * --between: a shell command run between two of them (the tests move a
 * faketime clock or change a file with it).  --users: PAM_USER before
 * each of them, in turn.
 *
 * --setenv: set a variable in this process's environment before pam_start,
 * for what the module's libraries read from it (OPENSSL_CONF, say).
 *
 * --scan-secrets: after pam_end, search this process's heap and anonymous
 * mappings for the password (as typed and form-encoded) and the access
 * token, and print how many copies remain ("scan" in the JSON).  The
 * form-encoded password is not computed here: the test takes it from the
 * bytes the test IdP received in an earlier run with the same password and
 * passes them in hex in PAMDRIVE_SCAN_ENCODED, so a change of the module's
 * encoding cannot make the scan look for the wrong bytes.  The hex is
 * decoded straight into the vault: one mapping of its own that the scan
 * skips, where the searched-for values are kept; pamdrive wipes its own
 * copies first and prints no token value.
 *
 * (An application cannot set PAM_AUTHTOK; tests that need a password
 * from an earlier module stack pam_wrapper's pam_set_items.so.)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <security/pam_appl.h>

struct answers {
	char **lines;
	size_t n, next;
	const char *echo;       /* --echo-prompts: append each message here, at once */
};

struct text {
	char *buf;
	size_t len, cap;
};

/* Results go to out; messages from the module to msgs, whenever they
 * arrive, and are put in front at the end. */
static struct text out, msgs, *cur = &out;

static void
emit(const char *s, size_t n)
{
	if (cur->len + n + 1 > cur->cap) {
		cur->cap = (cur->len + n + 1) * 2;
		cur->buf = realloc(cur->buf, cur->cap);
		if (cur->buf == NULL)
			abort();
	}
	memcpy(cur->buf + cur->len, s, n);
	cur->len += n;
	cur->buf[cur->len] = '\0';
}

static void
emits(const char *s)
{
	emit(s, strlen(s));
}

/* A JSON string; bytes that are not printable ASCII become \u00XX, so
 * the test sees exactly which bytes came out. */
static void
emit_json(const char *s)
{
	char esc[8];

	emits("\"");
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			emit(esc, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			emits(esc);
		} else {
			emit((const char *)&c, 1);
		}
	}
	emits("\"");
}

static int messages_out;

static void
emit_message(const char *style, const char *text)
{
	struct text *saved = cur;

	cur = &msgs;
	emits(messages_out++ ? "," : "");
	emits("{\"style\":");
	emit_json(style);
	emits(",\"text\":");
	emit_json(text != NULL ? text : "");
	emits("}");
	cur = saved;
}

static int
conv(int num, const struct pam_message **msg, struct pam_response **resp,
     void *data)
{
	struct answers *a = data;
	struct pam_response *r;
	int i;

	r = calloc((size_t)num, sizeof(*r));
	if (r == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < num; i++) {
		const char *style;

		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF: style = "prompt_echo_off"; break;
		case PAM_PROMPT_ECHO_ON: style = "prompt_echo_on"; break;
		case PAM_ERROR_MSG: style = "error"; break;
		case PAM_TEXT_INFO: style = "info"; break;
		default: style = "other"; break;
		}
		emit_message(style, msg[i]->msg);
		if (a->echo != NULL) {
			/* For a test that must act on a prompt while the module
			 * waits (the device flow's user code). */
			int fd = open(a->echo, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

			if (fd >= 0) {
				if (write(fd, msg[i]->msg, strlen(msg[i]->msg)) < 0 ||
				    write(fd, "\n\036\n", 3) < 0)
					perror("pamdrive: --echo-prompts");
				close(fd);
			}
		}
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF ||
		    msg[i]->msg_style == PAM_PROMPT_ECHO_ON) {
			if (a->next >= a->n) {
				free(r);
				return PAM_CONV_ERR;
			}
			r[i].resp = strdup(a->lines[a->next++]);
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

/* Read all of stdin with read(2), not stdio, so that no FILE buffer keeps
 * a copy of the passwords; split into lines; wipe the raw bytes. */
static void
read_answers(struct answers *a)
{
	size_t len = 0, cap = 4096, i, start = 0;
	char *buf = malloc(cap);
	ssize_t n;

	if (buf == NULL)
		abort();
	while ((n = read(0, buf + len, cap - len)) > 0) {
		len += (size_t)n;
		if (len == cap) {
			char *bigger = malloc(cap * 2);

			if (bigger == NULL)
				abort();
			memcpy(bigger, buf, len);
			explicit_bzero(buf, cap);
			free(buf);
			buf = bigger;
			cap *= 2;
		}
	}
	for (i = 0; i <= len; i++) {
		if (i < len && buf[i] != '\n')
			continue;
		if (i == len && start == len)
			break;
		a->lines = realloc(a->lines, (a->n + 1) * sizeof(char *));
		if (a->lines == NULL)
			abort();
		a->lines[a->n] = strndup(buf + start, i - start);
		if (a->lines[a->n] == NULL)
			abort();
		a->n++;
		start = i + 1;
	}
	explicit_bzero(buf, cap);
	free(buf);
}

/* Count occurrences of needle in this process's heap and anonymous
 * read-write mappings, skipping [skip, skip + skiplen). */
static int
count_copies(const char *needle, size_t nlen, const void *skip, size_t skiplen)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	char line[512];
	int count = 0;

	if (maps == NULL || nlen == 0)
		return -1;
	while (fgets(line, sizeof(line), maps) != NULL) {
		unsigned long lo, hi;
		char perms[8], path[256] = "";
		const char *p, *end;

		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &lo, &hi, perms, path) < 3)
			continue;
		if (perms[0] != 'r' || perms[1] != 'w')
			continue;
		if (path[0] != '\0' && strcmp(path, "[heap]") != 0)
			continue;
		p = (const char *)lo;
		end = (const char *)hi;
		while (p + nlen <= end) {
			const char *hit = memmem(p, (size_t)(end - p), needle, nlen);

			if (hit == NULL)
				break;
			if (!(hit >= (const char *)skip && hit < (const char *)skip + skiplen))
				count++;
			p = hit + 1;
		}
	}
	fclose(maps);
	return count;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode hex into out (at most max bytes), with no copy anywhere else;
 * returns the length, or -1 if hex is empty, not hex or too long. */
static long
hex_decode(const char *hex, char *out, size_t max)
{
	size_t n = strlen(hex), i;

	if (n == 0 || n % 2 != 0 || n / 2 > max)
		return -1;
	for (i = 0; i < n; i += 2) {
		int hi = hexval(hex[i]), lo = hexval(hex[i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (char)(hi << 4 | lo);
	}
	return (long)(n / 2);
}

static void
emit_result(const char *what, int rc, pam_handle_t *pamh)
{
	char num[32];

	emits(",\"");
	emits(what);
	emits("\":");
	snprintf(num, sizeof(num), "%d", rc);
	emits(num);
	emits(",\"");
	emits(what);
	emits("_text\":");
	emit_json(pam_strerror(pamh, rc));
}

int
main(int argc, char **argv)
{
	const char *service = NULL, *user = NULL, *rhost = NULL, *between = NULL;
	char *users = NULL;
	const char *putenvs[8];
	int n_putenv = 0;
	int silent = 0, do_auth = 1, do_acct = 0, do_chauthtok = 0;
	int do_setcred = 0, repeat = 1, scan = 0, i, rc, last = PAM_SUCCESS;
	char *vault = NULL;     /* the scan's pages: password, encoded, token */
	const size_t vaultsize = 16 * 4096;
	long enc_len = 0;       /* the encoded password, at vault + 1024 */
	const char *enc_hex;
	struct answers a = { 0 };
	struct pam_conv pc = { conv, &a };
	pam_handle_t *pamh = NULL;
	char **env;
	char num[64], *canary;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--service") == 0 && i + 1 < argc)
			service = argv[++i];
		else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
			user = argv[++i];
		else if (strcmp(argv[i], "--rhost") == 0 && i + 1 < argc)
			rhost = argv[++i];
		else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
			repeat = atoi(argv[++i]);
		else if (strcmp(argv[i], "--silent") == 0)
			silent = 1;
		else if (strcmp(argv[i], "--no-auth") == 0)
			do_auth = 0;
		else if (strcmp(argv[i], "--acct") == 0)
			do_acct = 1;
		else if (strcmp(argv[i], "--chauthtok") == 0)
			do_chauthtok = 1;
		else if (strcmp(argv[i], "--scan-secrets") == 0)
			scan = 1;
		else if (strcmp(argv[i], "--setenv") == 0 && i + 1 < argc) {
			char *eq = strchr(argv[++i], '=');

			if (eq == NULL || eq == argv[i]) {
				fprintf(stderr, "pamdrive: --setenv wants NAME=VALUE\n");
				return 2;
			}
			*eq = '\0';
			rc = setenv(argv[i], eq + 1, 1);
			*eq = '=';
			if (rc != 0) {
				perror("pamdrive: setenv");
				return 2;
			}
		}
		else if (strcmp(argv[i], "--setcred") == 0)
			do_setcred = 1;
		else if (strcmp(argv[i], "--between") == 0 && i + 1 < argc)
			between = argv[++i];
		else if (strcmp(argv[i], "--users") == 0 && i + 1 < argc)
			users = argv[++i];
		else if (strcmp(argv[i], "--echo-prompts") == 0 && i + 1 < argc)
			a.echo = argv[++i];
		else if (strcmp(argv[i], "--putenv") == 0 && i + 1 < argc && n_putenv < 8)
			putenvs[n_putenv++] = argv[++i];
		else {
			fprintf(stderr, "pamdrive: unknown argument %s\n", argv[i]);
			return 2;
		}
	}
	if (service == NULL) {
		fprintf(stderr, "pamdrive: --service is required\n");
		return 2;
	}
	read_answers(&a);
	if (scan) {
		vault = mmap(NULL, vaultsize, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (vault == MAP_FAILED || a.n == 0 || strlen(a.lines[0]) > 1000) {
			fprintf(stderr, "pamdrive: --scan-secrets needs a password line\n");
			return 2;
		}
		strcpy(vault, a.lines[0]);
		enc_hex = getenv("PAMDRIVE_SCAN_ENCODED");
		enc_len = enc_hex == NULL ? -1 :
			hex_decode(enc_hex, vault + 1024, 8192 - 1024 - 1);
		if (enc_len < 0) {
			fprintf(stderr, "pamdrive: --scan-secrets needs the encoded "
				"password in hex in PAMDRIVE_SCAN_ENCODED\n");
			return 2;
		}
	}
	emits("\"service\":");
	emit_json(service);
	rc = pam_start(service, user, &pc, &pamh);
	if (rc != PAM_SUCCESS) {
		fprintf(stderr, "pamdrive: pam_start: %d\n", rc);
		return 2;
	}
	if (rhost != NULL)
		pam_set_item(pamh, PAM_RHOST, rhost);
	/* --putenv NAME=VALUE: a PAM environment variable set before any
	 * module runs, as a forged "token" would be. */
	for (i = 0; i < n_putenv; i++)
		if (pam_putenv(pamh, putenvs[i]) != PAM_SUCCESS) {
			fprintf(stderr, "pamdrive: pam_putenv failed\n");
			return 2;
		}
	/* --repeat: several authentications in one handle (one per stdin line),
	 * for the leak and lingering-secret checks. */
	emits(",\"auths\":[");
	for (i = 0; i < repeat; i++) {
		if (i > 0 && between != NULL && system(between) != 0) {
			fprintf(stderr, "pamdrive: --between command failed\n");
			return 2;
		}
		if (users != NULL) {
			/* --users a,b: PAM_USER before each authentication. */
			char *comma = strchr(users, ',');

			if (comma != NULL)
				*comma = '\0';
			pam_set_item(pamh, PAM_USER, users);
			users = comma != NULL ? comma + 1 : NULL;
		}
		if (do_auth) {
			last = pam_authenticate(pamh, silent ? PAM_SILENT : 0);
			snprintf(num, sizeof(num), "%s%d", i ? "," : "", last);
			emits(num);
		}
	}
	emits("]");
	if (do_auth)
		emit_result("auth", last, pamh);
	if (do_acct)
		emit_result("acct", pam_acct_mgmt(pamh, silent ? PAM_SILENT : 0), pamh);
	if (do_setcred)
		emit_result("setcred", pam_setcred(pamh, PAM_ESTABLISH_CRED), pamh);
	if (do_chauthtok) {
		rc = pam_chauthtok(pamh, silent ? PAM_SILENT : 0);
		emit_result("chauthtok", rc, pamh);
	}
	emits(",\"env\":{");
	env = pam_getenvlist(pamh);
	for (i = 0; env != NULL && env[i] != NULL; i++) {
		char *eq = strchr(env[i], '=');

		if (eq == NULL)
			continue;
		*eq = '\0';
		emits(i ? "," : "");
		emit_json(env[i]);
		emits(":");
		if (scan) {
			/* Keep the token in the vault; print its length only. */
			if (strstr(env[i], "ACCESS_TOKEN") != NULL &&
			    strlen(eq + 1) < vaultsize - 8192)
				strcpy(vault + 8192, eq + 1);
			snprintf(num, sizeof(num), "\"(%zu bytes)\"", strlen(eq + 1));
			emits(num);
		} else {
			emit_json(eq + 1);
		}
		*eq = '=';
		explicit_bzero(env[i], strlen(env[i]));
		free(env[i]);
	}
	free(env);
	emits("}");
	pam_end(pamh, last);
	for (i = 0; (size_t)i < a.n; i++) {
		explicit_bzero(a.lines[i], strlen(a.lines[i]));
		free(a.lines[i]);
	}
	free(a.lines);
	a.n = 0;
	if (scan) {
		snprintf(num, sizeof(num), ",\"scan\":{\"password\":%d,",
			 count_copies(vault, strlen(vault), vault, vaultsize));
		emits(num);
		/* Encoded the same as typed: already counted as "password". */
		snprintf(num, sizeof(num), "\"password_encoded\":%d,",
			 (size_t)enc_len == strlen(vault) &&
			 memcmp(vault, vault + 1024, (size_t)enc_len) == 0 ? 0 :
			 count_copies(vault + 1024, (size_t)enc_len, vault, vaultsize));
		emits(num);
		/* A canary left on the heap on purpose: the scan must find it
		 * once, or it is blind. */
		canary = strdup("pamdrive-canary-\x01\x02-on-the-heap");
		snprintf(num, sizeof(num), "\"canary\":%d,",
			 count_copies(canary, strlen(canary), canary, 0) + 0);
		emits(num);
		free(canary);
		snprintf(num, sizeof(num), "\"token\":%d}",
			 vault[8192] == '\0' ? -1 :
			 count_copies(vault + 8192, strlen(vault + 8192), vault, vaultsize));
		emits(num);
	}
	emits("}");
	printf("{\"messages\":[%s],%s\n", msgs.buf != NULL ? msgs.buf : "", out.buf);
	free(out.buf);
	free(msgs.buf);
	return 0;
}
