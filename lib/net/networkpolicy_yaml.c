/* NetworkPolicy YAML from connections (see networkpolicy_yaml.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include <sonde/log.h>

#include "net/networkpolicy_yaml.h"
#include "output/outbuf.h"
#include "output/yaml.h"

/* Labels of the node or of a revision, not of the workload (upstream's list). */
static const char *const ignored_labels[] = {
    "controller-revision-hash",
    "pod-template-generation",
    "pod-template-hash",
    "topology.kubernetes.io/region",
    "topology.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/zone",
};

struct labels {
	size_t n;
	char **keys, **values; /* sorted by key, ignored ones left out */
	char *canon;           /* "k=v,k2=v2" of the same */
};

struct rule {
	bool egress;
	const char *proto;
	uint16_t port;
	char *peer_key; /* orders and dedups the peers as their YAML would */
	const struct np_conn *c;
	struct labels peer_labels;
};

struct policy {
	char *name;
	const char *namespace;
	struct labels selector;
	struct rule *rules;
	size_t nrules;
};

struct item {
	const struct np_conn *c;
	char *group; /* namespace ":" canonical labels */
};

static bool ignored(const char *key)
{
	for (size_t i = 0; i < sizeof(ignored_labels) / sizeof(ignored_labels[0]); i++)
		if (!strcmp(key, ignored_labels[i]))
			return true;
	return false;
}

static void labels_free(struct labels *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->keys[i]);
		free(l->values[i]);
	}
	free(l->keys);
	free(l->values);
	free(l->canon);
	memset(l, 0, sizeof(*l));
}

/* Parses "k=v,k2=v2" (pairs without '=' are skipped, as upstream does). */
static int labels_parse(const char *text, struct labels *l)
{
	size_t cap = 1, canon_len = 1;
	char *copy, *save = NULL, *tok;

	memset(l, 0, sizeof(*l));
	text = text ? text : "";
	for (const char *p = text; *p; p++)
		cap += *p == ',';
	copy = strdup(text);
	l->keys = calloc(cap, sizeof(char *));
	l->values = calloc(cap, sizeof(char *));
	if (!copy || !l->keys || !l->values)
		goto nomem;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		size_t at;

		if (!eq || strchr(eq + 1, '='))
			continue;
		*eq = 0;
		if (ignored(tok))
			continue;
		/* insertion keeps them sorted; a repeated key keeps its last value */
		for (at = 0; at < l->n && strcmp(l->keys[at], tok) < 0; at++)
			;
		if (at < l->n && !strcmp(l->keys[at], tok)) {
			char *v = strdup(eq + 1);
			if (!v)
				goto nomem;
			canon_len += strlen(v) - strlen(l->values[at]);
			free(l->values[at]);
			l->values[at] = v;
			continue;
		}
		memmove(l->keys + at + 1, l->keys + at, (l->n - at) * sizeof(char *));
		memmove(l->values + at + 1, l->values + at, (l->n - at) * sizeof(char *));
		l->keys[at] = strdup(tok);
		l->values[at] = strdup(eq + 1);
		l->n++;
		if (!l->keys[at] || !l->values[at])
			goto nomem;
		canon_len += strlen(tok) + strlen(eq + 1) + 2;
	}
	free(copy);
	copy = NULL;
	l->canon = calloc(1, canon_len);
	if (!l->canon)
		goto nomem;
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			strcat(l->canon, ",");
		strcat(l->canon, l->keys[i]);
		strcat(l->canon, "=");
		strcat(l->canon, l->values[i]);
	}
	return 0;
nomem:
	free(copy);
	labels_free(l);
	return -ENOMEM;
}

static bool loopback(const char *addr)
{
	return !strncmp(addr, "127.", 4) || !strcmp(addr, "::1");
}

static bool known_pod(const struct np_conn *c)
{
	return c->peer_namespace && *c->peer_namespace;
}

