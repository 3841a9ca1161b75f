// SPDX-License-Identifier: GPL-2.0
/*
 * <bpf/bpf_helpers.h> as gadgets written for libbpf 1.3 use it, whatever the
 * system libbpf: open-coded iterator loops, bpf_ksym_exists(), kptr tags.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

extern int bpf_sonde_no_such_kfunc(void) __weak __ksym;

struct holder {
	struct task_struct __kptr_untrusted *untrusted;
	struct task_struct __kptr *trusted;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct holder);
} holders SEC(".maps");

__u64 values[16];
__u64 sink;

SEC("tc")
int loops(struct __sk_buff *skb)
{
	int i, *p;

	bpf_for(i, 0, 16) values[i] = i; /* i proven within [0, 16) */
	bpf_repeat(3) sink++;
	bpf_for_each(num, p, 2, 5) sink += *p;
	if (bpf_ksym_exists(bpf_sonde_no_such_kfunc))
		sink += bpf_sonde_no_such_kfunc();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
/* expect-btf: 'bpf_iter_num_new' type_id=[0-9]+ linkage=extern */
/* expect-btf: 'holder' size=16 */
