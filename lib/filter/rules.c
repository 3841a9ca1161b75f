/* Filter rules: parsing `--filter` strings and evaluating records. */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/log.h>

#include "filter/rules.h"
#include "util/array.h"

/* How a rule reads and compares its field. */
enum value_type {
	VT_INT,
	VT_UINT,
	VT_FLOAT32,
	VT_FLOAT64,
	VT_BOOL,
	VT_STRING,
	VT_REGEX,
};

struct rule {
	struct sonde_field *field;
	enum filter_op op;
	enum value_type type;
	uint32_t size; /* bytes of an integer field */
	union {
		int64_t i;
		uint64_t u;
		double d;
		bool b;
	} v;
	char *value; /* canonical text; for strings the bytes compared */
	size_t value_len;
	pcre2_code *re;
	pcre2_match_data *md; /* one per rule, reused for every record */
};

struct filter_rules {
	const struct sonde_ds *ds;
	struct rule *rules;
	size_t n, cap;
};

struct filter_rules *filter_rules_new(const struct sonde_ds *ds)
{
	struct filter_rules *rules = calloc(1, sizeof(*rules));

	if (rules)
		rules->ds = ds;
	return rules;
}

static void rule_fini(struct rule *r)
{
	free(r->value);
	pcre2_match_data_free(r->md);
	pcre2_code_free(r->re);
}

void filter_rules_free(struct filter_rules *rules)
{
	if (!rules)
		return;
	for (size_t i = 0; i < rules->n; i++)
		rule_fini(&rules->rules[i]);
	free(rules->rules);
	free(rules);
}

size_t filter_rules_count(const struct filter_rules *rules)
{
	return rules ? rules->n : 0;
}

struct sonde_field *filter_rule_field(const struct filter_rules *rules, size_t i)
{
	return i < rules->n ? rules->rules[i].field : NULL;
}

enum filter_op filter_rule_op(const struct filter_rules *rules, size_t i)
{
	return i < rules->n ? rules->rules[i].op : FILTER_EQ;
}

const char *filter_rule_value(const struct filter_rules *rules, size_t i)
{
	return i < rules->n ? rules->rules[i].value : NULL;
}

/* ---- parsing ---- */

static const struct {
	const char *text;
	enum filter_op op;
} ops[] = {
    /* two-character operators first: the longest match wins */
    {"==", FILTER_EQ}, {"!=", FILTER_NE}, {"!~", FILTER_NOMATCH}, {"<=", FILTER_LE},   {">=", FILTER_GE},
    {"=", FILTER_EQ},  {"<", FILTER_LT},  {">", FILTER_GT},       {"~", FILTER_MATCH},
};

static const char *op_text(enum filter_op op)
{
	static const char *const text[] = {"==", "!=", "<", "<=", ">", ">=", "~", "!~"};

	return text[op];
}

