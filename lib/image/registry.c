/* The HTTP side of the OCI distribution API on libcurl: one easy handle per
 * client (its connection is reused for every request of a pull or push),
 * bearer-token and basic auth answering the registry's 401 challenge, and
 * one clear error per failure with what the registry said.
 *
 * Every transfer has a connect timeout and a low-speed limit (no byte for
 * stall_timeout_ms), never a total timeout: a big blob on a slow link may
 * take long, a registry that stopped answering fails within seconds. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sonde/log.h>

#include "image/registry.h"

#define TOKEN_MAX  (1u << 20)
#define MAX_SCOPES 8
#define SONDE_UA   "sonde/0.1 (OCI distribution client)"

struct registry_client {
	CURL *curl;
	char domain[256];
	char host[256];
	char base[320]; /* "https://host" */
	char repo[512];
	struct sonde_registry_opts opts;
	char scopes[MAX_SCOPES][600];
	size_t nscopes;
	char *token;
	bool basic; /* the registry asked for basic auth */
	struct registry_creds creds;
	bool have_creds;
	char errbuf[CURL_ERROR_SIZE];
};

/* ---- growable response buffer ---- */
struct rbuf {
	char *data;
	size_t len, cap, max;
	bool overflow;
};

static void rbuf_append(struct rbuf *b, const void *p, size_t n)
{
	if (b->overflow || b->len + n > b->max) {
		b->overflow = true;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *d;

		while (cap < b->len + n + 1)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d) {
			b->overflow = true;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
}

/* ---- one request ---- */
typedef int (*sink_fn)(const void *data, size_t len, void *arg);

struct request {
	const char *method; /* GET HEAD POST PUT PATCH */
	char url[4096];
	const char *accept;
	const char *content_type;
	const char *content_range;
	/* upload: memory, or a file region */
	const void *body;
	size_t body_len;
	FILE *file;
	int64_t file_off, file_len, file_left;
	/* download: sink (2xx only), else a buffer of at most max bytes */
	sink_fn sink;
	void *sink_arg;
	int sink_err;
	struct rbuf out;
	struct rbuf err; /* body of a non-2xx answer */
	bool follow;
	struct registry_progress *progress;
	int64_t progress_base;
	struct registry_client *c;
};

static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
	struct registry_response *r = arg;
	size_t len = size * n, klen;
	const char *colon;
	char *dst = NULL;
	size_t dlen = 0;

	if (len >= 5 && !strncmp(line, "HTTP/", 5)) {
		/* a new response (after a redirect or 100-continue): forget the last one's */
		memset(r, 0, sizeof(*r));
		return len;
	}
	colon = memchr(line, ':', len);
	if (!colon)
		return len;
	klen = (size_t)(colon - line);
	if (klen == 12 && !strncasecmp(line, "content-type", klen)) {
		dst = r->content_type;
		dlen = sizeof(r->content_type);
	} else if (klen == 21 && !strncasecmp(line, "docker-content-digest", klen)) {
		dst = r->digest;
		dlen = sizeof(r->digest);
	} else if (klen == 8 && !strncasecmp(line, "location", klen)) {
		dst = r->location;
		dlen = sizeof(r->location);
	} else if (klen == 16 && !strncasecmp(line, "www-authenticate", klen)) {
		dst = r->www_authenticate;
		dlen = sizeof(r->www_authenticate);
	}
	if (dst) {
		const char *v = colon + 1, *end = line + len;

		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
			end--;
		if ((size_t)(end - v) < dlen) {
			memcpy(dst, v, (size_t)(end - v));
			dst[end - v] = 0;
		}
	}
	return len;
}

static size_t on_write(char *data, size_t size, size_t n, void *arg)
{
	struct request *q = arg;
	size_t len = size * n;
	long code = 0;

	curl_easy_getinfo(q->c->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code >= 300) {
		rbuf_append(&q->err, data, len);
		return len;
	}
	if (q->sink) {
		q->sink_err = q->sink(data, len, q->sink_arg);
		return q->sink_err ? 0 : len;
	}
	rbuf_append(&q->out, data, len);
	return q->out.overflow ? 0 : len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct request *q = arg;
	size_t want = size * n;

	if (q->body) {
		size_t left = q->body_len - (size_t)q->file_off;

		if (want > left)
			want = left;
		memcpy(buf, (const char *)q->body + q->file_off, want);
		q->file_off += (int64_t)want;
		return want;
	}
	if ((int64_t)want > q->file_left)
		want = (size_t)q->file_left;
	if (want == 0)
		return 0;
	want = fread(buf, 1, want, q->file);
	if (want == 0)
		return CURL_READFUNC_ABORT; /* the blob file is shorter than its size */
	q->file_left -= (int64_t)want;
	return want;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct request *q = arg;

	registry_progress_update(q->progress, q->progress_base + (dlnow ? dlnow : ulnow));
	return 0;
}

