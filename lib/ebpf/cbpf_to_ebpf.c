/* Classic BPF (what libpcap compiles) to the eBPF body of a GADGET_PF stub.
 *
 * The body is a whole bpf-to-bpf subprogram: R1 is the skb (the program's
 * context), R0 its verdict, 1 when the packet passes, else 0 (the stub
 * returns a bool). The classic machine maps onto callee-saved registers,
 * which a subprogram may use freely:
 *   R6 the skb, R7 the accumulator A, R8 the index register X,
 *   M[0..15] 32-bit slots at fp-64 .. fp-4, fp-72 a load buffer.
 * Socket filters have no direct packet access, so every packet load goes
 * through bpf_skb_load_bytes (both program types have it) and is then
 * converted from network byte order; a read past the end makes the filter
 * answer 0, as in classic BPF. Arithmetic is 32-bit (ALU32/JMP32), as in
 * classic BPF, with libpcap's interpreter semantics where they differ from
 * eBPF's: a division or modulo by X == 0 answers 0, a shift by X >= 32
 * gives 0.
 *
 * The verifier refuses unreachable code and backward jumps: only classic
 * instructions reachable from the first are emitted, and backward jumps
 * (libpcap's `protochain`) are refused with a reason. */
#include <stdio.h>

#include "cbpf.h"
#include "internal.h"
#include "util/array.h"

#ifndef BPF_RVAL
#define BPF_RVAL(code) ((code)&0x18)
#endif
#ifndef BPF_A
#define BPF_A 0x10
#endif
#ifndef BPF_MISCOP
#define BPF_MISCOP(code) ((code)&0xf8)
#endif
#ifndef BPF_TAX
#define BPF_TAX 0x00
#endif
#ifndef BPF_TXA
#define BPF_TXA 0x80
#endif
#define CBPF_MEMWORDS 16

#define R_SKB      BPF_REG_6
#define R_A        BPF_REG_7
#define R_X        BPF_REG_8
#define MEM_OFF(i) (-64 + 4 * (int)(i))
#define BUF_OFF    (-72)
#define RET0       UINT32_MAX /* jump target: the shared "answer 0" exit */

#define INSN(c, d, s, o, i)                                                                                  \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

struct fixup {
	size_t at;       /* eBPF jump instruction */
	uint32_t target; /* classic instruction index, or RET0 */
};

struct emitter {
	struct bpf_insn *v;
	size_t n, cap;
	struct fixup *fix;
	size_t nfix, fixcap;
	bool need_ret0;
	int err;
};

static void put(struct emitter *e, struct bpf_insn insn)
{
	if (e->err)
		return;
	if (grow_array((void **)&e->v, &e->cap, e->n + 1, sizeof(*e->v))) {
		e->err = -ENOMEM;
		return;
	}
	e->v[e->n++] = insn;
}

/* A jump whose offset is resolved once every classic instruction has its place. */
static void put_jump(struct emitter *e, struct bpf_insn insn, uint32_t target)
{
	if (e->err)
		return;
	if (grow_array((void **)&e->fix, &e->fixcap, e->nfix + 1, sizeof(*e->fix))) {
		e->err = -ENOMEM;
		return;
	}
	e->fix[e->nfix++] = (struct fixup){.at = e->n, .target = target};
	if (target == RET0)
		e->need_ret0 = true;
	put(e, insn);
}

/* dst = packet[off .. off+size) in host order; off is k, or X + k (ind). */
static void emit_load(struct emitter *e, uint8_t dst, uint32_t size_code, uint32_t k, bool ind)
{
	int size = size_code == BPF_W ? 4 : size_code == BPF_H ? 2 : 1;

	put(e, INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, R_SKB, 0, 0));
	/* a 32-bit move zero-extends: k stays the unsigned offset it is */
	put(e, INSN(BPF_ALU | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, (int32_t)k));
	if (ind) {
		/* X + k in 64 bits cannot wrap around to a small offset; the
		 * helper takes a u32, so anything past INT_MAX answers 0 here */
		put(e, INSN(BPF_ALU64 | BPF_ADD | BPF_X, BPF_REG_2, R_X, 0, 0));
		put_jump(e, INSN(BPF_JMP | BPF_JGT | BPF_K, BPF_REG_2, 0, 0, INT32_MAX), RET0);
	}
	put(e, INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_10, 0, 0));
	put(e, INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_3, 0, 0, BUF_OFF));
	put(e, INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_4, 0, 0, size));
	put(e, INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_skb_load_bytes));
	put_jump(e, INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_0, 0, 0, 0), RET0);
	put(e, INSN(BPF_LDX | BPF_MEM | size_code, dst, BPF_REG_10, BUF_OFF, 0));
	if (size > 1)
		put(e, INSN(BPF_ALU | BPF_END | BPF_TO_BE, dst, 0, 0, size * 8));
}

