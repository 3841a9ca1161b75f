#!/bin/sh
# Runs the libFuzzer targets (see fuzz/README.md).
#
#   run.sh smoke <fuzzer> <max_len> <runs> <seed dir>
#       ctest's smoke: every seed once, then <runs> inputs from a fixed seed.
#       New inputs go to a scratch directory removed afterwards, so a run
#       never depends on an earlier one and never writes to the source tree.
#   run.sh long <manifest> <fuzzer dir>
#       Each target of the manifest (written by fuzz/CMakeLists.txt: name,
#       max_len, seed dir) for FUZZ_TIME seconds (default 600), one after the
#       other, in one process each (the machine is shared). The corpus grows in
#       $FUZZ_CORPUS/<name> (default /var/tmp/sonde-fuzz, outside the source
#       and build trees so `make clean` keeps it); crashes, leaks, timeouts and
#       oracle failures are saved in $FUZZ_CORPUS/crashes/<name>/. FUZZ_TARGETS
#       (space-separated names) limits the run. Exits 1 if anything was saved.
set -u

smoke() {
	fuzzer=$1 max_len=$2 runs=$3 seeds=$4
	scratch=$(mktemp -d "${TMPDIR:-/tmp}/sonde-fuzz-smoke.XXXXXX") || exit 1
	# artifacts next to the scratch corpus would vanish: keep them in the cwd
	# (ctest runs in the build tree) under the target's name
	"$fuzzer" -seed=1 -runs="$runs" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$(basename "$fuzzer")-" "$scratch" "$seeds"
	rc=$?
	rm -rf "$scratch"
	exit $rc
}

long() {
	manifest=$1 bindir=$2
	corpus=${FUZZ_CORPUS:-/var/tmp/sonde-fuzz}
	time=${FUZZ_TIME:-600}
	found=0
	while read -r name max_len seeds; do
		case " ${FUZZ_TARGETS:-$name} " in *" $name "*) ;; *) continue ;; esac
		mkdir -p "$corpus/$name" "$corpus/crashes/$name" || exit 1
		before=$(ls "$corpus/$name" | wc -l)
		saved=$(ls "$corpus/crashes/$name" | wc -l)
		echo "== fuzz_$name: $time s, corpus $corpus/$name ($before inputs), seeds $seeds"
		# -print_final_stats: exec/s and coverage for the log; a crash stops
		# only this target, the next one still runs
		"$bindir/fuzz_$name" -max_total_time="$time" -max_len="$max_len" -timeout=10 \
			-rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix="$corpus/crashes/$name/" "$corpus/$name" "$seeds" \
			>"$corpus/$name.log" 2>&1
		rc=$?
		grep -E '^#[0-9]+[[:space:]]+DONE|^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)' \
			"$corpus/$name.log"
		echo "   corpus $before -> $(ls "$corpus/$name" | wc -l) inputs; log $corpus/$name.log"
		if [ "$rc" != 0 ] || [ "$(ls "$corpus/crashes/$name" | wc -l)" != "$saved" ]; then
			echo "   FOUND (exit $rc): $(ls -t "$corpus/crashes/$name" | head -3 | tr '\n' ' ')"
			found=1
		fi
	done <"$manifest"
	exit $found
}

mode=$1
shift
case "$mode" in
smoke) smoke "$@" ;;
long) long "$@" ;;
*)
	echo "usage: $0 smoke <fuzzer> <max_len> <runs> <seed dir> | long <manifest> <fuzzer dir>" >&2
	exit 2
	;;
esac
