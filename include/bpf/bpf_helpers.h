/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * <bpf/bpf_helpers.h> as gadgets written for upstream's builder (libbpf
 * 1.3 headers) expect it, on top of the system's libbpf (see
 * <bpf/bpf_tracing.h> here for how the wrapping works). Adds what libbpf
 * 1.1 lacks: the kptr type tags, bpf_ksym_exists() and the open-coded
 * iterator loops bpf_for_each(), bpf_for() and bpf_repeat() (which need a
 * kernel with BPF iterator kfuncs, 6.4 or later, at load time).
 */
#ifndef __SONDE_BPF_HELPERS_COMPAT_H
#define __SONDE_BPF_HELPERS_COMPAT_H

#include_next <bpf/bpf_helpers.h>

#ifndef __kptr_untrusted
#define __kptr_untrusted __attribute__((btf_type_tag("kptr_untrusted")))
#endif
#ifndef __percpu_kptr
#define __percpu_kptr __attribute__((btf_type_tag("percpu_kptr")))
#endif

/*
 * True when the kernel has sym, a __weak __ksym (or __kconfig) extern:
 * libbpf resolves a missing weak symbol to 0. A non-weak sym would be
 * folded to a constant by the compiler, hence the assertion.
 */
#ifndef bpf_ksym_exists
#define bpf_ksym_exists(sym)                                                                                 \
	({                                                                                                   \
		_Static_assert(!__builtin_constant_p(!!(sym)), #sym " must be declared __weak");             \
		!!(sym);                                                                                     \
	})
#endif

/* The numbers iterator (kfuncs): what bpf_for() and bpf_repeat() run on. */
struct bpf_iter_num;
extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __weak __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __weak __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __weak __ksym;

/*
 * The loops below declare the iterator in the for() header with a cleanup
 * attribute, so that break, continue and return all destroy it as the
 * verifier requires. ___p exists only to call the constructor once; naming
 * the destructor in its initializer makes clang emit its BTF, which it
 * does not do for a function only used by cleanup().
 */

/* for (cur = first element; cur; cur = next): bpf_for_each(num, p, 0, 10) { *p ... } */
#ifndef bpf_for_each
#define bpf_for_each(type, cur, args...)                                                                     \
	for (struct bpf_iter_##type ___it __attribute__((aligned(8), cleanup(bpf_iter_##type##_destroy))),   \
	     *___p __attribute__((unused)) =                                                                 \
	         (bpf_iter_##type##_new(&___it, ##args), (void)bpf_iter_##type##_destroy, (void *)0);        \
	     ((cur) = bpf_iter_##type##_next(&___it));)
#endif

/*
 * i from start up to end - 1. The bounds check after each step proves
 * start <= i < end to the verifier, so i can index an array directly.
 * start and end are evaluated more than once: no side effects.
 */
#ifndef bpf_for
#define bpf_for(i, start, end)                                                                               \
	for (struct bpf_iter_num ___it __attribute__((aligned(8), cleanup(bpf_iter_num_destroy))),           \
	     *___p __attribute__((unused)) =                                                                 \
	         (bpf_iter_num_new(&___it, (start), (end)), (void)bpf_iter_num_destroy, (void *)0);          \
	     ({                                                                                              \
		     int *___t = bpf_iter_num_next(&___it);                                                  \
		     ___t && ((i) = *___t, (i) >= (start) && (i) < (end));                                   \
	     });)
#endif

/* N iterations, no counter. */
#ifndef bpf_repeat
#define bpf_repeat(N)                                                                                        \
	for (struct bpf_iter_num ___it __attribute__((aligned(8), cleanup(bpf_iter_num_destroy))),           \
	     *___p __attribute__((unused)) =                                                                 \
	         (bpf_iter_num_new(&___it, 0, (N)), (void)bpf_iter_num_destroy, (void *)0);                  \
	     bpf_iter_num_next(&___it);)
#endif

#endif /* __SONDE_BPF_HELPERS_COMPAT_H */
