/* The filter operator in a gadget run: params, discard semantics for Single
 * and Array DataSources, errors before start, requested fields, kernel
 * push-down into the eBPF process params, and its speed. */
#include "test_filter_fixture.h"

static const struct row rows[] = {
    {100, 10, 0.5, "alpha", "bash"}, {101, 20, 1.5, "beta", "cat"}, {102, 30, 2.5, "gamma", "bash"},
    {103, 40, 3.5, "delta", "ls"},   {104, 50, 4.5, "a,b", "bash"},
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

#define PARAMS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- params ---- */

static void test_params_one_ds(void)
{
	struct sonde_gadget_ctx *ctx;
	bool ambiguous = false;
	struct sonde_param *p;

	reset_cfg(SONDE_DS_SINGLE, rows, NROWS);
	CHECK_INT(run_ctx(NULL, &ctx), 0);
	CHECK(has_param(ctx, "operator.filter.filter"));
	CHECK(has_param(ctx, "operator.filter.filter.events"));
	p = sonde_params_find_key(sonde_gadget_params(ctx), "F", &ambiguous);
	CHECK(p && strcmp(sonde_param_full_name(p), "operator.filter.filter") == 0);
	sonde_gadget_ctx_free(ctx);
	/* no rules: everything goes through */
	CHECK_STR(pids_of(0), "100,101,102,103,104");
}

static void test_params_two_ds(void)
{
	struct sonde_gadget_ctx *ctx;

	reset_cfg(SONDE_DS_SINGLE, rows, NROWS);
	pcfg.nds = 2;
	CHECK_INT(run_ctx(NULL, &ctx), 0);
	/* `filter` alone would not say which DataSource */
	CHECK(!has_param(ctx, "operator.filter.filter"));
	CHECK(has_param(ctx, "operator.filter.filter.events"));
	CHECK(has_param(ctx, "operator.filter.filter.other"));
	sonde_gadget_ctx_free(ctx);
}

/* ---- discard semantics ---- */

static void test_single_ds(void)
{
	reset_cfg(SONDE_DS_SINGLE, rows, NROWS);
	CHECK_INT(run_with(PARAMS("operator.filter.filter", "proc.pid>=102")), 0);
	CHECK_STR(pids_of(0), "102,103,104");
	CHECK_INT(got[0].packets, 3);

	CHECK_INT(run_with(PARAMS("operator.filter.filter", "name~^[ab]")), 0);
	CHECK_STR(pids_of(0), "100,101,104");

	CHECK_INT(run_with(PARAMS("operator.filter.filter", "name==a\\,b")), 0);
	CHECK_STR(pids_of(0), "104");

	CHECK_INT(run_with(PARAMS("operator.filter.filter", "proc.comm==bash,score!=30")), 0);
	CHECK_STR(pids_of(0), "100,104");

	/* both params apply */
	CHECK_INT(run_with(PARAMS("operator.filter.filter", "proc.comm==bash",
	                          "operator.filter.filter.events", "ratio<3")),
	          0);
	CHECK_STR(pids_of(0), "100,102");

	CHECK_INT(run_with(PARAMS("operator.filter.filter", "score>1000")), 0);
	CHECK_STR(pids_of(0), "");
	CHECK_INT(got[0].packets, 0);
}

/* Rules on raw producer fields run before enrichers (priority 0), so those
 * never see discarded records; a rule on an added field runs after them. */
static void test_early_stage(void)
{
	reset_cfg(SONDE_DS_SINGLE, rows, NROWS);
	CHECK_INT(run_with(PARAMS("operator.filter.filter", "proc.pid>=102")), 0);
	CHECK_STR(pids_of(0), "102,103,104");
	CHECK_INT(enriched[0], 3);

	CHECK_INT(run_with(PARAMS("operator.filter.filter", "proc.pid>=102,name~^[ab]")), 0);
	CHECK_STR(pids_of(0), "104");
	CHECK_INT(enriched[0], NROWS);
}

static void test_two_ds(void)
{
	reset_cfg(SONDE_DS_SINGLE, rows, NROWS);
	pcfg.nds = 2;
	CHECK_INT(run_with(PARAMS("operator.filter.filter.events", "proc.pid==101",
	                          "operator.filter.filter.other", "proc.pid!=101")),
	          0);
	CHECK_STR(pids_of(0), "101");
	CHECK_STR(pids_of(1), "100,102,103,104");

	/* a DataSource without rules is untouched */
	CHECK_INT(run_with(PARAMS("operator.filter.filter.other", "proc.comm!=bash")), 0);
	CHECK_STR(pids_of(0), "100,101,102,103,104");
	CHECK_STR(pids_of(1), "101,103");
}

static void test_array_ds(void)
{
	reset_cfg(SONDE_DS_ARRAY, rows, NROWS);
	/* removed elements leave the others in order */
	CHECK_INT(run_with(PARAMS("operator.filter.filter", "proc.pid!=102")), 0);
	CHECK_STR(pids_of(0), "100,101,103,104");
	CHECK_INT(got[0].packets, 1);
	CHECK_INT(got[0].last_packet_len, 4);

	CHECK_INT(run_with(PARAMS("operator.filter.filter", "proc.comm==bash")), 0);
	CHECK_STR(pids_of(0), "100,102,104");

	CHECK_INT(run_with(PARAMS("operator.filter.filter", "proc.pid==100")), 0);
	CHECK_STR(pids_of(0), "100");
	CHECK_INT(run_with(PARAMS("operator.filter.filter", "proc.pid==104")), 0);
	CHECK_STR(pids_of(0), "104");

	/* every element discarded: the (empty) packet still goes on */
	CHECK_INT(run_with(PARAMS("operator.filter.filter", "proc.pid>1000")), 0);
	CHECK_STR(pids_of(0), "");
	CHECK_INT(got[0].packets, 1);
	CHECK_INT(got[0].last_packet_len, 0);

	/* an Array and a Single DataSource side by side */
	pcfg.nds = 2;
	pcfg.type[1] = SONDE_DS_SINGLE;
	CHECK_INT(run_with(PARAMS("operator.filter.filter.events", "score>=30",
	                          "operator.filter.filter.other", "score<30")),
	          0);
	CHECK_STR(pids_of(0), "102,103,104");
	CHECK_STR(pids_of(1), "100,101");
}

/* The discarded elements stay allocated as spares: a second packet reuses them. */
static void test_array_spares(void)
{
	static struct row many[200];
	char want[2048] = "";

	for (size_t i = 0; i < 200; i++) {
		many[i] = (struct row){(uint32_t)i, (int32_t)(i % 7), 0, "x", "bash"};
		if (i % 7 == 3) {
			snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%zu", *want ? "," : "",
			         i);
		}
	}
	reset_cfg(SONDE_DS_ARRAY, many, 200);
	CHECK_INT(run_with(PARAMS("operator.filter.filter", "score==3")), 0);
	CHECK_STR(pids_of(0), want);
}

