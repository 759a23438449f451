#!/usr/bin/env bats
# The record loop of cd-discover, cd-diff and cd-build under failures at
# the front, the middle and the end of 160 records (more than any stdio
# buffer holds), with -j 1, 2 and 4 where the tool has workers: as many
# records out as in, in order, each failed one with its error and its
# stderr line.  Real parts: upstream files over tests/lib/httpd.py, tiny
# qcow2 files from qemu-img.  The registry tools: record-loop-registry.bats.

bats_require_minimum_version 1.5.0
load lib/loop
load lib/upstream

setup_file() { upstream_start tiny img; }
teardown_file() { servers_stop; }

setup() {
	export CD_MIRRORS=$MIRRORS
	cd "$BATS_TEST_TMPDIR"
}

# loop_records JQ: the 160 records of the loop, as JQ (a filter run on each
# base record, with $i its 1-based index) makes them.  The base record's one
# artifact is the shared tiny qcow2; missing(f) points it at a file that is
# not there, with a checksum of its own (the cache must not answer for it).
loop_records() {
	jq -cn --argjson n "$LOOP_N" --arg s "$TINY_SUM" --arg missing "$(printf missing | sha256sum | cut -d' ' -f1)" '
		def missing: .artifacts[0] += {url: "https://upstream.example/img/missing.qcow2", checksum: ("sha256:" + $missing)};
		range(1; $n + 1) as $i
		| {name: "loop", version: ("v" + ("00\($i)" | .[-3:])),
		   artifacts: [{arch: "amd64", url: "https://upstream.example/img/tiny.qcow2", checksum: $s}]}
		| '"$1"
}

@test "cd-discover: a catalog of 160 images, upstream files missing for the first, 80th and last" {
	local i v sums
	sums="$TINY_SUM  loop.qcow2"
	{
		printf '{"name":"loop","user":"loop","preference":"loop","arches":{"amd64":"x86_64"},'
		printf '"source":"https://upstream.example/loop/{version}/SHA256SUMS","format":"checksums",'
		printf '"pick":"[ .[] | select(.name == \\"loop.qcow2\\") ] | first | select(. != null) | {url: ($base + .name), checksum}",'
		printf '"images":['
		for i in $(seq "$LOOP_N"); do
			printf '%s{"version":"%s"}' "$([ "$i" = 1 ] || echo ,)" "$i"
		done
		printf ']}\n'
	} > loop.json
	for i in $(seq "$LOOP_N"); do
		case $i in 1 | 80 | "$LOOP_N") continue ;; esac
		mkdir -p "$SRV/loop/$i"
		printf '%s\n' "${sums#sha256:}" > "$SRV/loop/$i/SHA256SUMS"
	done
	for i in $(seq "$LOOP_N"); do printf '{"name":"loop","version":"%s"}\n' "$i"; done > want-ids
	run -1 --separate-stderr cd-discover --catalog loop.json
	loop_check cd-discover want-ids "1 80 $LOOP_N"
	[ "$(loop_message 80)" = "GET https://upstream.example/loop/80/SHA256SUMS: HTTP 404 (not found)" ]
	[[ "$stderr" == *"cd-discover: loop:80 amd64: GET https://upstream.example/loop/80/SHA256SUMS: HTTP 404 (not found)"* ]]
	[ "$(sed -n 2p "$BATS_TEST_TMPDIR/loop.out" | jq -r '.artifacts[0].checksum')" = "$TINY_SUM" ]
	[ "${stderr_lines[-1]}" = "cd-discover: 3 images failed" ]
}

@test "cd-diff: 160 records, failures at the front, the middle and the end" {
	# no "published" at the ends (fails), an unknown arch in the middle (invalid)
	loop_records 'if $i == 1 or $i == $n then . elif $i == 80 then .artifacts[0].arch = "sparc" | .published = {}
		      else .published = {} end' > in.ndjson
	run -1 --separate-stderr cd-diff < in.ndjson
	loop_check cd-diff in.ndjson "1 80 $LOOP_N"
	[ "$(loop_message 1)" = 'record has no "published" object (run cd-current first)' ]
	[ "$(loop_message 80)" = "invalid record: artifacts[0].arch: unknown architecture 'sparc' (amd64, arm64 or s390x)" ]
	[ "$(sed -n 2p "$BATS_TEST_TMPDIR/loop.out" | jq -r .action)" = build ]
	[ "${#stderr_lines[@]}" -eq 3 ]
}

@test "cd-build: 160 records sharing one upstream file, a 404 at the front and the end, an invalid record in the middle; -j 1, 2, 4" {
	local j
	loop_records 'if $i == 1 or $i == $n then missing elif $i == 80 then .artifacts[0].arch = "sparc" else . end' > in.ndjson
	for j in 1 2 4; do
		run -1 --separate-stderr cd-build -j "$j" --output "out$j" --cache cache < in.ndjson
		loop_check cd-build in.ndjson "1 80 $LOOP_N"
		[ "$(loop_message 1)" = "GET https://upstream.example/img/missing.qcow2: HTTP 404 (not found)" ]
		[ "$(loop_message 80)" = "invalid record: artifacts[0].arch: unknown architecture 'sparc' (amd64, arm64 or s390x)" ]
		# every other record was built, each into its own layout
		[ "$(jq -r 'select(.layout) | .layout' "$BATS_TEST_TMPDIR/loop.out" | sort -u | wc -l)" -eq $((LOOP_N - 3)) ]
		[ ! -e "out$j/loop-v080" ]
		[ ! -e "out$j/loop-v001" ]
	done
}
