/* The image workflow end to end, as a gadget author runs it against a real
 * registry: build → list → inspect → push → remove → pull → verify → run.
 * The image is signed in cosign's legacy format before the push (openssl,
 * as `cosign sign --key` would), so the pull brings the signature along and
 * the run verifies it from the local store. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cosign_sign.h"
#include "registry.h"
#include "testlib.h"

#define TMP_PREFIX "/tmp/sonde-test-workflow."

static char tmp[] = TMP_PREFIX "XXXXXX";
static char gadget_dir[PATH_MAX], store_a[PATH_MAX], store_b[PATH_MAX], pub[PATH_MAX], key[PATH_MAX];
static char other_pub[PATH_MAX], repo[128], ref[160];
static struct test_registry reg = {.pid = -1};

static void copy_file(const char *from, const char *to)
{
	size_t len;
	char *text = test_read_file(from, &len);

	if (!text)
		abort();
	test_write_file_or_abort(to, text);
	free(text);
}

static void setup(void)
{
	char reg_dir[256], keys_b[256];

	test_require_root();
	if (!test_have("clang") && !test_have("clang-19"))
		test_skip_dep("clang");
	if (!test_have("docker-registry"))
		test_skip_dep("docker-registry");
	if (!mkdtemp(tmp))
		abort();
	snprintf(gadget_dir, sizeof(gadget_dir), "%s/my_open", tmp);
	snprintf(store_a, sizeof(store_a), "%s/author-store", tmp);
	snprintf(store_b, sizeof(store_b), "%s/user-store", tmp);
	snprintf(reg_dir, sizeof(reg_dir), "%s/registry", tmp);
	snprintf(keys_b, sizeof(keys_b), "%s/other-key", tmp);
	if (mkdir(gadget_dir, 0755) || mkdir(keys_b, 0700))
		abort();
	{
		char to[PATH_MAX + 32];

		snprintf(to, sizeof(to), "%s/program.bpf.c", gadget_dir);
		copy_file(SONDE_SOURCE_DIR "/gadgets/trace_open/program.bpf.c", to);
		snprintf(to, sizeof(to), "%s/gadget.yaml", gadget_dir);
		copy_file(SONDE_SOURCE_DIR "/gadgets/trace_open/gadget.yaml", to);
	}
	if (test_cosign_make_key(tmp) || test_cosign_make_key(keys_b))
		abort();
	snprintf(key, sizeof(key), "%s/key.pem", tmp);
	snprintf(pub, sizeof(pub), "%s/pub.pem", tmp);
	snprintf(other_pub, sizeof(other_pub), "%s/pub.pem", keys_b);
	if (test_registry_start(&reg, reg_dir, NULL, NULL, NULL))
		abort();
	snprintf(repo, sizeof(repo), "%s/demo/my_open", reg.host);
	snprintf(ref, sizeof(ref), "%s:v1", repo);
}

/* Runs sonde, expecting success; its stdout (caller frees) in *out. */
static void ok(const char *const *argv, char **out)
{
	char *err = NULL;
	int rc = sonde_run_cmd(argv, out, &err, 120000);

	if (rc != 0)
		fprintf(stderr, "sonde %s %s: exit %d\n%s\n", argv[0], argv[1], rc, err ? err : "");
	CHECK_INT(rc, 0);
	free(err);
}

static int open_as_child(void *arg)
{
	FILE *f = fopen(arg, "r");

	if (f)
		fclose(f);
	return 0;
}

static void test_workflow(void)
{
	char digest[80] = "", *out = NULL, path[PATH_MAX + 32];
	const char *at;

	/* build, tagged for the registry, into the author's store */
	{
		const char *argv[] = {"image", "build", gadget_dir, "-t", ref, "--store", store_a, NULL};

		ok(argv, &out);
		at = out ? strstr(out, "@sha256:") : NULL;
		CHECK(at != NULL);
		if (at)
			snprintf(digest, sizeof(digest), "%.71s", at + 1);
		free(out);
	}
	/* list shows it, inspect describes it without loading it */
	{
		const char *argv[] = {"image", "list", "--store", store_a, "--no-trunc", NULL};

		ok(argv, &out);
		CHECK(out && strstr(out, repo) && strstr(out, "v1") && strstr(out, digest + 7));
		free(out);
	}
	{
		const char *argv[] = {"image", "inspect", ref, "--store", store_a, "-o", "json", NULL};
		json_t *doc, *ds;

		ok(argv, &out);
		doc = out ? json_loads(out, 0, NULL) : NULL;
		CHECK_STR(json_string_value(json_object_get(doc, "oci.digest")), digest);
		ds = json_array_get(json_object_get(doc, "dataSources"), 0);
		CHECK_STR(json_string_value(json_object_get(ds, "name")), "open");
		CHECK(json_array_size(json_object_get(doc, "ebpf.programs")) > 0);
		json_decref(doc);
		free(out);
	}
	/* sign, push (the signature goes along), remove from the author's store */
	CHECK_INT(test_cosign_sign(store_a, repo, digest, key), 0);
	{
		const char *argv[] = {"image",  "push", ref, "--store", store_a, "--insecure-registries",
		                      reg.host, NULL};

		ok(argv, NULL);
	}
	{
		const char *argv[] = {"image", "remove", ref, "--store", store_a, NULL};
		const char *list[] = {"image", "list", "--store", store_a, NULL};

		ok(argv, NULL);
		ok(list, &out);
		CHECK(out && !strstr(out, repo));
		free(out);
	}
	/* a user pulls it into another store: same digest, signature included */
	{
		const char *argv[] = {"image",  "pull", ref, "--store", store_b, "--insecure-registries",
		                      reg.host, NULL};

		ok(argv, &out);
		CHECK(out && strstr(out, digest));
		free(out);
	}
	{
		const char *argv[] = {"image", "verify", ref, "--store", store_b, "--public-keys", pub, NULL};
		const char *wrong[] = {"image", "verify",        ref,       "--store",
		                       store_b, "--public-keys", other_pub, NULL};

		ok(argv, NULL);
		sonde_expect_error(wrong, "none made by the given public key");
	}
	/* and runs it, offline (--pull never), verified against the key */
	{
		const char *argv[] = {"run", ref,      "--store", store_b, "--pull", "never", "--public-keys",
		                      pub,   "--host", "-o",      "json",  "-v",     NULL};
		struct test_child c;
		json_t *all;

		snprintf(path, sizeof(path), "%s/opened-by-child", tmp);
		test_write_file_or_abort(path, "x");
		test_child_start(&c, open_as_child, path);
		out = sonde_run_around_child(argv, &c, path, NULL);
		all = test_json_lines(out ? out : "");
		CHECK(test_json_find(all, "fname", path));
		json_decref(all);
		free(out);
	}
}

static void test_cleanup(void)
{
	test_registry_stop(&reg);
	test_rm_tree(tmp, TMP_PREFIX);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
	    TEST(test_workflow),
	    TEST(test_cleanup),
	};

	setup();
	return test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
