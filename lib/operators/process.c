/* The process operator: periodic process table from /proc (see process.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sonde/config.h>
#include <sonde/gadget.h>
#include <sonde/log.h>

#include "host/procfs.h"
#include "operators/process.h"
#include "util/ann.h"
#include "util/clock.h"
#include "util/list.h"

#define DEFAULT_INTERVAL "60s"
#define NS_PER_SEC       1000000000ll
#define SCRATCH_SIZE     8192

/* Optional fields, in the order upstream adds them. */
enum opt_field {
	OF_PPID,
	OF_COMM,
	OF_PRIORITY,
	OF_NICE,
	OF_CPU_USAGE,
	OF_CPU_RELATIVE,
	OF_MEM_RSS,
	OF_MEM_VIRTUAL,
	OF_MEM_SHARED,
	OF_MEM_RELATIVE,
	OF_THREADS,
	OF_STATE,
	OF_UID,
	OF_START_TIME,
	OF_CPU_TIME,
	OF_COUNT,
};

static const char *const opt_names[OF_COUNT] = {
    "ppid",      "comm",          "priority",     "nice",           "cpuUsage",    "cpuUsageRelative",
    "memoryRSS", "memoryVirtual", "memoryShared", "memoryRelative", "threadCount", "state",
    "uid",       "startTime",     "cpuTime",
};

/* CPU time of a process at the previous packet, keyed by pid; the start time
 * tells a reused pid apart. */
struct cpu_entry {
	int32_t pid; /* 0: free slot */
	uint64_t starttime;
	uint64_t cputime;
};

struct cpu_table {
	struct cpu_entry *slots;
	size_t cap, n;
};

struct process_op {
	struct sonde_gadget_ctx *ctx;
	struct sonde_ds *ds;
	struct sonde_field *pid, *mntns, *f[OF_COUNT];
	struct sonde_field *cpu_time_str, *start_time_str;
	struct sonde_param *interval_param, *count_param;
	int64_t first_ns;
	uint64_t count, emitted;
	int timer;
	bool done;
	int procfd;
	char proc_path[4096];
	long clk_tck;
	long page_size;
	unsigned want;
	struct cpu_table prev, cur;
	int64_t prev_sample_ns; /* CLOCK_BOOTTIME of the previous packet, 0 before the first */
	char scratch[SCRATCH_SIZE];
};

/* ---- config ---- */

/* operator.process.<key> as nested maps (upstream's layout) or one dotted key. */
static const struct sonde_config *op_config(struct sonde_config *cfg, const char *key)
{
	const struct sonde_config *c = sonde_config_path(cfg, "operator", "process", key, NULL);
	char flat[64];

	if (c)
		return c;
	snprintf(flat, sizeof(flat), "operator.process.%s", key);
	return sonde_config_get(cfg, flat);
}

static const char *op_config_str(struct sonde_config *cfg, const char *key)
{
	return sonde_config_scalar(op_config(cfg, key));
}

/* Which optional fields `operator.process.fields` enables (all when absent). */
static int enabled_fields(struct sonde_config *cfg, bool on[OF_COUNT])
{
	const struct sonde_config *fc = op_config(cfg, "fields");
	size_t n = sonde_config_len(fc);
	const char *scalar = sonde_config_scalar(fc);

	for (int i = 0; i < OF_COUNT; i++)
		on[i] = !fc || (scalar && !*scalar);
	if (!fc || (scalar && !*scalar))
		return 0;
	if (sonde_config_type(fc) == SONDE_CONFIG_SEQ) {
		for (size_t i = 0; i < n; i++) {
			const char *name = sonde_config_scalar(sonde_config_value_at(fc, i));
			bool known = false;

			for (int j = 0; j < OF_COUNT && name; j++)
				if (util_list_has(name, opt_names[j], true) ||
				    (j == OF_START_TIME && util_list_has(name, "startTimeStr", true)) ||
				    (j == OF_CPU_TIME && util_list_has(name, "cpuTimeStr", true)))
					on[j] = known = true;
			if (!known && name && strcasecmp(name, "pid") && strcasecmp(name, "mountnsid"))
				sonde_warn("process: unknown field \"%s\" in operator.process.fields", name);
		}
		return 0;
	}
	if (!scalar) {
		sonde_err("gadget.yaml operator.process.fields: want a list of field names");
		return -EINVAL;
	}
	for (int j = 0; j < OF_COUNT; j++)
		on[j] = util_list_has(scalar, opt_names[j], true) ||
		        (j == OF_START_TIME && util_list_has(scalar, "startTimeStr", true)) ||
		        (j == OF_CPU_TIME && util_list_has(scalar, "cpuTimeStr", true));
	return 0;
}

