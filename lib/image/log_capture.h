/* Turning a callee's error message into part of the caller's one line:
 * the parsers log what is wrong with a document, the store says which file
 * it was. */
#ifndef SONDE_IMAGE_LOG_CAPTURE_H
#define SONDE_IMAGE_LOG_CAPTURE_H

#include <sonde/log.h>

struct oci_log_capture {
	struct sonde_log_target target;
	const struct sonde_log_target *prev;
	char msg[512]; /* the first error logged meanwhile, "" if none */
};

/* Until oci_log_capture_end, this thread's errors go to c->msg (the first
 * one) and nowhere else. */
void oci_log_capture_begin(struct oci_log_capture *c);
void oci_log_capture_end(struct oci_log_capture *c);

#endif
