/* ebpf operator: GADGET_PARAM → instance params (spec §2.3): type hints from
 * BTF, defaults from .rodata, gadget.yaml overrides, values written back. */
#include <math.h>

#include "ebpf/internal.h"
#include "test_ebpf_helpers.h"

static const char yaml[] = "params:\n"
                           "  ebpf:\n"
                           "    renamed:\n"
                           "      key: new-key\n"
                           "      defaultValue: \"9\"\n"
                           "      description: Renamed by gadget.yaml\n"
                           "ebpfParams:\n"
                           "  port:\n"
                           "    description: Legacy location\n";

struct want {
	const char *key, *hint, *def;
};

static const struct want want[] = {
    {"pid", "uint32", "0"},
    {"comm", "string", ""},
    {"uid", "uint32", "4294967295"},
    {"collect-ustack", "bool", "false"},
    {"enabled", "bool", "true"},
    {"small", "int8", "-5"},
    {"big", "int64", "-1234567890123"},
    {"port", "uint16", "8080"},
    {"huge", "uint64", "18446744073709551615"},
    {"label", "string", "abc"},
    {"ratio", "float32", "0.5"},
    {"precise", "float64", "2.25"},
    {"target", "ip", "0.0.0.0"},
    {"new-key", "uint32", "9"},
};

static struct sonde_param *find(struct gadget_run *r, const char *key)
{
	char name[256];

	snprintf(name, sizeof(name), "operator.oci.ebpf.%s", key);
	return sonde_params_find(sonde_gadget_params(r->ctx), name);
}

static void test_definitions(void)
{
	struct gadget_run r;
	struct sonde_param *p;

	capture_reset();
	REQUIRE(gadget_open_fixture(&r, "ebpf_params", yaml) == 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		p = find(&r, want[i].key);
		if (!p) {
			fprintf(stderr, "  param %s missing\n", want[i].key);
			test_failures++;
			continue;
		}
		CHECK_STR(sonde_param_desc(p)->type_hint, want[i].hint);
		CHECK_STR(sonde_param_value(p), want[i].def);
		CHECK_STR(sonde_param_prefix(p), "operator.oci.ebpf.");
	}
	/* well-known renames and their group tag */
	CHECK(find(&r, "targ_pid") == NULL);
	CHECK(find(&r, "renamed") == NULL);
	p = find(&r, "pid");
	REQUIRE(p && sonde_param_desc(p)->tags);
	CHECK_STR(sonde_param_desc(p)->tags[0], "group:Process");
	CHECK_STR(sonde_param_desc(find(&r, "new-key"))->description, "Renamed by gadget.yaml");
	CHECK_STR(sonde_param_desc(find(&r, "port"))->description, "Legacy location");
	gadget_close(&r);
}

static void test_bad_values(void)
{
	struct gadget_run r;

	capture_reset();
	REQUIRE(gadget_open_fixture(&r, "ebpf_params", yaml) == 0);
	/* type hints are enforced when set */
	CHECK(set_param(&r, "small", "300") != 0);
	CHECK(set_param(&r, "port", "-1") != 0);
	CHECK(set_param(&r, "enabled", "maybe") != 0);
	CHECK(set_param(&r, "target", "not-an-ip") != 0);
	CHECK_INT(set_param(&r, "small", "-128"), 0);
	/* strings longer than the char array fail the run before anything loads */
	CHECK_INT(set_param(&r, "label", "12345678"), 0);
	CHECK_INT(set_param(&r, "comm", "a-name-that-is-far-too-long"), 0);
	capture_reset();
	CHECK(sonde_gadget_run(r.ctx, 1000000) < 0);
	CHECK_LOGGED("param 'comm': value 'a-name-that-is-far-too-long' is too long (at most 16 bytes)");
	gadget_close(&r);

	/* a default from gadget.yaml that does not fit */
	capture_reset();
	CHECK(gadget_open_fixture(&r, "ebpf_params",
	                          "params:\n  ebpf:\n    label:\n      defaultValue: way-too-long\n") < 0);
	CHECK_LOGGED("param 'label': default value 'way-too-long' is too long (at most 8 bytes)");
	gadget_close(&r);
}

