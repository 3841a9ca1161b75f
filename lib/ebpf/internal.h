/* Internal API of the ebpf image operator, shared by the files of lib/ebpf.
 *
 * One `struct ebpf_gadget` exists per gadget run. Instantiate fills it from
 * the object (discovery.c), creates DataSources (btf_fields.c, tracer.c,
 * iterator.c, mapiter.c) and params (params.c); start writes params, loads,
 * starts readers and attaches (attach.c); stop undoes it in reverse.
 */
#ifndef SONDE_EBPF_INTERNAL_H
#define SONDE_EBPF_INTERNAL_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <sonde/datasource.h>
#include <sonde/gadget.h>
#include <sonde/mntns_filter.h>
#include <sonde/params.h>

#include "ebpf.h"
#include "util/array.h"

#define EBPF_PARAM_PREFIX "operator.oci.ebpf."

/* ---- per-run state ---- */

struct ebpf_gadget;
struct ebpf_enum_fmt;
struct ebpf_kstack;

struct ebpf_tracer {
	char *name;
	char *map_name;
	char *struct_name;
	uint32_t struct_id;
	uint32_t struct_size;
	struct bpf_map *map;
	struct bpf_map *lost_map; /* <map>_lost_samples, may be NULL */
	struct sonde_ds *ds;
	uint32_t slot;                /* payload slot of the raw struct */
	struct sonde_field *rest;     /* DS annotation ebpf.rest.name */
	struct sonde_field *rest_len; /* DS annotation ebpf.rest.len */
	/* run time */
	struct ring_buffer *rb;
	struct perf_buffer *pb;
	int watched_fd;
	void *scratch;       /* zero-padded copy of short samples */
	size_t scratch_used; /* bytes of scratch that may be non-zero */
	uint64_t perf_lost;  /* reported by the perf reader, not yet accounted */
	uint64_t *lost_vals; /* lost_map per CPU: this read, then the last one */
	int ncpus;
	uint64_t emit_errors;
	int budget; /* records left in this wakeup */
	struct ebpf_gadget *g;
};

/* When an iterator or map iterator fetches: every interval_ns (0 = once,
 * right after start), count times (0 = until stopped). The fetch callback
 * emits one array; the last scheduled fetch finishes the producer. */
struct ebpf_fetch_timer {
	struct ebpf_gadget *g;
	const char *kind; /* "iterator", "map iterator": for messages */
	const char *name;
	int (*fetch)(void *owner);
	void *owner;
	int64_t interval_ns;
	uint64_t count;
	uint64_t fetched;
	int timer_id;
	bool finished;
};

struct ebpf_iter {
	char *name;
	char *struct_name;
	uint32_t struct_id;
	uint32_t struct_size;
	struct bpf_program **progs;
	struct bpf_link **links;
	size_t nprogs;
	struct sonde_ds *ds;
	uint32_t slot;
	/* run time */
	struct ebpf_fetch_timer timer;
	bool fetch_on_stop;
	char *buf;
	size_t cap;
	struct ebpf_gadget *g;
};

/* GADGET_SK_TARGET_MAP: binds an sk_skb/sk_msg program to a sockmap/sockhash. */
struct ebpf_sk_target {
	struct bpf_program *prog;
	struct bpf_map *map;
	bool attached; /* run time: BPF_PROG_ATTACH done, detach at stop */
	enum bpf_attach_type type;
};

/* GADGET_ITER_TARGET_MAP: binds an iter/bpf_map_elem program to a map. */
struct ebpf_iter_target {
	struct bpf_program *prog;
	struct bpf_map *map;
};

struct ebpf_mapiter {
	char *name;
	char *map_name;
	struct bpf_map *map;
	uint32_t key_id, value_id;
	uint32_t key_size, value_size;
	struct sonde_ds *ds;
	uint32_t key_slot, value_slot;
	/* run time */
	struct ebpf_fetch_timer timer;
	bool flush_on_stop;
	char *keys, *values;
	size_t cap; /* entries */
	struct ebpf_gadget *g;
};

enum ebpf_param_kind {
	EBPF_PARAM_INT,
	EBPF_PARAM_UINT,
	EBPF_PARAM_BOOL,
	EBPF_PARAM_FLOAT,
	EBPF_PARAM_STRING, /* char array, zero-padded */
	EBPF_PARAM_IP,     /* struct gadget_l3endpoint_t */
};

