/* sonde image build as users run it: a gadget directory of the test's own
 * (a copy of gadgets/trace_open) built with the local clang, tagged in a
 * store of the test, read by skopeo, run from the store and from the
 * directory; reproducible digests; amd64 and arm64 in one index; a
 * compiler error shown as printed. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"

#define TMP_PREFIX "/tmp/sonde-test-imgbuild."

static char tmp[] = TMP_PREFIX "XXXXXX";
static char gadget_dir[PATH_MAX], store[PATH_MAX];

static void copy_file(const char *from, const char *to)
{
	size_t len;
	char *data = test_read_file(from, &len);
	FILE *f = fopen(to, "w");

	if (!data || !f || fwrite(data, 1, len, f) != len)
		abort();
	fclose(f);
	free(data);
}

/* A gadget dir of our own: trace_open's sources under another name. */
static void make_gadget_dir(const char *dir)
{
	char to[PATH_MAX + 32];

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		abort();
	snprintf(to, sizeof(to), "%s/program.bpf.c", dir);
	copy_file(SONDE_SOURCE_DIR "/gadgets/trace_open/program.bpf.c", to);
	snprintf(to, sizeof(to), "%s/gadget.yaml", dir);
	copy_file(SONDE_SOURCE_DIR "/gadgets/trace_open/gadget.yaml", to);
}

static void setup(void)
{
	test_require_root();
	if (!test_have("clang") && !test_have("clang-19"))
		test_skip_dep("clang");
	if (!mkdtemp(tmp))
		abort();
	snprintf(gadget_dir, sizeof(gadget_dir), "%s/my_open", tmp);
	snprintf(store, sizeof(store), "%s/store", tmp);
	make_gadget_dir(gadget_dir);
}

/* "Successfully built REF@sha256:…" → the digest (static buffer), or NULL. */
static const char *built_digest(const char *out)
{
	static char digest[80];
	const char *at = out ? strstr(out, "@sha256:") : NULL;

	if (!out || strncmp(out, "Successfully built ", 19) || !at || strlen(at + 1) < 71)
		return NULL;
	snprintf(digest, sizeof(digest), "%.71s", at + 1);
	return digest;
}

static int build(const char *dir, const char *store_dir, const char *tag, char **out, char **err)
{
	const char *argv[] = {"image", "build", dir, "--store", store_dir, tag ? "-t" : NULL, tag, NULL};

	return sonde_run_cmd(argv, out, err, 120000);
}

static void test_build_tag_skopeo(void)
{
	char *out = NULL, *err = NULL, other[PATH_MAX + 16], src[PATH_MAX + 64], dst[PATH_MAX + 64], *idx;
	const char *digest;
	json_t *doc;

	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	CHECK_INT(build(gadget_dir, store, "my_open:v1", &out, &err), 0);
	digest = built_digest(out);
	CHECK(digest);
	CHECK(strstr(out, "ghcr.io/inspektor-gadget/gadget/my_open:v1@sha256:"));
	/* a progress line per step on stderr */
	CHECK(err && strstr(err, "compiling amd64 eBPF object"));
	/* arm64 too by default: include/gadget/arm64/vmlinux.h is in the tree */
	CHECK(err && strstr(err, "compiling arm64 eBPF object"));
	CHECK(err && !strstr(err, "skipping"));
	CHECK(err && strstr(err, "packing image"));
	free(err);
	REQUIRE(digest);

	/* the tag in index.json, as skopeo and upstream read it */
	snprintf(src, sizeof(src), "%s/index.json", store);
	idx = test_read_file(src, NULL);
	doc = idx ? json_loads(idx, 0, NULL) : NULL;
	REQUIRE(doc);
	CHECK(strstr(idx,
	             "\"org.opencontainers.image.ref.name\":\"ghcr.io/inspektor-gadget/gadget/my_open:v1\""));
	CHECK(strstr(idx, digest));
	json_decref(doc);
	free(idx);
	/* sonde image list shows it under its short name */
	{
		const char *argv[] = {"image", "list", "--store", store, NULL};
		char *list = NULL;

		CHECK_INT(sonde_run_cmd(argv, &list, NULL, 10000), 0);
		CHECK(list && strstr(list, "my_open ") && strstr(list, " v1 "));
		{
			char short_digest[13];

			snprintf(short_digest, sizeof(short_digest), "%.12s", digest + 7);
			CHECK(list && strstr(list, short_digest));
		}
		free(list);
	}

	if (!test_have("skopeo")) {
		free(out);
		test_skip_dep("skopeo");
	}
	/* skopeo reads the store as an OCI layout: the index it prints is ours */
	{
		char cmd[PATH_MAX * 3], *raw;
		size_t len;
		char blob[PATH_MAX + 128];

		snprintf(dst, sizeof(dst), "%s/raw.json", tmp);
		snprintf(
		    cmd, sizeof(cmd),
		    "skopeo inspect --raw oci:%s:ghcr.io/inspektor-gadget/gadget/my_open:v1 > %s 2>/dev/null",
		    store, dst);
		CHECK_INT(system(cmd), 0);
		raw = test_read_file(dst, &len);
		snprintf(blob, sizeof(blob), "%s/blobs/sha256/%s", store, digest + 7);
		idx = test_read_file(blob, NULL);
		CHECK(raw && idx && !strcmp(raw, idx));
		free(raw);
		free(idx);
	}
	/* and copies the whole index (--all) to another layout, digests kept */
	snprintf(other, sizeof(other), "%s/other", tmp);
	snprintf(src, sizeof(src), "oci:%s:ghcr.io/inspektor-gadget/gadget/my_open:v1", store);
	snprintf(dst, sizeof(dst), "oci:%s:ghcr.io/inspektor-gadget/gadget/my_open:v1", other);
	{
		const char *argv[] = {"skopeo",  "copy", "--all", "--preserve-digests",
		                      "--quiet", src,    dst,     NULL};

		CHECK_INT(test_run_quiet(argv), 0);
	}
	snprintf(src, sizeof(src), "%s/index.json", other);
	idx = test_read_file(src, NULL);
	CHECK(idx && strstr(idx, digest));
	free(idx);
	free(out);
}