/* ---- fields ---- */

static struct sonde_field *add(struct process_op *p, const char *name, enum sonde_kind kind,
                               const char *const *annotations, const char *const *tags)
{
	struct sonde_field_opts opts = {.sz = sizeof(opts), .annotations = annotations, .tags = tags};
	struct sonde_field *f = sonde_ds_add_field(p->ds, name, kind, &opts);

	if (!f)
		sonde_err("process: cannot add field %s to datasource processes", name);
	return f;
}

static int add_fields(struct process_op *p, const bool on[OF_COUNT])
{
	static const char *const bytes_tag[] = {"type:gadget_bytes", NULL};
	static const char *const mntns_tag[] = {"type:gadget_mntns_id", NULL};
	struct sonde_field **f = p->f;

	if (!(p->pid = add(p, "pid", SONDE_KIND_INT32, ANN("template", "pid"), NULL)))
		return -EINVAL;
	for (int i = 0; i < OF_COUNT; i++) {
		if (!on[i])
			continue;
		switch (i) {
		case OF_PPID:
			f[i] = add(p, "ppid", SONDE_KIND_INT32, ANN("template", "ppid"), NULL);
			break;
		case OF_COMM:
			f[i] = add(p, "comm", SONDE_KIND_STRING, ANN("template", "comm"), NULL);
			break;
		case OF_PRIORITY:
			f[i] = add(
			    p, "priority", SONDE_KIND_INT8,
			    ANN("columns.alignment", "right", "description", "The priority of the process."),
			    NULL);
			break;
		case OF_NICE:
			f[i] = add(p, "nice", SONDE_KIND_INT8,
			           ANN("columns.alignment", "right", "description",
			               "The nice value of the process."),
			           NULL);
			break;
		case OF_CPU_USAGE:
			f[i] =
			    add(p, "cpuUsage", SONDE_KIND_FLOAT64,
			        ANN("columns.precision", "1", "columns.alignment", "right", "description",
			            "The CPU usage of the process as a percentage.", "columns.maxwidth", "8"),
			        NULL);
			break;
		case OF_CPU_RELATIVE:
			f[i] = add(p, "cpuUsageRelative", SONDE_KIND_FLOAT64,
			           ANN("columns.precision", "1", "columns.alignment", "right", "description",
			               "The CPU usage percentage relative to the number of CPUs available.",
			               "columns.maxwidth", "16"),
			           NULL);
			break;
		case OF_MEM_RSS:
			f[i] = add(p, "memoryRSS_raw", SONDE_KIND_UINT64,
			           ANN("columns.alignment", "right", "description",
			               "The Resident Set Size (RSS) of the process in bytes: its memory held "
			               "in RAM."),
			           bytes_tag);
			break;
		case OF_MEM_VIRTUAL:
			f[i] = add(p, "memoryVirtual_raw", SONDE_KIND_UINT64,
			           ANN("columns.alignment", "right", "description",
			               "The Virtual Memory Size of the process in bytes."),
			           bytes_tag);
			break;
		case OF_MEM_SHARED:
			f[i] = add(p, "memoryShared_raw", SONDE_KIND_UINT64,
			           ANN("columns.alignment", "right", "description",
			               "The Shared Memory Size of the process in bytes."),
			           bytes_tag);
			break;
		case OF_MEM_RELATIVE:
			f[i] = add(p, "memoryRelative", SONDE_KIND_FLOAT64,
			           ANN("columns.alignment", "right", "columns.precision", "1", "description",
			               "Percentage of RSS memory used relative to available memory.",
			               "columns.maxwidth", "14"),
			           NULL);
			break;
		case OF_THREADS:
			f[i] =
			    add(p, "threadCount", SONDE_KIND_INT32,
			        ANN("columns.alignment", "right", "description",
			            "The number of threads used by the process.", "columns.maxwidth", "11"),
			        NULL);
			break;
		case OF_STATE:
			f[i] = add(p, "state", SONDE_KIND_STRING,
			           ANN("description",
			               "The state of the process (e.g., \"R\" for running, \"S\" for "
			               "sleeping, \"Z\" "
			               "for zombie, etc.).",
			               "value.one-of", "R,S,D,Z,T,t,W,X,x,K,W,P,I", "columns.maxwidth", "5"),
			           NULL);
			break;
		case OF_UID:
			f[i] = add(p, "uid", SONDE_KIND_UINT32, ANN("template", "uid"), NULL);
			break;
		case OF_START_TIME:
			f[i] = add(p, "startTime", SONDE_KIND_UINT64,
			           ANN("description",
			               "The time when the process started, as clock ticks since system boot.",
			               "columns.hidden", "true"),
			           NULL);
			p->start_time_str =
			    f[i] ? add(p, "startTimeStr", SONDE_KIND_STRING,
			               ANN("description",
			                   "The time when the process started, as an RFC 3339 date-time "
			                   "string.",
			                   "columns.ellipsis", "start", "columns.maxwidth", "25"),
			               NULL)
			         : NULL;
			if (!p->start_time_str)
				return -EINVAL;
			break;
		case OF_CPU_TIME:
			f[i] = add(
			    p, "cpuTime", SONDE_KIND_INT64,
			    ANN("columns.hidden", "true", "description", "Total CPU time, in clock ticks"),
			    NULL);
			p->cpu_time_str =
			    f[i] ? add(p, "cpuTimeStr", SONDE_KIND_STRING,
			               ANN("description", "Total CPU time, as minutes:seconds.milliseconds",
			                   "columns.alignment", "right", "columns.maxwidth", "12"),
			               NULL)
			         : NULL;
			if (!p->cpu_time_str)
				return -EINVAL;
			break;
		}
		if (!f[i])
			return -EINVAL;
	}
	p->mntns = add(p, "mountnsid", SONDE_KIND_UINT64, ANN("template", "mntns_id"), mntns_tag);
	return p->mntns ? 0 : -EINVAL;
}

