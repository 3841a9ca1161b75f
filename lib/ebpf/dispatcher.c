/* Dispatchers of socket filters and TC classifiers (spec §2.8).
 *
 * The gadget's program is loaded once; each attachment (a network
 * namespace, an interface) gets a tiny program of its own that records
 * which network namespace the packet belongs to in skb->cb[0] and
 * tail-calls the gadget's program through a one-slot PROG_ARRAY. Upstream
 * compiles this program from C; it is eight instructions, so it is built
 * here directly rather than shipping a second object. */
#include <fcntl.h>
#include <linux/pkt_cls.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sonde/log.h>

#include "internal.h"

/* The few uapi-less instruction encoders needed (linux/filter.h is kernel-only). */
#define INSN(c, d, s, o, i)                                                                                  \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define MOV64_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define STX_W(d, s, o)  INSN(BPF_STX | BPF_MEM | BPF_W, d, s, o, 0)
#define CALL(f)         INSN(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT()          INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

int ebpf_dispatch_array(int prog_fd, const char *prog_name)
{
	uint32_t key = 0, val = (uint32_t)prog_fd;
	int fd, err;

	fd = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "ig_tail_call", 4, 4, 1, NULL);
	if (fd < 0) {
		err = -errno;
		sonde_err("program '%s': cannot create its tail-call map: %s", prog_name, strerror(-err));
		return err;
	}
	if (bpf_map_update_elem(fd, &key, &val, BPF_ANY)) {
		err = -errno;
		sonde_err("program '%s': cannot put it in its tail-call map: %s", prog_name, strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

int ebpf_dispatcher_load(enum bpf_prog_type type, int array_fd, uint32_t netns, char *why, size_t whylen)
{
	/* after a tail call that fails (no program), the packet goes on untouched */
	int ret = type == BPF_PROG_TYPE_SCHED_CLS ? TC_ACT_UNSPEC : 0;
	struct bpf_insn insns[] = {
	    MOV64_IMM(BPF_REG_2, (int32_t)netns),
	    /* the verifier refuses immediate stores into the context: via r2 */
	    STX_W(BPF_REG_1, BPF_REG_2, offsetof(struct __sk_buff, cb[0])),
	    INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_2, BPF_PSEUDO_MAP_FD, 0, array_fd),
	    INSN(0, 0, 0, 0, 0),
	    MOV64_IMM(BPF_REG_3, 0),
	    CALL(BPF_FUNC_tail_call),
	    MOV64_IMM(BPF_REG_0, ret),
	    EXIT(),
	};
	char log[1024] = "";
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = log, .log_size = sizeof(log), .log_level = 0);
	int fd = bpf_prog_load(type, "ig_net_disp", "GPL", insns, sizeof(insns) / sizeof(insns[0]), &opts);

	if (fd < 0) {
		int err = -errno;

		snprintf(why, whylen, "cannot load the dispatcher: %s%s%s", strerror(-err), *log ? ": " : "",
		         log);
		return err;
	}
	return fd;
}

struct netns_call {
	int nsfd;
	int (*fn)(void *arg);
	void *arg;
	int ret;
};

/* A thread of its own: setns changes only the calling thread's network
 * namespace, and the thread ends there, so no other thread ever runs in
 * the container's namespace and none has to come back. */
static void *netns_thread(void *arg)
{
	struct netns_call *c = arg;

	if (setns(c->nsfd, CLONE_NEWNET)) {
		c->ret = -errno;
		return NULL;
	}
	c->ret = c->fn(c->arg);
	return NULL;
}

int ebpf_netns_open(uint32_t pid, uint64_t *ino)
{
	char path[64];
	struct stat st;
	int fd;

	/* the host is where sonde runs (upstream: pid 1's, which a sandboxed
	 * sonde may not even be allowed to open) */
	if (pid)
		snprintf(path, sizeof(path), "/proc/%u/ns/net", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/net");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		int err = -errno;

		close(fd);
		return err;
	}
	*ino = (uint64_t)st.st_ino;
	return fd;
}

int ebpf_in_netns(int nsfd, int (*fn)(void *arg), void *arg)
{
	struct netns_call c = {.nsfd = nsfd, .fn = fn, .arg = arg};
	pthread_t t;
	int err;

	err = pthread_create(&t, NULL, netns_thread, &c);
	if (err)
		return -err;
	pthread_join(t, NULL);
	return c.ret;
}

int ebpf_att_users_add(struct ebpf_att_users *u, const char *id)
{
	char *dup;

	for (size_t i = 0; i < u->n; i++)
		if (strcmp(u->ids[i], id) == 0)
			return 0; /* attached twice: still one user */
	dup = strdup(id);
	if (!dup || append_array(&u->ids, &u->n, &dup, sizeof(dup))) {
		free(dup);
		return -ENOMEM;
	}
	return 0;
}

bool ebpf_att_users_drop(struct ebpf_att_users *u, const char *id)
{
	for (size_t i = 0; i < u->n; i++)
		if (strcmp(u->ids[i], id) == 0) {
			free(u->ids[i]);
			u->ids[i] = u->ids[--u->n];
			break;
		}
	return u->n == 0;
}

void ebpf_att_users_free(struct ebpf_att_users *u)
{
	for (size_t i = 0; i < u->n; i++)
		free(u->ids[i]);
	free(u->ids);
	u->ids = NULL;
	u->n = 0;
}
