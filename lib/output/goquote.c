/* Go strconv.Quote-style escaping for column cells. */
#include "goquote.h"
#include "utf8.h"

bool go_isprint(uint32_t r)
{
	if (r < 0x20)
		return false;
	if (r < 0x7F)
		return true;
	if (r <= 0x9F) /* DEL and C1 controls */
		return false;
	switch (r) {
	case 0xA0:
	case 0xAD:
	case 0x61C:
	case 0x6DD:
	case 0x70F:
	case 0x1680:
	case 0x180E:
	case 0x202F:
	case 0x205F:
	case 0x3000:
	case 0xFEFF:
	case 0x110BD:
	case 0xE0001:
		return false;
	}
	if ((r >= 0x600 && r <= 0x605) || (r >= 0x2000 && r <= 0x200F) || (r >= 0x2028 && r <= 0x202E) ||
	    (r >= 0x2060 && r <= 0x206F) || (r >= 0xD800 && r <= 0xF8FF) || (r >= 0xFDD0 && r <= 0xFDEF) ||
	    (r >= 0xFFF9 && r <= 0xFFFB) || (r >= 0x1BCA0 && r <= 0x1BCA3) ||
	    (r >= 0x1D173 && r <= 0x1D17A) || (r >= 0xE0020 && r <= 0xE007F) || r >= 0xF0000)
		return false;
	if ((r & 0xFFFE) == 0xFFFE) /* U+xxFFFE / U+xxFFFF noncharacters */
		return false;
	return true;
}

bool goquote_is_plain(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7F || c == '"' || c == '\\')
			return false;
	}
	return true;
}

static const char lowerhex[] = "0123456789abcdef";

size_t goquote(struct sonde_outbuf *ob, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t runes = 0, i = 0;

	while (i < n) {
		size_t start = i;
		char esc[10];
		int size, elen = 0;
		int32_t r;

		/* copy the longest run that needs no escaping */
		while (i < n && u[i] >= 0x20 && u[i] < 0x7F && u[i] != '"' && u[i] != '\\')
			i++;
		if (i > start) {
			outbuf_write(ob, s + start, i - start);
			runes += i - start;
			continue;
		}
		r = utf8_decode(u + i, n - i, &size);
		if (r == UTF8_ERROR) {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = lowerhex[u[i] >> 4];
			esc[3] = lowerhex[u[i] & 0xF];
			elen = 4;
		} else if (r == '"' || r == '\\') {
			esc[0] = '\\';
			esc[1] = (char)r;
			elen = 2;
		} else if (r >= 0x80 && go_isprint((uint32_t)r)) {
			outbuf_write(ob, s + i, (size_t)size);
			runes++;
			i += (size_t)size;
			continue;
		} else {
			const char *shortesc = NULL;

			switch (r) {
			case '\a':
				shortesc = "\\a";
				break;
			case '\b':
				shortesc = "\\b";
				break;
			case '\f':
				shortesc = "\\f";
				break;
			case '\n':
				shortesc = "\\n";
				break;
			case '\r':
				shortesc = "\\r";
				break;
			case '\t':
				shortesc = "\\t";
				break;
			case '\v':
				shortesc = "\\v";
				break;
			}
			if (shortesc) {
				esc[0] = shortesc[0];
				esc[1] = shortesc[1];
				elen = 2;
			} else if (r < 0x20 || r == 0x7F) {
				esc[0] = '\\';
				esc[1] = 'x';
				esc[2] = lowerhex[(r >> 4) & 0xF];
				esc[3] = lowerhex[r & 0xF];
				elen = 4;
			} else {
				int digits = r < 0x10000 ? 4 : 8;

				esc[0] = '\\';
				esc[1] = r < 0x10000 ? 'u' : 'U';
				for (int k = 0; k < digits; k++)
					esc[2 + k] = lowerhex[(r >> (4 * (digits - 1 - k))) & 0xF];
				elen = 2 + digits;
			}
		}
		outbuf_write(ob, esc, (size_t)elen);
		runes += (size_t)elen;
		i += (size_t)size;
	}
	return runes;
}
