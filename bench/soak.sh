#!/bin/bash
# Soak: `sonde run trace_open -o json` under a steady workload (a few thousand
# opens per second) for DURATION seconds (default 600). Samples Sonde's RSS
# every 10 s and sums the lost events it reports. Fails if RSS after the first
# minute grows by more than 2 MiB, or if any event is lost. Not part of CI.
#
#   bench/soak.sh [BUILD_DIR]      (env DURATION, RATE_SLEEP: pause between batches)
set -euo pipefail

BUILD=${1:-build}
DURATION=${DURATION:-600}
SONDE=$BUILD/sonde
LOOP=$BUILD/bench/open_loop
TMP=$(mktemp -d /tmp/sonde-soak.XXXXXX)
trap 'kill "$WORK" 2>/dev/null || true; rm -rf "$TMP"' EXIT

[ "$(id -u)" -eq 0 ] || { echo "soak.sh: needs root" >&2; exit 1; }
touch "$TMP/target"

"$SONDE" run trace_open --host -v --comm open_loop -o json > >(grep -c "$TMP/target" >"$TMP/count") 2>"$TMP/err" &
SONDE_PID=$!
for _ in $(seq 1500); do grep -q running "$TMP/err" && break; sleep 0.01; done

# steady workload: batches of 100 opens, RATE_SLEEP apart (about 5000 opens/s)
(
	while :; do
		"$LOOP" 100 "$TMP/target" >/dev/null
		sleep "${RATE_SLEEP:-0.02}"
	done
) &
WORK=$!

echo "| t (s) | RSS (KiB) |"
echo "|---|---|"
start=$(date +%s)
base=
max=0
while [ $(($(date +%s) - start)) -lt "$DURATION" ]; do
	sleep 10
	rss=$(awk '/VmRSS/ {print $2}' "/proc/$SONDE_PID/status")
	t=$(($(date +%s) - start))
	echo "| $t | $rss |"
	if [ "$t" -ge 60 ] && [ -z "$base" ]; then base=$rss; fi
	if [ "$rss" -gt "$max" ]; then max=$rss; fi
done
kill "$WORK"
wait "$WORK" 2>/dev/null || true
sleep 0.5
kill -INT "$SONDE_PID"
wait "$SONDE_PID" || true
sleep 0.5
lost=$({ grep -o 'lost [0-9]*' "$TMP/err" || true; } | awk '{s += $2} END {print s + 0}')
delivered=$(cat "$TMP/count")
echo
echo "delivered $delivered events, lost $lost; RSS after 1 min ${base:-n/a} KiB, max $max KiB"
if [ "$lost" -ne 0 ]; then
	echo "soak: FAIL: events lost"
	exit 1
fi
if [ -n "$base" ] && [ "$max" -gt $((base + 2048)) ]; then
	echo "soak: FAIL: RSS grew by $((max - base)) KiB"
	exit 1
fi
echo "soak: ok"
