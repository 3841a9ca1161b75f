#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/array.h"
#include "util/file.h"

int util_read_file(const char *path, size_t max, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 0, n = 0;
	char *buf = NULL;
	int err = 0;
	/* reading one byte past max tells a file of exactly max bytes from a longer one */
	size_t lim = max < SIZE_MAX - 2 ? max + 1 : SIZE_MAX - 2;

	*out = NULL;
	if (len)
		*len = 0;
	if (fd < 0)
		return -errno;
	for (;;) {
		size_t want = lim - n > 4096 ? n + 4096 : lim;
		ssize_t r;

		/* + 1 for the NUL */
		if (cap < want + 1 && (err = grow_array((void **)&buf, &cap, want + 1, 1)))
			break;
		r = read(fd, buf + n, want - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			err = -EFBIG;
			break;
		}
	}
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	buf[n] = 0;
	*out = buf;
	if (len)
		*len = n;
	return 0;
}
