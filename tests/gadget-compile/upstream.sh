#!/bin/sh
# Compiles upstream Inspektor Gadget's gadget sources against Sonde's
# include/gadget/ with upstream's own clang flags, once per compiler, and
# prints one line per gadget plus a summary.  This measures the promise
# "a gadget written for upstream builds against Sonde's headers unchanged";
# it needs a checkout (or bare mirror) of upstream, so it is a tool run by
# hand, not a ctest test (those compile tests/gadget-compile/*.bpf.c).
#
#   tests/gadget-compile/upstream.sh [-v] -u UPSTREAM -V VMLINUX_DIR [-I SONDE_INCLUDE] [CLANG...]
#
# UPSTREAM is a work tree or a bare repository (its HEAD is used);
# VMLINUX_DIR holds vmlinux.h (build/vmlinux); CLANG defaults to clang-14 clang-19.
# -v prints the first error of every failing gadget.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
include="$(cd "$here/../.." && pwd)/include"
upstream=""
vmlinux=""
verbose=0
while getopts "u:V:I:v" opt; do
	case $opt in
	u) upstream=$OPTARG ;;
	V) vmlinux=$OPTARG ;;
	I) include=$OPTARG ;;
	v) verbose=1 ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ -z "$upstream" ] || [ -z "$vmlinux" ]; then
	echo "usage: $0 [-v] -u UPSTREAM -V VMLINUX_DIR [-I SONDE_INCLUDE] [CLANG...]" >&2
	exit 2
fi
if [ ! -f "$vmlinux/vmlinux.h" ]; then
	echo "upstream.sh: no vmlinux.h in $vmlinux" >&2
	exit 2
fi
[ $# -gt 0 ] || set -- clang-14 clang-19
include=$(cd "$include" && pwd)
vmlinux=$(cd "$vmlinux" && pwd) # the compiler runs in each gadget's directory

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# gadgets/ only: upstream's include/ must never be on the path.
if git -C "$upstream" rev-parse --is-bare-repository >/dev/null 2>&1; then
	git -C "$upstream" archive HEAD gadgets | tar -x -C "$work"
	rev=$(git -C "$upstream" rev-parse --short HEAD)
else
	cp -r "$upstream/gadgets" "$work/"
	rev=unknown
fi
echo "upstream gadgets at $rev"

arch_inc=/usr/include/$(uname -m)-linux-gnu
total_fail=0
for cc in "$@"; do
	if ! command -v "$cc" >/dev/null; then
		echo "upstream.sh: $cc not found" >&2
		exit 2
	fi
	ok=0
	n=0
	failed=""
	warned=""
	for src in $(cd "$work" && find gadgets -name program.bpf.c | sort); do
		g=${src#gadgets/}
		g=${g%/program.bpf.c}
		n=$((n + 1))
		log="$work/$(echo "$g" | tr / _).$cc.log"
		# upstream's build step (cmd/common/image/build-step.go), with Sonde's
		# include/ in place of /usr/include/gadget and the build's vmlinux.h.
		if (cd "$work/$(dirname "$src")" && "$cc" -target bpf -Wall -g -O2 \
			-I"$arch_inc" -D__TARGET_ARCH_x86 -I"$include" -I"$vmlinux" \
			-c program.bpf.c -o /dev/null) >"$log" 2>&1; then
			ok=$((ok + 1))
			status=ok
			# a warning raised in (or through) Sonde's headers is a bug
			# to fix even when the gadget compiles
			if grep -q "^$include.*warning:\|warning:.*__gadget" "$log"; then
				status="ok (warnings from Sonde's headers)"
				warned="$warned $g"
			fi
		else
			failed="$failed $g"
			status=FAIL
		fi
		printf '%-8s %-34s %s\n' "$cc" "$g" "$status"
		if [ "$status" != ok ] && [ "$verbose" = 1 ]; then
			grep -m3 'error:\|warning:' "$log" | sed 's/^/         /'
		fi
	done
	echo "$cc: $ok/$n compile;${failed:+ failing:$failed}${warned:+; header warnings:$warned}"
	total_fail=$((total_fail + n - ok))
done
[ "$total_fail" -eq 0 ]
