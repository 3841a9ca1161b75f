/* Container selection: parsing the selector flags once, matching containers
 * against them (see container_selector.h). Matching runs on every container
 * change, never per event, so it is plain string comparison. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/container_selector.h>

#include "core/trim.h"
#include "util/array.h"

/* The name lists, and where each one looks in the container record. */
enum { SEL_NAME, SEL_NAMESPACE, SEL_POD, SEL_K8S_CONTAINER, NLISTS };

static const struct {
	const char *flag;
	size_t member; /* offset of the char * member of struct sonde_container */
} lists[NLISTS] = {
    [SEL_NAME] = {"containername", offsetof(struct sonde_container, name)},
    [SEL_NAMESPACE] = {"k8s-namespace", offsetof(struct sonde_container, k8s_namespace)},
    [SEL_POD] = {"k8s-podname", offsetof(struct sonde_container, k8s_pod_name)},
    [SEL_K8S_CONTAINER] = {"k8s-containername", offsetof(struct sonde_container, k8s_container_name)},
};

struct name_list {
	char **names;
	bool *exclude;
	size_t n;
	bool has_include; /* then one of the plain entries must match */
};

struct label_term {
	char *key, *value; /* value "" = any value */
	bool negate;
};

struct sonde_container_selector {
	struct name_list lists[NLISTS];
	struct label_term *labels;
	size_t nlabels;
};

/* Options carry their size: members past it read as unset. */
#define OPT(o, m)                                                                                            \
	((o) && (o)->sz >= offsetof(struct sonde_container_selector_opts, m) + sizeof((o)->m) ? (o)->m : NULL)

void sonde_container_selector_free(struct sonde_container_selector *sel)
{
	if (!sel)
		return;
	for (size_t i = 0; i < NLISTS; i++) {
		for (size_t k = 0; k < sel->lists[i].n; k++)
			free(sel->lists[i].names[k]);
		free(sel->lists[i].names);
		free(sel->lists[i].exclude);
	}
	for (size_t i = 0; i < sel->nlabels; i++) {
		free(sel->labels[i].key);
		free(sel->labels[i].value);
	}
	free(sel->labels);
	free(sel);
}

static int add_name(struct name_list *l, const char *name, bool exclude)
{
	if (grow_array_by_len((void **)&l->names, l->n, sizeof(*l->names)) ||
	    grow_array_by_len((void **)&l->exclude, l->n, sizeof(*l->exclude)))
		return -ENOMEM;
	if (!(l->names[l->n] = strdup(name)))
		return -ENOMEM;
	l->exclude[l->n++] = exclude;
	l->has_include |= !exclude;
	return 0;
}

static int parse_name(struct name_list *l, const char *flag, char *entry, const char *whole, char *err,
                      size_t errlen)
{
	bool exclude = entry[0] == '!';
	char *name = exclude ? trim_blanks(entry + 1) : entry;

	if (!*name) {
		snprintf(err, errlen, "invalid --%s \"%s\": a name is missing after \"!\"", flag, whole);
		return -EINVAL;
	}
	return add_name(l, name, exclude);
}

static int add_label(struct sonde_container_selector *sel, const char *key, const char *value, bool negate)
{
	struct label_term *t;

	if (grow_array_by_len((void **)&sel->labels, sel->nlabels, sizeof(*sel->labels)))
		return -ENOMEM;
	t = &sel->labels[sel->nlabels];
	t->key = strdup(key);
	t->value = strdup(value);
	t->negate = negate;
	if (!t->key || !t->value) {
		free(t->key);
		free(t->value);
		return -ENOMEM;
	}
	sel->nlabels++;
	return 0;
}

