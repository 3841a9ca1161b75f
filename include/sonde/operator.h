/* Operators: image operators (selected by an OCI layer media type) and data
 * operators (offered to every run; each decides in instantiate whether it has
 * work). Every hook is optional. Operators never call each other: they meet in
 * DataSources and context variables. */
#ifndef SONDE_OPERATOR_H
#define SONDE_OPERATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <sonde/params.h>
#include <sonde/phase.h>

struct sonde_gadget_ctx;
struct sonde_layer;

enum sonde_operator_kind {
	SONDE_OP_DATA = 0,
	SONDE_OP_IMAGE = 1,
};

struct sonde_operator {
	const char *name;
	enum sonde_operator_kind kind;
	int priority;           /* data operators: instantiate order, ascending (a sonde_phase) */
	const char *media_type; /* image operators: the layer they handle */
	/* Per-run params declared before instantiation (prefix operator.<name>.). */
	const struct sonde_param_desc *instance_params;
	size_t ninstance_params;

	/* Creates the per-run state. Set *state to NULL to stay inactive.
	 * `layer` is the image layer for image operators, NULL for data operators. */
	int (*instantiate)(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state);
	int (*pre_start)(struct sonde_gadget_ctx *ctx, void *state);
	int (*start)(struct sonde_gadget_ctx *ctx, void *state);
	int (*stop)(struct sonde_gadget_ctx *ctx, void *state);
	int (*post_stop)(struct sonde_gadget_ctx *ctx, void *state);
	void (*close)(struct sonde_gadget_ctx *ctx, void *state);
};

/* Registry (process-wide), filled at start-up. Registering the same name
 * twice fails with -EEXIST. The first sonde_gadget_ctx_new freezes it (as
 * sonde_operator_registry_freeze does): registering afterwards fails with
 * -EBUSY, and the lookups below need no lock, from any thread. Before the
 * freeze, look up only from the thread that registers. */
int sonde_operator_register(const struct sonde_operator *op);
void sonde_operator_registry_freeze(void);
bool sonde_operator_registry_frozen(void);
/* Empties and unfreezes the registry: for tests and tools, only while no
 * gadget context exists. */
void sonde_operator_unregister_all(void);
/* Data operators sorted by (priority, name). */
size_t sonde_operator_count(void);
const struct sonde_operator *sonde_operator_at(size_t i);
const struct sonde_operator *sonde_operator_find(const char *name);
const struct sonde_operator *sonde_image_operator_for(const char *media_type);

/* Registers every operator built into libsonde (idempotent). */
void sonde_register_builtin_operators(void);

#endif
