/* The DNS parser operator: what upstream's trace_dns does in its wasm
 * module (gadgets/trace_dns/go/program.go), in C, since sonde runs no wasm.
 *
 * Data operator "dnsparser", phase ENRICH (so --filter and the sinks see
 * its fields). It works on a DataSource that carries DNS packets, found in
 * one of two ways:
 *  - explicitly, by the DataSource annotation `dns.parse: <bytes field>`
 *    (the packet), with `dns.offset: <integer field>` giving where the DNS
 *    message starts in it (0 without it): sonde's built-in trace_dns says
 *    `dns.parse: data`, `dns.offset: dns_off`;
 *  - by upstream's shape, for upstream's own trace_dns image whose wasm
 *    layer sonde skips: a `data` bytes field (the ebpf.rest payload) with
 *    integer fields `dns_off` and `data_len`.
 * Either way not when the DataSource already has a `qr` field (someone
 * else parsed it).
 *
 * It adds upstream's fields, with upstream's names, kinds and renderings:
 *   id          string  the message ID, 4 lower-case hex digits ("%.4x")
 *   qr_raw      bool    response?           qr     string "Q" or "R"
 *   qtype_raw   uint16  first question's type
 *   qtype       string  "A", "AAAA", … (upstream's table), else the number
 *   name        string  first question's name, with the trailing dot
 *   rcode_raw   uint16  responses only      rcode  string "Success",
 *                       "NameError", … (else the number); empty for queries
 *   num_answers int32   answer records
 *   addresses   string  A/AAAA answers, comma-separated, as Go prints IPs
 *   tc, ra, rd  bool    header flags
 * A packet whose message does not parse (lib/net/dns_message.h) gets none
 * of them, as upstream; how many did not is reported once at stop. Nothing
 * is parsed while no sink requests one of the fields. */
#ifndef SONDE_OPERATORS_DNS_PARSER_H
#define SONDE_OPERATORS_DNS_PARSER_H

#include <sonde/operator.h>

extern const struct sonde_operator dns_parser_operator;

#endif