/* A global variable inside a data section (.rodata, .bss, .data). */
struct ebpf_var_loc {
	struct bpf_map *map; /* internal map of the section */
	uint32_t offset;
	uint32_t size;
};

struct ebpf_param {
	char *var;
	enum ebpf_param_kind kind;
	struct ebpf_var_loc loc;
	struct sonde_param *param;
};

/* gadget_var_* and gadget_filter_by_mntns: operator-settable variables. */
struct ebpf_var {
	char *name;
	struct ebpf_var_loc loc;
};

/* One filter of the load-time hook: the body replacing subprogram `func`. */
struct ebpf_pf_filter {
	const char *func;            /* gadget_pf_<name> */
	const struct bpf_insn *body; /* NULL: the stub stays */
	size_t n;
	bool applied; /* set by the hook when some program got it */
};

/* A GADGET_PF(name) point and its param `pf` / `pf-<name>` (packet_filter.c). */
struct ebpf_pf {
	struct ebpf_pf_filter filter; /* func owned here */
	struct sonde_param *param;
	struct bpf_insn *body; /* translated filter while loading */
};

/* The gadget's mount-namespace filter (mntns_filter.c). */
struct ebpf_mntns_filter {
	struct ebpf_gadget *g;
	struct bpf_map *map; /* gadget_mntns_filter_map, NULL if the gadget has none */
	uint32_t value_size;
	atomic_int fd; /* our map once enabled, else -1; read by other threads */
	struct sonde_mntns_filter iface;
};

struct ebpf_gadget {
	struct sonde_gadget_ctx *ctx;
	char *name;
	void *image; /* private copy of the layer: libbpf keeps pointing into it */
	size_t image_len;
	char *core_btf;     /* path of this object's minimal kernel BTF in the cache, or NULL */
	bool core_btf_used; /* it was there and given to libbpf */
	struct bpf_object *obj;
	const struct btf *btf;

	struct ebpf_tracer *tracers;
	size_t ntracers;
	struct ebpf_iter *iters;
	size_t niters;
	struct ebpf_iter_target *targets;
	size_t ntargets;
	struct ebpf_mapiter *mapiters;
	size_t nmapiters;
	struct ebpf_sk_target *sk_targets;
	size_t nsk_targets;
	struct ebpf_param *params;
	size_t nparams;
	struct ebpf_var *vars;
	size_t nvars;
	char **tracer_maps; /* GADGET_TRACER_MAP markers */
	size_t ntracer_maps;
	struct ebpf_enum_fmt **enums;
	size_t nenums;
	struct ebpf_kstack *kstack; /* kernel stack formatters, NULL if none */
	struct ebpf_pf *pfs;        /* GADGET_PF points */
	size_t npfs, pfs_cap;
	struct ebpf_pf_filter *pf_filters; /* what the load hook sees */
	bool pf_bound;

	struct sonde_param *map_fetch_interval, *map_fetch_count;
	struct sonde_param *ring_size; /* tracers: bytes per CPU, "" = by event size */
	struct sonde_param *iface;     /* TC: host interface to attach to, "" = containers */

	/* run time */
	struct ebpf_uprobes *uprobes;              /* per-root uprobe links (uprobes.c), NULL if none */
	struct ebpf_sockfilters *sockfilters;      /* socket filters per netns (sockfilter.c) */
	struct ebpf_tc *tc;                        /* TC classifiers per interface (tc.c) */
	struct ebpf_iter_netns *iter_netns;        /* namespaces of tcp/udp iterators (iter_netns.c) */
	struct sonde_container_attacher *attacher; /* published to the container operator */
	struct bpf_link **links;
	size_t nlinks, links_cap;
	int lost_timer;
	int drain_timer;
	size_t producers_running;
	struct ebpf_mntns_filter mntns;
	struct bpf_map *sockets_map;     /* gadget_sockets, NULL if the gadget has none */
	struct sonde_param *sockets_max; /* socket-enricher-max-entries */
	bool sockets_acquired;           /* holds a reference on the socket enricher */
	bool loaded;
	int64_t load_ns, attach_ns; /* measured durations */
};

/* ---- small helpers (header-only) ---- */

/* ---- elf_check.c ---- */
/* Validates the ELF framing (header, section table, names) before libbpf sees
 * the bytes, so malformed input gets one clear reason. -ENOENT: no .BTF. */
int ebpf_elf_check(const void *data, size_t len, char *why, size_t whylen);

