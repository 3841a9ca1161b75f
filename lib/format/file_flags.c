/* Flag values are the kernel's on x86_64 (asm-generic/fcntl.h), not libc's:
 * glibc defines O_LARGEFILE as 0 on 64-bit hosts, but the kernel (and what a
 * gadget records) uses 0100000. */
#include "format/file_flags.h"

#include "format/fmtbuf.h"

static const struct {
	uint32_t bit;
	const char *name;
} flag_names[] = {
    {00000100, "O_CREAT"},   {00000200, "O_EXCL"},      {00000400, "O_NOCTTY"},    {00001000, "O_TRUNC"},
    {00002000, "O_APPEND"},  {00004000, "O_NONBLOCK"},  {00010000, "O_DSYNC"},     {00020000, "O_FASYNC"},
    {00040000, "O_DIRECT"},  {00100000, "O_LARGEFILE"}, {00200000, "O_DIRECTORY"}, {00400000, "O_NOFOLLOW"},
    {01000000, "O_NOATIME"}, {02000000, "O_CLOEXEC"},
};

size_t sonde_fmt_file_flags(uint32_t flags, char *buf, size_t cap)
{
	static const char *const access[] = {"O_RDONLY", "O_WRONLY", "O_RDWR", NULL};
	struct fmtbuf b = fmtbuf_init(buf, cap);
	const char *mode = access[flags & 3];

	if (mode)
		fmtbuf_puts(&b, mode);
	for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
		if (!(flags & flag_names[i].bit))
			continue;
		if (b.len)
			fmtbuf_putc(&b, '|');
		fmtbuf_puts(&b, flag_names[i].name);
	}
	return b.len;
}
