/* Process-wide registry of image and data operators.
 *
 * Written only at start-up: the first gadget context freezes it, and from then
 * on every run reads it without a lock (the freeze is a release store that
 * each reader's acquire load pairs with). Registering after the freeze fails
 * with -EBUSY: a run must never see the operator list change under it. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include <sonde/log.h>
#include <sonde/operator.h>

#define MAX_OPERATORS 64

static const struct sonde_operator *data_ops[MAX_OPERATORS];
static size_t ndata_ops;
static const struct sonde_operator *image_ops[MAX_OPERATORS];
static size_t nimage_ops;
/* serialises registrations against each other and against the freeze */
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool frozen;

/* Data operators run in (priority, name) order. */
static int op_before(const struct sonde_operator *a, const struct sonde_operator *b)
{
	if (a->priority != b->priority)
		return a->priority < b->priority;
	return strcmp(a->name, b->name) < 0;
}

static const struct sonde_operator *find(const char *name)
{
	for (size_t i = 0; i < ndata_ops; i++)
		if (strcmp(data_ops[i]->name, name) == 0)
			return data_ops[i];
	for (size_t i = 0; i < nimage_ops; i++)
		if (strcmp(image_ops[i]->name, name) == 0)
			return image_ops[i];
	return NULL;
}

static int add(const struct sonde_operator *op)
{
	size_t pos;

	if (atomic_load_explicit(&frozen, memory_order_relaxed)) {
		sonde_err("operator %s: the operator registry is frozen once a gadget context exists; "
		          "register operators at start-up",
		          op->name);
		return -EBUSY;
	}
	if (find(op->name)) {
		sonde_err("operator %s is already registered", op->name);
		return -EEXIST;
	}
	if (op->kind == SONDE_OP_IMAGE) {
		if (!op->media_type || nimage_ops == MAX_OPERATORS)
			return -EINVAL;
		image_ops[nimage_ops++] = op;
		return 0;
	}
	if (ndata_ops == MAX_OPERATORS)
		return -ENOSPC;
	pos = ndata_ops;
	while (pos > 0 && op_before(op, data_ops[pos - 1]))
		pos--;
	memmove(&data_ops[pos + 1], &data_ops[pos], (ndata_ops - pos) * sizeof(*data_ops));
	data_ops[pos] = op;
	ndata_ops++;
	return 0;
}

int sonde_operator_register(const struct sonde_operator *op)
{
	int err;

	if (!op || !op->name || !*op->name)
		return -EINVAL;
	pthread_mutex_lock(&write_lock);
	err = add(op);
	pthread_mutex_unlock(&write_lock);
	return err;
}

void sonde_operator_registry_freeze(void)
{
	if (atomic_load_explicit(&frozen, memory_order_acquire))
		return;
	pthread_mutex_lock(&write_lock);
	atomic_store_explicit(&frozen, true, memory_order_release);
	pthread_mutex_unlock(&write_lock);
}

bool sonde_operator_registry_frozen(void)
{
	return atomic_load_explicit(&frozen, memory_order_acquire);
}

void sonde_operator_unregister_all(void)
{
	pthread_mutex_lock(&write_lock);
	ndata_ops = 0;
	nimage_ops = 0;
	atomic_store_explicit(&frozen, false, memory_order_release);
	pthread_mutex_unlock(&write_lock);
}

size_t sonde_operator_count(void)
{
	return ndata_ops;
}

const struct sonde_operator *sonde_operator_at(size_t i)
{
	return i < ndata_ops ? data_ops[i] : NULL;
}

const struct sonde_operator *sonde_operator_find(const char *name)
{
	return name ? find(name) : NULL;
}

const struct sonde_operator *sonde_image_operator_for(const char *media_type)
{
	for (size_t i = 0; i < nimage_ops; i++)
		if (media_type && strcmp(image_ops[i]->media_type, media_type) == 0)
			return image_ops[i];
	return NULL;
}