/* ---- btf_check.c ---- */
/* Validates raw .BTF bytes: bounds, string offsets, type ids, chain cycles. */
int ebpf_btf_check(const void *data, size_t len, char *why, size_t whylen);

/* ---- libbpf_log.c ---- */
/* Routes libbpf messages to sonde_debug and keeps, per thread, what the last
 * failure said. Idempotent. */
void ebpf_libbpf_log_install(void);
/* Forgets what previous operations said (call before an operation). */
void ebpf_libbpf_log_reset(void);
/* libbpf's own words for the last failure on this thread, "" if none. */
const char *ebpf_libbpf_reason(void);
/* Last meaningful line of the last verifier log, "" if none. */
const char *ebpf_libbpf_verifier(void);
/* The program libbpf last reported as failing to load, or NULL. */
const char *ebpf_libbpf_failed_prog(void);

/* ---- mntns_filter.c ---- */
/* Offers the gadget's filter on the context (if it has one). */
void ebpf_mntns_filter_offer(struct ebpf_gadget *g);
/* Before load: our filled map replaces the gadget's, the flag is set. */
int ebpf_mntns_filter_apply(struct ebpf_gadget *g);
/* Withdraws the filter and closes our map. */
void ebpf_mntns_filter_close(struct ebpf_gadget *g);

/* ---- socket_enricher.c ---- */
/* A BTF file (kernel + struct gadget_socket_value as the enricher's map
 * holds it) for btf_custom_path of objects that use gadget_sockets; built
 * once per process. */
int ebpf_sockets_btf_path(const char **path);
/* Starts the shared enricher (or takes another reference); *map_fd is its map. */
int ebpf_socket_enricher_acquire(uint32_t max_entries, int *map_fd);
void ebpf_socket_enricher_release(void);
/* Instantiate: the max-entries param when the gadget has gadget_sockets. */
int ebpf_sockets_params(struct ebpf_gadget *g);
/* Before load: the enricher's map replaces the gadget's. */
int ebpf_sockets_apply(struct ebpf_gadget *g);
/* At stop: drops the gadget's reference. */
void ebpf_sockets_release(struct ebpf_gadget *g);

/* ---- discovery.c ---- */
/* Scans BTF for gadget_* symbols and validates what they reference; fills
 * tracers, iters, targets, mapiters, vars and the param variable list. */
int ebpf_discover(struct ebpf_gadget *g);
/* Finds a global variable by name; 0 if absent. */
uint32_t ebpf_find_var(const struct btf *btf, const char *name);
/* Where a global variable's bytes live (its data section map and offset). */
int ebpf_var_locate(struct ebpf_gadget *g, uint32_t var_id, struct ebpf_var_loc *loc);
/* Pointer to the variable's initial bytes (writable until load), or NULL. */
void *ebpf_var_data(const struct ebpf_var_loc *loc);
/* Most type names collected along one typedef chain. */
#define EBPF_MAX_TYPE_NAMES 8
/* Skips typedef/const/volatile/restrict (and type tags); returns the id of
 * the underlying type, 0 if none. With names, appends each named type met on
 * the way (up to EBPF_MAX_TYPE_NAMES in total, counting *nnames). */
uint32_t ebpf_btf_type_chain(const struct btf *btf, uint32_t id, const char **names, size_t *nnames);
static inline uint32_t ebpf_btf_resolve(const struct btf *btf, uint32_t id)
{
	return ebpf_btf_type_chain(btf, id, NULL, NULL);
}

/* ---- core_btf_cache.c ---- */
/* Hex GNU build id from an ELF notes blob (/sys/kernel/notes): 0, -ENOENT, -EINVAL. */
int ebpf_build_id_from_notes(const void *notes, size_t len, char *out, size_t outlen);
/* Where the minimal kernel BTF of this object goes on this kernel (caller
 * frees); NULL when there is no cache (turned off, no kernel build id). */
char *ebpf_core_btf_path(const void *image, size_t len);
/* Whether the file at `path` is there and parses; an unreadable one is removed. */
bool ebpf_core_btf_usable(const char *path);
/* Starts a detached generation of that file if it is missing; never waits for it. */
void ebpf_core_btf_generate(const char *path, const void *image, size_t len);
/* Removes a cached file that failed to load. */
void ebpf_core_btf_invalidate(const char *path);

