/* pcap filters of GADGET_PF (include/gadget/packetfilter.h), as upstream's
 * `pf` / `pf-<name>` params.
 *
 * GADGET_PF(name) defines a static noinline stub gadget_pf_<name>(); each
 * is offered as a string param (empty: no filter, the stub stays). A set
 * expression is compiled by libpcap for Ethernet (pcap_filter.c), translated
 * to eBPF (cbpf_to_ebpf.c), and that code replaces the stub's body in every
 * program that calls it.
 *
 * Where: libbpf appends each subprogram to every program calling it, and
 * only at load time; the final instructions and their func_info/line_info
 * exist only in the prog_prepare_load_fn callback of the program's section
 * handler, which may swap the instructions (bpf_program__set_insns, libbpf
 * >= 1.0 re-reads them after the callback). So sonde registers that callback
 * once per process, for `socket` (libbpf's own exact name) and as the
 * fallback handler of sections libbpf does not know (socket1,
 * classifier/ingress/x: sonde sets their type itself). A program gets
 * rewritten only while bound here (between ebpf_pf_bind and ebpf_pf_unbind
 * around bpf_object__load); every other object is left alone. freplace
 * cannot do this: the stub is static. */
#include <pthread.h>
#include <stdio.h>

#include <sonde/log.h>

#include "cbpf.h"
#include "internal.h"
#include "util/array.h"

#define PF_PREFIX "gadget_pf_"

/* ---- splicing a body in place of subprograms ---- */

static uint32_t rec_off(const void *recs, uint32_t rec_size, uint32_t i, size_t field)
{
	uint32_t v;

	memcpy(&v, (const char *)recs + (size_t)i * rec_size + field, sizeof(v));
	return v;
}

static void rec_set_off(void *recs, uint32_t rec_size, uint32_t i, size_t field, uint32_t v)
{
	memcpy((char *)recs + (size_t)i * rec_size + field, &v, sizeof(v));
}

#define FI_OFF offsetof(struct bpf_func_info, insn_off)
#define LI_OFF offsetof(struct bpf_line_info, insn_off)

void ebpf_pf_spliced_free(struct ebpf_pf_spliced *s)
{
	free(s->insns);
	free(s->finfo);
	free(s->linfo);
	memset(s, 0, sizeof(*s));
}

int ebpf_pf_splice(const struct bpf_insn *insns, size_t n, const void *finfo, uint32_t fcnt, uint32_t frec,
                   const void *linfo, uint32_t lcnt, uint32_t lrec, const struct bpf_insn *const *bodies,
                   const size_t *nbodies, struct ebpf_pf_spliced *out)
{
	size_t *start = NULL, *nstart = NULL, total = 0;
	uint32_t nl = 0;
	int err = -EINVAL;

	memset(out, 0, sizeof(*out));
	if (!fcnt || frec < sizeof(struct bpf_func_info) || (lcnt && lrec < sizeof(struct bpf_line_info)))
		return -EINVAL;
	start = calloc(fcnt + 1, sizeof(*start));
	nstart = calloc(fcnt + 1, sizeof(*nstart));
	if (!start || !nstart) {
		err = -ENOMEM;
		goto fail;
	}
	/* function j spans [start[j], start[j+1]); the kernel wants them sorted from 0 */
	for (uint32_t j = 0; j < fcnt; j++) {
		start[j] = rec_off(finfo, frec, j, FI_OFF);
		if ((j == 0 && start[j] != 0) || (j > 0 && start[j] <= start[j - 1]) || start[j] >= n)
			goto fail;
	}
	start[fcnt] = n;
	for (uint32_t j = 0; j < fcnt; j++) {
		nstart[j] = total;
		total += bodies[j] ? nbodies[j] : start[j + 1] - start[j];
	}
	nstart[fcnt] = total;
	out->insns = calloc(total, sizeof(*out->insns));
	out->finfo = malloc((size_t)fcnt * frec);
	out->linfo = lcnt ? malloc((size_t)lcnt * lrec) : NULL;
	if (!out->insns || !out->finfo || (lcnt && !out->linfo)) {
		err = -ENOMEM;
		goto fail;
	}
	for (uint32_t j = 0; j < fcnt; j++) {
		if (bodies[j]) {
			memcpy(out->insns + nstart[j], bodies[j], nbodies[j] * sizeof(*out->insns));
			continue;
		}
		for (size_t i = start[j]; i < start[j + 1]; i++) {
			struct bpf_insn in = insns[i];
			bool call = in.code == (BPF_JMP | BPF_CALL) && in.src_reg == BPF_PSEUDO_CALL;
			bool func = in.code == (BPF_LD | BPF_IMM | BPF_DW) && in.src_reg == BPF_PSEUDO_FUNC;

			if (call || func) {
				/* pc-relative to a function start; functions move */
				int64_t target = (int64_t)i + 1 + in.imm, nt;
				uint32_t k = 0;

				while (k < fcnt && (int64_t)start[k] != target)
					k++;
				if (k == fcnt)
					goto fail; /* not a function start */
				nt = (int64_t)nstart[k];
				in.imm = (int32_t)(nt - ((int64_t)nstart[j] + (int64_t)(i - start[j])) - 1);
			}
			out->insns[nstart[j] + (i - start[j])] = in;
			if (in.code == (BPF_LD | BPF_IMM | BPF_DW) && i + 1 < start[j + 1]) {
				i++; /* second half of ld_imm64 */
				out->insns[nstart[j] + (i - start[j])] = insns[i];
			}
		}
	}
	memcpy(out->finfo, finfo, (size_t)fcnt * frec);
	for (uint32_t j = 0; j < fcnt; j++)
		rec_set_off(out->finfo, frec, j, FI_OFF, (uint32_t)nstart[j]);
	/* line info: a replaced function keeps its first line (the kernel wants
	 * one at every function start), loses the others */
	for (uint32_t l = 0, j = 0; l < lcnt; l++) {
		uint32_t off = rec_off(linfo, lrec, l, LI_OFF);

		while (j + 1 < fcnt && off >= start[j + 1])
			j++;
		if (off < start[j] || off >= n)
			goto fail;
		if (bodies[j] && off != start[j])
			continue;
		memcpy((char *)out->linfo + (size_t)nl * lrec, (const char *)linfo + (size_t)l * lrec, lrec);
		rec_set_off(out->linfo, lrec, nl, LI_OFF, (uint32_t)(nstart[j] + (off - start[j])));
		nl++;
	}
	out->n = total;
	out->lcnt = nl;
	free(start);
	free(nstart);
	return 0;
fail:
	free(start);
	free(nstart);
	ebpf_pf_spliced_free(out);
	return err;
}