/* ---- errors ---- */
static int http_error(struct registry_client *c, const char *what, const struct request *q, long status)
{
	char text[600];

	const char *hint = "";

	if (status == 401 && !strstr(what, "credentials rejected") && !strstr(what, "not logged in"))
		hint = c->have_creds ? " (the credentials of the auth file were refused)"
		                     : " (not logged in: sonde image login)";
	registry_error_text(q->err.data, q->err.len, text, sizeof(text));
	sonde_err("registry %s: %s: HTTP %ld (%s)%s%s%s%s", c->host, what, status,
	          registry_status_text(status), *text ? ": \"" : "", text, *text ? "\"" : "", hint);
	return registry_status_errno(status);
}

static int curl_error(struct registry_client *c, const char *what, CURLcode cc)
{
	const char *detail = *c->errbuf ? c->errbuf : curl_easy_strerror(cc);

	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		sonde_err("registry %s: %s: timed out (%s; connect timeout %d ms, stall timeout %d ms)",
		          c->host, what, detail, c->opts.connect_timeout_ms, c->opts.stall_timeout_ms);
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		sonde_err("registry %s: %s: cannot connect: %s", c->host, what, detail);
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
		sonde_err("registry %s: %s: unknown host: %s", c->host, what, detail);
		return -EHOSTUNREACH;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		sonde_err("registry %s: %s: TLS failed: %s (a private CA: --tls-ca FILE or SSL_CERT_FILE; "
		          "plain HTTP: --insecure-registries %s)",
		          c->host, what, detail, c->domain);
		return -EPROTO;
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		sonde_err("registry %s: %s: connection failed: %s%s", c->host, what, detail,
		          !strncmp(c->base, "https", 5)
		              ? " (a plain HTTP registry needs --insecure-registries)"
		              : "");
		return -ECONNRESET;
	default:
		sonde_err("registry %s: %s: %s", c->host, what, detail);
		return -EIO;
	}
}

/* ---- the client ---- */
static bool is_insecure(const struct sonde_registry_opts *o, const char *domain)
{
	if (!o->insecure_registries)
		return false;
	for (const char *const *p = o->insecure_registries; *p; p++)
		if (!strcmp(*p, domain))
			return true;
	return false;
}

static void opts_with_defaults(const struct sonde_registry_opts *in, struct sonde_registry_opts *out)
{
	memset(out, 0, sizeof(*out));
	if (in)
		memcpy(out, in, in->sz && in->sz < sizeof(*out) ? in->sz : sizeof(*out));
	out->sz = sizeof(*out);
	/* SONDE_REGISTRY_TIMEOUT (seconds) for callers without a flag of
	 * their own, such as the pull of sonde run */
	const char *env = getenv("SONDE_REGISTRY_TIMEOUT");
	long env_s = env ? strtol(env, NULL, 10) : 0;

	if (env_s > 0 && env_s <= 86400) {
		if (out->connect_timeout_ms <= 0)
			out->connect_timeout_ms = (int)env_s * 1000;
		if (out->stall_timeout_ms <= 0)
			out->stall_timeout_ms = (int)env_s * 1000;
	}
	if (out->connect_timeout_ms <= 0)
		out->connect_timeout_ms = SONDE_REGISTRY_CONNECT_TIMEOUT_MS;
	if (out->stall_timeout_ms <= 0)
		out->stall_timeout_ms = SONDE_REGISTRY_STALL_TIMEOUT_MS;
	if (!out->chunk_size)
		out->chunk_size = SONDE_REGISTRY_CHUNK_SIZE;
	if (!out->tls_ca_file) {
		const char *ca = getenv("SSL_CERT_FILE");

		if (ca && *ca)
			out->tls_ca_file = ca;
	}
}

