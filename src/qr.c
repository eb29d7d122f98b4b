/*
 * qr.c: a QR code as UTF-8 half blocks (see qr.h for the picture and why
 * it is drawn that way).  libqrencode makes the matrix; this file only
 * draws it.
 */
#include "qr.h"

#include <string.h>
#include <qrencode.h>

/* The widest symbol (version 40) is 177 modules. */
#define QR_MAX_WIDTH 177
/* One text line: 3 UTF-8 bytes per cell at most, and the "\n". */
#define QR_LINE_MAX ((QR_MAX_WIDTH + 2 * ROPC_QR_QUIET) * 3 + 1)

/* Whether the module at (x, y) of the picture, quiet zone included, is
 * light, that is drawn; side is the picture's width and height.  Below the
 * picture (the half row under the last line) is dark: not drawn. */
static int
light_at(const QRcode *code, int side, int x, int y)
{
	if (y >= side)
		return 0;
	x -= ROPC_QR_QUIET;
	y -= ROPC_QR_QUIET;
	if (x < 0 || y < 0 || x >= code->width || y >= code->width)
		return 1;
	return (code->data[(size_t)y * (size_t)code->width + (size_t)x] & 1) == 0;
}

/* Draw code into out, which is empty. */
static int
draw(const QRcode *code, struct ropc_buf *out)
{
	/* Indexed by (upper light) | (lower light) << 1. */
	static const char *const cell[4] = {
		" ", "\xe2\x96\x80", "\xe2\x96\x84", "\xe2\x96\x88",
	};
	static const size_t cell_len[4] = { 1, 3, 3, 3 };
	char line[QR_LINE_MAX];
	int side = code->width + 2 * ROPC_QR_QUIET;
	int x, y, rc = 0;

	for (y = 0; y < side && rc == 0; y += 2) {
		size_t n = 0;

		for (x = 0; x < side; x++) {
			int c = light_at(code, side, x, y) |
				(light_at(code, side, x, y + 1) << 1);

			memcpy(line + n, cell[c], cell_len[c]);
			n += cell_len[c];
		}
		line[n++] = '\n';
		rc = ropc_buf_append(out, line, n);
	}
	/* The picture is the text to scan: the user code is in it. */
	ropc_wipe(line, sizeof(line));
	return rc;
}

int
ropc_qr_render(const char *text, struct ropc_buf *out)
{
	QRcode *code;
	size_t len;
	int rc;

	if (out == NULL)
		return -1;
	ropc_buf_free(out);
	if (text == NULL)
		return -1;
	len = strnlen(text, ROPC_QR_MAX_TEXT + 1);
	if (len == 0 || len > ROPC_QR_MAX_TEXT)
		return -1;
	/* QRcode_encodeData, not QRcode_encodeString8bit: the length is the
	 * one measured above (the same 8-bit encoding, without a second
	 * strlen); version 0 picks the smallest symbol that holds the text. */
	code = QRcode_encodeData((int)len, (const unsigned char *)text, 0, QR_ECLEVEL_M);
	if (code == NULL)
		return -1;
	if (code->data == NULL || code->width < 21 || code->width > QR_MAX_WIDTH)
		rc = -1;
	else
		rc = draw(code, out);
	if (code->data != NULL && code->width > 0)
		ropc_wipe(code->data, (size_t)code->width * (size_t)code->width);
	QRcode_free(code);
	if (rc < 0)
		ropc_buf_free(out);
	return rc;
}
