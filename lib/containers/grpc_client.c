/* Unary gRPC calls on gRPC core: one channel and one pluck completion queue
 * per endpoint, one 6-op batch per call (see grpc_client.h).
 *
 * gRPC core is loaded with dlopen on the first call, not linked: it brings
 * about fifty libraries (abseil, OpenSSL, c-ares) that would add ~8 MiB of
 * RSS and ~8 ms to every start of sonde, most of which never meet a
 * containerd socket. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <sonde/log.h>

#include "containers/grpc_client.h"
#include "util/clock.h"

#define DEFAULT_TIMEOUT_MS 500
#define DEFAULT_BACKOFF_MS 5000
#define MAX_METADATA       4

/* Every gRPC core function this file calls, resolved from the library. */
#define GRPC_FUNCTIONS(X)                                                                                    \
	X(grpc_init)                                                                                         \
	X(grpc_shutdown)                                                                                     \
	X(grpc_insecure_credentials_create)                                                                  \
	X(grpc_channel_credentials_release)                                                                  \
	X(grpc_channel_create)                                                                               \
	X(grpc_channel_destroy)                                                                              \
	X(grpc_channel_create_call)                                                                          \
	X(grpc_completion_queue_create_for_pluck)                                                            \
	X(grpc_completion_queue_pluck)                                                                       \
	X(grpc_completion_queue_shutdown)                                                                    \
	X(grpc_completion_queue_destroy)                                                                     \
	X(grpc_call_start_batch)                                                                             \
	X(grpc_call_cancel)                                                                                  \
	X(grpc_call_unref)                                                                                   \
	X(grpc_metadata_array_init)                                                                          \
	X(grpc_metadata_array_destroy)                                                                       \
	X(grpc_raw_byte_buffer_create)                                                                       \
	X(grpc_byte_buffer_destroy)                                                                          \
	X(grpc_byte_buffer_reader_init)                                                                      \
	X(grpc_byte_buffer_reader_readall)                                                                   \
	X(grpc_byte_buffer_reader_destroy)                                                                   \
	X(grpc_empty_slice)                                                                                  \
	X(grpc_slice_malloc)                                                                                 \
	X(grpc_slice_from_copied_string)                                                                     \
	X(grpc_slice_unref)                                                                                  \
	X(grpc_slice_to_c_string)                                                                            \
	X(gpr_free)                                                                                          \
	X(gpr_now)                                                                                           \
	X(gpr_inf_future)                                                                                    \
	X(gpr_time_add)                                                                                      \
	X(gpr_time_from_millis)

static struct {
#define GRPC_MEMBER(fn) __typeof__(fn) *fn;
	GRPC_FUNCTIONS(GRPC_MEMBER)
#undef GRPC_MEMBER
} grpc;

/* 1 loaded, -1 unavailable; set once (pthread_once), read after it. Never
 * unloaded: gRPC keeps threads. */
static int grpc_loaded;
static pthread_once_t grpc_once = PTHREAD_ONCE_INIT;

