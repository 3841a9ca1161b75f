/* passwd/group parsing and the inotify refresh of the name cache. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/name_cache.h"
#include "testlib.h"

static struct id_names *parse(const char *text)
{
	return id_names_parse(text, strlen(text));
}

static void test_parse_basic(void)
{
	struct id_names *t = parse("root:x:0:0:root:/root:/bin/bash\n"
	                           "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
	                           "alice:x:1000:1000:Alice,,,:/home/alice:/bin/sh");

	REQUIRE(t);
	CHECK_INT(id_names_count(t), 3);
	CHECK_STR(id_names_get(t, 0), "root");
	CHECK_STR(id_names_get(t, 1), "daemon");
	CHECK_STR(id_names_get(t, 1000), "alice"); /* last line without a newline */
	CHECK(id_names_get(t, 2) == NULL);
	CHECK(id_names_get(t, 999) == NULL);
	id_names_free(t);
}

/* group(5) lines have 4 fields; only name and id matter. */
static void test_parse_group_format(void)
{
	struct id_names *t = parse("root:x:0:\nsudo:x:27:alice,bob\nusers:x:100:\n");

	REQUIRE(t);
	CHECK_INT(id_names_count(t), 3);
	CHECK_STR(id_names_get(t, 27), "sudo");
	CHECK_STR(id_names_get(t, 100), "users");
	id_names_free(t);
}

static void test_parse_comments_blanks_short_lines(void)
{
	struct id_names *t = parse("# comment:x:5:5\n"
	                           "\n"
	                           "   \t\n"
	                           "  \tindented:x:7:7::/:/bin/sh\n"
	                           "   # indented comment:x:8:8\n"
	                           "short:x\n"
	                           "onlyname\n"
	                           "two:fields:\n"
	                           ":x:9:9::/:\n"         /* no name */
	                           "+::::::\n"            /* NIS include */
	                           "crlf:x:10:10::/:\r\n" /* CR before the newline */
	                           "noid:x::1::/:\n"
	                           "neg:x:-1:1::/:\n"
	                           "plus:x:+12:1::/:\n"
	                           "space:x: 13:1::/:\n"
	                           "hex:x:0x10:1::/:\n"
	                           "threefields:x:11\n");

	REQUIRE(t);
	CHECK_STR(id_names_get(t, 7), "indented");
	CHECK(id_names_get(t, 5) == NULL);
	CHECK(id_names_get(t, 8) == NULL);
	CHECK(id_names_get(t, 9) == NULL);
	CHECK_STR(id_names_get(t, 10), "crlf");
	CHECK_STR(id_names_get(t, 11), "threefields");
	CHECK(id_names_get(t, 12) == NULL);
	CHECK(id_names_get(t, 13) == NULL);
	CHECK(id_names_get(t, 16) == NULL);
	CHECK(id_names_get(t, 0) == NULL);
	CHECK_INT(id_names_count(t), 3);
	id_names_free(t);
}

static void test_parse_huge_ids(void)
{
	struct id_names *t = parse("max:x:4294967295:1::/:\n"
	                           "over:x:4294967296:1::/:\n"
	                           "way:x:99999999999999999999999:1::/:\n"
	                           "nobody:x:65534:65534::/:\n"
	                           "zeros:x:0000000000042:1::/:\n");

	REQUIRE(t);
	CHECK_STR(id_names_get(t, 4294967295u), "max");
	CHECK_STR(id_names_get(t, 65534), "nobody");
	/* 4294967296 must not wrap to 0 */
	CHECK(id_names_get(t, 0) == NULL);
	/* leading zeros are fine, as with strconv.ParseUint */
	CHECK_STR(id_names_get(t, 42), "zeros");
	CHECK_INT(id_names_count(t), 3);
	id_names_free(t);
}

/* The same name with two ids resolves both; the same id twice keeps the first
 * line (getpwuid order). */
static void test_parse_duplicates(void)
{
	struct id_names *t = parse("root:x:0:0::/:\n"
	                           "toor:x:0:0::/:\n"
	                           "svc:x:500:500::/:\n"
	                           "svc:x:501:501::/:\n");

	REQUIRE(t);
	CHECK_STR(id_names_get(t, 0), "root");
	CHECK_STR(id_names_get(t, 500), "svc");
	CHECK_STR(id_names_get(t, 501), "svc");
	CHECK_INT(id_names_count(t), 3);
	id_names_free(t);
}

static void test_parse_empty_and_binary(void)
{
	static const char bin[] = "a:x:1:1\0junk:x:2:2\nb:x:3:3\n";
	struct id_names *t = parse("");

	REQUIRE(t);
	CHECK_INT(id_names_count(t), 0);
	CHECK(id_names_get(t, 0) == NULL);
	id_names_free(t);
	t = id_names_parse(bin, sizeof(bin) - 1);
	REQUIRE(t);
	CHECK_STR(id_names_get(t, 3), "b");
	id_names_free(t);
	CHECK(id_names_get(NULL, 0) == NULL);
	id_names_free(NULL);
}

