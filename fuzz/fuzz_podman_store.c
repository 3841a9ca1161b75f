/* podman's storage files (containers/storage containers.json and
 * images.json), read from disk without the podman service; names, image
 * names and the metadata string-in-a-string come from whoever made the
 * container or pulled the image.
 *
 * Input: a selector byte ('C' containers.json, 'I' images.json, any other by
 * its parity), the id to look up up to the first newline, then the document.
 * A found container's image id is then looked up in the same document as an
 * images.json, the way podman_lookup chains the two. */
#include <string.h>

#include "containers/internal.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct podman_meta m = {0};
	const char *text, *nl;
	char *id;
	size_t idlen, tlen;
	bool images;

	fuzz_init_once();
	if (len == 0)
		return 0;
	images = data[0] == 'I' || (data[0] != 'C' && (data[0] & 1));
	text = (const char *)data + 1;
	tlen = len - 1;
	nl = memchr(text, '\n', tlen);
	idlen = nl ? (size_t)(nl - text) : 0;
	id = fuzz_cstring((const uint8_t *)text, idlen);
	if (!id)
		return 0;
	if (nl) {
		tlen -= idlen + 1;
		text = nl + 1;
	}
	if (images) {
		podman_images_json_find(text, tlen, id, &m);
	} else if (podman_containers_json_find(text, tlen, id, &m) == 0 && m.image_id) {
		podman_images_json_find(text, tlen, m.image_id, &m);
	}
	podman_meta_clear(&m);
	free(id);
	return 0;
}
