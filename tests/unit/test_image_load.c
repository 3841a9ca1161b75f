/* sonde_image_load without the kernel: built-ins, bare eBPF objects, and
 * images of a temp store (arch selection, a lone gadget manifest, layers of
 * unknown media types, the empty config), plus the list view of a store
 * with signature tags; an image built for amd64 and arm64 against
 * include/gadget/<arch>/vmlinux.h, each arch's layer picked by its name. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sonde/image.h>
#include <sonde/image_build.h>
#include <sonde/log.h>

#include "image/oci.h"
#include "testlib.h"

#define TMP_PREFIX "/tmp/sonde-imgload-"
#define OBJ        SONDE_TEST_BUILD_DIR "/gadgets/trace_open.bpf.o"

static char tmp[64], store[128], last_err[1024], last_warn[1024];

static void capture(enum sonde_log_level level, const char *msg, void *arg)
{
	(void)arg;
	if (level == SONDE_LOG_ERROR)
		snprintf(last_err, sizeof(last_err), "%s", msg);
	else if (level == SONDE_LOG_WARN) /* all of them: skip_verify adds its own after the load's */
		snprintf(last_warn + strlen(last_warn), sizeof(last_warn) - strlen(last_warn), "%s\n", msg);
}

static void setup(void)
{
	sonde_log_set_sink(capture, NULL);
	snprintf(tmp, sizeof(tmp), TMP_PREFIX "XXXXXX");
	if (!mkdtemp(tmp))
		abort();
	snprintf(store, sizeof(store), "%s/store", tmp);
	last_err[0] = last_warn[0] = '\0';
}

static void teardown(void)
{
	test_rm_tree(tmp, TMP_PREFIX);
}

static void put(struct oci_store *s, const char *text, struct oci_descriptor *d, const char *mt)
{
	memset(d, 0, sizeof(*d));
	if (oci_blob_put(s, text, strlen(text), d->digest))
		abort();
	d->size = (int64_t)strlen(text);
	strcpy(d->media_type, mt);
}

/* A manifest with the given config and layers (media type, content). */
static void put_manifest(struct oci_store *s, const char *artifact, const char *cfg_mt, const char *cfg,
                         const char *const *layers, struct oci_descriptor *out)
{
	struct oci_manifest m = {.schema_version = 2};
	struct oci_descriptor l[4];
	strcpy(m.media_type, OCI_MT_MANIFEST);
	strcpy(m.artifact_type, artifact);
	put(s, cfg, &m.config, cfg_mt);
	for (m.nlayers = 0; layers && layers[2 * m.nlayers]; m.nlayers++)
		put(s, layers[2 * m.nlayers + 1], &l[m.nlayers], layers[2 * m.nlayers]);
	m.layers = l;
	json_t *j = oci_manifest_to_json(&m);
	char *text = oci_json_dump(j, NULL);
	put(s, text, out, OCI_MT_MANIFEST);
	free(text);
	json_decref(j);
	oci_descriptor_clear(&m.config);
}

static void put_index(struct oci_store *s, struct oci_descriptor *ms, size_t n, struct oci_descriptor *out)
{
	struct oci_index idx = {.schema_version = 2, .manifests = ms, .nmanifests = n};
	strcpy(idx.media_type, OCI_MT_INDEX);
	json_t *j = oci_index_to_json(&idx);
	char *text = oci_json_dump(j, NULL);
	put(s, text, out, OCI_MT_INDEX);
	free(text);
	json_decref(j);
}

