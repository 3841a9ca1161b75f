/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Standard process filters (pid, tid, uid, gid, comm, container) and their should_discard helpers. */
#ifndef __GADGET_FILTER_H
#define __GADGET_FILTER_H

#include <bpf/bpf_helpers.h>

#include <gadget/macros.h>
#include <gadget/types.h>
#include <gadget/mntns_filter.h>
#ifndef GADGET_TYPE_NETWORKING
#include <gadget/mntns.h>
#endif

/*
 * Parameters. The (type name, variable name) pairs are recognised by
 * userspace and exposed as keys pid, tid, uid, gid and comm.
 * "pid" is the tgid and "tid" the kernel pid, as seen from userspace.
 */
const volatile gadget_pid targ_pid = 0;                   /* 0: any */
const volatile gadget_tid targ_tid = 0;                   /* 0: any */
const volatile gadget_uid targ_uid = GADGET_INVALID_ID;   /* -1: any */
const volatile gadget_gid targ_gid = GADGET_INVALID_ID;   /* -1: any */
const volatile gadget_comm targ_comm[TASK_COMM_LEN] = {}; /* "": any */

GADGET_PARAM(targ_pid);
GADGET_PARAM(targ_tid);
GADGET_PARAM(targ_uid);
GADGET_PARAM(targ_gid);
GADGET_PARAM(targ_comm);

/*
 * The parameters live in .rodata, so once userspace wrote them the verifier
 * sees constants and prunes every check below that is not enabled.
 */
static __always_inline bool gadget_should_discard_pid(gadget_pid pid)
{
	return targ_pid != 0 && targ_pid != pid;
}

static __always_inline bool gadget_should_discard_tid(gadget_tid tid)
{
	return targ_tid != 0 && targ_tid != tid;
}

static __always_inline bool gadget_should_discard_uid(gadget_uid uid)
{
	return targ_uid != GADGET_INVALID_ID && targ_uid != uid;
}

static __always_inline bool gadget_should_discard_gid(gadget_gid gid)
{
	return targ_gid != GADGET_INVALID_ID && targ_gid != gid;
}

static __always_inline bool gadget_comm_filter_enabled(void)
{
	return targ_comm[0] != '\0';
}

/*
 * comm must point to TASK_COMM_LEN readable bytes (stack buffer, map value
 * or BTF pointer such as task->comm in an iterator). Exact match: the names
 * must be equal up to and including the first NUL.
 */
static __always_inline bool gadget_should_discard_comm(const char *comm)
{
	if (!gadget_comm_filter_enabled())
		return false;

#pragma unroll
	for (int i = 0; i < TASK_COMM_LEN; i++) {
		char want = targ_comm[i];

		if (comm[i] != want)
			return true;
		if (want == '\0')
			return false;
	}
	return false;
}

/* All filters at once, for data that is not about the current task. */
static __always_inline bool gadget_should_discard_data(gadget_mntns_id mntns_id, gadget_pid pid,
                                                       gadget_tid tid, const char *comm, gadget_uid uid,
                                                       gadget_gid gid)
{
	return gadget_should_discard_pid(pid) || gadget_should_discard_tid(tid) ||
	       gadget_should_discard_uid(uid) || gadget_should_discard_gid(gid) ||
	       gadget_should_discard_comm(comm) || gadget_should_discard_mntns_id(mntns_id);
}

#ifndef GADGET_TYPE_NETWORKING
/*
 * All filters for the current task. Cheap helpers first; comm and mntns are
 * only fetched when their filter is on.
 */
static __always_inline bool gadget_should_discard_data_current(void)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid;

	if (gadget_should_discard_pid((gadget_pid)(pid_tgid >> 32)) ||
	    gadget_should_discard_tid((gadget_tid)pid_tgid))
		return true;

	if (targ_uid != GADGET_INVALID_ID || targ_gid != GADGET_INVALID_ID) {
		uid_gid = bpf_get_current_uid_gid();
		if (gadget_should_discard_uid((gadget_uid)uid_gid) ||
		    gadget_should_discard_gid((gadget_gid)(uid_gid >> 32)))
			return true;
	}

	if (gadget_comm_filter_enabled()) {
		char comm[TASK_COMM_LEN] = {};

		bpf_get_current_comm(comm, sizeof(comm));
		if (gadget_should_discard_comm(comm))
			return true;
	}

	if (gadget_filter_by_mntns && gadget_should_discard_mntns_id(gadget_get_current_mntns_id()))
		return true;

	return false;
}
#endif /* !GADGET_TYPE_NETWORKING */

/*
 * All filters for a packet, from the gadget_sockets entry of its socket
 * (gadget_socket_lookup() in <gadget/sockets-map.h>). A packet whose socket
 * is unknown cannot be attributed to any process or container, so it is
 * discarded as soon as any filter is on and kept otherwise.
 */
static __always_inline bool gadget_should_discard_data_by_skb(struct gadget_socket_value *skb_val)
{
	if (!skb_val)
		return gadget_filter_by_mntns || targ_pid != 0 || targ_tid != 0 ||
		       targ_uid != GADGET_INVALID_ID || targ_gid != GADGET_INVALID_ID ||
		       gadget_comm_filter_enabled();

	return gadget_should_discard_data(skb_val->mntns, (gadget_pid)(skb_val->pid_tgid >> 32),
	                                  (gadget_tid)skb_val->pid_tgid, skb_val->task,
	                                  (gadget_uid)skb_val->uid_gid, (gadget_gid)(skb_val->uid_gid >> 32));
}

#endif /* __GADGET_FILTER_H */
