/* Test registries (see registry.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "registry.h"
#include "testlib.h"

static int listen_loopback(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)&a, &len)) {
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

int test_free_port(void)
{
	int port, fd = listen_loopback(&port);

	if (fd < 0)
		return -1;
	close(fd);
	return port;
}

static bool port_answers(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons((uint16_t)port),
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

int test_registry_start(struct test_registry *r, const char *dir, const char *cert, const char *key,
                        const char *htpasswd)
{
	char config[1024], text[4096], log[1100];
	int64_t deadline;
	int n;

	memset(r, 0, sizeof(*r));
	r->listen_fd = -1;
	snprintf(r->dir, sizeof(r->dir), "%s", dir);
	if (mkdir(dir, 0700) && errno != EEXIST) {
		fprintf(stderr, "registry: mkdir %s: %s\n", dir, strerror(errno));
		return -1;
	}
	r->port = test_free_port();
	if (r->port < 0)
		return -1;
	snprintf(r->host, sizeof(r->host), "127.0.0.1:%d", r->port);
	n = snprintf(text, sizeof(text),
	             "version: 0.1\n"
	             "log: { level: warn, accesslog: { disabled: true } }\n"
	             "storage: { filesystem: { rootdirectory: %s/data }, delete: { enabled: true } }\n"
	             "http:\n  addr: 127.0.0.1:%d\n",
	             dir, r->port);
	if (cert)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "  tls: { certificate: %s, key: %s }\n",
		              cert, key);
	if (htpasswd)
		n += snprintf(text + n, sizeof(text) - (size_t)n,
		              "auth: { htpasswd: { realm: sonde-test, path: %s } }\n", htpasswd);
	snprintf(config, sizeof(config), "%s/config.yml", dir);
	snprintf(log, sizeof(log), "%s/registry.log", dir);
	if (test_write_file(config, text))
		return -1;
	r->pid = fork();
	if (r->pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		extern char **environ;

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		/* REGISTRY_* variables are configuration overrides for the
		 * registry (REGISTRY_AUTH_FILE would become auth.file) */
		for (char **e = environ; *e;) {
			if (!strncmp(*e, "REGISTRY_", 9)) {
				char name[256];
				size_t k = strcspn(*e, "=");

				snprintf(name, sizeof(name), "%.*s", (int)k, *e);
				unsetenv(name);
				continue;
			}
			e++;
		}
		execlp("docker-registry", "docker-registry", "serve", config, (char *)NULL);
		_exit(127);
	}
	if (r->pid < 0)
		return -1;
	deadline = test_now_ms() + 10000;
	while (test_now_ms() < deadline) {
		int st;

		if (waitpid(r->pid, &st, WNOHANG) == r->pid) {
			char *l = test_read_file(log, NULL);

			fprintf(stderr, "docker-registry exited at start:\n%s\n", l ? l : "");
			free(l);
			r->pid = 0;
			return -1;
		}
		if (port_answers(r->port))
			return 0;
		usleep(20000);
	}
	fprintf(stderr, "docker-registry did not answer on %s in 10 s\n", r->host);
	test_registry_stop(r);
	return -1;
}

int test_registry_start_stalling(struct test_registry *r)
{
	memset(r, 0, sizeof(*r));
	/* the kernel completes the handshakes of the backlog: never accepting
	 * is a server that connected and then says nothing */
	r->listen_fd = listen_loopback(&r->port);
	if (r->listen_fd < 0)
		return -1;
	snprintf(r->host, sizeof(r->host), "127.0.0.1:%d", r->port);
	return 0;
}

static const char *reason(int status)
{
	return status == 429 ? "Too Many Requests" : status == 500 ? "Internal Server Error" : "Error";
}

static void answer(int c, int status, const char *extra, const char *body)
{
	char resp[8192];
	int n = snprintf(resp, sizeof(resp),
	                 "HTTP/1.1 %d %s\r\n%sContent-Type: application/json\r\nContent-Length: %zu\r\n"
	                 "Connection: close\r\n\r\n%s",
	                 status, reason(status), extra, strlen(body), body);

	if (n > 0 && write(c, resp, (size_t)n) < 0) {
		/* the client went away */
	}
}

/* Reads a request up to the end of its headers (what the fakes answer on). */
static void read_request_head(int c, char *req, size_t n)
{
	size_t got = 0;

	req[0] = 0;
	while (got < n - 1) {
		ssize_t k = read(c, req + got, n - 1 - got);

		if (k <= 0)
			break;
		got += (size_t)k;
		req[got] = 0;
		if (strstr(req, "\r\n\r\n"))
			break;
	}
}

/* A fake registry on a free loopback port: a child process that reads each
 * request's headers and lets serve(connection, request, arg) answer it. */
static int start_fake(struct test_registry *r, void (*serve)(int c, const char *req, void *arg), void *arg)
{
	int fd;

	memset(r, 0, sizeof(*r));
	r->listen_fd = -1;
	fd = listen_loopback(&r->port);
	if (fd < 0)
		return -1;
	snprintf(r->host, sizeof(r->host), "127.0.0.1:%d", r->port);
	r->pid = fork();
	if (r->pid == 0) {
		char req[8192];

		for (;;) {
			int c = accept(fd, NULL, NULL);

			if (c < 0)
				continue;
			read_request_head(c, req, sizeof(req));
			serve(c, req, arg);
			close(c);
		}
	}
	close(fd);
	return r->pid < 0 ? -1 : 0;
}