static void test_builtin_and_files(void)
{
	setup();
	struct sonde_loaded_gadget *g;
	struct sonde_image_source_opts o = {.sz = sizeof(o), .store_dir = store, .pull = SONDE_PULL_NEVER};
	REQUIRE(sonde_image_load("trace_open", &o, &g) == 0);
	CHECK(sonde_loaded_gadget_image(g) == sonde_builtin_gadget("trace_open"));
	CHECK_STR(sonde_loaded_gadget_origin(g), "built-in");
	sonde_loaded_gadget_free(g);
	CHECK(access(store, F_OK) != 0); /* a built-in never touches the store */

	char cfg[256];
	snprintf(cfg, sizeof(cfg), "%s/g.yaml", tmp);
	test_write_file_or_abort(cfg, "name: mine\n");
	o.config_path = cfg;
	REQUIRE(sonde_image_load(OBJ, &o, &g) == 0);
	const struct sonde_gadget_image *img = sonde_loaded_gadget_image(g);
	CHECK_STR(img->name, "trace_open");
	CHECK_STR(img->config_yaml, "name: mine\n");
	REQUIRE(img->nlayers == 1);
	CHECK_STR(img->layers[0].media_type, GADGET_MT_EBPF);
	CHECK(img->layers[0].len > 1000);
	CHECK_STR(sonde_loaded_gadget_origin(g), OBJ);
	sonde_loaded_gadget_free(g);

	CHECK_INT(sonde_image_load(cfg, &o, &g), -EINVAL);
	CHECK(strstr(last_err, "is neither a gadget image nor an eBPF object") != NULL);
	CHECK(g == NULL);
	CHECK_INT(sonde_image_load("./missing.bpf.o", &o, &g), -ENOENT);
	CHECK_INT(sonde_image_load("no_such_gadget", &o, &g), -ENOENT);
	CHECK(strstr(last_err,
	             "unknown gadget \"no_such_gadget\": image "
	             "ghcr.io/inspektor-gadget/gadget/no_such_gadget:latest not found in the store") != NULL);
	CHECK_INT(sonde_image_load("Bad Name", &o, &g), -EINVAL);
	CHECK(access(store, F_OK) != 0); /* nor does looking for what is not there */
	teardown();
}

