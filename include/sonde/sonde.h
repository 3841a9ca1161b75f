/* libsonde: the Sonde engine. One include for the whole public API. */
#ifndef SONDE_SONDE_H
#define SONDE_SONDE_H

#include <sonde/config.h>
#include <sonde/datasource.h>
#include <sonde/gadget.h>
#include <sonde/log.h>
#include <sonde/mntns_filter.h>
#include <sonde/operator.h>
#include <sonde/params.h>
#include <sonde/phase.h>
#include <sonde/sink.h>

#define SONDE_VERSION "0.1.0"

#endif
