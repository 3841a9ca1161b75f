#!/bin/sh
# Compile test of include/gadget/ (ctest: unit.gadget_compile.<clang>).
#
#   tests/gadget-compile/run.sh -c CLANG -V VMLINUX_DIR [-B BPFTOOL] [-o OUTDIR]
#
# Every tests/gadget-compile/*.bpf.c (small gadgets, one or two per header,
# using its names the way an upstream gadget does) must compile with
# upstream's flags plus -Werror. Then, in the object's BTF,
#   /* expect-btf: REGEX */     must match a line of `bpftool btf dump`,
#   /* expect-no-btf: REGEX */  must match none.
# Every fail/*.bpf.c must NOT compile and its error output must contain the
# text of its /* expect-error: TEXT */ line: the misuse upstream's headers
# reject is rejected here too.
set -u

here=$(cd "$(dirname "$0")" && pwd)
include=$(cd "$here/../.." && pwd)/include
cc=""
vmlinux=""
bpftool=bpftool
out=""
while getopts "c:V:B:o:" opt; do
	case $opt in
	c) cc=$OPTARG ;;
	V) vmlinux=$OPTARG ;;
	B) bpftool=$OPTARG ;;
	o) out=$OPTARG ;;
	*) exit 2 ;;
	esac
done
if [ -z "$cc" ] || [ -z "$vmlinux" ]; then
	echo "usage: $0 -c CLANG -V VMLINUX_DIR [-B BPFTOOL] [-o OUTDIR]" >&2
	exit 2
fi
# scripts/install-deps.sh installs both compilers: a missing one is a
# broken setup, not a reason to skip.
if ! command -v "$cc" >/dev/null 2>&1; then
	echo "run.sh: compiler $cc not found (scripts/install-deps.sh installs it)" >&2
	exit 1
fi
if [ ! -f "$vmlinux/vmlinux.h" ]; then
	echo "run.sh: no vmlinux.h in $vmlinux (build the vmlinux_h target first)" >&2
	exit 1
fi
if [ -z "$out" ]; then
	out=$(mktemp -d)
	trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"

# upstream's build step (cmd/common/image/build-step.go) plus -Werror
flags="-target bpf -Wall -Werror -g -O2 -I/usr/include/$(uname -m)-linux-gnu -D__TARGET_ARCH_x86
	-I$include -I$vmlinux"
failures=0
fail() {
	echo "FAIL $*"
	failures=$((failures + 1))
}

for src in "$here"/*.bpf.c; do
	name=$(basename "$src" .bpf.c)
	obj="$out/$name.$cc.o"
	# shellcheck disable=SC2086
	if ! "$cc" $flags -c "$src" -o "$obj" >"$out/$name.$cc.log" 2>&1; then
		fail "$name: does not compile with $cc"
		sed 's/^/    /' "$out/$name.$cc.log" | head -20
		continue
	fi
	if ! "$bpftool" btf dump file "$obj" >"$out/$name.$cc.btf" 2>&1; then
		fail "$name: bpftool cannot read the BTF of $obj"
		continue
	fi
	bad=0
	while IFS= read -r re; do
		grep -Eq -- "$re" "$out/$name.$cc.btf" || {
			fail "$name: no BTF line matches: $re"
			bad=1
		}
	done <<EOF
$(sed -n 's|^/\* expect-btf: \(.*\) \*/$|\1|p' "$src")
EOF
	while IFS= read -r re; do
		[ -n "$re" ] || continue
		if grep -Eq -- "$re" "$out/$name.$cc.btf"; then
			fail "$name: unexpected BTF line matches: $re"
			bad=1
		fi
	done <<EOF
$(sed -n 's|^/\* expect-no-btf: \(.*\) \*/$|\1|p' "$src")
EOF
	[ $bad = 1 ] || echo "ok   $name"
done

for src in "$here"/fail/*.bpf.c; do
	name=fail/$(basename "$src" .bpf.c)
	want=$(sed -n 's|^/\* expect-error: \(.*\) \*/$|\1|p' "$src")
	if [ -z "$want" ]; then
		fail "$name: no expect-error line"
		continue
	fi
	# shellcheck disable=SC2086
	if "$cc" $flags -c "$src" -o "$out/fail.o" >"$out/fail.log" 2>&1; then
		fail "$name: compiles, but must not"
	elif ! grep -qF -- "$want" "$out/fail.log"; then
		fail "$name: error does not say \"$want\""
		sed 's/^/    /' "$out/fail.log" | head -10
	else
		echo "ok   $name (refused)"
	fi
done

if [ "$failures" -ne 0 ]; then
	echo "$failures failure(s) with $cc"
	exit 1
fi
echo "all gadget headers compile with $cc"