static void test_store_images(void)
{
	setup();
	struct oci_store *s;
	REQUIRE(oci_store_open(store, 0, &s) == 0);
	const char *host = oci_host_arch(), *other = strcmp(host, "arm64") ? "arm64" : "amd64";
	const char *layers_host[] = {
	    GADGET_MT_EBPF, "host object", "application/x-unknown", "junk", GADGET_MT_WASM, "wasm", NULL};
	const char *layers_other[] = {GADGET_MT_EBPF, "other object", NULL};
	struct oci_descriptor ms[2], idx, lone, notgadget;
	put_manifest(s, GADGET_ARTIFACT_TYPE, GADGET_MT_CONFIG, "name: multi\n", layers_other, &ms[0]);
	put_manifest(s, GADGET_ARTIFACT_TYPE, OCI_MT_EMPTY, "{}", layers_host, &ms[1]);
	strcpy(ms[0].arch, other);
	strcpy(ms[1].arch, host);
	strcpy(ms[0].os, "linux");
	strcpy(ms[1].os, "linux");
	put_index(s, ms, 2, &idx);
	REQUIRE(oci_store_tag(s, "localhost:5000/g/multi:v1", &idx) == 0);
	put_index(s, ms, 1, &idx);
	REQUIRE(oci_store_tag(s, "localhost:5000/g/foreign:v1", &idx) == 0);
	put_manifest(s, GADGET_ARTIFACT_TYPE, GADGET_MT_CONFIG, "name: lone\n", layers_other, &lone);
	REQUIRE(oci_store_tag(s, "localhost:5000/g/lone:v1", &lone) == 0);
	put_manifest(s, "application/vnd.example+type", OCI_MT_EMPTY, "{}", NULL, &notgadget);
	REQUIRE(oci_store_tag(s, "localhost:5000/g/other:v1", &notgadget) == 0);
	/* Signature tags next to the images (cosign's legacy format, and the
	 * referrers fallback tag, an index): not images to list. */
	REQUIRE(oci_store_tag(s, "localhost:5000/g/multi:sha256-0123.sig", &notgadget) == 0);
	REQUIRE(oci_store_tag(s, "localhost:5000/g/multi:sha256-0123", &idx) == 0);

	struct sonde_loaded_gadget *g;
	struct sonde_image_source_opts o = {.sz = sizeof(o),
	                                    .store_dir = store,
	                                    .pull = SONDE_PULL_NEVER,
	                                    .skip_verify = true}; /* unsigned: test_cosign_verify */
	REQUIRE(sonde_image_load("localhost:5000/g/multi:v1", &o, &g) == 0);
	const struct sonde_gadget_image *img = sonde_loaded_gadget_image(g);
	CHECK_STR(img->name, "multi");
	CHECK(img->config_yaml == NULL); /* the empty config */
	REQUIRE(img->nlayers == 2);      /* the unknown layer skipped, with a warning */
	CHECK_STR(img->layers[0].media_type, GADGET_MT_EBPF);
	CHECK(img->layers[0].len == strlen("host object") && !memcmp(img->layers[0].data, "host object", 11));
	CHECK_STR(img->layers[1].media_type, GADGET_MT_WASM);
	CHECK(strstr(last_warn, "application/x-unknown") != NULL);
	CHECK(strncmp(sonde_loaded_gadget_origin(g), "localhost:5000/g/multi:v1@sha256:", 33) == 0);
	sonde_loaded_gadget_free(g);

	/* By digest, with or without a tag pointing at it. */
	struct oci_descriptor multi;
	REQUIRE(oci_store_resolve(s, "localhost:5000/g/multi:v1", &multi) == 0);
	char byd[256];
	snprintf(byd, sizeof(byd), "localhost:5000/g/anything@%s", multi.digest);
	REQUIRE(sonde_image_load(byd, &o, &g) == 0);
	CHECK_INT(sonde_loaded_gadget_image(g)->nlayers, 2);
	sonde_loaded_gadget_free(g);
	oci_descriptor_clear(&multi);
	snprintf(byd, sizeof(byd), "localhost:5000/g/lone@%s", lone.digest);
	REQUIRE(sonde_image_load(byd, &o, &g) == 0);
	sonde_loaded_gadget_free(g);
	CHECK_INT(sonde_image_load(
	              "x@sha256:0000000000000000000000000000000000000000000000000000000000000000", &o, &g),
	          -ENOENT);

	/* A tag another tool wrote unnormalised (skopeo copy … oci:DIR:short:v1). */
	REQUIRE(oci_store_tag(s, "short:v1", &lone) == 0);
	REQUIRE(sonde_image_load("ghcr.io/inspektor-gadget/gadget/short:v1", &o, &g) == 0);
	sonde_loaded_gadget_free(g);
	REQUIRE(oci_store_untag(s, "short:v1") == 0);

	/* Another architecture, asked for. */
	o.arch = other;
	REQUIRE(sonde_image_load("localhost:5000/g/multi:v1", &o, &g) == 0);
	img = sonde_loaded_gadget_image(g);
	CHECK_STR(img->config_yaml, "name: multi\n");
	CHECK(img->nlayers == 1 && !memcmp(img->layers[0].data, "other object", 12));
	sonde_loaded_gadget_free(g);
	o.arch = NULL;

	char want[256];
	snprintf(want, sizeof(want),
	         "no manifest for architecture %s in localhost:5000/g/foreign:v1 (has: %s)", host, other);
	CHECK_INT(sonde_image_load("localhost:5000/g/foreign:v1", &o, &g), -ENOENT);
	CHECK_STR(last_err, want);

	REQUIRE(sonde_image_load("localhost:5000/g/lone:v1", &o, &g) == 0);
	CHECK_STR(sonde_loaded_gadget_image(g)->config_yaml, "name: lone\n");
	sonde_loaded_gadget_free(g);
	CHECK_INT(sonde_image_load("localhost:5000/g/other:v1", &o, &g), -EINVAL);
	CHECK(strstr(last_err, "not a gadget") != NULL);

	/* The list shows images only, sorted. */
	struct sonde_image_store *is;
	struct sonde_image_info *infos;
	size_t n;
	REQUIRE(sonde_image_store_open(store, true, &is) == 0);
	REQUIRE(sonde_image_list(is, &infos, &n) == 0);
	REQUIRE(n == 3);
	CHECK_STR(infos[0].repository, "localhost:5000/g/foreign");
	CHECK_STR(infos[1].repository, "localhost:5000/g/lone");
	CHECK_STR(infos[2].repository, "localhost:5000/g/multi");
	CHECK_STR(infos[2].tag, "v1");
	free(infos);
	/* Read-only handles refuse to change anything. */
	CHECK_INT(sonde_image_tag(is, "localhost:5000/g/lone:v1", "x:y"), -EROFS);
	sonde_image_store_close(is);

	/* remove: the lone manifest's blobs go, what others share stays. */
	REQUIRE(sonde_image_store_open(store, false, &is) == 0);
	CHECK_INT(sonde_image_remove(is, "localhost:5000/g/lone:v1"), 0);
	CHECK(!oci_blob_exists(s, lone.digest));
	CHECK(oci_blob_exists(s, ms[0].digest));
	CHECK_INT(sonde_image_remove(is, "localhost:5000/g/lone:v1"), -ENOENT);
	sonde_image_store_close(is);
	oci_store_close(s);
	teardown();
}

