/* UidGidResolver: adds user/group name fields (see uidgid_resolver.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/gadget.h>
#include <sonde/log.h>

#include "host/name_cache.h"
#include "operators/uidgid_resolver.h"
#include "util/array.h"

struct resolved_field {
	struct uidgid_resolver *r;
	struct sonde_field *src, *dst;
	bool group;
	char unknown[24]; /* "uid:4294967295" */
	/* The last id and its name: consecutive events mostly come from the same
	 * user, and a hit skips the table lookup and the strlen. Valid while
	 * last_gen == r->gen (the tables are replaced on reload). */
	uint64_t last_id;
	const char *last_name;
	uint32_t last_len;
	unsigned last_gen;
};

struct uidgid_resolver {
	struct sonde_gadget_ctx *ctx;
	struct resolved_field **fields;
	size_t nfields;
	char passwd_path[PATH_MAX], group_path[PATH_MAX];
	struct name_cache *cache;
	unsigned gen; /* bumped whenever names may have been reloaded; 0 = never loaded */
	bool load_failed;
	bool watching;
};

static void on_files_changed(struct sonde_gadget_ctx *ctx, int fd, void *arg)
{
	struct uidgid_resolver *r = arg;

	r->gen++; /* the names read before may be freed now */
	if (name_cache_handle_events(r->cache) < 0)
		sonde_warn("uidgidresolver: out of memory while reloading names; keeping the old ones");
}

/* Loads the names the first time they are needed (start, or a record that
 * comes earlier) and hooks the refresh into the run's event loop. */
static struct name_cache *cache_of(struct uidgid_resolver *r)
{
	if (r->cache || r->load_failed)
		return r->cache;
	r->cache = name_cache_new(r->passwd_path, r->group_path);
	r->gen++;
	if (!r->cache) {
		r->load_failed = true;
		sonde_warn("uidgidresolver: out of memory loading user and group names");
		return NULL;
	}
	if (name_cache_fd(r->cache) >= 0 &&
	    sonde_gadget_watch_fd(r->ctx, name_cache_fd(r->cache), on_files_changed, r) == 0)
		r->watching = true;
	return r->cache;
}

static int resolve(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	struct resolved_field *f = arg;
	struct name_cache *cache;
	const char *name = NULL;
	uint64_t id;
	int n;

	if (!sonde_field_is_requested(f->dst) || !sonde_field_as_uint64(f->src, rec, &id))
		return 0;
	cache = cache_of(f->r);
	if (f->last_gen == f->r->gen && f->last_id == id && f->last_name)
		return sonde_field_put_string(f->dst, rec, f->last_name, f->last_len);
	if (cache && id <= UINT32_MAX)
		name =
		    f->group ? name_cache_group(cache, (uint32_t)id) : name_cache_user(cache, (uint32_t)id);
	if (name) {
		n = (int)strlen(name);
	} else {
		n = snprintf(f->unknown, sizeof(f->unknown), "%s:%llu", f->group ? "gid" : "uid",
		             (unsigned long long)id);
		name = f->unknown;
	}
	f->last_id = id;
	f->last_name = name;
	f->last_len = (uint32_t)n;
	f->last_gen = f->r->gen;
	return sonde_field_put_string(f->dst, rec, name, (uint32_t)n);
}

/* Target name: annotation, else the name minus "_raw", else user/group. */
static void target_name(struct sonde_field *src, bool group, char *out, size_t outlen)
{
	const char *ann = sonde_field_annotation(src, "uidgidresolver.target");
	const char *name = sonde_field_name(src);
	size_t nl = strlen(name);

	if (ann && *ann)
		snprintf(out, outlen, "%s", ann);
	else if (nl > 4 && strcmp(name + nl - 4, "_raw") == 0)
		snprintf(out, outlen, "%.*s", (int)(nl - 4), name);
	else
		snprintf(out, outlen, "%s", group ? "group" : "user");
}

