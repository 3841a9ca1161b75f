/* The networkpolicy operator (see networkpolicy.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sonde/containers.h>
#include <sonde/gadget.h>
#include <sonde/log.h>
#include <sonde/phase.h>

#include "operators/networkpolicy.h"
#include "net/networkpolicy_yaml.h"

#define NP_PRIORITY 9200 /* upstream's: after enrichment and filters, before sort */
#define ADDR_LEN    INET6_ADDRSTRLEN

enum {
	F_NAMESPACE,
	F_POD,
	F_LABELS,
	F_HOSTNET,
	F_NETNS,
	F_ADDR,
	F_PORT,
	F_PROTO,
	F_EGRESS,
	NF,
};

static const char *const field_names[NF] = {
    [F_NAMESPACE] = "k8s.namespace", [F_POD] = "k8s.podName",      [F_LABELS] = "k8s.podLabels",
    [F_HOSTNET] = "k8s.hostnetwork", [F_NETNS] = "netns_id",       [F_ADDR] = "endpoint.addr",
    [F_PORT] = "endpoint.port",      [F_PROTO] = "endpoint.proto", [F_EGRESS] = "egress",
};

struct np_ds {
	struct np_op *op;
	struct sonde_ds *ds;
	struct sonde_field *f[NF];
	struct sonde_ds *advise;
	struct sonde_field *text;
};

struct np_op {
	struct np_ds *dss;
	size_t n;
	struct sonde_container_service *svc; /* NULL: no container to resolve peers to */
};

/* An address of a running pod. */
struct pod_addr {
	char addr[ADDR_LEN];
	uint64_t netns;
	char *namespace, *labels;
};

struct pod_table {
	struct pod_addr *v;
	size_t n, cap;
};

/* ---- peers: the addresses of the pods running now ---- */

static void table_free(struct pod_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].namespace);
		free(t->v[i].labels);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}

static int table_add(struct pod_table *t, const char *addr, const struct pod_addr *pod)
{
	struct pod_addr *a;

	if (!*addr || !strncmp(addr, "127.", 4) || !strcmp(addr, "::1"))
		return 0;
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].addr, addr))
			return 0; /* the first container of a pod's netns speaks for it */
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct pod_addr *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	a = &t->v[t->n];
	snprintf(a->addr, sizeof(a->addr), "%s", addr);
	a->netns = pod->netns;
	a->namespace = strdup(pod->namespace);
	a->labels = strdup(pod->labels);
	if (!a->namespace || !a->labels) {
		free(a->namespace);
		free(a->labels);
		return -ENOMEM;
	}
	t->n++;
	return 0;
}

/* The local IPv4 addresses of pid's netns: the "/32 host LOCAL" leaves of
 * its fib_trie, each below the "|-- ADDR" line that names it. */
static int add_ipv4(struct pod_table *t, uint32_t pid, const struct pod_addr *pod)
{
	char path[64], line[256], last[ADDR_LEN] = "";
	FILE *f;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%u/net/fib_trie", pid);
	f = fopen(path, "re");
	if (!f)
		return 0; /* gone meanwhile */
	while (!err && fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "|-- ");

		if (p)
			sscanf(p + 4, "%45s", last);
		else if (strstr(line, "/32 host LOCAL"))
			err = table_add(t, last, pod);
	}
	fclose(f);
	return err;
}

/* Its global IPv6 addresses (if_inet6: hex address, index, prefix, scope 00). */
static int add_ipv6(struct pod_table *t, uint32_t pid, const struct pod_addr *pod)
{
	char path[64], hex[33], text[ADDR_LEN];
	unsigned idx, plen, scope, flags;
	struct in6_addr a;
	FILE *f;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%u/net/if_inet6", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (!err && fscanf(f, "%32s %x %x %x %x %*s", hex, &idx, &plen, &scope, &flags) == 5) {
		if (scope != 0)
			continue;
		for (int i = 0; i < 16; i++) {
			unsigned byte;

			sscanf(hex + 2 * i, "%2x", &byte);
			a.s6_addr[i] = (uint8_t)byte;
		}
		if (inet_ntop(AF_INET6, &a, text, sizeof(text)))
			err = table_add(t, text, pod);
	}
	fclose(f);
	return err;
}

static uint64_t host_netns(void)
{
	struct stat st;

	return stat("/proc/1/ns/net", &st) ? 0 : (uint64_t)st.st_ino;
}

/* The pods running now, copied under the collection's lock, their
 * addresses read from /proc after it. */
