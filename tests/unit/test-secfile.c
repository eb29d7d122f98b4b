/*
 * test-secfile.c: ropc_secfile_read, the defensive reader of the config
 * file and the client secret file (DESIGN §5: owned by the right user, a
 * regular file, not a symlink, mode rules, size cap, no NUL byte).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "secfile.h"
#include "tap.h"

static char dir[64];
static uid_t me;

/* A read that blocks (a fifo opened without O_NONBLOCK) ends here. */
static void
on_alarm(int sig)
{
	static const char msg[] = "not ok - ropc_secfile_read blocked for 10 s\n"
				  "Bail out! blocked on a fifo\n";

	(void)sig;
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(1);
}

/* dir/name, in one of 8 rotating buffers (so that a few may be in use). */
static const char *
path_of(const char *name)
{
	static char p[8][256];
	static int i;

	i = (i + 1) % 8;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static const char *
make(const char *name, const void *data, size_t len, mode_t mode)
{
	const char *p = path_of(name);
	int fd;

	unlink(p);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		tap_diag("cannot write %s: %s", p, strerror(errno));
	if (fd >= 0)
		close(fd);
	chmod(p, mode);
	return p;
}

struct result {
	int rc;
	char *data;
	size_t len;
	unsigned int mode;
	bool missing;
	char why[256];
};

static void
rd(const char *path, enum ropc_secfile_mode m, uid_t owner, size_t max, struct result *r)
{
	memset(r, 0, sizeof(*r));
	r->data = (char *)"(untouched)";
	r->len = 12345;
	r->mode = 0xdead;
	r->rc = ropc_secfile_read(path, m, owner, max, &r->data, &r->len, &r->mode,
				  &r->missing, r->why, sizeof(r->why));
}

static void
done(struct result *r)
{
	if (r->rc == 0)
		free(r->data);
}

/* Expect a refusal whose reason contains word. */
static void
refused(const char *path, enum ropc_secfile_mode m, uid_t owner, size_t max,
	const char *word, const char *what)
{
	struct result r;

	rd(path, m, owner, max, &r);
	CHECK_INT(r.rc, -1, "%s: refused", what);
	CHECK_CONTAINS(r.why, word, "%s: reason says \"%s\"", what, word);
	CHECK(r.data == NULL && r.len == 0, "%s: no data handed out", what);
	done(&r);
}

static void
test_paths(void)
{
	struct result r;
	const char *good = make("good", "key = value\n", 12, 0600);
	char rel[300];

	refused("relative/path.conf", ROPC_FILE_SETTINGS, me, 4096, "absolute", "relative path");
	refused("", ROPC_FILE_SETTINGS, me, 4096, "absolute", "empty path");
	refused(NULL, ROPC_FILE_SETTINGS, me, 4096, "absolute", "NULL path");
	/* A relative path to a good file is still refused. */
	snprintf(rel, sizeof(rel), ".%s", good);
	if (chdir("/") == 0)
		refused(rel, ROPC_FILE_SETTINGS, me, 4096, "absolute", "relative path to a good file");

	rd(path_of("nonexistent"), ROPC_FILE_SETTINGS, me, 4096, &r);
	CHECK(r.rc == -1 && r.missing, "missing file: refused with *missing set");
	CHECK_CONTAINS(r.why, "not exist", "missing file: reason");
	done(&r);

	rd(good, ROPC_FILE_SETTINGS, me, 4096, &r);
	CHECK(r.rc == 0 && !r.missing, "good file read, *missing false");
	done(&r);

	/* Symlink to a good file. */
	unlink(path_of("link"));
	if (symlink(good, path_of("link")) != 0)
		tap_diag("symlink: %s", strerror(errno));
	refused(path_of("link"), ROPC_FILE_SETTINGS, me, 4096, "symbolic link", "symlink");
	rd(path_of("link"), ROPC_FILE_SECRET, me, 4096, &r);
	CHECK(r.rc == -1 && !r.missing, "symlink (secret): refused, not reported missing");
	done(&r);
	/* Dangling symlink. */
	unlink(path_of("dangling"));
	if (symlink(path_of("nowhere"), path_of("dangling")) != 0)
		tap_diag("symlink: %s", strerror(errno));
	refused(path_of("dangling"), ROPC_FILE_SETTINGS, me, 4096, "symbolic link",
		"dangling symlink");

	/* A directory. */
	mkdir(path_of("adir"), 0700);
	refused(path_of("adir"), ROPC_FILE_SETTINGS, me, 4096, "not a regular file", "directory");

	/* A fifo: opened O_NONBLOCK, so no writer is needed; must not hang. */
	unlink(path_of("fifo"));
	if (mkfifo(path_of("fifo"), 0600) != 0)
		tap_diag("mkfifo: %s", strerror(errno));
	signal(SIGALRM, on_alarm);
	alarm(10);
	refused(path_of("fifo"), ROPC_FILE_SECRET, me, 4096, "not a regular file",
		"fifo (no writer; must not block)");
	alarm(0);

	/* A character device: /dev/null, or when there is none (a bare
	 * container) one made here, which root can always do. */
	{
		struct stat st;
		const char *dev = "/dev/null";

		if (stat(dev, &st) != 0 && me == 0) {
			dev = path_of("null-device");
			unlink(dev);
			if (mknod(dev, S_IFCHR | 0600, makedev(1, 3)) != 0)
				tap_diag("mknod %s: %s", dev, strerror(errno));
		}
		if (stat(dev, &st) == 0)
			refused(dev, ROPC_FILE_SETTINGS, st.st_uid, 4096, "not a regular file", dev);
		else if (me == 0)
			FAIL(3, "no character device: %s: %s", dev, strerror(errno));
		else
			SKIP(3, "no /dev/null, and not root: cannot mknod one");
	}
}

static void
test_modes(void)
{
	static const struct {
		mode_t mode;
		int settings_ok;
		int secret_ok;
	} rows[] = {
		{ 0600, 1, 1 }, { 0400, 1, 1 }, { 0700, 1, 1 }, { 0644, 1, 0 },
		{ 0444, 1, 0 }, { 0640, 1, 0 }, { 0604, 1, 0 }, { 0610, 1, 0 },
		{ 0601, 1, 0 }, { 0660, 0, 0 }, { 0606, 0, 0 }, { 0620, 0, 0 },
		{ 0602, 0, 0 }, { 0666, 0, 0 }, { 0664, 0, 0 }, { 04600, 1, 1 },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *p = make("moded", "secret\n", 7, rows[i].mode);
		struct result r;

		rd(p, ROPC_FILE_SETTINGS, me, 4096, &r);
		CHECK_INT(r.rc, rows[i].settings_ok ? 0 : -1, "settings file mode %04o %s",
			  (unsigned int)rows[i].mode, rows[i].settings_ok ? "accepted" : "refused");
		if (!rows[i].settings_ok)
			CHECK_CONTAINS(r.why, "chmod", "mode %04o: the reason says how to fix it",
				       (unsigned int)rows[i].mode);
		done(&r);
		rd(p, ROPC_FILE_SECRET, me, 4096, &r);
		CHECK_INT(r.rc, rows[i].secret_ok ? 0 : -1, "secret file mode %04o %s",
			  (unsigned int)rows[i].mode, rows[i].secret_ok ? "accepted" : "refused");
		done(&r);
		CHECK_INT(ropc_secfile_mode_ok(S_IFREG | rows[i].mode, ROPC_FILE_SETTINGS),
			  rows[i].settings_ok, "mode_ok(%04o, settings)", (unsigned int)rows[i].mode);
		CHECK_INT(ropc_secfile_mode_ok(S_IFREG | rows[i].mode, ROPC_FILE_SECRET),
			  rows[i].secret_ok, "mode_ok(%04o, secret)", (unsigned int)rows[i].mode);
	}
}

static void
test_owner(void)
{
	const char *p = make("owned", "x\n", 2, 0600);

	/* Whoever runs this, a file it created is not owned by me + 1. */
	refused(p, ROPC_FILE_SETTINGS, me + 1, 4096, "owned by uid", "wrong owner (settings)");
	refused(p, ROPC_FILE_SECRET, me + 1, 4096, "owned by uid", "wrong owner (secret)");
	if (me == 0) {
		struct result r;

		if (chown(p, 1, 1) != 0)
			tap_diag("chown: %s", strerror(errno));
		refused(p, ROPC_FILE_SECRET, 0, 4096, "owned by uid 1", "root expects root, file is uid 1");
		rd(p, ROPC_FILE_SECRET, 1, 4096, &r);
		CHECK_INT(r.rc, 0, "the same file is fine when uid 1 is the expected owner");
		done(&r);
	} else {
		SKIP(4, "not root: cannot chown");
	}
}

static void
test_content(void)
{
	struct result r;
	const char *p;
	char *big;
	struct stat st;

	p = make("text", "line 1\nline 2\n", 14, 0640);
	rd(p, ROPC_FILE_SETTINGS, me, 4096, &r);
	CHECK_INT(r.rc, 0, "text file read");
	CHECK_MEM(r.data, r.len, "line 1\nline 2\n", 14, "content exact");
	CHECK(r.data != NULL && r.data[r.len] == '\0', "data NUL-terminated");
	stat(p, &st);
	CHECK_INT(r.mode, st.st_mode, "*st_mode is the file's whole st_mode (0%o)",
		  (unsigned int)st.st_mode);
	CHECK(S_ISREG(r.mode) && (r.mode & 07777) == 0640, "st_mode: regular file, 0640");
	done(&r);

	/* st_mode may be NULL. */
	{
		char *data = NULL;
		size_t len = 0;
		bool missing = true;
		char why[128];

		CHECK_INT(ropc_secfile_read(p, ROPC_FILE_SETTINGS, me, 4096, &data, &len, NULL,
					    &missing, why, sizeof(why)), 0,
			  "NULL st_mode accepted");
		CHECK(!missing && len == 14, "NULL st_mode: data still read");
		free(data);
	}

	p = make("empty", "", 0, 0600);
	rd(p, ROPC_FILE_SECRET, me, 4096, &r);
	CHECK(r.rc == 0 && r.len == 0 && r.data != NULL && r.data[0] == '\0',
	      "empty file: 0 bytes, empty string");
	done(&r);

	p = make("nul", "abc\0def\n", 8, 0600);
	refused(p, ROPC_FILE_SECRET, me, 4096, "NUL", "NUL byte in the middle");
	p = make("nulend", "secret\0", 7, 0600);
	refused(p, ROPC_FILE_SECRET, me, 4096, "NUL", "NUL byte at the end");
	p = make("nulstart", "\0secret", 7, 0600);
	refused(p, ROPC_FILE_SECRET, me, 4096, "NUL", "NUL byte at the start");

	/* Size cap: max bytes are fine, max + 1 are not. */
	big = malloc(65537);
	memset(big, '#', 65537);
	p = make("max", big, 65536, 0644);
	rd(p, ROPC_FILE_SETTINGS, me, 65536, &r);
	CHECK(r.rc == 0 && r.len == 65536, "file of exactly max (64 KiB) read");
	done(&r);
	p = make("max1", big, 65537, 0644);
	refused(p, ROPC_FILE_SETTINGS, me, 65536, "more than", "file of max + 1 bytes");
	p = make("small", big, 11, 0600);
	refused(p, ROPC_FILE_SECRET, me, 10, "more than", "11 bytes with max 10");
	free(big);
}

int
main(void)
{
	me = geteuid();
	umask(022);
	/* Under /run/ropc-tests as root: every directory above the files is
	 * root-owned and closed to group and other writes, as the reader
	 * demands (tap.h). */
	if (tap_safe_tmpdir(dir, sizeof(dir), "secfile") != 0)
		return 1;
	test_paths();
	test_modes();
	test_owner();
	test_content();
	tap_remove_tmpdir(dir);
	return tap_done();
}
