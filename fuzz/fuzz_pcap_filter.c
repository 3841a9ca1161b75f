/* Packet filters (`--pf`, also from remote clients): the first byte picks
 * the input. 'e': the rest is a pcap-filter expression, compiled by libpcap
 * then translated; otherwise the rest is raw classic BPF instructions (8
 * bytes each) given to the translator directly. Oracle: a translation that
 * succeeds is an eBPF body the verifier can take in shape: every jump and
 * call lands inside it and forward, the last instruction is an exit, and a
 * refusal says why. */
#include "ebpf/cbpf.h"
#include "ebpf/internal.h"
#include "fuzz_input.h"

static void check_body(const struct bpf_insn *v, size_t n)
{
	FUZZ_CHECK(n > 0);
	FUZZ_CHECK(v[n - 1].code == (BPF_JMP | BPF_EXIT));
	for (size_t i = 0; i < n; i++) {
		uint8_t cls = BPF_CLASS(v[i].code), op = BPF_OP(v[i].code);

		if ((cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_CALL && op != BPF_EXIT) {
			int64_t t = (int64_t)i + 1 + v[i].off;

			FUZZ_CHECK(t > (int64_t)i && t < (int64_t)n);
		}
		if (cls == BPF_JMP && op == BPF_CALL)
			FUZZ_CHECK(v[i].src_reg == 0 && v[i].imm == BPF_FUNC_skb_load_bytes);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct ebpf_cbpf_insn *c = NULL;
	struct bpf_insn *out = NULL;
	size_t n = 0, nout = 0;
	char why[512] = "";
	int err;

	fuzz_init_once();
	if (len < 1)
		return 0;
	if (data[0] == 'e') {
		char *expr = fuzz_cstring(data + 1, len - 1);

		if (!expr)
			return 0;
		err = ebpf_pcap_compile(expr, &c, &n, why, sizeof(why));
		free(expr);
		if (err) {
			FUZZ_CHECK(*why);
			return 0;
		}
	} else {
		n = (len - 1) / sizeof(*c);
		c = malloc((n ? n : 1) * sizeof(*c));
		if (!c)
			return 0;
		memcpy(c, data + 1, n * sizeof(*c));
	}
	why[0] = 0;
	err = ebpf_cbpf_to_ebpf(c, n, &out, &nout, why, sizeof(why));
	if (err)
		FUZZ_CHECK(*why && !out);
	else
		check_body(out, nout);
	free(out);
	free(c);
	return 0;
}
