/* Shared by test_filter.c and test_sort_limiter.c: a gadget context with a
 * fake producer (DataSources shaped like an eBPF event with a gadget_process
 * block) and a sink that records what reaches priority 10000, run through
 * the real filter, sort and limiter operators. */
#ifndef TEST_FILTER_FIXTURE_H
#define TEST_FILTER_FIXTURE_H

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sonde/sonde.h>

#include "operators/filter.h"
#include "operators/limiter.h"
#include "operators/sort.h"
#include "testlib.h"
#include "util/clock.h"

struct tproc {
	char comm[16];
	uint32_t pid;
	uint32_t tid;
	struct {
		uint32_t uid, gid;
	} creds;
	struct {
		char comm[16];
		uint32_t pid;
	} parent;
};

struct tev {
	struct tproc proc;
	int32_t score;
	double ratio;
};

/* One emitted record. */
struct row {
	uint32_t pid;
	int32_t score;
	double ratio;
	const char *name;
	const char *comm;
};

#define MAX_DS   2
#define MAX_ROWS 4096

struct prod_cfg {
	enum sonde_ds_type type[MAX_DS];
	int nds;                /* "events", then "other" */
	const struct row *rows; /* emitted on every DataSource */
	size_t nrows;
	bool ebpf_params;          /* declare operator.oci.ebpf.{pid,tid,uid,gid,comm} */
	bool untagged_params;      /* ... without the group:Process tag */
	bool parent_pid_as_pid;    /* tag proc.parent.pid type:gadget_pid (must not be pushed) */
	bool other_not_ebpf;       /* "other" has no src:ebpf fields */
	bool root_process;         /* the event struct itself is the process block */
	const char *comm_pushdown; /* annotation filter.pushdown on proc.comm, or NULL */
	const char *pid_pushdown;  /* annotation filter.pushdown on proc.pid, or NULL */
	size_t repeat;             /* emit the rows this many times (speed test) */
};

struct got_ds {
	uint32_t pids[MAX_ROWS];
	size_t n;
	size_t packets; /* arrays (or single records) seen by the sink */
	size_t last_packet_len;
};

static struct prod_cfg pcfg;
static struct got_ds got[MAX_DS];
static struct sonde_ds *pds[MAX_DS];
static struct sonde_field *pf_name[MAX_DS], *pf_pid[MAX_DS];
static uint32_t pslot[MAX_DS]; /* payload slot of the raw struct */
static bool producer_started;
static bool emitted;        /* the timer may tick again before the loop sees "done" */
static double emit_seconds; /* time spent emitting (speed test) */

static const char *const tag_process[] = {"type:gadget_process", "src:ebpf", NULL};
static const char *const tag_comm[] = {"type:gadget_comm", "src:ebpf", NULL};
static const char *const tag_pid[] = {"type:gadget_pid", "src:ebpf", NULL};
static const char *const tag_tid[] = {"type:gadget_tid", "src:ebpf", NULL};
static const char *const tag_creds[] = {"type:gadget_creds", "src:ebpf", NULL};
static const char *const tag_uid[] = {"type:gadget_uid", "src:ebpf", NULL};
static const char *const tag_gid[] = {"type:gadget_gid", "src:ebpf", NULL};
static const char *const tag_parent[] = {"type:gadget_parent", "src:ebpf", NULL};
static const char *const tag_pcomm[] = {"type:gadget_pcomm", "src:ebpf", NULL};
static const char *const tag_ppid[] = {"type:gadget_ppid", "src:ebpf", NULL};
static const char *const tag_ebpf[] = {"src:ebpf", NULL};

#define OFF(f) offsetof(struct tev, f)
#define SZ(f)  sizeof(((struct tev *)0)->f)