/* `s` without leading and trailing blanks, copied into `out` (at least as large). */
static char *trimmed(const char *s, char *out)
{
	size_t len;

	while (*s == ' ' || *s == '\t')
		s++;
	len = strlen(s);
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	memmove(out, s, len); /* out may be s itself */
	out[len] = 0;
	return out;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* Integers as strconv.ParseInt/ParseUint(s, 10, bits): optional sign for
 * signed kinds only, decimal digits, within the kind's range. */
static int parse_int(struct rule *r, const char *s, const char **why)
{
	bool is_signed = sonde_kind_is_signed(sonde_field_kind(r->field));
	unsigned bits = r->size * 8;

	errno = 0;
	if (is_signed) {
		const char *digits = (*s == '-' || *s == '+') ? s + 1 : s;
		long long v;
		int64_t max = bits >= 64 ? INT64_MAX : (int64_t)((1ULL << (bits - 1)) - 1);

		if (!all_digits(digits)) {
			*why = "not a decimal integer";
			return -EINVAL;
		}
		v = strtoll(s, NULL, 10);
		if (errno == ERANGE || v > max || v < -max - 1) {
			*why = "out of range";
			return -EINVAL;
		}
		r->v.i = v;
		return 0;
	}
	if (*s == '-' && all_digits(s + 1)) {
		*why = "negative value for an unsigned field";
		return -EINVAL;
	}
	if (!all_digits(s)) {
		*why = "not a decimal integer";
		return -EINVAL;
	}
	{
		unsigned long long v = strtoull(s, NULL, 10);
		uint64_t max = bits >= 64 ? UINT64_MAX : (1ULL << bits) - 1;

		if (errno == ERANGE || v > max) {
			*why = "out of range";
			return -EINVAL;
		}
		r->v.u = v;
	}
	return 0;
}

/* Floats as strconv.ParseFloat(s, bits): overflow is an error, underflow is not. */
static int parse_float(struct rule *r, const char *s, const char **why)
{
	char *end = NULL;

	errno = 0;
	if (r->type == VT_FLOAT32) {
		float f = strtof(s, &end);

		if (!*s || *end) {
			*why = "not a number";
			return -EINVAL;
		}
		if (errno == ERANGE && isinf(f)) {
			*why = "out of range";
			return -EINVAL;
		}
		r->v.d = f; /* compared in float precision: exactly representable */
		return 0;
	}
	r->v.d = strtod(s, &end);
	if (!*s || *end) {
		*why = "not a number";
		return -EINVAL;
	}
	if (errno == ERANGE && isinf(r->v.d)) {
		*why = "out of range";
		return -EINVAL;
	}
	return 0;
}

static int compile_regex(struct rule *r, char *why, size_t whylen)
{
	int code;
	PCRE2_SIZE off;
	PCRE2_UCHAR msg[160];

	/* UTF mode that tolerates invalid bytes in subjects (RE2 matches them as U+FFFD);
	 * DOLLAR_ENDONLY: RE2's `$` does not match before a final newline. */
	r->re = pcre2_compile((PCRE2_SPTR)r->value, r->value_len,
	                      PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY, &code, &off, NULL);
	if (!r->re) {
		pcre2_get_error_message(code, msg, sizeof(msg));
		snprintf(why, whylen, "%s at offset %zu", (const char *)msg, (size_t)off);
		return -EINVAL;
	}
	/* JIT is an optimisation: without it (no support, W^X policy) the interpreter
	 * runs. SONDE_NO_JIT=1 asks for the interpreter: valgrind cannot follow JIT code. */
	if (getenv("SONDE_NO_JIT") || pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE) != 0)
		sonde_debug("filter: regex \"%s\" runs without JIT", r->value);
	r->md = pcre2_match_data_create(1, NULL);
	return r->md ? 0 : -ENOMEM;
}

static enum value_type type_of(enum sonde_kind kind)
{
	switch (kind) {
	case SONDE_KIND_BOOL:
		return VT_BOOL;
	case SONDE_KIND_INT8:
	case SONDE_KIND_INT16:
	case SONDE_KIND_INT32:
	case SONDE_KIND_INT64:
		return VT_INT;
	case SONDE_KIND_UINT8:
	case SONDE_KIND_UINT16:
	case SONDE_KIND_UINT32:
	case SONDE_KIND_UINT64:
		return VT_UINT;
	case SONDE_KIND_FLOAT32:
		return VT_FLOAT32;
	case SONDE_KIND_FLOAT64:
		return VT_FLOAT64;
	default:
		return VT_STRING;
	}
}

/* Builds one rule from its unescaped text; errors name the rule. */
/* The longest string a fixed-size string field holds (a full CString without
 * its NUL is read to its size); 0: no limit. */
static uint32_t max_string_len(const struct sonde_field *f)
{
	return sonde_field_size(f);
}

static bool longer_than_field(const struct rule *r)
{
	uint32_t max = max_string_len(r->field);

	return max && r->value_len > max;
}

