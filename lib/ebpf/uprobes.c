/* Uprobes, attached per root: the host's (/), and each container's
 * (/proc/<pid>/root) as the container operator reports it.
 *
 * A target names a library (`uprobe/libc:malloc`, resolved through the
 * root's own /etc/ld.so.cache) or an absolute path. Files are opened inside
 * the root with RESOLVE_IN_ROOT, so a container's absolute symlinks resolve
 * against its root, not the host's. The kernel puts a uprobe on the real
 * inode behind overlayfs, so two containers of one image share a file: one
 * link serves both (and any later one; see release_root). Overlayfs
 * reports its own st_dev per mount but the real inode number, so the key
 * is the inode number with size and mtime rather than st_dev. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sonde/containers.h>
#include <sonde/gadget.h>
#include <sonde/log.h>

#include "internal.h"
#include "util/clock.h"

#define HOST_ID "<host>"

struct uprobe_file_key {
	ino_t ino;
	off_t size;
	int64_t mtime_ns;
};

struct uprobe_link {
	struct bpf_program *prog;
	struct uprobe_file_key key;
	struct bpf_link *link;
};

struct uprobe_root {
	char *id;
	size_t *links; /* indices into ebpf_uprobes.links */
	size_t nlinks;
};

struct ebpf_uprobes {
	struct uprobe_link *links;
	size_t nlinks;
	struct uprobe_root *roots;
	size_t nroots;
};

static bool is_uprobe(struct bpf_program *prog)
{
	enum ebpf_sec_kind k = ebpf_section_kind(ebpf_prog_section(prog), NULL);

	return bpf_program__autoload(prog) &&
	       (k == EBPF_SEC_UPROBE || k == EBPF_SEC_URETPROBE || k == EBPF_SEC_USDT);
}

bool ebpf_has_uprobes(struct ebpf_gadget *g)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, g->obj)
	{
		if (is_uprobe(prog))
			return true;
	}
	return false;
}

static int open_in_root(int rootfd, const char *path)
{
	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};

	return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

static struct uprobe_root *find_root(struct ebpf_uprobes *u, const char *id)
{
	for (size_t i = 0; i < u->nroots; i++)
		if (strcmp(u->roots[i].id, id) == 0)
			return &u->roots[i];
	return NULL;
}

static bool same_key(const struct uprobe_file_key *a, const struct uprobe_file_key *b)
{
	return a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns;
}

/* What the program attaches to: gadget.yaml's attach_to, else its section's
 * target (<path-or-lib>:<symbol>, or <path-or-lib>:<provider>:<probe>). */
static const char *prog_target(struct ebpf_gadget *g, struct bpf_program *prog, enum ebpf_sec_kind *kind)
{
	const char *target = NULL, *ov = ebpf_prog_attach_to(g, prog);

	*kind = ebpf_section_kind(ebpf_prog_section(prog), &target);
	return ov && *ov ? ov : target;
}

/* A USDT probe: libbpf reads the file's .note.stapsdt for its locations
 * and arguments, and makes the kernel count its semaphore (ref_ctr) while
 * attached, so the program's probe code runs. */
static struct bpf_link *attach_usdt(struct bpf_program *prog, const char *path, const char *probe)
{
	const char *colon = strchr(probe, ':');
	char provider[256];

	if (!colon || colon == probe || !colon[1] || (size_t)(colon - probe) >= sizeof(provider)) {
		errno = EINVAL;
		return NULL;
	}
	memcpy(provider, probe, (size_t)(colon - probe));
	provider[colon - probe] = '\0';
	return bpf_program__attach_usdt(prog, -1, path, provider, colon + 1, NULL);
}