/* ---- fetch_timer.c ---- */
/* Starts the schedule (interval/count already set) and counts the producer
 * as running; a schedule of interval 0 and count != 1 only fetches on stop. */
int ebpf_fetch_timer_start(struct ebpf_fetch_timer *ft);
void ebpf_fetch_timer_stop(struct ebpf_fetch_timer *ft);

/* ---- btf_fields.c ---- */
/* Called for every field made from a plain `enum E` member. */
typedef int (*ebpf_enum_fn)(void *arg, struct sonde_ds *ds, struct sonde_field *f, uint32_t enum_id);
/* Adds the members of struct/union `type_id` as static fields of one payload
 * slot of `ds` (spec §2.5). `role_tag` (e.g. "role:key") may be NULL.
 * *slot receives the payload index. `on_enum` may be NULL. */
int ebpf_add_struct_fields(struct sonde_ds *ds, const struct btf *btf, uint32_t type_id, const char *role_tag,
                           uint32_t *slot, ebpf_enum_fn on_enum, void *arg);

/* ---- kernel_enums.c ---- */
/* True if a program of the object asks the kernel for the values of the
 * enum (a CO-RE enum-value relocation): its values are the kernel's. */
bool ebpf_enum_core_relocated(const struct ebpf_gadget *g, uint32_t enum_id);
/* The running kernel's enum `name` (*btf: the kernel's BTF, kept for the
 * process), or NULL. */
const struct btf_type *ebpf_kernel_enum(const char *name, const struct btf **btf);

/* ---- enum_formatter.c ---- */
/* Adds the string field naming an enum value (ebpf.formatter.enum or the
 * member name minus _raw) and subscribes the formatter; an ebpf_enum_fn. */
int ebpf_enum_formatter_add(void *g, struct sonde_ds *ds, struct sonde_field *src, uint32_t enum_id);
void ebpf_enum_formatters_free(struct ebpf_gadget *g);

/* ---- kstack.c ---- */
/* /proc/kallsyms, sorted by address. */
struct ebpf_kallsyms;
int ebpf_kallsyms_load(const char *path, struct ebpf_kallsyms **out);
void ebpf_kallsyms_free(struct ebpf_kallsyms *ks);
size_t ebpf_kallsyms_count(const struct ebpf_kallsyms *ks);
/* The symbol at or below addr (the last listed among equal addresses);
 * "[unknown]" below the first symbol or when addresses are hidden. */
const char *ebpf_kallsyms_lookup(const struct ebpf_kallsyms *ks, uint64_t addr);
/* For every gadget_kernel_stack field: adds the symbolised string field
 * (ebpf.formatter.kstack or the name minus _raw), hides the stack id and
 * subscribes the formatter. Needs the ig_kstack map. */
int ebpf_kstack_formatters_add(struct ebpf_gadget *g);
void ebpf_kstack_formatters_free(struct ebpf_gadget *g);

/* ---- params.c ---- */
/* Adds GADGET_PARAM `var` (BTF var id) as an instance param. */
int ebpf_param_define(struct ebpf_gadget *g, const char *var, uint32_t var_id);
/* Writes every param value into its data section (before load). */
int ebpf_params_write(struct ebpf_gadget *g);
/* Encodes one value as the bytes of a variable; used by ebpf_params_write. */
int ebpf_param_encode(enum ebpf_param_kind kind, uint32_t size, const char *value, void *out, char *why,
                      size_t whylen);
/* Formats a variable's bytes as a param default. */
int ebpf_param_format(enum ebpf_param_kind kind, uint32_t size, const void *bytes, char *out, size_t outlen);
/* Applies `<map>_max_entries` variables (after params were written). */
int ebpf_resize_maps(struct ebpf_gadget *g);

/* ---- cbpf_to_ebpf.c ---- */
struct ebpf_cbpf_insn;
/* Translates a classic BPF program into the eBPF body of a GADGET_PF stub
 * (a subprogram: R1 = skb, returns 1 if the packet passes, else 0). *out is
 * malloc'ed. -EINVAL/-E2BIG with the reason in why. */
int ebpf_cbpf_to_ebpf(const struct ebpf_cbpf_insn *c, size_t n, struct bpf_insn **out, size_t *nout,
                      char *why, size_t whylen);

