#include <string.h>
#include <strings.h>

#include "util/list.h"

bool util_list_has(const char *list, const char *name, bool ignore_case)
{
	size_t n = strlen(name);

	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == n && (ignore_case ? strncasecmp(p, name, n) : memcmp(p, name, n)) == 0)
			return true;
		if (!end)
			break;
		p = end + 1;
	}
	return false;
}
