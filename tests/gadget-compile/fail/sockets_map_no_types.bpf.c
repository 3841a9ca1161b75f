// SPDX-License-Identifier: GPL-2.0
/* expect-error: Include <linux/types.h> or <vmlinux.h> before <gadget/sockets-map.h> */
#include <gadget/sockets-map.h>