static int bad(char *why, size_t whylen, size_t pc, const char *what)
{
	snprintf(why, whylen, "classic BPF instruction %zu: %s", pc, what);
	return -EINVAL;
}

/* Inverse condition for "if not cond goto jf", 0 if eBPF has none. */
static uint8_t inverse(uint8_t op)
{
	switch (op) {
	case BPF_JEQ:
		return BPF_JNE;
	case BPF_JGT:
		return BPF_JLE;
	case BPF_JGE:
		return BPF_JLT;
	default:
		return 0;
	}
}

/* Checks targets and operands; marks what is reachable and which memory
 * slots are read (they are zeroed first: the verifier wants initialised
 * stack, classic BPF programs may read a slot before any store). */
static int check(const struct ebpf_cbpf_insn *c, size_t n, bool *reach, bool *mem_read, char *why,
                 size_t whylen)
{
	reach[0] = true;
	for (size_t pc = 0; pc < n; pc++) {
		const struct ebpf_cbpf_insn *i = &c[pc];
		uint16_t cls = BPF_CLASS(i->code);
		bool falls = true;

		if (!reach[pc])
			continue;
		switch (cls) {
		case BPF_LD:
		case BPF_LDX:
			switch (BPF_MODE(i->code)) {
			case BPF_IMM:
			case BPF_LEN:
				if (BPF_SIZE(i->code) != BPF_W)
					return bad(why, whylen, pc, "unknown load size");
				break;
			case BPF_MEM:
				if (BPF_SIZE(i->code) != BPF_W)
					return bad(why, whylen, pc, "unknown load size");
				if (i->k >= CBPF_MEMWORDS)
					return bad(why, whylen, pc, "memory slot out of range");
				mem_read[i->k] = true;
				break;
			case BPF_ABS:
			case BPF_IND:
				if (cls == BPF_LDX)
					return bad(why, whylen, pc, "unknown load");
				if (BPF_SIZE(i->code) != BPF_W && BPF_SIZE(i->code) != BPF_H &&
				    BPF_SIZE(i->code) != BPF_B)
					return bad(why, whylen, pc, "unknown load size");
				break;
			case BPF_MSH:
				if (cls != BPF_LDX || BPF_SIZE(i->code) != BPF_B)
					return bad(why, whylen, pc, "unknown load");
				break;
			default:
				return bad(why, whylen, pc, "unknown load");
			}
			break;
		case BPF_ST:
		case BPF_STX:
			if (i->code != cls)
				return bad(why, whylen, pc, "unknown store");
			if (i->k >= CBPF_MEMWORDS)
				return bad(why, whylen, pc, "memory slot out of range");
			break;
		case BPF_ALU:
			switch (BPF_OP(i->code)) {
			case BPF_DIV:
			case BPF_MOD:
				if (BPF_SRC(i->code) == BPF_K && i->k == 0)
					return bad(why, whylen, pc, "division by zero");
				break;
			case BPF_LSH:
			case BPF_RSH:
				if (BPF_SRC(i->code) == BPF_K && i->k >= 32)
					return bad(why, whylen, pc, "shift by 32 bits or more");
				break;
			case BPF_ADD:
			case BPF_SUB:
			case BPF_MUL:
			case BPF_OR:
			case BPF_AND:
			case BPF_XOR:
				break;
			case BPF_NEG:
				if (BPF_SRC(i->code) != BPF_K)
					return bad(why, whylen, pc, "unknown ALU operation");
				break;
			default:
				return bad(why, whylen, pc, "unknown ALU operation");
			}
			break;
		case BPF_JMP:
			if (BPF_OP(i->code) == BPF_JA) {
				if (BPF_SRC(i->code) != BPF_K)
					return bad(why, whylen, pc, "unknown jump");
				/* libpcap sign-extends k: protochain jumps back */
				int64_t t = (int64_t)pc + 1 + (int32_t)i->k;

				if (t <= (int64_t)pc)
					return bad(why, whylen, pc,
					           "backward jump (a loop, e.g. protochain), which eBPF "
					           "packet filters cannot run");
				if (t >= (int64_t)n)
					return bad(why, whylen, pc, "jump out of the program");
				reach[t] = true;
				falls = false;
				break;
			}
			if (BPF_OP(i->code) != BPF_JEQ && BPF_OP(i->code) != BPF_JGT &&
			    BPF_OP(i->code) != BPF_JGE && BPF_OP(i->code) != BPF_JSET)
				return bad(why, whylen, pc, "unknown jump");
			if (pc + 1 + i->jt >= n || pc + 1 + i->jf >= n)
				return bad(why, whylen, pc, "jump out of the program");
			reach[pc + 1 + i->jt] = true;
			reach[pc + 1 + i->jf] = true;
			falls = false;
			break;
		case BPF_RET:
			if (BPF_RVAL(i->code) != BPF_K && BPF_RVAL(i->code) != BPF_A)
				return bad(why, whylen, pc, "unknown return");
			falls = false;
			break;
		case BPF_MISC:
			if (BPF_MISCOP(i->code) != BPF_TAX && BPF_MISCOP(i->code) != BPF_TXA)
				return bad(why, whylen, pc, "unknown instruction");
			break;
		default:
			return bad(why, whylen, pc, "unknown instruction class");
		}
		if (falls && pc + 1 < n)
			reach[pc + 1] = true;
	}
	return 0;
}