/* ---- CPU history ---- */

static size_t cpu_slot(int32_t pid, size_t cap)
{
	return ((uint32_t)pid * 2654435761u) & (cap - 1);
}

static const struct cpu_entry *cpu_find(const struct cpu_table *t, int32_t pid)
{
	if (!t->cap)
		return NULL;
	for (size_t i = cpu_slot(pid, t->cap); t->slots[i].pid; i = (i + 1) & (t->cap - 1))
		if (t->slots[i].pid == pid)
			return &t->slots[i];
	return NULL;
}

static void cpu_put_slot(struct cpu_table *t, struct cpu_entry e)
{
	size_t i = cpu_slot(e.pid, t->cap);

	while (t->slots[i].pid && t->slots[i].pid != e.pid)
		i = (i + 1) & (t->cap - 1);
	t->n += !t->slots[i].pid;
	t->slots[i] = e;
}

static int cpu_put(struct cpu_table *t, struct cpu_entry e)
{
	if ((t->n + 1) * 2 > t->cap) {
		struct cpu_table bigger = {.cap = t->cap ? t->cap * 2 : 1024};

		bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots));
		if (!bigger.slots)
			return -ENOMEM;
		for (size_t i = 0; i < t->cap; i++)
			if (t->slots[i].pid)
				cpu_put_slot(&bigger, t->slots[i]);
		free(t->slots);
		*t = bigger;
	}
	cpu_put_slot(t, e);
	return 0;
}

static void cpu_clear(struct cpu_table *t)
{
	if (t->n)
		memset(t->slots, 0, t->cap * sizeof(*t->slots));
	t->n = 0;
}

/* ---- sampling ---- */

/* RFC 3339 in local time, as Go's time.RFC3339 prints it. */
static int format_rfc3339(int64_t wall_ns, char *out, size_t outlen)
{
	time_t t = (time_t)(wall_ns / NS_PER_SEC);
	struct tm tm;
	size_t n;
	long off;

	if (!localtime_r(&t, &tm))
		return snprintf(out, outlen, "%s", "");
	n = strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm);
	off = tm.tm_gmtoff;
	if (off == 0)
		return (int)n + snprintf(out + n, outlen - n, "Z");
	return (int)n + snprintf(out + n, outlen - n, "%c%02ld:%02ld", off < 0 ? '-' : '+',
	                         (off < 0 ? -off : off) / 3600, (off < 0 ? -off : off) % 3600 / 60);
}

