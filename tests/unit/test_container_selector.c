/* The container selector: parsing of the selector flags, matching of names
 * (alternatives and exclusions) and pod labels, and the errors bad input
 * gets. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/container_selector.h>

#include "testlib.h"

static struct sonde_container *pod_container(const char *id, const char *name, const char *ns,
                                             const char *pod, const char *k8s_name)
{
	struct sonde_container *c = sonde_container_new(id, "containerd");

	sonde_container_set_str(&c->name, name);
	sonde_container_set_str(&c->k8s_namespace, ns);
	sonde_container_set_str(&c->k8s_pod_name, pod);
	sonde_container_set_str(&c->k8s_container_name, k8s_name);
	return c;
}

static struct sonde_container_selector *parse(const struct sonde_container_selector_opts *o)
{
	struct sonde_container_selector *sel = NULL;
	char err[256] = "";

	if (sonde_container_selector_parse(o, &sel, err, sizeof(err))) {
		fprintf(stderr, "unexpected parse error: %s\n", err);
		test_failures++;
	}
	return sel;
}

static bool matches(const struct sonde_container_selector_opts *o, const struct sonde_container *c)
{
	struct sonde_container_selector *sel = parse(o);
	bool m = sonde_container_selector_match(sel, c);

	sonde_container_selector_free(sel);
	return m;
}

#define OPTS(...)                                                                                            \
	(&(struct sonde_container_selector_opts){.sz = sizeof(struct sonde_container_selector_opts),         \
	                                         __VA_ARGS__})

static void test_empty_selects_all(void)
{
	struct sonde_container *c = pod_container("a", "web", "default", "shop", "web");
	struct sonde_container_selector *sel = parse(OPTS(.containername = " , ,"));

	CHECK(sonde_container_selector_empty(NULL));
	CHECK(sonde_container_selector_match(NULL, c));
	CHECK(sonde_container_selector_empty(sel)); /* blank entries are no constraint */
	CHECK(sonde_container_selector_match(sel, c));
	sonde_container_selector_free(sel);
	sel = parse(NULL);
	CHECK(sel && sonde_container_selector_empty(sel));
	sonde_container_selector_free(sel);
	sel = parse(OPTS(.k8s_selector = "app=x"));
	CHECK(!sonde_container_selector_empty(sel));
	sonde_container_selector_free(sel);
	sonde_container_selector_free(NULL);
	sonde_container_free(c);
}

static void test_names(void)
{
	struct sonde_container *c = pod_container("a1", "web", "default", "shop-7d9", "nginx");

	CHECK(matches(OPTS(.containername = "web"), c));
	CHECK(matches(OPTS(.containername = "db, web"), c)); /* alternatives, blanks trimmed */
	CHECK(!matches(OPTS(.containername = "db"), c));
	CHECK(!matches(OPTS(.containername = "we"), c)); /* whole names only */
	CHECK(matches(OPTS(.k8s_namespace = "default"), c));
	CHECK(!matches(OPTS(.k8s_namespace = "kube-system"), c));
	CHECK(matches(OPTS(.k8s_podname = "shop-7d9"), c));
	CHECK(matches(OPTS(.k8s_containername = "nginx"), c));
	CHECK(!matches(OPTS(.k8s_containername = "web"), c)); /* the k8s name, not the runtime's */
	/* every list must hold */
	CHECK(
	    matches(OPTS(.containername = "web", .k8s_namespace = "default", .k8s_podname = "shop-7d9"), c));
	CHECK(!matches(OPTS(.containername = "web", .k8s_namespace = "other"), c));
	sonde_container_free(c);
}

static void test_exclusions(void)
{
	struct sonde_container *c = pod_container("a1", "web", "default", "shop", "nginx");
	struct sonde_container *plain = pod_container("b2", "b2", "", "", "");

	CHECK(!matches(OPTS(.containername = "!web"), c));
	CHECK(matches(OPTS(.containername = "!db"), c)); /* only exclusions: everything else */
	CHECK(matches(OPTS(.k8s_namespace = "!kube-system"), c));
	CHECK(matches(OPTS(.k8s_namespace = "!kube-system"), plain));
	CHECK(!matches(OPTS(.k8s_namespace = "!kube-system,!default"), c));
	/* an exclusion wins over an inclusion of the same name */
	CHECK(!matches(OPTS(.containername = "web,!web"), c));
	CHECK(!matches(OPTS(.containername = "! web"), c)); /* blank after ! trimmed */
	/* inclusions and exclusions together: one inclusion must match */
	CHECK(matches(OPTS(.containername = "web,db,!cache"), c));
	CHECK(!matches(OPTS(.containername = "db,!cache"), c));
	/* containers outside Kubernetes have empty k8s names */
	CHECK(!matches(OPTS(.k8s_namespace = "default"), plain));
	sonde_container_free(c);
	sonde_container_free(plain);
}