static int load_creds(struct registry_client *c)
{
	char path[4096];
	bool found;
	int r;

	r = authfile_read_path(c->opts.authfile, path, sizeof(path));
	if (r)
		return r;
	r = authfile_lookup(path, c->domain, &c->creds, &found);
	if (r)
		return r;
	c->have_creds = found;
	if (found)
		sonde_debug("registry %s: credentials of %s from %s", c->host, c->creds.user, path);
	return 0;
}

int registry_client_new(const char *domain, const char *repo, const struct sonde_registry_opts *opts,
                        struct registry_client **out)
{
	static bool global_done;
	struct registry_client *c;
	int r;

	if (!global_done) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		global_done = true;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	opts_with_defaults(opts, &c->opts);
	snprintf(c->domain, sizeof(c->domain), "%s", domain);
	/* Docker Hub's API lives on another host than its name */
	snprintf(c->host, sizeof(c->host), "%s",
	         !strcmp(domain, "docker.io") ? "registry-1.docker.io" : domain);
	snprintf(c->base, sizeof(c->base), "%s://%s", is_insecure(&c->opts, domain) ? "http" : "https",
	         c->host);
	/* Docker Hub's official images live under library/ (docker.io/alpine
	 * is library/alpine there), as docker's own normaliser says */
	snprintf(c->repo, sizeof(c->repo), "%s%s",
	         repo && *repo && !strchr(repo, '/') && !strcmp(domain, "docker.io") ? "library/" : "",
	         repo ? repo : "");
	if (*c->repo)
		registry_client_add_scope(c, NULL);
	c->curl = curl_easy_init();
	if (!c->curl) {
		free(c);
		return -ENOMEM;
	}
	r = load_creds(c);
	if (r) {
		registry_client_free(c);
		return r;
	}
	*out = c;
	return 0;
}

void registry_client_free(struct registry_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	if (c->token) {
		OPENSSL_cleanse(c->token, strlen(c->token));
		free(c->token);
	}
	OPENSSL_cleanse(&c->creds, sizeof(c->creds));
	free(c);
}

const char *registry_client_repo(const struct registry_client *c)
{
	return c->repo;
}

void registry_client_add_scope(struct registry_client *c, const char *scope)
{
	char own[600];

	if (!scope) {
		snprintf(own, sizeof(own), "repository:%s:pull", c->repo);
		scope = own;
	}
	for (size_t i = 0; i < c->nscopes; i++)
		if (!strcmp(c->scopes[i], scope))
			return;
	if (c->nscopes < MAX_SCOPES)
		snprintf(c->scopes[c->nscopes++], sizeof(c->scopes[0]), "%s", scope);
}

void registry_client_want_push(struct registry_client *c)
{
	/* the repository's own scope is the first one */
	if (c->nscopes && *c->repo)
		snprintf(c->scopes[0], sizeof(c->scopes[0]), "repository:%s:pull,push", c->repo);
}

void registry_client_set_creds(struct registry_client *c, const struct registry_creds *creds)
{
	c->creds = *creds;
	c->have_creds = true;
}

static char *basic_header(const struct registry_creds *cr)
{
	size_t ul = strlen(cr->user), pl = strlen(cr->password), rl = ul + 1 + pl;
	char raw[sizeof(cr->user) + sizeof(cr->password) + 1];
	char *h = malloc(sizeof("Authorization: Basic ") + (rl + 2) / 3 * 4 + 1);

	if (!h)
		return NULL;
	memcpy(raw, cr->user, ul);
	raw[ul] = ':';
	memcpy(raw + ul + 1, cr->password, pl);
	strcpy(h, "Authorization: Basic ");
	EVP_EncodeBlock((unsigned char *)h + strlen(h), (unsigned char *)raw, (int)rl);
	OPENSSL_cleanse(raw, rl);
	return h;
}

static void set_common(struct registry_client *c, const char *url)
{
	long stall_s = (c->opts.stall_timeout_ms + 999) / 1000;

	curl_easy_reset(c->curl);
	*c->errbuf = 0;
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, SONDE_UA);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)c->opts.connect_timeout_ms);
	curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_TIME, stall_s < 1 ? 1L : stall_s);
	if (c->opts.tls_ca_file)
		curl_easy_setopt(c->curl, CURLOPT_CAINFO, c->opts.tls_ca_file);
}