static void test_reproducible(void)
{
	char *out1 = NULL, *out2 = NULL, s1[PATH_MAX + 8], s2[PATH_MAX + 8], d1[80] = "";
	const char *d;

	setenv("SOURCE_DATE_EPOCH", "1600000000", 1);
	snprintf(s1, sizeof(s1), "%s/r1", tmp);
	snprintf(s2, sizeof(s2), "%s/r2", tmp);
	CHECK_INT(build(gadget_dir, s1, "repro:1", &out1, NULL), 0);
	CHECK_INT(build(gadget_dir, s2, "repro:1", &out2, NULL), 0);
	d = built_digest(out1);
	if (d)
		snprintf(d1, sizeof(d1), "%s", d);
	d = built_digest(out2);
	CHECK(d1[0] && d && !strcmp(d1, d));
	free(out2);
	/* the same sources elsewhere: the same image (paths are not part of it) */
	{
		char copy[PATH_MAX + 32];

		snprintf(copy, sizeof(copy), "%s/elsewhere", tmp);
		mkdir(copy, 0755);
		snprintf(copy, sizeof(copy), "%s/elsewhere/deeper", tmp);
		make_gadget_dir(copy);
		CHECK_INT(build(copy, s2, "repro:2", &out2, NULL), 0);
		d = built_digest(out2);
		CHECK(d1[0] && d && !strcmp(d1, d));
		free(out2);
	}
	/* another time, another digest: the date is part of the image */
	setenv("SOURCE_DATE_EPOCH", "1600000001", 1);
	CHECK_INT(build(gadget_dir, s2, "repro:1", &out2, NULL), 0);
	d = built_digest(out2);
	CHECK(d && strcmp(d1, d));
	free(out1);
	free(out2);
	unsetenv("SOURCE_DATE_EPOCH");
}

static void test_compile_error(void)
{
	char dir[PATH_MAX + 16], path[PATH_MAX + 32], *out = NULL, *err = NULL;
	const char *argv[6];
	size_t errors = 0;

	snprintf(dir, sizeof(dir), "%s/broken", tmp);
	make_gadget_dir(dir);
	snprintf(path, sizeof(path), "%s/program.bpf.c", dir);
	test_write_file_or_abort(path, "#include <vmlinux.h>\nint f(void) { return undeclared_thing; }\n");
	argv[0] = "image";
	argv[1] = "build";
	argv[2] = dir;
	argv[3] = "--store";
	argv[4] = store;
	argv[5] = NULL;
	CHECK_INT(sonde_run_cmd(argv, &out, &err, 120000), 1);
	/* clang's own words, file:line:col, then one line of ours */
	CHECK(err && strstr(err, "program.bpf.c:2:"));
	CHECK(err && strstr(err, "undeclared_thing"));
	for (const char *p = err; p && (p = strstr(p, "sonde: error: ")); p++)
		errors++;
	CHECK_INT(errors, 1);
	CHECK(out && !strstr(out, "Successfully"));
	if (test_failures)
		fprintf(stderr, "stderr was:\n%s\n", err ? err : "");
	free(out);
	free(err);
}