static int table_build(struct np_op *op, struct pod_table *t)
{
	struct pod_addr *pods = NULL;
	uint32_t *pids = NULL;
	char **ips = NULL;
	size_t n = 0, cap;
	uint64_t host = host_netns();
	int err = 0;

	memset(t, 0, sizeof(*t));
	if (!op->svc)
		return 0;
	sonde_container_service_rdlock(op->svc);
	struct sonde_containers *set = sonde_container_service_set(op->svc);

	cap = sonde_containers_count(set);
	pods = calloc(cap ? cap : 1, sizeof(*pods));
	pids = calloc(cap ? cap : 1, sizeof(*pids));
	ips = calloc(cap ? cap : 1, sizeof(*ips));
	for (size_t i = 0; pods && pids && ips && i < cap; i++) {
		const struct sonde_container *c = sonde_containers_at(set, i);

		if (!*c->k8s_namespace || c->host_network || !c->netns || c->netns == host)
			continue;
		pods[n].netns = c->netns;
		pods[n].namespace = strdup(c->k8s_namespace);
		pods[n].labels = sonde_container_labels_string(c);
		ips[n] = strdup(c->pod_ip);
		pids[n] = c->pid;
		n++;
		if (!pods[n - 1].namespace || !pods[n - 1].labels || !ips[n - 1])
			break;
	}
	sonde_container_service_unlock(op->svc);
	if (!pods || !pids || !ips)
		err = -ENOMEM;
	for (size_t i = 0; i < n && !err; i++) {
		if (!pods[i].namespace || !pods[i].labels || !ips[i])
			err = -ENOMEM;
		if (!err)
			err = table_add(t, ips[i], &pods[i]);
		if (!err)
			err = add_ipv4(t, pids[i], &pods[i]);
		if (!err)
			err = add_ipv6(t, pids[i], &pods[i]);
	}
	for (size_t i = 0; i < n; i++) {
		free(pods[i].namespace);
		free(pods[i].labels);
		free(ips[i]);
	}
	free(pods);
	free(pids);
	free(ips);
	if (err)
		table_free(t);
	return err;
}

static const struct pod_addr *table_find(const struct pod_table *t, const char *addr)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].addr, addr))
			return &t->v[i];
	return NULL;
}

/* ---- records ---- */

/* A copy of string field f of rec ("" when absent); NULL on ENOMEM. */
static char *field_str(const struct sonde_field *f, const struct sonde_record *rec)
{
	uint32_t len = 0;
	const char *s = sonde_field_string(f, rec, &len);

	return strndup(s ? s : "", s ? len : 0);
}

static uint64_t field_uint(const struct sonde_field *f, const struct sonde_record *rec)
{
	uint64_t v = 0;

	return sonde_field_as_uint64(f, rec, &v) ? v : 0;
}

/* Strings of one np_conn, owned. */
struct conn_strings {
	char *ns, *pod, *labels, *addr, *proto;
};

static void strings_free(struct conn_strings *s, size_t n)
{
	for (size_t i = 0; s && i < n; i++) {
		free(s[i].ns);
		free(s[i].pod);
		free(s[i].labels);
		free(s[i].addr);
		free(s[i].proto);
	}
	free(s);
}

static int emit_text(struct np_ds *d, const char *text, size_t len)
{
	struct sonde_record *rec = sonde_ds_record(d->advise);
	int err;

	if (!rec)
		return -ENOMEM;
	err = sonde_field_put_string(d->text, rec, text, (uint32_t)len);
	return err ? err : sonde_ds_emit(d->advise, rec);
}

static int on_array(struct sonde_ds *ds, struct sonde_array *arr, void *arg)
{
	struct np_ds *d = arg;
	struct np_conn *conns = calloc(arr->len ? arr->len : 1, sizeof(*conns));
	struct conn_strings *s = calloc(arr->len ? arr->len : 1, sizeof(*s));
	struct pod_table pods;
	size_t n = 0, len;
	char *yaml = NULL;
	int err = conns && s ? table_build(d->op, &pods) : -ENOMEM;

	if (err) {
		free(conns);
		strings_free(s, 0);
		sonde_err("networkpolicy: out of memory");
		return err;
	}
	for (size_t i = 0; i < arr->len; i++) {
		const struct sonde_record *rec = arr->recs[i];
		struct conn_strings *cs = &s[n];
		struct np_conn *c = &conns[n];
		const struct pod_addr *peer;

		if (sonde_field_bool(d->f[F_HOSTNET], rec))
			continue; /* a policy cannot tell its traffic from the node's */
		*cs = (struct conn_strings){
		    .ns = field_str(d->f[F_NAMESPACE], rec),
		    .pod = field_str(d->f[F_POD], rec),
		    .labels = field_str(d->f[F_LABELS], rec),
		    .addr = field_str(d->f[F_ADDR], rec),
		    .proto = field_str(d->f[F_PROTO], rec),
		};
		n++;
		if (!cs->ns || !cs->pod || !cs->labels || !cs->addr || !cs->proto) {
			err = -ENOMEM;
			break;
		}
		*c = (struct np_conn){
		    .namespace = cs->ns,
		    .pod_name = cs->pod,
		    .labels = cs->labels,
		    .egress = field_uint(d->f[F_EGRESS], rec) != 0,
		    .peer_addr = cs->addr,
		    .port = (uint16_t)field_uint(d->f[F_PORT], rec),
		    .proto = cs->proto,
		};
		peer = table_find(&pods, cs->addr);
		if (peer && !c->egress && peer->netns == field_uint(d->f[F_NETNS], rec)) {
			n--; /* from its own address: nothing to allow */
			free(cs->ns), free(cs->pod), free(cs->labels), free(cs->addr), free(cs->proto);
			continue;
		}
		if (peer) {
			c->peer_namespace = peer->namespace;
			c->peer_labels = peer->labels;
		}
	}
	if (!err)
		err = np_generate(conns, n, &yaml, &len);
	if (!err && yaml)
		err = emit_text(d, yaml, len);
	else if (err == -ENOMEM)
		sonde_err("networkpolicy: out of memory");
	sonde_debug("networkpolicy: %zu connections, %zu pod addresses known", arr->len, pods.n);
	free(yaml);
	table_free(&pods);
	strings_free(s, n);
	free(conns);
	return err;
}

