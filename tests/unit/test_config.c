/* gadget.yaml trees: parsing, case-insensitive lookups, errors, edits. */
#include <sonde/config.h>

#include "testlib.h"

static const char yaml[] = "name: trace open\n"
                           "dataSources:\n"
                           "  open:\n"
                           "    annotations:\n"
                           "      cli.clear-screen-before: true\n"
                           "    fields:\n"
                           "      proc.comm:\n"
                           "        annotations:\n"
                           "          columns.maxWidth: 16\n"
                           "        tags: [a, b]\n"
                           "params:\n"
                           "  ebpf:\n"
                           "    targ_failed:\n"
                           "      key: failed\n"
                           "      defaultValue: \"false\"\n"
                           "empty:\n";

static void test_parse_lookup(void)
{
	char err[256];
	struct sonde_config *c = sonde_config_parse(yaml, sizeof(yaml) - 1, err, sizeof(err));
	struct sonde_config *tags;

	REQUIRE(c);
	CHECK_STR(sonde_config_str(c, "name", NULL), "trace open");
	CHECK_STR(sonde_config_str(c, "datasources", "open", "annotations", "cli.clear-screen-before", NULL),
	          "true");
	CHECK_STR(sonde_config_str(c, "DATASOURCES", "open", "fields", "proc.comm", "annotations",
	                           "columns.maxwidth", NULL),
	          "16");
	tags = sonde_config_path(c, "datasources", "open", "fields", "proc.comm", "tags", NULL);
	CHECK_INT(sonde_config_type(tags), SONDE_CONFIG_SEQ);
	CHECK_INT(sonde_config_len(tags), 2);
	CHECK_STR(sonde_config_scalar(sonde_config_value_at(tags, 1)), "b");
	CHECK_STR(sonde_config_str(c, "params", "ebpf", "targ_failed", "key", NULL), "failed");
	CHECK_INT(sonde_config_type(sonde_config_get(c, "empty")), SONDE_CONFIG_NULL);
	CHECK(sonde_config_str(c, "name", "deeper", NULL) == NULL);
	CHECK(sonde_config_path(c, "missing", NULL) == NULL);
	sonde_config_free(c);
}

static void test_errors(void)
{
	char err[256];
	static const char *const bad[] = {
	    "a: [1, 2\n",       "a: b: c\n",        "- just\n- a list\n",
	    "a: &x 1\nb: *x\n", "\"unterminated\n", "? [a]\n: b\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		struct sonde_config *c = sonde_config_parse(bad[i], strlen(bad[i]), err, sizeof(err));
		CHECK(c == NULL);
		CHECK(err[0] != 0);
		sonde_config_free(c);
	}
	struct sonde_config *c = sonde_config_parse("", 0, err, sizeof(err));
	CHECK(c && sonde_config_type(c) == SONDE_CONFIG_MAP && sonde_config_len(c) == 0);
	sonde_config_free(c);
}

static void test_deep_nesting_rejected(void)
{
	char buf[4096], err[256];
	size_t n = 0;

	for (int i = 0; i < 500; i++)
		buf[n++] = '[';
	buf[n] = 0;
	CHECK(sonde_config_parse(buf, n, err, sizeof(err)) == NULL);
}

static void test_set(void)
{
	char err[256];
	struct sonde_config *c = sonde_config_parse(yaml, sizeof(yaml) - 1, err, sizeof(err));
	const char *const k1[] = {"datasources", "open", "fields", "fname", "annotations", "columns.width"};
	const char *const k2[] = {"name", "sub"};

	REQUIRE(c);
	CHECK(sonde_config_set(c, k1, 6, "50") == 0);
	CHECK_STR(sonde_config_str(c, "datasources", "open", "fields", "fname", "annotations",
	                           "columns.width", NULL),
	          "50");
	CHECK(sonde_config_set(c, k2, 2, "x") == 0); /* a scalar on the way becomes a map */
	CHECK_STR(sonde_config_str(c, "name", "sub", NULL), "x");
	sonde_config_free(c);
}

TEST_MAIN(TEST(test_parse_lookup), TEST(test_errors), TEST(test_deep_nesting_rejected), TEST(test_set))
