#!/bin/bash
# Tracer overhead and footprint, Sonde against its peers, in one run (root).
#
# A workload opens and closes a file N times, bare and then under each tracer
# printing the same events (pid, comm, fd/error, file name), each filtered to
# the workload's comm. Per tracer: ns per open+close, slowdown versus bare,
# events delivered / caused (and lost, when the tracer reports it). Then
# Sonde's footprint: time from exec to attached, peak RSS, binary size.
#
#   bench/overhead.sh [BUILD_DIR]      (N=1000000 by default; env N, RUNS)
# Peers (libbpf-tools opensnoop, bpftrace) are installed from apt when missing.
set -euo pipefail

BUILD=${1:-build}
N=${N:-1000000}
SONDE=$BUILD/sonde
LOOP=$BUILD/bench/open_loop
TMP=$(mktemp -d /tmp/sonde-bench.XXXXXX)
TARGET=$TMP/target # the file the workload opens: only its events are counted
trap 'rm -rf "$TMP"' EXIT

[ "$(id -u)" -eq 0 ] || { echo "overhead.sh: needs root" >&2; exit 1; }
[ -x "$SONDE" ] && [ -x "$LOOP" ] || { echo "overhead.sh: build first (make build)" >&2; exit 1; }
for tool in /usr/sbin/opensnoop /usr/bin/bpftrace; do
	if [ ! -x "$tool" ]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			libbpf-tools bpftrace >/dev/null
		break
	fi
done

BPFTRACE_PROG='tracepoint:syscalls:sys_enter_openat /comm == "open_loop"/ { @f[tid] = args->filename; }
tracepoint:syscalls:sys_exit_openat /@f[tid]/ { printf("%d %s %d %s\n", pid, comm, args->ret, str(@f[tid])); delete(@f[tid]); }'

# run_under NAME CMD...: starts the tracer (its lines naming TARGET counted), runs the
# workload, stops the tracer by PID; sets NS, LINES, ERRFILE.
run_under() {
	local name=$1
	shift
	ERRFILE=$TMP/$name.err
	"$@" > >(grep -c "$TARGET" >"$TMP/$name.count") 2>"$ERRFILE" &
	local pid=$!
	# wait until attached: Sonde says "running" (-v); peers get 3 s
	if [ "$name" = sonde ]; then
		for _ in $(seq 1500); do grep -q running "$ERRFILE" && break; sleep 0.01; done
	else
		sleep 3
	fi
	NS=$("$LOOP" "$N" "$TARGET")
	sleep 1
	if [ "$name" = sonde ]; then
		PEAK_RSS_KB=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
	fi
	kill -INT "$pid"
	wait "$pid" || true
	sleep 0.5 # let grep finish
	LINES=$(cat "$TMP/$name.count")
}

row() { # name ns delivered lost
	awk -v name="$1" -v ns="$2" -v bare="$BARE" -v d="$3" -v lost="$4" -v n="$N" 'BEGIN {
		printf "| %s | %.0f | %.2fx | %d / %d (%.1f%%) | %s |\n", name, ns, ns / bare, d, n, 100 * d / n, lost }'
}

touch "$TARGET"
BARE=$("$LOOP" "$N" "$TARGET")
echo "Tracer overhead: $N open+close calls by one process; $(nproc) CPUs; $(uname -r); $(date -u +%F)"
echo
echo "| tracer | ns/op | slowdown | delivered / caused | lost (reported) |"
echo "|---|---|---|---|---|"
printf '| bare | %.0f | 1.00x | - | - |\n' "$BARE"

run_under sonde "$SONDE" run trace_open --host -v --comm open_loop -o json
lost_in() { { grep -io "$1" "$ERRFILE" || true; } | awk '{s += $2} END {print s + 0}'; }
row "sonde trace_open -o json" "$NS" "$LINES" "$(lost_in 'lost [0-9]*')"

run_under opensnoop /usr/sbin/opensnoop -n open_loop
row "opensnoop (libbpf-tools)" "$NS" "$LINES" "$(lost_in 'lost [0-9]*')"

run_under bpftrace /usr/bin/bpftrace -e "$BPFTRACE_PROG"
row "bpftrace one-liner" "$NS" "$LINES" "$(lost_in 'lost [0-9]*')"

# Footprint: exec to "running" (every program attached), best of 5; cold =
# no CO-RE BTF cache (first run of a gadget on a kernel), warm = with it.
start_ms() {
	local best= start end ms pid
	for _ in 1 2 3 4 5; do
		start=$(date +%s%N)
		"$SONDE" run trace_open --host -v -o none 2>"$TMP/start.err" &
		pid=$!
		for _ in $(seq 3000); do grep -q running "$TMP/start.err" && break; sleep 0.001; done
		end=$(date +%s%N)
		kill -INT "$pid"
		wait "$pid" || true
		ms=$(((end - start) / 1000000))
		if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
	done
	echo "$best"
}
COLD=$(SONDE_CACHE_DIR= start_ms)
export SONDE_CACHE_DIR=$TMP/cache
"$SONDE" run trace_open --host -o none --timeout 0.1 2>/dev/null # generates the cache
sleep 2
WARM=$(start_ms)
unset SONDE_CACHE_DIR
echo
echo "| footprint | value |"
echo "|---|---|"
echo "| start to attached, first run on this kernel (trace_open, best of 5) | ${COLD} ms |"
echo "| start to attached, later runs (CO-RE BTF cached) | ${WARM} ms |"
echo "| peak RSS during the overhead run | $((PEAK_RSS_KB / 1024)) MiB |"
echo "| binary size (\`sonde\`, with built-in gadgets) | $(( $(stat -c %s "$SONDE") / 1024 )) KiB |"
