/* sonde image build: a gadget source directory compiled with the local clang
 * exactly as upstream's builder does (spec §1.7), then assembled into an
 * image (assemble.c) and stored. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sonde/image.h>
#include <sonde/image_build.h>
#include <sonde/log.h>

#include "image/build.h"
#include "util/file.h"

extern char **environ;

#define BUILD_MAX_INPUT (64u << 20) /* an object, a wasm module or a gadget.yaml */

static const char *const default_archs[] = {"amd64", "arm64", NULL};

struct build_ctx {
	const struct sonde_image_build_opts *opts;
	char include_dir[PATH_MAX];
	char out_dir[PATH_MAX];
	bool temp_out;
	char clang[PATH_MAX], strip[PATH_MAX];
};

static void progress(const struct build_ctx *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(const struct build_ctx *b, const char *fmt, ...)
{
	char step[512];
	va_list ap;

	if (!b->opts->progress)
		return;
	va_start(ap, fmt);
	vsnprintf(step, sizeof(step), fmt, ap);
	va_end(ap);
	b->opts->progress(step, b->opts->progress_arg);
}

static bool is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* An executable of that name on PATH (or the path itself if it has a '/'). */
static bool find_program(const char *name, char *out, size_t n)
{
	const char *path = getenv("PATH");

	if (strchr(name, '/')) {
		if (access(name, X_OK) != 0)
			return false;
		snprintf(out, n, "%s", name);
		return true;
	}
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path; *p;) {
		const char *e = strchr(p, ':');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		char cand[PATH_MAX];

		if (len &&
		    (size_t)snprintf(cand, sizeof(cand), "%.*s/%s", (int)len, p, name) < sizeof(cand) &&
		    access(cand, X_OK) == 0 && is_file(cand)) {
			snprintf(out, n, "%s", cand);
			return true;
		}
		p += len + (e ? 1 : 0);
	}
	return false;
}

/* The newest clang-N on PATH (Debian installs several side by side; newer
 * upstream gadgets need 18+), else plain clang. */
static int find_clang(struct build_ctx *b)
{
	const char *path = getenv("PATH");
	int best = -1;
	char name[64], *slash;
	const char *base;

	if (b->opts->clang) {
		if (!find_program(b->opts->clang, b->clang, sizeof(b->clang))) {
			sonde_err("clang \"%s\" not found", b->opts->clang);
			return -ENOENT;
		}
	} else {
		if (!path || !*path)
			path = "/usr/local/bin:/usr/bin:/bin";
		for (const char *p = path; *p;) {
			const char *e = strchr(p, ':');
			size_t len = e ? (size_t)(e - p) : strlen(p);
			char d[PATH_MAX];
			DIR *dir;
			struct dirent *de;

			snprintf(d, sizeof(d), "%.*s", (int)len, p);
			p += len + (e ? 1 : 0);
			dir = len ? opendir(d) : NULL;
			while (dir && (de = readdir(dir))) {
				char *end;
				long v;

				if (strncmp(de->d_name, "clang-", 6) || de->d_name[6] < '1' ||
				    de->d_name[6] > '9')
					continue;
				v = strtol(de->d_name + 6, &end, 10);
				if (*end || v <= best || v > 1000)
					continue;
				best = (int)v;
			}
			if (dir)
				closedir(dir);
		}
		snprintf(name, sizeof(name), best > 0 ? "clang-%d" : "clang", best);
		if (!find_program(name, b->clang, sizeof(b->clang))) {
			sonde_err("no clang found on PATH (install clang, or pass --clang)");
			return -ENOENT;
		}
	}
	/* llvm-strip of the same LLVM: clang-19 → llvm-strip-19 */
	slash = strrchr(b->clang, '/');
	base = slash ? slash + 1 : b->clang;
	if (!strncmp(base, "clang-", 6)) {
		snprintf(name, sizeof(name), "llvm-strip-%.40s", base + 6);
		if (find_program(name, b->strip, sizeof(b->strip)))
			return 0;
	}
	if (!find_program("llvm-strip", b->strip, sizeof(b->strip))) {
		sonde_err("llvm-strip not found on PATH");
		return -ENOENT;
	}
	return 0;
}

