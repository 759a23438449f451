#!/usr/bin/env bats
# The record loop of cd-push, cd-verify and cd-promote under failures at
# the front, the middle and the end of 160 records, with -j 1, 2 and 4: as
# many records out as in, in order, each failed one with its error and its
# stderr line.  Real parts: the registry, a layout cd-build made from a
# tiny qcow2 served over tests/lib/httpd.py.  cd-current (token auth):
# record-loop-current.bats.

bats_require_minimum_version 1.5.0
load lib/loop

setup_file() {
	loop_servers_start
	# One image, built and pushed once: every record of the loop points at it.
	jq -cn --arg s "$TINY_SUM" '{name: "loop", version: "base",
		artifacts: [{arch: "amd64", url: "https://upstream.example/tiny.qcow2", checksum: $s}]}' |
		cd-build --output "$BATS_FILE_TMPDIR/out" --cache "$BATS_FILE_TMPDIR/cache" \
			--mirror "$MIRRORS" > "$BATS_FILE_TMPDIR/built.ndjson" 2>/dev/null
	cd-push --dry-run=false --target-registry "$REGISTRY/containerdisks" \
		< "$BATS_FILE_TMPDIR/built.ndjson" > "$BATS_FILE_TMPDIR/pushed.ndjson" 2>/dev/null
	LAYOUT=$(jq -r .layout "$BATS_FILE_TMPDIR/built.ndjson")
	DIGEST=$(jq -r .pushed.digest "$BATS_FILE_TMPDIR/pushed.ndjson")
	[ -d "$LAYOUT" ] && [ "${DIGEST#sha256:}" != "$DIGEST" ]
	export LAYOUT DIGEST
}

teardown_file() { servers_stop; }

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# loop_records JQ: the 160 records of the loop as JQ (run on each base
# record, $i its 1-based index, $n the count) makes them.  The base record
# is what cd-build wrote for the one image, as version v001...v160.
loop_records() {
	jq -c --argjson n "$LOOP_N" --arg registry "$REGISTRY" --arg absent "sha256:$(printf '0%.0s' $(seq 64))" '
		. as $base | range(1; $n + 1) as $i
		| $base | .version = ("v" + ("00\($i)" | .[-3:]))
		| '"$1" "$BATS_FILE_TMPDIR/built.ndjson"
}

@test "cd-push: 160 records, layouts missing at the front and the end, an invalid version in the middle; -j 1, 2, 4" {
	local j
	loop_records 'if $i == 1 or $i == $n then .layout = "/nonexistent/loop-\(.version)"
		elif $i == 80 then .version = "v080/../../evil" else . end' > in.ndjson
	for j in 1 2 4; do
		run -1 --separate-stderr cd-push -j "$j" --dry-run=false \
			--target-registry "$REGISTRY/containerdisks" < in.ndjson
		loop_check cd-push in.ndjson "1 80 $LOOP_N"
		[ "$(loop_message 1)" = "cannot open '/nonexistent/loop-v001/index.json': No such file or directory" ]
		[ "$(loop_message 80)" = "invalid record: version: 'v080/../../evil' is not a valid tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})" ]
		[ "$(jq -r 'select(.pushed) | .pushed.digest' "$BATS_TEST_TMPDIR/loop.out" | sort | uniq -c | xargs)" = "$((LOOP_N - 3)) $DIGEST" ]
	done
	# what was pushed is there; what failed is not
	run -0 skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/containerdisks/loop:v159"
	[ "$(printf '%s' "$output" | sha256sum | cut -d' ' -f1)" = "${DIGEST#sha256:}" ]
	run -1 skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/containerdisks/loop:v160"
}

@test "cd-verify: 160 records, digests not in the registry at the front and the end, an invalid digest in the middle; -j 1, 2, 4" {
	local j
	loop_records '.pushed = {repository: "\($registry)/containerdisks/loop", digest: .digest, tags: [.version]}
		| if $i == 1 or $i == $n then .pushed.digest = $absent elif $i == 80 then .pushed.digest = "sha256:xyz" else . end' > in.ndjson
	for j in 1 2 4; do
		run -1 --separate-stderr cd-verify -j "$j" < in.ndjson
		loop_check cd-verify in.ndjson "1 80 $LOOP_N"
		[ "$(loop_message 1)" = "top: $REGISTRY/containerdisks/loop@sha256:$(printf '0%.0s' $(seq 64)): manifest unknown (MANIFEST_UNKNOWN)" ]
		[ "$(loop_message 80)" = "invalid record: pushed.digest: 'sha256:xyz' is not sha256:<64 hex> or sha512:<128 hex>" ]
		[ "$(jq -r 'select(.verified.ok) | .version' "$BATS_TEST_TMPDIR/loop.out" | wc -l)" -eq $((LOOP_N - 3)) ]
	done
}

@test "cd-promote: 160 records, digests not in staging at the front and the end, an invalid verified in the middle; -j 1, 2, 4" {
	local j
	loop_records '.pushed = {repository: "\($registry)/containerdisks/loop", digest: .digest, tags: [.version]}
		| .verified = {ok: true, checks: []}
		| if $i == 1 or $i == $n then .pushed.digest = $absent elif $i == 80 then .verified.ok = "yes" else . end' > in.ndjson
	for j in 1 2 4; do
		run -1 --separate-stderr cd-promote -j "$j" --dry-run=false \
			--source-registry "$REGISTRY" --target-registry "$REGISTRY/prod$j" < in.ndjson
		loop_check cd-promote in.ndjson "1 80 $LOOP_N"
		[ "$(loop_message 1)" = "$REGISTRY/containerdisks/loop@sha256:$(printf '0%.0s' $(seq 64)): manifest unknown (MANIFEST_UNKNOWN)" ]
		[ "$(loop_message 80)" = "invalid record: verified.ok: a string, not a boolean" ]
		[ "$(jq -r 'select(.promoted) | .promoted.repository' "$BATS_TEST_TMPDIR/loop.out" | sort | uniq -c | xargs)" = "$((LOOP_N - 3)) $REGISTRY/prod$j/loop" ]
	done
}