/* ---- the load-time hook ---- */

struct pf_binding {
	struct bpf_program *prog;
	const struct btf *btf;
	struct ebpf_pf_filter *filters;
	size_t nfilters;
	struct ebpf_pf_spliced spliced; /* what load_attr points to until unbind */
};

static pthread_mutex_t bind_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pf_binding **bindings;
static size_t nbindings, bindings_cap;
static pthread_once_t hook_once = PTHREAD_ONCE_INIT;
static int hook_err;

static int pf_prepare_load(struct bpf_program *prog, struct bpf_prog_load_opts *opts, long cookie);

static void hook_install(void)
{
	LIBBPF_OPTS(libbpf_prog_handler_opts, o, .prog_prepare_load_fn = pf_prepare_load);
	int id;

	/* libbpf's own handler of `socket` has nothing to prepare (SEC_NONE):
	 * ours takes its place with the same program type */
	id = libbpf_register_prog_handler("socket", BPF_PROG_TYPE_SOCKET_FILTER, 0, &o);
	if (id < 0) {
		hook_err = id;
		return;
	}
	id = libbpf_register_prog_handler(NULL, BPF_PROG_TYPE_UNSPEC, 0, &o);
	if (id < 0)
		hook_err = id;
}

void ebpf_pf_hook_install(void)
{
	pthread_once(&hook_once, hook_install);
}