/* Asks the token server of a Bearer challenge for a token for our scopes. */
static int fetch_token(struct registry_client *c, const struct registry_challenge *ch)
{
	struct request q = {.c = c};
	struct registry_response resp;
	struct curl_slist *hdrs = NULL;
	char *auth = NULL;
	size_t o;
	CURLcode cc;
	long status = 0;
	json_error_t jerr;
	json_t *doc;
	const char *tok;
	int r = 0;

	if (strncmp(ch->realm, "https://", 8) && strncmp(ch->realm, "http://", 7)) {
		sonde_err("registry %s: token server \"%s\" is not an http(s) URL", c->host, ch->realm);
		return -EPROTO;
	}
	o = (size_t)snprintf(q.url, sizeof(q.url), "%s", ch->realm);
#define ADDQ(key, val)                                                                                       \
	do {                                                                                                 \
		char *e = curl_easy_escape(c->curl, val, 0);                                                 \
		if (e && o < sizeof(q.url))                                                                  \
			o += (size_t)snprintf(q.url + o, sizeof(q.url) - o, "%s%s=%s",                       \
			                      strchr(q.url, '?') ? "&" : "?", key, e);                       \
		curl_free(e);                                                                                \
	} while (0)
	if (*ch->service)
		ADDQ("service", ch->service);
	for (size_t i = 0; i < c->nscopes; i++)
		ADDQ("scope", c->scopes[i]);
	if (*ch->scope) {
		bool have = false;

		/* the challenge's scope is usually ours, or a narrower one of
		 * the same resource ("repository:x/y:pull" while we want
		 * pull,push): ask for it only when it names another resource */
		const char *colon = strrchr(ch->scope, ':');
		size_t res = colon ? (size_t)(colon - ch->scope) + 1 : strlen(ch->scope);

		for (size_t i = 0; i < c->nscopes; i++)
			have |= !strncmp(c->scopes[i], ch->scope, res);
		if (!have)
			ADDQ("scope", ch->scope);
	}
#undef ADDQ
	if (o >= sizeof(q.url)) {
		sonde_err("registry %s: token URL too long", c->host);
		return -ENAMETOOLONG;
	}
	q.out.max = TOKEN_MAX;
	q.err.max = REGISTRY_ERROR_BODY_MAX;
	memset(&resp, 0, sizeof(resp));
	set_common(c, q.url);
	if (c->have_creds) {
		auth = basic_header(&c->creds);
		if (!auth)
			return -ENOMEM;
		hdrs = curl_slist_append(hdrs, auth);
	}
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, &resp);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &q);
	cc = curl_easy_perform(c->curl);
	curl_slist_free_all(hdrs);
	if (auth) {
		OPENSSL_cleanse(auth, strlen(auth));
		free(auth);
	}
	if (cc != CURLE_OK) {
		r = curl_error(c, "token request", cc);
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status == 401 || status == 403) {
		r = http_error(c,
		               c->have_creds ? "token request: credentials rejected"
		                             : "token request (not logged in: sonde image login)",
		               &q, status);
		goto out;
	}
	if (status != 200) {
		r = http_error(c, "token request", &q, status);
		goto out;
	}
	doc = q.out.data ? json_loadb(q.out.data, q.out.len, 0, &jerr) : NULL;
	tok = json_string_value(json_object_get(doc, "token"));
	if (!tok || !*tok)
		tok = json_string_value(json_object_get(doc, "access_token"));
	if (!tok || !*tok || strpbrk(tok, "\r\n")) {
		sonde_err("registry %s: the token server's answer has no token", c->host);
		r = -EPROTO;
	} else {
		if (c->token) {
			OPENSSL_cleanse(c->token, strlen(c->token));
			free(c->token);
		}
		c->token = strdup(tok);
		r = c->token ? 0 : -ENOMEM;
	}
	json_decref(doc);
out:
	if (q.out.data)
		OPENSSL_cleanse(q.out.data, q.out.len);
	free(q.out.data);
	free(q.err.data);
	return r;
}

