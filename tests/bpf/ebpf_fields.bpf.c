// SPDX-License-Identifier: GPL-2.0
/* Field inference fixture: nested structs, unions, char and int arrays, enums,
 * typedef chains and the special gadget_* types. Never loaded, only parsed. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

/* The gadget ABI markers, spelled out so the fixture does not depend on
 * include/gadget (the loader only sees the emitted symbols). */
#define GADGET_TRACER(name, map_name, event_type)                                                    \
	const void *gadget_tracer_##name##___##map_name##___##event_type __attribute__((unused));    \
	const struct event_type *__gadget_tracer_type_##name __attribute__((unused))

typedef __u32 gadget_pid;
typedef __u64 gadget_mntns_id;
typedef __u64 gadget_timestamp;
typedef __u32 gadget_uid;
typedef __u32 gadget_gid;
typedef char gadget_comm;
typedef __u32 level_t; /* typedef chain: level_t -> __u32 -> unsigned int */

enum color { RED, GREEN, BLUE };
enum perm_set { PERM_NONE = 0, PERM_R = 1, PERM_W = 2, PERM_X = 4 };
enum small_enum : __u8 { SMALL_A, SMALL_B };

struct gadget_creds {
	gadget_uid uid;
	gadget_gid gid;
};

struct gadget_parent {
	gadget_comm comm[16];
	gadget_pid pid;
};

struct gadget_process {
	gadget_comm comm[16];
	gadget_pid pid;
	gadget_mntns_id mntns_id;
	struct gadget_creds creds;
	struct gadget_parent parent;
};

struct inner {
	__u16 a;
	__s8 b;
};

struct event {
	gadget_timestamp timestamp_raw;
	struct gadget_process proc;
	char name[32];
	__u32 counts[4];
	enum color color_raw;
	enum small_enum small;
	level_t level;
	struct inner in;
	union {
		__u32 u32v;
		__u8 bytes4[4];
	} un;
	bool flag;
	__s64 delta;
	float ratio;
	double ratio2;
	__u32 __private;
	__u8 last;
	enum perm_set perms_raw;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

GADGET_TRACER(fields, events, event);

char LICENSE[] SEC("license") = "GPL";
