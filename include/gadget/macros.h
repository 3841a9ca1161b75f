/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Gadget ABI markers: macros emitting the BTF symbols the Sonde/IG loader discovers. */
#ifndef __GADGET_MACROS_H
#define __GADGET_MACROS_H

/*
 * Every macro below declares one or more uninitialised global variables.
 * They cost nothing at run time: they only exist so that their *names*
 * (split on "___") land in the object's BTF, where userspace reads them
 * (spec section 2.1). The last declaration of every macro deliberately has
 * no trailing ';' so that the usual "MACRO(...);" spelling stays clean.
 */
#define __GADGET_UNUSED __attribute__((unused))

/*
 * GADGET_TRACER(name, map_name, event_type): datasource <name> is fed by the
 * ring buffer (or perf array) <map_name>; every record is a struct <event_type>.
 * The second variable keeps struct <event_type> in BTF even if only used
 * through pointers.
 */
#define GADGET_TRACER(name, map_name, event_type)                                                            \
	const void *gadget_tracer_##name##___##map_name##___##event_type __GADGET_UNUSED;                    \
	const struct event_type *__gadget_tracer_type_##name __GADGET_UNUSED

/* GADGET_PARAM(var): the global "const volatile" variable <var> is a user parameter. */
#define GADGET_PARAM(name) const void *gadget_param_##name __GADGET_UNUSED

/* Helpers for the 1..3 program variants of GADGET_ITER / GADGET_SNAPSHOTTER. */
#define __GADGET_ITER_PICK(_1, _2, _3, which, ...) which
#define __GADGET_ITER_1(name, type, p1)            const void *gadget_iter_##name##___##type##___##p1 __GADGET_UNUSED
#define __GADGET_ITER_2(name, type, p1, p2)                                                                  \
	const void *gadget_iter_##name##___##type##___##p1##___##p2 __GADGET_UNUSED
#define __GADGET_ITER_3(name, type, p1, p2, p3)                                                              \
	const void *gadget_iter_##name##___##type##___##p1##___##p2##___##p3 __GADGET_UNUSED

/*
 * GADGET_ITER(name, type, prog1[, prog2[, prog3]]): datasource <name> (array)
 * made of the bpf_seq_write() output of the SEC("iter/...") programs, each
 * record being a struct <type>.
 */
#define GADGET_ITER(name, type, ...)                                                                         \
	const struct type *unusedevent_##name##___##type __GADGET_UNUSED;                                    \
	__GADGET_ITER_PICK(__VA_ARGS__, __GADGET_ITER_3, __GADGET_ITER_2, __GADGET_ITER_1, unused)           \
	(name, type, __VA_ARGS__)

/* Deprecated spelling of GADGET_ITER (emits exactly the same symbols). */
#define GADGET_SNAPSHOTTER(name, type, ...) GADGET_ITER(name, type, __VA_ARGS__)

/*
 * GADGET_MAPITER(name, mapname): datasource <name> (array) made by draining
 * the BPF_MAP_TYPE_HASH <mapname> (key and value must be structs).
 */
#define GADGET_MAPITER(name, mapname) const void *gadget_mapiter_##name##___##mapname __GADGET_UNUSED

/* Bind the SEC("iter/bpf_map_elem") program <prog_name> to map <mapname>. */
#define GADGET_ITER_TARGET_MAP(prog_name, mapname)                                                           \
	const void *gadget_mapelem_iter_target_##prog_name##___##mapname __GADGET_UNUSED

/* Bind the sk_skb / sk_msg program <prog_name> to SOCKMAP/SOCKHASH <mapname>. */
#define GADGET_SK_TARGET_MAP(prog_name, mapname)                                                             \
	const void *gadget_sk_prog_target_##prog_name##___##mapname __GADGET_UNUSED

#endif /* __GADGET_MACROS_H */