static int parse_rule(const struct sonde_ds *ds, const char *text, struct rule *r, char *err, size_t errlen)
{
	size_t name_len = strcspn(text, "!~><=");
	const char *optext = text + name_len, *value = NULL;
	char *name = malloc(name_len + 1), *num = NULL, why_buf[200];
	const char *why = NULL;
	enum sonde_kind kind;
	int ret = -EINVAL;

	memset(r, 0, sizeof(*r));
	if (!name)
		return -ENOMEM;
	memcpy(name, text, name_len);
	name[name_len] = 0;
	trimmed(name, name);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]) && *optext; i++) {
		size_t len = strlen(ops[i].text);

		if (strncmp(optext, ops[i].text, len) == 0) {
			r->op = ops[i].op;
			value = optext + len;
			break;
		}
	}
	if (!*optext) {
		snprintf(err, errlen, "missing operator (==, !=, <, <=, >, >=, ~ or !~) in \"%s\"", text);
		goto out;
	}
	if (!value) {
		snprintf(err, errlen, "invalid operator in \"%s\"", text);
		goto out;
	}
	if (!*name) {
		snprintf(err, errlen, "missing field name in \"%s\"", text);
		goto out;
	}
	r->field = sonde_ds_field(ds, name);
	if (!r->field) {
		snprintf(err, errlen, "unknown field \"%s\" in \"%s\"", name, text);
		goto out;
	}
	kind = sonde_field_kind(r->field);
	if ((sonde_field_flags(r->field) & (SONDE_FIELD_EMPTY | SONDE_FIELD_CONTAINER)) ||
	    SONDE_KIND_IS_ARRAY(kind) || kind == SONDE_KIND_BYTES || kind == SONDE_KIND_INVALID) {
		snprintf(err, errlen, "field \"%s\" (%s) cannot be filtered, in \"%s\"", name,
		         SONDE_KIND_IS_ARRAY(kind) ? "array" : sonde_kind_name(kind), text);
		goto out;
	}
	r->type = type_of(kind);
	r->size = sonde_kind_size(kind);
	if ((r->op == FILTER_MATCH || r->op == FILTER_NOMATCH) && r->type != VT_STRING) {
		snprintf(err, errlen,
		         "regular expressions (~, !~) only apply to string fields; \"%s\" is %s, in \"%s\"",
		         name, sonde_kind_name(kind), text);
		goto out;
	}
	if (r->type == VT_BOOL && r->op != FILTER_EQ && r->op != FILTER_NE) {
		snprintf(err, errlen, "bool field \"%s\" only supports == and !=, in \"%s\"", name, text);
		goto out;
	}

	if (r->type == VT_STRING) {
		/* `proc.comm == cat` means "cat", as upstream reads it */
		r->value = strdup(value);
		if (!r->value) {
			ret = -ENOMEM;
			goto out;
		}
		trimmed(r->value, r->value);
		r->value_len = strlen(r->value);
		if (r->op == FILTER_EQ && longer_than_field(r)) {
			snprintf(
			    err, errlen,
			    "\"%s\" can never match: field \"%s\" holds at most %u characters, in \"%s\"",
			    r->value, name, max_string_len(r->field), text);
			goto out;
		}
		if (r->op == FILTER_MATCH || r->op == FILTER_NOMATCH) {
			r->type = VT_REGEX;
			ret = compile_regex(r, why_buf, sizeof(why_buf));
			if (ret == -EINVAL)
				snprintf(err, errlen, "invalid regular expression \"%s\" (%s) in \"%s\"",
				         value, why_buf, text);
			if (ret)
				goto out;
		}
		ret = 0;
		goto out;
	}

	num = malloc(strlen(value) + 1);
	if (!num) {
		ret = -ENOMEM;
		goto out;
	}
	trimmed(value, num);
	switch (r->type) {
	case VT_BOOL:
		if (!strcmp(num, "true") || !strcmp(num, "1"))
			r->v.b = true;
		else if (!strcmp(num, "false") || !strcmp(num, "0"))
			r->v.b = false;
		else
			why = "not a bool: use true, false, 1 or 0";
		break;
	case VT_INT:
	case VT_UINT:
		parse_int(r, num, &why);
		break;
	default:
		parse_float(r, num, &why);
		break;
	}
	if (why) {
		snprintf(err, errlen, "invalid value \"%s\" for %s field \"%s\" (%s) in \"%s\"", value,
		         sonde_kind_name(kind), name, why, text);
		goto out;
	}
	if (r->type == VT_INT)
		ret = asprintf(&r->value, "%" PRId64, r->v.i);
	else if (r->type == VT_UINT)
		ret = asprintf(&r->value, "%" PRIu64, r->v.u);
	else
		ret = asprintf(&r->value, "%s", num);
	if (ret < 0) {
		r->value = NULL;
		ret = -ENOMEM;
		goto out;
	}
	r->value_len = strlen(r->value);
	ret = 0;
out:
	if (ret)
		rule_fini(r);
	free(name);
	free(num);
	return ret;
}

static int append_rule(struct filter_rules *rules, const struct rule *r)
{
	if (grow_array((void **)&rules->rules, &rules->cap, rules->n + 1, sizeof(*rules->rules)))
		return -ENOMEM;
	rules->rules[rules->n++] = *r;
	return 0;
}

