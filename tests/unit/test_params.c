/* Params: descriptors, full names, lookups and validation. */
#include <errno.h>

#include <sonde/params.h>

#include "testlib.h"

static struct sonde_params *make_params(void)
{
	static const char *const modes[] = {"columns", "json", NULL};
	const struct sonde_param_desc descs[] = {
	    {.key = "pid", .type_hint = "uint32", .default_value = "0", .description = "Process ID"},
	    {.key = "failed", .type_hint = "bool", .default_value = "false"},
	    {.key = "output", .alias = "o", .possible_values = modes, .default_value = "columns"},
	    {.key = "interval", .type_hint = "duration", .default_value = "1s"},
	    {.key = "delta", .type_hint = "int8"},
	    {.key = "addr", .type_hint = "ip"},
	    {.key = "ratio", .type_hint = "float64"},
	    {.key = "name", .mandatory = true},
	};
	struct sonde_params *ps = sonde_params_new();

	CHECK(sonde_params_add(ps, "operator.oci.ebpf.", &descs[0]) != NULL);
	CHECK(sonde_params_add(ps, "operator.oci.ebpf.", &descs[1]) != NULL);
	CHECK(sonde_params_add(ps, "operator.cli.", &descs[2]) != NULL);
	for (size_t i = 3; i < sizeof(descs) / sizeof(descs[0]); i++)
		CHECK(sonde_params_add(ps, "operator.test.", &descs[i]) != NULL);
	return ps;
}

static void test_names_and_defaults(void)
{
	struct sonde_params *ps = make_params();
	const struct sonde_param_desc dup = {.key = "pid"};
	struct sonde_param *p;
	bool amb;

	p = sonde_params_find(ps, "operator.oci.ebpf.pid");
	REQUIRE(p);
	CHECK_STR(sonde_param_key(p), "pid");
	CHECK_STR(sonde_param_value(p), "0");
	CHECK(!sonde_param_is_set(p));
	CHECK(sonde_params_find(ps, "pid") == p);
	CHECK(sonde_params_find(ps, "OPERATOR.OCI.EBPF.PID") == p);
	CHECK(sonde_params_find_key(ps, "o", &amb) == sonde_params_find(ps, "operator.cli.output"));
	CHECK(sonde_params_add(ps, "operator.oci.ebpf.", &dup) == NULL);
	/* the same key under another prefix is allowed, but the short key becomes ambiguous */
	CHECK(sonde_params_add(ps, "operator.other.", &dup) != NULL);
	CHECK(sonde_params_find_key(ps, "pid", &amb) == NULL && amb);
	CHECK_INT(sonde_param_duration_ns(sonde_params_find(ps, "interval")), 1000000000);
	sonde_params_free(ps);
}

static void test_validation(void)
{
	struct sonde_params *ps = make_params();
	char err[256];

	CHECK(sonde_params_set(ps, "operator.oci.ebpf.pid", "1234", err, sizeof(err)) == 0);
	CHECK_INT(sonde_param_uint(sonde_params_find(ps, "operator.oci.ebpf.pid")), 1234);
	CHECK(sonde_params_set(ps, "operator.oci.ebpf.pid", "-1", err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "--pid") != NULL);
	CHECK(sonde_params_set(ps, "operator.oci.ebpf.pid", "4294967296", err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "out of range") != NULL);
	CHECK(sonde_params_set(ps, "operator.oci.ebpf.pid", "12abc", err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "not a valid uint32") != NULL);
	CHECK_INT(sonde_param_uint(sonde_params_find(ps, "operator.oci.ebpf.pid")), 1234); /* unchanged */
	CHECK(sonde_params_set(ps, "failed", "maybe", err, sizeof(err)) == -EINVAL);
	CHECK(sonde_params_set(ps, "failed", "true", err, sizeof(err)) == 0);
	CHECK(sonde_param_bool(sonde_params_find(ps, "failed")));
	CHECK(sonde_params_set(ps, "output", "xml", err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "columns json") != NULL);
	CHECK(sonde_params_set(ps, "interval", "1m30s", err, sizeof(err)) == 0);
	CHECK(sonde_param_duration_ns(sonde_params_find(ps, "interval")) == 90000000000LL);
	CHECK(sonde_params_set(ps, "interval", "5 parsecs", err, sizeof(err)) == -EINVAL);
	CHECK(sonde_params_set(ps, "delta", "-128", err, sizeof(err)) == 0);
	CHECK(sonde_params_set(ps, "delta", "128", err, sizeof(err)) == -EINVAL);
	CHECK(sonde_params_set(ps, "addr", "::1", err, sizeof(err)) == 0);
	CHECK(sonde_params_set(ps, "addr", "10.0.0.300", err, sizeof(err)) == -EINVAL);
	CHECK(sonde_params_set(ps, "ratio", "nan", err, sizeof(err)) == -EINVAL);
	CHECK(sonde_params_set(ps, "nope", "1", err, sizeof(err)) == -ENOENT);
	CHECK_STR(err, "unknown param \"nope\"");
	CHECK(sonde_params_validate(ps, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "--name") != NULL);
	CHECK(sonde_params_set(ps, "name", "x", err, sizeof(err)) == 0);
	CHECK(sonde_params_validate(ps, err, sizeof(err)) == 0);
	sonde_params_free(ps);
}

