/* sonde version */
#include <bpf/libbpf.h>
#include <stdio.h>

#include <sonde/sonde.h>

#include "cmd.h"

int cmd_version(int argc, char **argv)
{
	printf("sonde %s (libbpf %u.%u)\n", SONDE_VERSION, libbpf_major_version(), libbpf_minor_version());
	return 0;
}
