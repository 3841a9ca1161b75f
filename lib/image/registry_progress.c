/* One progress bar per blob on stderr, only when stderr is a terminal (a
 * log file or a test reading stderr gets nothing), redrawn at most every
 * 100 ms so a fast loopback transfer does not spend its time printing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/registry.h"
#include "util/clock.h"

struct registry_progress {
	char label[32];
	int64_t total, done;
	int64_t last_ms;
};

struct registry_progress *registry_progress_new(bool enabled, const char *verb, const char *digest,
                                                int64_t total)
{
	struct registry_progress *p;
	const char *hex = strchr(digest, ':');

	if (!enabled || !isatty(STDERR_FILENO))
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	snprintf(p->label, sizeof(p->label), "%s %.12s", verb, hex ? hex + 1 : digest);
	p->total = total;
	return p;
}

static void draw(struct registry_progress *p, const char *end)
{
	char bar[31];
	int fill = p->total > 0 ? (int)(p->done * 30 / p->total) : 30;

	if (fill > 30)
		fill = 30;
	memset(bar, '=', (size_t)fill);
	memset(bar + fill, ' ', (size_t)(30 - fill));
	bar[30] = 0;
	/* small blobs (configs, manifests) in KiB or bytes, not as "0.0/0.0 MiB" */
	double unit = p->total >= (1 << 20) ? (double)(1 << 20) : p->total >= 1024 ? 1024.0 : 1.0;
	const char *name = unit > 1024.0 ? "MiB" : unit > 1.0 ? "KiB" : "B";

	fprintf(stderr, "\r%s [%s] %.*f/%.*f %s%s", p->label, bar, unit > 1.0 ? 1 : 0, (double)p->done / unit,
	        unit > 1.0 ? 1 : 0, (double)p->total / unit, name, end);
	fflush(stderr);
}

void registry_progress_update(struct registry_progress *p, int64_t done)
{
	int64_t now;

	if (!p || done == p->done)
		return;
	p->done = done;
	now = util_now_ns() / 1000000;
	if (now - p->last_ms < 100)
		return;
	p->last_ms = now;
	draw(p, "");
}

void registry_progress_done(struct registry_progress *p, bool ok)
{
	if (!p)
		return;
	if (ok)
		p->done = p->total;
	draw(p, ok ? "\n" : " failed\n");
	free(p);
}
