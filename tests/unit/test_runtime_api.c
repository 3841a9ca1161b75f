/* What containerd's CRI plugin and its own API answer, mapped onto the
 * container record; and the gRPC client against sockets that are missing,
 * hang or hang up. The answers are encoded here byte by byte with upstream's
 * field numbers, so a wrong number in proto/ fails these tests. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "containers/runtime_api.h"
#include "testlib.h"
#include "util/clock.h"

/* ---- a protobuf encoder just big enough for the answers ---- */

struct pb {
	uint8_t b[1024];
	size_t n;
};

static void pb_varint(struct pb *p, uint64_t v)
{
	do {
		p->b[p->n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
}

static void pb_bytes(struct pb *p, unsigned field, const void *data, size_t len)
{
	pb_varint(p, field << 3 | 2);
	pb_varint(p, len);
	memcpy(p->b + p->n, data, len);
	p->n += len;
}

static void pb_str(struct pb *p, unsigned field, const char *s)
{
	pb_bytes(p, field, s, strlen(s));
}

static void pb_msg(struct pb *p, unsigned field, const struct pb *sub)
{
	pb_bytes(p, field, sub->b, sub->n);
}

static void pb_uint(struct pb *p, unsigned field, uint64_t v)
{
	pb_varint(p, field << 3);
	pb_varint(p, v);
}

/* a map<string,string> entry */
static void pb_entry(struct pb *p, unsigned field, const char *k, const char *v)
{
	struct pb e = {0};

	pb_str(&e, 1, k);
	pb_str(&e, 2, v);
	pb_msg(p, field, &e);
}

static struct sonde_container *cri_container(void)
{
	struct sonde_container *c = sonde_container_new("c0ffee", "containerd");

	sonde_container_set_annotation(c, "io.kubernetes.cri.container-type", "container");
	sonde_container_set_annotation(c, "io.kubernetes.cri.sandbox-id", "sb1");
	sonde_container_apply_annotations(c);
	return c;
}

static void test_container_status(void)
{
	struct pb md = {0}, img = {0}, st = {0}, resp = {0};
	struct sonde_container *c = cri_container();
	Runtime__V1__ContainerStatusResponse *r;

	pb_str(&md, 1, "web");
	pb_str(&img, 1, "localhost/busybox:latest");
	pb_str(&st, 1, "c0ffee");
	pb_msg(&st, 2, &md);
	pb_uint(&st, 3, 1); /* RUNNING */
	pb_msg(&st, 8, &img);
	pb_str(&st, 9, "localhost/busybox@sha256:0123abcd");
	pb_entry(&st, 12, "io.kubernetes.pod.name", "mypod");
	pb_entry(&st, 12, "io.kubernetes.pod.namespace", "team-a");
	pb_entry(&st, 12, "io.kubernetes.pod.uid", "uid-1");
	pb_msg(&resp, 1, &st);
	pb_entry(&resp, 2, "info", "{}");

	r = runtime__v1__container_status_response__unpack(NULL, resp.n, resp.b);
	REQUIRE(r && r->status);
	cri_apply_container_status(r->status, c);
	CHECK_STR(c->name, "web");
	CHECK_STR(c->k8s_container_name, "web");
	CHECK_STR(c->image_name, "localhost/busybox:latest");
	CHECK_STR(c->image_digest, "sha256:0123abcd");
	CHECK_STR(c->k8s_pod_name, "mypod");
	CHECK_STR(c->k8s_namespace, "team-a");
	CHECK_STR(c->k8s_pod_uid, "uid-1");
	runtime__v1__container_status_response__free_unpacked(r, NULL);

	/* an image id is not a manifest digest: the digest stays unknown */
	{
		struct pb st2 = {0}, resp2 = {0};
		struct sonde_container *c2 = cri_container();

		pb_str(&st2, 9, "sha256:configid");
		pb_msg(&resp2, 1, &st2);
		r = runtime__v1__container_status_response__unpack(NULL, resp2.n, resp2.b);
		REQUIRE(r && r->status);
		cri_apply_container_status(r->status, c2);
		CHECK_STR(c2->image_digest, "");
		CHECK_STR(c2->name, "c0ffee"); /* no metadata: the id stays the name */
		runtime__v1__container_status_response__free_unpacked(r, NULL);
		sonde_container_free(c2);
	}
	sonde_container_free(c);
}

static void test_pod_status(void)
{
	struct pb md = {0}, net = {0}, opts = {0}, ns = {0}, lin = {0}, st = {0}, resp = {0};
	struct sonde_container *c = cri_container();
	Runtime__V1__PodSandboxStatusResponse *r;
	char *labels;

	pb_str(&md, 1, "mypod");
	pb_str(&md, 2, "uid-1");
	pb_str(&md, 3, "team-a");
	pb_str(&net, 1, "10.99.0.7");
	pb_uint(&opts, 1, 2); /* network: NODE */
	pb_msg(&ns, 2, &opts);
	pb_msg(&lin, 1, &ns);
	pb_str(&st, 1, "sb1");
	pb_msg(&st, 2, &md);
	pb_msg(&st, 5, &net);
	pb_msg(&st, 6, &lin);
	pb_entry(&st, 7, "tier", "front");
	pb_entry(&st, 7, "app", "web");
	pb_entry(&st, 7, "io.kubernetes.pod.name", "mypod"); /* kubelet's own: not a pod label */
	pb_entry(&st, 8, "note", "x");
	pb_entry(&st, 8, "io.kubernetes.cri.sandbox-id", "other");
	pb_msg(&resp, 1, &st);

	r = runtime__v1__pod_sandbox_status_response__unpack(NULL, resp.n, resp.b);
	REQUIRE(r && r->status);
	cri_apply_pod_status(r->status, c);
	CHECK_STR(c->k8s_pod_name, "mypod");
	CHECK_STR(c->k8s_namespace, "team-a");
	CHECK_STR(c->k8s_pod_uid, "uid-1");
	CHECK_STR(c->pod_ip, "10.99.0.7");
	CHECK_STR(sonde_container_annotation(c, "note"), "x");
	CHECK_STR(sonde_container_annotation(c, "io.kubernetes.cri.sandbox-id"), "sb1"); /* its own kept */
	CHECK(c->host_network);
	CHECK_INT(c->nlabels, 2);
	labels = sonde_container_labels_string(c);
	CHECK_STR(labels, "app=web,tier=front");
	free(labels);
	runtime__v1__pod_sandbox_status_response__free_unpacked(r, NULL);
	sonde_container_free(c);
}

static void test_containerd_container_and_image(void)
{
	struct pb ct = {0}, resp = {0}, desc = {0}, im = {0}, iresp = {0};
	struct sonde_container *c = sonde_container_new("demo", "containerd");
	Containerd__Api__GetContainerResponse *r;
	Containerd__Api__GetImageResponse *ir;

	pb_str(&ct, 1, "demo");
	pb_entry(&ct, 2, "org.example", "1");
	pb_str(&ct, 3, "localhost/busybox:latest");
	pb_msg(&resp, 1, &ct);
	r = containerd__api__get_container_response__unpack(NULL, resp.n, resp.b);
	REQUIRE(r && r->container);
	containerd_apply_container(r->container, c);
	CHECK_STR(c->image_name, "localhost/busybox:latest");
	containerd__api__get_container_response__free_unpacked(r, NULL);

	pb_str(&desc, 1, "application/vnd.oci.image.manifest.v1+json");
	pb_str(&desc, 2, "sha256:9295");
	pb_uint(&desc, 3, 404);
	pb_str(&im, 1, "localhost/busybox:latest");
	pb_msg(&im, 3, &desc);
	pb_msg(&iresp, 1, &im);
	ir = containerd__api__get_image_response__unpack(NULL, iresp.n, iresp.b);
	REQUIRE(ir && ir->image);
	containerd_apply_image(ir->image, c);
	CHECK_STR(c->image_digest, "sha256:9295");
	containerd__api__get_image_response__free_unpacked(ir, NULL);
	sonde_container_free(c);
}

/* ---- the client against bad sockets ---- */

static int listen_at(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 8))
		return -1;
	return fd;
}