static void emit_alu(struct emitter *e, const struct ebpf_cbpf_insn *i)
{
	uint8_t op = BPF_OP(i->code);

	if (op == BPF_NEG) {
		put(e, INSN(BPF_ALU | BPF_NEG, R_A, 0, 0, 0));
		return;
	}
	if (BPF_SRC(i->code) == BPF_K) {
		put(e, INSN(BPF_ALU | op | BPF_K, R_A, 0, 0, (int32_t)i->k));
		return;
	}
	if (op == BPF_DIV || op == BPF_MOD) {
		/* eBPF divides by zero quietly; classic BPF rejects the packet */
		put_jump(e, INSN(BPF_JMP32 | BPF_JEQ | BPF_K, R_X, 0, 0, 0), RET0);
	} else if (op == BPF_LSH || op == BPF_RSH) {
		/* if (X < 32) A op= X; else A = 0; */
		put(e, INSN(BPF_JMP32 | BPF_JLT | BPF_K, R_X, 0, 2, 32));
		put(e, INSN(BPF_ALU | BPF_MOV | BPF_K, R_A, 0, 0, 0));
		put(e, INSN(BPF_JMP | BPF_JA, 0, 0, 1, 0));
	}
	put(e, INSN(BPF_ALU | op | BPF_X, R_A, R_X, 0, 0));
}

static void emit_jump(struct emitter *e, const struct ebpf_cbpf_insn *i, size_t pc)
{
	uint8_t op = BPF_OP(i->code), src = BPF_SRC(i->code);
	uint32_t t = (uint32_t)(pc + 1 + i->jt), f = (uint32_t)(pc + 1 + i->jf);
	uint8_t sreg = src == BPF_X ? R_X : 0;
	int32_t imm = src == BPF_K ? (int32_t)i->k : 0;

	if (op == BPF_JA) {
		put_jump(e, INSN(BPF_JMP | BPF_JA, 0, 0, 0, 0), (uint32_t)(pc + 1 + (int32_t)i->k));
		return;
	}
	if (t == f) {
		put_jump(e, INSN(BPF_JMP | BPF_JA, 0, 0, 0, 0), t);
		return;
	}
	if (i->jt == 0 && inverse(op)) {
		put_jump(e, INSN(BPF_JMP32 | inverse(op) | src, R_A, sreg, 0, imm), f);
		put_jump(e, INSN(BPF_JMP | BPF_JA, 0, 0, 0, 0), t);
		return;
	}
	/* JMP32: compares the low 32 bits against k as a u32, as classic BPF
	 * does (a 64-bit compare would sign-extend k) */
	put_jump(e, INSN(BPF_JMP32 | op | src, R_A, sreg, 0, imm), t);
	put_jump(e, INSN(BPF_JMP | BPF_JA, 0, 0, 0, 0), f);
}