/* Encoding round trips, one kind at a time. */
static void test_encode_format(void)
{
	unsigned char b[32];
	char s[64], why[128];

	CHECK_INT(ebpf_param_encode(EBPF_PARAM_INT, 1, "-128", b, why, sizeof(why)), 0);
	CHECK_INT((int8_t)b[0], -128);
	CHECK(ebpf_param_encode(EBPF_PARAM_INT, 1, "128", b, why, sizeof(why)) < 0);
	CHECK(ebpf_param_encode(EBPF_PARAM_UINT, 2, "65536", b, why, sizeof(why)) < 0);
	CHECK(ebpf_param_encode(EBPF_PARAM_UINT, 4, "-1", b, why, sizeof(why)) < 0);
	/* "" only arrives as a gadget.yaml default: the zero value, as upstream */
	memset(b, 0xff, sizeof(b));
	CHECK_INT(ebpf_param_encode(EBPF_PARAM_UINT, 4, "", b, why, sizeof(why)), 0);
	CHECK(memcmp(b, "\0\0\0\0\xff", 5) == 0);
	memset(b, 0xff, sizeof(b));
	CHECK_INT(ebpf_param_encode(EBPF_PARAM_INT, 8, "", b, why, sizeof(why)), 0);
	CHECK(memcmp(b, "\0\0\0\0\0\0\0\0\xff", 9) == 0);
	CHECK_INT(ebpf_param_encode(EBPF_PARAM_FLOAT, 4, "", b, why, sizeof(why)), 0);
	CHECK_INT(ebpf_param_encode(EBPF_PARAM_BOOL, 1, "", b, why, sizeof(why)), 0);
	CHECK_INT(b[0], 0);
	CHECK(ebpf_param_encode(EBPF_PARAM_UINT, 4, " ", b, why, sizeof(why)) < 0);
	CHECK_INT(ebpf_param_encode(EBPF_PARAM_UINT, 8, "18446744073709551615", b, why, sizeof(why)), 0);
	ebpf_param_format(EBPF_PARAM_UINT, 8, b, s, sizeof(s));
	CHECK_STR(s, "18446744073709551615");
	CHECK_INT(ebpf_param_encode(EBPF_PARAM_INT, 8, "-9223372036854775808", b, why, sizeof(why)), 0);
	ebpf_param_format(EBPF_PARAM_INT, 8, b, s, sizeof(s));
	CHECK_STR(s, "-9223372036854775808");
	CHECK_INT(ebpf_param_encode(EBPF_PARAM_BOOL, 1, "true", b, why, sizeof(why)), 0);
	CHECK_INT(b[0], 1);
	CHECK_INT(ebpf_param_encode(EBPF_PARAM_FLOAT, 4, "1.5", b, why, sizeof(why)), 0);
	ebpf_param_format(EBPF_PARAM_FLOAT, 4, b, s, sizeof(s));
	CHECK_STR(s, "1.5");
	memset(b, 0xff, sizeof(b));
	CHECK_INT(ebpf_param_encode(EBPF_PARAM_STRING, 8, "abc", b, why, sizeof(why)), 0);
	CHECK(memcmp(b, "abc\0\0\0\0\0", 8) == 0);
	CHECK_INT(b[8], 0xff); /* never writes past the variable */
	CHECK_INT(ebpf_param_encode(EBPF_PARAM_STRING, 8, "12345678", b, why, sizeof(why)), 0);
	CHECK(ebpf_param_encode(EBPF_PARAM_STRING, 8, "123456789", b, why, sizeof(why)) < 0);
	CHECK(strstr(why, "too long") != NULL);
	memset(b, 0, sizeof(b));
	CHECK_INT(ebpf_param_encode(EBPF_PARAM_IP, 20, "10.1.2.3", b, why, sizeof(why)), 0);
	CHECK_INT(b[16], 4);
	CHECK(memcmp(b, "\x0a\x01\x02\x03", 4) == 0);
	ebpf_param_format(EBPF_PARAM_IP, 20, b, s, sizeof(s));
	CHECK_STR(s, "10.1.2.3");
	CHECK_INT(ebpf_param_encode(EBPF_PARAM_IP, 20, "fe80::1", b, why, sizeof(why)), 0);
	CHECK_INT(b[16], 6);
	ebpf_param_format(EBPF_PARAM_IP, 20, b, s, sizeof(s));
	CHECK_STR(s, "fe80::1");
	CHECK(ebpf_param_encode(EBPF_PARAM_IP, 20, "300.1.1.1", b, why, sizeof(why)) < 0);
}