static uint64_t mem_total(struct process_op *p)
{
	long n = procfs_read_at(p->procfd, "meminfo", p->scratch, sizeof(p->scratch));
	uint64_t total = 0;

	if (n < 0 || procfs_parse_meminfo_total(p->scratch, (size_t)n, &total))
		return 0;
	return total;
}

struct sample_env {
	int64_t now_boot_ns, boot_wall_ns, dt_ns;
	uint64_t mem_total;
	long ncpu;
};

static double cpu_percent(struct process_op *p, const struct sample_env *env, const struct procfs_stat *st)
{
	uint64_t cputime = st->utime + st->stime;
	const struct cpu_entry *prev = cpu_find(&p->prev, st->pid);
	double seconds;

	if (prev && prev->starttime == st->starttime && env->dt_ns > 0) {
		uint64_t d = cputime >= prev->cputime ? cputime - prev->cputime : cputime;

		return 100.0 * ((double)d / (double)p->clk_tck) / ((double)env->dt_ns / 1e9);
	}
	/* first sight of this process: its average since it started */
	seconds = (double)env->now_boot_ns / 1e9 - (double)st->starttime / (double)p->clk_tck;
	if (seconds <= 0)
		return 0;
	return 100.0 * ((double)cputime / (double)p->clk_tck) / seconds;
}

static void fill(struct process_op *p, const struct sample_env *env, const struct procfs_process *pr,
                 struct sonde_record *rec)
{
	const struct procfs_stat *st = &pr->stat;
	struct sonde_field **f = p->f;
	uint64_t cputime = st->utime + st->stime;
	char buf[64];
	int n;

	sonde_field_put_int(p->pid, rec, st->pid);
	sonde_field_put_uint(p->mntns, rec, pr->mntns_id);
	if (f[OF_PPID])
		sonde_field_put_int(f[OF_PPID], rec, st->ppid);
	if (f[OF_COMM])
		sonde_field_put_string(f[OF_COMM], rec, st->comm, (uint32_t)strlen(st->comm));
	if (f[OF_PRIORITY])
		sonde_field_put_int(f[OF_PRIORITY], rec, st->priority);
	if (f[OF_NICE])
		sonde_field_put_int(f[OF_NICE], rec, st->nice);
	if (f[OF_CPU_USAGE] || f[OF_CPU_RELATIVE]) {
		double pct = cpu_percent(p, env, st);

		if (f[OF_CPU_USAGE])
			sonde_field_put_float(f[OF_CPU_USAGE], rec, pct);
		if (f[OF_CPU_RELATIVE])
			sonde_field_put_float(f[OF_CPU_RELATIVE], rec,
			                      env->ncpu > 0 ? pct / (double)env->ncpu : 0);
	}
	if (f[OF_MEM_RSS])
		sonde_field_put_uint(f[OF_MEM_RSS], rec, pr->status.vm_rss_bytes);
	if (f[OF_MEM_VIRTUAL])
		sonde_field_put_uint(f[OF_MEM_VIRTUAL], rec, pr->status.vm_size_bytes);
	if (f[OF_MEM_SHARED])
		sonde_field_put_uint(f[OF_MEM_SHARED], rec, pr->statm.shared * (uint64_t)p->page_size);
	if (f[OF_MEM_RELATIVE])
		sonde_field_put_float(
		    f[OF_MEM_RELATIVE], rec,
		    env->mem_total ? 100.0 * (double)pr->status.vm_rss_bytes / (double)env->mem_total : 0);
	if (f[OF_THREADS])
		sonde_field_put_int(f[OF_THREADS], rec, st->num_threads);
	if (f[OF_STATE])
		sonde_field_put_string(f[OF_STATE], rec, &st->state, 1);
	if (f[OF_UID])
		sonde_field_put_uint(f[OF_UID], rec, pr->status.uid);
	if (f[OF_START_TIME]) {
		int64_t start_ns = (int64_t)(st->starttime * (uint64_t)(NS_PER_SEC / p->clk_tck));

		sonde_field_put_uint(f[OF_START_TIME], rec, st->starttime);
		n = format_rfc3339(env->boot_wall_ns + start_ns, buf, sizeof(buf));
		sonde_field_put_string(p->start_time_str, rec, buf, (uint32_t)n);
	}
	if (f[OF_CPU_TIME]) {
		uint64_t ms = cputime * 1000 / (uint64_t)p->clk_tck;

		sonde_field_put_int(f[OF_CPU_TIME], rec, (int64_t)cputime);
		n = snprintf(buf, sizeof(buf), "%llu:%02u.%03u", (unsigned long long)(ms / 60000),
		             (unsigned)(ms / 1000 % 60), (unsigned)(ms % 1000));
		sonde_field_put_string(p->cpu_time_str, rec, buf, (uint32_t)n);
	}
}