static bool has_bytes(const struct sonde_layer *l, const char *s)
{
	return memmem(l->data, l->len, s, strlen(s)) != NULL;
}

/* A kprobe through BPF_KPROBE: its argument is read from struct pt_regs on
 * amd64 and struct user_pt_regs (which only arm64's vmlinux.h has) on arm64,
 * and the CO-RE relocation keeps the type's name in the object's BTF. The
 * #errors prove each arch was compiled against its own header of
 * include/gadget/<arch>/, the build machine's arch included. */
static const char kprobe_src[] = "#include <vmlinux.h>\n"
                                 "#include <bpf/bpf_helpers.h>\n"
                                 "#include <bpf/bpf_tracing.h>\n"
                                 "#if defined(__TARGET_ARCH_x86) && !defined(SONDE_TEST_VMLINUX_amd64)\n"
                                 "#error \"amd64 not built against include/gadget/amd64/vmlinux.h\"\n"
                                 "#endif\n"
                                 "#if defined(__TARGET_ARCH_arm64) && !defined(SONDE_TEST_VMLINUX_arm64)\n"
                                 "#error \"arm64 not built against include/gadget/arm64/vmlinux.h\"\n"
                                 "#endif\n"
                                 "SEC(\"kprobe/do_sys_openat2\")\n"
                                 "int BPF_KPROBE(probe, int dfd, const char *name)\n"
                                 "{\n"
                                 "\treturn dfd + (name != 0);\n"
                                 "}\n"
                                 "char LICENSE[] SEC(\"license\") = \"GPL\";\n";

/* An include/ of the test: the source tree's gadget headers (links), and per
 * arch a vmlinux.h that includes the tree's one and defines a marker. */
static void make_include_dir(const char *inc)
{
	char path[512], target[512];
	DIR *d;
	struct dirent *de;

	snprintf(path, sizeof(path), "%s/gadget", inc);
	if (mkdir(inc, 0755) < 0 || mkdir(path, 0755) < 0)
		abort();
	d = opendir(SONDE_SOURCE_DIR "/include/gadget");
	if (!d)
		abort();
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (n < 3 || strcmp(de->d_name + n - 2, ".h"))
			continue;
		snprintf(target, sizeof(target), SONDE_SOURCE_DIR "/include/gadget/%s", de->d_name);
		snprintf(path, sizeof(path), "%s/gadget/%s", inc, de->d_name);
		if (symlink(target, path) < 0)
			abort();
	}
	closedir(d);
	for (int i = 0; i < 2; i++) {
		const char *arch = i ? "arm64" : "amd64";
		char text[1024];

		snprintf(path, sizeof(path), "%s/gadget/%s", inc, arch);
		if (mkdir(path, 0755) < 0)
			abort();
		snprintf(path, sizeof(path), "%s/gadget/%s/vmlinux.h", inc, arch);
		snprintf(text, sizeof(text),
		         "#include \"" SONDE_SOURCE_DIR "/include/gadget/%s/vmlinux.h\"\n"
		         "#define SONDE_TEST_VMLINUX_%s 1\n",
		         arch, arch);
		test_write_file_or_abort(path, text);
	}
}

static int build(const char *dir, const char *inc, const char *const *archs, const char *tag)
{
	struct sonde_image_build_opts b = {
	    .sz = sizeof(b), .dir = dir, .tag = tag, .archs = archs, .include_dir = inc, .store_dir = store};

	return sonde_image_build(&b, NULL, NULL, 0);
}

