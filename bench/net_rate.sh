#!/bin/bash
# The network gadgets at full rate on loopback (issue: hardening, 2026-12-07):
# sonde run tcpdump -o pcap-ng and trace_dns -o json while udp_flood
# processes send as fast as they can. For each case: datagrams caused,
# events delivered and reported lost (delivered + lost must equal caused:
# every datagram is one egress and one ingress packet on lo), delivered/s,
# Sonde's CPU, peak RSS, the time from SIGINT to exit, and whether the
# output parses (tcpdump -r, jq). Last, SIGINT with stdout a pipe whose
# reader never reads. Not part of CI; root; lo must be quiet otherwise.
#
#   bench/net_rate.sh [BUILD_DIR]      (env SECS: flood length, default 5)
set -uo pipefail

BUILD=${1:-build}
SONDE=$BUILD/sonde
FLOOD=$BUILD/bench/udp_flood
SECS=${SECS:-5}
TMP=$(mktemp -d /tmp/sonde-netrate.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT

[ "$(id -u)" -eq 0 ] || { echo "net_rate.sh: needs root" >&2; exit 1; }
command -v tcpdump >/dev/null && command -v jq >/dev/null || { echo "net_rate.sh: needs tcpdump and jq" >&2; exit 1; }

start_sonde() { # out err args...
	local out=$1 err=$2
	shift 2
	: >"$err" # empty before the wait below reads it: the redirection happens in the child
	"$SONDE" "$@" -v >"$out" 2>"$err" &
	PID=$!
	for _ in $(seq 1500); do grep -q ': running' "$err" && return 0; sleep 0.01; done
	echo "net_rate.sh: sonde did not start: $(tail -3 "$err")" >&2
	exit 1
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# name gadget-args flood-args... (each "PORT LEN" pair is one flooder)
run_case() {
	local title=$1 name=${1// /_} args=$2
	shift 2
	local out=$TMP/out.$name err=$TMP/err.$name caused=0 t0 t1 c0 c1 hwm k0 k1 rc delivered lost valid
	start_sonde "$out" "$err" $args
	c0=$(cpu_ticks "$PID")
	t0=$(date +%s%N)
	local pids=() i=0
	for f in "$@"; do
		"$FLOOD" ${f% *} "$SECS" ${f#* } >"$TMP/f$i" &
		pids+=($!)
		i=$((i + 1))
	done
	wait "${pids[@]}"
	t1=$(date +%s%N)
	c1=$(cpu_ticks "$PID")
	hwm=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status")
	k0=$(date +%s%N)
	kill -INT "$PID"
	wait "$PID"
	rc=$?
	k1=$(date +%s%N)
	PID=
	for ((j = 0; j < i; j++)); do caused=$((caused + 2 * $(cat "$TMP/f$j"))); done
	lost=$(grep -o 'lost [0-9]* events' "$err" | awk '{s += $2} END {print s + 0}')
	if [[ $args == *pcap-ng* ]]; then
		delivered=$(tcpdump -r "$out" 2>/dev/null | wc -l)
		tcpdump -r "$out" >/dev/null 2>"$TMP/check" && ! grep -qi 'truncat\|error' "$TMP/check" && valid=yes || valid=NO
	else
		delivered=$(grep -c '"dst":{[^}]*"port":5353' "$out")
		jq -c . "$out" >/dev/null 2>&1 && valid=yes || valid=NO
	fi
	printf '| %s | %d | %d | %d | %s | %.0f k/s | %d %% | %d MiB | %d ms | exit %d, output valid: %s |\n' \
		"$title" "$caused" "$delivered" "$lost" "$([ $((delivered + lost)) -eq "$caused" ] && echo yes || echo NO)" \
		"$(echo "$delivered / (($t1 - $t0) / 1000000)" | bc -l)" $(((c1 - c0) * 100 * 1000000000 / (t1 - t0) / $(getconf CLK_TCK))) \
		$((hwm / 1024)) $(((k1 - k0) / 1000000)) "$rc" "$valid"
}

echo "| case | caused | delivered | lost (reported) | sum = caused | delivered/s | sonde CPU | peak RSS | SIGINT to exit | |"
echo "|---|---|---|---|---|---|---|---|---|---|"
[ -n "${ONLY_DNS:-}" ] || run_case "tcpdump -o pcap-ng, 1 flooder, 64 B" "run tcpdump --iface lo -o pcap-ng" "40101 64"
[ -n "${ONLY_DNS:-}" ] || run_case "tcpdump -o pcap-ng, 3 flooders, 1400 B" "run tcpdump --iface lo -o pcap-ng" "40101 1400" "40102 1400" "40103 1400"
run_case "trace_dns --host -o json, 2 DNS flooders" "run trace_dns --host -o json" "5353 dns" "5353 dns"

# stdout a pipe whose reader never reads: SIGINT must still end the run
mkfifo "$TMP/fifo"
exec 3<>"$TMP/fifo"
start_sonde "$TMP/fifo" "$TMP/err" run tcpdump --iface lo -o pcap-ng
"$FLOOD" 40101 2 1400 >/dev/null
k0=$(date +%s%N)
kill -INT "$PID"
for _ in $(seq 300); do kill -0 "$PID" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$PID" 2>/dev/null; then
	echo "blocked reader: sonde still running 15 s after SIGINT" >&2
	exit 1
fi
wait "$PID"
rc=$?
PID=
echo "blocked reader: SIGINT to exit $((($(date +%s%N) - k0) / 1000000)) ms, exit $rc: $(grep -c 'took nothing' "$TMP/err") warning"
exec 3<&-