/* ---- errors ---- */

static void test_errors_before_start(void)
{
	static const struct {
		const char *param, *value, *error;
	} cases[] = {
	    {"operator.filter.filter", "nope==1", "filter: unknown field \"nope\" in \"nope==1\""},
	    {"operator.filter.filter", "proc.pid==1,nope==1",
	     "filter: unknown field \"nope\" in \"nope==1\""},
	    {"operator.filter.filter", "name~(", "filter: invalid regular expression \"(\""},
	    {"operator.filter.filter", "score~1",
	     "filter: regular expressions (~, !~) only apply to string fields"},
	    {"operator.filter.filter", "proc.pid==-1", "filter: invalid value \"-1\" for uint32 field"},
	    {"operator.filter.filter", "score==2147483648", "out of range"},
	    {"operator.filter.filter", "proc.pid", "filter: missing operator"},
	    {"operator.filter.filter.events", "nope==1", "filter.events: unknown field \"nope\""},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		reset_cfg(SONDE_DS_SINGLE, rows, NROWS);
		CHECK_INT(run_with(PARAMS(cases[i].param, cases[i].value)), -EINVAL);
		CHECK(!producer_started);
		CHECK_INT(nerrors, 1);
		if (!strstr(last_err, cases[i].error)) {
			fprintf(stderr, "%s=%s: error \"%s\", want \"%s\"\n", cases[i].param, cases[i].value,
			        last_err, cases[i].error);
			test_failures++;
		}
		CHECK_INT(got[0].n, 0);
	}
}

/* ---- requested fields ---- */

static void test_requested(void)
{
	struct sonde_gadget_ctx *ctx;
	struct sonde_ds *ds;

	reset_cfg(SONDE_DS_SINGLE, rows, NROWS);
	CHECK_INT(run_ctx(PARAMS("operator.filter.filter", "score>0"), &ctx), 0);
	ds = sonde_gadget_ds(ctx, "events");
	REQUIRE(ds);
	/* enrichers must fill what the filter reads */
	CHECK(sonde_field_is_requested(sonde_ds_field(ds, "score")));
	CHECK(!sonde_field_is_requested(sonde_ds_field(ds, "ratio")));
	sonde_gadget_ctx_free(ctx);
}