static int add_fields(int d)
{
	static const char *comm_ann[3], *pid_ann[3];
	bool ebpf = !(d == 1 && pcfg.other_not_ebpf);
	bool root = pcfg.root_process;
	int top = root ? -1 : 0; /* parent index of the process members */
	struct sonde_static_field m[] = {
	    {"proc", -1, SONDE_KIND_BYTES, OFF(proc), SZ(proc), 0, ebpf ? tag_process : NULL, NULL},
	    {"comm", top, SONDE_KIND_CSTRING, OFF(proc.comm), SZ(proc.comm), 0, ebpf ? tag_comm : NULL, NULL},
	    {"pid", top, SONDE_KIND_UINT32, OFF(proc.pid), 4, 0, ebpf ? tag_pid : NULL, NULL},
	    {"tid", top, SONDE_KIND_UINT32, OFF(proc.tid), 4, 0, ebpf ? tag_tid : NULL, NULL},
	    {"creds", top, SONDE_KIND_BYTES, OFF(proc.creds), SZ(proc.creds), 0, ebpf ? tag_creds : NULL,
	     NULL},
	    {"uid", 4, SONDE_KIND_UINT32, OFF(proc.creds.uid), 4, 0, ebpf ? tag_uid : NULL, NULL},
	    {"gid", 4, SONDE_KIND_UINT32, OFF(proc.creds.gid), 4, 0, ebpf ? tag_gid : NULL, NULL},
	    {"parent", top, SONDE_KIND_BYTES, OFF(proc.parent), SZ(proc.parent), 0, ebpf ? tag_parent : NULL,
	     NULL},
	    {"comm", 7, SONDE_KIND_CSTRING, OFF(proc.parent.comm), SZ(proc.parent.comm), 0,
	     ebpf ? tag_pcomm : NULL, NULL},
	    {"pid", 7, SONDE_KIND_UINT32, OFF(proc.parent.pid), 4, 0,
	     ebpf ? (pcfg.parent_pid_as_pid ? tag_pid : tag_ppid) : NULL, NULL},
	    {"score", -1, SONDE_KIND_INT32, OFF(score), 4, 0, ebpf ? tag_ebpf : NULL, NULL},
	    {"ratio", -1, SONDE_KIND_FLOAT64, OFF(ratio), 8, 0, ebpf ? tag_ebpf : NULL, NULL},
	};
	struct sonde_field *made[sizeof(m) / sizeof(m[0])];
	const struct sonde_static_field *members = m;
	size_t n = sizeof(m) / sizeof(m[0]);

	if (pcfg.comm_pushdown) {
		comm_ann[0] = "filter.pushdown";
		comm_ann[1] = pcfg.comm_pushdown;
		m[1].annotations = comm_ann;
	}
	if (pcfg.pid_pushdown) {
		pid_ann[0] = "filter.pushdown";
		pid_ann[1] = pcfg.pid_pushdown;
		m[2].annotations = pid_ann;
	}
	if (root) {
		/* no "proc" block: indices shift by one */
		members = m + 1;
		n--;
		for (size_t i = 1; i < sizeof(m) / sizeof(m[0]); i++)
			if (m[i].parent > 0)
				m[i].parent--;
	}
	if (sonde_ds_add_static_fields(pds[d], sizeof(struct tev), members, n, made))
		return -ENOMEM;
	pslot[d] = sonde_field_payload_index(made[0]);
	pf_pid[d] = sonde_ds_field(pds[d], root ? "pid" : "proc.pid");
	pf_name[d] = sonde_ds_add_field(pds[d], "name", SONDE_KIND_STRING, NULL);
	return pf_name[d] && pf_pid[d] ? 0 : -ENOMEM;
}

static void fill(int d, struct sonde_record *rec, const struct row *r, struct tev *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->proc.pid = r->pid;
	ev->proc.tid = r->pid;
	ev->proc.creds.uid = r->pid + 1000;
	ev->proc.creds.gid = r->pid + 2000;
	ev->proc.parent.pid = 1;
	snprintf(ev->proc.comm, sizeof(ev->proc.comm), "%s", r->comm ? r->comm : "bash");
	snprintf(ev->proc.parent.comm, sizeof(ev->proc.parent.comm), "init");
	ev->score = r->score;
	ev->ratio = r->ratio;
	/* zero copy, as from a ring buffer */
	rec->payloads[pslot[d]].data = ev;
	rec->payloads[pslot[d]].len = sizeof(*ev);
	sonde_field_put_string(pf_name[d], rec, r->name ? r->name : "",
	                       r->name ? (uint32_t)strlen(r->name) : 0);
}

