/* A cache of minimal kernel BTF per (kernel, gadget object).
 *
 * Loading an object with CO-RE relocations makes libbpf parse the whole
 * kernel BTF (~6 MB) and search it for every relocated type: about 50 ms,
 * most of a gadget's start-up. The types one object needs fit in a few KiB
 * (`bpftool gen min_core_btf`, what upstream's btfgen ships in images). The
 * first run of a gadget on a kernel generates that file in the background;
 * later runs hand it to libbpf (btf_custom_path) and load in a fraction of
 * the time.
 *
 * Keys: the kernel's GNU build id (no build id, no cache: a wrong BTF would
 * mean wrong offsets) and a 64-bit FNV-1a hash of the object bytes. Files are
 * written under a temporary name and renamed, and checked to parse before use.
 *
 * Location: $SONDE_CACHE_DIR, else /var/cache/sonde; SONDE_CACHE_DIR=""
 * turns the cache off. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <sonde/log.h>

#include "internal.h"
#include "util/fd.h"

#define DEFAULT_CACHE_DIR "/var/cache/sonde"
#define KERNEL_BTF        "/sys/kernel/btf/vmlinux"
#define KERNEL_NOTES      "/sys/kernel/notes"
#define NT_GNU_BUILD_ID   3

static const char *const bpftool_paths[] = {"/usr/sbin/bpftool", "/usr/bin/bpftool", "/sbin/bpftool", NULL};

int ebpf_build_id_from_notes(const void *notes, size_t len, char *out, size_t outlen)
{
	const unsigned char *p = notes, *end = p + len;

	while (end - p >= 12) {
		uint32_t namesz, descsz, type;
		size_t name_pad, desc_pad;

		memcpy(&namesz, p, 4);
		memcpy(&descsz, p + 4, 4);
		memcpy(&type, p + 8, 4);
		p += 12;
		name_pad = ((size_t)namesz + 3) & ~(size_t)3;
		desc_pad = ((size_t)descsz + 3) & ~(size_t)3;
		if (name_pad > (size_t)(end - p) || desc_pad > (size_t)(end - p - name_pad))
			return -EINVAL;
		if (type == NT_GNU_BUILD_ID && namesz == 4 && !memcmp(p, "GNU", 4) && descsz > 0) {
			if (outlen < (size_t)descsz * 2 + 1)
				return -ENOSPC;
			for (uint32_t i = 0; i < descsz; i++)
				snprintf(out + 2 * i, 3, "%02x", p[name_pad + i]);
			return 0;
		}
		p += name_pad + desc_pad;
	}
	return -ENOENT;
}

static int kernel_build_id(char *out, size_t outlen)
{
	unsigned char buf[4096];
	ssize_t n;
	int fd = open(KERNEL_NOTES, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0)
		return -EIO;
	return ebpf_build_id_from_notes(buf, (size_t)n, out, outlen);
}

static uint64_t fnv1a64(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* <cache>/core-btf/<build id>; NULL when caching is off or impossible. */
static char *cache_dir(void)
{
	const char *base = getenv("SONDE_CACHE_DIR");
	char id[129], *dir;

	if (base && !*base)
		return NULL;
	if (kernel_build_id(id, sizeof(id)))
		return NULL;
	if (asprintf(&dir, "%s/core-btf/%s", base ? base : DEFAULT_CACHE_DIR, id) < 0)
		return NULL;
	return dir;
}

char *ebpf_core_btf_path(const void *image, size_t len)
{
	char *dir = cache_dir(), *path = NULL;

	if (dir && asprintf(&path, "%s/%016llx.btf", dir, (unsigned long long)fnv1a64(image, len)) < 0)
		path = NULL;
	free(dir);
	return path;
}

bool ebpf_core_btf_usable(const char *path)
{
	struct btf *btf;

	if (!path || access(path, R_OK))
		return false;
	btf = btf__parse_raw(path);
	if (!btf) {
		sonde_warn("ebpf: cached CO-RE BTF %s is unreadable; removed", path);
		unlink(path);
		return false;
	}
	btf__free(btf);
	return true;
}

void ebpf_core_btf_invalidate(const char *path)
{
	if (path && unlink(path) == 0)
		sonde_warn("ebpf: removed the cached CO-RE BTF %s; the next run rebuilds it", path);
}

static int mkdir_p(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(path, 0755) && errno != EEXIST) {
			*p = '/';
			return -errno;
		}
		*p = '/';
	}
	return mkdir(path, 0755) && errno != EEXIST ? -errno : 0;
}

static const char *find_bpftool(void)
{
	for (size_t i = 0; bpftool_paths[i]; i++)
		if (access(bpftool_paths[i], X_OK) == 0)
			return bpftool_paths[i];
	return NULL;
}

static int write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	const char *p = data;

	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			int err = -errno;

			close(fd);
			return err;
		}
		p += n;
		len -= (size_t)n;
	}
	return close(fd) ? -errno : 0;
}

/* In the grandchild, which holds no fd of the run (links, rings, stdout):
 * bpftool writes `tmp`, renamed to `final` when complete. */
static void generate_detached(const char *bpftool, const char *obj, const char *tmp, const char *final)
{
	pid_t pid;
	int status;

	util_close_fds_except(-1, -1);
	if (open("/dev/null", O_RDWR) == 0) {
		dup2(0, 1);
		dup2(0, 2);
	}
	pid = fork();
	if (pid == 0) {
		execl(bpftool, bpftool, "gen", "min_core_btf", KERNEL_BTF, tmp, obj, (char *)NULL);
		_exit(127);
	}
	if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		rename(tmp, final);
	unlink(tmp);
	unlink(obj);
}

void ebpf_core_btf_generate(const char *path, const void *image, size_t len)
{
	const char *bpftool = find_bpftool();
	char *dir = NULL, *obj = NULL, *tmp = NULL;
	pid_t pid;

	if (!path || !bpftool || access(path, F_OK) == 0)
		return;
	dir = strndup(path, (size_t)(strrchr(path, '/') - path));
	/* names of this run's own: two runs of one gadget at once (threads of
	 * one process, or two processes) must not write the same files */
	if (asprintf(&obj, "%s.%d.%d.o.tmp", path, (int)getpid(), (int)gettid()) < 0)
		obj = NULL;
	if (asprintf(&tmp, "%s.%d.%d.tmp", path, (int)getpid(), (int)gettid()) < 0)
		tmp = NULL;
	if (!dir || !obj || !tmp)
		goto out;
	if (mkdir_p(dir) || write_file(obj, image, len)) {
		sonde_debug("ebpf: no CO-RE BTF cache in %s: %s", dir, strerror(errno));
		unlink(obj);
		goto out;
	}
	/* Detached (double fork): the run never waits for it, and no zombie stays. */
	pid = fork();
	if (pid == 0) {
		if (fork() == 0) {
			setsid();
			generate_detached(bpftool, obj, tmp, path);
		}
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	sonde_debug("ebpf: generating the CO-RE BTF cache %s", path);
out:
	free(dir);
	free(obj);
	free(tmp);
}
