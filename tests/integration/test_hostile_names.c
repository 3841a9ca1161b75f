/* File names that break naive writers, end to end: a child opens files
 * whose names hold quotes, backslashes, newlines, tabs, escape and other
 * control bytes, DEL, NEL, U+2028, a BOM, YAML indicators, a number, and
 * invalid UTF-8; `sonde run trace_open` prints them as JSON and as YAML.
 * Each output is parsed by another implementation (jansson, libyaml) and
 * every name must come back as the oracle of tests/unit/test_utf8_oracle.h
 * says: valid UTF-8 as it was, U+FFFD for each ill-formed byte. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <yaml.h>

#include "../unit/test_utf8_oracle.h"
#include "testlib.h"

#define CHILD_COMM "sonde_it_names"

static const char *const suffixes[] = {
    "q\"uote",
    "back\\slash",
    "new\nline",
    "tab\there",
    "cr\rlf",
    "esc\x1b[31m",
    "bell\x07nul-free",
    "del\x7f",
    "nel\xc2\x85",
    "ls\xe2\x80\xa8ps\xe2\x80\xa9",
    "bom\xef\xbb\xbf",
    "h\xc3\xa9llo \xe4\xb8\xad",
    "\xf0\x9f\x98\x80",
    "bad\xff\xfe",
    "overlong\xc0\xaf",
    "surrogate\xed\xa0\x80",
    "cut\xe2\x82",
    "- dash: colon #hash",
    "'single'",
    "123",
    "true",
    " lead and trail ",
    "{json}[yaml]",
    "&anchor *alias !tag",
    "%percent @at `tick`",
};
#define NNAMES (sizeof(suffixes) / sizeof(suffixes[0]))

static char dir[64];
static char paths[NNAMES][256];

static int open_all(void *arg)
{
	int bad = 0;

	(void)arg;
	prctl(PR_SET_NAME, CHILD_COMM);
	for (size_t i = 0; i < NNAMES; i++) {
		int fd = open(paths[i], O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

		bad |= fd < 0;
		if (fd >= 0)
			close(fd);
	}
	return bad;
}

/* Runs trace_open with -o mode around the child; its stdout. */
static char *trace(const char *mode)
{
	const char *argv[] = {"run", "trace_open", "--host", "-v", "--comm", CHILD_COMM, "-o", mode, NULL};
	struct test_child c;
	int rc = -1;
	char *out;

	test_child_start(&c, open_all, NULL);
	/* the last name: when it is out, all are (one child, in order) */
	out = sonde_run_around_child(argv, &c, "tick", &rc);
	CHECK_INT(rc, 0);
	return out;
}

static void setup(void)
{
	test_require_root();
	snprintf(dir, sizeof(dir), "/tmp/sonde-it-names-XXXXXX");
	REQUIRE(mkdtemp(dir));
	for (size_t i = 0; i < NNAMES; i++)
		snprintf(paths[i], sizeof(paths[i]), "%s/%zu-%s", dir, i, suffixes[i]);
}

static void teardown(void)
{
	test_rm_tree(dir, "/tmp/sonde-it-names-");
}

/* Marks the name got (len bytes) as seen if it is one of the expected. */
static void see(const char *got, size_t len, bool *seen)
{
	char want[3 * 256];

	for (size_t i = 0; i < NNAMES; i++) {
		size_t wlen = oracle_decoded(paths[i], strlen(paths[i]), want);

		if (wlen == len && memcmp(want, got, len) == 0)
			seen[i] = true;
	}
}

static void check_all_seen(const bool *seen, const char *what)
{
	for (size_t i = 0; i < NNAMES; i++)
		if (!seen[i]) {
			fprintf(stderr, "%s: no event naming %s as expected\n", what, paths[i]);
			test_failures++;
		}
}

static void test_json(void)
{
	int before = test_failures;
	bool seen[NNAMES] = {0};
	json_t *all, *ev;
	char *out;
	size_t i;

	setup();
	out = trace("json");
	REQUIRE(out);
	all = test_json_lines(out); /* a line that does not parse fails here */
	json_array_foreach(all, i, ev)
	{
		json_t *f = test_json_path(ev, "fname");

		if (json_is_string(f))
			see(json_string_value(f), json_string_length(f), seen);
	}
	check_all_seen(seen, "json");
	if (test_failures != before)
		fprintf(stderr, "sonde printed:\n%s\n", out);
	json_decref(all);
	free(out);
	teardown();
}

/* Every top-level "fname" value of a YAML stream, by libyaml; -1 if the
 * stream does not parse. */
static int yaml_fnames(const char *text, bool *seen)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int depth = 0, rc = -1;
	bool key_next[8] = {0}, want_value = false;

	if (!yaml_parser_initialize(&parser))
		return -1;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
	for (;;) {
		bool was_value;

		if (!yaml_parser_parse(&parser, &ev)) {
			fprintf(stderr, "libyaml: %s at offset %zu\n",
			        parser.problem ? parser.problem : "error", parser.problem_offset);
			break;
		}
		was_value = depth > 0 && depth < 8 && !key_next[depth];
		if (ev.type == YAML_STREAM_END_EVENT) {
			rc = 0;
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type == YAML_MAPPING_START_EVENT || ev.type == YAML_SEQUENCE_START_EVENT) {
			if (depth > 0 && depth < 8)
				key_next[depth] = true; /* this node was a value */
			depth++;
			if (depth < 8)
				key_next[depth] = ev.type == YAML_MAPPING_START_EVENT;
		} else if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT) {
			depth--;
		} else if (ev.type == YAML_SCALAR_EVENT && depth > 0 && depth < 8) {
			if (depth == 1 && was_value && want_value)
				see((const char *)ev.data.scalar.value, ev.data.scalar.length, seen);
			if (depth == 1 && !was_value)
				want_value = !strcmp((const char *)ev.data.scalar.value, "fname");
			key_next[depth] = was_value;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return rc;
}

static void test_yaml(void)
{
	int before = test_failures;
	bool seen[NNAMES] = {0};
	char *out;

	setup();
	out = trace("yaml");
	REQUIRE(out);
	CHECK_INT(yaml_fnames(out, seen), 0);
	check_all_seen(seen, "yaml");
	if (test_failures != before)
		fprintf(stderr, "sonde printed:\n%s\n", out);
	free(out);
	teardown();
}

TEST_MAIN(TEST(test_json), TEST(test_yaml))
