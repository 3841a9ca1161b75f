/* sonde image export/import of a 5 MiB image (issue 10 target: < 100 ms
 * each). An image with a 5 MiB eBPF layer (random bytes: nothing loads it)
 * is assembled and tagged in a temp store; then, each run timed alone:
 *   export        store → archive (read + verify blobs, write the tar, fsync)
 *   import fresh  archive → an empty store (hash, write, fsync, rename blobs)
 *   import again  archive → the same store (every blob exists: hash only)
 * Prints one Markdown row per operation: median and best of the runs.
 *
 *   bench_image_archive [--runs N] [--size BYTES]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sonde/image_archive.h>

#include "image/build.h"
#include "image/oci.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void row(const char *what, double *ms, int n, size_t bytes)
{
	qsort(ms, (size_t)n, sizeof(*ms), cmp_double);
	printf("| %s | %.1f ms | %.1f ms | %.0f MiB/s |\n", what, ms[n / 2], ms[0],
	       (double)bytes / (1 << 20) / (ms[n / 2] / 1e3));
}

static void rm_rf(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

int main(int argc, char **argv)
{
	char tmp[] = "/var/tmp/sonde-bench-archive.XXXXXX", src[256], dst[256], tar[256];
	const char *ref = "localhost/bench/big:latest";
	size_t size = 5u << 20;
	int runs = 9;
	double *ms;
	unsigned char *obj;
	struct build_object o = {.arch = "amd64"};
	struct build_inputs in = {.objects = &o, .nobjects = 1, .created = "2026-01-01T00:00:00Z"};
	struct build_image img;
	struct oci_store *s;
	struct stat st;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--size") && i + 1 < argc)
			size = strtoull(argv[++i], NULL, 0);
		else {
			fprintf(stderr, "usage: %s [--runs N] [--size BYTES]\n", argv[0]);
			return 2;
		}
	}
	if (runs < 1 || !mkdtemp(tmp))
		return 1;
	ms = calloc((size_t)runs, sizeof(*ms));
	obj = malloc(size);
	if (!ms || !obj)
		return 1;
	srand(1);
	for (size_t i = 0; i < size; i++)
		obj[i] = (unsigned char)rand();
	o.data = obj;
	o.len = size;
	snprintf(src, sizeof(src), "%s/src", tmp);
	snprintf(dst, sizeof(dst), "%s/dst", tmp);
	snprintf(tar, sizeof(tar), "%s/image.tar", tmp);
	if (build_image_assemble(&in, &img) < 0 || oci_store_open(src, 0, &s) < 0 ||
	    build_image_put(s, &img) < 0 || oci_store_tag(s, ref, &img.index) < 0) {
		fprintf(stderr, "setting up the image failed\n");
		return 1;
	}
	oci_store_close(s);
	build_image_clear(&img);

	printf(
	    "| operation (%.1f MiB image, %d runs, %s) | median | best | throughput |\n|---|---|---|---|\n",
	    (double)size / (1 << 20), runs, tmp);
	for (int i = 0; i < runs; i++) {
		double t0 = now_ms();

		if (sonde_image_export(src, &ref, 1, tar) < 0)
			return 1;
		ms[i] = now_ms() - t0;
	}
	stat(tar, &st);
	row("export", ms, runs, (size_t)st.st_size);
	for (int i = 0; i < runs; i++) {
		double t0;

		rm_rf(dst);
		t0 = now_ms();
		if (sonde_image_import(dst, tar, NULL, NULL) < 0)
			return 1;
		ms[i] = now_ms() - t0;
	}
	row("import into an empty store", ms, runs, (size_t)st.st_size);
	for (int i = 0; i < runs; i++) {
		double t0 = now_ms();

		if (sonde_image_import(dst, tar, NULL, NULL) < 0)
			return 1;
		ms[i] = now_ms() - t0;
	}
	row("import, blobs already there", ms, runs, (size_t)st.st_size);
	rm_rf(tmp);
	free(ms);
	free(obj);
	return 0;
}
