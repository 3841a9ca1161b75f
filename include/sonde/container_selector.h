/* Container selection (upstream's ContainerSelector, spec §8.4): which
 * containers a run traces, or `sonde list-containers` lists.
 *
 * Every list is comma-separated, blanks around entries ignored:
 *  - name lists (container name, k8s namespace, pod, k8s container name):
 *    plain entries are alternatives (one must equal the value), entries
 *    starting with `!` exclude that value; an empty list does not constrain.
 *  - pod labels (k8s-selector): `key=value` terms that must all hold;
 *    `key!=value` (or upstream's `!key=value`) holds when the label is absent
 *    or has another value. An empty value matches any value: `key=` needs the
 *    label, `key!=` its absence.
 * A container matches when every list holds. */
#ifndef SONDE_CONTAINER_SELECTOR_H
#define SONDE_CONTAINER_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>

#include <sonde/containers.h>

struct sonde_container_selector_opts {
	size_t sz;
	const char *containername;     /* runtime.containerName (-c, --runtime-containername) */
	const char *k8s_namespace;     /* k8s.namespace */
	const char *k8s_podname;       /* k8s.podName */
	const char *k8s_containername; /* k8s.containerName */
	const char *k8s_selector;      /* pod labels */
};

struct sonde_container_selector;

/* NULL opts (or all lists empty) selects every container. Bad input gives
 * -EINVAL and one line in err naming the flag and the value. */
int sonde_container_selector_parse(const struct sonde_container_selector_opts *opts,
                                   struct sonde_container_selector **out, char *err, size_t errlen);
/* NULL is a no-op. */
void sonde_container_selector_free(struct sonde_container_selector *sel);
/* True when nothing constrains the selection (NULL included). */
bool sonde_container_selector_empty(const struct sonde_container_selector *sel);
/* Pure metadata: callers decide about sandboxes themselves. NULL sel matches all. */
bool sonde_container_selector_match(const struct sonde_container_selector *sel,
                                    const struct sonde_container *c);

#endif
