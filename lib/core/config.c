/* YAML config trees (gadget.yaml) with case-insensitive map lookups. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include <sonde/config.h>

#include "kvlist.h"

#define MAX_DEPTH 64

struct sonde_config {
	enum sonde_config_type type;
	char *scalar;
	char **keys; /* maps */
	struct sonde_config **values;
	size_t len, cap;
};

static struct sonde_config *node_new(enum sonde_config_type type)
{
	struct sonde_config *c = calloc(1, sizeof(*c));

	if (c)
		c->type = type;
	return c;
}

struct sonde_config *sonde_config_new_map(void)
{
	return node_new(SONDE_CONFIG_MAP);
}

void sonde_config_free(struct sonde_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->len; i++) {
		if (c->keys)
			free(c->keys[i]);
		sonde_config_free(c->values[i]);
	}
	free(c->keys);
	free(c->values);
	free(c->scalar);
	free(c);
}

static int node_append(struct sonde_config *c, const char *key, struct sonde_config *value)
{
	size_t cap = c->cap;

	if (grow_array((void **)&c->values, &cap, c->len + 1, sizeof(*c->values)))
		return -ENOMEM;
	if (c->type == SONDE_CONFIG_MAP) {
		size_t kcap = c->cap;
		char *k = strdup(key);
		if (!k || grow_array((void **)&c->keys, &kcap, c->len + 1, sizeof(*c->keys))) {
			free(k);
			return -ENOMEM;
		}
		/* both arrays grew from the same capacity with the same rule */
		c->keys[c->len] = k;
	}
	c->cap = cap;
	c->values[c->len++] = value;
	return 0;
}

/* ---- parsing ---- */

struct parser {
	yaml_parser_t yp;
	char *err;
	size_t errlen;
};

static void parse_error(struct parser *p, const yaml_event_t *ev, const char *what)
{
	if (p->err && !p->err[0]) {
		if (ev)
			snprintf(p->err, p->errlen, "line %zu column %zu: %s", ev->start_mark.line + 1,
			         ev->start_mark.column + 1, what);
		else
			snprintf(p->err, p->errlen, "line %zu column %zu: %s", p->yp.problem_mark.line + 1,
			         p->yp.problem_mark.column + 1, p->yp.problem ? p->yp.problem : what);
	}
}

static struct sonde_config *parse_node(struct parser *p, yaml_event_t *ev, int depth);

static struct sonde_config *parse_collection(struct parser *p, enum sonde_config_type type, int depth)
{
	struct sonde_config *c = node_new(type);
	yaml_event_t ev;
	yaml_event_type_t end = type == SONDE_CONFIG_MAP ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;

	if (!c)
		return NULL;
	for (;;) {
		char *key = NULL;
		struct sonde_config *v;

		if (!yaml_parser_parse(&p->yp, &ev)) {
			parse_error(p, NULL, "invalid YAML");
			goto fail;
		}
		if (ev.type == end) {
			yaml_event_delete(&ev);
			return c;
		}
		if (type == SONDE_CONFIG_MAP) {
			if (ev.type != YAML_SCALAR_EVENT) {
				parse_error(p, &ev, "map keys must be scalars");
				yaml_event_delete(&ev);
				goto fail;
			}
			key = strdup((const char *)ev.data.scalar.value);
			yaml_event_delete(&ev);
			if (!key)
				goto fail;
			if (!yaml_parser_parse(&p->yp, &ev)) {
				free(key);
				parse_error(p, NULL, "invalid YAML");
				goto fail;
			}
		}
		v = parse_node(p, &ev, depth + 1);
		yaml_event_delete(&ev);
		if (!v || node_append(c, key, v)) {
			sonde_config_free(v);
			free(key);
			goto fail;
		}
		free(key);
	}
fail:
	sonde_config_free(c);
	return NULL;
}

static struct sonde_config *parse_node(struct parser *p, yaml_event_t *ev, int depth)
{
	struct sonde_config *c;

	if (depth > MAX_DEPTH) {
		parse_error(p, ev, "nesting too deep");
		return NULL;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		c = node_new(SONDE_CONFIG_SCALAR);
		if (c && !(c->scalar = strdup((const char *)ev->data.scalar.value))) {
			free(c);
			return NULL;
		}
		/* a plain `~` or `null` is a null node */
		if (c && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    (!strcmp(c->scalar, "~") || !strcmp(c->scalar, "null") || !c->scalar[0]))
			c->type = SONDE_CONFIG_NULL;
		return c;
	case YAML_MAPPING_START_EVENT:
		return parse_collection(p, SONDE_CONFIG_MAP, depth);
	case YAML_SEQUENCE_START_EVENT:
		return parse_collection(p, SONDE_CONFIG_SEQ, depth);
	case YAML_ALIAS_EVENT:
		parse_error(p, ev, "YAML aliases are not supported");
		return NULL;
	default:
		parse_error(p, ev, "unexpected YAML event");
		return NULL;
	}
}

