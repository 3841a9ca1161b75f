/* The sink registry: built-in sinks by name, the list of names an unknown
 * mode's error shows, duplicates refused. */
#include <errno.h>

#include <sonde/log.h>
#include <sonde/sink.h>

#include "testlib.h"

static char last_err[256];
static int nerrors;

static void capture_log(enum sonde_log_level level, const char *msg, void *arg)
{
	if (level == SONDE_LOG_ERROR) {
		nerrors++;
		snprintf(last_err, sizeof(last_err), "%s", msg);
	}
}

static void test_builtin(void)
{
	static const char *const names[] = {"columns", "json", "jsonpretty", "yaml", "none", "pcap-ng"};
	char buf[128];

	sonde_register_builtin_sinks();
	sonde_register_builtin_sinks(); /* idempotent */
	REQUIRE(sonde_sink_count() == 6);
	for (size_t i = 0; i < 6; i++) {
		CHECK_STR(sonde_sink_at(i)->name, names[i]);
		CHECK(sonde_sink_find(names[i]) == sonde_sink_at(i));
	}
	CHECK(sonde_sink_at(6) == NULL);
	CHECK(sonde_sink_find("xml") == NULL);
	CHECK(sonde_sink_find("JSON") == NULL); /* names are exact */
	CHECK(sonde_sink_find("raw") == NULL);  /* DataSource-only modes are not registered */
	CHECK_INT(sonde_sink_names(buf, sizeof(buf)), 48);
	CHECK_STR(buf, "columns, json, jsonpretty, yaml, none or pcap-ng");
	/* only what fits, NUL-terminated; the return says how much was needed */
	CHECK_INT(sonde_sink_names(buf, 10), 48);
	CHECK_STR(buf, "columns, ");
}

static void test_duplicate(void)
{
	static const struct sonde_sink again = {.name = "json"};
	static const struct sonde_sink unnamed = {.name = ""};
	static const struct sonde_sink fresh = {.name = "metrics"};
	size_t before;
	char buf[128];

	sonde_register_builtin_sinks();
	before = sonde_sink_count();
	nerrors = 0;
	sonde_log_set_sink(capture_log, NULL);
	CHECK_INT(sonde_sink_register(&again), -EEXIST);
	CHECK_INT(nerrors, 1);
	CHECK_STR(last_err, "sink json is already registered");
	CHECK_INT(sonde_sink_register(&unnamed), -EINVAL);
	CHECK_INT(sonde_sink_register(NULL), -EINVAL);
	sonde_log_set_sink(NULL, NULL);
	CHECK_INT(sonde_sink_count(), before);
	CHECK(sonde_sink_find("json") != &again);

	/* a new sink is one registration: found by name, listed last */
	CHECK_INT(sonde_sink_register(&fresh), 0);
	CHECK(sonde_sink_find("metrics") == &fresh);
	sonde_sink_names(buf, sizeof(buf));
	CHECK_STR(buf, "columns, json, jsonpretty, yaml, none, pcap-ng or metrics");
}

static void test_names_edges(void)
{
	static const struct sonde_sink a = {.name = "a"}, b = {.name = "b"};
	char buf[16];

	sonde_sink_unregister_all();
	CHECK_INT(sonde_sink_names(buf, sizeof(buf)), 0);
	CHECK_STR(buf, "");
	CHECK_INT(sonde_sink_register(&a), 0);
	sonde_sink_names(buf, sizeof(buf));
	CHECK_STR(buf, "a");
	CHECK_INT(sonde_sink_register(&b), 0);
	sonde_sink_names(buf, sizeof(buf));
	CHECK_STR(buf, "a or b");
	sonde_sink_unregister_all();
}

TEST_MAIN(TEST(test_builtin), TEST(test_duplicate), TEST(test_names_edges))
