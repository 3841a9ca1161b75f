/* L3/L4 endpoints: IP addresses as Go's net.IP prints them, IANA protocol
 * names, and "addr:port". */
#ifndef SONDE_FORMAT_ENDPOINT_H
#define SONDE_FORMAT_ENDPOINT_H

#include <stddef.h>
#include <stdint.h>

/* An IPv6 address is at most 39 characters. */
#define FMT_IP_MAX       48
#define FMT_ENDPOINT_MAX 56
#define FMT_PROTO_MAX    24

/* net.IP(addr).String() for version 4 (first 4 bytes: dotted quad) or 6 (all
 * 16: RFC 5952 "::" compression, lower-case hex, IPv4-mapped addresses as a
 * dotted quad). Any other version writes "" and returns 0. */
size_t fmt_ip(const uint8_t addr[16], uint8_t version, char *buf, size_t cap);
/* "<ip>:<port>" (no brackets around IPv6, as upstream); "" for a bad version. */
size_t fmt_l4endpoint(const uint8_t addr[16], uint8_t version, uint16_t port, char *buf, size_t cap);
/* IANA protocol keyword ("TCP", "UDP", "IPv6-ICMP"); NULL if unassigned. */
const char *ip_proto_name(uint16_t proto);
/* The name, else "proto#N". Returns the length. */
size_t fmt_ip_proto(uint16_t proto, char *buf, size_t cap);

#endif