/* ---- packet_filter.c ---- */
/* Instantiate: a `pf`/`pf-<name>` param per gadget_pf_<name> function. */
int ebpf_pf_params(struct ebpf_gadget *g);
/* Pre-start: compiles every set expression (one error naming the param). */
int ebpf_pf_check_params(struct ebpf_gadget *g);
/* Before load: translates the set filters and binds every program to them. */
int ebpf_pf_prepare(struct ebpf_gadget *g);
/* After load (or its failure): unbinds; warns about filters no program used. */
void ebpf_pf_loaded(struct ebpf_gadget *g, bool loaded);
void ebpf_pf_free(struct ebpf_gadget *g);
/* While bound, loading prog replaces the subprograms named by filters
 * (with a body) by their bodies; filters stay the caller's until unbind. */
int ebpf_pf_bind(struct bpf_program *prog, const struct btf *btf, struct ebpf_pf_filter *filters, size_t n);
void ebpf_pf_unbind(struct bpf_program *prog);
/* A program with some functions replaced (all malloc'ed). */
struct ebpf_pf_spliced {
	struct bpf_insn *insns;
	size_t n;
	void *finfo; /* same count and record size as the input */
	void *linfo;
	uint32_t lcnt;
};
/* Replaces function j (the j-th func_info record up to the next) by
 * bodies[j] (nbodies[j] instructions) where bodies[j] != NULL; fixes
 * pseudo-call and BPF_PSEUDO_FUNC offsets, func_info and line_info. */
int ebpf_pf_splice(const struct bpf_insn *insns, size_t n, const void *finfo, uint32_t fcnt, uint32_t frec,
                   const void *linfo, uint32_t lcnt, uint32_t lrec, const struct bpf_insn *const *bodies,
                   const size_t *nbodies, struct ebpf_pf_spliced *out);
void ebpf_pf_spliced_free(struct ebpf_pf_spliced *s);

/* ---- attach.c ---- */
enum ebpf_sec_kind {
	EBPF_SEC_UNKNOWN,
	EBPF_SEC_TRACEPOINT,
	EBPF_SEC_RAW_TP,
	EBPF_SEC_TP_BTF,
	EBPF_SEC_KPROBE,
	EBPF_SEC_KRETPROBE,
	EBPF_SEC_UPROBE,
	EBPF_SEC_URETPROBE,
	EBPF_SEC_FENTRY,
	EBPF_SEC_FEXIT,
	EBPF_SEC_LSM,
	EBPF_SEC_ITER,
	EBPF_SEC_SOCKET,      /* socket, socket1, …: socket filter per network namespace */
	EBPF_SEC_CLASSIFIER,  /* classifier/<ingress|egress>/<name>: TC */
	EBPF_SEC_PERF_EVENT,  /* perf_event/<name>: per CPU, settings in gadget.yaml */
	EBPF_SEC_SOCKOPS,     /* cgroup-v2 root */
	EBPF_SEC_SK_SKB,      /* sk_skb/stream_parser, sk_skb/stream_verdict: bound sockmap */
	EBPF_SEC_SK_MSG,      /* sk_msg: bound sockmap */
	EBPF_SEC_USDT,        /* usdt/<path-or-lib>:<provider>:<probe>: per root, as uprobes */
	EBPF_SEC_UNSUPPORTED, /* known to upstream, not attachable by sonde yet */
};
/* Classifies a section; *target receives what follows the type prefix. */
enum ebpf_sec_kind ebpf_section_kind(const char *sec, const char **target);
/* Instantiate: every program must have a section sonde understands. */
int ebpf_check_programs(struct ebpf_gadget *g);
/* gadget.yaml's programs.<func>.attach_to, or NULL. */
const char *ebpf_prog_attach_to(struct ebpf_gadget *g, const struct bpf_program *prog);
/* gadget.yaml or the section switches it off (gadget_program_disabled). */
bool ebpf_prog_disabled(struct ebpf_gadget *g, const struct bpf_program *prog);
/* Before load: disable programs, retarget tp_btf/fentry overrides. */
int ebpf_prepare_programs(struct ebpf_gadget *g);
/* After load: attaches every non-iter program; on failure detaches all. */
int ebpf_attach_all(struct ebpf_gadget *g);
/* Where cgroup v2 is mounted (the unified hierarchy's root): 0 or -ENOENT. */
int ebpf_cgroup2_root(char *out, size_t len);
/* Keeps a link so that stop destroys it (in reverse order). */
int ebpf_keep_link(struct ebpf_gadget *g, struct bpf_link *link);
void ebpf_detach_all(struct ebpf_gadget *g);
/* Destroys n links concurrently (their RCU waits overlap). */
void ebpf_destroy_links(struct bpf_link **links, size_t n);