static bool is_pid_name(const char *s, int32_t *pid)
{
	long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 0x7fffffff / 10)
			return false;
		v = v * 10 + (*s - '0');
	}
	*pid = (int32_t)v;
	return v > 0;
}

/* Reads every process and emits one packet. */
static int sample(struct process_op *p)
{
	struct sample_env env = {.ncpu = sysconf(_SC_NPROCESSORS_ONLN)};
	struct sonde_array *arr;
	struct dirent *de;
	struct cpu_table tmp;
	DIR *dir;
	int fd, err = 0;

	env.now_boot_ns = util_clock_ns(CLOCK_BOOTTIME);
	env.boot_wall_ns = util_clock_ns(CLOCK_REALTIME) - env.now_boot_ns;
	env.dt_ns = p->prev_sample_ns ? env.now_boot_ns - p->prev_sample_ns : 0;
	if (p->f[OF_MEM_RELATIVE])
		env.mem_total = mem_total(p);
	fd = openat(p->procfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		sonde_err("process: cannot list %s: %s", p->proc_path, strerror(-err));
		return err;
	}
	arr = sonde_ds_array(p->ds);
	cpu_clear(&p->cur);
	while ((de = readdir(dir))) {
		struct procfs_process pr;
		struct sonde_record *rec;
		int32_t pid;

		if (!is_pid_name(de->d_name, &pid))
			continue;
		/* a process that exits while being read is simply not listed */
		if (procfs_read_process(p->procfd, pid, p->want, &pr, p->scratch, sizeof(p->scratch)))
			continue;
		rec = sonde_array_append(arr);
		if (!rec) {
			err = -ENOMEM;
			break;
		}
		fill(p, &env, &pr, rec);
		if (cpu_put(&p->cur,
		            (struct cpu_entry){pid, pr.stat.starttime, pr.stat.utime + pr.stat.stime})) {
			err = -ENOMEM;
			break;
		}
	}
	closedir(dir);
	tmp = p->prev;
	p->prev = p->cur;
	p->cur = tmp;
	p->prev_sample_ns = env.now_boot_ns;
	if (err) {
		sonde_err("process: out of memory while reading processes");
		return err;
	}
	return sonde_ds_emit_array(p->ds, arr);
}

static void on_tick(struct sonde_gadget_ctx *ctx, void *arg)
{
	struct process_op *p = arg;

	if (p->done)
		return;
	if (sample(p) == -ENOMEM) {
		p->done = true;
		sonde_gadget_cancel(ctx);
		return;
	}
	p->emitted++;
	if (p->count && p->emitted >= p->count) {
		p->done = true;
		sonde_gadget_remove_timer(ctx, p->timer);
		sonde_gadget_cancel(ctx);
	}
}

/* ---- hooks ---- */

static void process_free(struct process_op *p)
{
	if (!p)
		return;
	if (p->procfd >= 0)
		close(p->procfd);
	free(p->prev.slots);
	free(p->cur.slots);
	free(p);
}

static int declare_params(struct process_op *p, struct sonde_config *cfg)
{
	const char *interval = op_config_str(cfg, "interval");
	const char *count = op_config_str(cfg, "count");
	struct sonde_params *ps = sonde_gadget_params(p->ctx);
	char why[256];
	int64_t ns;

	if (!interval || !*interval)
		interval = DEFAULT_INTERVAL;
	if (sonde_parse_duration_ns(interval, &ns) || ns <= 0) {
		sonde_err("gadget.yaml operator.process.interval: invalid duration \"%s\"", interval);
		return -EINVAL;
	}
	if (!count || !*count)
		count = "0";
	if (sonde_value_check("uint64", count, why, sizeof(why))) {
		sonde_err("gadget.yaml operator.process.count: %s", why);
		return -EINVAL;
	}
	p->interval_param = sonde_params_add(ps, "operator.process.",
	                                     &(struct sonde_param_desc){
	                                         .key = "interval",
	                                         .description = "interval between process tables",
	                                         .default_value = interval,
	                                         .type_hint = "duration",
	                                     });
	p->count_param =
	    sonde_params_add(ps, "operator.process.",
	                     &(struct sonde_param_desc){
	                         .key = "count",
	                         .description = "number of process tables before exiting (0: no limit)",
	                         .default_value = count,
	                         .type_hint = "uint64",
	                     });
	if (!p->interval_param || !p->count_param) {
		sonde_err("process: cannot declare the params interval and count");
		return -EINVAL;
	}
	return 0;
}