struct failing {
	int status;
	const char *body;
};

static void serve_failing(int c, const char *req, void *arg)
{
	const struct failing *f = arg;

	(void)req;
	answer(c, f->status, "", f->body);
}

int test_registry_start_failing(struct test_registry *r, int status, const char *body)
{
	struct failing f = {.status = status, .body = body};

	return start_fake(r, serve_failing, &f);
}

struct token_server {
	const struct test_registry *r;
	char want[512]; /* the Basic authorization of user:password */
	int status;     /* of the answers to the token's bearer */
	char query[2048];
};

static void serve_token(int c, const char *req, void *arg)
{
	struct token_server *t = arg;
	char challenge[512], body[4096];

	if (!strncmp(req, "GET /token", 10)) {
		const char *q = strchr(req, '?'), *end = q ? strchr(q, ' ') : NULL;

		if (q && end)
			snprintf(t->query, sizeof(t->query), "%.*s", (int)(end - q - 1), q + 1);
		if (strstr(req, t->want))
			answer(c, 200, "", "{\"token\":\"tok-123\",\"expires_in\":300}");
		else
			answer(c, 401, "",
			       "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"bad creds\"}]}");
	} else if (strstr(req, "Authorization: Bearer tok-123\r\n")) {
		snprintf(body, sizeof(body),
		         "{\"errors\":[{\"code\":\"FAKE\",\"message\":\"token query %s\"}]}", t->query);
		answer(c, t->status, "", body);
	} else {
		snprintf(challenge, sizeof(challenge),
		         "WWW-Authenticate: Bearer realm=\"http://%s/token\",service=\"fake-registry\","
		         "scope=\"repository:x/y:pull\"\r\n",
		         t->r->host);
		answer(c, 401, challenge,
		       "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}");
	}
}

int test_registry_start_token(struct test_registry *r, const char *user, const char *password, int status)
{
	struct token_server t = {.r = r, .status = status};
	char pair[300];

	snprintf(pair, sizeof(pair), "%s:%s", user, password);
	memcpy(t.want, "Authorization: Basic ", 21);
	EVP_EncodeBlock((unsigned char *)t.want + 21, (const unsigned char *)pair, (int)strlen(pair));
	return start_fake(r, serve_token, &t);
}

struct static_routes {
	const struct test_route *routes;
	size_t n;
};

static void serve_route(int c, const char *req, void *arg)
{
	const struct test_route *routes = ((const struct static_routes *)arg)->routes;
	size_t n = ((const struct static_routes *)arg)->n;
	char method[16] = "", path[1024] = "", head[1024];
	const struct test_route *rt = NULL;
	size_t blen;
	int hl;

	if (sscanf(req, "%15s %1023s", method, path) != 2)
		return;
	path[strcspn(path, "?")] = 0;
	for (size_t i = 0; i < n && !rt; i++)
		if ((!strcmp(routes[i].method, method) ||
		     (!strcmp(method, "HEAD") && !strcmp(routes[i].method, "GET"))) &&
		    !strcmp(routes[i].path, path))
			rt = &routes[i];
	if (!rt) {
		answer(c, 404, "", "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"no route\"}]}");
		return;
	}
	blen = rt->body_len ? rt->body_len : strlen(rt->body);
	hl = snprintf(
	    head, sizeof(head),
	    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%sConnection: close\r\n\r\n",
	    rt->status, rt->status == 200 ? "OK" : reason(rt->status),
	    rt->content_type ? rt->content_type : "application/json", blen, rt->header ? rt->header : "",
	    rt->header ? "\r\n" : "");
	if (write(c, head, (size_t)hl) < 0 || strcmp(method, "HEAD") == 0)
		return;
	for (size_t off = 0; off < blen;) {
		ssize_t w = write(c, rt->body + off, blen - off);

		if (w <= 0)
			return;
		off += (size_t)w;
	}
}

int test_registry_start_static(struct test_registry *r, const struct test_route *routes, size_t n)
{
	struct static_routes sr = {.routes = routes, .n = n};

	return start_fake(r, serve_route, &sr);
}

void test_registry_stop(struct test_registry *r)
{
	if (r->listen_fd > 0) {
		close(r->listen_fd);
		r->listen_fd = -1;
	}
	if (r->pid > 0) {
		int64_t deadline = test_now_ms() + 5000;
		int st;

		kill(r->pid, SIGTERM);
		while (waitpid(r->pid, &st, WNOHANG) == 0) {
			if (test_now_ms() > deadline) {
				kill(r->pid, SIGKILL);
				waitpid(r->pid, &st, 0);
				break;
			}
			usleep(10000);
		}
		r->pid = 0;
	}
}

int test_make_tls_certs(const char *dir)
{
	char cmd[4096];

	snprintf(
	    cmd, sizeof(cmd),
	    "cd '%s' && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nbasicConstraints=CA:FALSE\\n' "
	    "> ext.cnf && "
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key "
	    "-out ca.crt -days 2 -subj /CN=sonde-test-ca 2>/dev/null && "
	    "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key "
	    "-out server.csr -subj /CN=127.0.0.1 2>/dev/null && "
	    "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt "
	    "-days 2 -extfile ext.cnf 2>/dev/null",
	    dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "openssl could not make the test certificates in %s\n", dir);
		return -1;
	}
	return 0;
}
