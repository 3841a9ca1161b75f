// SPDX-License-Identifier: GPL-2.0
/* Param fixture: one GADGET_PARAM per supported type, never loaded. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/macros.h>
#include <gadget/types.h>

const volatile gadget_pid targ_pid = 0;
const volatile gadget_comm targ_comm[TASK_COMM_LEN] = {};
const volatile gadget_uid targ_uid = (__u32)-1;
const volatile bool collect_ustack = false;
const volatile bool enabled = true;
const volatile __s8 small = -5;
const volatile __s64 big = -1234567890123LL;
const volatile __u16 port = 8080;
const volatile __u64 huge = 18446744073709551615ULL;
const volatile char label[8] = "abc";
const volatile float ratio = 0.5f;
const volatile double precise = 2.25;
const volatile struct gadget_l3endpoint_t target = {};
const volatile __u32 renamed = 7;

GADGET_PARAM(targ_pid);
GADGET_PARAM(targ_comm);
GADGET_PARAM(targ_uid);
GADGET_PARAM(collect_ustack);
GADGET_PARAM(enabled);
GADGET_PARAM(small);
GADGET_PARAM(big);
GADGET_PARAM(port);
GADGET_PARAM(huge);
GADGET_PARAM(label);
GADGET_PARAM(ratio);
GADGET_PARAM(precise);
GADGET_PARAM(target);
GADGET_PARAM(renamed);

char LICENSE[] SEC("license") = "GPL";
