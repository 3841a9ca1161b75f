/* The ustar writer and the hardened reader of lib/image/tar.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/tar.h"
#include "testlib.h"

static const struct tar_limits limits = {.max_member = 1 << 20, .max_total = 4 << 20, .max_members = 100};

/* An archive written by tar_writer into memory. */
struct mem_tar {
	char *buf;
	size_t len;
};

static void mem_tar_begin(struct mem_tar *t, struct tar_writer *w, FILE **f)
{
	t->buf = NULL;
	t->len = 0;
	*f = open_memstream(&t->buf, &t->len);
	tar_writer_init(w, *f, 1700000000);
}

static void mem_tar_end(struct tar_writer *w, FILE *f)
{
	CHECK_INT(tar_writer_finish(w), 0);
	fclose(f);
}

/* Recomputes a header's checksum after a test patched it. */
static void fix_checksum(unsigned char *h)
{
	unsigned sum = 0;

	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
}

/* One member archive whose header a test then patches. */
static struct mem_tar one_member(const char *name, const char *data)
{
	struct mem_tar t;
	struct tar_writer w;
	FILE *f;

	mem_tar_begin(&t, &w, &f);
	CHECK_INT(tar_write_file(&w, name, data, strlen(data)), 0);
	mem_tar_end(&w, f);
	return t;
}

/* Reads every member of buf; the first negative result, or 0. */
static int read_all(const void *buf, size_t len, const struct tar_limits *lim)
{
	struct tar_reader r;
	struct tar_member m;
	char data[4096];
	int err;

	tar_reader_init_mem(&r, buf, len, lim, "test archive");
	while ((err = tar_next(&r, &m)) == 1) {
		ssize_t got;

		while ((got = tar_read(&r, data, sizeof(data))) > 0)
			;
		if (got < 0)
			return (int)got;
	}
	return err;
}

static void test_round_trip(void)
{
	struct mem_tar t;
	struct tar_writer w;
	struct tar_reader r;
	struct tar_member m;
	char long_name[200], big[1500], got[2000];
	FILE *f;

	memset(long_name, 0, sizeof(long_name));
	/* > 100 bytes: written as ustar prefix + name */
	snprintf(long_name, sizeof(long_name), "blobs/%0120d/sha256/%064d", 7, 9);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	mem_tar_begin(&t, &w, &f);
	CHECK_INT(tar_write_file(&w, "oci-layout", "{}", 2), 0);
	CHECK_INT(tar_write_file(&w, long_name, big, sizeof(big)), 0);
	CHECK_INT(tar_write_file(&w, "empty", "", 0), 0);
	mem_tar_end(&w, f);
	CHECK_INT(t.len % 512, 0);
	CHECK_INT(t.len, 512 + 512 + 512 + 3 * 512 + 512 + 1024);

	tar_reader_init_mem(&r, t.buf, t.len, &limits, "rt");
	CHECK_INT(tar_next(&r, &m), 1);
	CHECK_STR(m.name, "oci-layout");
	CHECK_INT(m.size, 2);
	/* the data not read is skipped by the next call */
	CHECK_INT(tar_next(&r, &m), 1);
	CHECK_STR(m.name, long_name);
	CHECK_INT(m.type, TAR_FILE);
	CHECK_INT(m.size, sizeof(big));
	CHECK_INT(tar_read(&r, got, 1000), 1000);
	CHECK_INT(tar_read(&r, got + 1000, 1000), 500);
	CHECK_INT(tar_read(&r, got, 1000), 0);
	CHECK(!memcmp(got, big, sizeof(big)));
	CHECK_INT(tar_next(&r, &m), 1);
	CHECK_STR(m.name, "empty");
	CHECK_INT(m.size, 0);
	CHECK_INT(tar_next(&r, &m), 0);
	CHECK_INT(tar_next(&r, &m), 0);
	free(t.buf);

	/* GNU tar reads what the writer wrote, member for member */
	if (test_have("tar")) {
		char dir[] = "/tmp/sonde-test-tar.XXXXXX", path[256], *list;
		const char *argv[] = {"tar", "-C", dir, "-xf", path, NULL};

		REQUIRE(mkdtemp(dir));
		mem_tar_begin(&t, &w, &f);
		CHECK_INT(tar_write_file(&w, "index.json", "{\"a\":1}\n", 8), 0);
		CHECK_INT(tar_write_file(&w, long_name, big, sizeof(big)), 0);
		mem_tar_end(&w, f);
		snprintf(path, sizeof(path), "%s/a.tar", dir);
		f = fopen(path, "w");
		REQUIRE(f);
		fwrite(t.buf, 1, t.len, f);
		fclose(f);
		CHECK_INT(test_run_quiet(argv), 0);
		snprintf(path, sizeof(path), "%s/index.json", dir);
		list = test_read_file(path, NULL);
		CHECK_STR(list, "{\"a\":1}\n");
		free(list);
		test_rm_tree(dir, "/tmp/sonde-test-tar.");
		free(t.buf);
	}
}

