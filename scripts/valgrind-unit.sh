#!/bin/sh
# Runs the unit tests under valgrind (memcheck): any error or definite/indirect
# leak fails it. Usage: scripts/valgrind-unit.sh [BUILD_DIR]
#
# Left out: tests that load eBPF programs (memcheck does not know the bpf(2)
# attribute layout and reports its padding) or measure CPU time (valgrind
# serializes threads); ASan covers them. PCRE2's JIT is off: memcheck cannot
# follow generated code.
set -u
BUILD=${1:-build}
SKIP="test_ebpf_run test_formatters_ebpf test_ebpf_kstack test_process_operator test_ebpf_pf"
export SONDE_NO_JIT=1
passed=0
failed=0
for src in tests/unit/test_*.c; do
	name=$(basename "$src" .c)
	exe=$BUILD/tests/$name
	[ -x "$exe" ] || continue
	case " $SKIP " in *" $name "*) continue ;; esac
	if valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		"$exe" >"$BUILD/valgrind-$name.log" 2>&1; then
		passed=$((passed + 1))
	else
		rc=$?
		# 77: the test skipped itself (e.g. needs root); not a valgrind failure
		if [ "$rc" -eq 77 ]; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
			echo "valgrind: $name failed (exit $rc), see $BUILD/valgrind-$name.log"
		fi
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
