/* See log_capture.h. */
#include <stdio.h>
#include <string.h>

#include "image/log_capture.h"

static void capture(enum sonde_log_level level, const char *msg, void *arg)
{
	struct oci_log_capture *c = arg;
	if (level == SONDE_LOG_ERROR && !c->msg[0])
		snprintf(c->msg, sizeof(c->msg), "%s", msg);
}

void oci_log_capture_begin(struct oci_log_capture *c)
{
	memset(c, 0, sizeof(*c));
	c->target = (struct sonde_log_target){.fn = capture, .arg = c, .level = SONDE_LOG_ERROR};
	c->prev = sonde_log_bind(&c->target);
}

void oci_log_capture_end(struct oci_log_capture *c)
{
	sonde_log_bind(c->prev);
}