static void load_grpc_once(void)
{
	void *h;

	grpc_loaded = -1;
	h = dlopen(SONDE_GRPC_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		sonde_warn("containers: cannot load gRPC core (%s): metadata from runtime APIs is missing",
		           dlerror());
		return;
	}
#define GRPC_RESOLVE(fn)                                                                                     \
	if (!(grpc.fn = (__typeof__(fn) *)dlsym(h, #fn))) {                                                  \
		sonde_warn("containers: %s lacks %s: metadata from runtime APIs is missing",                 \
		           SONDE_GRPC_SONAME, #fn);                                                          \
		return;                                                                                      \
	}
	GRPC_FUNCTIONS(GRPC_RESOLVE)
#undef GRPC_RESOLVE
	grpc_loaded = 1;
}

/* Any thread may be first. */
static int load_grpc(void)
{
	pthread_once(&grpc_once, load_grpc_once);
	return grpc_loaded > 0 ? 0 : -ENOSYS;
}

/* The channel, the queue and the outage state are the endpoint's: a call
 * holds `lock` (calls on one endpoint take turns; each pluck waits for its
 * own tag, the endpoint). Different endpoints run in parallel. */
struct grpc_endpoint {
	pthread_mutex_t lock;
	char *path, *target, *what;
	int timeout_ms, backoff_ms;
	grpc_channel *channel;
	grpc_completion_queue *cq;
	int64_t down_until_ns; /* CLOCK_MONOTONIC */
	bool warned;           /* one warning per outage */
};

struct grpc_endpoint *grpc_endpoint_new(const char *socket_path, const char *what,
                                        const struct grpc_endpoint_opts *opts)
{
	struct grpc_endpoint *ep = calloc(1, sizeof(*ep));

	if (!ep)
		return NULL;
	pthread_mutex_init(&ep->lock, NULL);
	ep->timeout_ms = DEFAULT_TIMEOUT_MS;
	ep->backoff_ms = DEFAULT_BACKOFF_MS;
	if (opts && opts->sz >= sizeof(*opts)) {
		ep->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : ep->timeout_ms;
		ep->backoff_ms = opts->backoff_ms > 0 ? opts->backoff_ms : ep->backoff_ms;
	}
	ep->path = strdup(socket_path);
	ep->what = strdup(what);
	if (!ep->path || !ep->what || asprintf(&ep->target, "unix:%s", socket_path) < 0) {
		ep->target = NULL;
		grpc_endpoint_free(ep);
		return NULL;
	}
	return ep;
}

static void disconnect(struct grpc_endpoint *ep)
{
	if (ep->channel)
		grpc.grpc_channel_destroy(ep->channel);
	if (ep->cq) {
		grpc.grpc_completion_queue_shutdown(ep->cq);
		while (grpc.grpc_completion_queue_pluck(ep->cq, NULL,
		                                        grpc.gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL)
		           .type != GRPC_QUEUE_SHUTDOWN)
			;
		grpc.grpc_completion_queue_destroy(ep->cq);
	}
	if (ep->channel || ep->cq)
		grpc.grpc_shutdown(); /* one grpc_init per connected endpoint */
	ep->channel = NULL;
	ep->cq = NULL;
}

void grpc_endpoint_free(struct grpc_endpoint *ep)
{
	if (!ep)
		return;
	disconnect(ep);
	pthread_mutex_destroy(&ep->lock);
	free(ep->path);
	free(ep->target);
	free(ep->what);
	free(ep);
}

const char *grpc_endpoint_path(const struct grpc_endpoint *ep)
{
	return ep->path;
}

/* gRPC (and its threads) start only when a runtime is really asked. */
static int connect_lazily(struct grpc_endpoint *ep)
{
	grpc_arg args[] = {
	    {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, .value.integer = 100},
	    {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, .value.integer = 100},
	    /* a runtime started after Sonde is found within a second */
	    {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, .value.integer = 1000},
	    {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_ENABLE_RETRIES, .value.integer = 0},
	};
	grpc_channel_args chargs = {.num_args = sizeof(args) / sizeof(args[0]), .args = args};
	grpc_channel_credentials *creds;

	if (ep->channel)
		return 0;
	if (load_grpc())
		return -ENOSYS;
	grpc.grpc_init();
	creds = grpc.grpc_insecure_credentials_create();
	ep->channel = grpc.grpc_channel_create(ep->target, creds, &chargs);
	grpc.grpc_channel_credentials_release(creds);
	ep->cq = grpc.grpc_completion_queue_create_for_pluck(NULL);
	if (!ep->channel || !ep->cq) {
		disconnect(ep);
		return -ENOMEM;
	}
	return 0;
}

static int status_to_errno(grpc_status_code st)
{
	switch (st) {
	case GRPC_STATUS_OK:
		return 0;
	case GRPC_STATUS_NOT_FOUND:
		return -ENOENT;
	case GRPC_STATUS_DEADLINE_EXCEEDED:
		return -ETIMEDOUT;
	case GRPC_STATUS_UNAVAILABLE:
		return -ECONNREFUSED;
	default:
		return -EIO;
	}
}

static int unpack(grpc_byte_buffer *buf, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
	grpc_byte_buffer_reader rd;
	grpc_slice all;

	if (!buf || !grpc.grpc_byte_buffer_reader_init(&rd, buf))
		return -EPROTO;
	all = grpc.grpc_byte_buffer_reader_readall(&rd);
	grpc.grpc_byte_buffer_reader_destroy(&rd);
	*out = protobuf_c_message_unpack(desc, NULL, GRPC_SLICE_LENGTH(all), GRPC_SLICE_START_PTR(all));
	grpc.grpc_slice_unref(all);
	return *out ? 0 : -EPROTO;
}

static grpc_byte_buffer *pack(const ProtobufCMessage *req)
{
	size_t n = protobuf_c_message_get_packed_size(req);
	grpc_slice s = grpc.grpc_slice_malloc(n);
	grpc_byte_buffer *bb;

	protobuf_c_message_pack(req, GRPC_SLICE_START_PTR(s));
	bb = grpc.grpc_raw_byte_buffer_create(&s, 1);
	grpc.grpc_slice_unref(s);
	return bb;
}

static int call_locked(struct grpc_endpoint *ep, const char *method, const char *const *metadata,
                       const ProtobufCMessage *req, const ProtobufCMessageDescriptor *resp_desc,
                       ProtobufCMessage **resp)
{
	gpr_timespec deadline;
	grpc_metadata md[MAX_METADATA];
	grpc_metadata_array init_md, trail_md;
	grpc_byte_buffer *send, *recv = NULL;
	grpc_status_code status = GRPC_STATUS_UNKNOWN;
	grpc_slice details, mslice;
	grpc_call *call;
	grpc_op ops[6];
	size_t nmd = 0;
	grpc_event ev;
	int err;

	*resp = NULL;
	if (access(ep->path, F_OK))
		return -ENOENT; /* that runtime is not running here: not an outage */
	if (util_now_ns() < ep->down_until_ns)
		return -EAGAIN;
	err = connect_lazily(ep);
	if (err)
		return err;
	details = grpc.grpc_empty_slice();
	for (; metadata && metadata[0] && metadata[1] && nmd < MAX_METADATA; metadata += 2, nmd++)
		md[nmd] = (grpc_metadata){.key = grpc.grpc_slice_from_copied_string(metadata[0]),
		                          .value = grpc.grpc_slice_from_copied_string(metadata[1])};
	deadline = grpc.gpr_time_add(grpc.gpr_now(GPR_CLOCK_MONOTONIC),
	                             grpc.gpr_time_from_millis(ep->timeout_ms, GPR_TIMESPAN));
	/* copied, not static: gRPC's header compression keeps a static slice
	 * beyond the call, and a caller's method string may not outlive it */
	mslice = grpc.grpc_slice_from_copied_string(method);
	call = grpc.grpc_channel_create_call(ep->channel, NULL, GRPC_PROPAGATE_DEFAULTS, ep->cq, mslice, NULL,
	                                     deadline, NULL);
	send = pack(req);
	grpc.grpc_metadata_array_init(&init_md);
	grpc.grpc_metadata_array_init(&trail_md);
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[0].data.send_initial_metadata.count = nmd;
	ops[0].data.send_initial_metadata.metadata = nmd ? md : NULL;
	ops[1].op = GRPC_OP_SEND_MESSAGE;
	ops[1].data.send_message.send_message = send;
	ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
	ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[3].data.recv_initial_metadata.recv_initial_metadata = &init_md;
	ops[4].op = GRPC_OP_RECV_MESSAGE;
	ops[4].data.recv_message.recv_message = &recv;
	ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[5].data.recv_status_on_client.status = &status;
	ops[5].data.recv_status_on_client.status_details = &details;
	ops[5].data.recv_status_on_client.trailing_metadata = &trail_md;
	if (!call || !send || grpc.grpc_call_start_batch(call, ops, 6, ep, NULL) != GRPC_CALL_OK) {
		err = -EIO;
	} else {
		/* the call's own deadline ends the batch; wait a little past it */
		ev = grpc.grpc_completion_queue_pluck(
		    ep->cq, ep, grpc.gpr_time_add(deadline, grpc.gpr_time_from_millis(1000, GPR_TIMESPAN)),
		    NULL);
		if (ev.type != GRPC_OP_COMPLETE) {
			grpc.grpc_call_cancel(call, NULL);
			grpc.grpc_completion_queue_pluck(ep->cq, ep, grpc.gpr_inf_future(GPR_CLOCK_MONOTONIC),
			                                 NULL);
			status = GRPC_STATUS_DEADLINE_EXCEEDED;
		}
		err = status_to_errno(status);
		if (!err)
			err = unpack(recv, resp_desc, resp);
	}
	if (err == -ETIMEDOUT || err == -ECONNREFUSED) {
		ep->down_until_ns = util_now_ns() + (int64_t)ep->backoff_ms * 1000000LL;
		if (!ep->warned)
			sonde_warn("containers: %s at %s %s; container metadata from it is missing for now",
			           ep->what, ep->path,
			           err == -ETIMEDOUT ? "does not answer" : "is unreachable");
		ep->warned = true;
	} else if (err == 0) {
		ep->warned = false;
	} else if (err != -ENOENT) {
		char *d = grpc.grpc_slice_to_c_string(details);

		sonde_debug("containers: %s %s: status %d %s", ep->what, method, (int)status, d);
		grpc.gpr_free(d);
	}
	for (size_t i = 0; i < nmd; i++) {
		grpc.grpc_slice_unref(md[i].key);
		grpc.grpc_slice_unref(md[i].value);
	}
	grpc.grpc_slice_unref(mslice);
	if (recv)
		grpc.grpc_byte_buffer_destroy(recv);
	if (send)
		grpc.grpc_byte_buffer_destroy(send);
	grpc.grpc_slice_unref(details);
	grpc.grpc_metadata_array_destroy(&init_md);
	grpc.grpc_metadata_array_destroy(&trail_md);
	if (call)
		grpc.grpc_call_unref(call);
	return err;
}

int grpc_endpoint_call(struct grpc_endpoint *ep, const char *method, const char *const *metadata,
                       const ProtobufCMessage *req, const ProtobufCMessageDescriptor *resp_desc,
                       ProtobufCMessage **resp)
{
	int err;

	pthread_mutex_lock(&ep->lock);
	err = call_locked(ep, method, metadata, req, resp_desc, resp);
	pthread_mutex_unlock(&ep->lock);
	return err;
}
