/* What a registry sends and what the auth file holds: WWW-Authenticate
 * challenges, error bodies, and the docker config.json read and written. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"
#include "image/registry.h"

static void test_challenge_bearer(void)
{
	struct registry_challenge ch;

	CHECK_INT(registry_challenge_parse(
	              "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
	              "scope=\"repository:library/alpine:pull\"",
	              &ch),
	          0);
	CHECK_INT(ch.scheme, REGISTRY_AUTH_BEARER);
	CHECK_STR(ch.realm, "https://auth.docker.io/token");
	CHECK_STR(ch.service, "registry.docker.io");
	CHECK_STR(ch.scope, "repository:library/alpine:pull");
	CHECK_STR(ch.error, "");

	/* ghcr.io's form: blanks after commas, a scope with two actions, an error */
	CHECK_INT(registry_challenge_parse("bearer  realm=\"https://ghcr.io/token\", service=\"ghcr.io\", "
	                                   "scope=\"repository:a/b:pull,push\", error=\"insufficient_scope\"",
	                                   &ch),
	          0);
	CHECK_INT(ch.scheme, REGISTRY_AUTH_BEARER);
	CHECK_STR(ch.realm, "https://ghcr.io/token");
	CHECK_STR(ch.scope, "repository:a/b:pull,push");
	CHECK_STR(ch.error, "insufficient_scope");

	/* token (unquoted) values and an escaped quote */
	CHECK_INT(registry_challenge_parse("Bearer realm=https://r/t,service=svc,scope=\"a\\\"b\"", &ch), 0);
	CHECK_STR(ch.realm, "https://r/t");
	CHECK_STR(ch.service, "svc");
	CHECK_STR(ch.scope, "a\"b");
}

static void test_challenge_basic_and_several(void)
{
	struct registry_challenge ch;

	CHECK_INT(registry_challenge_parse("Basic realm=\"Registry Realm\"", &ch), 0);
	CHECK_INT(ch.scheme, REGISTRY_AUTH_BASIC);
	CHECK_STR(ch.realm, "Registry Realm");

	/* two challenges in one value: Bearer wins, its params are its own */
	CHECK_INT(
	    registry_challenge_parse("Basic realm=\"basic\", Bearer realm=\"https://t\",service=\"s\"", &ch),
	    0);
	CHECK_INT(ch.scheme, REGISTRY_AUTH_BEARER);
	CHECK_STR(ch.realm, "https://t");
	CHECK_STR(ch.service, "s");
	CHECK_INT(registry_challenge_parse("Bearer realm=\"https://t\", Basic realm=\"b\"", &ch), 0);
	CHECK_INT(ch.scheme, REGISTRY_AUTH_BEARER);
	CHECK_STR(ch.realm, "https://t");

	/* an unknown scheme with a token68 first */
	CHECK_INT(registry_challenge_parse("Negotiate abc==, Basic realm=x", &ch), 0);
	CHECK_INT(ch.scheme, REGISTRY_AUTH_BASIC);
	CHECK_STR(ch.realm, "x");
}

static void test_challenge_bad(void)
{
	struct registry_challenge ch;
	char big[5000];

	CHECK_INT(registry_challenge_parse("", &ch), -EINVAL);
	CHECK_INT(registry_challenge_parse(NULL, &ch), -EINVAL);
	CHECK_INT(registry_challenge_parse("Negotiate", &ch), -EINVAL);
	CHECK_INT(registry_challenge_parse("realm=\"x\"", &ch), -EINVAL);
	CHECK_INT(registry_challenge_parse(",,,  ,", &ch), -EINVAL);
	/* an unterminated quote ends at the end */
	CHECK_INT(registry_challenge_parse("Bearer realm=\"https://t", &ch), 0);
	CHECK_STR(ch.realm, "https://t");
	/* a realm longer than its field is cut, not overflowed */
	memset(big, 'a', sizeof(big));
	memcpy(big, "Bearer realm=\"", 14);
	big[sizeof(big) - 1] = 0;
	CHECK_INT(registry_challenge_parse(big, &ch), 0);
	CHECK_INT(strlen(ch.realm), sizeof(ch.realm) - 1);
}