static void test_bad_inputs(void)
{
	char empty[PATH_MAX + 16];
	const char *no_dir[] = {"image", "build", "/nonexistent-sonde-dir", "--store", store, NULL};
	const char *bad_arch[] = {"image", "build", gadget_dir, "--arch", "s390x", "--store", store, NULL};
	const char *nothing[] = {"image", "build", empty, "--store", store, NULL};

	snprintf(empty, sizeof(empty), "%s/empty", tmp);
	mkdir(empty, 0755);
	sonde_expect_error(no_dir, "is not a directory");
	sonde_expect_error(bad_arch, "not supported");
	sonde_expect_error(nothing, "nothing to build");
	/* an arch without its include/gadget/<arch>/vmlinux.h: test_image_load */
}

/* The blob `digest` of store parsed as JSON. */
static json_t *load_blob(const char *digest)
{
	char path[PATH_MAX + 128], *text;
	json_t *doc;

	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", store, digest + 7);
	text = test_read_file(path, NULL);
	doc = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	return doc;
}

/* --arch amd64,arm64: an index of two manifests in that order, each with one
 * eBPF layer that is an EM_BPF ELF with BTF (arm64's from
 * include/gadget/arm64/vmlinux.h, whatever the machine). */
static void test_multi_arch(void)
{
	const char *argv[] = {"image",   "build", gadget_dir, "--arch", "amd64,arm64",
	                      "--store", store,   "-t",       "both:1", NULL};
	static const char *const archs[] = {"amd64", "arm64"};
	char *out = NULL, *err = NULL;
	const char *digest;
	json_t *idx;

	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	CHECK_INT(sonde_run_cmd(argv, &out, &err, 120000), 0);
	CHECK(err && strstr(err, "compiling amd64 eBPF object") &&
	      strstr(err, "compiling arm64 eBPF object"));
	digest = built_digest(out);
	REQUIRE(digest);
	idx = load_blob(digest);
	REQUIRE(idx);
	CHECK_STR(test_json_str(idx, "mediaType"), "application/vnd.oci.image.index.v1+json");
	REQUIRE(json_array_size(json_object_get(idx, "manifests")) == 2);
	for (size_t i = 0; i < 2; i++) {
		json_t *m = json_array_get(json_object_get(idx, "manifests"), i), *man, *layers;
		char path[PATH_MAX + 128];
		unsigned char *obj;
		size_t len = 0;

		CHECK_STR(test_json_str(m, "platform.architecture"), archs[i]);
		CHECK_STR(test_json_str(m, "platform.os"), "linux");
		man = load_blob(test_json_str(m, "digest"));
		REQUIRE(man);
		layers = json_object_get(man, "layers");
		CHECK_INT(json_array_size(layers), 1);
		CHECK_STR(test_json_str(json_array_get(layers, 0), "mediaType"),
		          "application/vnd.gadget.ebpf.program.v1+binary");
		snprintf(path, sizeof(path), "%s/blobs/sha256/%s", store,
		         test_json_str(json_array_get(layers, 0), "digest") + 7);
		obj = (unsigned char *)test_read_file(path, &len);
		CHECK(test_is_bpf_elf_with_btf(obj, len));
		if (!test_is_bpf_elf_with_btf(obj, len))
			fprintf(stderr, "%s layer %s: not an EM_BPF ELF with .BTF\n", archs[i], path);
		free(obj);
		json_decref(man);
	}
	json_decref(idx);
	free(out);
	free(err);
	unsetenv("SOURCE_DATE_EPOCH");
}

/* No eBPF source, a gadget.yaml and a program.wasm: one manifest per arch
 * with the wasm layer alone, and gadget.yaml's annotations on it. */