static void test_durations(void)
{
	int64_t ns;

	CHECK(sonde_parse_duration_ns("500ms", &ns) == 0 && ns == 500000000);
	CHECK(sonde_parse_duration_ns("2", &ns) == 0 && ns == 2000000000);
	CHECK(sonde_parse_duration_ns("1h2m3s", &ns) == 0 && ns == 3723000000000LL);
	CHECK(sonde_parse_duration_ns("1.5us", &ns) == 0 && ns == 1500);
	CHECK(sonde_parse_duration_ns("", &ns) < 0);
	CHECK(sonde_parse_duration_ns("ms", &ns) < 0);
	CHECK(sonde_parse_duration_ns("3x", &ns) < 0);
	/* found by fuzz_params: out of range or not a number at all */
	CHECK_INT(sonde_parse_duration_ns("1444444444444", &ns), -ERANGE);
	CHECK_INT(sonde_parse_duration_ns("inf", &ns), -ERANGE);
	CHECK_INT(sonde_parse_duration_ns("nan", &ns), -ERANGE);
	CHECK_INT(sonde_parse_duration_ns("1e300h", &ns), -ERANGE);
	CHECK_INT(sonde_parse_duration_ns("-1e300ms", &ns), -ERANGE);
	CHECK_INT(sonde_parse_duration_ns("\r-9999999999999999999", &ns), -EINVAL);
	CHECK_INT(sonde_parse_duration_ns("-9999999999999999999", &ns), -ERANGE);
	CHECK_INT(sonde_parse_duration_ns("--1", &ns), -EINVAL);
	CHECK_INT(sonde_parse_duration_ns(" 1s", &ns), -EINVAL);
	CHECK(sonde_parse_duration_ns("9000000000", &ns) == 0 && ns == 9000000000000000000LL);
	CHECK(sonde_parse_duration_ns("-2s", &ns) == 0 && ns == -2000000000);
}

/* An alternative key (upstream's AlternativeKey) names the same param. */
static void test_alternative_key(void)
{
	struct sonde_params *ps = sonde_params_new();
	struct sonde_param_desc d = {
	    .key = "containername", .alias = "c", .alt_key = "runtime-containername"};
	struct sonde_param *p;
	bool ambiguous = true;
	char err[256];

	REQUIRE(ps);
	p = sonde_params_add(ps, "operator.LocalManager.", &d);
	REQUIRE(p);
	CHECK(sonde_params_find_key(ps, "runtime-containername", &ambiguous) == p);
	CHECK(!ambiguous);
	CHECK(sonde_params_find(ps, "operator.LocalManager.runtime-containername") == p);
	CHECK(sonde_params_find(ps, "operator.localmanager.RUNTIME-containername") == p);
	CHECK(sonde_params_find(ps, "runtime-containername") == p);
	CHECK_INT(
	    sonde_params_set(ps, "operator.LocalManager.runtime-containername", "web", err, sizeof(err)), 0);
	CHECK_STR(sonde_param_value(p), "web");
	CHECK_STR(sonde_param_full_name(p), "operator.LocalManager.containername");
	CHECK_STR(sonde_param_desc(p)->alt_key, "runtime-containername");
	/* the copy owns its strings */
	d.alt_key = NULL;
	CHECK(sonde_params_find_key(ps, "runtime-containername", &ambiguous) == p);
	/* no alternative: nothing extra is found */
	CHECK(sonde_params_add(ps, "operator.other.", &d) != NULL);
	CHECK(sonde_params_find(ps, "operator.other.runtime-containername") == NULL);
	sonde_params_free(ps);
}

TEST_MAIN(TEST(test_names_and_defaults), TEST(test_validation), TEST(test_durations),
          TEST(test_alternative_key))
