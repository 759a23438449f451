#!/usr/bin/env bats
# The seconds the record loop stamps on each record, per stage, with
# CD_TIMINGS=1 (what cd-report --timings gathers): the time the record
# took, also with workers; nothing without CD_TIMINGS.

bats_require_minimum_version 1.5.0
load lib/common

setup() {
	cd "$BATS_TEST_TMPDIR"
}

teardown() { servers_stop; }

@test "a stage's seconds are the time its record took, also with workers" {
	# a download served at half its size per second takes 2 s or more (a
	# lower bound the server sets: a slower machine only adds to it); a
	# stage that read the clock before running the record stamped ~0
	mkdir -p up
	qemu-img create -q -f qcow2 up/a.qcow2 1M
	local size sum j
	size=$(stat -c %s up/a.qcow2)
	sum=$(sha256sum up/a.qcow2 | cut -d' ' -f1)
	httpd_start "$PWD/up"
	rules "[{\"path\": \"/a.qcow2\", \"rate\": $((size / 2))}]"
	for j in 1 2; do
		printf '{"name":"t","version":"%s","action":"build","artifacts":[{"arch":"amd64","url":"%s/a.qcow2","checksum":"sha256:%s"}]}\n' \
			"$j" "$HTTPD_URL" "$sum" > in.ndjson
		run -0 --separate-stderr env CD_TIMINGS=1 cd-build -j "$j" --output "out$j" --cache "cache$j" < in.ndjson
		[ "$(jq '.seconds["cd-build"] >= 1.5' <<< "$output")" = true ]
	done
}

@test "the record loop stamps each stage's seconds with CD_TIMINGS=1, and only then" {
	local rec='{"name":"x","version":"1","artifacts":[{"arch":"amd64","url":"https://upstream.example/x.qcow2","checksum":"sha256:'"$(printf '0%.0s' {1..64})"'"}],"published":{}}'
	run -0 --separate-stderr env CD_TIMINGS=1 cd-diff <<< "$rec"
	[ "$(jq -r '.seconds | keys | join(",")' <<< "$output")" = cd-diff ]
	[ "$(jq '.seconds["cd-diff"] >= 0' <<< "$output")" = true ]
	run -0 --separate-stderr cd-diff <<< "$rec"
	[ "$(jq 'has("seconds")' <<< "$output")" = false ]
}
