/* WWW-Authenticate challenges (RFC 7235 §2.1, RFC 6750 §3): what a registry
 * answers with a 401, naming the token server (realm), its service name and
 * the scope to ask for. The header comes from the network: the parser is
 * bounded, never reads past the NUL, and is fuzzed (fuzz_www_authenticate). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "image/registry.h"

static bool is_tchar(char c)
{
	/* token characters of RFC 7230 §3.2.6 */
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Reads a token at p into buf (cut to n - 1); returns the end. */
static const char *read_token(const char *p, char *buf, size_t n)
{
	size_t i = 0;

	while (is_tchar(*p)) {
		if (i + 1 < n)
			buf[i++] = *p;
		p++;
	}
	buf[i] = 0;
	return p;
}

/* Reads a quoted-string (p at the opening quote) or a token68-ish bare value
 * up to ',' into buf; returns the end. An unterminated quote ends at the
 * NUL. */
static const char *read_value(const char *p, char *buf, size_t n)
{
	size_t i = 0;

	if (*p == '"') {
		p++;
		while (*p && *p != '"') {
			if (*p == '\\' && p[1])
				p++;
			if (i + 1 < n)
				buf[i++] = *p;
			p++;
		}
		if (*p == '"')
			p++;
	} else {
		while (*p && *p != ',' && *p != ' ' && *p != '\t') {
			if (i + 1 < n)
				buf[i++] = *p;
			p++;
		}
	}
	buf[i] = 0;
	return p;
}

/* Copies src cut to the field (a realm too long is then simply wrong). */
static void copy_cut(char *dst, size_t n, const char *src)
{
	size_t len = strnlen(src, n - 1);

	memcpy(dst, src, len);
	dst[len] = 0;
}

static enum registry_scheme scheme_of(const char *name)
{
	if (!strcasecmp(name, "bearer"))
		return REGISTRY_AUTH_BEARER;
	if (!strcasecmp(name, "basic"))
		return REGISTRY_AUTH_BASIC;
	return REGISTRY_AUTH_NONE;
}

int registry_challenge_parse(const char *value, struct registry_challenge *out)
{
	struct registry_challenge cur, best;
	const char *p = value ? value : "";
	bool have_cur = false;

	memset(&best, 0, sizeof(best));
	memset(&cur, 0, sizeof(cur));
	for (;;) {
		char name[64], val[1024];
		const char *after;

		p = skip_ws(p);
		while (*p == ',')
			p = skip_ws(p + 1);
		if (!*p)
			break;
		after = read_token(p, name, sizeof(name));
		if (after == p) {
			p++; /* not a token: skip the byte */
			continue;
		}
		p = skip_ws(after);
		if (*p == '=' && p[1] != '=') {
			/* auth-param of the current challenge */
			p = skip_ws(p + 1);
			p = read_value(p, val, sizeof(val));
			if (!have_cur)
				continue;
			if (!strcasecmp(name, "realm"))
				copy_cut(cur.realm, sizeof(cur.realm), val);
			else if (!strcasecmp(name, "service"))
				copy_cut(cur.service, sizeof(cur.service), val);
			else if (!strcasecmp(name, "scope"))
				copy_cut(cur.scope, sizeof(cur.scope), val);
			else if (!strcasecmp(name, "error"))
				copy_cut(cur.error, sizeof(cur.error), val);
			continue;
		}
		if (*p == '=') {
			/* token68 ("abc==") after a scheme: not a param */
			while (*p == '=')
				p++;
			continue;
		}
		/* a new challenge begins: keep the best one so far */
		if (have_cur && cur.scheme > best.scheme)
			best = cur;
		memset(&cur, 0, sizeof(cur));
		cur.scheme = scheme_of(name);
		have_cur = true;
	}
	if (have_cur && cur.scheme > best.scheme)
		best = cur;
	*out = best;
	return best.scheme == REGISTRY_AUTH_NONE ? -EINVAL : 0;
}
