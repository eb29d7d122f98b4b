/*
 * test-qr.c: ropc_qr_render, the QR code of the device flow's prompt
 * (issue 9, device_qr).  For each URI: the text's shape (equal lines, only
 * the four cells, "\n" endings), the quiet zone, the matrix read back from
 * the half blocks against libqrencode's own for the same input (level M,
 * 8-bit mode), and a real scan: the picture as a terminal shows it (light
 * on a dark background), as a PBM image, read by zbarimg.  Then the
 * limits: empty, NULL, 1024 bytes and 1025, a too-small buffer.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <qrencode.h>

#include "buf.h"
#include "qr.h"
#include "tap.h"

/* The quiet zone the picture must have (qr.h), in modules: the test's own
 * number, not ROPC_QR_QUIET, so that a change there shows. */
#define Q 4
/* Pixels per module in the PBM images, and the dark terminal background
 * drawn around the picture, in modules. */
#define SCALE 4
#define SURROUND 6

static char dir[128];
static int n_images;

/* The largest picture read back, in modules (version 40 is 177 + 2Q). */
#define PIC_MAX 256

/* A rendering read back: cols cells per line, lines lines; light holds
 * 2 * lines rows of cols modules, 1 where a half block is drawn. */
struct pic {
	int cols;
	int lines;
	unsigned char light[PIC_MAX][PIC_MAX];
	char why[160];  /* empty when the text is well-formed */
};

/* One cell at s (n bytes left): its width in bytes, and its upper and
 * lower halves (1 = drawn); 0 for anything but the four cells. */
static size_t
cell_at(const char *s, size_t n, int *up, int *down)
{
	if (n >= 1 && s[0] == ' ') {
		*up = 0;
		*down = 0;
		return 1;
	}
	if (n < 3 || (unsigned char)s[0] != 0xe2 || (unsigned char)s[1] != 0x96)
		return 0;
	switch ((unsigned char)s[2]) {
	case 0x80:      /* U+2580 UPPER HALF BLOCK */
		*up = 1;
		*down = 0;
		return 3;
	case 0x84:      /* U+2584 LOWER HALF BLOCK */
		*up = 0;
		*down = 1;
		return 3;
	case 0x88:      /* U+2588 FULL BLOCK */
		*up = 1;
		*down = 1;
		return 3;
	default:
		return 0;
	}
}

/* Read the text s (len bytes) into p.  Returns 0, or -1 with p->why set. */
static int
pic_parse(const char *s, size_t len, struct pic *p)
{
	size_t i = 0;
	int line_cols = 0;

	memset(p, 0, sizeof(*p));
	if (s == NULL || len == 0) {
		snprintf(p->why, sizeof(p->why), "no text");
		return -1;
	}
	while (i < len) {
		int up, down;
		size_t w;

		if (s[i] == '\n') {
			if (p->lines == 0)
				p->cols = line_cols;
			else if (line_cols != p->cols) {
				snprintf(p->why, sizeof(p->why), "line %d has %d cells, line 1 %d",
					 p->lines + 1, line_cols, p->cols);
				return -1;
			}
			p->lines++;
			line_cols = 0;
			i++;
			continue;
		}
		w = cell_at(s + i, len - i, &up, &down);
		if (w == 0) {
			snprintf(p->why, sizeof(p->why), "byte %zu (0x%02x) is not one of the "
				 "four cells", i, (unsigned int)(unsigned char)s[i]);
			return -1;
		}
		if (line_cols >= PIC_MAX || 2 * p->lines + 1 >= PIC_MAX) {
			snprintf(p->why, sizeof(p->why), "more than %d modules wide or high",
				 PIC_MAX);
			return -1;
		}
		p->light[2 * p->lines][line_cols] = (unsigned char)up;
		p->light[2 * p->lines + 1][line_cols] = (unsigned char)down;
		line_cols++;
		i += w;
	}
	if (line_cols != 0) {
		snprintf(p->why, sizeof(p->why), "the last line does not end in \\n");
		return -1;
	}
	return 0;
}

static int
lit(const struct pic *p, int x, int y)
{
	return p->light[y][x];
}

/*
 * The picture as a terminal with a dark background shows it: drawn cells
 * light, the rest and SURROUND modules around it dark; each module SCALE x
 * SCALE pixels; as a binary PBM (1 = black).  Returns 0 or -1.
 */
