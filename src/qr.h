/*
 * qr.h: a QR code as UTF-8 text, for the device flow's prompt (issue 9,
 * device_qr): verification_uri_complete drawn with half blocks so that a
 * phone can scan it off the terminal.
 *
 * The picture, as ropc_qr_render draws it:
 *
 *   - Two module rows per text line: the upper row in the upper half of
 *     the character cell, the lower row in the lower half.  A cell is
 *     U+2588 FULL BLOCK (both light), U+2580 UPPER HALF BLOCK (upper
 *     light), U+2584 LOWER HALF BLOCK (lower light) or a space (both dark).
 *   - Light modules are drawn, dark ones are not ("inverted", as
 *     qrencode -t UTF8 does): on the usual light-on-dark terminal the
 *     glyphs are the light paper and the terminal's background the dark
 *     ink, which is the polarity of ISO/IEC 18004, and the quiet zone is
 *     drawn too, so the code carries its own light border whatever
 *     surrounds it.  On a dark-on-light terminal the picture comes out as
 *     a negative: many phone scanners read those too, not all (zbarimg
 *     does not by default).  No colour escapes force the polarity: they
 *     would not survive every PAM client's prompt.
 *   - A quiet zone of 4 modules on every side, as ISO/IEC 18004 requires.
 *     Because only what is drawn is light, the quiet zone cannot borrow
 *     from a light terminal background: with none, the dark background
 *     touches the finder patterns and scanners fail (zbarimg does).  A
 *     2-module border often scans (zbarimg reads it) but is below what
 *     the standard and so every reader's tuning assumes, and a photo of a
 *     screen is a harder input than a clean image.  It costs 4 columns
 *     more than 2: a typical verification_uri_complete (version 3 to 5)
 *     is 37 to 45 columns wide, the 1024-byte maximum (version 26) 129.
 *   - The symbol plus quiet zone has an odd number of rows; the lower half
 *     of the last line, below the quiet zone, is dark (not drawn), so the
 *     light border is exactly 4 modules on all four sides.
 *   - Every line, the last too, ends in "\n"; all lines have the same
 *     number of characters (cells); no trailing space can occur, since
 *     the right quiet zone is drawn.
 *   - Error correction level M (15%: survives a glyph gap or a moiré
 *     stripe on a photographed screen).  L (7%) saves at most one version,
 *     4 columns, up to 122 bytes, where the usual verification_uri_complete
 *     is, and 2 to 4 versions for longer texts.  Byte (8-bit) mode: the
 *     text is encoded byte for byte, case kept, UTF-8 as its bytes.
 */
#ifndef ROPC_QR_H
#define ROPC_QR_H

#include "buf.h"

/* The longest text ropc_qr_render accepts, in bytes. */
#define ROPC_QR_MAX_TEXT 1024
/* The quiet zone, in modules, on each side. */
#define ROPC_QR_QUIET 4

/*
 * Render text (a URI, 1 to ROPC_QR_MAX_TEXT bytes, NUL-terminated) as a QR
 * code into out (initialised by the caller) as UTF-8 text, as described
 * above.  out is cleared first (wiped, then filled; it keeps its max,
 * which must allow the picture: 64 KiB always does).  Returns 0, or -1
 * when text is empty, too long, libqrencode failed, out's max is too small
 * or memory ran out; out is then empty.
 */
ROPC_HIDDEN int ropc_qr_render(const char *text, struct ropc_buf *out);

#endif
