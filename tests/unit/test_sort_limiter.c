/* The sort and limiter operators in a gadget run: activation, key parsing,
 * numeric/string/float keys, stability, per-DataSource specs, errors, and
 * their order with the filter (filter → sort → limiter → sink). */
#include <math.h>

#include "test_filter_fixture.h"

#define PARAMS(...) ((const char *const[]){__VA_ARGS__, NULL})

static const struct row rows[] = {
    {100, 30, 2.5, "delta", "bash"}, {101, -5, -1.0, "alpha", "cat"}, {102, 30, 0.5, "charlie", "bash"},
    {103, 7, 9.5, "bravo", "ls"},    {104, -5, 3.0, "alpha", "bash"}, {105, 0, -1.0, "", "zsh"},
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

/* ---- activation ---- */

static void test_only_for_arrays(void)
{
	struct sonde_gadget_ctx *ctx;

	reset_cfg(SONDE_DS_SINGLE, rows, NROWS);
	CHECK_INT(run_ctx(NULL, &ctx), 0);
	CHECK(!has_param(ctx, "operator.sort.sort"));
	CHECK(!has_param(ctx, "operator.limiter.max-entries"));
	sonde_gadget_ctx_free(ctx);

	reset_cfg(SONDE_DS_ARRAY, rows, NROWS);
	CHECK_INT(run_ctx(NULL, &ctx), 0);
	CHECK(has_param(ctx, "operator.sort.sort"));
	CHECK(has_param(ctx, "operator.limiter.max-entries"));
	CHECK_STR(
	    sonde_param_value(sonde_params_find(sonde_gadget_params(ctx), "operator.limiter.max-entries")),
	    "-1");
	sonde_gadget_ctx_free(ctx);
	/* by default nothing changes */
	CHECK_STR(pids_of(0), "100,101,102,103,104,105");
}

/* ---- sort ---- */

static void test_sort_numbers(void)
{
	reset_cfg(SONDE_DS_ARRAY, rows, NROWS);
	CHECK_INT(run_with(PARAMS("operator.sort.sort", "-proc.pid")), 0);
	CHECK_STR(pids_of(0), "105,104,103,102,101,100");
	CHECK_INT(run_with(PARAMS("operator.sort.sort", "proc.pid")), 0);
	CHECK_STR(pids_of(0), "100,101,102,103,104,105");
	/* signed ints: ties keep their order (stable) */
	CHECK_INT(run_with(PARAMS("operator.sort.sort", "score")), 0);
	CHECK_STR(pids_of(0), "101,104,105,103,100,102");
	CHECK_INT(run_with(PARAMS("operator.sort.sort", "-score")), 0);
	CHECK_STR(pids_of(0), "100,102,103,105,101,104");
	/* floats */
	CHECK_INT(run_with(PARAMS("operator.sort.sort", "ratio")), 0);
	CHECK_STR(pids_of(0), "101,105,102,100,104,103");
	CHECK_INT(run_with(PARAMS("operator.sort.sort", " -ratio ")), 0);
	CHECK_STR(pids_of(0), "103,104,100,102,101,105");
}

static void test_sort_strings_and_keys(void)
{
	reset_cfg(SONDE_DS_ARRAY, rows, NROWS);
	/* byte order; the empty string first */
	CHECK_INT(run_with(PARAMS("operator.sort.sort", "name")), 0);
	CHECK_STR(pids_of(0), "105,101,104,103,102,100");
	CHECK_INT(run_with(PARAMS("operator.sort.sort", "-name")), 0);
	CHECK_STR(pids_of(0), "100,102,103,101,104,105");
	/* CString */
	CHECK_INT(run_with(PARAMS("operator.sort.sort", "proc.comm")), 0);
	CHECK_STR(pids_of(0), "100,102,104,101,103,105");
	/* several keys: the first decides, the next break ties */
	CHECK_INT(run_with(PARAMS("operator.sort.sort", "name,-proc.pid")), 0);
	CHECK_STR(pids_of(0), "105,104,101,103,102,100");
	CHECK_INT(run_with(PARAMS("operator.sort.sort", "-score,ratio")), 0);
	CHECK_STR(pids_of(0), "102,100,103,105,101,104");
	CHECK_INT(run_with(PARAMS("operator.sort.sort", "proc.comm,-score,proc.pid")), 0);
	CHECK_STR(pids_of(0), "100,102,104,101,103,105");
	/* empty entries are ignored */
	CHECK_INT(run_with(PARAMS("operator.sort.sort", ",score,,")), 0);
	CHECK_STR(pids_of(0), "101,104,105,103,100,102");
}

/* NaN does not break the order: it sorts last. */
static void test_sort_nan(void)
{
	static struct row r[] = {{1, 0, 2.0, "", ""},
	                         {2, 0, NAN, "", ""},
	                         {3, 0, -1.0, "", ""},
	                         {4, 0, NAN, "", ""},
	                         {5, 0, 1.0, "", ""}};

	reset_cfg(SONDE_DS_ARRAY, r, 5);
	CHECK_INT(run_with(PARAMS("operator.sort.sort", "ratio")), 0);
	CHECK_STR(pids_of(0), "3,5,1,2,4");
}

/* Big packets go through the merge: compare against a reference insertion sort. */
static void test_sort_large_stable(void)
{
	static struct row many[3000];
	static uint32_t want[3000];
	static const char *const names[] = {"x", "y", "z", "w"};
	char *expected;
	size_t off = 0;
	uint32_t seed = 12345;

	for (size_t i = 0; i < 3000; i++) {
		seed = seed * 1103515245 + 12345;
		many[i] = (struct row){(uint32_t)i, (int32_t)((seed >> 16) % 50) - 25, 0,
		                       names[(seed >> 8) % 4], "c"};
	}
	/* reference: stable by (name asc, score desc) */
	for (size_t i = 0; i < 3000; i++) {
		size_t j = i;

		while (j > 0) {
			const struct row *a = &many[want[j - 1]], *b = &many[i];
			int c = strcmp(a->name, b->name);

			if (c < 0 || (c == 0 && a->score >= b->score))
				break;
			want[j] = want[j - 1];
			j--;
		}
		want[j] = (uint32_t)i;
	}
	expected = malloc(3000 * 6);
	REQUIRE(expected);
	for (size_t i = 0; i < 3000; i++)
		off += (size_t)sprintf(expected + off, "%s%u", i ? "," : "", want[i]);
	reset_cfg(SONDE_DS_ARRAY, many, 3000);
	CHECK_INT(run_with(PARAMS("operator.sort.sort", "name,-score")), 0);
	CHECK_INT(got[0].n, 3000);
	CHECK(strcmp(pids_of(0), expected) == 0);
	free(expected);
	/* sizes around the run length */
	for (size_t n = 15; n <= 34; n++) {
		char buf[512] = "";

		for (size_t i = 0; i < n; i++)
			many[i] = (struct row){(uint32_t)i, (int32_t)(i % 3), 0, "", ""};
		for (int s = 0, first = 1; s < 3; s++)
			for (size_t i = 0; i < n; i++)
				if ((int)(i % 3) == s) {
					snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%zu",
					         first ? "" : ",", i);
					first = 0;
				}
		reset_cfg(SONDE_DS_ARRAY, many, n);
		CHECK_INT(run_with(PARAMS("operator.sort.sort", "score")), 0);
		CHECK_STR(pids_of(0), buf);
	}
}

