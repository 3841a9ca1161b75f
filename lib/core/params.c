/* Params: descriptors, values and validation by type hint. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sonde/params.h>

#include "kvlist.h"

struct sonde_param {
	struct sonde_param_desc desc; /* strings owned below */
	char *prefix;
	char *full_name;
	char *alt_full_name; /* prefix + alt_key, NULL without one */
	char *value;         /* NULL = not set */
	char *default_value;
	struct strlist owned; /* key, alias, description, type hint, possible values, tags */
	const char **possible;
	const char **tags;
};

struct sonde_params {
	struct sonde_param **items;
	size_t len, cap;
};

struct sonde_params *sonde_params_new(void)
{
	return calloc(1, sizeof(struct sonde_params));
}

static void param_free(struct sonde_param *p)
{
	if (!p)
		return;
	free(p->prefix);
	free(p->full_name);
	free(p->alt_full_name);
	free(p->value);
	free(p->default_value);
	free(p->possible);
	free(p->tags);
	strlist_free(&p->owned);
	free(p);
}

void sonde_params_free(struct sonde_params *ps)
{
	if (!ps)
		return;
	for (size_t i = 0; i < ps->len; i++)
		param_free(ps->items[i]);
	free(ps->items);
	free(ps);
}

static const char *own(struct sonde_param *p, const char *s)
{
	if (!s)
		return NULL;
	if (strlist_add(&p->owned, s))
		return NULL;
	return p->owned.items[p->owned.len - 1];
}

static const char **own_list(struct sonde_param *p, const char *const *list)
{
	size_t n = 0;
	const char **out;

	if (!list)
		return NULL;
	while (list[n])
		n++;
	out = calloc(n + 1, sizeof(*out));
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++)
		out[i] = own(p, list[i]);
	return out;
}

struct sonde_param *sonde_params_add(struct sonde_params *ps, const char *prefix,
                                     const struct sonde_param_desc *desc)
{
	struct sonde_param *p;

	if (!desc || !desc->key || !*desc->key)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->prefix = strdup(prefix ? prefix : "");
	if (!p->prefix || asprintf(&p->full_name, "%s%s", p->prefix, desc->key) < 0) {
		p->full_name = NULL;
		param_free(p);
		return NULL;
	}
	if (sonde_params_find(ps, p->full_name) &&
	    strcmp(sonde_param_full_name(sonde_params_find(ps, p->full_name)), p->full_name) == 0) {
		param_free(p);
		return NULL;
	}
	p->desc.key = own(p, desc->key);
	p->desc.alias = own(p, desc->alias);
	p->desc.alt_key = own(p, desc->alt_key);
	if (desc->alt_key && asprintf(&p->alt_full_name, "%s%s", p->prefix, desc->alt_key) < 0) {
		p->alt_full_name = NULL;
		param_free(p);
		return NULL;
	}
	p->desc.description = own(p, desc->description);
	p->desc.type_hint = own(p, desc->type_hint);
	p->desc.mandatory = desc->mandatory;
	p->possible = own_list(p, desc->possible_values);
	p->tags = own_list(p, desc->tags);
	p->desc.possible_values = p->possible;
	p->desc.tags = p->tags;
	p->default_value = desc->default_value ? strdup(desc->default_value) : NULL;
	p->desc.default_value = p->default_value;
	if (grow_array((void **)&ps->items, &ps->cap, ps->len + 1, sizeof(*ps->items))) {
		param_free(p);
		return NULL;
	}
	ps->items[ps->len++] = p;
	return p;
}

size_t sonde_params_count(const struct sonde_params *ps)
{
	return ps->len;
}

struct sonde_param *sonde_params_at(const struct sonde_params *ps, size_t i)
{
	return i < ps->len ? ps->items[i] : NULL;
}

struct sonde_param *sonde_params_find(const struct sonde_params *ps, const char *name)
{
	bool ambiguous;

	for (size_t i = 0; i < ps->len; i++)
		if (strcmp(ps->items[i]->full_name, name) == 0 ||
		    (ps->items[i]->alt_full_name && strcmp(ps->items[i]->alt_full_name, name) == 0))
			return ps->items[i];
	/* full names compare case-insensitively, as upstream lowercases config keys */
	for (size_t i = 0; i < ps->len; i++)
		if (strcasecmp(ps->items[i]->full_name, name) == 0 ||
		    (ps->items[i]->alt_full_name && strcasecmp(ps->items[i]->alt_full_name, name) == 0))
			return ps->items[i];
	if (strchr(name, '.'))
		return NULL;
	return sonde_params_find_key(ps, name, &ambiguous);
}

