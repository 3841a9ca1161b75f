#!/bin/sh
# Lists why tests were skipped, from the log of the last ctest run in build
# dir $1: ctest itself only names them ("The following tests did not run").
# Each skipped case prints "SKIP: kind: why" (tests/testlib/testlib.h).
log="${1:-build}/Testing/Temporary/LastTest.log"
[ -r "$log" ] || exit 0
awk '
/^[0-9]+\/[0-9]+ Test: / { name = $3 }
/^SKIP: / { sub(/^SKIP: /, ""); reasons[n++] = "  " name ": " $0 }
END {
	if (!n)
		exit
	print "Skip reasons:"
	for (i = 0; i < n; i++)
		print reasons[i]
}' "$log"