/* Sends q once; the status in *status. */
static int perform(struct registry_client *c, struct request *q, struct registry_response *resp, long *status,
                   const char *what)
{
	struct curl_slist *hdrs = NULL;
	char line[4400], *auth = NULL;
	CURLcode cc;

	set_common(c, q->url);
	memset(resp, 0, sizeof(*resp));
	q->out.len = 0;
	q->err.len = 0;
	q->out.overflow = q->err.overflow = false;
	q->sink_err = 0;
	if (q->accept) {
		snprintf(line, sizeof(line), "Accept: %s", q->accept);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (q->content_type) {
		snprintf(line, sizeof(line), "Content-Type: %s", q->content_type);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (q->content_range) {
		snprintf(line, sizeof(line), "Content-Range: %s", q->content_range);
		hdrs = curl_slist_append(hdrs, line);
	}
	hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip before a body */
	if (c->token) {
		size_t n = strlen(c->token) + 32;

		auth = malloc(n);
		if (auth)
			snprintf(auth, n, "Authorization: Bearer %s", c->token);
	} else if (c->basic && c->have_creds) {
		auth = basic_header(&c->creds);
	}
	if (auth)
		hdrs = curl_slist_append(hdrs, auth);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, q);
	/* a blob may live behind a redirect (object storage); curl does not
	 * send our Authorization header to another host */
	curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, q->follow ? 1L : 0L);
	curl_easy_setopt(c->curl, CURLOPT_MAXREDIRS, 5L);
	if (!strcmp(q->method, "HEAD")) {
		curl_easy_setopt(c->curl, CURLOPT_NOBODY, 1L);
	} else if (strcmp(q->method, "GET")) {
		bool has_body = q->body || q->file;

		curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, q->method);
		if (!strcmp(q->method, "POST") && !has_body) {
			curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
			curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, "");
			curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, 0L);
		} else {
			/* UPLOAD streams from on_read with a Content-Length */
			q->file_off = q->body ? 0 : q->file_off;
			if (q->file) {
				if (fseeko(q->file, q->file_off, SEEK_SET)) {
					int e = -errno;

					curl_slist_free_all(hdrs);
					free(auth);
					return e;
				}
				q->file_left = q->file_len;
			}
			curl_easy_setopt(c->curl, CURLOPT_UPLOAD, 1L);
			curl_easy_setopt(c->curl, CURLOPT_READFUNCTION, on_read);
			curl_easy_setopt(c->curl, CURLOPT_READDATA, q);
			curl_easy_setopt(c->curl, CURLOPT_INFILESIZE_LARGE,
			                 (curl_off_t)(q->body   ? (int64_t)q->body_len
			                              : q->file ? q->file_len
			                                        : 0));
		}
	}
	if (q->progress) {
		curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, q);
	}
	cc = curl_easy_perform(c->curl);
	curl_slist_free_all(hdrs);
	if (auth) {
		OPENSSL_cleanse(auth, strlen(auth));
		free(auth);
	}
	if (cc == CURLE_WRITE_ERROR && q->sink_err)
		return q->sink_err;
	if (cc == CURLE_WRITE_ERROR && q->out.overflow) {
		sonde_err("registry %s: %s: answer larger than %zu bytes", c->host, what, q->out.max);
		return -EFBIG;
	}
	if (cc != CURLE_OK)
		return curl_error(c, what, cc);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
	return 0;
}

/* Sends q, answering one 401 challenge with a token or basic auth. */
static int do_request(struct registry_client *c, struct request *q, struct registry_response *resp,
                      long *status, const char *what)
{
	struct registry_challenge ch;
	int r;

	q->c = c;
	if (!q->out.max)
		q->out.max = OCI_MAX_DOCUMENT;
	q->err.max = REGISTRY_ERROR_BODY_MAX;
	r = perform(c, q, resp, status, what);
	sonde_debug("registry %s: %s %s: %ld", c->host, q->method, q->url, r ? 0L : *status);
	if (r || *status != 401)
		return r;
	if (registry_challenge_parse(resp->www_authenticate, &ch)) {
		sonde_debug("registry %s: 401 without a usable challenge: \"%s\"", c->host,
		            resp->www_authenticate);
		return 0;
	}
	if (ch.scheme == REGISTRY_AUTH_BEARER && *ch.realm) {
		r = fetch_token(c, &ch);
		if (r)
			return r;
	} else if (ch.scheme == REGISTRY_AUTH_BASIC) {
		if (!c->have_creds || c->basic)
			return 0; /* nothing (else) to try: the caller reports the 401 */
		c->basic = true;
	} else {
		return 0;
	}
	r = perform(c, q, resp, status, what);
	sonde_debug("registry %s: %s %s: %ld (authenticated)", c->host, q->method, q->url, r ? 0L : *status);
	return r;
}

