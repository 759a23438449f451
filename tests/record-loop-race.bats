#!/usr/bin/env bats
# The record loop every stage runs (tools/lib/pool.c) with many workers:
# records come out in input order, each once, and the records it passes
# through untouched (those that carry an error) are never taken as work.

bats_require_minimum_version 1.5.0
load lib/common

@test "record loop with workers: passed-through records come out in order, never taken as work" {
	cd "$BATS_TEST_TMPDIR"
	# three error records (passed through) after each one a worker takes:
	# the slot of a passed-through record was cleared while a worker could
	# look at it, which took it for work without input (SIGSEGV)
	jq -nc 'range(10000) | if . % 4 == 0 then {name: "a\(.)", version: "1", artifacts: [{arch: "amd64", url: "https://upstream.example/a.qcow2"}]}
		else {name: "b\(.)", version: "1", error: {tool: "cd-build", message: "m"}} end' > in.ndjson
	local i st
	for i in $(seq 20); do
		st=0
		cd-verify -j 4 -q < in.ndjson > out.ndjson 2> err.txt || st=$?
		[ "$st" = 0 ] || { echo "run $i: exit $st" >&2; cat err.txt >&2; return 1; }
		cmp in.ndjson out.ndjson
	done
}