static void emit_one(struct emitter *e, const struct ebpf_cbpf_insn *i, size_t pc)
{
	uint16_t cls = BPF_CLASS(i->code);
	uint8_t dst = cls == BPF_LDX ? R_X : R_A;

	switch (cls) {
	case BPF_LD:
	case BPF_LDX:
		switch (BPF_MODE(i->code)) {
		case BPF_IMM:
			put(e, INSN(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, (int32_t)i->k));
			break;
		case BPF_LEN:
			put(e,
			    INSN(BPF_LDX | BPF_MEM | BPF_W, dst, R_SKB, offsetof(struct __sk_buff, len), 0));
			break;
		case BPF_MEM:
			put(e, INSN(BPF_LDX | BPF_MEM | BPF_W, dst, BPF_REG_10, MEM_OFF(i->k), 0));
			break;
		case BPF_ABS:
			emit_load(e, R_A, BPF_SIZE(i->code), i->k, false);
			break;
		case BPF_IND:
			emit_load(e, R_A, BPF_SIZE(i->code), i->k, true);
			break;
		case BPF_MSH: /* X = (P[k] & 0xf) << 2 */
			emit_load(e, R_X, BPF_B, i->k, false);
			put(e, INSN(BPF_ALU | BPF_AND | BPF_K, R_X, 0, 0, 0xf));
			put(e, INSN(BPF_ALU | BPF_LSH | BPF_K, R_X, 0, 0, 2));
			break;
		}
		break;
	case BPF_ST:
		put(e, INSN(BPF_STX | BPF_MEM | BPF_W, BPF_REG_10, R_A, MEM_OFF(i->k), 0));
		break;
	case BPF_STX:
		put(e, INSN(BPF_STX | BPF_MEM | BPF_W, BPF_REG_10, R_X, MEM_OFF(i->k), 0));
		break;
	case BPF_ALU:
		emit_alu(e, i);
		break;
	case BPF_JMP:
		emit_jump(e, i, pc);
		break;
	case BPF_RET:
		if (BPF_RVAL(i->code) == BPF_K) {
			put(e, INSN(BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, i->k != 0));
		} else {
			put(e, INSN(BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1));
			put(e, INSN(BPF_JMP32 | BPF_JNE | BPF_K, R_A, 0, 1, 0));
			put(e, INSN(BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0));
		}
		put(e, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
		break;
	case BPF_MISC:
		if (BPF_MISCOP(i->code) == BPF_TAX)
			put(e, INSN(BPF_ALU | BPF_MOV | BPF_X, R_X, R_A, 0, 0));
		else
			put(e, INSN(BPF_ALU | BPF_MOV | BPF_X, R_A, R_X, 0, 0));
		break;
	}
}

int ebpf_cbpf_to_ebpf(const struct ebpf_cbpf_insn *c, size_t n, struct bpf_insn **out, size_t *nout,
                      char *why, size_t whylen)
{
	struct emitter e = {0};
	bool mem_read[CBPF_MEMWORDS] = {0};
	bool *reach = NULL;
	size_t *start = NULL, ret0 = 0;
	int err;

	*out = NULL;
	*nout = 0;
	if (n == 0 || n > 65536) {
		snprintf(why, whylen, "classic BPF program of %zu instructions", n);
		return -EINVAL;
	}
	reach = calloc(n, sizeof(*reach));
	start = calloc(n + 1, sizeof(*start));
	if (!reach || !start) {
		err = -ENOMEM;
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	err = check(c, n, reach, mem_read, why, whylen);
	if (err)
		goto out;

	put(&e, INSN(BPF_ALU64 | BPF_MOV | BPF_X, R_SKB, BPF_REG_1, 0, 0));
	put(&e, INSN(BPF_ALU | BPF_MOV | BPF_K, R_A, 0, 0, 0));
	put(&e, INSN(BPF_ALU | BPF_MOV | BPF_K, R_X, 0, 0, 0));
	for (int m = 0; m < CBPF_MEMWORDS; m++)
		if (mem_read[m])
			put(&e, INSN(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, MEM_OFF(m), 0));
	for (size_t pc = 0; pc < n; pc++) {
		start[pc] = e.n;
		if (!reach[pc])
			continue;
		emit_one(&e, &c[pc], pc);
		/* the last instruction falls off the end: classic BPF would
		 * stop there; answer 0 */
		if (pc + 1 == n && BPF_CLASS(c[pc].code) != BPF_RET && BPF_CLASS(c[pc].code) != BPF_JMP)
			put_jump(&e, INSN(BPF_JMP | BPF_JA, 0, 0, 0, 0), RET0);
	}
	start[n] = e.n;
	if (e.need_ret0) {
		ret0 = e.n;
		put(&e, INSN(BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0));
		put(&e, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	}
	if (e.err) {
		err = e.err;
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	for (size_t f = 0; f < e.nfix; f++) {
		size_t to = e.fix[f].target == RET0 ? ret0 : start[e.fix[f].target];
		int64_t off = (int64_t)to - (int64_t)e.fix[f].at - 1;

		if (off < INT16_MIN || off > INT16_MAX) {
			snprintf(why, whylen, "the filter is too large (a jump of %lld instructions)",
			         (long long)off);
			err = -E2BIG;
			goto out;
		}
		e.v[e.fix[f].at].off = (int16_t)off;
	}
	*out = e.v;
	*nout = e.n;
	e.v = NULL;
out:
	free(e.v);
	free(e.fix);
	free(reach);
	free(start);
	return err;
}