static void test_error_text(void)
{
	char out[256];
	const char *two = "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\","
	                  "\"detail\":{\"Tag\":\"x\"}},{\"code\":\"DENIED\",\"message\":\"no\"}]}";
	const char *tmr = "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\"}]}";
	const char *html = "\n<html>bad\x1b[31m gateway</html>\nmore";
	const char *uni = "{\"errors\":[{\"code\":\"X\",\"message\":\"caf\\u00e9\\n\"}]}";

	registry_error_text(two, strlen(two), out, sizeof(out));
	CHECK_STR(out, "MANIFEST_UNKNOWN: manifest unknown; DENIED: no");
	registry_error_text(tmr, strlen(tmr), out, sizeof(out));
	CHECK_STR(out, "TOOMANYREQUESTS");
	/* not JSON: the first line of the text, control bytes replaced */
	registry_error_text(html, strlen(html), out, sizeof(out));
	CHECK_STR(out, "<html>bad?[31m gateway</html>");
	registry_error_text("", 0, out, sizeof(out));
	CHECK_STR(out, "");
	/* a JSON error of another shape says nothing rather than JSON noise */
	registry_error_text("{\"errors\":42}", strlen("{\"errors\":42}"), out, sizeof(out));
	CHECK_STR(out, "");
	/* cut to the buffer */
	registry_error_text(two, strlen(two), out, 10);
	CHECK_INT(strlen(out), 9);
	/* non-ASCII becomes '?' */
	registry_error_text(uni, strlen(uni), out, sizeof(out));
	CHECK_STR(out, "X: caf???");
}

static char tmpdir[] = "/tmp/sonde-test-authfile.XXXXXX";

static void test_authfile_lookup(void)
{
	struct registry_creds c;
	bool found;
	/* dXNlcjpwYTpzcw== is user:pa:ss (a password may hold ':') */
	const char *text = "{\"auths\":{\"127.0.0.1:5000\":{\"auth\":\"dXNlcjpwYTpzcw==\"},"
	                   "\"https://index.docker.io/v1/\":{\"auth\":\"aHViOmh1YnB3\"},"
	                   "\"podman.example\":{\"username\":\"pu\",\"password\":\"pp\"},"
	                   "\"bad.example\":{\"auth\":\"!!!\"}}}";

	CHECK_INT(authfile_lookup_text(text, strlen(text), "127.0.0.1:5000", &c, &found), 0);
	CHECK(found);
	CHECK_STR(c.user, "user");
	CHECK_STR(c.password, "pa:ss");
	CHECK_INT(authfile_lookup_text(text, strlen(text), "docker.io", &c, &found), 0);
	CHECK(found);
	CHECK_STR(c.user, "hub");
	CHECK_STR(c.password, "hubpw");
	CHECK_INT(authfile_lookup_text(text, strlen(text), "podman.example", &c, &found), 0);
	CHECK(found);
	CHECK_STR(c.password, "pp");
	CHECK_INT(authfile_lookup_text(text, strlen(text), "other:1", &c, &found), 0);
	CHECK(!found);
	CHECK_INT(authfile_lookup_text(text, strlen(text), "bad.example", &c, &found), -EINVAL);
	CHECK(!found);
	CHECK_INT(authfile_lookup_text("[]", 2, "x", &c, &found), -EINVAL);
	CHECK_INT(authfile_lookup_text("{}", 2, "x", &c, &found), 0);
	CHECK(!found);
}

