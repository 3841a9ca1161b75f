/* /proc/<pid>/maps lines (see proc_maps.h). */
#include <errno.h>

#include "host/proc_maps.h"

static bool hex(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int digits = 0;

	for (; s < end && digits < 17; s++, digits++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		v = v << 4 | (uint64_t)d;
	}
	if (digits == 0 || digits > 16)
		return false;
	*out = v;
	*p = s;
	return true;
}

static bool dec(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (s >= end || *s < '0' || *s > '9')
		return false;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	*p = s;
	return true;
}

static bool sep(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return false;
	(*p)++;
	return true;
}

int proc_maps_parse_line(const char *line, size_t len, struct proc_map *out)
{
	const char *p = line, *end = line + len;
	uint64_t major, minor;

	if (!hex(&p, end, &out->start) || !sep(&p, end, '-') || !hex(&p, end, &out->end) ||
	    !sep(&p, end, ' ') || end - p < 5 || out->end < out->start)
		return -EINVAL;
	out->exec = p[2] == 'x';
	p += 4;
	if (!sep(&p, end, ' ') || !hex(&p, end, &out->offset) || !sep(&p, end, ' ') ||
	    !hex(&p, end, &major) || !sep(&p, end, ':') || !hex(&p, end, &minor) || !sep(&p, end, ' ') ||
	    !dec(&p, end, &out->inode) || major > UINT32_MAX || minor > UINT32_MAX)
		return -EINVAL;
	out->major = (uint32_t)major;
	out->minor = (uint32_t)minor;
	while (p < end && *p == ' ')
		p++;
	out->path = p;
	out->path_len = (size_t)(end - p);
	return 0;
}