/* What start writes into .rodata, checked on the section image (no load). */
static void test_rodata_write(void)
{
	struct sonde_gadget_image image = {.name = "params", .config_yaml = yaml, .config_len = strlen(yaml)};
	struct sonde_gadget_ctx *ctx;
	struct sonde_layer layer = {SONDE_MEDIA_TYPE_EBPF, NULL, 0};
	struct ebpf_gadget *g = NULL;
	char err[128];
	size_t len = 0;
	char *obj = load_fixture("ebpf_params", &len);

	REQUIRE(obj);
	layer.data = obj;
	layer.len = len;
	capture_reset();
	ctx = sonde_gadget_ctx_new(&image);
	REQUIRE(ctx);
	REQUIRE(sonde_gadget_instantiate(ctx) == 0); /* parses gadget.yaml, no layers */
	REQUIRE(ebpf_gadget_open(ctx, &layer, &g) == 0);
	CHECK_INT(
	    sonde_params_set(sonde_gadget_params(ctx), "operator.oci.ebpf.pid", "4242", err, sizeof(err)), 0);
	CHECK_INT(
	    sonde_params_set(sonde_gadget_params(ctx), "operator.oci.ebpf.comm", "bash", err, sizeof(err)),
	    0);
	CHECK_INT(sonde_params_set(sonde_gadget_params(ctx), "operator.oci.ebpf.target", "192.168.0.1", err,
	                           sizeof(err)),
	          0);
	CHECK_INT(
	    sonde_params_set(sonde_gadget_params(ctx), "operator.oci.ebpf.small", "-2", err, sizeof(err)), 0);
	CHECK_INT(ebpf_params_write(g), 0);
	for (size_t i = 0; i < g->nparams; i++) {
		const struct ebpf_param *p = &g->params[i];
		const unsigned char *v = ebpf_var_data(&p->loc);

		REQUIRE(v);
		if (strcmp(p->var, "targ_pid") == 0) {
			uint32_t x;

			memcpy(&x, v, 4);
			CHECK_INT(x, 4242);
		} else if (strcmp(p->var, "targ_comm") == 0) {
			CHECK(memcmp(v, "bash\0\0\0\0\0\0\0\0\0\0\0\0", 16) == 0);
		} else if (strcmp(p->var, "target") == 0) {
			CHECK(memcmp(v, "\xc0\xa8\x00\x01", 4) == 0);
			CHECK_INT(v[16], 4);
		} else if (strcmp(p->var, "small") == 0) {
			CHECK_INT((int8_t)v[0], -2);
		} else if (strcmp(p->var, "renamed") == 0) {
			uint32_t x;

			memcpy(&x, v, 4);
			CHECK_INT(x, 9); /* gadget.yaml default reaches the kernel too */
		}
	}
	ebpf_gadget_free(g);
	sonde_gadget_ctx_free(ctx);
	free(obj);
}

/*
 * gadget.yaml `defaultValue: ""` on number and bool variables (upstream
 * trace_signal's `signal`): the param is offered with an empty default, the
 * run starts and the variables hold zero; an explicit "" from the user is
 * still a bad number.
 */
static void test_empty_default(void)
{
	static const char empty_yaml[] = "params:\n"
	                                 "  ebpf:\n"
	                                 "    port:\n"
	                                 "      defaultValue: \"\"\n"
	                                 "    small:\n"
	                                 "      defaultValue: \"\"\n"
	                                 "    enabled:\n"
	                                 "      defaultValue: \"\"\n"
	                                 "    precise:\n"
	                                 "      defaultValue: \"\"\n";
	struct sonde_gadget_image image = {
	    .name = "params", .config_yaml = empty_yaml, .config_len = strlen(empty_yaml)};
	struct sonde_gadget_ctx *ctx;
	struct sonde_layer layer = {SONDE_MEDIA_TYPE_EBPF, NULL, 0};
	struct ebpf_gadget *g = NULL;
	char err[128];
	size_t len = 0;
	char *obj = load_fixture("ebpf_params", &len);
	int seen = 0;

	REQUIRE(obj);
	layer.data = obj;
	layer.len = len;
	capture_reset();
	ctx = sonde_gadget_ctx_new(&image);
	REQUIRE(ctx);
	REQUIRE(sonde_gadget_instantiate(ctx) == 0);
	REQUIRE(ebpf_gadget_open(ctx, &layer, &g) == 0);
	CHECK_STR(sonde_param_value(sonde_params_find(sonde_gadget_params(ctx), "operator.oci.ebpf.port")),
	          "");
	CHECK(sonde_params_set(sonde_gadget_params(ctx), "operator.oci.ebpf.small", "", err, sizeof(err)) <
	      0);
	CHECK_INT(ebpf_params_write(g), 0);
	for (size_t i = 0; i < g->nparams; i++) {
		const struct ebpf_param *p = &g->params[i];
		const unsigned char *v = ebpf_var_data(&p->loc);
		static const unsigned char zero[8];

		REQUIRE(v);
		if (!strcmp(p->var, "port") || !strcmp(p->var, "small") || !strcmp(p->var, "enabled") ||
		    !strcmp(p->var, "precise")) {
			/* the object's own initial values are 8080, -5, true, 2.25 */
			CHECK(memcmp(v, zero, p->loc.size) == 0);
			seen++;
		}
	}
	CHECK_INT(seen, 4);
	ebpf_gadget_free(g);
	sonde_gadget_ctx_free(ctx);
	free(obj);
}

TEST_MAIN(TEST(test_definitions), TEST(test_bad_values), TEST(test_encode_format), TEST(test_rodata_write),
          TEST(test_empty_default))