/* Many entries: the table grows and every id is found. */
static void test_parse_many(void)
{
	size_t cap = 20000 * 32, len = 0;
	char *text = malloc(cap), name[32];
	struct id_names *t;
	bool all = true;

	REQUIRE(text);
	for (int i = 0; i < 20000; i++)
		len += (size_t)snprintf(text + len, cap - len, "u%d:x:%d:1::/:\n", i, i * 7);
	t = id_names_parse(text, len);
	free(text);
	REQUIRE(t);
	CHECK_INT(id_names_count(t), 20000);
	for (int i = 0; i < 20000 && all; i++) {
		snprintf(name, sizeof(name), "u%d", i);
		all = id_names_get(t, (uint32_t)i * 7) && !strcmp(id_names_get(t, (uint32_t)i * 7), name);
	}
	CHECK(all);
	CHECK(id_names_get(t, 8) == NULL);
	id_names_free(t);
}

/* ---- files ---- */

static char dir[64];
static char passwd[128], group[128];

static void write_file(const char *path, const char *text)
{
	char tmp[256];
	FILE *f;

	/* replace atomically, as useradd and vipw do */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.new", path) >= sizeof(tmp))
		abort();
	f = fopen(tmp, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
	if (rename(tmp, path))
		abort();
}

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sonde-names-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(passwd, sizeof(passwd), "%s/passwd", dir);
	snprintf(group, sizeof(group), "%s/group", dir);
}

static void remove_dir(void)
{
	char path[256];

	unlink(passwd);
	unlink(group);
	snprintf(path, sizeof(path), "%s/other", dir);
	unlink(path);
	rmdir(dir);
}

static void test_load_missing_file(void)
{
	int err = 0;
	struct id_names *t = id_names_load("/nonexistent/sonde/passwd", &err);

	REQUIRE(t);
	CHECK_INT(err, -ENOENT);
	CHECK_INT(id_names_count(t), 0);
	id_names_free(t);
}

static void test_cache_missing_files(void)
{
	struct name_cache *c;

	make_dir();
	c = name_cache_new(passwd, group); /* neither exists yet */
	REQUIRE(c);
	CHECK(name_cache_user(c, 0) == NULL);
	CHECK(name_cache_group(c, 0) == NULL);
	CHECK(name_cache_fd(c) >= 0);
	/* created later: picked up */
	write_file(passwd, "late:x:42:42::/:\n");
	CHECK_INT(name_cache_handle_events(c), 1);
	CHECK_STR(name_cache_user(c, 42), "late");
	CHECK(name_cache_group(c, 42) == NULL);
	name_cache_free(c);
	remove_dir();
}

static void test_cache_refresh(void)
{
	struct name_cache *c;
	char other[256];
	FILE *f;

	make_dir();
	write_file(passwd, "root:x:0:0::/:\nalice:x:1000:1000::/:\n");
	write_file(group, "root:x:0:\nstaff:x:50:\n");
	c = name_cache_new(passwd, group);
	REQUIRE(c);
	CHECK_STR(name_cache_user(c, 1000), "alice");
	CHECK_STR(name_cache_group(c, 50), "staff");
	CHECK_INT(name_cache_handle_events(c), 0); /* nothing happened */

	/* replaced by rename */
	write_file(passwd, "root:x:0:0::/:\nbob:x:1000:1000::/:\n");
	CHECK_INT(name_cache_handle_events(c), 1);
	CHECK_STR(name_cache_user(c, 1000), "bob");
	CHECK_STR(name_cache_group(c, 50), "staff");

	/* modified in place (append) */
	f = fopen(group, "a");
	REQUIRE(f);
	fputs("wheel:x:10:\n", f);
	fclose(f);
	CHECK_INT(name_cache_handle_events(c), 1);
	CHECK_STR(name_cache_group(c, 10), "wheel");
	CHECK_STR(name_cache_group(c, 50), "staff");

	/* another file in the same directory changes nothing */
	snprintf(other, sizeof(other), "%s/other", dir);
	write_file(other, "x");
	CHECK_INT(name_cache_handle_events(c), 0);

	/* several changes in one batch: one reload per file */
	write_file(passwd, "carol:x:1000:1000::/:\n");
	write_file(passwd, "dave:x:1000:1000::/:\n");
	CHECK_INT(name_cache_handle_events(c), 1);
	CHECK_STR(name_cache_user(c, 1000), "dave");
	CHECK(name_cache_user(c, 0) == NULL);

	/* removed: the ids become unknown */
	unlink(group);
	CHECK_INT(name_cache_handle_events(c), 1);
	CHECK(name_cache_group(c, 0) == NULL);
	name_cache_free(c);
	remove_dir();
}

TEST_MAIN(TEST(test_parse_basic), TEST(test_parse_group_format), TEST(test_parse_comments_blanks_short_lines),
          TEST(test_parse_huge_ids), TEST(test_parse_duplicates), TEST(test_parse_empty_and_binary),
          TEST(test_parse_many), TEST(test_load_missing_file), TEST(test_cache_missing_files),
          TEST(test_cache_refresh))