/* The speed loop: records are prepared once, each emit only points the
 * record at its raw event, as a ring-buffer reader does. */
static void emit_repeated(struct tev *evs)
{
	struct sonde_record *rec = sonde_ds_record(pds[0]);

	for (size_t i = 0; i < pcfg.nrows; i++)
		fill(0, rec, &pcfg.rows[i], &evs[i]);
	for (size_t k = 0; k < pcfg.repeat; k++) {
		for (size_t i = 0; i < pcfg.nrows; i++) {
			rec->payloads[pslot[0]].data = &evs[i];
			sonde_ds_emit(pds[0], rec);
		}
	}
}

static void emit(struct sonde_gadget_ctx *ctx, void *arg)
{
	static struct tev evs[MAX_ROWS];
	double t0 = ((double)util_now_ns() / 1e9);

	if (emitted)
		return;
	emitted = true;

	if (pcfg.repeat) {
		emit_repeated(evs);
		emit_seconds = ((double)util_now_ns() / 1e9) - t0;
		sonde_gadget_cancel(ctx);
		return;
	}
	for (int d = 0; d < pcfg.nds; d++) {
		if (pcfg.type[d] == SONDE_DS_ARRAY) {
			struct sonde_array *arr = sonde_ds_array(pds[d]);

			for (size_t i = 0; i < pcfg.nrows; i++)
				fill(d, sonde_array_append(arr), &pcfg.rows[i], &evs[i]);
			sonde_ds_emit_array(pds[d], arr);
			continue;
		}
		for (size_t i = 0; i < pcfg.nrows; i++) {
			struct sonde_record *rec = sonde_ds_record(pds[d]);

			fill(d, rec, &pcfg.rows[i], &evs[0]);
			sonde_ds_emit(pds[d], rec);
		}
	}
	sonde_gadget_cancel(ctx);
}

/* Records seen by an enricher-like subscriber at priority 0, per DataSource. */
static size_t enriched[MAX_DS];

static int count_enriched(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	(*(size_t *)arg)++;
	return 0;
}

static int prod_instantiate(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state)
{
	static const char *const names[MAX_DS] = {"events", "other"};
	static const char *const process_tags[] = {"group:Process", NULL};
	static const struct {
		const char *key, *def, *hint;
	} params[] = {{"pid", "0", "uint32"},
	              {"tid", "0", "uint32"},
	              {"uid", "4294967295", "uint32"},
	              {"gid", "4294967295", "uint32"},
	              {"comm", "", "string"}};

	for (int d = 0; d < pcfg.nds; d++) {
		pds[d] = sonde_gadget_add_ds(ctx, names[d], pcfg.type[d]);
		if (!pds[d] || add_fields(d))
			return -ENOMEM;
		enriched[d] = 0;
		if (sonde_ds_subscribe(pds[d], count_enriched, &enriched[d], 0))
			return -ENOMEM;
	}
	for (size_t i = 0; pcfg.ebpf_params && i < sizeof(params) / sizeof(params[0]); i++) {
		struct sonde_param_desc desc = {.key = params[i].key,
		                                .default_value = params[i].def,
		                                .type_hint = params[i].hint,
		                                .tags = pcfg.untagged_params ? NULL : process_tags};

		if (!sonde_params_add(sonde_gadget_params(ctx), "operator.oci.ebpf.", &desc))
			return -EINVAL;
	}
	*state = &pcfg;
	return 0;
}

static int prod_start(struct sonde_gadget_ctx *ctx, void *state)
{
	int id = sonde_gadget_add_timer(ctx, 1000000, 1000000, emit, NULL);

	producer_started = true;
	return id < 0 ? id : 0;
}

static const struct sonde_operator prod_operator = {
    .name = "testprod",
    .kind = SONDE_OP_DATA,
    .priority = -100,
    .instantiate = prod_instantiate,
    .start = prod_start,
};

/* ---- sink ---- */

static int sink_record(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	struct got_ds *g = &got[(intptr_t)arg];

	if (g->n < MAX_ROWS)
		g->pids[g->n++] = sonde_field_uint32(pf_pid[(intptr_t)arg], rec);
	g->packets++;
	return 0;
}