static int cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int r = strcmp(x->group, y->group);

	return r ? r : strcmp(x->c->pod_name, y->c->pod_name);
}

static int cmp_rule(const void *a, const void *b)
{
	const struct rule *x = a, *y = b;
	int r;

	if (x->egress != y->egress)
		return x->egress ? -1 : 1;
	r = strcmp(x->proto, y->proto);
	if (r)
		return r;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return strcmp(x->peer_key, y->peer_key);
}

static int cmp_policy(const void *a, const void *b)
{
	const struct policy *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static void policy_free(struct policy *p)
{
	for (size_t i = 0; i < p->nrules; i++) {
		free(p->rules[i].peer_key);
		labels_free(&p->rules[i].peer_labels);
	}
	free(p->rules);
	free(p->name);
	labels_free(&p->selector);
}

/* The rule of connection c, in r; false (and r untouched) when c gives none. */
static int make_rule(const struct np_conn *c, struct rule *r, bool *made)
{
	const char *local_ns = c->namespace;
	int err;

	*made = false;
	memset(r, 0, sizeof(*r));
	r->egress = c->egress;
	r->proto = c->proto && *c->proto ? c->proto : "TCP";
	r->port = c->port;
	r->c = c;
	if (known_pod(c)) {
		bool other_ns = strcmp(c->peer_namespace, local_ns) != 0;

		err = labels_parse(c->peer_labels, &r->peer_labels);
		if (err)
			return err;
		/* ipBlock < namespaceSelector < podSelector, as the keys sort */
		if (asprintf(&r->peer_key, "%s%s%spodSelector:%s", other_ns ? "namespaceSelector:" : "",
		             other_ns ? c->peer_namespace : "", other_ns ? "|" : "",
		             r->peer_labels.canon) < 0)
			r->peer_key = NULL;
	} else {
		if (!c->peer_addr || !*c->peer_addr || loopback(c->peer_addr))
			return 0;
		if (asprintf(&r->peer_key, "ipBlock:%s", c->peer_addr) < 0)
			r->peer_key = NULL;
	}
	if (!r->peer_key) {
		labels_free(&r->peer_labels);
		return -ENOMEM;
	}
	*made = true;
	return 0;
}

/* One policy from the items of a group, [from, to). */
static int make_policy(const struct item *items, size_t from, size_t to, struct policy *p)
{
	const struct np_conn *first = items[from].c;
	size_t n = 0;
	int err;

	memset(p, 0, sizeof(*p));
	p->namespace = first->namespace;
	/* items sort by pod name inside a group: the first is the smallest */
	if (asprintf(&p->name, "%s-network", first->pod_name) < 0) {
		p->name = NULL;
		return -ENOMEM;
	}
	err = labels_parse(first->labels, &p->selector);
	p->rules = calloc(to - from ? to - from : 1, sizeof(*p->rules));
	if (err || !p->rules)
		return err ? err : -ENOMEM;
	for (size_t i = from; i < to; i++) {
		bool made;

		err = make_rule(items[i].c, &p->rules[n], &made);
		if (err)
			return err;
		n += made;
		p->nrules = n;
	}
	qsort(p->rules, n, sizeof(*p->rules), cmp_rule);
	/* duplicates are adjacent now */
	p->nrules = 0;
	for (size_t i = 0; i < n; i++) {
		if (p->nrules && !cmp_rule(&p->rules[p->nrules - 1], &p->rules[i])) {
			free(p->rules[i].peer_key);
			labels_free(&p->rules[i].peer_labels);
			continue;
		}
		p->rules[p->nrules++] = p->rules[i];
	}
	return 0;
}

/* ---- YAML ---- */

struct emitter {
	yaml_emitter_t em;
	struct sonde_outbuf ob;
	bool failed;
};

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
	outbuf_write(data, buffer, size);
	return 1;
}

