/* Blanks (spaces, tabs) cut from both ends of a string, in place. Option
 * values are split on their separators, then each piece is trimmed, so that
 * "a, b" and " ds : f1 " mean what the user meant. */
#ifndef SONDE_CORE_TRIM_H
#define SONDE_CORE_TRIM_H

#include <string.h>

static inline char *trim_blanks(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = 0;
	return s;
}

#endif