static void test_labels(void)
{
	struct sonde_container *c = pod_container("a1", "web", "default", "shop", "nginx");
	struct sonde_container *nolabels = pod_container("b2", "b2", "", "", "");

	sonde_container_set_label(c, "app", "shop");
	sonde_container_set_label(c, "tier", "frontend");
	CHECK(matches(OPTS(.k8s_selector = "app=shop"), c));
	CHECK(matches(OPTS(.k8s_selector = "app=shop,tier=frontend"), c));
	CHECK(matches(OPTS(.k8s_selector = " app = shop , tier==frontend "), c));
	CHECK(!matches(OPTS(.k8s_selector = "app=shop,tier=backend"), c)); /* all must hold */
	CHECK(!matches(OPTS(.k8s_selector = "app=sho"), c));
	CHECK(!matches(OPTS(.k8s_selector = "version=1"), c));
	CHECK(!matches(OPTS(.k8s_selector = "app=shop"), nolabels));
	/* != holds for another value and for an absent label */
	CHECK(!matches(OPTS(.k8s_selector = "app!=shop"), c));
	CHECK(matches(OPTS(.k8s_selector = "app!=db"), c));
	CHECK(matches(OPTS(.k8s_selector = "version!=1"), c));
	CHECK(matches(OPTS(.k8s_selector = "app!=shop"), nolabels));
	CHECK(!matches(OPTS(.k8s_selector = "!app=shop"), c)); /* upstream's spelling */
	CHECK(matches(OPTS(.k8s_selector = "!app=db"), c));
	/* an empty value: the label exists (or, negated, does not) */
	CHECK(matches(OPTS(.k8s_selector = "tier="), c));
	CHECK(!matches(OPTS(.k8s_selector = "tier="), nolabels));
	CHECK(!matches(OPTS(.k8s_selector = "tier!="), c));
	CHECK(matches(OPTS(.k8s_selector = "tier!="), nolabels));
	/* labels and names together */
	CHECK(matches(OPTS(.k8s_namespace = "default", .k8s_selector = "app=shop"), c));
	CHECK(!matches(OPTS(.k8s_namespace = "default", .k8s_selector = "app=shop"), nolabels));
	sonde_container_free(c);
	sonde_container_free(nolabels);
}

static void check_error(const struct sonde_container_selector_opts *o, const char *want1, const char *want2)
{
	struct sonde_container_selector *sel = (void *)1;
	char err[256] = "";

	CHECK_INT(sonde_container_selector_parse(o, &sel, err, sizeof(err)), -EINVAL);
	CHECK(sel == NULL);
	if (!strstr(err, want1) || !strstr(err, want2)) {
		fprintf(stderr, "error \"%s\" should name \"%s\" and \"%s\"\n", err, want1, want2);
		test_failures++;
	}
}

static void test_bad_input(void)
{
	check_error(OPTS(.k8s_selector = "app"), "--k8s-selector", "\"app\"");
	check_error(OPTS(.k8s_selector = "app=x,tier"), "--k8s-selector", "\"app=x,tier\"");
	check_error(OPTS(.k8s_selector = "=x"), "--k8s-selector", "key is missing");
	check_error(OPTS(.k8s_selector = " != x"), "--k8s-selector", "key is missing");
	check_error(OPTS(.k8s_selector = "!=x"), "--k8s-selector", "key is missing");
	check_error(OPTS(.k8s_selector = "a=b=c"), "--k8s-selector", "\"a=b=c\"");
	check_error(OPTS(.k8s_selector = "!a!=b"), "--k8s-selector", "\"!a!=b\"");
	check_error(OPTS(.containername = "web,!"), "--containername", "\"web,!\"");
	check_error(OPTS(.k8s_namespace = "! "), "--k8s-namespace", "missing after");
	check_error(OPTS(.k8s_podname = "!"), "--k8s-podname", "!");
	check_error(OPTS(.k8s_containername = "!"), "--k8s-containername", "!");
}

/* Callers built against a smaller options struct: members past sz are unset. */
static void test_opts_size(void)
{
	struct sonde_container *c = pod_container("a1", "web", "default", "shop", "nginx");
	struct sonde_container_selector_opts o = {
	    .sz = offsetof(struct sonde_container_selector_opts, k8s_podname),
	    .containername = "web",
	    .k8s_podname = "other",
	    .k8s_selector = "bad"};
	struct sonde_container_selector *sel = parse(&o);

	CHECK(sonde_container_selector_match(sel, c));
	sonde_container_selector_free(sel);
	sonde_container_free(c);
}

TEST_MAIN(TEST(test_empty_selects_all), TEST(test_names), TEST(test_exclusions), TEST(test_labels),
          TEST(test_bad_input), TEST(test_opts_size))
