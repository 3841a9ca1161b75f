/* Parsers of the runtimes' own state files (formats as written by runc 1.1
 * and crun 1.8):
 *  - runc  <root>/<id>/state.json: id, init_process_pid, created (RFC 3339),
 *          cgroup_paths{"": v2 dir}, config.labels ["key=value", …, "bundle=DIR"];
 *  - crun  <root>/<id>/status: pid, cgroup-path, bundle, created; the OCI
 *          config is copied next to it as config.json (its annotations);
 *  - OCI config.json: annotations{}.
 * A half-written or foreign file is garbage here: -EINVAL, no partial result
 * is trusted by callers. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include <sonde/containers.h>

#include "containers/internal.h"

int64_t containers_parse_rfc3339_ns(const char *s)
{
	struct tm tm = {0};
	int64_t frac = 0, scale = 1000000000LL, off = 0;
	const char *p;
	time_t t;
	int n = 0;

	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
	                 &tm.tm_min, &tm.tm_sec, &n) != 6)
		return 0;
	p = s + n;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (scale > 1) {
				scale /= 10;
				frac += (*p - '0') * scale;
			}
		}
	}
	if (*p == '+' || *p == '-') {
		int hh = 0, mm = 0;
		if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
			return 0;
		off = (hh * 3600LL + mm * 60LL) * (*p == '+' ? 1 : -1);
	} else if (*p != 'Z') {
		return 0;
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return 0;
	t -= off;
	/* int64 ns reach 1677..2262 only; a state file is written by whoever
	 * runs the runtime, so a year like 9999 is garbage, not an overflow */
	if (t > INT64_MAX / 1000000000LL - 1 || t < INT64_MIN / 1000000000LL + 1)
		return 0;
	return (int64_t)t * 1000000000LL + frac;
}

static json_t *load(const char *text, size_t len)
{
	json_error_t jerr;
	json_t *root;

	if (!text || !len)
		return NULL;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root && !json_is_object(root)) {
		json_decref(root);
		return NULL;
	}
	return root;
}

/* A pid that fits the kernel's pid space. */
static int get_pid(json_t *root, const char *key, uint32_t *pid)
{
	json_t *v = json_object_get(root, key);
	json_int_t x;

	if (!json_is_integer(v))
		return -EINVAL;
	x = json_integer_value(v);
	if (x <= 0 || x > 0x3fffffff)
		return -EINVAL;
	*pid = (uint32_t)x;
	return 0;
}

static const char *get_str(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A v2 cgroup directory ("/sys/fs/cgroup/unified/demo") → path relative to its mount. */
static const char *strip_mount(const char *dir)
{
	static const char *const mounts[] = {"/sys/fs/cgroup/unified", "/sys/fs/cgroup", NULL};

	for (size_t i = 0; mounts[i]; i++) {
		size_t n = strlen(mounts[i]);
		if (strncmp(dir, mounts[i], n) == 0 && (dir[n] == '/' || dir[n] == 0))
			return dir[n] ? dir + n : "/";
	}
	return dir;
}

int sonde_runc_state_parse(const char *text, size_t len, struct sonde_container *c)
{
	json_t *root = load(text, len), *config, *labels, *cgroups, *v;
	const char *id, *created, *cg;
	size_t i;
	int err = -EINVAL;

	if (!root)
		return -EINVAL;
	id = get_str(root, "id");
	if (!id || !sonde_container_id_valid(id) || get_pid(root, "init_process_pid", &c->pid))
		goto out;
	err = sonde_container_set_str(&c->id, id);
	if (err)
		goto out;
	created = get_str(root, "created");
	if (created)
		c->started_at_ns = containers_parse_rfc3339_ns(created);
	cgroups = json_object_get(root, "cgroup_paths");
	cg = json_is_object(cgroups) ? get_str(cgroups, "") : NULL;
	if (cg)
		sonde_container_set_str(&c->cgroup_path, strip_mount(cg));
	config = json_object_get(root, "config");
	labels = json_is_object(config) ? json_object_get(config, "labels") : NULL;
	json_array_foreach(labels, i, v)
	{
		const char *kv = json_string_value(v), *eq;
		char key[512];

		if (!kv || !(eq = strchr(kv, '=')) || (size_t)(eq - kv) >= sizeof(key) || eq == kv)
			continue;
		snprintf(key, sizeof(key), "%.*s", (int)(eq - kv), kv);
		/* runc stores the bundle among the annotations, as "bundle=DIR" */
		if (strcmp(key, "bundle") == 0)
			sonde_container_set_str(&c->bundle, eq + 1);
		else
			sonde_container_set_annotation(c, key, eq + 1);
	}
	err = 0;
out:
	json_decref(root);
	return err;
}

int sonde_crun_status_parse(const char *text, size_t len, struct sonde_container *c)
{
	json_t *root = load(text, len);
	const char *s;
	int err = -EINVAL;

	if (!root)
		return -EINVAL;
	if (get_pid(root, "pid", &c->pid))
		goto out;
	if ((s = get_str(root, "bundle")))
		sonde_container_set_str(&c->bundle, s);
	if ((s = get_str(root, "cgroup-path")) && *s)
		sonde_container_set_str(&c->cgroup_path, s);
	if ((s = get_str(root, "created")))
		c->started_at_ns = containers_parse_rfc3339_ns(s);
	err = 0;
out:
	json_decref(root);
	return err;
}

int sonde_oci_config_parse(const char *text, size_t len, struct sonde_container *c)
{
	json_t *root = load(text, len), *ann, *v;
	const char *key;

	if (!root)
		return -EINVAL;
	ann = json_object_get(root, "annotations");
	json_object_foreach(ann, key, v)
	{
		if (json_is_string(v))
			sonde_container_set_annotation(c, key, json_string_value(v));
	}
	json_decref(root);
	return 0;
}