static void free_request(struct request *q)
{
	free(q->out.data);
	free(q->err.data);
}

static int url_for(struct registry_client *c, struct request *q, const char *kind, const char *ref)
{
	size_t n = (size_t)snprintf(q->url, sizeof(q->url), "%s/v2/%s/%s/%s", c->base, c->repo, kind, ref);

	if (n >= sizeof(q->url)) {
		sonde_err("registry %s: URL too long", c->host);
		return -ENAMETOOLONG;
	}
	return 0;
}

int registry_ping(struct registry_client *c, bool need_auth)
{
	struct request q = {.method = "GET"};
	struct registry_response resp;
	long status = 0;
	int r;

	snprintf(q.url, sizeof(q.url), "%s/v2/", c->base);
	if (need_auth)
		c->nscopes = 0; /* login: a token for no repository proves the credentials */
	r = do_request(c, &q, &resp, &status, "GET /v2/");
	if (!r && status != 200)
		r = http_error(c, status == 401 ? "GET /v2/: credentials rejected" : "GET /v2/", &q, status);
	free_request(&q);
	return r;
}

static const char MANIFEST_ACCEPT[] =
    OCI_MT_INDEX ", " OCI_MT_MANIFEST ", " OCI_MT_DOCKER_LIST ", " OCI_MT_DOCKER_MANIF;

int registry_get_manifest(struct registry_client *c, const char *ref, bool quiet_missing, void **body,
                          size_t *len, char digest_out[OCI_DIGEST_LEN], char media_type[128])
{
	struct request q = {.method = "GET", .accept = MANIFEST_ACCEPT, .follow = true};
	struct registry_response resp;
	char what[700], digest[OCI_DIGEST_LEN];
	long status = 0;
	json_t *doc;
	int r;

	snprintf(what, sizeof(what), "manifest %s%s%s", c->repo, strncmp(ref, "sha256:", 7) ? ":" : "@", ref);
	r = url_for(c, &q, "manifests", ref);
	if (!r)
		r = do_request(c, &q, &resp, &status, what);
	if (r)
		goto out;
	if (status == 404 && quiet_missing) {
		r = -ENOENT;
		goto out;
	}
	if (status != 200) {
		r = http_error(c, what, &q, status);
		goto out;
	}
	if (!q.out.data) {
		sonde_err("registry %s: %s: empty answer", c->host, what);
		r = -EPROTO;
		goto out;
	}
	oci_digest_of(q.out.data, q.out.len, digest);
	if (!strncmp(ref, "sha256:", 7) && strcmp(ref, digest)) {
		sonde_err("registry %s: %s: content has digest %s", c->host, what, digest);
		r = -EBADMSG;
		goto out;
	}
	if (!strncmp(resp.digest, "sha256:", 7) && strcmp(resp.digest, digest)) {
		sonde_err("registry %s: %s: Docker-Content-Digest %s but the content has %s", c->host, what,
		          resp.digest, digest);
		r = -EBADMSG;
		goto out;
	}
	doc = oci_json_load(q.out.data, q.out.len, what);
	if (!doc) {
		r = -EBADMSG;
		goto out;
	}
	{
		const char *mt = json_string_value(json_object_get(doc, "mediaType"));
		char *semi;

		snprintf(media_type, 128, "%s", mt ? mt : resp.content_type);
		if ((semi = strchr(media_type, ';')))
			*semi = 0;
	}
	json_decref(doc);
	snprintf(digest_out, OCI_DIGEST_LEN, "%s", digest);
	*body = q.out.data;
	*len = q.out.len;
	q.out.data = NULL;
out:
	free_request(&q);
	return r;
}

int registry_get_referrers(struct registry_client *c, const char *digest, void **body, size_t *len)
{
	struct request q = {.method = "GET", .accept = OCI_MT_INDEX, .follow = true};
	struct registry_response resp;
	long status = 0;
	int r;

	r = url_for(c, &q, "referrers", digest);
	if (!r)
		r = do_request(c, &q, &resp, &status, "referrers");
	if (r)
		goto out;
	/* no referrers API (distribution 2.8 answers 404): the tag schema then */
	if (status == 404 || status == 405 || status == 400 || !q.out.data ||
	    strncmp(resp.content_type, OCI_MT_INDEX, strlen(OCI_MT_INDEX))) {
		r = -ENOENT;
		goto out;
	}
	if (status != 200) {
		r = http_error(c, "referrers", &q, status);
		goto out;
	}
	*body = q.out.data;
	*len = q.out.len;
	q.out.data = NULL;
out:
	free_request(&q);
	return r;
}