/* ---- push-down ---- */

static const char *ebpf_param(struct sonde_gadget_ctx *ctx, const char *key)
{
	static char buf[64];
	char name[64];

	snprintf(name, sizeof(name), "operator.oci.ebpf.%s", key);
	snprintf(buf, sizeof(buf), "%s",
	         sonde_param_value(sonde_params_find(sonde_gadget_params(ctx), name)));
	return buf;
}

/* Runs with params and returns the value of eBPF param `key` afterwards. */
static const char *pushed(const char *key, const char *const *params)
{
	static char buf[64];
	struct sonde_gadget_ctx *ctx = NULL;

	CHECK_INT(run_ctx(params, &ctx), 0);
	snprintf(buf, sizeof(buf), "%s", ctx ? ebpf_param(ctx, key) : "?");
	sonde_gadget_ctx_free(ctx);
	return buf;
}

static void test_pushdown_pid(void)
{
	reset_cfg(SONDE_DS_SINGLE, rows, NROWS);
	pcfg.ebpf_params = true;
	CHECK_STR(pushed("pid", PARAMS("operator.filter.filter", "proc.pid==103")), "103");
	/* the rule still runs in userspace (the fake producer ignores the param) */
	CHECK_STR(pids_of(0), "103");
	CHECK_STR(pushed("pid", PARAMS("operator.filter.filter", "proc.pid==0103")), "103");
	CHECK_STR(pushed("pid", PARAMS("operator.filter.filter", "proc.pid=103")), "103");
	CHECK_STR(pushed("pid", PARAMS("operator.filter.filter.events", "proc.pid==103")), "103");
	/* only equality */
	CHECK_STR(pushed("pid", PARAMS("operator.filter.filter", "proc.pid!=103")), "0");
	CHECK_STR(pushed("pid", PARAMS("operator.filter.filter", "proc.pid>=103")), "0");
	/* 0 is the param's "any" */
	CHECK_STR(pushed("pid", PARAMS("operator.filter.filter", "proc.pid==0")), "0");
	/* a value the user gave wins */
	CHECK_STR(
	    pushed("pid", PARAMS("operator.oci.ebpf.pid", "7", "operator.filter.filter", "proc.pid==103")),
	    "7");
	CHECK_STR(pids_of(0), "103");
	/* other pids are not the process pid */
	CHECK_STR(pushed("pid", PARAMS("operator.filter.filter", "proc.parent.pid==1")), "0");
	pcfg.parent_pid_as_pid = true; /* even when typed gadget_pid */
	CHECK_STR(pushed("pid", PARAMS("operator.filter.filter", "proc.parent.pid==1")), "0");
	pcfg.parent_pid_as_pid = false;
	/* opted out by the gadget */
	pcfg.pid_pushdown = "false";
	CHECK_STR(pushed("pid", PARAMS("operator.filter.filter", "proc.pid==103")), "0");
	pcfg.pid_pushdown = NULL;
	/* a param of that name that is not the process filter */
	pcfg.untagged_params = true;
	CHECK_STR(pushed("pid", PARAMS("operator.filter.filter", "proc.pid==103")), "0");
	pcfg.untagged_params = false;
	/* no such param at all: nothing happens */
	pcfg.ebpf_params = false;
	CHECK_INT(run_with(PARAMS("operator.filter.filter", "proc.pid==103")), 0);
	CHECK_STR(pids_of(0), "103");
}

static void test_pushdown_creds(void)
{
	reset_cfg(SONDE_DS_SINGLE, rows, NROWS);
	pcfg.ebpf_params = true;
	CHECK_STR(pushed("uid", PARAMS("operator.filter.filter", "proc.creds.uid==1101")), "1101");
	CHECK_STR(pids_of(0), "101");
	CHECK_STR(pushed("gid", PARAMS("operator.filter.filter", "proc.creds.gid==2102")), "2102");
	CHECK_STR(pushed("uid", PARAMS("operator.filter.filter", "proc.creds.uid==4294967295")),
	          "4294967295");
	/* several keys at once */
	CHECK_STR(pushed("gid", PARAMS("operator.filter.filter", "proc.pid==101,proc.creds.gid==2101")),
	          "2101");
}