static void test_sort_per_ds(void)
{
	reset_cfg(SONDE_DS_ARRAY, rows, NROWS);
	pcfg.nds = 2;
	CHECK_INT(run_with(PARAMS("operator.sort.sort", "events:-proc.pid;other:name,proc.pid")), 0);
	CHECK_STR(pids_of(0), "105,104,103,102,101,100");
	CHECK_STR(pids_of(1), "105,101,104,103,102,100");
	/* only one named */
	CHECK_INT(run_with(PARAMS("operator.sort.sort", " other : -score ")), 0);
	CHECK_STR(pids_of(0), "100,101,102,103,104,105");
	CHECK_STR(pids_of(1), "100,102,103,105,101,104");
	/* unprefixed: every array */
	CHECK_INT(run_with(PARAMS("operator.sort.sort", "-proc.pid")), 0);
	CHECK_STR(pids_of(0), "105,104,103,102,101,100");
	CHECK_STR(pids_of(1), "105,104,103,102,101,100");
	/* unprefixed skips Single DataSources */
	pcfg.type[1] = SONDE_DS_SINGLE;
	CHECK_INT(run_with(PARAMS("operator.sort.sort", "-proc.pid")), 0);
	CHECK_STR(pids_of(0), "105,104,103,102,101,100");
	CHECK_STR(pids_of(1), "100,101,102,103,104,105");
}