static int blob_sink(const void *data, size_t len, void *arg)
{
	return oci_blob_writer_write(arg, data, len);
}

int registry_pull_blob(struct registry_client *c, struct oci_store *s, const struct oci_descriptor *d)
{
	struct request q = {.method = "GET", .follow = true};
	struct registry_response resp;
	struct oci_blob_writer *w = NULL;
	char what[700];
	long status = 0;
	int r;

	if (d->size < 0 || (uint64_t)d->size > OCI_MAX_BLOB) {
		sonde_err("registry %s: blob %s: size %" PRId64 " beyond the limit of %llu bytes", c->host,
		          d->digest, d->size, (unsigned long long)OCI_MAX_BLOB);
		return -EFBIG;
	}
	snprintf(what, sizeof(what), "blob %s", d->digest);
	r = url_for(c, &q, "blobs", d->digest);
	if (r)
		return r;
	r = oci_blob_writer_open(s, d->digest, d->size, &w);
	if (r)
		return r;
	q.sink = blob_sink;
	q.sink_arg = w;
	q.progress = registry_progress_new(c->opts.progress, "pull", d->digest, d->size);
	r = do_request(c, &q, &resp, &status, what);
	if (!r && status != 200)
		r = http_error(c, what, &q, status);
	if (!r) {
		r = oci_blob_writer_commit(w);
		w = NULL;
	}
	registry_progress_done(q.progress, r == 0);
	oci_blob_writer_abort(w);
	free_request(&q);
	return r;
}

int registry_blob_exists(struct registry_client *c, const char *digest)
{
	struct request q = {.method = "HEAD"};
	struct registry_response resp;
	char what[700];
	long status = 0;
	int r;

	snprintf(what, sizeof(what), "HEAD blob %s", digest);
	r = url_for(c, &q, "blobs", digest);
	if (!r)
		r = do_request(c, &q, &resp, &status, what);
	if (!r)
		r = status == 200 ? 1 : status == 404 ? 0 : http_error(c, what, &q, status);
	free_request(&q);
	return r;
}

