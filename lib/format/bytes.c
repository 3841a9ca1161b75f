/* Follows go-humanize step by step, floating point included, so that values
 * near a boundary (999999 → "1000 kB", 1e18-1 → "1.0 EB") round the same. */
#include <math.h>

#include "format/bytes.h"
#include "format/fmtbuf.h"

size_t fmt_bytes(uint64_t n, char *buf, size_t cap)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
	struct fmtbuf b = fmtbuf_init(buf, cap);
	double d = (double)n, e;
	uint64_t tenths;

	if (n < 10) {
		fmtbuf_uint(&b, n, 0, '0');
		fmtbuf_puts(&b, " B");
		return b.len;
	}
	e = floor(log(d) / log(1000.0));
	if (e > 6)
		e = 6;
	tenths = (uint64_t)floor(d / pow(1000.0, e) * 10 + 0.5);
	if (tenths < 100) {
		/* "%.1f" of tenths/10 */
		fmtbuf_uint(&b, tenths / 10, 0, '0');
		fmtbuf_putc(&b, '.');
		fmtbuf_uint(&b, tenths % 10, 0, '0');
	} else {
		/* "%.0f" of tenths/10: a .5 is an exact tie, rounded to even */
		uint64_t whole = tenths / 10, frac = tenths % 10;

		if (frac > 5 || (frac == 5 && (whole & 1)))
			whole++;
		fmtbuf_uint(&b, whole, 0, '0');
	}
	fmtbuf_putc(&b, ' ');
	fmtbuf_puts(&b, units[(int)e]);
	return b.len;
}