static int add_resolver(struct uidgid_resolver *r, struct sonde_ds *ds, struct sonde_field *src, bool group)
{
	struct sonde_field_opts opts = {.sz = sizeof(opts), .has_order = true};
	struct resolved_field *f;
	char target[256], desc[320];

	if (!sonde_kind_is_int(sonde_field_kind(src))) {
		sonde_debug("uidgidresolver: %s.%s is not an integer; skipped", sonde_ds_name(ds),
		            sonde_field_full_name(src));
		return 0;
	}
	target_name(src, group, target, sizeof(target));
	f = calloc(1, sizeof(*f));
	if (!f || grow_array_by_len((void **)&r->fields, r->nfields, sizeof(*r->fields))) {
		free(f);
		return -ENOMEM;
	}
	r->fields[r->nfields++] = f;
	*f = (struct resolved_field){.r = r, .src = src, .group = group};
	opts.parent = sonde_field_parent(src);
	opts.order = sonde_field_order(src);
	snprintf(desc, sizeof(desc), "%s name of %s (from the host's /etc/%s)", group ? "Group" : "User",
	         sonde_field_full_name(src), group ? "group" : "passwd");
	opts.annotations = (const char *const[]){"description", desc, NULL};
	f->dst = sonde_ds_add_field(ds, target, SONDE_KIND_STRING, &opts);
	if (!f->dst) {
		sonde_err("uidgidresolver: datasource %s: cannot add field \"%s\" for %s (name taken?)",
		          sonde_ds_name(ds), target, sonde_field_full_name(src));
		return -EINVAL;
	}
	/* a member of a process struct shows under its short name (USER, like UID) */
	if (sonde_field_annotation(src, "columns.alias") &&
	    sonde_field_set_annotation(f->dst, "columns.alias", sonde_field_name(f->dst)))
		return -ENOMEM;
	/* upstream hides both: the id stays in JSON, the name shows on request */
	sonde_field_set_hidden(f->dst, true, false);
	sonde_field_set_hidden(src, true, false);
	return sonde_ds_subscribe(ds, resolve, f, SONDE_PHASE_RESOLVE);
}

static void resolver_free(struct uidgid_resolver *r)
{
	if (!r)
		return;
	if (r->watching)
		sonde_gadget_unwatch_fd(r->ctx, name_cache_fd(r->cache));
	name_cache_free(r->cache);
	for (size_t i = 0; i < r->nfields; i++)
		free(r->fields[i]);
	free(r->fields);
	free(r);
}

static void set_paths(struct uidgid_resolver *r)
{
	const char *root = getenv("HOST_ROOT");
	const char *pw = sonde_gadget_var(r->ctx, "uidgidresolver.passwd");
	const char *gr = sonde_gadget_var(r->ctx, "uidgidresolver.group");

	if (!root || strcmp(root, "/") == 0)
		root = "";
	if (pw)
		snprintf(r->passwd_path, sizeof(r->passwd_path), "%s", pw);
	else
		snprintf(r->passwd_path, sizeof(r->passwd_path), "%s/etc/passwd", root);
	if (gr)
		snprintf(r->group_path, sizeof(r->group_path), "%s", gr);
	else
		snprintf(r->group_path, sizeof(r->group_path), "%s/etc/group", root);
}

static int resolver_instantiate(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state)
{
	struct uidgid_resolver *r = calloc(1, sizeof(*r));
	int err = 0;

	if (!r)
		return -ENOMEM;
	r->ctx = ctx;
	set_paths(r);
	for (size_t d = 0; d < sonde_gadget_nds(ctx) && !err; d++) {
		struct sonde_ds *ds = sonde_gadget_ds_at(ctx, d);
		size_t n = sonde_ds_nfields(ds); /* not the fields added here */

		for (size_t i = 0; i < n && !err; i++) {
			struct sonde_field *f = sonde_ds_field_at(ds, i);

			if (sonde_field_has_tag(f, "type:gadget_uid"))
				err = add_resolver(r, ds, f, false);
			else if (sonde_field_has_tag(f, "type:gadget_gid"))
				err = add_resolver(r, ds, f, true);
		}
	}
	if (err || r->nfields == 0) {
		resolver_free(r);
		return err;
	}
	*state = r;
	return 0;
}

/* Sinks have declared their fields in pre-start: load only if a name is wanted. */
static int resolver_start(struct sonde_gadget_ctx *ctx, void *state)
{
	struct uidgid_resolver *r = state;

	for (size_t i = 0; i < r->nfields; i++) {
		if (sonde_field_is_requested(r->fields[i]->dst)) {
			cache_of(r);
			break;
		}
	}
	return 0;
}

static int resolver_stop(struct sonde_gadget_ctx *ctx, void *state)
{
	struct uidgid_resolver *r = state;

	if (r->watching) {
		sonde_gadget_unwatch_fd(ctx, name_cache_fd(r->cache));
		r->watching = false;
	}
	return 0;
}

static void resolver_close(struct sonde_gadget_ctx *ctx, void *state)
{
	resolver_free(state);
}

const struct sonde_operator uidgid_resolver_operator = {
    .name = "UidGidResolver",
    .kind = SONDE_OP_DATA,
    .priority = SONDE_PHASE_RESOLVE,
    .instantiate = resolver_instantiate,
    .start = resolver_start,
    .stop = resolver_stop,
    .close = resolver_close,
};
