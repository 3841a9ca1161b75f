/* A private containerd with its CRI plugin for integration tests (see
 * containerd_env.h). Commands run with a deadline and are killed by pid when
 * they pass it; containerd is stopped by its pid. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <sonde/log.h>

#include "containers/grpc_client.h"
#include "cri_runtime_v1.pb-c.h"
#include "containerd_env.h"
#include "oci_rootfs.h"

#define DIR_PREFIX      "/tmp/sonde-ctrd-"
#define CMD_TIMEOUT_MS  30000
#define BOOT_TIMEOUT_MS 20000
#define CRI_TIMEOUT_MS  10000
#define STOP_TIMEOUT_MS 5000

/* SONDE_TEST_VERBOSE=1: how long each step took, for tuning the tests. */
static void verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void verbose(const char *fmt, ...)
{
	va_list ap;

	if (!getenv("SONDE_TEST_VERBOSE"))
		return;
	va_start(ap, fmt);
	fprintf(stderr, "[containerd_env] ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- commands ---- */

static void append(char **buf, size_t *len, const char *data, size_t n)
{
	char *nb = realloc(*buf, *len + n + 1);

	if (!nb)
		abort();
	memcpy(nb + *len, data, n);
	*len += n;
	nb[*len] = 0;
	*buf = nb;
}

/* Runs argv with stdin from /dev/null, collecting stdout and stderr, killed
 * (by its pid) after timeout_ms. Returns the exit status, 128+signal, or -1
 * if it could not run. */
static int run_capture(const char *const *argv, char **out, char **err, int timeout_ms)
{
	int po[2], pe[2], st = 0;
	char *bufs[2] = {NULL, NULL};
	size_t lens[2] = {0, 0};
	int64_t deadline = test_now_ms() + timeout_ms;
	bool exited = false, killed = false;
	pid_t pid;

	if (pipe2(po, O_CLOEXEC))
		return -1;
	if (pipe2(pe, O_CLOEXEC)) {
		close(po[0]);
		close(po[1]);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		close(po[0]);
		close(po[1]);
		close(pe[0]);
		close(pe[1]);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null >= 0)
			dup2(null, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
	while (fds[0].fd >= 0 || fds[1].fd >= 0) {
		int64_t left = deadline - test_now_ms();
		char chunk[8192];

		/* never once reaped: the pid may be another process's by now */
		if (left <= 0 && !killed && !exited) {
			kill(pid, SIGKILL);
			killed = true;
			deadline = test_now_ms() + 1000; /* what a grandchild keeps open */
			continue;
		}
		if (left <= 0)
			break;
		if (poll(fds, 2, (int)(left > 200 ? 200 : left)) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			ssize_t r;

			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(fds[i].fd, chunk, sizeof(chunk));
			if (r > 0) {
				append(&bufs[i], &lens[i], chunk, (size_t)r);
			} else if (r == 0 || errno != EINTR) {
				close(fds[i].fd);
				fds[i].fd = -1;
			}
		}
		/* a daemonized grandchild may hold the pipes: the child's exit ends it */
		if (!exited && waitpid(pid, &st, WNOHANG) == pid) {
			exited = true;
			if (deadline > test_now_ms() + 500)
				deadline = test_now_ms() + 500;
		}
	}
	for (int i = 0; i < 2; i++)
		if (fds[i].fd >= 0)
			close(fds[i].fd);
	if (!exited && waitpid(pid, &st, 0) != pid)
		st = -1;
	if (!bufs[0])
		append(&bufs[0], &lens[0], "", 0);
	if (!bufs[1])
		append(&bufs[1], &lens[1], "", 0);
	if (out)
		*out = bufs[0];
	else
		free(bufs[0]);
	if (err)
		*err = bufs[1];
	else
		free(bufs[1]);
	if (st == -1)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void print_argv(FILE *f, const char *const *argv)
{
	for (size_t i = 0; argv[i]; i++)
		fprintf(f, "%s%s", i ? " " : "", argv[i]);
}

/* run_capture that reports a failure with the command and its output. */
static int run_checked(const char *const *argv, char **out, int timeout_ms)
{
	char *o = NULL, *er = NULL;
	int rc = run_capture(argv, &o, &er, timeout_ms);

	if (rc != 0) {
		fprintf(stderr, "command failed (%s): ",
		        rc < 0      ? "could not run"
		        : rc >= 128 ? "killed"
		                    : "exit status");
		print_argv(stderr, argv);
		fprintf(stderr, " -> %d\n%s%s", rc, er ? er : "", o && *o ? o : "");
	}
	if (out)
		*out = o;
	else
		free(o);
	free(er);
	return rc;
}

static bool have_cmd(const char *const *argv)
{
	return run_capture(argv, NULL, NULL, 10000) == 0;
}

/* ---- files ---- */

static int mkdir_in(const char *base, const char *sub)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", base, sub);
	if (mkdir(path, 0755) && errno != EEXIST) {
		fprintf(stderr, "cannot create %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* "sha256:<hex>" of a file. */
static int sha256_file(const char *path, char *digest, size_t sz)
{
	unsigned char md[EVP_MAX_MD_SIZE], buf[65536];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	FILE *f = fopen(path, "rb");
	size_t n;
	int ok;

	if (!f || !ctx) {
		fprintf(stderr, "cannot hash %s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		EVP_MD_CTX_free(ctx);
		return -1;
	}
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while (ok && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		ok = EVP_DigestUpdate(ctx, buf, n);
	ok = ok && !ferror(f) && EVP_DigestFinal_ex(ctx, md, &mdlen);
	fclose(f);
	EVP_MD_CTX_free(ctx);
	if (!ok || sz < 7 + 2 * mdlen + 1)
		return -1;
	strcpy(digest, "sha256:");
	for (unsigned int i = 0; i < mdlen; i++)
		sprintf(digest + 7 + 2 * i, "%02x", md[i]);
	return 0;
}

/* ---- images ---- */

static const char *oci_arch(void)
{
	static struct utsname u;

	if (uname(&u))
		return "amd64";
	if (!strcmp(u.machine, "x86_64"))
		return "amd64";
	if (!strcmp(u.machine, "aarch64"))
		return "arm64";
	return u.machine;
}

/* Moves file (a blob) to layout/blobs/sha256/<hex> and names it. */
static int add_blob_file(const char *layout, const char *file, char *digest, size_t dsz, long long *size)
{
	char dst[512];
	struct stat st;

	if (sha256_file(file, digest, dsz) || stat(file, &st))
		return -1;
	*size = (long long)st.st_size;
	snprintf(dst, sizeof(dst), "%s/blobs/sha256/%s", layout, digest + 7);
	if (rename(file, dst)) {
		fprintf(stderr, "cannot move %s to %s: %s\n", file, dst, strerror(errno));
		return -1;
	}
	return 0;
}

/* Serializes j once: a blob's digest is of these exact bytes. */
static int add_blob_json(const char *layout, json_t *j, char *digest, size_t dsz, long long *size)
{
	char tmp[512];
	char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	int rc;

	if (!text)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s/blob.tmp", layout);
	rc = test_write_file(tmp, text);
	free(text);
	return rc ? rc : add_blob_file(layout, tmp, digest, dsz, size);
}

/* An OCI image of rootfs (one uncompressed layer) packed as an oci-archive
 * at img->archive; `entrypoint` and `cmd` are NULL-terminated or NULL. The
 * index carries io.containerd.image.name (what `ctr images import` names the
 * image) and org.opencontainers.image.ref.name (the tag). */
static int pack_image(const char *work, const char *rootfs, const char *name, const char *const *entrypoint,
                      const char *const *cmd, struct ctrd_image *img)
{
	char layout[180], layer[200], diff_id[72], path[512];
	const char *tag = strrchr(name, ':');
	long long layer_size, cfg_size, man_size;
	json_t *cfg, *ccfg, *man, *desc, *index;
	int rc;

	snprintf(img->name, sizeof(img->name), "%s", name);
	snprintf(layout, sizeof(layout), "%s/oci-%s", work,
	         strrchr(name, '/') ? strrchr(name, '/') + 1 : name);
	if (strrchr(layout, ':'))
		*strrchr(layout, ':') = 0;
	if (mkdir(layout, 0755) || mkdir_in(layout, "blobs") || mkdir_in(layout, "blobs/sha256")) {
		fprintf(stderr, "cannot create the OCI layout %s\n", layout);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/oci-layout", layout);
	if (test_write_file(path, "{\"imageLayoutVersion\":\"1.0.0\"}"))
		return -1;

	/* fixed owners and times: the same rootfs always gives the same digests */
	snprintf(layer, sizeof(layer), "%s/layer.tar", layout);
	const char *tar[] = {"tar", "--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner",
	                     "-C",  rootfs,        "-cf",        layer,       ".",         NULL};
	if (run_checked(tar, NULL, CMD_TIMEOUT_MS))
		return -1;
	if (add_blob_file(layout, layer, diff_id, sizeof(diff_id), &layer_size))
		return -1;

	ccfg =
	    json_pack("{s:[s],s:s}", "Env",
	              "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "WorkingDir", "/");
	for (int k = 0; k < 2; k++) {
		const char *const *list = k ? cmd : entrypoint;
		json_t *arr;

		if (!list)
			continue;
		arr = json_array();
		for (size_t i = 0; list[i]; i++)
			json_array_append_new(arr, json_string(list[i]));
		json_object_set_new(ccfg, k ? "Cmd" : "Entrypoint", arr);
	}
	cfg = json_pack("{s:s,s:s,s:s,s:o,s:{s:s,s:[s]},s:[{s:s,s:s}]}", "architecture", oci_arch(), "os",
	                "linux", "created", "1970-01-01T00:00:00Z", "config", ccfg, "rootfs", "type",
	                "layers", "diff_ids", diff_id, "history", "created", "1970-01-01T00:00:00Z",
	                "created_by", "sonde tests (containerd_env.c)");
	rc = add_blob_json(layout, cfg, img->config_digest, sizeof(img->config_digest), &cfg_size);
	json_decref(cfg);
	if (rc)
		return -1;

	man = json_pack("{s:i,s:s,s:{s:s,s:s,s:I},s:[{s:s,s:s,s:I}]}", "schemaVersion", 2, "mediaType",
	                "application/vnd.oci.image.manifest.v1+json", "config", "mediaType",
	                "application/vnd.oci.image.config.v1+json", "digest", img->config_digest, "size",
	                (json_int_t)cfg_size, "layers", "mediaType", "application/vnd.oci.image.layer.v1.tar",
	                "digest", diff_id, "size", (json_int_t)layer_size);
	rc = add_blob_json(layout, man, img->manifest_digest, sizeof(img->manifest_digest), &man_size);
	json_decref(man);
	if (rc)
		return -1;

	desc = json_pack("{s:s,s:s,s:I,s:{s:s,s:s},s:{s:s,s:s}}", "mediaType",
	                 "application/vnd.oci.image.manifest.v1+json", "digest", img->manifest_digest, "size",
	                 (json_int_t)man_size, "annotations", "io.containerd.image.name", name,
	                 "org.opencontainers.image.ref.name", tag ? tag + 1 : "latest", "platform",
	                 "architecture", oci_arch(), "os", "linux");
	index = json_pack("{s:i,s:s,s:[o]}", "schemaVersion", 2, "mediaType",
	                  "application/vnd.oci.image.index.v1+json", "manifests", desc);
	snprintf(path, sizeof(path), "%s/index.json", layout);
	rc = !index || json_dump_file(index, path, JSON_COMPACT);
	json_decref(index);
	if (rc) {
		fprintf(stderr, "cannot write %s\n", path);
		return -1;
	}
	snprintf(img->archive, sizeof(img->archive), "%s.tar", layout);
	const char *pack[] = {"tar",        "-C",         layout,  "-cf", img->archive,
	                      "oci-layout", "index.json", "blobs", NULL};
	return run_checked(pack, NULL, CMD_TIMEOUT_MS) ? -1 : 0;
}

static int make_busybox_rootfs(const char *rootfs)
{
	/* what the tests' containers and pods run, and a few a shell in one may want */
	static const char *const applets[] = {"sh",    "cat", "sleep", "true", "echo",     "ls",  "touch",
	                                      "mkdir", "rm",  "id",    "ps",   "readlink", "env", "hostname",
	                                      "grep",  "wc",  "head",  "kill", NULL};

	return oci_rootfs_busybox(rootfs, applets);
}

static int make_pause_rootfs(const char *rootfs)
{
	char bin[512];

	if (mkdir(rootfs, 0755) || mkdir_in(rootfs, "proc") || mkdir_in(rootfs, "dev") ||
	    mkdir_in(rootfs, "sys")) {
		fprintf(stderr, "cannot create %s\n", rootfs);
		return -1;
	}
	snprintf(bin, sizeof(bin), "%s/pause", rootfs);
	const char *cc[] = {"gcc", "-static", "-O2", "-o", bin, SONDE_SOURCE_DIR "/tests/images/pause.c",
	                    NULL};
	return run_checked(cc, NULL, CMD_TIMEOUT_MS) ? -1 : 0;
}

/* ---- envs alive in this process (stopped at exit) ---- */

static void owner_id(pid_t pid, char *buf, size_t sz);
static void reclaim_stale_envs(void);

static struct ctrd_env *live[4];

static void stop_all_at_exit(void)
{
	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		if (live[i])
			ctrd_env_stop(live[i]);
}

static void track_env(struct ctrd_env *e, bool on)
{
	static bool registered;

	if (on && !registered) {
		atexit(stop_all_at_exit);
		registered = true;
	}
	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++) {
		if (on && !live[i]) {
			live[i] = e;
			return;
		}
		if (!on && live[i] == e)
			live[i] = NULL;
	}
}

static void track(char list[][72], int *n, const char *id)
{
	for (int i = 0; i < *n; i++)
		if (!strcmp(list[i], id))
			return;
	if (*n < CTRD_MAX_TRACKED)
		snprintf(list[(*n)++], 72, "%s", id);
}

static void untrack(char list[][72], int *n, const char *id)
{
	for (int i = 0; i < *n; i++)
		if (!strcmp(list[i], id)) {
			memmove(list[i], list[i + 1], (size_t)(*n - i - 1) * 72);
			(*n)--;
			return;
		}
}

/* ---- containerd ---- */

void ctrd_require(void)
{
	const char *cd[] = {"containerd", "--version", NULL};
	const char *ctr[] = {"ctr", "--version", NULL};

	test_require_root();
	if (!have_cmd(cd) || !have_cmd(ctr))
		test_skip_dep("needs containerd and ctr (scripts/install-deps.sh)");
}

struct ctrd_env *ctrd_env_setup(void)
{
	struct ctrd_env *e;

	ctrd_require();
	e = ctrd_env_start();
	if (!e) {
		fprintf(stderr, "the private containerd did not come up\n");
		test_failures++;
	}
	return e;
}

/* The rest of what the images need is no reason to skip: a host with
 * containerd but without them is set up wrong, and says what is missing. */
static int check_tools(void)
{
	const char *runc[] = {"runc", "--version", NULL};
	const char *gcc[] = {"gcc", "--version", NULL};
	int bad = 0;

	if (access("/bin/busybox", X_OK)) {
		fprintf(stderr, "no /bin/busybox: install busybox-static (scripts/install-deps.sh)\n");
		bad = -1;
	}
	if (!have_cmd(runc)) {
		fprintf(stderr, "no runc, which containerd's shim runs (scripts/install-deps.sh)\n");
		bad = -1;
	}
	if (!have_cmd(gcc)) {
		fprintf(stderr, "no gcc to build the static pause program (build-essential)\n");
		bad = -1;
	}
	return bad;
}

void ctrd_env_dump_log(const struct ctrd_env *e, int lines)
{
	size_t len = 0;
	char *text = e->log[0] ? test_read_file(e->log, &len) : NULL;
	const char *p;
	int seen = 0;

	if (!text)
		return;
	for (p = text + len; p > text; p--)
		if (p[-1] == '\n' && p != text + len && ++seen > lines)
			break;
	fprintf(stderr, "--- last lines of %s ---\n%s--- end of containerd log ---\n", e->log, p);
	free(text);
}

static bool containerd_alive(struct ctrd_env *e)
{
	int st;

	if (e->pid <= 0)
		return false;
	if (waitpid(e->pid, &st, WNOHANG) == e->pid) {
		fprintf(stderr, "containerd (pid %d) exited: %s %d\n", (int)e->pid,
		        WIFEXITED(st) ? "status" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		e->pid = 0;
		return false;
	}
	return true;
}

static int write_config(const struct ctrd_env *e, const char *path)
{
	char text[2048];

	/* The CRI part follows this VM: no CAP_SYS_RESOURCE, so a pod's negative
	 * oom_score_adj must be clamped (restrict_oom_score_adj), and pods use the
	 * host network (an empty CNI conf_dir). The opt plugin would otherwise
	 * create /opt/containerd. */
	snprintf(text, sizeof(text),
	         "version = 2\n"
	         "root = \"%1$s/root\"\n"
	         "state = \"%1$s/state\"\n"
	         "disabled_plugins = [\"io.containerd.snapshotter.v1.devmapper\", "
	         "\"io.containerd.snapshotter.v1.zfs\", \"io.containerd.snapshotter.v1.btrfs\", "
	         "\"io.containerd.snapshotter.v1.aufs\"]\n"
	         "[grpc]\n"
	         "  address = \"%2$s\"\n"
	         "[ttrpc]\n"
	         "  address = \"%2$s.ttrpc\"\n"
	         "[plugins.\"io.containerd.internal.v1.opt\"]\n"
	         "  path = \"%1$s/opt\"\n"
	         "[plugins.\"io.containerd.grpc.v1.cri\"]\n"
	         "  sandbox_image = \"%3$s\"\n"
	         "  restrict_oom_score_adj = true\n"
	         "  [plugins.\"io.containerd.grpc.v1.cri\".cni]\n"
	         "    bin_dir = \"/usr/lib/cni\"\n"
	         "    conf_dir = \"%1$s/cni\"\n",
	         e->dir, e->socket, CTRD_PAUSE_IMAGE);
	return test_write_file(path, text);
}

static int start_daemon(struct ctrd_env *e, const char *config)
{
	pid_t parent = getpid();
	int64_t t0 = test_now_ms(), deadline = t0 + BOOT_TIMEOUT_MS;
	const char *version[] = {"ctr", "--address", e->socket, "version", NULL};
	int logfd = open(e->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (logfd < 0) {
		fprintf(stderr, "cannot create %s: %s\n", e->log, strerror(errno));
		return -1;
	}
	e->pid = fork();
	if (e->pid < 0) {
		fprintf(stderr, "fork: %s\n", strerror(errno));
		e->pid = 0;
		close(logfd);
		return -1;
	}
	if (e->pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		/* a test that dies without cleaning up does not leave a daemon behind */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		/* a terminal's Ctrl-C is for the test, whose cleanup (or death) ends containerd */
		setpgid(0, 0);
		if (null >= 0)
			dup2(null, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		execlp("containerd", "containerd", "--config", config, (char *)NULL);
		_exit(127);
	}
	close(logfd);
	while (access(e->socket, F_OK) || run_capture(version, NULL, NULL, 5000) != 0) {
		if (!containerd_alive(e)) {
			fprintf(stderr, "containerd did not start\n");
			ctrd_env_dump_log(e, 30);
			return -1;
		}
		if (test_now_ms() > deadline) {
			fprintf(stderr, "containerd (pid %d) did not answer on %s within %d ms\n",
			        (int)e->pid, e->socket, BOOT_TIMEOUT_MS);
			ctrd_env_dump_log(e, 30);
			return -1;
		}
		usleep(20 * 1000);
	}
	verbose("containerd (pid %d) up in %lld ms", (int)e->pid, (long long)(test_now_ms() - t0));
	return 0;
}

int ctrd_ctr(const struct ctrd_env *e, const char *ns, const char *const *args, char **out)
{
	const char *argv[48] = {"ctr", "--address", e->socket, "-n", ns};
	size_t n = 5;

	for (size_t i = 0; args[i] && n < sizeof(argv) / sizeof(argv[0]) - 1; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return run_checked(argv, out, CMD_TIMEOUT_MS);
}

static int import_image(struct ctrd_env *e, const char *ns, const struct ctrd_image *img)
{
	const char *args[] = {"images", "import", img->archive, NULL};
	const char *check[] = {"images", "ls", "-q", NULL};
	char *out = NULL;
	int rc = ctrd_ctr(e, ns, args, NULL);

	if (rc)
		return -1;
	/* an import that named nothing (an annotation containerd did not take) would fail later, obscurely */
	rc = ctrd_ctr(e, ns, check, &out);
	if (!rc && (!out || !strstr(out, img->name))) {
		fprintf(stderr, "ctr images import %s into %s did not create %s; images there:\n%s",
		        img->archive, ns, img->name, out ? out : "");
		rc = -1;
	}
	free(out);
	return rc ? -1 : 0;
}

struct ctrd_env *ctrd_env_start(void)
{
	struct ctrd_env *e;
	char work[128], rootfs[160], config[128];
	const char *pause_ep[] = {"/pause", NULL};
	const char *sh[] = {"/bin/sh", NULL};
	int64_t t0 = test_now_ms();
	char owner[96], owner_text[64];

	reclaim_stale_envs();
	e = calloc(1, sizeof(*e));
	if (!e)
		abort();
	track_env(e, true);
	snprintf(e->dir, sizeof(e->dir), DIR_PREFIX "XXXXXX");
	if (!mkdtemp(e->dir)) {
		fprintf(stderr, "mkdtemp %s: %s\n", e->dir, strerror(errno));
		e->dir[0] = 0;
		ctrd_env_stop(e);
		return NULL;
	}
	snprintf(owner, sizeof(owner), "%s/owner", e->dir);
	owner_id(getpid(), owner_text, sizeof(owner_text));
	if (test_write_file(owner, owner_text))
		goto fail;
	snprintf(e->socket, sizeof(e->socket), "%s/c.sock", e->dir);
	snprintf(e->log, sizeof(e->log), "%s/containerd.log", e->dir);
	snprintf(e->logdir, sizeof(e->logdir), "%s/podlogs", e->dir);
	snprintf(work, sizeof(work), "%s/images", e->dir);
	snprintf(config, sizeof(config), "%s/containerd.toml", e->dir);
	if (check_tools() || mkdir_in(e->dir, "images") || mkdir_in(e->dir, "cni") ||
	    mkdir_in(e->dir, "podlogs"))
		goto fail;

	snprintf(rootfs, sizeof(rootfs), "%s/busybox-rootfs", work);
	if (make_busybox_rootfs(rootfs) ||
	    pack_image(work, rootfs, CTRD_BUSYBOX_IMAGE, NULL, sh, &e->busybox))
		goto fail;
	snprintf(rootfs, sizeof(rootfs), "%s/pause-rootfs", work);
	if (make_pause_rootfs(rootfs) ||
	    pack_image(work, rootfs, CTRD_PAUSE_IMAGE, pause_ep, NULL, &e->pause))
		goto fail;
	int64_t t_images = test_now_ms();

	if (write_config(e, config) || start_daemon(e, config))
		goto fail;
	int64_t t_up = test_now_ms();
	if (import_image(e, "k8s.io", &e->pause) || import_image(e, "k8s.io", &e->busybox) ||
	    import_image(e, "default", &e->busybox))
		goto fail;
	verbose("%s: images built in %lld ms, containerd up in %lld ms, imported in %lld ms", e->dir,
	        (long long)(t_images - t0), (long long)(t_up - t_images), (long long)(test_now_ms() - t_up));
	return e;
fail:
	fprintf(stderr, "cannot set up the private containerd in %s\n", e->dir);
	ctrd_env_stop(e);
	return NULL;
}

/* The ids `ctr tasks ls -q` / `containers ls -q` print, one per line. */
static int list_ids(const struct ctrd_env *e, const char *ns, const char *what, char ids[][80], int max)
{
	const char *args[] = {what, "ls", "-q", NULL};
	char *out = NULL, *save = NULL, *line;
	int n = 0;

	if (ctrd_ctr(e, ns, args, &out)) {
		free(out);
		return -1;
	}
	for (line = strtok_r(out, "\n", &save); line && n < max; line = strtok_r(NULL, "\n", &save))
		if (*line)
			snprintf(ids[n++], 80, "%s", line);
	free(out);
	return n;
}

/* Kills every task and deletes every container of the namespace: the daemon
 * is private, so all of it is this test's. */
static void sweep_namespace(struct ctrd_env *e, const char *ns)
{
	char ids[64][80];
	int n = list_ids(e, ns, "containers", ids, 64);

	for (int i = 0; i < n; i++)
		ctrd_remove(e, ns, ids[i]);
}

/* Unescapes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape_mount(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
		    s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = 0;
}

/* Unmounts every mount under dir, the most recent first; returns how many
 * were left. */
static int unmount_under(const char *dir)
{
	size_t dlen = strlen(dir);
	int left = 0;

	for (int pass = 0; pass < 4; pass++) {
		char *text = test_read_file("/proc/self/mountinfo", NULL), *save = NULL, *line;
		char *mounts[256];
		int n = 0;

		if (!text)
			return -1;
		for (line = strtok_r(text, "\n", &save); line && n < 256;
		     line = strtok_r(NULL, "\n", &save)) {
			char mp[4096];

			if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
				continue;
			unescape_mount(mp);
			if (!strncmp(mp, dir, dlen) && (mp[dlen] == '/' || mp[dlen] == 0))
				mounts[n++] = strdup(mp);
		}
		free(text);
		left = 0;
		for (int i = n - 1; i >= 0; i--) {
			if (mounts[i] && umount2(mounts[i], MNT_DETACH) && errno != EINVAL &&
			    errno != ENOENT) {
				fprintf(stderr, "cannot unmount %s: %s\n", mounts[i], strerror(errno));
				left++;
			}
			free(mounts[i]);
		}
		if (n == 0 || left)
			break;
	}
	return left;
}

/* Nothing is deleted under a mount that would not go: it could be a bind
 * mount of anything. */
static void remove_dir(const char *dir)
{
	int left = unmount_under(dir);

	if (left) {
		fprintf(stderr, "%s is left in place: %d mounts under it would not unmount\n", dir, left);
		return;
	}
	test_rm_tree(dir, DIR_PREFIX);
}

/* Processes whose command line has an argument equal to `arg` and whose
 * argv[0] contains `prog`: the shims and the containerd of one env name its
 * socket or config, which live in that env's unique temp dir. */
static int find_procs(const char *prog, const char *arg, pid_t *pids, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		char path[64], *cmdline;
		size_t len = 0;
		bool match = false;
		long pid = strtol(de->d_name, NULL, 10);

		if (pid <= 1 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
		cmdline = test_read_file(path, &len);
		if (!cmdline)
			continue;
		if (len && strstr(cmdline, prog))
			for (size_t off = strlen(cmdline) + 1; off < len; off += strlen(cmdline + off) + 1)
				match |= !strcmp(cmdline + off, arg);
		free(cmdline);
		if (match)
			pids[n++] = (pid_t)pid;
	}
	closedir(d);
	return n;
}

/* A zombie has ended: a shim's parent (PID 1 here) may reap it late. */
static bool running(pid_t pid)
{
	char path[64], *stat, *p;
	bool up;

	waitpid(pid, NULL, WNOHANG); /* a containerd of this process */
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	stat = test_read_file(path, NULL);
	p = stat ? strrchr(stat, ')') : NULL;
	up = p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
	free(stat);
	return up;
}

/* SIGTERM, then SIGKILL for what is still running after a second. */
static void end_procs(const pid_t *pids, int n, const char *what)
{
	int64_t deadline = test_now_ms() + 1000;

	for (int i = 0; i < n; i++) {
		fprintf(stderr, "stopping the leftover %s, pid %d\n", what, (int)pids[i]);
		kill(pids[i], SIGTERM);
	}
	for (int i = 0; i < n; i++) {
		while (running(pids[i]) && test_now_ms() < deadline)
			usleep(20 * 1000);
		if (running(pids[i]))
			kill(pids[i], SIGKILL);
	}
}

/* What a dead or killed containerd leaves: its containers (runc checks the
 * pid and start time it recorded before it kills), their shims and any
 * containerd still up, found by this env's socket and config paths; then its
 * mounts and files. */
static void reap_dir(const char *dir)
{
	char path[256], sock[160], config[160];
	pid_t pids[64];
	DIR *nsdir;
	struct dirent *ns;
	int n;

	snprintf(config, sizeof(config), "%s/containerd.toml", dir);
	n = find_procs("containerd", config, pids, 64);
	end_procs(pids, n, "containerd");
	snprintf(path, sizeof(path), "%s/state/io.containerd.runtime.v2.task", dir);
	nsdir = opendir(path);
	while (nsdir && (ns = readdir(nsdir))) {
		char tasks[512], root[300];
		DIR *d;
		struct dirent *de;

		if (ns->d_name[0] == '.')
			continue;
		snprintf(tasks, sizeof(tasks), "%s/%s", path, ns->d_name);
		snprintf(root, sizeof(root), "/run/containerd/runc/%s", ns->d_name);
		d = opendir(tasks);
		while (d && (de = readdir(d))) {
			const char *del[] = {"runc", "--root", root, "delete", "-f", de->d_name, NULL};

			if (de->d_name[0] != '.')
				run_capture(del, NULL, NULL, 10000);
		}
		if (d)
			closedir(d);
	}
	if (nsdir)
		closedir(nsdir);
	snprintf(sock, sizeof(sock), "%s/c.sock", dir);
	n = find_procs("containerd-shim", sock, pids, 64);
	end_procs(pids, n, "containerd shim");
	remove_dir(dir);
}

/* "pid starttime" of this process: a pid alone may have been reused. */
static void owner_id(pid_t pid, char *buf, size_t sz)
{
	char path[64], *stat, *p;
	unsigned long long start = 0;

	buf[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	stat = test_read_file(path, NULL);
	p = stat ? strrchr(stat, ')') : NULL;
	/* field 22 is starttime; p is at the end of field 2 */
	if (p &&
	    sscanf(p + 1, " %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
	           &start) == 1)
		snprintf(buf, sz, "%d %llu", (int)pid, start);
	free(stat);
}

/* Envs of test processes that died (SIGKILL at a ctest timeout, a crash)
 * without their atexit cleanup. An env whose owner still runs is left alone,
 * so tests of other processes can run at the same time. */
static void reclaim_stale_envs(void)
{
	DIR *d = opendir("/tmp");
	struct dirent *de;

	while (d && (de = readdir(d))) {
		char dir[300], path[320], now[64], *owner;
		struct stat st;
		bool stale;

		if (strncmp(de->d_name, "sonde-ctrd-", 11))
			continue;
		snprintf(dir, sizeof(dir), "/tmp/%s", de->d_name);
		snprintf(path, sizeof(path), "%s/owner", dir);
		owner = test_read_file(path, NULL);
		if (owner) {
			owner_id((pid_t)strtol(owner, NULL, 10), now, sizeof(now));
			stale = strcmp(owner, now) != 0;
		} else {
			/* the owner file is written right after mkdtemp */
			stale = stat(dir, &st) == 0 && st.st_mtime < time(NULL) - 60;
		}
		free(owner);
		if (stale) {
			fprintf(stderr, "cleaning up %s, left by a test that died\n", dir);
			reap_dir(dir);
		}
	}
	if (d)
		closedir(d);
}

static void stop_daemon(struct ctrd_env *e)
{
	int64_t deadline;
	int st;

	if (e->pid <= 0)
		return;
	kill(e->pid, SIGTERM);
	deadline = test_now_ms() + STOP_TIMEOUT_MS;
	for (;;) {
		pid_t r = waitpid(e->pid, &st, WNOHANG);

		if (r == e->pid || (r < 0 && errno == ECHILD))
			break;
		if (test_now_ms() > deadline) {
			fprintf(stderr, "containerd (pid %d) ignored SIGTERM for %d ms: SIGKILL\n",
			        (int)e->pid, STOP_TIMEOUT_MS);
			kill(e->pid, SIGKILL);
			waitpid(e->pid, &st, 0);
			break;
		}
		usleep(20 * 1000);
	}
	e->pid = 0;
}

void ctrd_env_stop(struct ctrd_env *e)
{
	static const char *const namespaces[] = {"k8s.io", "default"};
	int64_t t0 = test_now_ms();

	if (!e)
		return;
	track_env(e, false);
	if (e->pid > 0 && containerd_alive(e)) {
		/* CRI first, so that it tears down its own sandbox mounts */
		if (e->cri) {
			while (e->ncri_ctrs > 0)
				if (cri_container_remove(e, e->cri_ctrs[0]))
					untrack(e->cri_ctrs, &e->ncri_ctrs, e->cri_ctrs[0]);
			while (e->npods > 0)
				if (cri_pod_remove(e, e->pods[0]))
					untrack(e->pods, &e->npods, e->pods[0]);
		}
		for (size_t i = 0; i < sizeof(namespaces) / sizeof(namespaces[0]); i++)
			sweep_namespace(e, namespaces[i]);
	}
	grpc_endpoint_free(e->cri);
	e->cri = NULL;
	stop_daemon(e);
	if (e->dir[0]) {
		/* whatever containerd did not clean up (it died, a delete failed) is
		 * found by pids and paths; after a clean sweep there is nothing */
		reap_dir(e->dir);
		verbose("%s stopped and removed in %lld ms", e->dir, (long long)(test_now_ms() - t0));
	}
	free(e);
}

int ctrd_run(struct ctrd_env *e, const char *id, const char *const *labels, const char *const *argv)
{
	const char *args[40] = {"run", "-d"};
	size_t n = 2;

	for (size_t i = 0; labels && labels[i] && n < 20; i++) {
		args[n++] = "--label";
		args[n++] = labels[i];
	}
	args[n++] = e->busybox.name;
	args[n++] = id;
	for (size_t i = 0; argv[i] && n < sizeof(args) / sizeof(args[0]) - 1; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	int64_t t0 = test_now_ms();
	int rc = ctrd_ctr(e, "default", args, NULL);

	verbose("ctr run -d %s: %d in %lld ms", id, rc, (long long)(test_now_ms() - t0));
	return rc ? -1 : 0;
}

const char *ctrd_task_status(const struct ctrd_env *e, const char *ns, const char *id, char *buf, size_t sz)
{
	const char *args[] = {"tasks", "ls", NULL};
	char *out = NULL, *save = NULL, *line;

	buf[0] = 0;
	if (ctrd_ctr(e, ns, args, &out) == 0) {
		/* TASK PID STATUS */
		for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char task[128], status[32];

			if (sscanf(line, "%127s %*s %31s", task, status) == 2 && !strcmp(task, id))
				snprintf(buf, sz, "%s", status);
		}
	}
	free(out);
	return buf;
}

int ctrd_task_wait(const struct ctrd_env *e, const char *ns, const char *id, int timeout_ms)
{
	int64_t deadline = test_now_ms() + timeout_ms;
	char status[32];

	while (strcmp(ctrd_task_status(e, ns, id, status, sizeof(status)), "STOPPED") != 0) {
		if (!status[0]) {
			fprintf(stderr, "%s/%s has no task to wait for\n", ns, id);
			return -1;
		}
		if (test_now_ms() > deadline) {
			fprintf(stderr, "%s/%s still %s after %d ms\n", ns, id, status, timeout_ms);
			return -1;
		}
		usleep(50 * 1000);
	}
	return 0;
}

pid_t ctrd_task_pid(const struct ctrd_env *e, const char *ns, const char *id)
{
	const char *args[] = {"tasks", "ls", NULL};
	char *out = NULL, *save = NULL, *line;
	pid_t pid = -1;

	if (ctrd_ctr(e, ns, args, &out) == 0) {
		/* TASK PID STATUS */
		for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char task[128];
			int p;

			if (sscanf(line, "%127s %d", task, &p) == 2 && !strcmp(task, id))
				pid = p;
		}
	}
	free(out);
	return pid;
}

long ctrd_task_wait_counter(const struct ctrd_env *e, const char *ns, const char *id, const char *path,
                            long min, int timeout_ms)
{
	int64_t deadline = test_now_ms() + timeout_ms;
	pid_t pid = ctrd_task_pid(e, ns, id);
	char file[300];
	long v = -1;

	if (pid <= 0) {
		fprintf(stderr, "%s/%s has no task\n", ns, id);
		return -1;
	}
	snprintf(file, sizeof(file), "/proc/%d/root%s", pid, path);
	for (;;) {
		char *text = test_read_file(file, NULL);

		v = text && *text ? strtol(text, NULL, 10) : -1;
		free(text);
		if (v >= min)
			return v;
		if (test_now_ms() > deadline) {
			fprintf(stderr, "%s/%s: %s is %ld, not yet %ld, after %d ms\n", ns, id, path, v, min,
			        timeout_ms);
			return v;
		}
		usleep(20 * 1000); /* a file in another mount namespace: no event to wait on */
	}
}

void ctrd_remove(struct ctrd_env *e, const char *ns, const char *id)
{
	const char *kill_args[] = {"ctr",  "--address", e->socket, "-n", ns,  "tasks",
	                           "kill", "-s",        "KILL",    id,   NULL};
	const char *del_task[] = {"ctr", "--address", e->socket, "-n", ns, "tasks", "delete", "-f", id, NULL};
	const char *del_ctr[] = {"ctr", "--address", e->socket, "-n", ns, "containers", "delete", id, NULL};
	char status[32];
	int64_t t0 = test_now_ms();

	/* a container without a task, or an exited task, is not an error here */
	if (*ctrd_task_status(e, ns, id, status, sizeof(status))) {
		if (strcmp(status, "STOPPED"))
			run_capture(kill_args, NULL, NULL, CMD_TIMEOUT_MS);
		run_checked(del_task, NULL, CMD_TIMEOUT_MS);
	}
	if (run_capture(del_ctr, NULL, NULL, CMD_TIMEOUT_MS) != 0) {
		/* the task may still have been exiting: once more, loudly */
		usleep(200 * 1000);
		run_capture(del_task, NULL, NULL, CMD_TIMEOUT_MS);
		run_checked(del_ctr, NULL, CMD_TIMEOUT_MS);
	}
	verbose("removed %s/%s in %lld ms", ns, id, (long long)(test_now_ms() - t0));
}

void ctrd_check_busybox_record(const struct ctrd_env *e, json_t *ev, const char *id)
{
	const char *digest;

	CHECK_STR(test_json_str(ev, "runtime.runtimeName"), "containerd");
	CHECK_STR(test_json_str(ev, "runtime.containerId"), id);
	CHECK_STR(test_json_str(ev, "runtime.containerImageName"), CTRD_BUSYBOX_IMAGE);
	digest = test_json_str(ev, "runtime.containerImageDigest");
	CHECK(digest && strncmp(digest, "sha256:", 7) == 0 && strlen(digest) == 71);
	/* containerd's image digest is its manifest's, which pack_image computed */
	CHECK_STR(digest, e->busybox.manifest_digest);
	CHECK(test_json_int(ev, "runtime.containerPid", 0) > 1);
}

/* ---- CRI ---- */

struct captured_log {
	char msg[1024];
};

static void capture_sink(enum sonde_log_level level, const char *msg, void *arg)
{
	struct captured_log *c = arg;

	snprintf(c->msg, sizeof(c->msg), "%s", msg);
}

/* One RPC; on failure prints the method, what it was about, the errno and
 * the runtime's status message (which grpc_client logs at debug level only). */
static int cri_call(struct ctrd_env *e, const char *method, const char *about, const ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *desc, ProtobufCMessage **resp, bool quiet)
{
	char path[128];
	struct captured_log cap = {{0}};
	enum sonde_log_level level = sonde_log_get_level();
	int err;

	snprintf(path, sizeof(path), "/runtime.v1.RuntimeService/%s", method);
	int64_t t0 = test_now_ms();

	sonde_log_set_level(SONDE_LOG_DEBUG);
	sonde_log_set_sink(capture_sink, &cap);
	err = grpc_endpoint_call(e->cri, path, NULL, req, desc, resp);
	sonde_log_set_sink(NULL, NULL);
	sonde_log_set_level(level);
	if (!quiet)
		verbose("CRI %s(%s): %s in %lld ms", method, about, err ? strerror(-err) : "ok",
		        (long long)(test_now_ms() - t0));
	if (err && !quiet)
		fprintf(stderr, "CRI %s(%s) on %s failed: %s%s%s\n", method, about, e->socket, strerror(-err),
		        cap.msg[0] ? ": " : "", cap.msg);
	return err;
}

/* The CRI plugin learns of images from containerd's events and labels the
 * ones it took into its own store: a pod started before that finds no
 * sandbox image and tries to pull it. */
static bool cri_has_images(const struct ctrd_env *e)
{
	const char *args[] = {"images", "ls", NULL};
	const char *names[] = {e->pause.name, e->busybox.name};
	char *out = NULL;
	bool all = true;

	if (ctrd_ctr(e, "k8s.io", args, &out))
		all = false;
	for (size_t i = 0; all && i < 2; i++) {
		const char *row = out;
		size_t len = strlen(names[i]);

		while ((row = strstr(row, names[i])) && row[len] != ' ')
			row += len;
		const char *eol = row ? strchr(row, '\n') : NULL;
		const char *label = row ? strstr(row, "io.cri-containerd.image=managed") : NULL;

		all = label && (!eol || label < eol);
	}
	free(out);
	return all;
}

/* The CRI plugin answers only once it has recovered its state; until then
 * its calls fail, so the first CRI use waits for Version. */
static int cri_connect(struct ctrd_env *e)
{
	struct grpc_endpoint_opts opts = {.sz = sizeof(opts), .timeout_ms = CRI_TIMEOUT_MS, .backoff_ms = 1};
	Runtime__V1__VersionRequest req = RUNTIME__V1__VERSION_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	int64_t t0 = test_now_ms(), deadline = t0 + BOOT_TIMEOUT_MS;
	int err;

	if (e->cri)
		return 0;
	if (e->pid <= 0) {
		fprintf(stderr, "CRI: the private containerd is not running\n");
		return -1;
	}
	e->cri = grpc_endpoint_new(e->socket, "CRI", &opts);
	if (!e->cri) {
		fprintf(stderr, "CRI: no memory for the endpoint\n");
		return -1;
	}
	req.version = "v1";
	for (;;) {
		bool last = test_now_ms() > deadline;

		err = cri_call(e, "Version", "readiness", &req.base,
		               &runtime__v1__version_response__descriptor, &resp, !last);
		if (!err || last)
			break;
		usleep(50 * 1000);
	}
	if (err) {
		ctrd_env_dump_log(e, 20);
		grpc_endpoint_free(e->cri);
		e->cri = NULL;
		return -1;
	}
	while (!cri_has_images(e)) {
		if (test_now_ms() > deadline) {
			fprintf(stderr, "CRI: %s and %s not in CRI's image store after %d ms\n",
			        e->pause.name, e->busybox.name, BOOT_TIMEOUT_MS);
			ctrd_env_dump_log(e, 20);
			protobuf_c_message_free_unpacked(resp, NULL);
			grpc_endpoint_free(e->cri);
			e->cri = NULL;
			return -1;
		}
		usleep(20 * 1000);
	}
	verbose("CRI: %s %s, api %s, ready with the images after %lld ms",
	        ((Runtime__V1__VersionResponse *)resp)->runtime_name,
	        ((Runtime__V1__VersionResponse *)resp)->runtime_version,
	        ((Runtime__V1__VersionResponse *)resp)->runtime_api_version, (long long)(test_now_ms() - t0));
	protobuf_c_message_free_unpacked(resp, NULL);
	return 0;
}

/* The sandbox config as RunPodSandbox got it; CreateContainer needs it again.
 * Everything points into pod and the caller's storage. */
struct pod_config_storage {
	Runtime__V1__PodSandboxConfig cfg;
	Runtime__V1__PodSandboxMetadata md;
	Runtime__V1__LinuxPodSandboxConfig lx;
	Runtime__V1__LinuxSandboxSecurityContext sc;
	Runtime__V1__NamespaceOption nso;
	Runtime__V1__PodSandboxConfig__LabelsEntry labels[CRI_MAX_LABELS];
	Runtime__V1__PodSandboxConfig__LabelsEntry *label_ptrs[CRI_MAX_LABELS];
};

static void pod_config(struct pod_config_storage *s, struct cri_pod *pod, char *logdir)
{
	s->md = (Runtime__V1__PodSandboxMetadata)RUNTIME__V1__POD_SANDBOX_METADATA__INIT;
	s->md.name = pod->name;
	s->md.namespace_ = pod->namespace;
	s->md.uid = pod->uid;
	s->nso = (Runtime__V1__NamespaceOption)RUNTIME__V1__NAMESPACE_OPTION__INIT;
	s->nso.network = RUNTIME__V1__NAMESPACE_MODE__NODE;
	s->sc = (Runtime__V1__LinuxSandboxSecurityContext)RUNTIME__V1__LINUX_SANDBOX_SECURITY_CONTEXT__INIT;
	s->sc.namespace_options = &s->nso;
	s->lx = (Runtime__V1__LinuxPodSandboxConfig)RUNTIME__V1__LINUX_POD_SANDBOX_CONFIG__INIT;
	s->lx.security_context = &s->sc;
	s->cfg = (Runtime__V1__PodSandboxConfig)RUNTIME__V1__POD_SANDBOX_CONFIG__INIT;
	s->cfg.metadata = &s->md;
	/* a host-network pod has the host's UTS namespace: runc refuses to set a hostname */
	s->cfg.hostname = "";
	s->cfg.log_directory = logdir;
	s->cfg.linux = &s->lx;
	for (int i = 0; i < pod->nlabels; i++) {
		s->labels[i] = (Runtime__V1__PodSandboxConfig__LabelsEntry)
		    RUNTIME__V1__POD_SANDBOX_CONFIG__LABELS_ENTRY__INIT;
		s->labels[i].key = pod->label_keys[i];
		s->labels[i].value = pod->label_values[i];
		s->label_ptrs[i] = &s->labels[i];
	}
	s->cfg.n_labels = (size_t)pod->nlabels;
	s->cfg.labels = pod->nlabels ? s->label_ptrs : NULL;
}

static void random_uid(char *buf, size_t sz)
{
	unsigned char r[16];

	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)random();
	r[6] = (r[6] & 0x0f) | 0x40; /* a version 4 UUID, like the API server's */
	r[8] = (r[8] & 0x3f) | 0x80;
	snprintf(buf, sz, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1],
	         r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
}

int cri_pod_run(struct ctrd_env *e, struct cri_pod *pod, const char *name, const char *ns,
                const char *const *labels)
{
	Runtime__V1__RunPodSandboxRequest req = RUNTIME__V1__RUN_POD_SANDBOX_REQUEST__INIT;
	Runtime__V1__RunPodSandboxResponse *resp = NULL;
	struct pod_config_storage s;
	int err;

	memset(pod, 0, sizeof(*pod));
	snprintf(pod->name, sizeof(pod->name), "%s", name);
	snprintf(pod->namespace, sizeof(pod->namespace), "%s", ns);
	random_uid(pod->uid, sizeof(pod->uid));
	for (size_t i = 0; labels && labels[i] && labels[i + 1] && pod->nlabels < CRI_MAX_LABELS; i += 2) {
		snprintf(pod->label_keys[pod->nlabels], sizeof(pod->label_keys[0]), "%s", labels[i]);
		snprintf(pod->label_values[pod->nlabels++], sizeof(pod->label_values[0]), "%s",
		         labels[i + 1]);
	}
	if (cri_connect(e))
		return -1;
	pod_config(&s, pod, e->logdir);
	req.config = &s.cfg;
	err = cri_call(e, "RunPodSandbox", name, &req.base,
	               &runtime__v1__run_pod_sandbox_response__descriptor, (ProtobufCMessage **)&resp, false);
	if (err)
		return -1;
	snprintf(pod->id, sizeof(pod->id), "%s", resp->pod_sandbox_id);
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	track(e->pods, &e->npods, pod->id);
	return 0;
}

int cri_container_start(struct ctrd_env *e, const struct cri_pod *pod, const char *name,
                        const char *const *argv, char *id, size_t idsz)
{
	Runtime__V1__CreateContainerRequest req = RUNTIME__V1__CREATE_CONTAINER_REQUEST__INIT;
	Runtime__V1__CreateContainerResponse *resp = NULL;
	Runtime__V1__StartContainerRequest sreq = RUNTIME__V1__START_CONTAINER_REQUEST__INIT;
	ProtobufCMessage *sresp = NULL;
	Runtime__V1__ContainerConfig cfg = RUNTIME__V1__CONTAINER_CONFIG__INIT;
	Runtime__V1__ContainerMetadata md = RUNTIME__V1__CONTAINER_METADATA__INIT;
	Runtime__V1__ImageSpec image = RUNTIME__V1__IMAGE_SPEC__INIT;
	Runtime__V1__LinuxContainerConfig lx = RUNTIME__V1__LINUX_CONTAINER_CONFIG__INIT;
	Runtime__V1__LinuxContainerSecurityContext sc = RUNTIME__V1__LINUX_CONTAINER_SECURITY_CONTEXT__INIT;
	Runtime__V1__NamespaceOption nso = RUNTIME__V1__NAMESPACE_OPTION__INIT;
	struct pod_config_storage s;
	struct cri_pod podcopy = *pod;
	char about[160], logpath[160];
	size_t n = 0;
	int err;

	id[0] = 0;
	while (argv[n])
		n++;
	if (cri_connect(e))
		return -1;
	snprintf(about, sizeof(about), "%s in pod %s", name, pod->name);
	snprintf(logpath, sizeof(logpath), "%s-%s.log", pod->name, name);
	md.name = (char *)name;
	image.image = e->busybox.name;
	/* what kubelet asks for: the pod's network, a pid namespace of its own */
	nso.network = RUNTIME__V1__NAMESPACE_MODE__NODE;
	nso.pid = RUNTIME__V1__NAMESPACE_MODE__CONTAINER;
	sc.namespace_options = &nso;
	lx.security_context = &sc;
	cfg.metadata = &md;
	cfg.image = &image;
	cfg.command = (char **)argv;
	cfg.n_command = n;
	cfg.log_path = logpath;
	cfg.linux = &lx;
	pod_config(&s, &podcopy, e->logdir);
	req.pod_sandbox_id = podcopy.id;
	req.config = &cfg;
	req.sandbox_config = &s.cfg;
	err =
	    cri_call(e, "CreateContainer", about, &req.base,
	             &runtime__v1__create_container_response__descriptor, (ProtobufCMessage **)&resp, false);
	if (err)
		return -1;
	snprintf(id, idsz, "%s", resp->container_id);
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	track(e->cri_ctrs, &e->ncri_ctrs, id);
	sreq.container_id = id;
	err = cri_call(e, "StartContainer", about, &sreq.base,
	               &runtime__v1__start_container_response__descriptor, &sresp, false);
	if (err)
		return -1;
	protobuf_c_message_free_unpacked(sresp, NULL);
	return 0;
}

/* A stop or remove call, for which what is already gone (-ENOENT) is done
 * too; the answer is not needed. 0 or -1. */
static int cri_call_gone_ok(struct ctrd_env *e, const char *method, const char *id,
                            const ProtobufCMessage *req, const ProtobufCMessageDescriptor *desc)
{
	ProtobufCMessage *resp = NULL;
	int err = cri_call(e, method, id, req, desc, &resp, false);

	if (err && err != -ENOENT)
		return -1;
	protobuf_c_message_free_unpacked(resp, NULL);
	return 0;
}

int cri_container_remove(struct ctrd_env *e, const char *id)
{
	Runtime__V1__StopContainerRequest stop = RUNTIME__V1__STOP_CONTAINER_REQUEST__INIT;
	Runtime__V1__RemoveContainerRequest rm = RUNTIME__V1__REMOVE_CONTAINER_REQUEST__INIT;

	if (cri_connect(e))
		return -1;
	stop.container_id = (char *)id;
	stop.timeout = 0;
	rm.container_id = (char *)id;
	if (cri_call_gone_ok(e, "StopContainer", id, &stop.base,
	                     &runtime__v1__stop_container_response__descriptor) ||
	    cri_call_gone_ok(e, "RemoveContainer", id, &rm.base,
	                     &runtime__v1__remove_container_response__descriptor))
		return -1;
	untrack(e->cri_ctrs, &e->ncri_ctrs, id);
	return 0;
}

int cri_pod_remove(struct ctrd_env *e, const char *pod_id)
{
	Runtime__V1__StopPodSandboxRequest stop = RUNTIME__V1__STOP_POD_SANDBOX_REQUEST__INIT;
	Runtime__V1__RemovePodSandboxRequest rm = RUNTIME__V1__REMOVE_POD_SANDBOX_REQUEST__INIT;
	char id[72];

	snprintf(id, sizeof(id), "%s", pod_id); /* pod_id may be an entry of e->pods */
	if (cri_connect(e))
		return -1;
	stop.pod_sandbox_id = id;
	rm.pod_sandbox_id = id;
	if (cri_call_gone_ok(e, "StopPodSandbox", id, &stop.base,
	                     &runtime__v1__stop_pod_sandbox_response__descriptor) ||
	    cri_call_gone_ok(e, "RemovePodSandbox", id, &rm.base,
	                     &runtime__v1__remove_pod_sandbox_response__descriptor))
		return -1;
	untrack(e->pods, &e->npods, id);
	return 0;
}

int cri_container_state(struct ctrd_env *e, const char *id, int *state, int *exit_code)
{
	Runtime__V1__ContainerStatusRequest req = RUNTIME__V1__CONTAINER_STATUS_REQUEST__INIT;
	Runtime__V1__ContainerStatusResponse *resp = NULL;
	int err;

	if (cri_connect(e))
		return -1;
	req.container_id = (char *)id;
	err =
	    cri_call(e, "ContainerStatus", id, &req.base, &runtime__v1__container_status_response__descriptor,
	             (ProtobufCMessage **)&resp, false);
	if (err)
		return -1;
	if (!resp->status) {
		fprintf(stderr, "CRI ContainerStatus(%s): no status in the answer\n", id);
		protobuf_c_message_free_unpacked(&resp->base, NULL);
		return -1;
	}
	*state = (int)resp->status->state;
	*exit_code = resp->status->exit_code;
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	return 0;
}

/* ---- draining sonde ---- */

static void *drain_main(void *arg)
{
	struct sonde_drain *d = arg;

	while (!atomic_load(&d->stop)) {
		if (d->p->out_fd < 0 && d->p->err_fd < 0) {
			usleep(50 * 1000); /* sonde is gone; nothing to read */
			continue;
		}
		sonde_proc_wait_for(d->p, 1, "\001never", 100);
	}
	return NULL;
}

void sonde_drain_start(struct sonde_drain *d, struct sonde_proc *p)
{
	d->p = p;
	atomic_store(&d->stop, false);
	d->running = pthread_create(&d->thread, NULL, drain_main, d) == 0;
	if (!d->running)
		fprintf(stderr, "cannot start the output reader thread\n");
}

void sonde_drain_stop(struct sonde_drain *d)
{
	if (!d->running)
		return;
	atomic_store(&d->stop, true);
	pthread_join(d->thread, NULL);
	d->running = false;
}
