/* What the loader checks of the per-interface, per-CPU and sockmap program
 * types before anything is loaded (no privileges needed): gadget.yaml's perf
 * block of perf_event programs, classifier directions, sk_msg/sk_skb map
 * bindings, and the iface param that only gadgets with classifiers have.
 * Every refusal is one error line naming the program. The kernel side is
 * tests/integration/test_prog_types.c. */
#include <unistd.h>

#include "test_ebpf_helpers.h"

#define PERF_OK                                                                                              \
	"  sample:\n    perf:\n      type: software\n      config: count_sw_cpu_clock\n"                     \
	"      sampleType: sample_raw\n    sampler:\n      frequency: 99\n"

static int error_lines(void)
{
	int n = 0;

	for (const char *p = log_errors; *p; p++)
		n += *p == '\n';
	return n;
}

static void test_perf_block(void)
{
	static const struct {
		const char *yaml; /* programs.sample: */
		const char *needle;
	} cases[] = {
	    {"", "gadget.yaml lacks programs.sample.perf.type (software)"},
	    {"  sample:\n    perf:\n      type: hardware\n",
	     "unsupported programs.sample.perf.type 'hardware'"},
	    {"  sample:\n    perf:\n      type: software\n", "lacks programs.sample.perf.config"},
	    {"  sample:\n    perf:\n      type: software\n      config: count_sw_task_clock\n",
	     "unsupported programs.sample.perf.config 'count_sw_task_clock'"},
	    {"  sample:\n    perf:\n      type: software\n      config: count_sw_cpu_clock\n",
	     "lacks programs.sample.perf.sampleType"},
	    {"  sample:\n    perf:\n      type: software\n      config: count_sw_cpu_clock\n"
	     "      sampleType: sample_raw\n",
	     "lacks programs.sample.sampler.frequency"},
	    {"  sample:\n    perf:\n      type: software\n      config: count_sw_cpu_clock\n"
	     "      sampleType: sample_raw\n    sampler:\n      frequency: 0\n",
	     "programs.sample.sampler.frequency is zero"},
	    {"  sample:\n    perf:\n      type: software\n      config: count_sw_cpu_clock\n"
	     "      sampleType: sample_raw\n    sampler:\n      frequency: fast\n",
	     "programs.sample.sampler.frequency 'fast' is not a number of Hz"},
	    {"  sample:\n    perf:\n      type: software\n      config: count_sw_cpu_clock\n"
	     "      sampleType: sample_raw\n    sampler:\n      frequency: -5\n",
	     "is not a number of Hz"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char yaml[1024];
		struct gadget_run r;

		snprintf(yaml, sizeof(yaml), "programs:\n%s", cases[i].yaml);
		capture_reset();
		CHECK_INT(gadget_open_fixture(&r, "ebpf_netprogs", yaml), -EINVAL);
		CHECK_LOGGED("program 'ig_perf' (perf_event/sample): ");
		CHECK_LOGGED(cases[i].needle);
		CHECK_INT(error_lines(), 1);
		gadget_close(&r);
	}
	/* no gadget.yaml at all: the same; a complete block, or the program
	 * switched off, is accepted */
	{
		struct gadget_run r;

		capture_reset();
		CHECK_INT(gadget_open_fixture(&r, "ebpf_netprogs", NULL), -EINVAL);
		CHECK_LOGGED("gadget.yaml lacks programs.sample.perf.type");
		gadget_close(&r);
		CHECK_INT(gadget_open_fixture(&r, "ebpf_netprogs", "programs:\n" PERF_OK), 0);
		gadget_close(&r);
		CHECK_INT(
		    gadget_open_fixture(&r, "ebpf_netprogs",
		                        "programs:\n  ig_perf:\n    attach_to: gadget_program_disabled\n"),
		    0);
		gadget_close(&r);
	}
}

static void test_iface_param(void)
{
	struct gadget_run r;

	capture_reset();
	REQUIRE(gadget_open_fixture(&r, "ebpf_netprogs", "programs:\n" PERF_OK) == 0);
	CHECK_STR(param_value(&r, "iface"), "");
	CHECK_INT(set_param(&r, "iface", "eth0"), 0);
	gadget_close(&r);
	/* no classifier, no iface */
	REQUIRE(gadget_open_fixture(&r, "ebpf_getpid", NULL) == 0);
	CHECK(param_value(&r, "iface") == NULL);
	gadget_close(&r);
}

static void test_bad_fixtures(void)
{
	static const struct {
		const char *fixture;
		const char *needle;
	} cases[] = {
	    {"ebpf_bad_classifier",
	     "program 'ig_bad_cls' (classifier/sideways/count): a classifier section must be "
	     "classifier/ingress/<name> or classifier/egress/<name>"},
	    {"ebpf_bad_sktarget", "map 'plain' must exist and be a SOCKMAP or SOCKHASH"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gadget_run r;

		capture_reset();
		REQUIRE(access(fixture_path(cases[i].fixture), R_OK) == 0);
		CHECK(gadget_open_fixture(&r, cases[i].fixture, NULL) < 0);
		CHECK_LOGGED(cases[i].needle);
		CHECK_INT(error_lines(), 1);
		gadget_close(&r);
	}
}

TEST_MAIN(TEST(test_perf_block), TEST(test_iface_param), TEST(test_bad_fixtures))
