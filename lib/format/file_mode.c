#include "format/file_mode.h"

#include "format/fmtbuf.h"

size_t fmt_file_mode(uint32_t mode, char *buf, size_t cap)
{
	static const char types[] = "dalTLDpSugct?";
	static const char rwx[] = "rwxrwxrwx";
	char tmp[sizeof(types) - 1 + 9];
	struct fmtbuf b = fmtbuf_init(buf, cap);
	size_t n = 0;

	/* built unchecked (at most 22 bytes), then appended once: one call per
	 * event, where a checked append per character cost more than the text */
	if (mode >> (32 - (sizeof(types) - 1)))
		for (int i = 0; types[i]; i++)
			if (mode & (1u << (31 - i)))
				tmp[n++] = types[i];
	if (n == 0)
		tmp[n++] = '-';
	for (int i = 0; i < 9; i++)
		tmp[n++] = (mode & (1u << (8 - i))) ? rwx[i] : '-';
	fmtbuf_put(&b, tmp, n);
	return b.len;
}