static int
write_pbm(const struct pic *p, const char *path)
{
	int wmod = p->cols + 2 * SURROUND, hmod = 2 * p->lines + 2 * SURROUND;
	int wpx = wmod * SCALE, hpx = hmod * SCALE, rowbytes = (wpx + 7) / 8;
	unsigned char *row = malloc((size_t)rowbytes);
	FILE *f = fopen(path, "wb");
	int x, y, ok = row != NULL && f != NULL;

	if (ok)
		ok = fprintf(f, "P4\n%d %d\n", wpx, hpx) > 0;
	for (y = 0; ok && y < hpx; y++) {
		int my = y / SCALE - SURROUND;

		memset(row, 0, (size_t)rowbytes);
		for (x = 0; x < wpx; x++) {
			int mx = x / SCALE - SURROUND;
			int light = mx >= 0 && my >= 0 && mx < p->cols && my < 2 * p->lines &&
				    lit(p, mx, my);

			if (!light)
				row[x / 8] |= (unsigned char)(0x80 >> (x % 8));
		}
		ok = fwrite(row, 1, (size_t)rowbytes, f) == (size_t)rowbytes;
	}
	if (f != NULL && fclose(f) != 0)
		ok = 0;
	free(row);
	return ok ? 0 : -1;
}

/* zbarimg's answer for the image at path, malloc'd (NULL when it could not
 * run); *status gets its exit status. */
static char *
zbar(const char *path, int *status)
{
	char cmd[300], *out;
	size_t len = 0, cap = 8192;
	FILE *f;
	int st;

	*status = -1;
	if (strchr(path, '\'') != NULL ||
	    (size_t)snprintf(cmd, sizeof(cmd), "zbarimg --quiet --raw '%s' 2>/dev/null",
			     path) >= sizeof(cmd))
		return NULL;
	out = malloc(cap);
	if (out == NULL)
		return NULL;
	f = popen(cmd, "r");
	if (f == NULL) {
		free(out);
		return NULL;
	}
	while (len < cap - 1) {
		size_t got = fread(out + len, 1, cap - 1 - len, f);

		if (got == 0)
			break;
		len += got;
	}
	out[len] = '\0';
	st = pclose(f);
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return out;
}

/* (3) the picture scans: as a PBM image, read by zbarimg.  2 checks. */
static void
check_scan(const char *uri, const struct pic *p, const char *what)
{
	char path[200];
	int status;
	char *got, *want;

	snprintf(path, sizeof(path), "%s/qr-%d.pbm", dir, ++n_images);
	if (!CHECK_INT(write_pbm(p, path), 0, "%s: written as a PBM image", what)) {
		FAIL(1, "%s: no image to scan", what);
		return;
	}
	got = zbar(path, &status);
	want = malloc(strlen(uri) + 2);
	if (want != NULL)
		sprintf(want, "%s\n", uri);
	if (!CHECK_STR(got, want, "%s: zbarimg reads the URI back", what))
		tap_diag("zbarimg exit status %d", status);
	free(got);
	free(want);
}

/* The picture against libqrencode's own matrix for the same text: its
 * size, the quiet zone, (2) every module.  5 checks. */
static void
check_matrix(const char *uri, const struct pic *p, const char *what)
{
	QRcode *code = QRcode_encodeString8bit(uri, 0, QR_ECLEVEL_M);
	int side, x, y, bad;

	if (!CHECK_NOT_NULL(code, "%s: libqrencode encodes it (in the test)", what)) {
		FAIL(5, "%s: no reference matrix", what);
		return;
	}
	side = code->width + 2 * Q;
	if (!CHECK(p->cols == side && p->lines == (side + 1) / 2,
		   "%s: %d cells by %d lines (version %d: %d modules, 2 x %d of quiet zone, "
		   "two rows a line)", what, side, (side + 1) / 2, code->version,
		   code->width, Q)) {
		tap_diag("got %d cells by %d lines", p->cols, p->lines);
		FAIL(3, "%s: the picture has the wrong size", what);
		QRcode_free(code);
		return;
	}

	/* The quiet zone: Q light modules on every side; the half row under
	 * the last line is not drawn. */
	bad = 0;
	for (y = 0; y < side; y++)
		for (x = 0; x < side; x++)
			if ((x < Q || y < Q || x >= side - Q || y >= side - Q) && !lit(p, x, y))
				bad++;
	CHECK_INT(bad, 0, "%s: a light quiet zone of %d modules on every side", what, Q);
	bad = 0;
	for (x = 0; x < side; x++)
		bad += lit(p, x, side);
	CHECK_INT(bad, 0, "%s: the half row below the quiet zone is not drawn", what);

	/* (2) the matrix read back equals libqrencode's: dark = not drawn */
	bad = 0;
	for (y = 0; y < code->width; y++)
		for (x = 0; x < code->width; x++) {
			int dark = code->data[y * code->width + x] & 1;

			if (dark == lit(p, x + Q, y + Q) && bad++ < 3)
				tap_diag("module (%d, %d): libqrencode %s, drawn %s", x, y,
					 dark ? "dark" : "light", dark ? "light" : "dark");
		}
	CHECK_INT(bad, 0, "%s: the %dx%d matrix read back is libqrencode's (level M, 8-bit)",
		  what, code->width, code->width);
	QRcode_free(code);
}

