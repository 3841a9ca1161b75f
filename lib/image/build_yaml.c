/* build.yaml: which files of a gadget directory make the image (spec §1.7).
 * Keys as upstream's parser reads them: ebpfsource, metadata, wasm. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/config.h>
#include <sonde/log.h>

#include "image/build.h"
#include "util/file.h"

#define BUILD_FILE_MAX (64u << 10)

static int set_key(const struct sonde_config *cfg, const char *path, const char *key, char *dst, size_t n)
{
	struct sonde_config *v = sonde_config_get(cfg, key);
	const char *s;

	if (!v)
		return 0;
	s = sonde_config_scalar(v);
	if (!s || strlen(s) >= n) {
		sonde_err("%s: \"%s\" must be a file name", path, key);
		return -EINVAL;
	}
	snprintf(dst, n, "%s", s);
	return 0;
}

int build_file_read(const char *path, bool optional, struct build_file *out)
{
	static const char *const known[] = {"ebpfsource", "metadata", "wasm", "cflags"};
	struct sonde_config *cfg;
	char why[256] = "", *text = NULL;
	size_t len;
	int err;

	memset(out, 0, sizeof(*out));
	snprintf(out->ebpfsource, sizeof(out->ebpfsource), "program.bpf.c");
	snprintf(out->metadata, sizeof(out->metadata), "gadget.yaml");
	if (!path)
		return 0;
	err = util_read_file(path, BUILD_FILE_MAX, &text, &len);
	if (err == -ENOENT && optional)
		return 0;
	if (err < 0) {
		sonde_err("reading %s: %s", path, strerror(-err));
		return err;
	}
	cfg = sonde_config_parse(text, len, why, sizeof(why));
	free(text);
	if (!cfg) {
		sonde_err("%s: %s", path, why);
		return -EINVAL;
	}
	if (sonde_config_type(cfg) == SONDE_CONFIG_MAP) {
		for (size_t i = 0; i < sonde_config_len(cfg); i++) {
			const char *k = sonde_config_key_at(cfg, i);
			bool ok = false;

			for (size_t j = 0; j < sizeof(known) / sizeof(known[0]); j++)
				ok |= !strcasecmp(k, known[j]);
			if (!ok)
				sonde_warn("%s: unknown key \"%s\" ignored", path, k);
		}
	} else if (sonde_config_type(cfg) != SONDE_CONFIG_NULL) {
		sonde_err("%s: not a map of keys", path);
		sonde_config_free(cfg);
		return -EINVAL;
	}
	err = set_key(cfg, path, "ebpfsource", out->ebpfsource, sizeof(out->ebpfsource));
	if (!err)
		err = set_key(cfg, path, "metadata", out->metadata, sizeof(out->metadata));
	if (!err)
		err = set_key(cfg, path, "wasm", out->wasm, sizeof(out->wasm));
	if (!err && sonde_config_get(cfg, "cflags"))
		sonde_warn("%s: \"cflags\" is not read (upstream's builder ignores it too)", path);
	sonde_config_free(cfg);
	return err;
}
