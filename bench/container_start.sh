#!/bin/bash
# Container start latency added by Sonde's exec hold (root).
#
# N `runc run` starts of a busybox container running /bin/true, timed from
# the runtime's exec to its exit: first with no tracer, then under
# `sonde run trace_exec` (containers only: each start is held until the
# container is in the kernel's filter map), then under trace_open. Prints
# median and p99 per case and what Sonde adds to each.
#
#   bench/container_start.sh [BUILD_DIR]      (N=100 by default)
set -euo pipefail

BUILD=${1:-build}
N=${N:-100}
SONDE=$BUILD/sonde
TMP=$(mktemp -d /tmp/sonde-bench-start.XXXXXX)
SONDE_PID=
cleanup() {
	[ -n "$SONDE_PID" ] && kill -INT "$SONDE_PID" 2>/dev/null && wait "$SONDE_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || { echo "container_start.sh: needs root" >&2; exit 1; }
[ -x "$SONDE" ] || { echo "container_start.sh: build first (make build)" >&2; exit 1; }
command -v runc >/dev/null && [ -x /bin/busybox ] || { echo "container_start.sh: needs runc and busybox-static" >&2; exit 1; }

mkdir -p "$TMP/rootfs/bin" "$TMP/rootfs/proc" "$TMP/rootfs/dev" "$TMP/bundle"
cp /bin/busybox "$TMP/rootfs/bin/"
ln -s busybox "$TMP/rootfs/bin/true"
cat >"$TMP/bundle/config.json" <<JSON
{"ociVersion":"1.0.2","process":{"terminal":false,"user":{"uid":0,"gid":0},"args":["/bin/true"],
 "env":["PATH=/bin"],"cwd":"/"},"root":{"path":"$TMP/rootfs","readonly":true},
 "mounts":[{"destination":"/proc","type":"proc","source":"proc"}],
 "linux":{"namespaces":[{"type":"pid"},{"type":"ipc"},{"type":"uts"},{"type":"mount"}]}}
JSON

# starts CASE: N timed starts, one ms value per line in $TMP/CASE
starts() {
	local name=$1 i t0 t1
	: >"$TMP/$name"
	for i in $(seq 1 "$N"); do
		t0=$(date +%s%N)
		runc run --bundle "$TMP/bundle" "sonde-bench-$$-$i" >/dev/null
		t1=$(date +%s%N)
		runc delete -f "sonde-bench-$$-$i" 2>/dev/null || true
		echo "$(((t1 - t0) / 1000))" >>"$TMP/$name"
	done
}

# stat CASE: "median p99" in ms (from µs)
stat() {
	sort -n "$TMP/$1" | awk '{v[NR]=$1} END {m=v[int((NR+1)/2)]; p=v[int(NR*0.99+0.999)];
		printf "%.2f %.2f", m/1000, p/1000}'
}

under() {
	local name=$1
	shift
	"$SONDE" run "$@" -o none 2>"$TMP/$name.err" &
	SONDE_PID=$!
	sleep 1.5
	starts "$name"
	kill -INT "$SONDE_PID"
	wait "$SONDE_PID" || true
	SONDE_PID=
	grep -c "warning: containers:" "$TMP/$name.err" >"$TMP/$name.warn" || true
	grep "warning: containers:" "$TMP/$name.err" >&2 || true
}

starts bare
under trace_exec trace_exec
under trace_open trace_open
read -r bm bp <<<"$(stat bare)"
printf "%-12s %10s %10s %12s %12s %9s\n" case median_ms p99_ms added_median added_p99 warnings
printf "%-12s %10s %10s %12s %12s %9s\n" bare "$bm" "$bp" - - -
for c in trace_exec trace_open; do
	read -r m p <<<"$(stat $c)"
	printf "%-12s %10s %10s %12.2f %12.2f %9s\n" "$c" "$m" "$p" "$(echo "$m - $bm" | bc)" \
		"$(echo "$p - $bp" | bc)" "$(cat "$TMP/$c.warn")"
done
