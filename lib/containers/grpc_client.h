/* Unary gRPC calls to a local runtime's unix socket (containerd, its CRI
 * plugin, CRI-O), on gRPC core with protobuf-c messages.
 *
 * Every call is bounded by the endpoint's timeout. A runtime that timed out or
 * could not be reached is left alone for a while (calls fail at once with
 * -EAGAIN), so a hung socket delays at most one container registration, never
 * the event stream.
 *
 * Thread-safe: gRPC core is loaded once per process, whichever thread calls
 * first; calls on one endpoint from several threads take turns, calls on
 * different endpoints run in parallel. */
#ifndef SONDE_CONTAINERS_GRPC_CLIENT_H
#define SONDE_CONTAINERS_GRPC_CLIENT_H

#include <protobuf-c/protobuf-c.h>

struct grpc_endpoint;

struct grpc_endpoint_opts {
	size_t sz;
	int timeout_ms; /* per call; default 500 */
	int backoff_ms; /* after a timeout or an unreachable socket; default 5000 */
};

/* `what` names the runtime in messages ("containerd", "CRI"). Nothing is
 * connected until the first call. NULL on no memory. */
struct grpc_endpoint *grpc_endpoint_new(const char *socket_path, const char *what,
                                        const struct grpc_endpoint_opts *opts);
/* NULL is a no-op. */
void grpc_endpoint_free(struct grpc_endpoint *ep);
const char *grpc_endpoint_path(const struct grpc_endpoint *ep);

/* Calls `method` ("/runtime.v1.RuntimeService/ContainerStatus") with req and
 * unpacks the answer into *resp (free with protobuf_c_message_free_unpacked).
 * `metadata` is NULL or a NULL-terminated list of key, value pairs.
 * Returns 0, -ENOENT (no socket, or the runtime says NOT_FOUND), -ETIMEDOUT,
 * -ECONNREFUSED (unreachable), -EAGAIN (backing off after one of those),
 * -EPROTO (an answer that does not decode) or -EIO (any other status; the
 * runtime's message is logged at debug level). */
int grpc_endpoint_call(struct grpc_endpoint *ep, const char *method, const char *const *metadata,
                       const ProtobufCMessage *req, const ProtobufCMessageDescriptor *resp_desc,
                       ProtobufCMessage **resp);

#endif
