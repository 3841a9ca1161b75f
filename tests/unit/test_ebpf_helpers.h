/* Shared helpers of the ebpf operator tests: fixtures from SONDE_TEST_BPF_DIR,
 * a gadget context over one eBPF layer, and a log sink that keeps errors. */
#ifndef TEST_EBPF_HELPERS_H
#define TEST_EBPF_HELPERS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/sonde.h>

#include "ebpf/ebpf.h"
#include "testlib.h"

/* ---- log capture ---- */

static char log_errors[16384];
static char log_debug_line[512];
static const char *log_debug_needle;

static __attribute__((unused)) void capture_sink(enum sonde_log_level level, const char *msg, void *arg)
{
	(void)arg;
	if (level <= SONDE_LOG_WARN) {
		size_t n = strlen(log_errors);

		snprintf(log_errors + n, sizeof(log_errors) - n, "%s\n", msg);
		if (getenv("TEST_VERBOSE"))
			fprintf(stderr, "  log: %s\n", msg);
	}
	if (log_debug_needle && strstr(msg, log_debug_needle))
		snprintf(log_debug_line, sizeof(log_debug_line), "%s", msg);
}

static __attribute__((unused)) void capture_reset(void)
{
	log_errors[0] = '\0';
	log_debug_line[0] = '\0';
	sonde_log_set_sink(capture_sink, NULL);
}

/* True if some captured warning/error contains `needle`. */
static __attribute__((unused)) bool logged(const char *needle)
{
	return strstr(log_errors, needle) != NULL;
}

#define CHECK_LOGGED(needle)                                                                                 \
	do {                                                                                                 \
		if (!logged(needle)) {                                                                       \
			fprintf(stderr, "%s:%d: no log line contains \"%s\"; got:\n%s", __FILE__, __LINE__,  \
			        needle, log_errors);                                                         \
			test_failures++;                                                                     \
		}                                                                                            \
	} while (0)

/* ---- fixtures ---- */

static __attribute__((unused)) void register_ebpf(void)
{
	static bool done;

	if (!done) {
		int err = sonde_operator_register(&ebpf_operator);

		if (err && err != -EEXIST)
			fprintf(stderr, "cannot register the ebpf operator: %d\n", err);
		done = true;
	}
}

static __attribute__((unused)) char *fixture_path(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s.bpf.o", SONDE_TEST_BPF_DIR, name);
	return path;
}

static __attribute__((unused)) char *load_fixture(const char *name, size_t *len)
{
	char *data = test_read_file(fixture_path(name), len);

	if (!data)
		fprintf(stderr, "cannot read fixture %s\n", fixture_path(name));
	return data;
}

struct gadget_run {
	struct sonde_layer layer;
	struct sonde_gadget_image image;
	struct sonde_gadget_ctx *ctx;
	char *owned;
};

/* Instantiates a gadget made of one eBPF layer (and an optional gadget.yaml).
 * Returns the instantiate result; r->ctx is valid either way (or NULL). */
static __attribute__((unused)) int gadget_open(struct gadget_run *r, const char *name, const void *data,
                                               size_t len, const char *yaml)
{
	register_ebpf();
	sonde_register_builtin_sinks(); /* and the built-in field templates */
	memset(r, 0, sizeof(*r));
	r->layer = (struct sonde_layer){SONDE_MEDIA_TYPE_EBPF, data, len};
	r->image = (struct sonde_gadget_image){
	    .name = name,
	    .config_yaml = yaml,
	    .config_len = yaml ? strlen(yaml) : 0,
	    .layers = &r->layer,
	    .nlayers = 1,
	};
	r->ctx = sonde_gadget_ctx_new(&r->image);
	if (!r->ctx)
		return -ENOMEM;
	return sonde_gadget_instantiate(r->ctx);
}

/* Same, with the fixture object `fixture` read from the build tree. */
static __attribute__((unused)) int gadget_open_fixture(struct gadget_run *r, const char *fixture,
                                                       const char *yaml)
{
	size_t len = 0;
	char *data = load_fixture(fixture, &len);
	int err;

	if (!data) {
		memset(r, 0, sizeof(*r));
		return -ENOENT;
	}
	err = gadget_open(r, fixture, data, len, yaml);
	r->owned = data;
	return err;
}

static __attribute__((unused)) void gadget_close(struct gadget_run *r)
{
	sonde_gadget_ctx_free(r->ctx);
	free(r->owned);
	memset(r, 0, sizeof(*r));
}

static __attribute__((unused)) const char *param_value(struct gadget_run *r, const char *key)
{
	char name[256];
	struct sonde_param *p;

	snprintf(name, sizeof(name), "operator.oci.ebpf.%s", key);
	p = sonde_params_find(sonde_gadget_params(r->ctx), name);
	return p ? sonde_param_value(p) : NULL;
}

static __attribute__((unused)) int set_param(struct gadget_run *r, const char *key, const char *value)
{
	char name[256], err[256];
	int rc;

	snprintf(name, sizeof(name), "operator.oci.ebpf.%s", key);
	rc = sonde_params_set(sonde_gadget_params(r->ctx), name, value, err, sizeof(err));
	if (rc)
		fprintf(stderr, "  set %s=%s: %s\n", name, value, err);
	return rc;
}

#endif