static void test_wasm_metadata_only(void)
{
	char dir[PATH_MAX + 16], path[PATH_MAX + 32], *out = NULL;
	const char *digest, *arg[] = {"image", "build", dir, "--store", store, "-t", "wasm_only:1", NULL};
	json_t *idx, *man = NULL, *layers;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/wasm_only", tmp);
	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/gadget.yaml", dir);
	test_write_file_or_abort(path, "name: wasm only\ndescription: no eBPF here\n"
	                               "annotations:\n  example.com/k: v\n");
	snprintf(path, sizeof(path), "%s/program.wasm", dir);
	f = fopen(path, "w");
	REQUIRE(f);
	fwrite("\0asm\1\0\0\0", 1, 8, f);
	fclose(f);
	CHECK_INT(sonde_run_cmd(arg, &out, NULL, 60000), 0);
	digest = built_digest(out);
	REQUIRE(digest);
	idx = load_blob(digest);
	REQUIRE(idx);
	/* both archs: no compiler, no vmlinux.h needed */
	CHECK_INT(json_array_size(json_object_get(idx, "manifests")), 2);
	CHECK_STR(
	    test_json_str(json_array_get(json_object_get(idx, "manifests"), 0), "platform.architecture"),
	    "amd64");
	CHECK_STR(
	    test_json_str(json_array_get(json_object_get(idx, "manifests"), 1), "platform.architecture"),
	    "arm64");
	CHECK_STR(json_string_value(json_object_get(json_object_get(idx, "annotations"), "example.com/k")),
	          "v");
	CHECK_STR(json_string_value(
	              json_object_get(json_object_get(idx, "annotations"), "org.opencontainers.image.title")),
	          "wasm only");
	man = load_blob(test_json_str(json_array_get(json_object_get(idx, "manifests"), 0), "digest"));
	REQUIRE(man);
	CHECK_STR(test_json_str(man, "artifactType"), "application/vnd.gadget.v1+binary");
	CHECK_STR(test_json_str(man, "config.mediaType"), "application/vnd.gadget.config.v1+yaml");
	layers = json_object_get(man, "layers");
	CHECK_INT(json_array_size(layers), 1);
	CHECK_STR(test_json_str(json_array_get(layers, 0), "mediaType"),
	          "application/vnd.gadget.wasm.program.v1+binary");
	CHECK_INT(test_json_int(json_array_get(layers, 0), "size", 0), 8);
	json_decref(man);
	json_decref(idx);
	free(out);
}

/* ---- running what was built ---- */

#define CHILD_COMM "imgbuild_open"

static int open_as_child(void *arg)
{
	int fd;

	prctl(PR_SET_NAME, CHILD_COMM);
	fd = open((const char *)arg, O_RDONLY);
	if (fd >= 0)
		close(fd);
	return 0;
}

/* Runs `what` (a reference of our store, or a directory) and expects the
 * child's open in its events. */
static void expect_event(const char *what)
{
	char path[PATH_MAX + 32];
	const char *argv[] = {"run", what, "--store", store, "--host", "-o", "json", "-v", NULL};
	struct test_child c;
	char *out;
	json_t *all;

	snprintf(path, sizeof(path), "%s/opened-by-child", tmp);
	test_write_file_or_abort(path, "x");
	test_child_start(&c, open_as_child, path);
	out = sonde_run_around_child(argv, &c, path, NULL);
	all = test_json_lines(out ? out : "");
	CHECK(test_json_find(all, "fname", path));
	if (!test_json_find(all, "fname", path))
		fprintf(stderr, "%s: no event for %s in:\n%.2000s\n", what, path, out ? out : "(no output)");
	json_decref(all);
	free(out);
}

static void test_run_from_store(void)
{
	char *out = NULL;

	unsetenv("SOURCE_DATE_EPOCH");
	CHECK_INT(build(gadget_dir, store, "run_me:latest", &out, NULL), 0);
	free(out);
	/* built here: nothing to verify, it runs as is */
	expect_event("run_me");
}

/* The same image carried to another store by an archive is verified like
 * any image from elsewhere: the archive cannot claim it was built there. */
static void test_imported_copy_is_verified(void)
{
	char tar[PATH_MAX], other[PATH_MAX];

	snprintf(tar, sizeof(tar), "%s/run_me.tar", tmp);
	snprintf(other, sizeof(other), "%s/other-store", tmp);
	{
		const char *argv[] = {"image", "export", "run_me:latest", tar, "--store", store, NULL};

		CHECK_INT(sonde_run_cmd(argv, NULL, NULL, 60000), 0);
	}
	{
		const char *argv[] = {"image", "import", tar, "--store", other, NULL};

		CHECK_INT(sonde_run_cmd(argv, NULL, NULL, 60000), 0);
	}
	{
		const char *argv[] = {"run", "run_me:latest", "--store", other, "-t", "1", NULL};

		sonde_expect_error(argv, "is not signed");
	}
}

static void test_run_dir(void)
{
	char before[PATH_MAX + 16], *idx1, *idx2;

	snprintf(before, sizeof(before), "%s/index.json", store);
	idx1 = test_read_file(before, NULL);
	expect_event(gadget_dir);
	/* nothing stored */
	idx2 = test_read_file(before, NULL);
	CHECK(idx1 && idx2 && !strcmp(idx1, idx2));
	free(idx1);
	free(idx2);
}

static void test_cleanup(void)
{
	test_rm_tree(tmp, TMP_PREFIX);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
	    TEST(test_build_tag_skopeo), TEST(test_reproducible),
	    TEST(test_compile_error),    TEST(test_bad_inputs),
	    TEST(test_multi_arch),       TEST(test_wasm_metadata_only),
	    TEST(test_run_from_store),   TEST(test_imported_copy_is_verified),
	    TEST(test_run_dir),          TEST(test_cleanup),
	};

	setup();
	return test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