static bool is_include_dir(const char *dir)
{
	char p[PATH_MAX];

	return (size_t)snprintf(p, sizeof(p), "%s/gadget/macros.h", dir) < sizeof(p) && is_file(p);
}

/* Sonde's include/: given, next to an installed binary (<prefix>/bin/sonde →
 * <prefix>/include), or the source tree this binary was built from. */
static int find_include_dir(struct build_ctx *b)
{
	char exe[PATH_MAX], cand[PATH_MAX + 32];
	ssize_t n;

	if (b->opts->include_dir) {
		if (!is_include_dir(b->opts->include_dir)) {
			sonde_err("%s has no gadget/macros.h: not Sonde's include directory",
			          b->opts->include_dir);
			return -ENOENT;
		}
		snprintf(b->include_dir, sizeof(b->include_dir), "%s", b->opts->include_dir);
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(cand, sizeof(cand), "%s/../include", exe);
			if (is_include_dir(cand) && realpath(cand, b->include_dir))
				return 0;
		}
	}
#ifdef SONDE_SOURCE_INCLUDE_DIR
	if (is_include_dir(SONDE_SOURCE_INCLUDE_DIR)) {
		snprintf(b->include_dir, sizeof(b->include_dir), "%s", SONDE_SOURCE_INCLUDE_DIR);
		return 0;
	}
#endif
	sonde_err("Sonde's gadget headers (include/gadget) not found next to the binary; pass --include-dir");
	return -ENOENT;
}

/* Runs argv in cwd (NULL: ours); its output goes where ours goes (compiler
 * errors as printed). */
