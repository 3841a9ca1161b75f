/* Containers from a runtime's state directory (<root>/<id>/), completed from
 * /proc (namespaces, cgroup) and the OCI config (annotations). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sonde/log.h>

#include "containers/internal.h"
#include "util/file.h"

#define MAX_STATE_BYTES  (1u << 20)
#define MAX_CONFIG_BYTES (16u << 20) /* as upstream bounds ociConfig */

const struct runtime_desc runtime_runc = {"runc", "state.json", sonde_runc_state_parse};
const struct runtime_desc runtime_crun = {"crun", "status", sonde_crun_status_parse};
const struct runtime_desc runtime_containerd = {"containerd", "state.json", sonde_runc_state_parse};

static void read_annotations(struct sonde_container *c, const char *config_path)
{
	char *text;
	size_t len;

	if (util_read_file(config_path, MAX_CONFIG_BYTES, &text, &len))
		return;
	if (sonde_oci_config_parse(text, len, c))
		sonde_debug("containers: %s: not an OCI config; annotations skipped", config_path);
	free(text);
}

static uint64_t self_ns(const char *proc_root, const char *ns)
{
	char self[PATH_MAX];
	struct stat st;

	/* not /proc/1/ns/: unreadable on some hosts */
	snprintf(self, sizeof(self), "%s/self/ns/%s", proc_root, ns);
	return stat(self, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

int runtime_load(const struct runtime_desc *rt, const char *root, const char *id, const char *proc_root,
                 uint32_t pid_hint, const char *bundle_hint, struct runtime_clients *clients,
                 struct sonde_container **out)
{
	char path[PATH_MAX], *text = NULL, *cg = NULL;
	struct sonde_container *c;
	size_t len;
	int err;

	if (!sonde_container_id_valid(id))
		return -EINVAL;
	c = sonde_container_new(id, rt->name);
	if (!c)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/%s/%s", root, id, rt->state_file);
	err = util_read_file(path, MAX_STATE_BYTES, &text, &len);
	if (!err) {
		err = rt->parse(text, len, c);
		free(text);
		if (err)
			goto fail;                   /* garbage or half-written: the caller may retry later */
		sonde_container_set_str(&c->id, id); /* the directory names the container */
	} else if (pid_hint) {
		c->pid = pid_hint;
	} else {
		goto fail;
	}
	if (!*c->bundle && bundle_hint)
		sonde_container_set_str(&c->bundle, bundle_hint);
	if (rt == &runtime_containerd) {
		const char *ns = strrchr(root, '/');

		sonde_container_set_str(&c->runtime_namespace, ns ? ns + 1 : root);
	}
	/* crun keeps a copy of the config next to its state; runc's labels carry the annotations */
	snprintf(path, sizeof(path), "%s/%s/config.json", root, id);
	if (!c->nannotations && access(path, R_OK) == 0)
		read_annotations(c, path);
	if (!c->nannotations && *c->bundle) {
		snprintf(path, sizeof(path), "%s/config.json", c->bundle);
		read_annotations(c, path);
	}
	sonde_container_apply_annotations(c);

	err = proc_ns_inode(proc_root, c->pid, "mnt", &c->mntns);
	if (!err)
		err = proc_ns_inode(proc_root, c->pid, "net", &c->netns);
	if (err)
		goto fail;
	if (c->mntns == self_ns(proc_root, "mnt")) {
		err = -EAGAIN; /* not in its own namespaces (yet) */
		goto fail;
	}
	c->host_network = c->netns == self_ns(proc_root, "net");
	if (proc_cgroup_path(proc_root, c->pid, &cg) == 0) {
		sonde_container_set_str(&c->cgroup_path, cg);
		free(cg);
	}
	c->cgroup_id = cgroup_v2_id(c->cgroup_path);
	runtime_clients_enrich(clients, c);
	/* the state may not be written yet (crun run writes it after the exec) */
	if (!c->started_at_ns)
		proc_start_time_ns(proc_root, c->pid, &c->started_at_ns);
	proc_start_boot_ns(proc_root, c->pid, &c->started_boot_ns);
	*out = c;
	return 0;
fail:
	sonde_container_free(c);
	return err;
}

int runtime_scan(struct sonde_containers *set, const struct runtime_desc *rt, const char *root,
                 const char *proc_root, struct runtime_clients *clients)
{
	DIR *d = opendir(root);
	struct dirent *e;
	int added = 0;

	if (!d)
		return 0; /* runtime not installed or never used */
	while ((e = readdir(d))) {
		struct sonde_container *c;
		bool live = false;
		int err;

		if (!sonde_container_id_valid(e->d_name) || (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN))
			continue;
		for (size_t i = 0; i < sonde_containers_count(set) && !live; i++)
			live = strcmp(sonde_containers_at(set, i)->id, e->d_name) == 0;
		if (live)
			continue;
		err = runtime_load(rt, root, e->d_name, proc_root, 0, NULL, clients, &c);
		if (err == -EINVAL)
			sonde_warn("containers: %s/%s: unreadable %s state; skipped", root, e->d_name,
			           rt->name);
		if (err) {
			sonde_debug("containers: %s/%s skipped: %s", root, e->d_name, strerror(-err));
			continue;
		}
		if (sonde_containers_add(set, c) == 0)
			added++;
	}
	closedir(d);
	return added;
}
