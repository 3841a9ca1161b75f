/* Container selection flags (-c, --k8s-namespace, --k8s-podname,
 * --k8s-containername, --k8s-selector; also sent by remote clients to the
 * daemon) parsed and matched against a container whose names and pod labels
 * come from whoever created it.
 *
 * Input: lines. The first five are the flags' values in that order, the next
 * four the container's name, k8s namespace, pod and container name; every
 * further line is a label `key=value` (no `=`: an empty value). */
#include <string.h>

#include <sonde/container_selector.h>

#include "fuzz_input.h"

#define NFLAGS 5
#define NNAMES 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char *flags[NFLAGS] = {NULL};
	struct sonde_container_selector_opts opts = {.sz = sizeof(opts)};
	struct sonde_container_selector *sel;
	struct sonde_container *c;
	char err[256], *text, *line;
	size_t i = 0;

	fuzz_init_once();
	text = fuzz_cstring(data, len);
	c = text ? sonde_container_new("fuzz", "containerd") : NULL;
	if (!c) {
		free(text);
		return 0;
	}
	/* strsep keeps empty lines: an empty flag value is a case of its own */
	for (char *rest = text; (line = strsep(&rest, "\n")) != NULL; i++) {
		if (i < NFLAGS) {
			flags[i] = line;
		} else if (i < NFLAGS + NNAMES) {
			char **member[NNAMES] = {&c->name, &c->k8s_namespace, &c->k8s_pod_name,
			                         &c->k8s_container_name};

			sonde_container_set_str(member[i - NFLAGS], line);
		} else {
			char *eq = strchr(line, '=');

			if (eq)
				*eq++ = 0;
			sonde_container_set_label(c, line, eq ? eq : "");
		}
	}
	opts.containername = flags[0];
	opts.k8s_namespace = flags[1];
	opts.k8s_podname = flags[2];
	opts.k8s_containername = flags[3];
	opts.k8s_selector = flags[4];
	err[0] = 0;
	if (sonde_container_selector_parse(&opts, &sel, err, sizeof(err)) == 0) {
		FUZZ_CHECK(sel != NULL);
		sonde_container_selector_empty(sel);
		sonde_container_selector_match(sel, c);
	} else {
		/* a refusal always says why */
		FUZZ_CHECK(sel == NULL && err[0] != 0);
	}
	sonde_container_selector_free(sel);
	sonde_container_free(c);
	free(text);
	return 0;
}