static void emit(struct emitter *e, yaml_event_t *ev, int made)
{
	if (e->failed)
		return;
	if (made && yaml_emitter_emit(&e->em, ev))
		return;
	if (made)
		sonde_err("networkpolicy: YAML: %s", e->em.problem ? e->em.problem : "emitter error");
	e->failed = true;
}

static void scalar(struct emitter *e, const char *s, yaml_scalar_style_t style)
{
	yaml_event_t ev;

	emit(e, &ev,
	     yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1, style));
}

static void str(struct emitter *e, const char *s)
{
	scalar(e, s, output_yaml_string_style(s, strlen(s)));
}

static void map_start(struct emitter *e, bool flow)
{
	yaml_event_t ev;

	emit(e, &ev,
	     yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
	                                         flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE));
}

static void map_end(struct emitter *e)
{
	yaml_event_t ev;

	emit(e, &ev, yaml_mapping_end_event_initialize(&ev));
}

static void seq_start(struct emitter *e)
{
	yaml_event_t ev;

	emit(e, &ev, yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE));
}

static void seq_end(struct emitter *e)
{
	yaml_event_t ev;

	emit(e, &ev, yaml_sequence_end_event_initialize(&ev));
}

/* `key: {matchLabels: …}` or `key: {}` */
static void selector(struct emitter *e, const char *key, const struct labels *l)
{
	str(e, key);
	map_start(e, l->n == 0);
	if (l->n) {
		str(e, "matchLabels");
		map_start(e, false);
		for (size_t i = 0; i < l->n; i++) {
			str(e, l->keys[i]);
			str(e, l->values[i]);
		}
		map_end(e);
	}
	map_end(e);
}

static void ports(struct emitter *e, const struct rule *r)
{
	char port[8];

	snprintf(port, sizeof(port), "%u", r->port);
	str(e, "ports");
	seq_start(e);
	map_start(e, false);
	str(e, "port");
	scalar(e, port, YAML_PLAIN_SCALAR_STYLE);
	str(e, "protocol");
	str(e, r->proto);
	map_end(e);
	seq_end(e);
}

static void peers(struct emitter *e, const struct rule *r, const char *local_ns)
{
	const struct np_conn *c = r->c;

	str(e, r->egress ? "to" : "from");
	seq_start(e);
	map_start(e, false);
	if (known_pod(c)) {
		if (strcmp(c->peer_namespace, local_ns)) {
			str(e, "namespaceSelector");
			map_start(e, false);
			str(e, "matchLabels");
			map_start(e, false);
			str(e, "kubernetes.io/metadata.name");
			str(e, c->peer_namespace);
			map_end(e);
			map_end(e);
		}
		selector(e, "podSelector", &r->peer_labels);
	} else {
		char cidr[80];

		snprintf(cidr, sizeof(cidr), "%s/%s", c->peer_addr, strchr(c->peer_addr, ':') ? "128" : "32");
		str(e, "ipBlock");
		map_start(e, false);
		str(e, "cidr");
		str(e, cidr);
		map_end(e);
	}
	map_end(e);
	seq_end(e);
}

static void rules(struct emitter *e, const struct policy *p, bool egress)
{
	bool any = false;

	for (size_t i = 0; i < p->nrules; i++)
		any |= p->rules[i].egress == egress;
	if (!any)
		return;
	str(e, egress ? "egress" : "ingress");
	seq_start(e);
	for (size_t i = 0; i < p->nrules; i++) {
		const struct rule *r = &p->rules[i];

		if (r->egress != egress)
			continue;
		map_start(e, false);
		/* keys sorted: from < ports < to */
		if (!egress)
			peers(e, r, p->namespace);
		ports(e, r);
		if (egress)
			peers(e, r, p->namespace);
		map_end(e);
	}
	seq_end(e);
}