/* key=value, key==value, key!=value or !key=value. */
static int parse_label(struct sonde_container_selector *sel, char *entry, const char *whole, char *err,
                       size_t errlen)
{
	char *eq = strchr(entry, '='), *key = entry, *value;
	bool negate = false;

	if (!eq) {
		snprintf(err, errlen,
		         "invalid --k8s-selector \"%s\": \"%s\" is not key=value (or key!=value)", whole,
		         entry);
		return -EINVAL;
	}
	value = eq + 1;
	if (*value == '=') /* k8s also spells equality == */
		value++;
	if (eq > entry && eq[-1] == '!') {
		negate = true;
		eq--;
	}
	*eq = 0;
	if (*key == '!' && !negate) {
		negate = true;
		key++;
	}
	key = trim_blanks(key);
	value = trim_blanks(value);
	if (!*key) {
		snprintf(err, errlen, "invalid --k8s-selector \"%s\": a label key is missing", whole);
		return -EINVAL;
	}
	if (strpbrk(key, "=!") || strpbrk(value, "=!")) {
		snprintf(err, errlen, "invalid --k8s-selector \"%s\": one term is key=value or key!=value",
		         whole);
		return -EINVAL;
	}
	return add_label(sel, key, value, negate);
}

/* Splits one flag's value on commas; list -1 is the label selector. Blank
 * entries ("a,,b", a trailing comma) are skipped. */
static int parse_list(struct sonde_container_selector *sel, int list, const char *value, char *err,
                      size_t errlen)
{
	char *copy, *tok, *save = NULL;
	int r = 0;

	if (!value || !*value)
		return 0;
	copy = strdup(value);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok && !r; tok = strtok_r(NULL, ",", &save)) {
		char *entry = trim_blanks(tok);

		if (!*entry)
			continue;
		if (list < 0)
			r = parse_label(sel, entry, value, err, errlen);
		else
			r = parse_name(&sel->lists[list], lists[list].flag, entry, value, err, errlen);
	}
	free(copy);
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return r;
}

int sonde_container_selector_parse(const struct sonde_container_selector_opts *opts,
                                   struct sonde_container_selector **out, char *err, size_t errlen)
{
	struct sonde_container_selector *sel = calloc(1, sizeof(*sel));
	const char *values[NLISTS] = {
	    [SEL_NAME] = OPT(opts, containername),
	    [SEL_NAMESPACE] = OPT(opts, k8s_namespace),
	    [SEL_POD] = OPT(opts, k8s_podname),
	    [SEL_K8S_CONTAINER] = OPT(opts, k8s_containername),
	};
	int r = 0;

	*out = NULL;
	if (!sel) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (int i = 0; i < NLISTS && !r; i++)
		r = parse_list(sel, i, values[i], err, errlen);
	if (!r)
		r = parse_list(sel, -1, OPT(opts, k8s_selector), err, errlen);
	if (r) {
		sonde_container_selector_free(sel);
		return r;
	}
	*out = sel;
	return 0;
}

bool sonde_container_selector_empty(const struct sonde_container_selector *sel)
{
	if (!sel)
		return true;
	for (size_t i = 0; i < NLISTS; i++)
		if (sel->lists[i].n)
			return false;
	return sel->nlabels == 0;
}

static bool list_matches(const struct name_list *l, const char *value)
{
	bool included = false;

	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->names[i], value))
			continue;
		if (l->exclude[i])
			return false;
		included = true;
	}
	return included || !l->has_include;
}

static bool label_holds(const struct label_term *t, const struct sonde_container *c)
{
	const char *v = sonde_container_label(c, t->key);
	bool equal = v && (!*t->value || strcmp(v, t->value) == 0);

	return t->negate ? !equal : equal;
}

bool sonde_container_selector_match(const struct sonde_container_selector *sel,
                                    const struct sonde_container *c)
{
	if (!sel)
		return true;
	for (size_t i = 0; i < NLISTS; i++) {
		const char *value = *(char *const *)((const char *)c + lists[i].member);

		if (!list_matches(&sel->lists[i], value ? value : ""))
			return false;
	}
	for (size_t i = 0; i < sel->nlabels; i++)
		if (!label_holds(&sel->labels[i], c))
			return false;
	return true;
}