/* Makes the root hold the link of (prog, file), attaching when it is new. */
static int hold_link(struct ebpf_gadget *g, struct uprobe_root *r, struct bpf_program *prog, int fd,
                     const char *shown, const char *symbol, enum ebpf_sec_kind kind, bool strict)
{
	bool ret = kind == EBPF_SEC_URETPROBE;
	struct ebpf_uprobes *u = g->uprobes;
	struct uprobe_link nl = {.prog = prog};
	char fdpath[64];
	struct stat st;
	size_t i;

	if (fstat(fd, &st))
		return -errno;
	nl.key = (struct uprobe_file_key){st.st_ino, st.st_size,
	                                  (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec};
	for (i = 0; i < u->nlinks; i++)
		if (u->links[i].prog == prog && same_key(&u->links[i].key, &nl.key))
			break;
	for (size_t k = 0; k < r->nlinks; k++)
		if (r->links[k] == i)
			return 0; /* this root already holds it (a library listed twice) */
	if (i == u->nlinks) {
		LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = symbol, .retprobe = ret);

		/* both libbpf (symbol lookup) and the kernel (inode) follow the fd */
		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
		ebpf_libbpf_log_reset();
		if (kind == EBPF_SEC_USDT)
			nl.link = attach_usdt(prog, fdpath, symbol);
		else
			nl.link = bpf_program__attach_uprobe_opts(prog, -1, fdpath, 0, &opts);
		if (!nl.link) {
			int err = -errno;
			const char *why = ebpf_libbpf_reason();

			/* a container's library may lack the symbol (musl has no pvalloc) */
			sonde_log(strict ? SONDE_LOG_ERROR : SONDE_LOG_DEBUG,
			          "program '%s' (%s): cannot attach to %s:%s: %s%s%s",
			          bpf_program__name(prog), ebpf_prog_section(prog), shown, symbol,
			          strerror(-err), *why ? "; libbpf: " : "", why);
			return err;
		}
		if (append_array(&u->links, &u->nlinks, &nl, sizeof(nl))) {
			bpf_link__destroy(nl.link);
			return -ENOMEM;
		}
		sonde_debug("ebpf: program '%s' attached to %s:%s", bpf_program__name(prog), shown, symbol);
	}
	return append_array(&r->links, &r->nlinks, &i, sizeof(i));
}

/* Attaches one program in one root; *found counts the files it reached. */
static int attach_prog(struct ebpf_gadget *g, struct uprobe_root *r, int rootfd, const char *rootdir,
                       struct bpf_program *prog, bool strict)
{
	enum ebpf_sec_kind kind;
	const char *target = prog_target(g, prog, &kind);
	const char *colon = target ? strchr(target, ':') : NULL;
	char lib[256], cache[PATH_MAX], **paths = NULL, *single[2] = {lib, NULL};
	size_t n = 0, found = 0;
	int err = 0;

	if (!colon || colon == target || !colon[1] || (size_t)(colon - target) >= sizeof(lib) ||
	    (kind == EBPF_SEC_USDT && (!strchr(colon + 1, ':') || strchr(colon + 1, ':')[1] == '\0'))) {
		sonde_err("program '%s' (%s): %s target '%s' must be %s", bpf_program__name(prog),
		          ebpf_prog_section(prog), kind == EBPF_SEC_USDT ? "usdt" : "uprobe",
		          target ? target : "",
		          kind == EBPF_SEC_USDT ? "<path-or-library>:<provider>:<probe>"
		                                : "<path-or-library>:<symbol>");
		return -EINVAL;
	}
	memcpy(lib, target, (size_t)(colon - target));
	lib[colon - target] = '\0';
	if (strchr(lib, '/')) {
		if (lib[0] != '/') {
			sonde_err("program '%s' (%s): uprobe path '%s' must be absolute",
			          bpf_program__name(prog), ebpf_prog_section(prog), lib);
			return -EINVAL;
		}
		paths = single;
		n = 1;
	} else {
		snprintf(cache, sizeof(cache), "%s/etc/ld.so.cache", rootdir);
		err = ebpf_ldcache_lookup(cache, lib, &paths, &n);
		if (err && strict)
			sonde_err("program '%s' (%s): cannot look up '%s' in %s: %s", bpf_program__name(prog),
			          ebpf_prog_section(prog), lib, cache,
			          err == -EBADMSG ? "not a ld.so cache" : strerror(-err));
		if (err)
			return strict ? err : 0; /* a container without a cache has no such library */
	}
	for (size_t i = 0; i < n && !err; i++) {
		char shown[PATH_MAX];
		int fd = open_in_root(rootfd, paths[i]);

		if (fd < 0)
			continue; /* a stale cache entry, or a path this root does not have */
		snprintf(shown, sizeof(shown), "%s%s", rootdir, paths[i]);
		err = hold_link(g, r, prog, fd, shown, colon + 1, kind, strict);
		close(fd);
		found++;
	}
	if (paths != single)
		ebpf_ldcache_free(paths);
	if (!err && !found && strict) {
		sonde_err("program '%s' (%s): no file found for '%s'", bpf_program__name(prog),
		          ebpf_prog_section(prog), lib);
		return -ENOENT;
	}
	return err;
}

/* Drops the root's references. A link nobody holds stays attached until the
 * gadget stops: detaching a uprobe costs ~90 ms of kernel synchronisation,
 * serialised, so 20 probes would stall the event loop for almost two seconds
 * at every container exit. An idle link costs nothing while no process maps
 * the file, the next container of the same image takes it again, and what
 * the selection excludes is dropped by the in-kernel mount-namespace filter. */
static void release_root(struct ebpf_uprobes *u, struct uprobe_root *r)
{
	if (r->nlinks)
		sonde_debug("ebpf: uprobes of %s released (%zu links)", r->id, r->nlinks);
	free(r->links);
	free(r->id);
	*r = u->roots[--u->nroots];
}