/* The upload URL of a Location header (absolute or relative to the host). */
static int resolve_location(struct registry_client *c, const char *loc, char *buf, size_t n)
{
	int w;

	if (!*loc) {
		sonde_err("registry %s: upload answer without a Location", c->host);
		return -EPROTO;
	}
	if (!strncmp(loc, "http://", 7) || !strncmp(loc, "https://", 8))
		w = snprintf(buf, n, "%s", loc);
	else
		w = snprintf(buf, n, "%s%s%s", c->base, *loc == '/' ? "" : "/", loc);
	return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

/* One step of an upload session: the registry answers 202 Accepted and
 * where the next step goes (Location), kept in loc. With `mount`, a 201
 * says the blob was mounted instead: 1 then, and nothing more to send. */
static int upload_step(struct registry_client *c, struct request *q, struct registry_response *resp,
                       const char *what, bool mount, char *loc, size_t n)
{
	long status = 0;
	int r = do_request(c, q, resp, &status, what);

	if (r)
		return r;
	if (status == 201 && mount)
		return 1;
	if (status != 202)
		return http_error(c, what, q, status);
	return resolve_location(c, resp->location, loc, n);
}

int registry_push_blob(struct registry_client *c, struct oci_store *s, const struct oci_descriptor *d,
                       const char *from, bool *mounted)
{
	struct request q = {.method = "POST"};
	struct registry_response resp;
	char what[700], path[4096], loc[4096];
	long status = 0;
	FILE *f = NULL;
	int64_t off = 0;
	int r;

	if (mounted)
		*mounted = false;
	snprintf(what, sizeof(what), "upload of blob %s", d->digest);
	if (from) {
		char *e = curl_easy_escape(c->curl, from, 0);

		snprintf(q.url, sizeof(q.url), "%s/v2/%s/blobs/uploads/?mount=%s&from=%s", c->base, c->repo,
		         d->digest, e ? e : "");
		curl_free(e);
	} else {
		snprintf(q.url, sizeof(q.url), "%s/v2/%s/blobs/uploads/", c->base, c->repo);
	}
	r = upload_step(c, &q, &resp, what, from != NULL, loc, sizeof(loc));
	if (r == 1) {
		sonde_debug("registry %s: mounted %s from %s", c->host, d->digest, from);
		if (mounted)
			*mounted = true;
		r = 0;
		goto out;
	}
	if (r)
		goto out;
	r = oci_blob_path(s, d->digest, path, sizeof(path));
	if (r)
		goto out;
	f = fopen(path, "rbe");
	if (!f) {
		r = -errno;
		sonde_err("blob %s: %s", path, strerror(-r));
		goto out;
	}
	q.progress = registry_progress_new(c->opts.progress, "push", d->digest, d->size);
	/* big blobs in PATCH chunks: a failed chunk costs a chunk, and
	 * registries (or proxies in front) that cap a request's body still take them */
	while (d->size > (int64_t)c->opts.chunk_size && off < d->size) {
		int64_t n =
		    d->size - off < (int64_t)c->opts.chunk_size ? d->size - off : (int64_t)c->opts.chunk_size;
		char range[64];

		snprintf(range, sizeof(range), "%" PRId64 "-%" PRId64, off, off + n - 1);
		q.method = "PATCH";
		snprintf(q.url, sizeof(q.url), "%s", loc);
		q.content_type = "application/octet-stream";
		q.content_range = range;
		q.file = f;
		q.file_off = off;
		q.file_len = n;
		q.progress_base = off;
		r = upload_step(c, &q, &resp, what, false, loc, sizeof(loc));
		if (r)
			goto out;
		off += n;
	}
	/* the closing PUT: the whole blob (monolithic) or nothing after the chunks */
	{
		char *e = curl_easy_escape(c->curl, d->digest, 0);

		int w = snprintf(q.url, sizeof(q.url), "%s%sdigest=%s", loc, strchr(loc, '?') ? "&" : "?",
		                 e ? e : "");

		curl_free(e);
		if (w < 0 || (size_t)w >= sizeof(q.url)) {
			sonde_err("registry %s: upload URL too long", c->host);
			r = -ENAMETOOLONG;
			goto out;
		}
	}
	q.method = "PUT";
	q.content_type = "application/octet-stream"; /* else the registry answers 400 */
	q.content_range = NULL;
	q.file = off < d->size ? f : NULL;
	q.file_off = off;
	q.file_len = d->size - off;
	q.progress_base = off;
	if (!q.file) {
		q.body = "";
		q.body_len = 0;
	}
	r = do_request(c, &q, &resp, &status, what);
	if (!r && status != 201)
		r = http_error(c, what, &q, status);
	if (!r && !strncmp(resp.digest, "sha256:", 7) && strcmp(resp.digest, d->digest)) {
		sonde_err("registry %s: blob %s stored as %s", c->host, d->digest, resp.digest);
		r = -EBADMSG;
	}
out:
	registry_progress_done(q.progress, r == 0);
	if (f)
		fclose(f);
	free_request(&q);
	return r;
}

int registry_put_manifest(struct registry_client *c, const char *ref, const char *media_type,
                          const void *body, size_t len)
{
	struct request q = {.method = "PUT", .content_type = media_type, .body = body, .body_len = len};
	struct registry_response resp;
	char what[700], digest[OCI_DIGEST_LEN];
	long status = 0;
	int r;

	snprintf(what, sizeof(what), "PUT manifest %s%s%s", c->repo, strncmp(ref, "sha256:", 7) ? ":" : "@",
	         ref);
	r = url_for(c, &q, "manifests", ref);
	if (!r)
		r = do_request(c, &q, &resp, &status, what);
	if (!r && status != 201)
		r = http_error(c, what, &q, status);
	if (!r && !strncmp(resp.digest, "sha256:", 7)) {
		oci_digest_of(body, len, digest);
		if (strcmp(digest, resp.digest)) {
			sonde_err("registry %s: %s: stored as %s, sent %s", c->host, what, resp.digest,
			          digest);
			r = -EBADMSG;
		}
	}
	free_request(&q);
	return r;
}