static int run_in(const char *const *argv, const char *cwd)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status, err;

	posix_spawn_file_actions_init(&fa);
	if (cwd)
		posix_spawn_file_actions_addchdir_np(&fa, cwd);
	err = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (err) {
		sonde_err("starting %s: %s", argv[0], strerror(err));
		return -err;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static int run(const char *const *argv)
{
	return run_in(argv, NULL);
}

static const char *target_arch_define(const char *arch)
{
	if (!strcmp(arch, "amd64"))
		return "-D__TARGET_ARCH_x86";
	if (!strcmp(arch, "arm64"))
		return "-D__TARGET_ARCH_arm64";
	return NULL;
}

/* The directory holding vmlinux.h for arch: <include>/gadget/<arch>/ (upstream's
 * layout; Sonde's are made from Debian 12's stock kernel by
 * scripts/make-vmlinux-h.sh), for every arch, the build machine's included:
 * the object then depends on the sources, not on the kernel of the machine
 * that builds, and two machines build the same digest. Only when that header
 * is missing, and for this machine's arch only: the build tree's (generated
 * from this kernel), else one generated now with bpftool from
 * /sys/kernel/btf/vmlinux. 0, or -ENOENT without a message. */
static int vmlinux_dir(struct build_ctx *b, const char *arch, char *out, size_t n)
{
	char p[PATH_MAX + 64], bpftool[PATH_MAX];
	const char *argv[] = {"", "btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c", NULL};
	int fd, saved, rc;

	snprintf(p, sizeof(p), "%s/gadget/%s/vmlinux.h", b->include_dir, arch);
	if (is_file(p) && (size_t)snprintf(out, n, "%s/gadget/%s", b->include_dir, arch) < n)
		return 0;
	if (strcmp(arch, oci_host_arch()))
		return -ENOENT;
#ifdef SONDE_VMLINUX_DIR
	snprintf(p, sizeof(p), "%s/vmlinux.h", SONDE_VMLINUX_DIR);
	if (is_file(p)) {
		snprintf(out, n, "%s", SONDE_VMLINUX_DIR);
		return 0;
	}
#endif
	if (!is_file("/sys/kernel/btf/vmlinux") ||
	    !(find_program("bpftool", bpftool, sizeof(bpftool)) ||
	      find_program("/usr/sbin/bpftool", bpftool, sizeof(bpftool))))
		return -ENOENT;
	if ((size_t)snprintf(out, n, "%s/vmlinux-%s", b->out_dir, arch) >= n)
		return -ENAMETOOLONG;
	if (mkdir(out, 0755) < 0 && errno != EEXIST)
		return -errno;
	snprintf(p, sizeof(p), "%s/vmlinux.h", out);
	if (is_file(p))
		return 0;
	progress(b, "generating vmlinux.h from /sys/kernel/btf/vmlinux");
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	argv[0] = bpftool;
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	dup2(fd, STDOUT_FILENO);
	rc = run(argv);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(fd);
	if (rc != 0) {
		unlink(p);
		sonde_err("bpftool could not write vmlinux.h for this kernel (exit %d)", rc);
		return -EIO;
	}
	return 0;
}

static int compile(struct build_ctx *b, const char *arch, const char *src, char *obj, size_t n)
{
	char vmdir[PATH_MAX], inc[PATH_MAX + 2], vminc[PATH_MAX + 2], sysinc[64], absrc[PATH_MAX];
	char map_src[PATH_MAX + 32], srcdir[PATH_MAX], *slash;
	const char *clang_argv[24], *strip_argv[] = {b->strip, "-g", obj, NULL};
	size_t i = 0;
	int rc;

	if (vmlinux_dir(b, arch, vmdir, sizeof(vmdir)) < 0) {
		sonde_err("no vmlinux.h for %s: put one in %s/gadget/%s/", arch, b->include_dir, arch);
		return -ENOENT;
	}
	snprintf(obj, n, "%s/%s.bpf.o", b->out_dir, arch);
	snprintf(inc, sizeof(inc), "-I%s", b->include_dir);
	snprintf(vminc, sizeof(vminc), "-I%s", vmdir);
	/* asm/types.h and friends of the machine that builds, as upstream */
#if defined(__x86_64__)
	snprintf(sysinc, sizeof(sysinc), "-I/usr/include/x86_64-linux-gnu");
#elif defined(__aarch64__)
	snprintf(sysinc, sizeof(sysinc), "-I/usr/include/aarch64-linux-gnu");
#else
	snprintf(sysinc, sizeof(sysinc), "-I/usr/include");
#endif
	/* The source's path ends up in BTF line info: mapped to "." (upstream's
	 * builder compiles in its mount of the gadget), the same sources give
	 * the same object wherever they are. clang then reads the source lines
	 * it embeds through "./", so it runs in the source's directory. */
	if (!realpath(src, absrc)) {
		sonde_err("%s: %s", src, strerror(errno));
		return -errno;
	}
	slash = strrchr(absrc, '/');
	snprintf(srcdir, sizeof(srcdir), "%.*s", slash == absrc ? 1 : (int)(slash - absrc), absrc);
	snprintf(map_src, sizeof(map_src), "-ffile-prefix-map=%s=.", srcdir);
	clang_argv[i++] = b->clang;
	clang_argv[i++] = "-target";
	clang_argv[i++] = "bpf";
	clang_argv[i++] = "-Wall";
	clang_argv[i++] = "-g";
	clang_argv[i++] = "-O2";
	clang_argv[i++] = target_arch_define(arch);
	clang_argv[i++] = inc;
	clang_argv[i++] = vminc;
	clang_argv[i++] = sysinc;
	clang_argv[i++] = map_src;
	clang_argv[i++] = "-c";
	clang_argv[i++] = absrc;
	clang_argv[i++] = "-o";
	clang_argv[i++] = obj;
	clang_argv[i] = NULL;
	progress(b, "compiling %s eBPF object (%s)", arch,
	         strrchr(b->clang, '/') ? strrchr(b->clang, '/') + 1 : b->clang);
	fflush(stderr);
	rc = run_in(clang_argv, srcdir);
	if (rc != 0) {
		sonde_err("compiling %s for %s failed (%s exit %d)", src, arch, b->clang, rc);
		return rc < 0 ? rc : -EINVAL;
	}
	rc = run(strip_argv);
	if (rc != 0) {
		sonde_err("%s -g %s failed (exit %d)", b->strip, obj, rc);
		return rc < 0 ? rc : -EIO;
	}
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

/* A path relative to the gadget directory (absolute ones as given). */
static int in_dir(const char *dir, const char *name, char *out, size_t n)
{
	int len = name[0] == '/' ? snprintf(out, n, "%s", name) : snprintf(out, n, "%s/%s", dir, name);

	if ((size_t)len >= n) {
		sonde_err("%s/%s: path too long", dir, name);
		return -ENAMETOOLONG;
	}
	return 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && !strcmp(s + ls - lx, suffix);
}

int build_dir(const struct sonde_image_build_opts *opts, struct build_image *out)
{
	struct build_ctx b = {.opts = opts};
	struct build_file bf;
	struct build_object objs[8] = {0};
	struct build_inputs in = {.objects = objs};
	char bfpath[PATH_MAX + 16], src[PATH_MAX], meta[PATH_MAX], wasm[PATH_MAX], created[64];
	const char *const *archs = opts->archs ? opts->archs : default_archs;
	char *config = NULL, *wasm_data = NULL;
	size_t config_len = 0, wasm_len = 0;
	bool have_src, have_meta, explicit_src;
	struct stat st;
	int err;

	memset(out, 0, sizeof(*out));
	if (!opts->dir || stat(opts->dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		sonde_err("%s is not a directory", opts->dir ? opts->dir : "(null)");
		return -ENOTDIR;
	}
	if (opts->build_file)
		err = build_file_read(opts->build_file, false, &bf);
	else {
		snprintf(bfpath, sizeof(bfpath), "%s/build.yaml", opts->dir);
		err = build_file_read(bfpath, true, &bf);
	}
	if (err < 0)
		return err;
	err = build_created_now(created);
	if (err < 0)
		return err;
	explicit_src = strcmp(bf.ebpfsource, "program.bpf.c") != 0;
	if (in_dir(opts->dir, bf.ebpfsource, src, sizeof(src)) < 0 ||
	    in_dir(opts->dir, bf.metadata, meta, sizeof(meta)) < 0)
		return -ENAMETOOLONG;
	have_src = is_file(src);
	have_meta = is_file(meta);
	if (!have_src && explicit_src) {
		sonde_err("eBPF source %s not found", src);
		return -ENOENT;
	}
	wasm[0] = '\0';
	if (bf.wasm[0]) {
		if (!has_suffix(bf.wasm, ".wasm")) {
			sonde_err("wasm \"%s\": only a built .wasm module is supported (build Go or Rust "
			          "sources to wasm first)",
			          bf.wasm);
			return -ENOTSUP;
		}
		if (in_dir(opts->dir, bf.wasm, wasm, sizeof(wasm)) < 0)
			return -ENAMETOOLONG;
		if (!is_file(wasm)) {
			sonde_err("wasm module %s not found", wasm);
			return -ENOENT;
		}
	} else {
		if (in_dir(opts->dir, "program.wasm", wasm, sizeof(wasm)) < 0 || !is_file(wasm))
			wasm[0] = '\0';
	}
	if (!have_src && !have_meta && !wasm[0]) {
		sonde_err("%s has no %s, no %s and no wasm module: nothing to build", opts->dir,
		          bf.ebpfsource, bf.metadata);
		return -ENOENT;
	}
	if (have_src) {
		err = find_clang(&b);
		if (!err)
			err = find_include_dir(&b);
		if (err < 0)
			return err;
	}
	if (opts->output_dir) {
		if (mkdir(opts->output_dir, 0755) < 0 && errno != EEXIST) {
			err = -errno;
			sonde_err("creating %s: %s", opts->output_dir, strerror(errno));
			return err;
		}
		snprintf(b.out_dir, sizeof(b.out_dir), "%s", opts->output_dir);
	} else {
		const char *tmp = getenv("TMPDIR");

		snprintf(b.out_dir, sizeof(b.out_dir), "%s/sonde-build.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(b.out_dir)) {
			err = -errno;
			sonde_err("creating a build directory in %s: %s", tmp && *tmp ? tmp : "/tmp",
			          strerror(errno));
			return err;
		}
		b.temp_out = true;
	}

	/* every architecture asked for is checked before the first compile */
	for (size_t i = 0; have_src && opts->archs && archs[i]; i++) {
		char vmdir[PATH_MAX];

		if (target_arch_define(archs[i]) && vmlinux_dir(&b, archs[i], vmdir, sizeof(vmdir)) < 0) {
			sonde_err("no vmlinux.h for %s: put one in %s/gadget/%s/", archs[i], b.include_dir,
			          archs[i]);
			err = -ENOENT;
			goto out;
		}
	}
	for (size_t i = 0; archs[i]; i++) {
		char obj[PATH_MAX + 32], vmdir[PATH_MAX];
		char *data;
		size_t len;

		if (in.nobjects == sizeof(objs) / sizeof(objs[0]) || !target_arch_define(archs[i])) {
			sonde_err("architecture \"%s\" not supported (amd64, arm64)", archs[i]);
			err = -EINVAL;
			goto out;
		}
		if (!have_src) {
			objs[in.nobjects++].arch = archs[i];
			continue;
		}
		if (!opts->archs && vmlinux_dir(&b, archs[i], vmdir, sizeof(vmdir)) < 0) {
			sonde_log(
			    SONDE_LOG_INFO,
			    "%s skipped: no vmlinux.h for it (put one in %s/gadget/%s/ and pass --arch)",
			    archs[i], b.include_dir, archs[i]);
			progress(&b, "skipping %s: no vmlinux.h for it in %s/gadget/%s/", archs[i],
			         b.include_dir, archs[i]);
			continue;
		}
		err = compile(&b, archs[i], src, obj, sizeof(obj));
		if (err < 0)
			goto out;
		err = util_read_file(obj, BUILD_MAX_INPUT, &data, &len);
		if (err < 0) {
			sonde_err("reading %s: %s", obj, strerror(-err));
			goto out;
		}
		objs[in.nobjects].arch = archs[i];
		objs[in.nobjects].data = data;
		objs[in.nobjects++].len = len;
	}
	if (!in.nobjects) {
		sonde_err("no architecture to build for");
		err = -EINVAL;
		goto out;
	}
	if (have_meta) {
		err = util_read_file(meta, BUILD_MAX_INPUT, &config, &config_len);
		if (err < 0) {
			sonde_err("reading %s: %s", meta, strerror(-err));
			goto out;
		}
		in.config = config;
		in.config_len = config_len;
	}
	if (wasm[0]) {
		err = util_read_file(wasm, BUILD_MAX_INPUT, &wasm_data, &wasm_len);
		if (err < 0) {
			sonde_err("reading %s: %s", wasm, strerror(-err));
			goto out;
		}
		in.wasm = wasm_data;
		in.wasm_len = wasm_len;
	}
	in.created = created;
	progress(&b, "packing image");
	err = build_image_assemble(&in, out);
out:
	for (size_t i = 0; i < in.nobjects; i++)
		free((void *)objs[i].data);
	free(config);
	free(wasm_data);
	if (b.temp_out)
		nftw(b.out_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return err;
}

int sonde_image_build(const struct sonde_image_build_opts *opts, char digest_out[72], char *ref_out,
                      size_t ref_len)
{
	struct build_image img;
	struct oci_store *s = NULL;
	char store_dir[PATH_MAX], ref[1024] = "";
	int err;

	if (!opts || opts->sz < sizeof(*opts)) {
		sonde_err("sonde_image_build: options of an unknown size");
		return -EINVAL;
	}
	if (opts->tag) {
		struct sonde_image_ref r;

		err = sonde_image_ref_parse(opts->tag, &r);
		if (err < 0)
			return err;
		if (!r.tag[0]) {
			sonde_err("\"%s\": a build is tagged with a name, not a digest", opts->tag);
			return -EINVAL;
		}
		err = sonde_image_ref_format(&r, ref, sizeof(ref));
		if (err < 0)
			return err;
	}
	if (opts->store_dir)
		snprintf(store_dir, sizeof(store_dir), "%s", opts->store_dir);
	else if ((err = sonde_image_store_default_dir(store_dir, sizeof(store_dir))) < 0)
		return err;
	err = build_dir(opts, &img);
	if (err < 0)
		return err;
	err = oci_store_open(store_dir, 0, &s);
	if (err < 0)
		goto out;
	err = oci_store_lock(s, OCI_STORE_LOCK_TIMEOUT_MS);
	if (err < 0)
		goto out;
	err = build_image_put(s, &img);
	if (!err && ref[0]) {
		err = oci_descriptor_set_annotation(&img.index, SONDE_ANN_BUILT_HERE, "true");
		if (!err)
			err = oci_store_tag(s, ref, &img.index);
	}
	oci_store_unlock(s);
	if (err < 0)
		goto out;
	if (digest_out)
		snprintf(digest_out, 72, "%s", img.index.digest);
	if (ref_out && ref_len)
		snprintf(ref_out, ref_len, "%s", ref);
out:
	oci_store_close(s);
	build_image_clear(&img);
	return err;
}