static int process_instantiate(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state)
{
	struct sonde_config *cfg = sonde_gadget_config(ctx);
	const char *enabled = op_config_str(cfg, "emitstats");
	const char *first = op_config_str(cfg, "first-interval");
	const char *root = getenv("HOST_ROOT");
	struct process_op *p;
	bool on[OF_COUNT], active = false;
	int err;

	if (!enabled || sonde_parse_bool(enabled, &active) || !active) {
		if (enabled && !active && strcasecmp(enabled, "false") && strcmp(enabled, "0"))
			sonde_warn("gadget.yaml operator.process.emitstats: \"%s\" is not a bool; process "
			           "statistics stay off",
			           enabled);
		return 0;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->ctx = ctx;
	p->procfd = -1;
	p->timer = -1;
	if (first && *first && (sonde_parse_duration_ns(first, &p->first_ns) || p->first_ns < 0)) {
		sonde_err("gadget.yaml operator.process.first-interval: invalid duration \"%s\"", first);
		err = -EINVAL;
		goto fail;
	}
	err = enabled_fields(cfg, on);
	if (!err)
		err = declare_params(p, cfg);
	if (err)
		goto fail;
	if (!root || strcmp(root, "/") == 0)
		root = "";
	snprintf(p->proc_path, sizeof(p->proc_path), "%s/proc", root);
	p->ds = sonde_gadget_add_ds(ctx, "processes", SONDE_DS_ARRAY);
	if (!p->ds) {
		err = -EINVAL;
		goto fail;
	}
	err = add_fields(p, on);
	if (err)
		goto fail;
	*state = p;
	return 0;
fail:
	process_free(p);
	return err;
}

/* Reads only the files the table's fields come from. Requested-ness is not
 * enough: other operators (formatters, container enrichment) read raw fields
 * no sink asked for. */
static unsigned files_wanted(const struct process_op *p)
{
	unsigned want = PROCFS_WANT_MNTNS;

	if (p->f[OF_MEM_RSS] || p->f[OF_MEM_VIRTUAL] || p->f[OF_MEM_RELATIVE] || p->f[OF_UID])
		want |= PROCFS_WANT_STATUS;
	if (p->f[OF_MEM_SHARED])
		want |= PROCFS_WANT_STATM;
	return want;
}

static int process_start(struct sonde_gadget_ctx *ctx, void *state)
{
	struct process_op *p = state;
	int64_t interval = sonde_param_duration_ns(p->interval_param);

	if (interval <= 0) {
		sonde_err("process: --interval must be positive");
		return -EINVAL;
	}
	p->count = sonde_param_uint(p->count_param);
	p->clk_tck = sysconf(_SC_CLK_TCK);
	p->page_size = sysconf(_SC_PAGESIZE);
	if (p->clk_tck <= 0)
		p->clk_tck = 100;
	if (p->page_size <= 0)
		p->page_size = 4096;
	p->procfd = open(p->proc_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (p->procfd < 0) {
		int err = -errno;

		sonde_err("process: cannot open %s: %s", p->proc_path, strerror(errno));
		return err;
	}
	p->want = files_wanted(p);
	p->timer = sonde_gadget_add_timer(ctx, p->first_ns, interval, on_tick, p);
	return p->timer < 0 ? p->timer : 0;
}

static int process_stop(struct sonde_gadget_ctx *ctx, void *state)
{
	struct process_op *p = state;

	if (p->timer >= 0 && !p->done)
		sonde_gadget_remove_timer(ctx, p->timer);
	p->done = true;
	return 0;
}

static void process_close(struct sonde_gadget_ctx *ctx, void *state)
{
	process_free(state);
}

const struct sonde_operator process_operator = {
    .name = "process",
    .kind = SONDE_OP_DATA,
    .priority = SONDE_PHASE_SOURCE,
    .instantiate = process_instantiate,
    .start = process_start,
    .stop = process_stop,
    .close = process_close,
};