/* Everything about one URI: 10 checks. */
static void
check_uri(const char *uri, const char *what)
{
	static struct pic p;
	struct ropc_buf out;
	int rc;

	ropc_buf_init(&out, 64 * 1024);
	/* Something in the buffer already: render clears it. */
	ropc_buf_append_str(&out, "left over\n");
	rc = ropc_qr_render(uri, &out);
	CHECK_INT(rc, 0, "%s: renders", what);
	CHECK(out.data != NULL && strncmp(out.data, "left over", 9) != 0 &&
	      strlen(out.data) == out.len,
	      "%s: the buffer was cleared first and holds one string", what);

	/* (1) the shape of the text */
	rc = pic_parse(out.data, out.len, &p);
	if (!CHECK(rc == 0, "%s: only the four cells, equal lines, each ending in \\n",
		   what)) {
		tap_diag("%s", p.why);
		FAIL(7, "%s: no picture", what);
	} else {
		check_scan(uri, &p, what);
		check_matrix(uri, &p, what);
	}
	ropc_buf_free(&out);
}

static void
test_uris(void)
{
	char long_uri[400], max_uri[ROPC_QR_MAX_TEXT + 1];
	size_t n;

	check_uri("https://ex.io/d", "short URI");
	check_uri("https://login.example.com/activate?user_code=WDJB-MJHT",
		  "RFC 8628 example with user_code");
	check_uri("https://idp.example.com/realms/Corp/device?user_code=ABcd-efGH"
		  "&client_id=pam_ropc&next=%2Fhome%3Fa%3D1+b&x=a;b#frag",
		  "query string with & = % + ; # and mixed case");
	check_uri("https://b\xc3\xbc" "cher.example/ger\xc3\xa4t?code=\xc3\x84\xc3\x96"
		  "\xc3\x9c-\xc3\x9f&name=J\xc3\xb6rg&ok=\xe2\x9c\x93",
		  "UTF-8 host, path and query");

	/* About 300 characters: a long realm, a state, a padded query. */
	n = (size_t)snprintf(long_uri, sizeof(long_uri),
			     "https://sso.corp.example.com/auth/realms/Engineering-Europe/"
			     "protocol/openid-connect/auth/device?user_code=QXZR-KLMP"
			     "&client_id=pam_ropc-host-build07.eu.corp.example.com"
			     "&state=");
	for (; n < 300; n++)
		long_uri[n] = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_"[n % 38];
	long_uri[n] = '\0';
	check_uri(long_uri, "300-character URI");

	/* The longest accepted: 1024 bytes. */
	n = (size_t)snprintf(max_uri, sizeof(max_uri), "https://example.com/device?x=");
	for (; n < ROPC_QR_MAX_TEXT; n++)
		max_uri[n] = "aB3%=&"[n % 6];
	max_uri[n] = '\0';
	check_uri(max_uri, "1024-byte URI (the maximum)");
}

static void
test_limits(void)
{
	char over[ROPC_QR_MAX_TEXT + 2];
	struct ropc_buf out;

	memset(over, 'a', sizeof(over) - 1);
	over[sizeof(over) - 1] = '\0';
	ropc_buf_init(&out, 64 * 1024);
	ropc_buf_append_str(&out, "left over");
	CHECK_INT(ropc_qr_render(over, &out), -1, "1025 bytes: -1");
	CHECK(out.data == NULL && out.len == 0, "1025 bytes: the buffer is left empty");

	ropc_buf_append_str(&out, "left over");
	CHECK_INT(ropc_qr_render("", &out), -1, "empty text: -1");
	CHECK(out.data == NULL && out.len == 0, "empty text: the buffer is left empty");

	CHECK_INT(ropc_qr_render(NULL, &out), -1, "NULL text: -1");
	CHECK_INT(ropc_qr_render("https://ex.io/d", NULL), -1, "NULL buffer: -1");

	/* A buffer too small for the picture: -1, not half a QR code. */
	ropc_buf_free(&out);
	ropc_buf_init(&out, 200);
	CHECK_INT(ropc_qr_render("https://ex.io/d", &out), -1, "buffer max too small: -1");
	CHECK(out.data == NULL && out.len == 0, "buffer max too small: left empty");
	ropc_buf_free(&out);
}

int
main(void)
{
	if (tap_safe_tmpdir(dir, sizeof(dir), "qr") < 0)
		return 1;
	test_uris();
	test_limits();
	tap_remove_tmpdir(dir);
	return tap_done();
}
