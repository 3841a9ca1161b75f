#include "format/file_mode.h"

#include "format/fmtbuf.h"

size_t sonde_fmt_file_mode(uint32_t mode, char *buf, size_t cap)
{
	static const char types[] = "dalTLDpSugct?";
	static const char rwx[] = "rwxrwxrwx";
	struct fmtbuf b = fmtbuf_init(buf, cap);

	for (int i = 0; types[i]; i++)
		if (mode & (1u << (31 - i)))
			fmtbuf_putc(&b, types[i]);
	if (b.len == 0)
		fmtbuf_putc(&b, '-');
	for (int i = 0; i < 9; i++)
		fmtbuf_putc(&b, (mode & (1u << (8 - i))) ? rwx[i] : '-');
	return b.len;
}