static void test_sort_errors(void)
{
	static const struct {
		const char *value, *error;
	} cases[] = {
	    {"nope", "sort: unknown field \"nope\" in data source \"events\""},
	    {"-nope", "unknown field \"nope\""},
	    {"proc", "sort: field \"proc\" (bytes) cannot be used for sorting"},
	    {"events:score;name", "mixes fields with and without a data source"},
	    {"name;events:score", "mixes fields"},
	    {"name;score", "several field lists"},
	    {"ghost:score", "sort: unknown data source \"ghost\""},
	    {"other:score", "sort: data source \"other\" is not an array"},
	    {"events:score;events:name", "given twice"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		reset_cfg(SONDE_DS_ARRAY, rows, NROWS);
		pcfg.nds = 2;
		pcfg.type[1] = SONDE_DS_SINGLE;
		CHECK_INT(run_with(PARAMS("operator.sort.sort", cases[i].value)), -EINVAL);
		CHECK(!producer_started);
		CHECK_INT(nerrors, 1);
		if (!strstr(last_err, cases[i].error)) {
			fprintf(stderr, "sort=%s: error \"%s\", want \"%s\"\n", cases[i].value, last_err,
			        cases[i].error);
			test_failures++;
		}
	}
}

/* ---- limiter ---- */

static void test_limiter(void)
{
	reset_cfg(SONDE_DS_ARRAY, rows, NROWS);
	CHECK_INT(run_with(PARAMS("operator.limiter.max-entries", "3")), 0);
	CHECK_STR(pids_of(0), "100,101,102");
	CHECK_INT(got[0].last_packet_len, 3);
	CHECK_INT(run_with(PARAMS("operator.limiter.max-entries", "-1")), 0);
	CHECK_STR(pids_of(0), "100,101,102,103,104,105");
	CHECK_INT(run_with(PARAMS("operator.limiter.max-entries", "6")), 0);
	CHECK_STR(pids_of(0), "100,101,102,103,104,105");
	CHECK_INT(run_with(PARAMS("operator.limiter.max-entries", "1000")), 0);
	CHECK_INT(got[0].n, 6);
	/* 0 empties the packet, which still goes on */
	CHECK_INT(run_with(PARAMS("operator.limiter.max-entries", "0")), 0);
	CHECK_STR(pids_of(0), "");
	CHECK_INT(got[0].packets, 1);
	/* after sorting: the top N */
	CHECK_INT(run_with(PARAMS("operator.sort.sort", "-ratio", "operator.limiter.max-entries", "2")), 0);
	CHECK_STR(pids_of(0), "103,104");
	/* after filtering */
	CHECK_INT(run_with(PARAMS("operator.filter.filter", "proc.comm==bash", "operator.sort.sort",
	                          "-proc.pid", "operator.limiter.max-entries", "2")),
	          0);
	CHECK_STR(pids_of(0), "104,102");
}

static void test_limiter_per_ds(void)
{
	reset_cfg(SONDE_DS_ARRAY, rows, NROWS);
	pcfg.nds = 2;
	CHECK_INT(run_with(PARAMS("operator.limiter.max-entries", "events:2,other:4")), 0);
	CHECK_STR(pids_of(0), "100,101");
	CHECK_STR(pids_of(1), "100,101,102,103");
	CHECK_INT(run_with(PARAMS("operator.limiter.max-entries", "other:1")), 0);
	CHECK_INT(got[0].n, 6);
	CHECK_STR(pids_of(1), "100");
	CHECK_INT(run_with(PARAMS("operator.limiter.max-entries", "events:-1, other : 0")), 0);
	CHECK_INT(got[0].n, 6);
	CHECK_INT(got[1].n, 0);
	CHECK_INT(run_with(PARAMS("operator.limiter.max-entries", "1")), 0);
	CHECK_STR(pids_of(0), "100");
	CHECK_STR(pids_of(1), "100");
}

static void test_limiter_errors(void)
{
	static const struct {
		const char *value, *error;
	} cases[] = {
	    {"-2", "limiter: invalid max-entries \"-2\""},
	    {"abc", "invalid max-entries \"abc\""},
	    {"3x", "invalid max-entries \"3x\""},
	    {"99999999999999999999999", "invalid max-entries"},
	    {"events:", "invalid max-entries \"\""},
	    {"1,2", "give one count"},
	    {"1,events:2", "give one count"},
	    {"ghost:1", "limiter: unknown data source \"ghost\""},
	    {"other:1", "data source \"other\" is not an array"},
	    {"events:1,events:2", "given twice"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		reset_cfg(SONDE_DS_ARRAY, rows, NROWS);
		pcfg.nds = 2;
		pcfg.type[1] = SONDE_DS_SINGLE;
		CHECK_INT(run_with(PARAMS("operator.limiter.max-entries", cases[i].value)), -EINVAL);
		CHECK(!producer_started);
		CHECK_INT(nerrors, 1);
		if (!strstr(last_err, cases[i].error)) {
			fprintf(stderr, "max-entries=%s: error \"%s\", want \"%s\"\n", cases[i].value,
			        last_err, cases[i].error);
			test_failures++;
		}
	}
}

TEST_MAIN(TEST(test_only_for_arrays), TEST(test_sort_numbers), TEST(test_sort_strings_and_keys),
          TEST(test_sort_nan), TEST(test_sort_large_stable), TEST(test_sort_per_ds), TEST(test_sort_errors),
          TEST(test_limiter), TEST(test_limiter_per_ds), TEST(test_limiter_errors))
