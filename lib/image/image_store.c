/* The public handle of the local store: a thin wrapper over the OCI layout
 * code, with the default location. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sonde/image.h>
#include <sonde/log.h>

#include "image/oci.h"

struct sonde_image_store {
	struct oci_store *oci;
};

int sonde_image_store_default_dir(char *buf, size_t n)
{
	int len;
	if (geteuid() == 0) {
		len = snprintf(buf, n, "/var/lib/sonde/oci-store");
	} else {
		const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
		if (xdg && xdg[0] == '/')
			len = snprintf(buf, n, "%s/sonde/oci-store", xdg);
		else if (home && *home)
			len = snprintf(buf, n, "%s/.local/share/sonde/oci-store", home);
		else {
			sonde_err("cannot find the image store: neither XDG_DATA_HOME nor HOME is set (use "
			          "--store)");
			return -ENOENT;
		}
	}
	return (size_t)len >= n ? -ENAMETOOLONG : 0;
}

int sonde_image_store_open(const char *dir, bool read_only, struct sonde_image_store **out)
{
	*out = NULL;
	char def[4096];
	if (!dir) {
		int err = sonde_image_store_default_dir(def, sizeof(def));
		if (err)
			return err;
		dir = def;
	}
	struct sonde_image_store *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	int err = oci_store_open(dir, read_only ? OCI_STORE_READ_ONLY : 0, &s->oci);
	if (err) {
		free(s);
		return err;
	}
	*out = s;
	return 0;
}

void sonde_image_store_close(struct sonde_image_store *s)
{
	if (!s)
		return;
	oci_store_close(s->oci);
	free(s);
}

const char *sonde_image_store_dir(const struct sonde_image_store *s)
{
	return oci_store_dir(s->oci);
}

struct oci_store *oci_store_of(struct sonde_image_store *s)
{
	return s->oci;
}
