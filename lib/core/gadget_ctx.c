/* The gadget context: owns one run's DataSources, params, variables and
 * operator instances, and drives the lifecycle. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sonde/gadget.h>
#include <sonde/log.h>
#include <sonde/mntns_filter.h>
#include <sonde/operator.h>

#include "event_loop.h"
#include "field_config.h"
#include "kvlist.h"

enum op_phase {
	PHASE_INSTANTIATED,
	PHASE_PRE_STARTED,
	PHASE_STARTED,
	PHASE_STOPPED,
};

struct op_instance {
	const struct sonde_operator *op;
	void *state;
	enum op_phase phase;
};

struct variable {
	char *name;
	void *value;
};

struct sonde_gadget_ctx {
	const struct sonde_gadget_image *image;
	struct sonde_config *config;
	struct sonde_params *params;
	struct sonde_ds **ds;
	size_t nds, ds_cap;
	struct op_instance *ops;
	size_t nops, ops_cap;
	struct variable *vars;
	size_t nvars, vars_cap;
	struct event_loop *loop;
	const struct sonde_mntns_filter *mntns_filter;
	struct sonde_log_target log;
	bool has_log;
	bool instantiated;
	atomic_bool running; /* may be asked from another thread */
	bool ran;            /* a context runs once: operators are not restartable */
};

struct sonde_gadget_ctx *sonde_gadget_ctx_new(const struct sonde_gadget_image *image)
{
	struct sonde_gadget_ctx *ctx;

	if (!image)
		return NULL;
	/* runs read the operator list without a lock from now on */
	sonde_operator_registry_freeze();
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return NULL;
	ctx->image = image;
	ctx->params = sonde_params_new();
	ctx->loop = event_loop_new(ctx);
	if (!ctx->params || !ctx->loop) {
		sonde_gadget_ctx_free(ctx);
		return NULL;
	}
	return ctx;
}

static void close_operators(struct sonde_gadget_ctx *ctx)
{
	while (ctx->nops > 0) {
		struct op_instance *oi = &ctx->ops[--ctx->nops];
		if (oi->op->close)
			oi->op->close(ctx, oi->state);
	}
}

/* The run's messages go to its own log while this thread works for it. */
static const struct sonde_log_target *bind_log(const struct sonde_gadget_ctx *ctx)
{
	return ctx->has_log ? sonde_log_bind(&ctx->log) : sonde_log_bind(NULL);
}

void sonde_gadget_set_log(struct sonde_gadget_ctx *ctx, sonde_log_fn fn, void *arg,
                          enum sonde_log_level level)
{
	ctx->log = (struct sonde_log_target){fn, arg, level};
	ctx->has_log = true;
}

const struct sonde_log_target *sonde_gadget_log(const struct sonde_gadget_ctx *ctx)
{
	return ctx->has_log ? &ctx->log : NULL;
}

void sonde_gadget_ctx_free(struct sonde_gadget_ctx *ctx)
{
	const struct sonde_log_target *prev;

	if (!ctx)
		return;
	prev = bind_log(ctx);
	close_operators(ctx);
	for (size_t i = 0; i < ctx->nds; i++)
		sonde_ds_free(ctx->ds[i]);
	free(ctx->ds);
	free(ctx->ops);
	for (size_t i = 0; i < ctx->nvars; i++)
		free(ctx->vars[i].name);
	free(ctx->vars);
	sonde_params_free(ctx->params);
	sonde_config_free(ctx->config);
	event_loop_free(ctx->loop);
	free(ctx);
	sonde_log_bind(prev);
}

/* ---- accessors ---- */

const struct sonde_gadget_image *sonde_gadget_image(const struct sonde_gadget_ctx *ctx)
{
	return ctx->image;
}

const char *sonde_gadget_name(const struct sonde_gadget_ctx *ctx)
{
	return ctx->image->name ? ctx->image->name : "gadget";
}

struct sonde_config *sonde_gadget_config(struct sonde_gadget_ctx *ctx)
{
	return ctx->config;
}

struct sonde_params *sonde_gadget_params(struct sonde_gadget_ctx *ctx)
{
	return ctx->params;
}

static void on_field_added(struct sonde_ds *ds, struct sonde_field *f, void *arg)
{
	struct sonde_gadget_ctx *ctx = arg;

	field_apply_config(ds, f, ctx->config);
}

struct sonde_ds *sonde_gadget_add_ds(struct sonde_gadget_ctx *ctx, const char *name, enum sonde_ds_type type)
{
	struct sonde_ds *ds;

	if (sonde_gadget_ds(ctx, name)) {
		sonde_err("datasource %s already exists", name);
		return NULL;
	}
	if (grow_array((void **)&ctx->ds, &ctx->ds_cap, ctx->nds + 1, sizeof(*ctx->ds)))
		return NULL;
	ds = sonde_ds_new(name, type);
	if (!ds)
		return NULL;
	ds_apply_config(ds, ctx->config);
	sonde_ds_on_field_added(ds, on_field_added, ctx);
	ctx->ds[ctx->nds++] = ds;
	return ds;
}