static void policy_yaml(struct emitter *e, const struct policy *p)
{
	yaml_event_t ev;

	emit(e, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
	map_start(e, false);
	str(e, "apiVersion");
	str(e, "networking.k8s.io/v1");
	str(e, "kind");
	str(e, "NetworkPolicy");
	str(e, "metadata");
	map_start(e, false);
	str(e, "creationTimestamp");
	scalar(e, "null", YAML_PLAIN_SCALAR_STYLE);
	str(e, "name");
	str(e, p->name);
	str(e, "namespace");
	str(e, p->namespace);
	map_end(e);
	str(e, "spec");
	map_start(e, false);
	rules(e, p, true);
	rules(e, p, false);
	selector(e, "podSelector", &p->selector);
	str(e, "policyTypes");
	seq_start(e);
	str(e, "Ingress");
	str(e, "Egress");
	seq_end(e);
	map_end(e);
	map_end(e);
	emit(e, &ev, yaml_document_end_event_initialize(&ev, 1));
}

static int policies_yaml(const struct policy *ps, size_t n, char **yaml, size_t *len)
{
	struct emitter e = {0};
	yaml_event_t ev;
	int err = 0;

	if (outbuf_init(&e.ob, -1, 0))
		return -ENOMEM;
	if (!yaml_emitter_initialize(&e.em)) {
		outbuf_fini(&e.ob);
		return -ENOMEM;
	}
	yaml_emitter_set_output(&e.em, write_handler, &e.ob);
	yaml_emitter_set_width(&e.em, 80);
	yaml_emitter_set_indent(&e.em, 2);
	yaml_emitter_set_unicode(&e.em, 1);
	emit(&e, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	for (size_t i = 0; i < n; i++)
		policy_yaml(&e, &ps[i]);
	emit(&e, &ev, yaml_stream_end_event_initialize(&ev));
	yaml_emitter_delete(&e.em);
	outbuf_putc(&e.ob, 0);
	if (e.failed)
		err = -EIO;
	else if (outbuf_error(&e.ob))
		err = -ENOMEM;
	if (!err) {
		*len = e.ob.len - 1;
		*yaml = e.ob.data; /* the buffer is ours now */
		e.ob.data = NULL;
	}
	outbuf_fini(&e.ob);
	return err;
}

int np_generate(const struct np_conn *conns, size_t n, char **yaml, size_t *len)
{
	struct item *items = calloc(n ? n : 1, sizeof(*items));
	struct policy *ps = calloc(n ? n : 1, sizeof(*ps));
	size_t nitems = 0, nps = 0;
	int err = 0;

	*yaml = NULL;
	*len = 0;
	if (!items || !ps) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n && !err; i++) {
		const struct np_conn *c = &conns[i];
		struct labels l;

		/* not a pod: nothing a NetworkPolicy could select */
		if (!c->namespace || !*c->namespace || !c->pod_name || !*c->pod_name)
			continue;
		err = labels_parse(c->labels, &l);
		if (err)
			break;
		if (asprintf(&items[nitems].group, "%s:%s", c->namespace, l.canon) < 0) {
			items[nitems].group = NULL;
			err = -ENOMEM;
		} else {
			items[nitems++].c = c;
		}
		labels_free(&l);
	}
	if (err || !nitems)
		goto out;
	qsort(items, nitems, sizeof(*items), cmp_item);
	for (size_t from = 0, to; from < nitems && !err; from = to) {
		for (to = from + 1; to < nitems && !strcmp(items[to].group, items[from].group); to++)
			;
		err = make_policy(items, from, to, &ps[nps++]);
	}
	if (err)
		goto out;
	qsort(ps, nps, sizeof(*ps), cmp_policy);
	err = policies_yaml(ps, nps, yaml, len);
out:
	for (size_t i = 0; i < nps; i++)
		policy_free(&ps[i]);
	for (size_t i = 0; i < nitems; i++)
		free(items[i].group);
	free(items);
	free(ps);
	if (err == -ENOMEM)
		sonde_err("networkpolicy: out of memory");
	return err;
}