struct sonde_param *sonde_params_find_key(const struct sonde_params *ps, const char *key, bool *ambiguous)
{
	struct sonde_param *found = NULL;

	*ambiguous = false;
	for (size_t i = 0; i < ps->len; i++) {
		struct sonde_param *p = ps->items[i];
		bool match = strcmp(p->desc.key, key) == 0 ||
		             (p->desc.alias && strcmp(p->desc.alias, key) == 0) ||
		             (p->desc.alt_key && strcmp(p->desc.alt_key, key) == 0);
		if (!match)
			continue;
		if (found) {
			*ambiguous = true;
			return NULL;
		}
		found = p;
	}
	return found;
}

/* ---- validation ---- */

int sonde_parse_bool(const char *s, bool *out)
{
	if (!strcasecmp(s, "true") || !strcmp(s, "1") || !strcasecmp(s, "t") || !strcasecmp(s, "yes")) {
		*out = true;
		return 0;
	}
	if (!strcasecmp(s, "false") || !strcmp(s, "0") || !strcasecmp(s, "f") || !strcasecmp(s, "no")) {
		*out = false;
		return 0;
	}
	return -EINVAL;
}

static int parse_int_bits(const char *s, bool is_signed, int bits, int64_t *sv, uint64_t *uv)
{
	char *end;

	if (!*s || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	if (is_signed) {
		long long v = strtoll(s, &end, 0);
		int64_t max = bits == 64 ? INT64_MAX : ((int64_t)1 << (bits - 1)) - 1;
		if (end == s || *end)
			return -EINVAL;
		if (errno || v > max || v < -max - 1)
			return -ERANGE;
		if (sv)
			*sv = v;
	} else {
		unsigned long long v;
		if (*s == '-')
			return parse_int_bits(s + 1, true, 64, NULL, NULL) ? -EINVAL : -ERANGE;
		v = strtoull(s, &end, 0);
		if (end == s || *end)
			return -EINVAL;
		if (errno || (bits < 64 && v > ((uint64_t)1 << bits) - 1))
			return -ERANGE;
		if (uv)
			*uv = v;
	}
	return 0;
}

int sonde_parse_duration_ns(const char *s, int64_t *out)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = {{"ns", 1},  {"us", 1e3}, {"µs", 1e3},  {"ms", 1e6},
	             {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
	double total = 0;
	bool neg = false;
	const char *p = s;
	char *end;

	if (!*p || isspace((unsigned char)*p))
		return -EINVAL;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (isspace((unsigned char)*p) || *p == '-' || *p == '+')
		return -EINVAL; /* strtod would skip blanks and take a second sign */
	/* bare number: seconds */
	errno = 0;
	double bare = strtod(p, &end);
	if (end != p && !*end && !errno) {
		/* "inf", "nan" and 1e300 parse as doubles, not as durations */
		if (!isfinite(bare) || fabs(bare) * 1e9 > 9.2e18)
			return -ERANGE;
		*out = (int64_t)((neg ? -bare : bare) * 1e9);
		return 0;
	}
	while (*p) {
		double v = strtod(p, &end);
		size_t best = 0, bi = 0;

		if (end == p || isspace((unsigned char)*p))
			return -EINVAL;
		p = end;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t n = strlen(units[i].unit);
			if (strncmp(p, units[i].unit, n) == 0 && n > best) {
				best = n;
				bi = i;
			}
		}
		if (!best)
			return -EINVAL;
		p += best;
		total += v * units[bi].ns;
	}
	if (!isfinite(total) || total > 9.2e18 || total < -9.2e18)
		return -ERANGE;
	*out = (int64_t)(neg ? -total : total);
	return 0;
}

static int check_ip(const char *value)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, value, buf) == 1 || inet_pton(AF_INET6, value, buf) == 1 ? 0 : -EINVAL;
}

int sonde_value_check(const char *type, const char *value, char *err, size_t errlen)
{
	int r = 0;
	bool b;
	int64_t d;

	if (!type || !*type || !strcmp(type, "string") || !strcmp(type, "[]string") || !strcmp(type, "bytes"))
		return 0;
	if (!strcmp(type, "bool")) {
		r = sonde_parse_bool(value, &b);
	} else if (!strncmp(type, "int", 3) || !strncmp(type, "uint", 4)) {
		bool is_signed = type[0] == 'i';
		const char *bits_s = type + (is_signed ? 3 : 4);
		int bits = *bits_s ? atoi(bits_s) : 64;
		if (bits != 8 && bits != 16 && bits != 32 && bits != 64) {
			snprintf(err, errlen, "unknown type %s", type);
			return -EINVAL;
		}
		r = parse_int_bits(value, is_signed, bits, NULL, NULL);
	} else if (!strcmp(type, "float32") || !strcmp(type, "float64")) {
		char *end;
		errno = 0;
		double v = strtod(value, &end);
		r = (!*value || *end || errno || isnan(v)) ? -EINVAL : 0;
	} else if (!strcmp(type, "duration")) {
		r = sonde_parse_duration_ns(value, &d);
	} else if (!strcmp(type, "ip")) {
		r = check_ip(value);
	}
	if (r == -ERANGE)
		snprintf(err, errlen, "value \"%s\" is out of range for %s", value, type);
	else if (r)
		snprintf(err, errlen, "value \"%s\" is not a valid %s", value, type);
	return r ? -EINVAL : 0;
}

