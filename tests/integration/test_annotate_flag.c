/* --annotate through `sonde run trace_open`: the columns output follows the
 * annotations given on the command line. */
#include <stdlib.h>
#include <unistd.h>

#include "testlib.h"

static void setup(void)
{
	test_require_root();
}

/* The header line of trace_open's columns with these extra flags. */
static char *header_with(const char *f1, const char *f2, int *status)
{
	const char *argv[] = {"run",       "trace_open", "--host", "--comm", "no-such-comm",
	                      "--timeout", "1",          f1,       f2,       NULL};
	char *out = NULL, *err = NULL, *header;

	*status = sonde_run_cmd(argv, &out, &err, 15000);
	if (!out) {
		free(err);
		return NULL;
	}
	out[strcspn(out, "\n")] = 0;
	header = strdup(out);
	free(out);
	free(err);
	return header;
}

/* Width of the column headed `name`: up to the next header, or the line's end. */
static int column_width(const char *header, const char *name)
{
	const char *f = strstr(header, name), *p;

	if (!f)
		return -1;
	for (p = f + strlen(name); *p == ' '; p++)
		;
	return *p ? (int)(p - f - 1) : (int)strlen(f);
}

static void test_width(void)
{
	setup();
	char *plain, *wide;
	const char *f;
	int st;

	plain = header_with("--annotate", "open:cli.clear-screen-before=true", &st);
	CHECK_INT(st, 0);
	wide = header_with("--annotate", "open.fname:columns.width=50", &st);
	CHECK_INT(st, 0);
	REQUIRE(plain && wide);
	CHECK_INT(column_width(plain, "FNAME"), 32);
	CHECK(strstr(plain, "\033[") == NULL); /* not a terminal */
	CHECK_INT(column_width(wide, "FNAME"), 50);
	f = strstr(wide, "FNAME");
	REQUIRE(f);
	CHECK_INT(f - wide, strstr(plain, "FNAME") - plain);
	free(plain);
	free(wide);
}

static void test_hidden_and_alias(void)
{
	setup();
	char *h;
	int st;

	h = header_with("--annotate", "open.fname:columns.hidden=true,open.proc.pid:columns.alias=ID", &st);
	CHECK_INT(st, 0);
	REQUIRE(h);
	CHECK(strstr(h, "FNAME") == NULL);
	CHECK(strstr(h, "COMM") != NULL);
	CHECK(strstr(h, " ID ") != NULL);
	CHECK(strstr(h, "PID") == NULL);
	free(h);
	/* a hidden field shown by annotation */
	h = header_with("--annotate", "open.proc.creds.user:columns.hidden=false", &st);
	CHECK_INT(st, 0);
	REQUIRE(h);
	CHECK(strstr(h, " USER") != NULL);
	free(h);
}

static void test_errors(void)
{
	setup();
	static const struct {
		const char *value, *msg;
	} cases[] = {
	    {"nosuchds:k=v", "unknown data source \"nosuchds\""},
	    {"open.nosuchfield:columns.width=5", "no field \"nosuchfield\""},
	    {"open.fname", "invalid entry"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[] = {"run", "trace_open", "--host", "--annotate", cases[i].value, NULL};
		char *out = NULL, *err = NULL;

		CHECK_INT(sonde_run_cmd(argv, &out, &err, 15000), 1);
		CHECK(err && strstr(err, cases[i].msg));
		/* one clear line */
		CHECK(err && strchr(err, '\n') == err + strlen(err) - 1);
		CHECK(out && !*out);
		free(out);
		free(err);
	}
}

/* --annotate given twice: both apply (a list flag adds up, it is not replaced). */
static void test_repeated_flag(void)
{
	setup();
	const char *argv[] = {"run", "trace_open", "--host", "--comm", "no-such-comm", "--timeout", "1",
	                      "--annotate", "open.fname:columns.width=50", "--annotate",
	                      "open.proc.pid:columns.alias=ID", NULL};
	char *out = NULL, *err = NULL;

	CHECK_INT(sonde_run_cmd(argv, &out, &err, 15000), 0);
	REQUIRE(out);
	out[strcspn(out, "\n")] = 0;
	CHECK_INT(column_width(out, "FNAME"), 50);
	CHECK(strstr(out, " ID ") != NULL);
	free(out);
	free(err);
}

TEST_MAIN(TEST(test_width), TEST(test_hidden_and_alias), TEST(test_errors), TEST(test_repeated_flag))
