#!/bin/bash
# Cost of trace_exec's eBPF programs per exec, measured by the kernel (root).
#
# With kernel.bpf_stats_enabled on (restored after), runs `sonde run trace_exec
# --host` with and without --paths while a loop execs /bin/true N times, then
# prints each program's run_time_ns / run_cnt. Unlike timing the exec loop,
# which on a shared machine varies by more than the programs cost, this is the
# programs' own time. A second sonde binary (OTHER=path) is measured the same
# way, for a before/after comparison.
#
#   bench/exec_cost.sh [BUILD_DIR]     (env N=2000, RUNS=2, OTHER=)
set -euo pipefail

BUILD=${1:-build}
N=${N:-2000}
RUNS=${RUNS:-2}
[ "$(id -u)" -eq 0 ] || { echo "exec_cost.sh: needs root" >&2; exit 1; }
[ -x "$BUILD/sonde" ] || { echo "exec_cost.sh: build first (make build)" >&2; exit 1; }
command -v bpftool >/dev/null || { echo "exec_cost.sh: needs bpftool" >&2; exit 1; }

old=$(sysctl -n kernel.bpf_stats_enabled)
trap 'sysctl -qw kernel.bpf_stats_enabled=$old' EXIT
sysctl -qw kernel.bpf_stats_enabled=1

# The newest program of each name: the run just started (bpftool may lack pid info).
measure() {
	local label=$1 bin=$2 p
	shift 2
	"$bin" run trace_exec --host -o json "$@" >/dev/null 2>&1 &
	p=$!
	sleep 3
	for ((i = 0; i < N; i++)); do /bin/true; done
	bpftool prog show -j | python3 -c '
import json, sys
best = {}
for e in json.load(sys.stdin):
    n = e.get("name", "")
    if n in ("ig_execve_e", "ig_sched_exec", "ig_execve_x") and (n not in best or e["id"] > best[n]["id"]):
        best[n] = e
tot = sum(e.get("run_time_ns", 0) // max(1, e.get("run_cnt", 0)) for e in best.values())
print("%-14s" % sys.argv[1], "  ".join("%s %5d ns" % (n, e.get("run_time_ns", 0) // max(1, e.get("run_cnt", 0)))
      for n, e in sorted(best.items())), "  total %5d ns" % tot)' "$label"
	kill -INT "$p"
	wait "$p" || true
}

for ((r = 0; r < RUNS; r++)); do
	measure sonde "$BUILD/sonde"
	measure sonde-paths "$BUILD/sonde" --paths
	if [ -n "${OTHER:-}" ]; then
		measure other "$OTHER"
		measure other-paths "$OTHER" --paths
	fi
done
