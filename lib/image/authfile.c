/* The auth file: docker's config.json format ({"auths": {"<host>":
 * {"auth": base64("user:password")}}}), shared with docker, podman and
 * upstream's ig, so a login by any of them works for the others. Written
 * 0600 by temp file + rename: a crash never leaves half a file, and the
 * password is never readable by others, not even for a moment. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <sonde/log.h>

#include "image/registry.h"
#include "util/file.h"

#define AUTHFILE_MAX (1u << 20)

int sonde_registry_authfile_default(char *buf, size_t n)
{
	const char *env = getenv("REGISTRY_AUTH_FILE"), *xdg, *home;
	int r;

	if (env && *env)
		r = snprintf(buf, n, "%s", env);
	else if (geteuid() == 0)
		r = snprintf(buf, n, "/var/lib/sonde/config.json");
	else if ((xdg = getenv("XDG_CONFIG_HOME")) && *xdg == '/')
		r = snprintf(buf, n, "%s/sonde/config.json", xdg);
	else if ((home = getenv("HOME")) && *home)
		r = snprintf(buf, n, "%s/.config/sonde/config.json", home);
	else {
		sonde_err("no auth file: neither $HOME nor $XDG_CONFIG_HOME is set (use --authfile)");
		return -ENOENT;
	}
	if (r < 0 || (size_t)r >= n) {
		sonde_err("auth file path too long");
		return -ENAMETOOLONG;
	}
	return 0;
}

int authfile_write_path(const char *explicit_path, char *buf, size_t n)
{
	if (explicit_path && *explicit_path) {
		if ((size_t)snprintf(buf, n, "%s", explicit_path) >= n) {
			sonde_err("auth file path too long");
			return -ENAMETOOLONG;
		}
		return 0;
	}
	return sonde_registry_authfile_default(buf, n);
}

int authfile_read_path(const char *explicit_path, char *buf, size_t n)
{
	const char *env = getenv("REGISTRY_AUTH_FILE"), *dc, *home;
	int r = authfile_write_path(explicit_path, buf, n);

	if (r || (explicit_path && *explicit_path) || (env && *env) || access(buf, F_OK) == 0)
		return r;
	/* the default does not exist: docker's, as upstream falls back to */
	if ((dc = getenv("DOCKER_CONFIG")) && *dc)
		r = snprintf(buf, n, "%s/config.json", dc);
	else if ((home = getenv("HOME")) && *home)
		r = snprintf(buf, n, "%s/.docker/config.json", home);
	else
		return 0;
	return r < 0 || (size_t)r >= n ? -ENAMETOOLONG : 0;
}

/* The keys an entry for host may have: docker writes "https://host/v1/"
 * for Docker Hub and plain hosts elsewhere; some tools add a scheme. */
static json_t *find_entry(json_t *auths, const char *host)
{
	char key[512];
	const char *h = host;
	json_t *e;

	if (!strcmp(host, "docker.io") || !strcmp(host, "registry-1.docker.io"))
		h = "index.docker.io";
	if ((e = json_object_get(auths, h)))
		return e;
	/* the forms other tools write: a scheme, docker's /v1/ suffix */
	const char *pre[] = {"https://", "http://", "https://", "https://", ""};
	const char *suf[] = {"", "", "/v1/", "/v2/", "/v1/"};
	for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]); i++) {
		snprintf(key, sizeof(key), "%s%s%s", pre[i], h, suf[i]);
		if ((e = json_object_get(auths, key)))
			return e;
	}
	return NULL;
}

/* base64("user:password") → the two halves. */
static int decode_auth(const char *b64, struct registry_creds *out)
{
	size_t len = strlen(b64), pad = 0;
	unsigned char *raw;
	char *colon;
	int n;

	while (len && (b64[len - 1] == '\n' || b64[len - 1] == ' '))
		len--;
	if (len == 0 || len % 4 || len > 4096)
		return -EINVAL;
	raw = malloc(len / 4 * 3 + 1);
	if (!raw)
		return -ENOMEM;
	n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)len);
	if (n < 0) {
		free(raw);
		return -EINVAL;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes */
	pad = (b64[len - 1] == '=') + (len > 1 && b64[len - 2] == '=');
	n -= (int)pad;
	raw[n] = 0;
	colon = memchr(raw, ':', (size_t)n);
	if (!colon || memchr(raw, 0, (size_t)n) || (size_t)(colon - (char *)raw) >= sizeof(out->user) ||
	    strlen(colon + 1) >= sizeof(out->password)) {
		OPENSSL_cleanse(raw, (size_t)n);
		free(raw);
		return -EINVAL;
	}
	*colon = 0;
	snprintf(out->user, sizeof(out->user), "%s", (char *)raw);
	snprintf(out->password, sizeof(out->password), "%s", colon + 1);
	OPENSSL_cleanse(raw, (size_t)n);
	free(raw);
	return 0;
}

