/* Test registries: Debian's docker-registry started on 127.0.0.1 with a free
 * port (plain, or TLS with htpasswd basic auth), and fake ones that stall
 * or answer every request with a fixed error, each stopped by its PID. */
#ifndef SONDE_TEST_REGISTRY_H
#define SONDE_TEST_REGISTRY_H

#include <stdbool.h>
#include <sys/types.h>

struct test_registry {
	pid_t pid;
	int port;
	int listen_fd; /* the stalling registry's socket, else -1 */
	char host[64]; /* "127.0.0.1:PORT" */
	char dir[512]; /* config, data and log */
};

/* A free TCP port on 127.0.0.1 (bound then released: another process may
 * take it in between, which a start failure then reports), or -1. */
int test_free_port(void);

/* Starts `docker-registry serve` with its data under dir (created), TLS
 * when cert and key are given, htpasswd basic auth when htpasswd is; waits
 * up to 10 s for /v2/ to answer. 0, or -1 after saying why on stderr (with
 * the registry's log). */
int test_registry_start(struct test_registry *r, const char *dir, const char *cert, const char *key,
                        const char *htpasswd);
/* A registry that accepts connections and never answers a byte. */
int test_registry_start_stalling(struct test_registry *r);
/* A registry answering every request with `status` and `body` (JSON). */
int test_registry_start_failing(struct test_registry *r, int status, const char *body);
/* A registry that wants a bearer token: every request without one gets a
 * 401 challenge naming its token server (/token on the same port, service
 * "fake-registry"), which hands out a token for basic auth user:password
 * (401 otherwise); a request with the token gets `status` and an error body
 * whose message quotes the token request's query string. */
int test_registry_start_token(struct test_registry *r, const char *user, const char *password, int status);
/* A registry serving fixed answers: the first route whose method and path
 * (query string left out) match the request; anything else gets 404 with a
 * distribution-spec error body. HEAD is answered as GET without the body. */
struct test_route {
	const char *method, *path;
	int status;
	const char *content_type; /* NULL: application/json */
	const char *body;
	size_t body_len;    /* 0: strlen(body) */
	const char *header; /* an extra "Name: value" header, or NULL */
};
int test_registry_start_static(struct test_registry *r, const struct test_route *routes, size_t n);
/* Stops it by its PID (SIGTERM, then SIGKILL after 5 s) and waits. */
void test_registry_stop(struct test_registry *r);

/* Makes a CA and a server certificate for 127.0.0.1 and localhost in dir
 * (ca.crt, server.crt, server.key) with openssl; 0 or -1. */
int test_make_tls_certs(const char *dir);

#endif
