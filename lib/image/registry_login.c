/* login and logout: credentials checked against the registry before they
 * are written to the auth file, so a typo never lands there. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <sonde/log.h>

#include "image/registry.h"

/* "host[:port]" of a registry given as a host, a URL or a reference. */
static int registry_host(const char *registry, char *buf, size_t n)
{
	const char *p = registry, *end;

	if (!strncmp(p, "https://", 8))
		p += 8;
	else if (!strncmp(p, "http://", 7))
		p += 7;
	end = strchr(p, '/');
	if (!end)
		end = p + strlen(p);
	if (end == p || (size_t)(end - p) >= n) {
		sonde_err("\"%s\" is not a registry (host or host:port)", registry);
		return -EINVAL;
	}
	memcpy(buf, p, (size_t)(end - p));
	buf[end - p] = 0;
	return 0;
}

int sonde_registry_login(const char *registry, const char *user, const char *password,
                         const struct sonde_registry_opts *opts)
{
	struct registry_client *c = NULL;
	struct registry_creds cr;
	char host[256], path[4096];
	int r;

	r = registry_host(registry, host, sizeof(host));
	if (r)
		return r;
	if (!user || !*user || !password || !*password) {
		sonde_err("login to %s: a user name and a password are needed", host);
		return -EINVAL;
	}
	if (strlen(user) >= sizeof(cr.user) || strlen(password) >= sizeof(cr.password) || strchr(user, ':')) {
		sonde_err("login to %s: the user name (without ':') or the password is too long", host);
		return -EINVAL;
	}
	memset(&cr, 0, sizeof(cr));
	snprintf(cr.user, sizeof(cr.user), "%s", user);
	snprintf(cr.password, sizeof(cr.password), "%s", password);
	r = authfile_write_path(opts ? opts->authfile : NULL, path, sizeof(path));
	if (!r)
		r = registry_client_new(host, NULL, opts, &c);
	if (!r) {
		registry_client_set_creds(c, &cr);
		r = registry_ping(c, true);
	}
	if (!r)
		r = authfile_store(path, host, &cr, false);
	OPENSSL_cleanse(&cr, sizeof(cr));
	registry_client_free(c);
	return r;
}

int sonde_registry_logout(const char *registry, bool all, const struct sonde_registry_opts *opts)
{
	char host[256] = "", path[4096];
	int r;

	if (!all) {
		r = registry_host(registry ? registry : "", host, sizeof(host));
		if (r)
			return r;
	}
	r = authfile_write_path(opts ? opts->authfile : NULL, path, sizeof(path));
	if (r)
		return r;
	r = authfile_store(path, host, NULL, all);
	if (r == -ENOENT)
		sonde_err(all ? "no credentials in %s%s" : "not logged in to %s (in %s)", all ? "" : host,
		          path);
	return r;
}