/* ---- lifecycle ---- */

static void np_free(struct np_op *op)
{
	if (!op)
		return;
	sonde_container_service_put(op->svc);
	free(op->dss);
	free(op);
}

static int add_ds(struct sonde_gadget_ctx *ctx, struct np_ds *d)
{
	static const char *const ann[] = {"description", "NetworkPolicies, as YAML", NULL};
	const struct sonde_field_opts opts = {.sz = sizeof(opts), .annotations = ann};
	char name[128];

	for (int k = 0; k < NF; k++) {
		d->f[k] = sonde_ds_field(d->ds, field_names[k]);
		if (!d->f[k]) {
			sonde_err("networkpolicy: data source %s has no field %s%s", sonde_ds_name(d->ds),
			          field_names[k], k <= F_HOSTNET ? " (container enrichment)" : "");
			return -EINVAL;
		}
	}
	snprintf(name, sizeof(name), "advise-%s", sonde_ds_name(d->ds));
	d->advise = sonde_gadget_add_ds(ctx, name, SONDE_DS_SINGLE);
	if (!d->advise)
		return -EINVAL;
	d->text = sonde_ds_add_field(d->advise, "text", SONDE_KIND_STRING, &opts);
	if (!d->text || sonde_ds_add_annotation(d->advise, "cli.default-output-mode", "advise") ||
	    sonde_ds_add_annotation(d->advise, "cli.supported-output-modes", "advise"))
		return -ENOMEM;
	return 0;
}

static int np_instantiate(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state)
{
	size_t nds = sonde_gadget_nds(ctx);
	struct np_op *op;
	int err = 0;

	*state = NULL;
	op = calloc(1, sizeof(*op));
	if (!op || !(op->dss = calloc(nds ? nds : 1, sizeof(*op->dss)))) {
		free(op);
		return -ENOMEM;
	}
	/* advise-* data sources are added below: look at the gadget's only */
	for (size_t i = 0; i < nds && !err; i++) {
		struct sonde_ds *ds = sonde_gadget_ds_at(ctx, i);
		const char *on = sonde_ds_annotation(ds, "generate_networkpolicy.enable");

		if (!on || strcmp(on, "true") || sonde_ds_type(ds) != SONDE_DS_ARRAY)
			continue;
		op->dss[op->n] = (struct np_ds){.op = op, .ds = ds};
		err = add_ds(ctx, &op->dss[op->n++]);
	}
	if (err || !op->n) {
		np_free(op);
		return err;
	}
	*state = op;
	return 0;
}

static int np_pre_start(struct sonde_gadget_ctx *ctx, void *state)
{
	struct np_op *op = state;
	int err;

	/* the collection the container enrichment (started before) watches,
	 * with its settings */
	err = sonde_container_service_get(NULL, &op->svc);
	if (err) {
		op->svc = NULL;
		sonde_warn("networkpolicy: no container collection (%s): every peer is an ipBlock",
		           strerror(-err));
	}
	for (size_t i = 0; i < op->n; i++) {
		struct np_ds *d = &op->dss[i];

		for (int k = 0; k < NF; k++)
			sonde_field_set_requested(d->f[k], true);
		err = sonde_ds_subscribe_array(d->ds, on_array, d, NP_PRIORITY);
		if (err)
			return err;
	}
	return 0;
}

static void np_close(struct sonde_gadget_ctx *ctx, void *state)
{
	np_free(state);
}

const struct sonde_operator networkpolicy_operator = {
    .name = "GenerateNetworkPolicy",
    .kind = SONDE_OP_DATA,
    .priority = NP_PRIORITY,
    .instantiate = np_instantiate,
    .pre_start = np_pre_start,
    .close = np_close,
};
