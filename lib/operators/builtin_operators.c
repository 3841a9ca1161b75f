/* The operators built into libsonde, registered once per process. */
#include <pthread.h>

#include <sonde/operator.h>
#include <sonde/sink.h>

#include "ebpf/ebpf.h"
#include "operators/cli.h"
#include "operators/dns_parser.h"
#include "operators/formatters.h"
#include "operators/filter.h"
#include "operators/limiter.h"
#include "operators/local_manager.h"
#include "operators/networkpolicy.h"
#include "operators/sort.h"
#include "operators/uidgid_resolver.h"
#include "operators/process.h"
#include "operators/annotate.h"
#include "operators/ustack.h"

static void register_all(void)
{
	static const struct sonde_operator *const builtin[] = {
	    &ebpf_operator,    &cli_operator,      &formatters_operator,    &filter_operator,
	    &sort_operator,    &limiter_operator,  &local_manager_operator, &uidgid_resolver_operator,
	    &process_operator, &annotate_operator, &ustack_operator,        &dns_parser_operator,
	    &networkpolicy_operator,
	};

	ebpf_pf_hook_install();         /* before any thread opens a BPF object */
	sonde_register_builtin_sinks(); /* what the cli operator prints through */
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		sonde_operator_register(builtin[i]);
}

/* Threads that each set up a run may all call this. */
void sonde_register_builtin_operators(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, register_all);
}
