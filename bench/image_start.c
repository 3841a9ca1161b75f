/* Start-up of a gadget from the local image store against the same gadget
 * built in: `sonde run REF --store DIR` vs `sonde run trace_open`, each timed
 * from fork to its "running" line (every program attached), alternating,
 * N runs each. The image is trace_open's object and gadget.yaml put into a
 * temp store as `ig image build` lays them out (index → manifest → config +
 * layer), so the difference is what reading and verifying the store costs.
 *
 *   build/bench/image_start [N]        (root; N = 21 by default)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sonde/image.h>

#include "image/oci.h"
#include "util/file.h"

#define REF "localhost:5000/bench/trace_open:v1"

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int put_image(const char *dir)
{
	struct oci_store *s;
	char *obj, *yaml;
	size_t olen, ylen;
	if (oci_store_open(dir, 0, &s) || util_read_file(BENCH_OBJ, OCI_MAX_BLOB, &obj, &olen) ||
	    util_read_file(BENCH_YAML, OCI_MAX_DOCUMENT, &yaml, &ylen))
		return -1;
	struct oci_manifest m = {.schema_version = 2};
	struct oci_descriptor layer = {.media_type = GADGET_MT_EBPF, .size = (int64_t)olen};
	strcpy(m.media_type, OCI_MT_MANIFEST);
	strcpy(m.artifact_type, GADGET_ARTIFACT_TYPE);
	strcpy(m.config.media_type, GADGET_MT_CONFIG);
	m.config.size = (int64_t)ylen;
	m.layers = &layer;
	m.nlayers = 1;
	if (oci_blob_put(s, yaml, ylen, m.config.digest) || oci_blob_put(s, obj, olen, layer.digest))
		return -1;
	json_t *j = oci_manifest_to_json(&m);
	size_t len;
	char *text = oci_json_dump(j, &len);
	struct oci_descriptor md = {.media_type = OCI_MT_MANIFEST, .size = (int64_t)len};
	strcpy(md.arch, oci_host_arch());
	strcpy(md.os, "linux");
	if (oci_blob_put(s, text, len, md.digest))
		return -1;
	free(text);
	json_decref(j);
	struct oci_index idx = {.schema_version = 2, .manifests = &md, .nmanifests = 1};
	strcpy(idx.media_type, OCI_MT_INDEX);
	j = oci_index_to_json(&idx);
	text = oci_json_dump(j, &len);
	struct oci_descriptor id = {.media_type = OCI_MT_INDEX, .size = (int64_t)len};
	if (oci_blob_put(s, text, len, id.digest) || oci_store_tag(s, REF, &id))
		return -1;
	free(text);
	json_decref(j);
	free(obj);
	free(yaml);
	oci_store_close(s);
	return 0;
}

/* ms from fork to "running" on stderr; -1 on failure. */
static double start_ms(const char *const *argv)
{
	int p[2];
	if (pipe(p))
		return -1;
	int64_t t0 = now_ns();
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(p[1], 2);
		close(p[0]);
		execv(BENCH_SONDE, (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	char buf[65536];
	size_t used = 0;
	double ms = -1;
	struct pollfd pfd = {p[0], POLLIN, 0};
	while (poll(&pfd, 1, 10000) > 0) {
		ssize_t n = read(p[0], buf + used, sizeof(buf) - 1 - used);
		if (n <= 0)
			break;
		used += (size_t)n;
		buf[used] = '\0';
		if (strstr(buf, "running")) {
			ms = (double)(now_ns() - t0) / 1e6;
			break;
		}
		if (used > sizeof(buf) - 4096)
			used = 0;
	}
	kill(pid, SIGINT);
	/* Drain so sonde never blocks on a full pipe while stopping. */
	while (read(p[0], buf, sizeof(buf)) > 0)
		;
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	return ms;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 21;
	char dir[] = "/tmp/sonde-bench-image-XXXXXX", store[64], cmd[128];
	if (geteuid() != 0) {
		fprintf(stderr, "image_start: needs root\n");
		return 1;
	}
	if (n < 1 || !mkdtemp(dir))
		return 1;
	snprintf(store, sizeof(store), "%s/store", dir);
	if (put_image(store)) {
		fprintf(stderr, "image_start: cannot write the image\n");
		return 1;
	}
	const char *builtin[] = {"sonde", "run", "trace_open", "--host", "-v", "-o", "none", NULL};
	const char *image[] = {"sonde", "run", REF, "--store", store, "--pull", "never", "--host", "-v", "-o", "none",
	                       NULL};
	double *b = calloc((size_t)n, sizeof(double)), *im = calloc((size_t)n, sizeof(double));
	start_ms(builtin); /* warms the CO-RE BTF cache and the page cache */
	start_ms(image);
	for (int i = 0; i < n; i++) {
		b[i] = start_ms(builtin);
		im[i] = start_ms(image);
		if (b[i] < 0 || im[i] < 0) {
			fprintf(stderr, "image_start: a run did not start\n");
			return 1;
		}
	}
	qsort(b, (size_t)n, sizeof(double), cmp);
	qsort(im, (size_t)n, sizeof(double), cmp);
	printf("| gadget source (trace_open, %d runs each, alternating) | median | best | p90 |\n", n);
	printf("|---|---|---|---|\n");
	printf("| built-in | %.1f ms | %.1f ms | %.1f ms |\n", b[n / 2], b[0], b[n * 9 / 10]);
	printf("| image in the store (`sonde run REF --store DIR`) | %.1f ms | %.1f ms | %.1f ms |\n", im[n / 2], im[0],
	       im[n * 9 / 10]);
	printf("| store / built-in | %.2fx | %.2fx | |\n", im[n / 2] / b[n / 2], im[0] / b[0]);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "image_start: cannot remove %s\n", dir);
	free(b);
	free(im);
	return 0;
}