struct sonde_config *sonde_config_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct parser p = {.err = err, .errlen = errlen};
	struct sonde_config *root = NULL;
	yaml_event_t ev;
	bool done = false;

	if (err && errlen)
		err[0] = 0;
	if (!yaml_parser_initialize(&p.yp)) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	yaml_parser_set_input_string(&p.yp, (const unsigned char *)text, len);
	while (!done) {
		if (!yaml_parser_parse(&p.yp, &ev)) {
			parse_error(&p, NULL, "invalid YAML");
			sonde_config_free(root);
			root = NULL;
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			break;
		default:
			if (root) { /* only the first document is read */
				done = true;
				break;
			}
			root = parse_node(&p, &ev, 0);
			if (!root)
				done = true;
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p.yp);
	if (root && root->type == SONDE_CONFIG_NULL) {
		sonde_config_free(root);
		root = NULL;
	}
	if (!root && err && !err[0])
		return sonde_config_new_map(); /* empty document */
	if (root && root->type != SONDE_CONFIG_MAP) {
		snprintf(err, errlen, "the document must be a map");
		sonde_config_free(root);
		return NULL;
	}
	return root;
}

/* ---- access ---- */

enum sonde_config_type sonde_config_type(const struct sonde_config *c)
{
	return c ? c->type : SONDE_CONFIG_NULL;
}

const char *sonde_config_scalar(const struct sonde_config *c)
{
	return c && c->type == SONDE_CONFIG_SCALAR ? c->scalar : NULL;
}

size_t sonde_config_len(const struct sonde_config *c)
{
	return c && (c->type == SONDE_CONFIG_MAP || c->type == SONDE_CONFIG_SEQ) ? c->len : 0;
}

const char *sonde_config_key_at(const struct sonde_config *c, size_t i)
{
	return c && c->type == SONDE_CONFIG_MAP && i < c->len ? c->keys[i] : NULL;
}

struct sonde_config *sonde_config_value_at(const struct sonde_config *c, size_t i)
{
	return c && i < sonde_config_len(c) ? c->values[i] : NULL;
}

struct sonde_config *sonde_config_get(const struct sonde_config *c, const char *key)
{
	if (!c || c->type != SONDE_CONFIG_MAP || !key)
		return NULL;
	for (size_t i = 0; i < c->len; i++)
		if (strcmp(c->keys[i], key) == 0)
			return c->values[i];
	for (size_t i = 0; i < c->len; i++)
		if (strcasecmp(c->keys[i], key) == 0)
			return c->values[i];
	return NULL;
}

static struct sonde_config *vpath(const struct sonde_config *c, va_list ap)
{
	const char *key;
	struct sonde_config *cur = (struct sonde_config *)c;

	while (cur && (key = va_arg(ap, const char *)))
		cur = sonde_config_get(cur, key);
	return cur;
}

struct sonde_config *sonde_config_path(const struct sonde_config *c, ...)
{
	va_list ap;
	struct sonde_config *r;

	va_start(ap, c);
	r = vpath(c, ap);
	va_end(ap);
	return r;
}

const char *sonde_config_str(const struct sonde_config *c, ...)
{
	va_list ap;
	struct sonde_config *r;

	va_start(ap, c);
	r = vpath(c, ap);
	va_end(ap);
	return sonde_config_scalar(r);
}

int sonde_config_set(struct sonde_config *c, const char *const *keys, size_t nkeys, const char *value)
{
	struct sonde_config *cur = c;

	if (!c || c->type != SONDE_CONFIG_MAP || !nkeys)
		return -EINVAL;
	for (size_t i = 0; i < nkeys; i++) {
		struct sonde_config *next = sonde_config_get(cur, keys[i]);
		bool last = i + 1 == nkeys;

		if (next && !last && next->type != SONDE_CONFIG_MAP) {
			/* replace a scalar on the way by a map */
			for (size_t j = 0; j < cur->len; j++)
				if (cur->values[j] == next) {
					sonde_config_free(next);
					next = cur->values[j] = node_new(SONDE_CONFIG_MAP);
					if (!next)
						return -ENOMEM;
				}
		}
		if (!next) {
			next = node_new(last ? SONDE_CONFIG_SCALAR : SONDE_CONFIG_MAP);
			if (!next || node_append(cur, keys[i], next)) {
				free(next);
				return -ENOMEM;
			}
		}
		cur = next;
	}
	if (cur->type == SONDE_CONFIG_MAP || cur->type == SONDE_CONFIG_SEQ) {
		for (size_t i = 0; i < cur->len; i++) {
			if (cur->keys)
				free(cur->keys[i]);
			sonde_config_free(cur->values[i]);
		}
		free(cur->keys);
		free(cur->values);
		cur->keys = NULL;
		cur->values = NULL;
		cur->len = cur->cap = 0;
	}
	free(cur->scalar);
	cur->scalar = strdup(value ? value : "");
	cur->type = SONDE_CONFIG_SCALAR;
	return cur->scalar ? 0 : -ENOMEM;
}