int filter_rules_add(struct filter_rules *rules, const char *spec, char *err, size_t errlen)
{
	size_t len = strlen(spec), before = rules->n;
	char *buf = malloc(len + 1);
	const char *p = spec;
	int ret = 0;

	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	while (*p && !ret) {
		size_t n = 0;
		struct rule r;

		/* one rule: up to an unescaped comma */
		for (; *p && *p != ','; p++) {
			if (p[0] == '\\' && p[1] == ',')
				p++;
			buf[n++] = *p;
		}
		buf[n] = 0;
		if (*p == ',')
			p++;
		if (buf[strspn(buf, " \t")] == 0) {
			/* `-F ','` or `a==1,,b==2`: a rule left out by mistake, not "match all" */
			snprintf(err, errlen, "empty rule in filter \"%s\"", spec);
			ret = -EINVAL;
			break;
		}
		ret = parse_rule(rules->ds, buf, &r, err, errlen);
		if (!ret) {
			ret = append_rule(rules, &r);
			if (ret)
				rule_fini(&r);
		}
		if (ret == -ENOMEM)
			snprintf(err, errlen, "out of memory");
	}
	if (ret) {
		while (rules->n > before)
			rule_fini(&rules->rules[--rules->n]);
	}
	free(buf);
	return ret;
}

/* ---- evaluation ---- */

static inline bool verdict(enum filter_op op, int c)
{
	switch (op) {
	case FILTER_EQ:
		return c == 0;
	case FILTER_NE:
		return c != 0;
	case FILTER_LT:
		return c < 0;
	case FILTER_LE:
		return c <= 0;
	case FILTER_GT:
		return c > 0;
	case FILTER_GE:
		return c >= 0;
	default:
		return false;
	}
}

/* Little-endian integer of `size` bytes; a missing value reads as 0. */
static inline uint64_t read_raw(const struct rule *r, const struct sonde_record *rec)
{
	uint32_t len = 0;
	const void *p = sonde_field_get(r->field, rec, &len);
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	if (!p || len < r->size)
		return 0;
	switch (r->size) {
	case 1:
		memcpy(&u8, p, 1);
		return u8;
	case 2:
		memcpy(&u16, p, 2);
		return u16;
	case 4:
		memcpy(&u32, p, 4);
		return u32;
	default:
		memcpy(&u64, p, 8);
		return u64;
	}
}

static inline int64_t sign_extend(uint64_t v, uint32_t size)
{
	unsigned shift = 64 - size * 8;

	return (int64_t)(v << shift) >> shift;
}

static inline bool eval(struct rule *r, const struct sonde_record *rec)
{
	switch (r->type) {
	case VT_INT: {
		int64_t v = sign_extend(read_raw(r, rec), r->size);

		return verdict(r->op, (v > r->v.i) - (v < r->v.i));
	}
	case VT_UINT: {
		uint64_t v = read_raw(r, rec);

		return verdict(r->op, (v > r->v.u) - (v < r->v.u));
	}
	case VT_FLOAT32:
	case VT_FLOAT64: {
		double v = r->type == VT_FLOAT32 ? (double)sonde_field_float32(r->field, rec)
		                                 : sonde_field_float64(r->field, rec);

		if (isnan(v) || isnan(r->v.d))
			return r->op == FILTER_NE; /* NaN equals nothing, orders with nothing */
		return verdict(r->op, (v > r->v.d) - (v < r->v.d));
	}
	case VT_BOOL:
		return (sonde_field_bool(r->field, rec) == r->v.b) == (r->op == FILTER_EQ);
	case VT_STRING: {
		uint32_t len;
		const char *s = sonde_field_string(r->field, rec, &len);
		size_t n = len < r->value_len ? len : r->value_len;
		int c = n ? memcmp(s, r->value, n) : 0;

		if (c == 0)
			c = (len > r->value_len) - (len < r->value_len);
		return verdict(r->op, c);
	}
	case VT_REGEX: {
		uint32_t len;
		const char *s = sonde_field_string(r->field, rec, &len);
		int rc = pcre2_match(r->re, (PCRE2_SPTR)s, len, 0, 0, r->md, NULL);

		/* errors (e.g. match limit) count as "no match" */
		return (rc >= 0) == (r->op == FILTER_MATCH);
	}
	}
	return false;
}

bool filter_rules_match(struct filter_rules *rules, const struct sonde_record *rec)
{
	for (size_t i = 0; i < rules->n; i++)
		if (!eval(&rules->rules[i], rec))
			return false;
	return true;
}

int filter_rule_format(const struct filter_rules *rules, size_t i, char *out, size_t outlen)
{
	const struct rule *r = &rules->rules[i];

	return snprintf(out, outlen, "%s%s%s", sonde_field_full_name(r->field), op_text(r->op), r->value);
}