int sonde_param_set(struct sonde_param *p, const char *value, char *err, size_t errlen)
{
	char reason[256] = "";
	char *copy;

	if (!value)
		value = "";
	if (sonde_value_check(p->desc.type_hint, value, reason, sizeof(reason))) {
		snprintf(err, errlen, "invalid value for --%s: %s", p->desc.key, reason);
		return -EINVAL;
	}
	if (p->possible && p->possible[0]) {
		bool ok = false;
		for (size_t i = 0; p->possible[i]; i++)
			ok |= strcmp(p->possible[i], value) == 0;
		if (!ok) {
			size_t off = (size_t)snprintf(
			    err, errlen, "invalid value \"%s\" for --%s (possible values:", value,
			    p->desc.key);
			for (size_t i = 0; p->possible[i] && off < errlen; i++)
				off += (size_t)snprintf(err + off, errlen - off, " %s", p->possible[i]);
			if (off < errlen)
				snprintf(err + off, errlen - off, ")");
			return -EINVAL;
		}
	}
	copy = strdup(value);
	if (!copy)
		return -ENOMEM;
	free(p->value);
	p->value = copy;
	return 0;
}

int sonde_params_set(struct sonde_params *ps, const char *name, const char *value, char *err, size_t errlen)
{
	bool ambiguous = false;
	struct sonde_param *p = sonde_params_find(ps, name);

	if (!p && !strchr(name, '.'))
		(void)sonde_params_find_key(ps, name, &ambiguous);
	if (!p) {
		snprintf(err, errlen,
		         ambiguous ? "ambiguous param \"%s\": use its full name" : "unknown param \"%s\"",
		         name);
		return ambiguous ? -EINVAL : -ENOENT;
	}
	return sonde_param_set(p, value, err, errlen);
}

int sonde_params_validate(const struct sonde_params *ps, char *err, size_t errlen)
{
	for (size_t i = 0; i < ps->len; i++) {
		const struct sonde_param *p = ps->items[i];
		if (p->desc.mandatory && !*sonde_param_value(p)) {
			snprintf(err, errlen, "missing value for mandatory param --%s", p->desc.key);
			return -EINVAL;
		}
	}
	return 0;
}

const char *sonde_param_key(const struct sonde_param *p)
{
	return p->desc.key;
}

const char *sonde_param_full_name(const struct sonde_param *p)
{
	return p->full_name;
}

const char *sonde_param_prefix(const struct sonde_param *p)
{
	return p->prefix;
}

const struct sonde_param_desc *sonde_param_desc(const struct sonde_param *p)
{
	return &p->desc;
}

const char *sonde_param_value(const struct sonde_param *p)
{
	if (p->value)
		return p->value;
	return p->default_value ? p->default_value : "";
}

bool sonde_param_is_set(const struct sonde_param *p)
{
	return p->value != NULL;
}

int sonde_param_set_default(struct sonde_param *p, const char *value)
{
	char *copy = value ? strdup(value) : NULL;

	if (value && !copy)
		return -ENOMEM;
	free(p->default_value);
	p->default_value = copy;
	p->desc.default_value = copy;
	return 0;
}

bool sonde_param_bool(const struct sonde_param *p)
{
	bool b = false;

	(void)sonde_parse_bool(sonde_param_value(p), &b);
	return b;
}

int64_t sonde_param_int(const struct sonde_param *p)
{
	return strtoll(sonde_param_value(p), NULL, 0);
}

uint64_t sonde_param_uint(const struct sonde_param *p)
{
	return strtoull(sonde_param_value(p), NULL, 0);
}

double sonde_param_float(const struct sonde_param *p)
{
	return strtod(sonde_param_value(p), NULL);
}

int64_t sonde_param_duration_ns(const struct sonde_param *p)
{
	int64_t ns = 0;

	(void)sonde_parse_duration_ns(sonde_param_value(p), &ns);
	return ns;
}