/* ---- uprobes.c: uprobes per root (host, containers) ---- */
struct sonde_container;
bool ebpf_has_uprobes(struct ebpf_gadget *g);
/* Attaches the host when `host` (the container operator says it is traced). */
int ebpf_uprobes_start(struct ebpf_gadget *g, bool host);
void ebpf_uprobes_attach_container(struct ebpf_gadget *g, const struct sonde_container *c);
void ebpf_uprobes_detach_container(struct ebpf_gadget *g, const struct sonde_container *c);
void ebpf_uprobes_stop(struct ebpf_gadget *g);

/* ---- dispatcher.c: the per-attachment programs of socket filters and TC ---- */
/* A PROG_ARRAY of one slot holding prog_fd (the gadget's program). */
int ebpf_dispatch_array(int prog_fd, const char *prog_name);
/* A dispatcher of `type` (SOCKET_FILTER or SCHED_CLS) that stores `netns`
 * in skb->cb[0] and tail-calls slot 0 of array_fd; returns its fd. */
int ebpf_dispatcher_load(enum bpf_prog_type type, int array_fd, uint32_t netns, char *why, size_t whylen);
/* Opens /proc/<pid>/ns/net (pid 0: the host's, sonde's own); *ino gets its
 * inode (the netns id of records). Returns the fd or -errno. */
int ebpf_netns_open(uint32_t pid, uint64_t *ino);
/* Runs fn(arg) on a thread inside the network namespace nsfd; returns fn's
 * result or -errno of setns. */
int ebpf_in_netns(int nsfd, int (*fn)(void *arg), void *arg);
/* Who uses one attachment (container ids, or the host's): the attachment
 * goes when the last user goes. */
struct ebpf_att_users {
	char **ids;
	size_t n;
};
/* Adds id; a user attached twice is still one user. 0 or -ENOMEM. */
int ebpf_att_users_add(struct ebpf_att_users *u, const char *id);
/* Drops id (if there); returns true when nobody uses the attachment any more. */
bool ebpf_att_users_drop(struct ebpf_att_users *u, const char *id);
void ebpf_att_users_free(struct ebpf_att_users *u);

/* ---- sockfilter.c: socket filters, one raw socket per network namespace ---- */
int ebpf_sockfilters_start(struct ebpf_gadget *g, bool host);
void ebpf_sockfilters_attach_container(struct ebpf_gadget *g, const struct sonde_container *c);
void ebpf_sockfilters_detach_container(struct ebpf_gadget *g, const struct sonde_container *c);
void ebpf_sockfilters_stop(struct ebpf_gadget *g);

/* ---- tc.c: TC classifiers on --iface or on containers' host-side veths ---- */
/* Instantiate: the iface param when the gadget has classifiers. */
int ebpf_tc_params(struct ebpf_gadget *g);
int ebpf_tc_start(struct ebpf_gadget *g);
void ebpf_tc_attach_container(struct ebpf_gadget *g, const struct sonde_container *c);
void ebpf_tc_detach_container(struct ebpf_gadget *g, const struct sonde_container *c);
void ebpf_tc_stop(struct ebpf_gadget *g);

/* ---- perf_event.c ---- */
/* Instantiate: checks programs.<name>.perf / .sampler of every perf_event program. */
int ebpf_perf_check(struct ebpf_gadget *g);
/* Attaches one perf_event program on every CPU (links kept in g->links). */
int ebpf_perf_attach(struct ebpf_gadget *g, struct bpf_program *prog);
/* "<section>" name for messages. */
const char *ebpf_prog_section(const struct bpf_program *prog);

/* ---- ldcache.c ---- */
/* Paths of every ld.so.cache entry whose name starts with "<name>.so", for the
 * host architecture. *paths is a NULL-terminated array the caller frees with
 * ebpf_ldcache_free. -errno when the file cannot be read, -EBADMSG when it is
 * not a cache; nothing is logged (a container without one is normal). */
int ebpf_ldcache_lookup(const char *cache_path, const char *name, char ***paths, size_t *n);
/* The same on a cache already in memory (the file's bytes, `len` of them):
 * the container controls them, so the fuzz target calls this directly. */
int ebpf_ldcache_parse(const char *buf, size_t len, const char *name, char ***paths, size_t *n);
void ebpf_ldcache_free(char **paths);