static void test_built_multi_arch(void)
{
	static const char *const both[] = {"amd64", "arm64", NULL}, *const arm[] = {"arm64", NULL};
	char dir[128], inc[128], path[256], want[512];
	const char *host = oci_host_arch();
	struct sonde_image_source_opts o = {.sz = sizeof(o), .store_dir = store, .pull = SONDE_PULL_NEVER};
	struct sonde_loaded_gadget *g, *g2;
	const struct sonde_layer *mine, *other;

	setup();
	if (!test_have("clang-19") && !test_have("clang"))
		test_skip_dep("clang");
	if (strcmp(host, "amd64") && strcmp(host, "arm64"))
		test_skip_machine("neither amd64 nor arm64");
	snprintf(dir, sizeof(dir), "%s/kp", tmp);
	snprintf(inc, sizeof(inc), "%s/include", tmp);
	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/program.bpf.c", dir);
	test_write_file_or_abort(path, kprobe_src);
	snprintf(path, sizeof(path), "%s/gadget.yaml", dir);
	test_write_file_or_abort(path, "name: kp\n");
	make_include_dir(inc);
	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);

	REQUIRE(build(dir, inc, both, "kp:1") == 0);
	/* this machine's manifest by default (built here: no signature asked) */
	REQUIRE(sonde_image_load("kp:1", &o, &g) == 0);
	REQUIRE(sonde_loaded_gadget_image(g)->nlayers == 1);
	mine = &sonde_loaded_gadget_image(g)->layers[0];
	CHECK_STR(mine->media_type, GADGET_MT_EBPF);
	CHECK(test_is_bpf_elf_with_btf(mine->data, mine->len));
	CHECK(has_bytes(mine, "pt_regs"));
	CHECK(has_bytes(mine, "user_pt_regs") == !strcmp(host, "arm64"));
	/* the other one asked for by name */
	o.arch = strcmp(host, "arm64") ? "arm64" : "amd64";
	REQUIRE(sonde_image_load("kp:1", &o, &g2) == 0);
	REQUIRE(sonde_loaded_gadget_image(g2)->nlayers == 1);
	other = &sonde_loaded_gadget_image(g2)->layers[0];
	CHECK(test_is_bpf_elf_with_btf(other->data, other->len));
	CHECK(has_bytes(other, "user_pt_regs") == !strcmp(o.arch, "arm64"));
	CHECK(mine->len != other->len || memcmp(mine->data, other->data, mine->len));
	sonde_loaded_gadget_free(g2);
	sonde_loaded_gadget_free(g);
	/* exactly these two manifests */
	o.arch = "riscv64";
	CHECK_INT(sonde_image_load("kp:1", &o, &g), -ENOENT);
	snprintf(want, sizeof(want),
	         "no manifest for architecture riscv64 in ghcr.io/inspektor-gadget/gadget/kp:1 (has: %s)",
	         "amd64, arm64");
	CHECK_STR(last_err, want);
	o.arch = NULL;

	/* Without include/gadget/arm64/vmlinux.h: arm64 asked for is an error,
	 * by default it is skipped and the image has this machine's only. */
	snprintf(path, sizeof(path), "%s/gadget/arm64/vmlinux.h", inc);
	REQUIRE(unlink(path) == 0);
	if (!strcmp(host, "amd64")) {
		CHECK_INT(build(dir, inc, arm, "kp:2"), -ENOENT);
		CHECK(strstr(last_err, "no vmlinux.h for arm64") != NULL);
		CHECK_INT(build(dir, inc, NULL, "kp:2"), 0);
		o.arch = "arm64";
		CHECK_INT(sonde_image_load("kp:2", &o, &g), -ENOENT);
		CHECK(strstr(last_err, "(has: amd64)") != NULL);
		o.arch = NULL;
		/* This machine's arch without its header: the build tree's
		 * vmlinux.h (this kernel's), which has no marker. */
		snprintf(path, sizeof(path), "%s/gadget/amd64/vmlinux.h", inc);
		REQUIRE(unlink(path) == 0);
		snprintf(path, sizeof(path), "%s/gadget/amd64", inc);
		REQUIRE(rmdir(path) == 0);
		snprintf(path, sizeof(path), "%s/program.bpf.c", dir);
		{
			char src[2048];

			snprintf(src, sizeof(src),
			         "#include <vmlinux.h>\n#include <bpf/bpf_helpers.h>\n#include "
			         "<bpf/bpf_tracing.h>\n%s",
			         strstr(kprobe_src, "SEC("));
			test_write_file_or_abort(path, src);
		}
		CHECK_INT(build(dir, inc, NULL, "kp:3"), 0);
	}
	unsetenv("SOURCE_DATE_EPOCH");
	teardown();
}

TEST_MAIN(TEST(test_builtin_and_files), TEST(test_store_images), TEST(test_built_multi_arch))