/* strict: every program must attach somewhere (the host); a container may
 * simply lack a library. */
static int attach_root(struct ebpf_gadget *g, const char *id, const char *rootdir, bool strict)
{
	struct ebpf_uprobes *u = g->uprobes;
	struct uprobe_root nr = {.id = strdup(id)};
	struct bpf_program *prog;
	int rootfd, err = 0;

	if (!nr.id || find_root(u, id)) {
		free(nr.id);
		return nr.id ? 0 : -ENOMEM;
	}
	if (append_array(&u->roots, &u->nroots, &nr, sizeof(nr))) {
		free(nr.id);
		return -ENOMEM;
	}
	rootfd = open(*rootdir ? rootdir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		err = -errno; /* the container is already gone */
		release_root(u, &u->roots[u->nroots - 1]);
		return strict ? err : 0;
	}
	bpf_object__for_each_program(prog, g->obj)
	{
		if (!is_uprobe(prog))
			continue;
		err = attach_prog(g, &u->roots[u->nroots - 1], rootfd, rootdir, prog, strict);
		if (err && strict)
			break;
		err = 0; /* in a container, the programs that attached still work */
	}
	close(rootfd);
	if (err)
		release_root(u, find_root(u, id));
	return err;
}

/* The libraries or paths the gadget's uprobes name, "libc, /usr/bin/x", for messages. */
static void uprobe_libraries(struct ebpf_gadget *g, char *out, size_t len)
{
	struct bpf_program *prog;
	size_t used = 0;

	out[0] = 0;
	bpf_object__for_each_program(prog, g->obj)
	{
		const char *target, *colon;
		enum ebpf_sec_kind kind;
		char lib[128];

		if (!is_uprobe(prog))
			continue;
		target = prog_target(g, prog, &kind);
		colon = target ? strchr(target, ':') : NULL;
		if (!colon)
			continue;
		snprintf(lib, sizeof(lib), "%.*s", (int)(colon - target), target);
		if (strstr(out, lib)) /* each once */
			continue;
		used +=
		    (size_t)snprintf(out + used, used < len ? len - used : 0, "%s%s", used ? ", " : "", lib);
		if (used >= len)
			break;
	}
}

void ebpf_uprobes_attach_container(struct ebpf_gadget *g, const struct sonde_container *c)
{
	struct uprobe_root *r;
	char rootdir[64];
	int64_t t0;
	int err;

	if (!g->uprobes)
		return;
	snprintf(rootdir, sizeof(rootdir), "/proc/%u/root", c->pid);
	t0 = util_now_ns();
	err = attach_root(g, c->id, rootdir, false);
	sonde_debug("ebpf: uprobes of %s attached in %.3f ms", c->name, (double)(util_now_ns() - t0) / 1e6);
	if (err) {
		sonde_warn("ebpf: gadget %s: container %s: uprobes not attached: %s", g->name, c->name,
		           strerror(-err));
		return;
	}
	r = find_root(g->uprobes, c->id);
	if (r && !r->nlinks) {
		char libs[256];

		uprobe_libraries(g, libs, sizeof(libs));
		sonde_warn("gadget %s: container %s: none of the libraries its uprobes need (%s) is in the "
		           "container (statically linked, or no ld.so cache?): nothing is traced in it",
		           g->name, c->name, libs);
	}
}

void ebpf_uprobes_detach_container(struct ebpf_gadget *g, const struct sonde_container *c)
{
	struct uprobe_root *r = g->uprobes ? find_root(g->uprobes, c->id) : NULL;

	if (r)
		release_root(g->uprobes, r);
}

int ebpf_uprobes_start(struct ebpf_gadget *g, bool host)
{
	int err = 0;

	if (!ebpf_has_uprobes(g))
		return 0;
	g->uprobes = calloc(1, sizeof(*g->uprobes));
	if (!g->uprobes)
		return -ENOMEM;
	if (host)
		err = attach_root(g, HOST_ID, "", true);
	if (err)
		ebpf_uprobes_stop(g);
	return err;
}

void ebpf_uprobes_stop(struct ebpf_gadget *g)
{
	struct ebpf_uprobes *u = g->uprobes;

	if (!u)
		return;
	while (u->nroots)
		release_root(u, &u->roots[u->nroots - 1]);
	{
		struct bpf_link **links = calloc(u->nlinks ? u->nlinks : 1, sizeof(*links));

		for (size_t i = 0; i < u->nlinks; i++) {
			if (links)
				links[i] = u->links[i].link;
			else
				bpf_link__destroy(u->links[i].link);
		}
		if (links)
			ebpf_destroy_links(links, u->nlinks);
		free(links);
	}
	free(u->links);
	free(u->roots);
	free(u);
	g->uprobes = NULL;
}