size_t sonde_gadget_nds(const struct sonde_gadget_ctx *ctx)
{
	return ctx->nds;
}

struct sonde_ds *sonde_gadget_ds_at(const struct sonde_gadget_ctx *ctx, size_t i)
{
	return i < ctx->nds ? ctx->ds[i] : NULL;
}

struct sonde_ds *sonde_gadget_ds(const struct sonde_gadget_ctx *ctx, const char *name)
{
	for (size_t i = 0; i < ctx->nds; i++)
		if (strcmp(sonde_ds_name(ctx->ds[i]), name) == 0)
			return ctx->ds[i];
	return NULL;
}

int sonde_gadget_set_var(struct sonde_gadget_ctx *ctx, const char *name, void *value)
{
	char *copy;

	for (size_t i = 0; i < ctx->nvars; i++) {
		if (strcmp(ctx->vars[i].name, name) == 0) {
			ctx->vars[i].value = value;
			return 0;
		}
	}
	if (grow_array((void **)&ctx->vars, &ctx->vars_cap, ctx->nvars + 1, sizeof(*ctx->vars)))
		return -ENOMEM;
	copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	ctx->vars[ctx->nvars++] = (struct variable){copy, value};
	return 0;
}

void *sonde_gadget_var(const struct sonde_gadget_ctx *ctx, const char *name)
{
	for (size_t i = 0; i < ctx->nvars; i++)
		if (strcmp(ctx->vars[i].name, name) == 0)
			return ctx->vars[i].value;
	return NULL;
}

void sonde_gadget_set_mntns_filter(struct sonde_gadget_ctx *ctx, const struct sonde_mntns_filter *filter)
{
	ctx->mntns_filter = filter;
}

const struct sonde_mntns_filter *sonde_gadget_mntns_filter(const struct sonde_gadget_ctx *ctx)
{
	return ctx->mntns_filter;
}

/* ---- instantiate ---- */

static int add_instance(struct sonde_gadget_ctx *ctx, const struct sonde_operator *op,
                        const struct sonde_layer *layer)
{
	void *state = NULL;
	int err;

	if (!op->instantiate)
		return 0;
	err = op->instantiate(ctx, layer, &state);
	if (err) {
		if (err > 0)
			err = -EINVAL;
		sonde_debug("operator %s: instantiate failed: %s", op->name, strerror(-err));
		return err;
	}
	if (!state)
		return 0; /* inactive for this gadget */
	if (grow_array((void **)&ctx->ops, &ctx->ops_cap, ctx->nops + 1, sizeof(*ctx->ops))) {
		if (op->close)
			op->close(ctx, state);
		return -ENOMEM;
	}
	ctx->ops[ctx->nops++] = (struct op_instance){op, state, PHASE_INSTANTIATED};
	return 0;
}

static int declare_instance_params(struct sonde_gadget_ctx *ctx, const struct sonde_operator *op)
{
	char prefix[128];

	snprintf(prefix, sizeof(prefix), "operator.%s.", op->name);
	for (size_t i = 0; i < op->ninstance_params; i++) {
		if (!sonde_params_add(ctx->params, prefix, &op->instance_params[i])) {
			sonde_err("operator %s: cannot declare param %s", op->name,
			          op->instance_params[i].key);
			return -EINVAL;
		}
	}
	return 0;
}

/* gadget.yaml `paramDefaults` override defaults of any declared param. */
static int apply_param_defaults(struct sonde_gadget_ctx *ctx)
{
	const struct sonde_config *defaults = sonde_config_get(ctx->config, "paramDefaults");

	for (size_t i = 0; i < sonde_config_len(defaults); i++) {
		const char *name = sonde_config_key_at(defaults, i); /* NULL in a sequence */
		const char *value = sonde_config_scalar(sonde_config_value_at(defaults, i));
		struct sonde_param *p = name ? sonde_params_find(ctx->params, name) : NULL;
		char err[256];

		if (!p || !value)
			continue;
		if (sonde_value_check(sonde_param_desc(p)->type_hint, value, err, sizeof(err))) {
			sonde_err("gadget.yaml paramDefaults.%s: %s", name, err);
			return -EINVAL;
		}
		sonde_param_set_default(p, value);
	}
	return 0;
}

static int instantiate(struct sonde_gadget_ctx *ctx)
{
	const struct sonde_gadget_image *img = ctx->image;
	char err[256];
	int r = 0;

	if (ctx->instantiated)
		return -EALREADY;
	ctx->instantiated = true;
	if (img->config_yaml && img->config_len)
		ctx->config = sonde_config_parse(img->config_yaml, img->config_len, err, sizeof(err));
	else
		ctx->config = sonde_config_new_map();
	if (!ctx->config) {
		sonde_err("gadget %s: invalid gadget.yaml: %s", sonde_gadget_name(ctx), err);
		return -EINVAL;
	}
	for (size_t i = 0; i < sonde_operator_count() && !r; i++)
		r = declare_instance_params(ctx, sonde_operator_at(i));
	for (size_t i = 0; i < img->nlayers && !r; i++) {
		const struct sonde_operator *op = sonde_image_operator_for(img->layers[i].media_type);
		if (!op) {
			sonde_warn("gadget %s: no operator for layer %s; skipped", sonde_gadget_name(ctx),
			           img->layers[i].media_type);
			continue;
		}
		r = declare_instance_params(ctx, op);
		if (!r)
			r = add_instance(ctx, op, &img->layers[i]);
	}
	for (size_t i = 0; i < sonde_operator_count() && !r; i++)
		r = add_instance(ctx, sonde_operator_at(i), NULL);
	if (!r)
		r = apply_param_defaults(ctx);
	if (r)
		close_operators(ctx);
	return r;
}

