/* Image references, normalised as upstream does (spec §1.4): a first
 * component is a domain only if it looks like one, short names live under
 * ghcr.io/inspektor-gadget/gadget/, and no tag means "latest". */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sonde/image.h>
#include <sonde/log.h>

#include "image/oci.h"

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
static bool component_valid(const char *s, size_t n)
{
	if (!n || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (is_lower_alnum(s[i]))
			continue;
		if (s[i] == '.' || s[i] == '_') {
			size_t run = 1;
			if (s[i] == '_' && s[i + 1] == '_')
				run = 2;
			if (!is_lower_alnum(s[i + run]))
				return false;
			i += run - 1;
		} else if (s[i] == '-') {
			while (s[i + 1] == '-')
				i++;
		} else {
			return false;
		}
	}
	return true;
}

static bool path_valid(const char *p)
{
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (!component_valid(p, n))
			return false;
		if (!slash)
			return true;
		p = slash + 1;
		if (!*p)
			return false;
	}
	return false;
}

/* host[:port]: labels of alnum and '-', or a bracketed IPv6 address. */
static bool domain_valid(const char *d)
{
	const char *colon = strrchr(d, ':');
	if (d[0] == '[') {
		const char *close = strchr(d, ']');
		if (!close)
			return false;
		colon = close[1] == ':' ? close + 1 : close[1] ? (const char *)"" : NULL;
		if (colon && !*colon)
			return false;
	} else {
		size_t n = colon ? (size_t)(colon - d) : strlen(d);
		if (!n)
			return false;
		for (size_t i = 0; i < n; i++)
			if (!isalnum((unsigned char)d[i]) && d[i] != '-' && d[i] != '.')
				return false;
		if (d[0] == '.' || d[0] == '-' || d[n - 1] == '.' || d[n - 1] == '-')
			return false;
	}
	if (colon) {
		if (!colon[1])
			return false;
		for (const char *p = colon + 1; *p; p++)
			if (!isdigit((unsigned char)*p))
				return false;
	}
	return true;
}

/* [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} */
static bool tag_valid(const char *t)
{
	size_t n = strlen(t);
	if (!n || n > 128 || !(isalnum((unsigned char)t[0]) || t[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)t[i]) && t[i] != '_' && t[i] != '.' && t[i] != '-')
			return false;
	return true;
}

int sonde_image_ref_parse(const char *s, struct sonde_image_ref *out)
{
	memset(out, 0, sizeof(*out));
	char buf[1024];
	if (!s || !*s) {
		sonde_err("empty image reference");
		return -EINVAL;
	}
	if (strlen(s) >= sizeof(buf)) {
		sonde_err("image reference \"%.40s…\" is too long", s);
		return -EINVAL;
	}
	strcpy(buf, s);
	char *at = strchr(buf, '@');
	if (at) {
		*at = '\0';
		if (!oci_digest_valid(at + 1)) {
			sonde_err("invalid image reference \"%s\": the digest must be sha256:<64 hex digits>",
			          s);
			return -EINVAL;
		}
		strcpy(out->digest, at + 1);
	}
	char *name = buf;
	char *last_slash = strrchr(name, '/');
	char *colon = strrchr(last_slash ? last_slash : name, ':');
	if (colon) {
		*colon = '\0';
		if (!tag_valid(colon + 1)) {
			sonde_err("invalid image reference \"%s\": bad tag \"%s\"", s, colon + 1);
			return -EINVAL;
		}
		strcpy(out->tag, colon + 1);
	} else if (!at) {
		strcpy(out->tag, "latest");
	}
	char *slash = strchr(name, '/');
	const char *domain = SONDE_IMAGE_DEFAULT_DOMAIN, *path = name;
	if (slash) {
		*slash = '\0';
		bool lower = true;
		for (const char *p = name; *p; p++)
			if (isupper((unsigned char)*p))
				lower = false;
		/* As docker's splitDockerDomain: an upper-case first component
		 * cannot be a repository path, so it is a host name. */
		if (strchr(name, '.') || strchr(name, ':') || !strcmp(name, "localhost") || !lower) {
			domain = name;
			path = slash + 1;
		} else {
			*slash = '/';
		}
	}
	if (!domain_valid(domain)) {
		sonde_err("invalid image reference \"%s\": bad registry host \"%s\"", s, domain);
		return -EINVAL;
	}
	if (!path_valid(path)) {
		bool upper = false;
		for (const char *p = path; *p; p++)
			upper |= isupper((unsigned char)*p) != 0;
		sonde_err(
		    "invalid image reference \"%s\": %s", s,
		    upper
		        ? "the repository name must be lowercase"
		        : "the repository name must be lowercase letters, digits and separators (. _ __ -)");
		return -EINVAL;
	}
	size_t domain_len = strlen(domain);
	if (domain_len >= sizeof(out->domain)) {
		sonde_err("invalid image reference \"%s\": the name is longer than 255 characters", s);
		return -EINVAL;
	}
	memcpy(out->domain, domain, domain_len + 1);
	bool prefix = !strcmp(domain, SONDE_IMAGE_DEFAULT_DOMAIN) && !strchr(path, '/');
	if ((size_t)snprintf(out->path, sizeof(out->path), "%s%s", prefix ? SONDE_IMAGE_DEFAULT_PREFIX : "",
	                     path) >= sizeof(out->path) ||
	    strlen(out->domain) + 1 + strlen(out->path) > 255) {
		sonde_err("invalid image reference \"%s\": the name is longer than 255 characters", s);
		return -EINVAL;
	}
	return 0;
}

int sonde_image_ref_repository(const struct sonde_image_ref *r, char *buf, size_t n)
{
	if ((size_t)snprintf(buf, n, "%s/%s", r->domain, r->path) >= n)
		return -ENAMETOOLONG;
	return 0;
}

int sonde_image_ref_format(const struct sonde_image_ref *r, char *buf, size_t n)
{
	int len;
	if (r->tag[0])
		len = snprintf(buf, n, "%s/%s:%s", r->domain, r->path, r->tag);
	else
		len = snprintf(buf, n, "%s/%s@%s", r->domain, r->path, r->digest);
	return (size_t)len >= n ? -ENAMETOOLONG : 0;
}
