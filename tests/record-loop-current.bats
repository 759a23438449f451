#!/usr/bin/env bats
# The record loop of cd-current under failures at the front, the middle
# and the end of 160 records, with -j 1, 2 and 4: as many records out as
# in, in order, each failed one with its error and its stderr line.  Real
# parts: the registry with token auth, whose issuer denies one repository.

bats_require_minimum_version 1.5.0
load lib/registry
load lib/loop

setup_file() { registry_start token; }
teardown_file() { servers_stop; }

setup() {
	cd "$BATS_TEST_TMPDIR"
	echo '{}' > "$TOKEN_RULES"
}

# loop_records JQ: the 160 records of the loop as JQ (run on each base
# record, $i its 1-based index, $n the count) makes them.
loop_records() {
	jq -cn --argjson n "$LOOP_N" --arg s "sha256:$(printf 'a%.0s' $(seq 64))" '
		range(1; $n + 1) as $i
		| {name: "loop", version: ("v" + ("00\($i)" | .[-3:])),
		   artifacts: [{arch: "amd64", url: "https://upstream.example/tiny.qcow2", checksum: $s}]}
		| '"$1"
}

@test "cd-current: 160 records, the token issuer denies the first and the last, the 80th is invalid; -j 1, 2, 4" {
	local j
	echo '{"deny": ["containerdisks/bad"]}' > "$TOKEN_RULES"
	loop_records 'if $i == 1 or $i == $n then .name = "bad" elif $i == 80 then .name = "../loop" else . end' > in.ndjson
	for j in 1 2 4; do
		run -1 --separate-stderr cd-current -j "$j" --authfile "$REGISTRY_AUTHFILE" --source-registry "$REGISTRY/containerdisks" < in.ndjson
		loop_check cd-current in.ndjson "1 80 $LOOP_N"
		[ "$(loop_message 1)" = "$REGISTRY/containerdisks/bad:v001: token refused for scope 'repository:containerdisks/bad:pull': insufficient_scope: authentication required (UNAUTHORIZED)" ]
		[[ "$(loop_message 80)" == "invalid record: name: '../loop' is not a repository name component "* ]]
		# the others were read: not published
		[ "$(jq -c 'select(.error | not) | .published' "$BATS_TEST_TMPDIR/loop.out" | sort -u)" = '{}' ]
	done
}
