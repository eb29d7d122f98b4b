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
 *
 * (An application cannot set PAM_AUTHTOK; tests that need a password
 * from an earlier module stack pam_wrapper's pam_set_items.so.)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <security/pam_appl.h>

struct answers {
	char **lines;
	size_t n, next;
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

static void
read_answers(struct answers *a)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, stdin)) >= 0) {
		if (n > 0 && line[n - 1] == '\n')
			line[n - 1] = '\0';
		a->lines = realloc(a->lines, (a->n + 1) * sizeof(char *));
		if (a->lines == NULL)
			abort();
		a->lines[a->n++] = strdup(line);
	}
	free(line);
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
	const char *service = NULL, *user = NULL, *rhost = NULL;
	int silent = 0, do_auth = 1, do_acct = 0, do_chauthtok = 0;
	int do_setcred = 0, repeat = 1, i, rc, last = PAM_SUCCESS;
	struct answers a = { 0 };
	struct pam_conv pc = { conv, &a };
	pam_handle_t *pamh = NULL;
	char **env;

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
		else if (strcmp(argv[i], "--setcred") == 0)
			do_setcred = 1;
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
	emits("\"service\":");
	emit_json(service);
	rc = pam_start(service, user, &pc, &pamh);
	if (rc != PAM_SUCCESS) {
		fprintf(stderr, "pamdrive: pam_start: %d\n", rc);
		return 2;
	}
	if (rhost != NULL)
		pam_set_item(pamh, PAM_RHOST, rhost);
	/* --repeat: several authentications in one handle (one per stdin line),
	 * for the leak and lingering-secret checks. */
	for (i = 0; i < repeat; i++) {
		if (do_auth)
			last = pam_authenticate(pamh, silent ? PAM_SILENT : 0);
	}
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
		emit_json(eq + 1);
		*eq = '=';
		free(env[i]);
	}
	free(env);
	emits("}}");
	pam_end(pamh, last);
	printf("{\"messages\":[%s],%s\n", msgs.buf != NULL ? msgs.buf : "", out.buf);
	for (i = 0; (size_t)i < a.n; i++) {
		explicit_bzero(a.lines[i], strlen(a.lines[i]));
		free(a.lines[i]);
	}
	free(a.lines);
	free(out.buf);
	free(msgs.buf);
	return 0;
}
