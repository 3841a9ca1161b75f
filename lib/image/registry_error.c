/* What a registry says when it refuses: its distribution-spec error body
 * turned into one printable line (fuzzed: fuzz_registry_error), and its
 * HTTP status as words and as an errno. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "image/registry.h"

void registry_error_text(const char *body, size_t len, char *out, size_t n)
{
	json_error_t jerr;
	json_t *doc = NULL, *errors;
	size_t o = 0;

	if (!n)
		return;
	out[0] = 0;
	if (!body || !len)
		return;
	if (len <= REGISTRY_ERROR_BODY_MAX)
		doc = json_loadb(body, len, 0, &jerr);
	errors = json_is_object(doc) ? json_object_get(doc, "errors") : NULL;
	if (json_is_array(errors) && json_array_size(errors)) {
		size_t i;
		json_t *e;

		json_array_foreach(errors, i, e)
		{
			const char *code = json_string_value(json_object_get(e, "code"));
			const char *msg = json_string_value(json_object_get(e, "message"));
			int w;

			if (i == 4 || o + 1 >= n)
				break;
			if (!code && !msg)
				continue;
			w = snprintf(out + o, n - o, "%s%s%s%s", o ? "; " : "", code ? code : "",
			             code && msg && *msg ? ": " : "", msg ? msg : "");
			if (w < 0)
				break;
			o += (size_t)w < n - o ? (size_t)w : n - o - 1;
		}
	} else if (!doc || !json_is_object(doc) || !json_object_get(doc, "errors")) {
		/* not the spec's shape: the start of the text, one line */
		size_t i;

		for (i = 0; i < len && o + 1 < n && o < 200; i++) {
			char ch = body[i];

			if (ch == '\n' || ch == '\r') {
				if (o)
					break;
				continue;
			}
			out[o++] = ch;
		}
		out[o] = 0;
	}
	json_decref(doc);
	/* one line of printable ASCII: what the registry sent goes to a terminal */
	for (size_t i = 0; out[i]; i++)
		if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] >= 0x7f)
			out[i] = '?';
}

const char *registry_status_text(long status)
{
	switch (status) {
	case 400:
		return "bad request";
	case 401:
		return "unauthorized";
	case 403:
		return "forbidden";
	case 404:
		return "not found";
	case 405:
		return "method not allowed";
	case 409:
		return "conflict";
	case 413:
		return "too large";
	case 416:
		return "range not satisfiable";
	case 429:
		return "too many requests";
	case 500:
		return "internal server error";
	case 502:
		return "bad gateway";
	case 503:
		return "service unavailable";
	default:
		return "unexpected status";
	}
}

int registry_status_errno(long status)
{
	switch (status) {
	case 401:
		return -EACCES;
	case 403:
		return -EPERM;
	case 404:
		return -ENOENT;
	case 429:
		return -EAGAIN;
	case 413:
		return -EFBIG;
	default:
		return status >= 500 ? -EIO : -EPROTO;
	}
}