static void test_pushdown_comm_tid(void)
{
	reset_cfg(SONDE_DS_SINGLE, rows, NROWS);
	pcfg.ebpf_params = true;
	/* comm and tid may change between the kernel's check and the record (exec) */
	CHECK_STR(pushed("comm", PARAMS("operator.filter.filter", "proc.comm==cat")), "");
	CHECK_STR(pids_of(0), "101");
	CHECK_STR(pushed("tid", PARAMS("operator.filter.filter", "proc.tid==101")), "0");
	/* unless the gadget says they are the same */
	pcfg.comm_pushdown = "true";
	CHECK_STR(pushed("comm", PARAMS("operator.filter.filter", "proc.comm==cat")), "cat");
	CHECK_STR(pids_of(0), "101");
	/* a name the kernel cannot hold is not pushed */
	CHECK_STR(pushed("comm", PARAMS("operator.filter.filter", "proc.comm==0123456789abcdef")), "");
	CHECK_STR(pushed("comm", PARAMS("operator.filter.filter", "proc.comm==")), "");
	CHECK_STR(pushed("comm", PARAMS("operator.filter.filter", "proc.parent.comm==init")), "");
}

static void test_pushdown_several_ds(void)
{
	reset_cfg(SONDE_DS_SINGLE, rows, NROWS);
	pcfg.ebpf_params = true;
	pcfg.nds = 2;
	/* the param would also filter "other" */
	CHECK_STR(pushed("pid", PARAMS("operator.filter.filter.events", "proc.pid==103")), "0");
	CHECK_STR(pids_of(1), "100,101,102,103,104");
	CHECK_STR(pushed("pid", PARAMS("operator.filter.filter.events", "proc.pid==103",
	                               "operator.filter.filter.other", "proc.pid==104")),
	          "0");
	CHECK_STR(pushed("pid", PARAMS("operator.filter.filter.events", "proc.pid==103",
	                               "operator.filter.filter.other", "proc.pid==103")),
	          "103");
	/* a DataSource the eBPF program does not feed does not matter */
	pcfg.other_not_ebpf = true;
	CHECK_STR(pushed("pid", PARAMS("operator.filter.filter.events", "proc.pid==103")), "103");
	CHECK_STR(pids_of(1), "100,101,102,103,104");
}

static void test_pushdown_root_process(void)
{
	/* the event is the process block itself, as in snapshot_process */
	reset_cfg(SONDE_DS_ARRAY, rows, NROWS);
	pcfg.ebpf_params = true;
	pcfg.root_process = true;
	CHECK_STR(pushed("pid", PARAMS("operator.filter.filter", "pid==102")), "102");
	CHECK_STR(pids_of(0), "102");
	CHECK_STR(pushed("uid", PARAMS("operator.filter.filter", "creds.uid==1100")), "1100");
	CHECK_STR(pids_of(0), "100");
	CHECK_STR(pushed("pid", PARAMS("operator.filter.filter", "parent.pid==1")), "0");
}

/* ---- speed ---- */

/* Records/s through sonde_ds_emit with the filter discarding every record
 * (prints the rate; no timing assertion). */
static void test_speed(void)
{
	static struct row many[1024];
	static const char *const specs[] = {"proc.pid==5000", "proc.comm==zsh", "name~^zz",
	                                    "proc.pid>100,proc.comm!=bash"};

	for (size_t i = 0; i < 1024; i++)
		many[i] = (struct row){(uint32_t)(100 + i), (int32_t)i, 0.5, "alpha", "bash"};
	for (size_t s = 0; s < sizeof(specs) / sizeof(specs[0]); s++) {
		reset_cfg(SONDE_DS_SINGLE, many, 1024);
		pcfg.repeat = 4000; /* ~4M records */
		CHECK_INT(run_with(PARAMS("operator.filter.filter", specs[s])), 0);
		CHECK_INT(got[0].n, 0);
		printf("filter operator, all discarded, %-30s %6.1f M records/s\n", specs[s],
		       (double)(1024 * 4000) / emit_seconds / 1e6);
	}
}

TEST_MAIN(TEST(test_params_one_ds), TEST(test_params_two_ds), TEST(test_single_ds), TEST(test_early_stage), TEST(test_two_ds),
          TEST(test_array_ds), TEST(test_array_spares), TEST(test_errors_before_start), TEST(test_requested),
          TEST(test_pushdown_pid), TEST(test_pushdown_creds), TEST(test_pushdown_comm_tid),
          TEST(test_pushdown_several_ds), TEST(test_pushdown_root_process), TEST(test_speed))