/* ---- kernel_features.c ---- */
/* After a program of `kind` failed to load or attach with err: the kernel
 * feature it needs and this kernel lacks, as a phrase, or NULL if unknown. */
const char *ebpf_missing_feature(enum ebpf_sec_kind kind, int err);

/* ---- tracefs.c ---- */
/* Makes sure tracefs is mounted at /sys/kernel/tracing. */
int ebpf_tracefs_ensure(void);

/* ---- operator_vars.c ---- */
/* Before load: replaceable maps and operator-set variables from context variables. */
int ebpf_apply_operator_vars(struct ebpf_gadget *g);
/* After load: publishes every map as context variable map/<name>. */
void ebpf_publish_maps(struct ebpf_gadget *g);

/* ---- tracer.c ---- */
int ebpf_tracer_setup(struct ebpf_gadget *g, struct ebpf_tracer *t);
/* Before load: sizes ring buffers by CPU count, or converts tracer maps to
 * perf arrays if ring buffers are missing. */
/* The ring-size param (when the gadget has tracers) and its check. */
int ebpf_tracers_params(struct ebpf_gadget *g);
int ebpf_tracers_check_params(struct ebpf_gadget *g);
int ebpf_tracers_fix_maps(struct ebpf_gadget *g);
int ebpf_tracers_start(struct ebpf_gadget *g);
void ebpf_tracers_stop(struct ebpf_gadget *g);
/* Sum-and-reset of the lost counters; reports to the DataSource. */
void ebpf_tracers_account_lost(struct ebpf_gadget *g);

/* ---- iter_netns.c: network namespaces of tcp/udp iterators ---- */
/* True for programs whose output depends on the namespace they run in. */
bool ebpf_iter_per_netns(const struct bpf_program *prog);
/* The host's namespace (host) now, the containers' through the attacher;
 * nothing when the gadget has no such iterator. */
int ebpf_iter_netns_start(struct ebpf_gadget *g, bool host);
void ebpf_iter_netns_attach_container(struct ebpf_gadget *g, const struct sonde_container *c);
void ebpf_iter_netns_detach_container(struct ebpf_gadget *g, const struct sonde_container *c);
void ebpf_iter_netns_stop(struct ebpf_gadget *g);
/* fn(arg, nsfd, netns) for each namespace, until one fails (its error). */
int ebpf_iter_netns_each(struct ebpf_gadget *g, int (*fn)(void *arg, int nsfd, uint64_t netns), void *arg);

/* ---- iterator.c ---- */
int ebpf_iter_setup(struct ebpf_gadget *g, struct ebpf_iter *it);
int ebpf_iters_start(struct ebpf_gadget *g);
void ebpf_iters_stop(struct ebpf_gadget *g);
/* One fetch: runs every program of the iterator and emits one array. */
int ebpf_iter_fetch(struct ebpf_iter *it);
/* Splits `len` bytes into records of `size`; -EINVAL if not a multiple. */
int ebpf_split_records(size_t len, uint32_t size, size_t *n);

/* ---- mapiter.c ---- */
int ebpf_mapiter_setup(struct ebpf_gadget *g, struct ebpf_mapiter *mi);
int ebpf_mapiters_params(struct ebpf_gadget *g);
int ebpf_mapiters_start(struct ebpf_gadget *g);
void ebpf_mapiters_stop(struct ebpf_gadget *g);
int ebpf_mapiter_fetch(struct ebpf_mapiter *mi);

/* ---- ebpf_operator.c ---- */
/* Instantiate: opens the layer, discovers, creates DataSources and params in ctx. */
int ebpf_gadget_open(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, struct ebpf_gadget **out);
/* Stops whatever runs and frees everything. NULL is a no-op. */
void ebpf_gadget_free(struct ebpf_gadget *g);
/* DS annotation, falling back to gadget.yaml datasources.<ds>.annotations. */
const char *ebpf_ds_annotation(struct ebpf_gadget *g, struct sonde_ds *ds, const char *key);
/* Fetch schedule from DS annotations fetch-interval / fetch-count. */
int ebpf_fetch_schedule(struct ebpf_gadget *g, struct sonde_ds *ds, int64_t *interval_ns, uint64_t *count);
/* A producer (iterator, map iterator) has nothing more to emit. */
void ebpf_producer_finished(struct ebpf_gadget *g);

#endif