static void test_authfile_store(void)
{
	struct registry_creds c = {.user = "me", .password = "s3cret"}, got;
	char path[256], *text;
	struct stat st;
	bool found;

	REQUIRE(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/sub/dir/config.json", tmpdir);
	/* removing from a file that does not exist: -ENOENT, nothing created */
	CHECK_INT(authfile_store(path, "h:1", NULL, false), -ENOENT);
	CHECK(access(path, F_OK) != 0);
	CHECK_INT(authfile_store(path, "h:1", &c, false), 0);
	REQUIRE(stat(path, &st) == 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	CHECK_INT(authfile_lookup(path, "h:1", &got, &found), 0);
	CHECK(found);
	CHECK_STR(got.user, "me");
	CHECK_STR(got.password, "s3cret");
	/* what else the file holds is kept */
	test_write_file_or_abort(path,
	                         "{\"credsStore\":\"x\",\"auths\":{\"h:1\":{\"auth\":\"bWU6czNjcmV0\"}}}");
	CHECK_INT(authfile_store(path, "h:2", &c, false), 0);
	text = test_read_file(path, NULL);
	REQUIRE(text);
	CHECK(strstr(text, "\"credsStore\": \"x\""));
	CHECK(strstr(text, "\"h:1\""));
	CHECK(strstr(text, "\"h:2\""));
	free(text);
	CHECK_INT(authfile_store(path, "h:1", NULL, false), 0);
	CHECK_INT(authfile_lookup(path, "h:1", &got, &found), 0);
	CHECK(!found);
	CHECK_INT(authfile_lookup(path, "h:2", &got, &found), 0);
	CHECK(found);
	CHECK_INT(authfile_store(path, "h:1", NULL, false), -ENOENT);
	CHECK_INT(authfile_store(path, NULL, NULL, true), 0);
	CHECK_INT(authfile_lookup(path, "h:2", &got, &found), 0);
	CHECK(!found);
	/* a file that is not an auth file is not rewritten */
	test_write_file_or_abort(path, "not json");
	CHECK_INT(authfile_store(path, "h:1", &c, false), -EINVAL);
	text = test_read_file(path, NULL);
	CHECK_STR(text, "not json");
	free(text);
	test_rm_tree(tmpdir, "/tmp/sonde-test-authfile.");
}

static void test_authfile_paths(void)
{
	char buf[512];

	setenv("REGISTRY_AUTH_FILE", "/x/auth.json", 1);
	CHECK_INT(authfile_read_path(NULL, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "/x/auth.json");
	CHECK_INT(authfile_read_path("/explicit.json", buf, sizeof(buf)), 0);
	CHECK_STR(buf, "/explicit.json");
	unsetenv("REGISTRY_AUTH_FILE");
	if (geteuid() == 0) {
		CHECK_INT(authfile_write_path(NULL, buf, sizeof(buf)), 0);
		CHECK_STR(buf, "/var/lib/sonde/config.json");
	}
	/* the default missing: docker's file */
	if (access("/var/lib/sonde/config.json", F_OK) != 0) {
		setenv("DOCKER_CONFIG", "/dockercfg", 1);
		CHECK_INT(authfile_read_path(NULL, buf, sizeof(buf)), 0);
		if (geteuid() == 0)
			CHECK_STR(buf, "/dockercfg/config.json");
		unsetenv("DOCKER_CONFIG");
	}
}

static void test_client_repo(void)
{
	struct registry_client *c = NULL;

	setenv("REGISTRY_AUTH_FILE", "/nonexistent/sonde-auth.json", 1);
	REQUIRE(registry_client_new("docker.io", "alpine", NULL, &c) == 0);
	CHECK_STR(registry_client_repo(c), "library/alpine");
	registry_client_free(c);
	REQUIRE(registry_client_new("docker.io", "org/img", NULL, &c) == 0);
	CHECK_STR(registry_client_repo(c), "org/img");
	registry_client_free(c);
	REQUIRE(registry_client_new("ghcr.io", "solo", NULL, &c) == 0);
	CHECK_STR(registry_client_repo(c), "solo");
	registry_client_free(c);
	unsetenv("REGISTRY_AUTH_FILE");
}

TEST_MAIN(TEST(test_challenge_bearer), TEST(test_challenge_basic_and_several), TEST(test_challenge_bad),
          TEST(test_error_text), TEST(test_authfile_lookup), TEST(test_authfile_store),
          TEST(test_authfile_paths), TEST(test_client_repo))
