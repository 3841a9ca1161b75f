/* gadget.yaml of the v0.28 era (upstream's images from before DataSources):
 * `ebpfParams` and `structs.<struct>.fields[].attributes`, bound to a
 * DataSource by `tracers.<ds>.structName`, must mean what they meant
 * upstream. The built-in trace_open object stands in for an old image's
 * eBPF layer; the gadget.yaml is written in the old dialect. */
#include "test_ebpf_helpers.h"

static const char legacy_yaml[] = "name: trace open\n"
                                  "description: open(2) calls, described the v0.28 way\n"
                                  "tracers:\n"
                                  "  open:\n"
                                  "    mapName: events\n"
                                  "    structName: event\n"
                                  "structs:\n"
                                  "  event:\n"
                                  "    fields:\n"
                                  "    - name: timestamp_raw\n"
                                  "      attributes:\n"
                                  "        template: timestamp\n"
                                  "    - name: fd\n"
                                  "      description: Descriptor returned by open\n"
                                  "      attributes:\n"
                                  "        width: 4\n"
                                  "        alignment: right\n"
                                  "    - name: fname\n"
                                  "      attributes:\n"
                                  "        width: 40\n"
                                  "        minWidth: 20\n"
                                  "        maxWidth: 60\n"
                                  "        ellipsis: start\n"
                                  "    - name: error_raw\n"
                                  "      attributes:\n"
                                  "        width: 0\n"
                                  "        hidden: true\n"
                                  "    - name: flags_raw\n"
                                  "      attributes:\n"
                                  "        hidden: false\n"
                                  "ebpfParams:\n"
                                  "  targ_failed:\n"
                                  "    key: failed\n"
                                  "    defaultValue: \"true\"\n"
                                  "    description: Only the opens that failed\n";

static const struct sonde_gadget_image *trace_open(void)
{
	const struct sonde_gadget_image *g = sonde_builtin_gadget("trace_open");

	if (!g || g->nlayers != 1) {
		fprintf(stderr, "no built-in trace_open with one layer\n");
		exit(1);
	}
	return g;
}

static void expect_ann(struct sonde_ds *ds, const char *field, const char *key, const char *want)
{
	struct sonde_field *f = sonde_ds_field(ds, field);
	const char *got = f ? sonde_field_annotation(f, key) : NULL;

	if (!f || (want && (!got || strcmp(got, want))) || (!want && got)) {
		fprintf(stderr, "  %s %s: got \"%s\", want \"%s\"\n", field, key, got ? got : "(none)",
		        want ? want : "(none)");
		test_failures++;
	}
}

static bool hidden(struct sonde_ds *ds, const char *field)
{
	struct sonde_field *f = sonde_ds_field(ds, field);

	if (!f) {
		fprintf(stderr, "  no field %s\n", field);
		test_failures++;
		return false;
	}
	return sonde_field_flags(f) & SONDE_FIELD_HIDDEN;
}

static void test_structs_and_ebpf_params(void)
{
	const struct sonde_gadget_image *g = trace_open();
	struct gadget_run r;
	struct sonde_param *p;
	struct sonde_ds *ds;

	capture_reset();
	REQUIRE(gadget_open(&r, "trace_open_v028", g->layers[0].data, g->layers[0].len, legacy_yaml) == 0);
	ds = sonde_gadget_ds(r.ctx, "open");
	REQUIRE(ds);

	/* attributes → the current columns.* annotations */
	expect_ann(ds, "fd", "columns.width", "4");
	expect_ann(ds, "fd", "columns.alignment", "right");
	expect_ann(ds, "fd", "description", "Descriptor returned by open");
	expect_ann(ds, "fname", "columns.width", "40");
	expect_ann(ds, "fname", "columns.minwidth", "20");
	expect_ann(ds, "fname", "columns.maxwidth", "60");
	expect_ann(ds, "fname", "columns.ellipsis", "start");
	/* template: timestamp (width 35, hidden) */
	expect_ann(ds, "timestamp_raw", "columns.width", "35");
	CHECK(hidden(ds, "timestamp_raw"));
	/* hidden: true hides; width 0 is "unset", not a zero-wide column */
	CHECK(hidden(ds, "error_raw"));
	expect_ann(ds, "error_raw", "columns.width", NULL);
	CHECK(!hidden(ds, "flags_raw"));

	/* ebpfParams.<var>: key, default and description */
	p = sonde_params_find(sonde_gadget_params(r.ctx), "operator.oci.ebpf.failed");
	REQUIRE(p);
	CHECK_STR(sonde_param_desc(p)->default_value, "true");
	CHECK_STR(sonde_param_desc(p)->description, "Only the opens that failed");
	CHECK(!sonde_params_find(sonde_gadget_params(r.ctx), "operator.oci.ebpf.targ_failed"));
	CHECK(!logged("unknown annotation template"));
	gadget_close(&r);
}

/* A current datasources.<ds> entry beside a legacy one wins; a struct no
 * tracer names decorates nothing. */
static void test_current_keys_win(void)
{
	static const char yaml[] = "tracers:\n"
	                           "  open: {mapName: events, structName: event}\n"
	                           "structs:\n"
	                           "  event:\n"
	                           "    fields:\n"
	                           "    - {name: fd, attributes: {width: 4}}\n"
	                           "  other:\n"
	                           "    fields:\n"
	                           "    - {name: fname, attributes: {width: 9}}\n"
	                           "datasources:\n"
	                           "  open:\n"
	                           "    fields:\n"
	                           "      fd:\n"
	                           "        annotations: {columns.width: 7}\n";
	const struct sonde_gadget_image *g = trace_open();
	struct gadget_run r;
	struct sonde_ds *ds;

	capture_reset();
	REQUIRE(gadget_open(&r, "trace_open_mixed", g->layers[0].data, g->layers[0].len, yaml) == 0);
	ds = sonde_gadget_ds(r.ctx, "open");
	REQUIRE(ds);
	expect_ann(ds, "fd", "columns.width", "7");
	CHECK(!sonde_field_annotation(sonde_ds_field(ds, "fname"), "columns.width") ||
	      strcmp(sonde_field_annotation(sonde_ds_field(ds, "fname"), "columns.width"), "9"));
	gadget_close(&r);
}

/* v0.28's snapshotters bind a struct to their DataSource the same way. */
static void test_snapshotter(void)
{
	static const char yaml[] = "snapshotters:\n"
	                           "  processes:\n"
	                           "    structName: gadget_process\n"
	                           "structs:\n"
	                           "  gadget_process:\n"
	                           "    fields:\n"
	                           "    - name: comm\n"
	                           "      description: Command of the process\n"
	                           "      attributes: {width: 21, ellipsis: middle}\n";
	const struct sonde_gadget_image *g = sonde_builtin_gadget("snapshot_process");
	struct gadget_run r;
	struct sonde_ds *ds;

	REQUIRE(g && g->nlayers == 1);
	capture_reset();
	REQUIRE(gadget_open(&r, "snapshot_v028", g->layers[0].data, g->layers[0].len, yaml) == 0);
	ds = sonde_gadget_ds(r.ctx, "processes");
	REQUIRE(ds);
	expect_ann(ds, "comm", "columns.width", "21");
	expect_ann(ds, "comm", "columns.ellipsis", "middle");
	expect_ann(ds, "comm", "description", "Command of the process");
	gadget_close(&r);
}

TEST_MAIN(TEST(test_structs_and_ebpf_params), TEST(test_current_keys_win), TEST(test_snapshotter))