static void test_name_too_long(void)
{
	struct mem_tar t;
	struct tar_writer w;
	char name[300];
	FILE *f;

	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	mem_tar_begin(&t, &w, &f);
	CHECK_INT(tar_write_file(&w, name, "x", 1), -ENAMETOOLONG);
	tar_writer_finish(&w);
	fclose(f);
	free(t.buf);
}

static void expect_refused(const char *name, const char *data, char type, int want)
{
	struct mem_tar t = one_member(name, data);

	if (type) {
		t.buf[156] = type;
		fix_checksum((unsigned char *)t.buf);
	}
	CHECK_INT(read_all(t.buf, t.len, &limits), want);
	free(t.buf);
}

static void test_bad_names(void)
{
	expect_refused("../evil", "x", 0, -EINVAL);
	expect_refused("blobs/../../evil", "x", 0, -EINVAL);
	expect_refused("/etc/passwd", "x", 0, -EINVAL);
	expect_refused("a//b", "x", 0, -EINVAL);
	expect_refused("a/./b", "x", 0, -EINVAL);
	expect_refused("./", "x", 0, -EINVAL); /* a file with no name */
	/* a leading ./ is what `tar -C dir .` writes: fine */
	expect_refused("./index.json", "x", 0, 0);
}

static void test_bad_types(void)
{
	expect_refused("link", "", '2', -EINVAL);
	expect_refused("hard", "", '1', -EINVAL);
	expect_refused("chr", "", '3', -EINVAL);
	expect_refused("blk", "", '4', -EINVAL);
	expect_refused("fifo", "", '6', -EINVAL);
	expect_refused("gnu", "", 'L', -EINVAL);
	expect_refused("dir", "", '5', 0);
}

static void test_bad_headers(void)
{
	struct mem_tar t = one_member("a", "hello");

	/* checksum */
	t.buf[0] = 'b';
	CHECK_INT(read_all(t.buf, t.len, &limits), -EINVAL);
	free(t.buf);
	/* not ustar */
	t = one_member("a", "hello");
	memcpy(t.buf + 257, "xxxxx", 5);
	fix_checksum((unsigned char *)t.buf);
	CHECK_INT(read_all(t.buf, t.len, &limits), -EINVAL);
	free(t.buf);
	/* a size field with garbage */
	t = one_member("a", "hello");
	memcpy(t.buf + 124, "0000000009x", 11);
	fix_checksum((unsigned char *)t.buf);
	CHECK_INT(read_all(t.buf, t.len, &limits), -EINVAL);
	free(t.buf);
}

static void test_sizes(void)
{
	struct mem_tar t = one_member("a", "hello");
	struct tar_limits small = limits;

	/* a size larger than the archive holds: truncated */
	memcpy(t.buf + 124, "00000100000", 11);
	fix_checksum((unsigned char *)t.buf);
	CHECK_INT(read_all(t.buf, t.len, &limits), -EIO);
	/* beyond the member cap, refused before any data is read */
	memcpy(t.buf + 124, "77777777777", 11);
	fix_checksum((unsigned char *)t.buf);
	CHECK_INT(read_all(t.buf, t.len, &limits), -EFBIG);
	free(t.buf);

	/* the total cap: three members of 5 bytes with a total of 12 */
	{
		struct tar_writer w;
		FILE *f;

		mem_tar_begin(&t, &w, &f);
		tar_write_file(&w, "a", "hello", 5);
		tar_write_file(&w, "b", "hello", 5);
		tar_write_file(&w, "c", "hello", 5);
		mem_tar_end(&w, f);
	}
	small.max_total = 12;
	CHECK_INT(read_all(t.buf, t.len, &small), -EFBIG);
	small.max_total = 15;
	CHECK_INT(read_all(t.buf, t.len, &small), 0);
	small.max_members = 2;
	CHECK_INT(read_all(t.buf, t.len, &small), -EFBIG);
	/* truncated in the middle of a header, and of data */
	CHECK_INT(read_all(t.buf, 512 + 512 + 100, &limits), -EIO);
	CHECK_INT(read_all(t.buf, 512 + 3, &limits), -EIO);
	/* cut exactly at a header boundary: the archive just ends */
	CHECK_INT(read_all(t.buf, 1024, &limits), 0);
	free(t.buf);
}

