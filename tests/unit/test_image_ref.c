/* Image references: normalisation exactly as upstream's (spec §1.4). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sonde/image.h>

#include "testlib.h"

static void expect(const char *in, const char *full, const char *repo)
{
	struct sonde_image_ref r;
	char buf[1024];
	int err = sonde_image_ref_parse(in, &r);
	if (err) {
		fprintf(stderr, "parse \"%s\" failed: %d\n", in, err);
		test_failures++;
		return;
	}
	CHECK_INT(sonde_image_ref_format(&r, buf, sizeof(buf)), 0);
	CHECK_STR(buf, full);
	CHECK_INT(sonde_image_ref_repository(&r, buf, sizeof(buf)), 0);
	CHECK_STR(buf, repo);
}

static void test_short_names(void)
{
	expect("trace_open", "ghcr.io/inspektor-gadget/gadget/trace_open:latest",
	       "ghcr.io/inspektor-gadget/gadget/trace_open");
	expect("trace_open:v0.28.0", "ghcr.io/inspektor-gadget/gadget/trace_open:v0.28.0",
	       "ghcr.io/inspektor-gadget/gadget/trace_open");
	/* Two components without a domain: ghcr.io, but no gadget prefix. */
	expect("myorg/mygadget:1", "ghcr.io/myorg/mygadget:1", "ghcr.io/myorg/mygadget");
	expect("ghcr.io/trace_exec", "ghcr.io/inspektor-gadget/gadget/trace_exec:latest",
	       "ghcr.io/inspektor-gadget/gadget/trace_exec");
	expect("ghcr.io/inspektor-gadget/gadget/trace_open:latest",
	       "ghcr.io/inspektor-gadget/gadget/trace_open:latest",
	       "ghcr.io/inspektor-gadget/gadget/trace_open");
}

static void test_domains(void)
{
	expect("localhost/foo", "localhost/foo:latest", "localhost/foo");
	expect("localhost:5000/foo/bar:t1", "localhost:5000/foo/bar:t1", "localhost:5000/foo/bar");
	expect("127.0.0.1:5000/g:dev", "127.0.0.1:5000/g:dev", "127.0.0.1:5000/g");
	expect("docker.io/library/x", "docker.io/library/x:latest", "docker.io/library/x");
	expect("example.com/a.b/c__d/e-f--g", "example.com/a.b/c__d/e-f--g:latest",
	       "example.com/a.b/c__d/e-f--g");
	/* Upper case first component = a host name (docker's rule). */
	expect("Registry/foo", "Registry/foo:latest", "Registry/foo");
}

static void test_digests(void)
{
	const char *d = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
	char in[256], want[256];
	struct sonde_image_ref r;

	snprintf(in, sizeof(in), "trace_open@%s", d);
	snprintf(want, sizeof(want), "ghcr.io/inspektor-gadget/gadget/trace_open@%s", d);
	expect(in, want, "ghcr.io/inspektor-gadget/gadget/trace_open");
	REQUIRE(sonde_image_ref_parse(in, &r) == 0);
	CHECK_STR(r.tag, "");
	CHECK_STR(r.digest, d);

	snprintf(in, sizeof(in), "localhost:5000/x:v1@%s", d);
	REQUIRE(sonde_image_ref_parse(in, &r) == 0);
	CHECK_STR(r.tag, "v1");
	CHECK_STR(r.digest, d);
	CHECK_STR(r.domain, "localhost:5000");
}

static void test_invalid(void)
{
	static const char *const bad[] = {
	    "",
	    "Trace_Open",
	    "foo/Bar",
	    "foo:",
	    "foo:-bad",
	    "foo@sha256:abc",
	    "foo@md5:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
	    "foo//bar",
	    "foo/",
	    "/foo",
	    "foo..bar",
	    "-foo",
	    "foo_",
	    "localhost:abc/foo",
	    "exa_mple.com/foo",
	    "foo bar",
	};
	struct sonde_image_ref r;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sonde_image_ref_parse(bad[i], &r) != -EINVAL) {
			fprintf(stderr, "\"%s\" was accepted\n", bad[i]);
			test_failures++;
		}
	}
	char longname[400];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK_INT(sonde_image_ref_parse(longname, &r), -EINVAL);
}

static void test_default_store_dir(void)
{
	char buf[4096];
	if (geteuid() == 0) {
		REQUIRE(sonde_image_store_default_dir(buf, sizeof(buf)) == 0);
		CHECK_STR(buf, "/var/lib/sonde/oci-store");
		return;
	}
	setenv("XDG_DATA_HOME", "/x/data", 1);
	REQUIRE(sonde_image_store_default_dir(buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "/x/data/sonde/oci-store");
	unsetenv("XDG_DATA_HOME");
	setenv("HOME", "/home/u", 1);
	REQUIRE(sonde_image_store_default_dir(buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "/home/u/.local/share/sonde/oci-store");
}

TEST_MAIN(TEST(test_short_names), TEST(test_domains), TEST(test_digests), TEST(test_invalid),
          TEST(test_default_store_dir))
