/* Flag values are the kernel's on x86_64 (asm-generic/fcntl.h), not libc's:
 * glibc defines O_LARGEFILE as 0 on 64-bit hosts, but the kernel (and what a
 * gadget records) uses 0100000. */
#include "format/file_flags.h"

#include "format/fmtbuf.h"

#define FLAG(bit, name)                                                                                      \
	{                                                                                                    \
		bit, sizeof(name) - 1, name                                                                  \
	}

static const struct {
	uint32_t bit;
	uint32_t len; /* of name: no strlen per event */
	const char *name;
} flag_names[] = {
    FLAG(00000100, "O_CREAT"),     FLAG(00000200, "O_EXCL"),      FLAG(00000400, "O_NOCTTY"),
    FLAG(00001000, "O_TRUNC"),     FLAG(00002000, "O_APPEND"),    FLAG(00004000, "O_NONBLOCK"),
    FLAG(00010000, "O_DSYNC"),     FLAG(00020000, "O_FASYNC"),    FLAG(00040000, "O_DIRECT"),
    FLAG(00100000, "O_LARGEFILE"), FLAG(00200000, "O_DIRECTORY"), FLAG(00400000, "O_NOFOLLOW"),
    FLAG(01000000, "O_NOATIME"),   FLAG(02000000, "O_CLOEXEC"),
};

size_t fmt_file_flags(uint32_t flags, char *buf, size_t cap)
{
	static const struct {
		uint32_t len;
		const char *name;
	} access[] = {{8, "O_RDONLY"}, {8, "O_WRONLY"}, {6, "O_RDWR"}, {0, NULL}};
	struct fmtbuf b = fmtbuf_init(buf, cap);

	if (access[flags & 3].name)
		fmtbuf_put(&b, access[flags & 3].name, access[flags & 3].len);
	for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
		if (!(flags & flag_names[i].bit))
			continue;
		if (b.len)
			fmtbuf_putc(&b, '|');
		fmtbuf_put(&b, flag_names[i].name, flag_names[i].len);
	}
	return b.len;
}