/* A pax header naming the next member, as Go's archive/tar writes for long names. */
static void test_pax(void)
{
	char buf[512 * 6] = {0};
	const char *rec = "30 path=blobs/sha256/abcdefgh\n";
	struct tar_reader r;
	struct tar_member m;
	struct mem_tar t = one_member("PaxHeaders/x", rec);

	memcpy(buf, t.buf, 1024);
	buf[156] = 'x';
	fix_checksum((unsigned char *)buf);
	free(t.buf);
	t = one_member("short", "data");
	memcpy(buf + 1024, t.buf, 1024);
	free(t.buf);
	tar_reader_init_mem(&r, buf, sizeof(buf), &limits, "pax");
	CHECK_INT(tar_next(&r, &m), 1);
	CHECK_STR(m.name, "blobs/sha256/abcdefgh");
	CHECK_INT(m.size, 4);
	CHECK_INT(tar_next(&r, &m), 0);

	/* a pax path with .. is refused like a header name */
	t = one_member("PaxHeaders/x", "25 path=../../etc/passwd\n");
	memcpy(buf, t.buf, 1024);
	buf[156] = 'x';
	fix_checksum((unsigned char *)buf);
	free(t.buf);
	CHECK_INT(read_all(buf, sizeof(buf), &limits), -EINVAL);
	/* a record whose length runs past the header */
	t = one_member("PaxHeaders/x", "99 path=a\n");
	memcpy(buf, t.buf, 1024);
	buf[156] = 'x';
	fix_checksum((unsigned char *)buf);
	free(t.buf);
	CHECK_INT(read_all(buf, sizeof(buf), &limits), -EINVAL);
	/* a pax header that links */
	t = one_member("PaxHeaders/x", "17 linkpath=/etc\n");
	memcpy(buf, t.buf, 1024);
	buf[156] = 'x';
	fix_checksum((unsigned char *)buf);
	free(t.buf);
	CHECK_INT(read_all(buf, sizeof(buf), &limits), -EINVAL);
}

/* GNU tar's own archives (pax or gnu format) read back. */
static void test_gnu_tar_archives(void)
{
	char dir[] = "/tmp/sonde-test-tar.XXXXXX", sub[300], path[300], *buf;
	const char *formats[] = {"--format=ustar", "--format=gnu", "--format=pax"};
	size_t len;

	if (!test_have("tar"))
		test_skip_dep("GNU tar");
	REQUIRE(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/in/blobs/sha256", dir);
	{
		char cmd[1200];

		snprintf(cmd, sizeof(cmd), "mkdir -p %s && echo hi > %s/0123 && echo '{}' > %s/in/index.json",
		         sub, sub, dir);
		REQUIRE(system(cmd) == 0);
	}
	for (size_t i = 0; i < 3; i++) {
		char in[300];
		const char *argv[] = {"tar", formats[i], "-C", in, "-cf", path, ".", NULL};
		struct tar_reader r;
		struct tar_member m;
		int files = 0, err;

		snprintf(in, sizeof(in), "%s/in", dir);
		snprintf(path, sizeof(path), "%s/a%zu.tar", dir, i);
		CHECK_INT(test_run_quiet(argv), 0);
		buf = test_read_file(path, &len);
		REQUIRE(buf);
		tar_reader_init_mem(&r, buf, len, &limits, formats[i]);
		while ((err = tar_next(&r, &m)) == 1)
			if (m.type == TAR_FILE) {
				files++;
				CHECK(!strcmp(m.name, "index.json") || !strcmp(m.name, "blobs/sha256/0123"));
			}
		CHECK_INT(err, 0);
		CHECK_INT(files, 2);
		free(buf);
	}
	test_rm_tree(dir, "/tmp/sonde-test-tar.");
}

TEST_MAIN(TEST(test_round_trip), TEST(test_name_too_long), TEST(test_bad_names), TEST(test_bad_types),
          TEST(test_bad_headers), TEST(test_sizes), TEST(test_pax), TEST(test_gnu_tar_archives))