static int sink_array(struct sonde_ds *ds, struct sonde_array *arr, void *arg)
{
	struct got_ds *g = &got[(intptr_t)arg];

	for (size_t i = 0; i < arr->len && g->n < MAX_ROWS; i++)
		g->pids[g->n++] = sonde_field_uint32(pf_pid[(intptr_t)arg], arr->recs[i]);
	g->packets++;
	g->last_packet_len = arr->len;
	return 0;
}

static int sink_pre_start(struct sonde_gadget_ctx *ctx, void *state)
{
	for (intptr_t d = 0; d < pcfg.nds; d++) {
		int err = pcfg.type[d] == SONDE_DS_ARRAY
		              ? sonde_ds_subscribe_array(pds[d], sink_array, (void *)d, SONDE_PHASE_SINK)
		              : sonde_ds_subscribe(pds[d], sink_record, (void *)d, SONDE_PHASE_SINK);
		if (err)
			return err;
	}
	return 0;
}

static int sink_instantiate(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state)
{
	*state = &got;
	return 0;
}

static const struct sonde_operator sink_operator = {
    .name = "testsink",
    .kind = SONDE_OP_DATA,
    .priority = SONDE_PHASE_SINK,
    .instantiate = sink_instantiate,
    .pre_start = sink_pre_start,
};

/* ---- running ---- */

static char last_err[512];
static int nerrors;

static void capture_log(enum sonde_log_level level, const char *msg, void *arg)
{
	if (level == SONDE_LOG_ERROR) {
		nerrors++;
		snprintf(last_err, sizeof(last_err), "%s", msg);
	}
}

static const struct sonde_gadget_image fixture_image = {.name = "test"};

static void reset_cfg(enum sonde_ds_type type, const struct row *rows, size_t nrows)
{
	memset(&pcfg, 0, sizeof(pcfg));
	pcfg.nds = 1;
	pcfg.type[0] = pcfg.type[1] = type;
	pcfg.rows = rows;
	pcfg.nrows = nrows;
}

/* Instantiates with the real filter/sort/limiter operators, sets params
 * (name, value pairs, NULL-terminated) and runs. The context is returned in
 * *keep (caller frees) or freed. Returns the run's result. */
static int run_ctx(const char *const *params, struct sonde_gadget_ctx **keep)
{
	struct sonde_gadget_ctx *ctx;
	char msg[256];
	int err;

	memset(got, 0, sizeof(got));
	last_err[0] = 0;
	nerrors = 0;
	producer_started = false;
	emitted = false;
	sonde_operator_unregister_all();
	sonde_operator_register(&prod_operator);
	sonde_operator_register(&filter_operator);
	sonde_operator_register(&sort_operator);
	sonde_operator_register(&limiter_operator);
	sonde_operator_register(&sink_operator);
	ctx = sonde_gadget_ctx_new(&fixture_image);
	if (!ctx)
		return -ENOMEM;
	err = sonde_gadget_instantiate(ctx);
	for (size_t i = 0; !err && params && params[i]; i += 2) {
		err = sonde_params_set(sonde_gadget_params(ctx), params[i], params[i + 1], msg, sizeof(msg));
		if (err)
			fprintf(stderr, "param %s: %s\n", params[i], msg);
	}
	sonde_log_set_sink(capture_log, NULL);
	if (!err)
		err = sonde_gadget_run(ctx, 10000000000LL);
	sonde_log_set_sink(NULL, NULL);
	if (keep)
		*keep = ctx;
	else
		sonde_gadget_ctx_free(ctx);
	return err;
}

static int run_with(const char *const *params)
{
	return run_ctx(params, NULL);
}

static bool has_param(struct sonde_gadget_ctx *ctx, const char *name)
{
	struct sonde_param *p = sonde_params_find(sonde_gadget_params(ctx), name);

	return p && strcmp(sonde_param_full_name(p), name) == 0;
}

/* The pids the sink saw for DataSource d, as "1,2,3". */
static const char *pids_of(int d)
{
	static char buf[65536];
	size_t off = 0;

	buf[0] = 0;
	for (size_t i = 0; i < got[d].n && off < sizeof(buf) - 16; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%u", i ? "," : "", got[d].pids[i]);
	return buf;
}

#endif