int sonde_gadget_instantiate(struct sonde_gadget_ctx *ctx)
{
	const struct sonde_log_target *prev = bind_log(ctx);
	int r = instantiate(ctx);

	sonde_log_bind(prev);
	return r;
}

/* ---- run ---- */

static int call_hook(struct sonde_gadget_ctx *ctx, struct op_instance *oi,
                     int (*hook)(struct sonde_gadget_ctx *, void *), const char *what)
{
	int err;

	if (!hook)
		return 0;
	err = hook(ctx, oi->state);
	if (err > 0)
		err = -EINVAL;
	if (err)
		sonde_debug("operator %s: %s failed: %s", oi->op->name, what, strerror(-err));
	return err;
}

static void stop_started(struct sonde_gadget_ctx *ctx)
{
	for (size_t i = ctx->nops; i-- > 0;) {
		struct op_instance *oi = &ctx->ops[i];
		if (oi->phase == PHASE_STARTED) {
			call_hook(ctx, oi, oi->op->stop, "stop");
			oi->phase = PHASE_STOPPED;
		}
	}
	for (size_t i = ctx->nops; i-- > 0;) {
		struct op_instance *oi = &ctx->ops[i];
		if (oi->phase == PHASE_STOPPED || oi->phase == PHASE_PRE_STARTED) {
			call_hook(ctx, oi, oi->op->post_stop, "post-stop");
			oi->phase = PHASE_INSTANTIATED;
		}
	}
}

static int run(struct sonde_gadget_ctx *ctx, int64_t timeout_ns)
{
	int err = 0;

	if (!ctx->instantiated && (err = instantiate(ctx)))
		return err;
	if (atomic_load(&ctx->running))
		return -EBUSY;
	if (ctx->ran) {
		sonde_err("gadget %s: a gadget context runs once", sonde_gadget_name(ctx));
		return -EALREADY;
	}
	ctx->ran = true;
	for (size_t i = 0; i < ctx->nops && !err; i++) {
		err = call_hook(ctx, &ctx->ops[i], ctx->ops[i].op->pre_start, "pre-start");
		if (!err)
			ctx->ops[i].phase = PHASE_PRE_STARTED;
	}
	for (size_t i = 0; i < ctx->nds && !err; i++)
		err = sonde_ds_seal(ctx->ds[i]);
	atomic_store(&ctx->running, !err);
	for (size_t i = 0; i < ctx->nops && !err; i++) {
		err = call_hook(ctx, &ctx->ops[i], ctx->ops[i].op->start, "start");
		if (!err)
			ctx->ops[i].phase = PHASE_STARTED;
	}
	if (!err) {
		sonde_info("gadget %s: running", sonde_gadget_name(ctx));
		err = event_loop_run(ctx->loop, timeout_ns);
	}
	stop_started(ctx);
	atomic_store(&ctx->running, false);
	return err;
}

int sonde_gadget_run(struct sonde_gadget_ctx *ctx, int64_t timeout_ns)
{
	const struct sonde_log_target *prev = bind_log(ctx);
	int err = run(ctx, timeout_ns);

	sonde_log_bind(prev);
	return err;
}

bool sonde_gadget_is_running(const struct sonde_gadget_ctx *ctx)
{
	return atomic_load(&ctx->running);
}

void sonde_gadget_cancel(struct sonde_gadget_ctx *ctx)
{
	event_loop_stop(ctx->loop);
}

int sonde_gadget_watch_fd(struct sonde_gadget_ctx *ctx, int fd, sonde_fd_fn fn, void *arg)
{
	return event_loop_watch(ctx->loop, fd, fn, arg);
}

int sonde_gadget_unwatch_fd(struct sonde_gadget_ctx *ctx, int fd)
{
	return event_loop_unwatch(ctx->loop, fd);
}

int sonde_gadget_add_timer(struct sonde_gadget_ctx *ctx, int64_t first_ns, int64_t interval_ns,
                           sonde_timer_fn fn, void *arg)
{
	return event_loop_add_timer(ctx->loop, first_ns, interval_ns, fn, arg);
}

int sonde_gadget_remove_timer(struct sonde_gadget_ctx *ctx, int id)
{
	return event_loop_remove_timer(ctx->loop, id);
}

int sonde_gadget_on_idle(struct sonde_gadget_ctx *ctx, sonde_idle_fn fn, void *arg)
{
	return event_loop_on_idle(ctx->loop, fn, arg);
}
