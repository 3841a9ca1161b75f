/* Process-wide registry of image and data operators. */
#include <errno.h>
#include <string.h>

#include <sonde/log.h>
#include <sonde/operator.h>

#define MAX_OPERATORS 64

static const struct sonde_operator *data_ops[MAX_OPERATORS];
static size_t ndata_ops;
static const struct sonde_operator *image_ops[MAX_OPERATORS];
static size_t nimage_ops;

/* Data operators run in (priority, name) order. */
static int op_before(const struct sonde_operator *a, const struct sonde_operator *b)
{
	if (a->priority != b->priority)
		return a->priority < b->priority;
	return strcmp(a->name, b->name) < 0;
}

int sonde_operator_register(const struct sonde_operator *op)
{
	size_t pos;

	if (!op || !op->name || !*op->name)
		return -EINVAL;
	if (sonde_operator_find(op->name)) {
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

void sonde_operator_unregister_all(void)
{
	ndata_ops = 0;
	nimage_ops = 0;
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
	for (size_t i = 0; i < ndata_ops; i++)
		if (strcmp(data_ops[i]->name, name) == 0)
			return data_ops[i];
	for (size_t i = 0; i < nimage_ops; i++)
		if (strcmp(image_ops[i]->name, name) == 0)
			return image_ops[i];
	return NULL;
}

const struct sonde_operator *sonde_image_operator_for(const char *media_type)
{
	for (size_t i = 0; i < nimage_ops; i++)
		if (media_type && strcmp(image_ops[i]->media_type, media_type) == 0)
			return image_ops[i];
	return NULL;
}