int ebpf_pf_bind(struct bpf_program *prog, const struct btf *btf, struct ebpf_pf_filter *filters, size_t n)
{
	struct pf_binding *b;
	int err;

	ebpf_pf_hook_install();
	if (hook_err) {
		sonde_err("packet filters: cannot register a libbpf program handler: %s",
		          strerror(-hook_err));
		return hook_err;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	*b = (struct pf_binding){.prog = prog, .btf = btf, .filters = filters, .nfilters = n};
	pthread_mutex_lock(&bind_lock);
	err = grow_array((void **)&bindings, &bindings_cap, nbindings + 1, sizeof(*bindings));
	if (!err)
		bindings[nbindings++] = b;
	pthread_mutex_unlock(&bind_lock);
	if (err)
		free(b);
	return err;
}

void ebpf_pf_unbind(struct bpf_program *prog)
{
	struct pf_binding *b = NULL;

	pthread_mutex_lock(&bind_lock);
	for (size_t i = 0; i < nbindings; i++) {
		if (bindings[i]->prog == prog) {
			b = bindings[i];
			bindings[i] = bindings[--nbindings];
			break;
		}
	}
	pthread_mutex_unlock(&bind_lock);
	if (b) {
		ebpf_pf_spliced_free(&b->spliced);
		free(b);
	}
}

static struct pf_binding *find_binding(const struct bpf_program *prog)
{
	struct pf_binding *b = NULL;

	pthread_mutex_lock(&bind_lock);
	for (size_t i = 0; i < nbindings && !b; i++)
		if (bindings[i]->prog == prog)
			b = bindings[i];
	pthread_mutex_unlock(&bind_lock);
	return b;
}

static struct ebpf_pf_filter *filter_of(struct pf_binding *b, uint32_t type_id)
{
	const struct btf_type *t = btf__type_by_id(b->btf, type_id);
	const char *name = t ? btf__str_by_offset(b->btf, t->name_off) : NULL;

	if (!name || strncmp(name, PF_PREFIX, strlen(PF_PREFIX)) != 0)
		return NULL;
	for (size_t i = 0; i < b->nfilters; i++)
		if (strcmp(b->filters[i].func, name) == 0)
			return &b->filters[i];
	return NULL;
}

static int pf_prepare_load(struct bpf_program *prog, struct bpf_prog_load_opts *opts, long cookie)
{
	struct pf_binding *b = find_binding(prog);
	const struct bpf_insn **bodies = NULL;
	size_t *nbodies = NULL;
	uint32_t fcnt;
	bool any = false;
	int err;

	(void)cookie;
	if (!b)
		return 0;
	fcnt = opts->func_info ? opts->func_info_cnt : 0;
	bodies = calloc(fcnt ? fcnt : 1, sizeof(*bodies));
	nbodies = calloc(fcnt ? fcnt : 1, sizeof(*nbodies));
	if (!bodies || !nbodies) {
		err = -ENOMEM;
		goto out;
	}
	for (uint32_t j = 0; j < fcnt; j++) {
		uint32_t type_id;
		struct ebpf_pf_filter *f;

		memcpy(&type_id,
		       (const char *)opts->func_info + (size_t)j * opts->func_info_rec_size +
		           offsetof(struct bpf_func_info, type_id),
		       sizeof(type_id));
		f = filter_of(b, type_id);
		if (!f || !f->body)
			continue;
		bodies[j] = f->body;
		nbodies[j] = f->n;
		f->applied = true;
		any = true;
	}
	err = 0;
	if (!any)
		goto out;
	if (bpf_program__type(prog) != BPF_PROG_TYPE_SOCKET_FILTER &&
	    bpf_program__type(prog) != BPF_PROG_TYPE_SCHED_CLS) {
		sonde_err("program '%s' (%s): packet filters work in socket filters and TC classifiers only",
		          bpf_program__name(prog), ebpf_prog_section(prog));
		err = -EINVAL;
		goto out;
	}
	err = ebpf_pf_splice(bpf_program__insns(prog), bpf_program__insn_cnt(prog), opts->func_info, fcnt,
	                     opts->func_info_rec_size, opts->line_info,
	                     opts->line_info ? opts->line_info_cnt : 0, opts->line_info_rec_size, bodies,
	                     nbodies, &b->spliced);
	if (err) {
		sonde_err("program '%s' (%s): cannot insert its packet filter: %s", bpf_program__name(prog),
		          ebpf_prog_section(prog), strerror(-err));
		goto out;
	}
	err = bpf_program__set_insns(prog, b->spliced.insns, b->spliced.n);
	if (err) {
		sonde_err("program '%s' (%s): cannot replace its instructions: %s", bpf_program__name(prog),
		          ebpf_prog_section(prog), strerror(-err));
		goto out;
	}
	opts->func_info = b->spliced.finfo;
	opts->line_info = b->spliced.linfo;
	opts->line_info_cnt = b->spliced.lcnt;
	sonde_debug("ebpf: program '%s': packet filter inserted (%zu instructions now)",
	            bpf_program__name(prog), b->spliced.n);
out:
	free(bodies);
	free(nbodies);
	return err;
}

/* ---- params and the run's lifecycle ---- */

int ebpf_pf_params(struct ebpf_gadget *g)
{
	uint32_t nr = btf__type_cnt(g->btf);

	for (uint32_t id = 1; id < nr; id++) {
		const struct btf_type *t = btf__type_by_id(g->btf, id);
		const char *func = btf__str_by_offset(g->btf, t->name_off);
		struct sonde_param_desc d = {0};
		char key[128], desc[256];
		struct ebpf_pf *pf;

		if (!btf_is_func(t) || !func || strncmp(func, PF_PREFIX, strlen(PF_PREFIX)) != 0)
			continue;
		if (grow_array((void **)&g->pfs, &g->pfs_cap, g->npfs + 1, sizeof(*g->pfs)))
			return -ENOMEM;
		pf = &g->pfs[g->npfs];
		memset(pf, 0, sizeof(*pf));
		pf->filter.func = strdup(func);
		if (!pf->filter.func)
			return -ENOMEM;
		g->npfs++;
		/* upstream's keys: `pf` for GADGET_PF(), `pf-<name>` otherwise */
		func += strlen(PF_PREFIX);
		if (*func) {
			snprintf(key, sizeof(key), "pf-%s", func);
			snprintf(desc, sizeof(desc),
			         "Packet filter '%s': pcap-filter expression (tcpdump syntax, e.g. 'tcp port "
			         "80'); "
			         "empty: every packet",
			         func);
		} else {
			snprintf(key, sizeof(key), "pf");
			snprintf(
			    desc, sizeof(desc),
			    "Packet filter: pcap-filter expression (tcpdump syntax, e.g. 'tcp port 80'); "
			    "empty: every packet");
		}
		d.key = key;
		d.description = desc;
		d.default_value = "";
		d.type_hint = "string";
		pf->param = sonde_params_add(sonde_gadget_params(g->ctx), EBPF_PARAM_PREFIX, &d);
		if (!pf->param) {
			sonde_err("cannot add the %s param", key);
			return -EINVAL;
		}
	}
	return 0;
}

/* Compiles and translates one expression: -EINVAL with one error naming the param. */
static int pf_build(struct ebpf_pf *pf, struct bpf_insn **body, size_t *n)
{
	const char *expr = sonde_param_value(pf->param);
	struct ebpf_cbpf_insn *c = NULL;
	size_t nc = 0;
	char why[512];
	int err;

	err = ebpf_pcap_compile(expr, &c, &nc, why, sizeof(why));
	if (!err)
		err = ebpf_cbpf_to_ebpf(c, nc, body, n, why, sizeof(why));
	free(c);
	if (err)
		sonde_err("param '%s': invalid packet filter '%s': %s", sonde_param_key(pf->param), expr,
		          why);
	return err;
}

int ebpf_pf_check_params(struct ebpf_gadget *g)
{
	for (size_t i = 0; i < g->npfs; i++) {
		struct bpf_insn *body = NULL;
		size_t n = 0;
		int err;

		if (!*sonde_param_value(g->pfs[i].param))
			continue;
		err = pf_build(&g->pfs[i], &body, &n);
		free(body);
		if (err)
			return err;
	}
	return 0;
}

int ebpf_pf_prepare(struct ebpf_gadget *g)
{
	struct bpf_program *prog;
	bool any = false;
	int err;

	for (size_t i = 0; i < g->npfs; i++) {
		struct ebpf_pf *pf = &g->pfs[i];

		free(pf->body);
		pf->body = NULL;
		pf->filter = (struct ebpf_pf_filter){.func = pf->filter.func};
		if (!*sonde_param_value(pf->param))
			continue;
		err = pf_build(pf, &pf->body, &pf->filter.n);
		if (err)
			return err;
		pf->filter.body = pf->body;
		any = true;
	}
	if (!any)
		return 0;
	/* the filters are one array of ebpf_pf_filter for the hook */
	free(g->pf_filters);
	g->pf_filters = calloc(g->npfs, sizeof(*g->pf_filters));
	if (!g->pf_filters)
		return -ENOMEM;
	for (size_t i = 0; i < g->npfs; i++)
		g->pf_filters[i] = g->pfs[i].filter;
	bpf_object__for_each_program(prog, g->obj)
	{
		if (!bpf_program__autoload(prog))
			continue;
		err = ebpf_pf_bind(prog, g->btf, g->pf_filters, g->npfs);
		if (err)
			return err;
		g->pf_bound = true;
	}
	return 0;
}

void ebpf_pf_loaded(struct ebpf_gadget *g, bool loaded)
{
	struct bpf_program *prog;

	if (!g->pf_bound)
		return;
	bpf_object__for_each_program(prog, g->obj) ebpf_pf_unbind(prog);
	g->pf_bound = false;
	for (size_t i = 0; loaded && i < g->npfs; i++)
		if (g->pf_filters[i].body && !g->pf_filters[i].applied)
			sonde_warn(
			    "param '%s': no socket filter or TC classifier calls %s: the filter has no "
			    "effect",
			    sonde_param_key(g->pfs[i].param), g->pfs[i].filter.func);
}

void ebpf_pf_free(struct ebpf_gadget *g)
{
	ebpf_pf_loaded(g, false);
	for (size_t i = 0; i < g->npfs; i++) {
		free((char *)g->pfs[i].filter.func);
		free(g->pfs[i].body);
	}
	free(g->pfs);
	free(g->pf_filters);
	g->pfs = NULL;
	g->pf_filters = NULL;
	g->npfs = 0;
}