int authfile_lookup_text(const char *text, size_t len, const char *host, struct registry_creds *out,
                         bool *found)
{
	json_error_t jerr;
	json_t *doc, *auths, *e, *auth, *user, *pass;
	int r = 0;

	*found = false;
	memset(out, 0, sizeof(*out));
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc || !json_is_object(doc)) {
		json_decref(doc);
		return -EINVAL;
	}
	auths = json_object_get(doc, "auths");
	if (!auths) {
		json_decref(doc);
		return 0;
	}
	if (!json_is_object(auths)) {
		json_decref(doc);
		return -EINVAL;
	}
	e = find_entry(auths, host);
	if (e && json_is_object(e)) {
		auth = json_object_get(e, "auth");
		user = json_object_get(e, "username");
		pass = json_object_get(e, "password");
		if (json_is_string(auth) && json_string_length(auth)) {
			r = decode_auth(json_string_value(auth), out);
			*found = r == 0;
		} else if (json_is_string(user) && json_is_string(pass)) {
			/* podman/skopeo may write the halves separately */
			snprintf(out->user, sizeof(out->user), "%s", json_string_value(user));
			snprintf(out->password, sizeof(out->password), "%s", json_string_value(pass));
			*found = true;
		}
	}
	json_decref(doc);
	return r;
}

int authfile_lookup(const char *path, const char *host, struct registry_creds *out, bool *found)
{
	char *text;
	size_t len;
	int r;

	*found = false;
	memset(out, 0, sizeof(*out));
	r = util_read_file(path, AUTHFILE_MAX, &text, &len);
	if (r == -ENOENT)
		return 0;
	if (r) {
		sonde_err("auth file %s: %s", path, strerror(-r));
		return r;
	}
	r = authfile_lookup_text(text, len, host, out, found);
	OPENSSL_cleanse(text, len);
	free(text);
	if (r == -EINVAL)
		sonde_err("auth file %s: not a docker config.json ({\"auths\": {host: {\"auth\": base64}}})",
		          path);
	return r;
}

static int mkdir_parents(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	if ((size_t)snprintf(dir, sizeof(dir), "%s", path) >= sizeof(dir))
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = 0;
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(dir, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static int write_atomic(const char *path, const char *text)
{
	char tmp[PATH_MAX];
	size_t len = strlen(text), off = 0;
	int fd, r = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkstemp(tmp); /* mode 0600 */
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600))
		r = -errno;
	while (!r && off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			r = w < 0 ? -errno : -EIO;
		else
			off += (size_t)w;
	}
	if (!r && fsync(fd))
		r = -errno;
	if (close(fd) && !r)
		r = -errno;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

static char *encode_auth(const struct registry_creds *c)
{
	size_t ul = strlen(c->user), pl = strlen(c->password), rl = ul + 1 + pl;
	unsigned char *raw = malloc(rl + 1);
	char *b64 = malloc((rl + 2) / 3 * 4 + 1);

	if (!raw || !b64) {
		free(raw);
		free(b64);
		return NULL;
	}
	memcpy(raw, c->user, ul);
	raw[ul] = ':';
	memcpy(raw + ul + 1, c->password, pl);
	EVP_EncodeBlock((unsigned char *)b64, raw, (int)rl);
	OPENSSL_cleanse(raw, rl);
	free(raw);
	return b64;
}

int authfile_store(const char *path, const char *host, const struct registry_creds *creds, bool all)
{
	json_error_t jerr;
	json_t *doc = NULL, *auths;
	char *text = NULL, *out;
	size_t len;
	int r;

	r = util_read_file(path, AUTHFILE_MAX, &text, &len);
	if (r == 0) {
		doc = json_loadb(text, len, 0, &jerr);
		OPENSSL_cleanse(text, len);
		free(text);
		if (!json_is_object(doc)) {
			json_decref(doc);
			sonde_err("auth file %s: not a JSON object; not rewriting it", path);
			return -EINVAL;
		}
	} else if (r == -ENOENT) {
		if (!creds)
			return -ENOENT;
		doc = json_object();
	} else {
		sonde_err("auth file %s: %s", path, strerror(-r));
		return r;
	}
	auths = json_object_get(doc, "auths");
	if (auths && !json_is_object(auths)) {
		json_decref(doc);
		sonde_err("auth file %s: \"auths\" is not an object; not rewriting it", path);
		return -EINVAL;
	}
	if (!auths) {
		if (!creds) {
			json_decref(doc);
			return -ENOENT;
		}
		auths = json_object();
		json_object_set_new(doc, "auths", auths);
	}
	if (creds) {
		char *b64 = encode_auth(creds);
		const char *key = !strcmp(host, "docker.io") ? "index.docker.io" : host;

		if (!b64) {
			json_decref(doc);
			return -ENOMEM;
		}
		json_object_set_new(auths, key, json_pack("{s:s}", "auth", b64));
		OPENSSL_cleanse(b64, strlen(b64));
		free(b64);
	} else if (all) {
		json_object_clear(auths);
	} else {
		json_t *e = find_entry(auths, host);
		const char *k;
		json_t *v;
		void *tmp;

		if (!e) {
			json_decref(doc);
			return -ENOENT;
		}
		json_object_foreach_safe(auths, tmp, k, v)
		{
			if (v == e)
				json_object_del(auths, k);
		}
	}
	out = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (!out)
		return -ENOMEM;
	r = mkdir_parents(path);
	if (!r)
		r = write_atomic(path, out);
	OPENSSL_cleanse(out, strlen(out));
	free(out);
	if (r)
		sonde_err("cannot write the auth file %s: %s", path, strerror(-r));
	return r;
}