static int status_call(struct grpc_endpoint *ep)
{
	Runtime__V1__ContainerStatusRequest req = RUNTIME__V1__CONTAINER_STATUS_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	int err;

	req.container_id = "x";
	err = grpc_endpoint_call(ep, "/runtime.v1.RuntimeService/ContainerStatus", NULL, &req.base,
	                         &runtime__v1__container_status_response__descriptor, &resp);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return err;
}

static void test_missing_socket(void)
{
	struct grpc_endpoint *ep = grpc_endpoint_new("/nonexistent/sonde.sock", "CRI", NULL);

	REQUIRE(ep);
	CHECK_INT(status_call(ep), -ENOENT);
	grpc_endpoint_free(ep);
}

/* A runtime that reads requests and never answers, as a wedged daemon does. */
static pid_t start_silent_server(int fd)
{
	pid_t child = fork();

	if (child == 0) {
		char buf[4096];
		int c = accept(fd, NULL, NULL);

		while (c >= 0 && read(c, buf, sizeof(buf)) > 0)
			;
		pause();
		_exit(0);
	}
	return child;
}

static void test_hanging_socket(void)
{
	struct grpc_endpoint_opts o = {.sz = sizeof(o), .timeout_ms = 200, .backoff_ms = 60000};
	char path[64];
	struct grpc_endpoint *ep;
	int64_t t0, took;
	pid_t child;
	int fd, err;

	snprintf(path, sizeof(path), "/tmp/sonde-hang-%d.sock", getpid());
	fd = listen_at(path);
	REQUIRE(fd >= 0);
	child = start_silent_server(fd);
	REQUIRE(child > 0);
	ep = grpc_endpoint_new(path, "CRI", &o);
	REQUIRE(ep);
	t0 = (util_now_ns() / 1000000);
	err = status_call(ep);
	took = (util_now_ns() / 1000000) - t0;
	/* gRPC reports a handshake that never completes as UNAVAILABLE, a
	 * request never answered as DEADLINE_EXCEEDED: both within the bound */
	CHECK(err == -ETIMEDOUT || err == -ECONNREFUSED);
	CHECK(took < 1500);
	if (took >= 1500)
		fprintf(stderr, "the call took %lld ms\n", (long long)took);
	/* backing off: the next call does not wait again */
	t0 = (util_now_ns() / 1000000);
	CHECK_INT(status_call(ep), -EAGAIN);
	CHECK((util_now_ns() / 1000000) - t0 < 50);
	grpc_endpoint_free(ep);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	close(fd);
	unlink(path);
}

static void test_hangup_socket(void)
{
	struct grpc_endpoint_opts o = {.sz = sizeof(o), .timeout_ms = 2000};
	char path[64];
	struct grpc_endpoint *ep;
	pid_t child;
	int fd, err;

	snprintf(path, sizeof(path), "/tmp/sonde-hup-%d.sock", getpid());
	fd = listen_at(path);
	REQUIRE(fd >= 0);
	child = fork();
	REQUIRE(child >= 0);
	if (child == 0) {
		for (;;) { /* accepts and hangs up at once, like a crashing runtime */
			int c = accept(fd, NULL, NULL);
			if (c >= 0)
				close(c);
		}
	}
	ep = grpc_endpoint_new(path, "CRI", &o);
	REQUIRE(ep);
	err = status_call(ep);
	CHECK(err == -ECONNREFUSED || err == -EIO);
	grpc_endpoint_free(ep);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	close(fd);
	unlink(path);
}

TEST_MAIN(TEST(test_container_status), TEST(test_pod_status), TEST(test_containerd_container_and_image),
          TEST(test_missing_socket), TEST(test_hanging_socket), TEST(test_hangup_socket))
