#!/usr/bin/env bats
# cd-promote between two real registries (staging -> production) and within
# one: only verified records are promoted, failed ones leave production as it
# was, dry run changes nothing.

bats_require_minimum_version 1.5.0
load lib/push

setup_file() {
	upstream_start disks
	registry_start plain
	export STAGING=$REGISTRY STAGING_LOG=$REGISTRY_LOG
	registry_start plain
	export PROD=$REGISTRY PROD_LOG=$REGISTRY_LOG
	# Two records built and pushed to staging; "bad" is the one cd-verify rejects.
	mirror_args
	cd "$BATS_FILE_TMPDIR"
	{
		record good 1 "$(artifact amd64 a.qcow2)" "$(artifact arm64 b.qcow2)" | jq -c '. + {latest: true}'
		record bad 1 "$(artifact amd64 b.qcow2)" | jq -c '. + {latest: true}'
	} | cd-build -q "${MIRROR_ARGS[@]}" --cache cache --output out |
		cd-push -q --dry-run=false --target-registry "$STAGING/staging" > pushed.ndjson
	jq -c 'if .name == "good" then . + {verified: {ok: true, checks: []}}
	       else . + {verified: {ok: false, checks: [{check: "uid", ok: false}]},
	                 error: {tool: "cd-verify", arch: "amd64", message: "disk/disk.img: uid 0, want 107"}} end' \
		pushed.ndjson > verified.ndjson
}

teardown_file() { servers_stop; }

setup() {
	mirror_args
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	regproxy_stop
}

@test "cd-promote --help, --version; both registries are required" {
	run -0 cd-promote --help
	[[ $output == *"usage: cd-promote --source-registry"* ]]
	run -0 cd-promote --version
	[[ $output == "cd-promote (cdkit) "* ]]
	run --separate-stderr -2 cd-promote --target-registry "$PROD/prod"
	[[ $stderr == *"--source-registry and --target-registry are required"* ]]
}

@test "cd-promote: dry run by default: says what it would copy, changes nothing" {
	before=$(grep -c . "$PROD_LOG")
	run --separate-stderr -0 cd-promote --source-registry "$STAGING" --target-registry "$PROD/prod" \
		< "$BATS_FILE_TMPDIR/verified.ndjson"
	[ "$(jq -s -r 'map(has("promoted")) | unique[]' <<< "$output")" = false ]
	[[ $stderr == *"dry run: would promote good:1 $STAGING/staging/good@sha256:"*" to $PROD/prod/good"* ]]
	[[ $stderr == *"copied 0 blobs (0.0 MiB), skipped 0 present, mounted 0 (dry run: nothing sent)"* ]]
	[ "$(grep -c . "$PROD_LOG")" -eq "$before" ]
}

@test "cd-promote: the verified record is copied with all its tags, the rejected one is not, production keeps its old image" {
	# production already has an older "bad:1" (and :latest): it must keep it.
	record bad 1 "$(artifact amd64 a.qcow2)" | jq -c '. + {latest: true}' | cd-build -q "${MIRROR_ARGS[@]}" --cache cache --output old |
		cd-push -q --dry-run=false --target-registry "$PROD/prod" > old.ndjson
	old=$(jq -r .pushed.digest old.ndjson)
	run --separate-stderr -0 cd-promote --dry-run=false --source-registry "$STAGING" --target-registry "$PROD/prod" \
		< "$BATS_FILE_TMPDIR/verified.ndjson"
	[ "${#lines[@]}" -eq 2 ]
	good=$(jq -c 'select(.name == "good")' <<< "$output")
	bad=$(jq -c 'select(.name == "bad")' <<< "$output")
	[ "$(jq -r 'has("promoted")' <<< "$bad")" = false ]
	[ "$bad" = "$(jq -c 'select(.name == "bad")' "$BATS_FILE_TMPDIR/verified.ndjson")" ]
	[ "$(jq -r .promoted.repository <<< "$good")" = "$PROD/prod/good" ]
	digest=$(jq -r .pushed.digest <<< "$good")
	[ "$(jq -r .promoted.digest <<< "$good")" = "$digest" ]
	[ "$(jq -c .promoted.tags <<< "$good")" = "$(jq -c .pushed.tags <<< "$good")" ]
	[[ $stderr == *"copied 4 blobs"*"skipped 0 present, mounted 0"* ]]
	for t in $(jq -r '.pushed.tags[]' <<< "$good"); do
		run -0 sk inspect --raw "docker://$PROD/prod/good:$t"
		[ "sha256:$(printf '%s' "$output" | sha256sum | cut -d' ' -f1)" = "$digest" ]
	done
	disk_of "$PROD/prod/good:latest" arm64 arm
	cmp arm/disk/disk.img "$SRV/b.qcow2"
	for t in 1 latest; do
		run -0 sk inspect --raw "docker://$PROD/prod/bad:$t"
		[ "sha256:$(printf '%s' "$output" | sha256sum | cut -d' ' -f1)" = "$old" ]
	done
	# promoting again copies nothing
	run --separate-stderr -0 cd-promote --dry-run=false --source-registry "$STAGING" --target-registry "$PROD/prod" \
		< "$BATS_FILE_TMPDIR/verified.ndjson"
	[[ $stderr == *"copied 0 blobs (0.0 MiB), skipped 0 present, mounted 0"* ]]
}

@test "cd-promote within one registry mounts the blobs; a record not verified is named and passed" {
	jq -c 'select(.name == "good")' "$BATS_FILE_TMPDIR/verified.ndjson" > in.ndjson
	jq -c 'select(.name == "good") | del(.verified) | .name = "unverified"' "$BATS_FILE_TMPDIR/verified.ndjson" >> in.ndjson
	run --separate-stderr -0 cd-promote --dry-run=false --source-registry "$STAGING" --target-registry "$STAGING/prod" < in.ndjson
	[[ $stderr == *"copied 0 blobs (0.0 MiB), skipped 0 present, mounted 4"* ]]
	[[ $stderr == *"unverified:1: not verified: not promoted"* ]]
	[ "$(jq -r .promoted.repository <<< "${lines[0]}")" = "$STAGING/prod/good" ]
	[ "$(jq -r 'has("promoted")' <<< "${lines[1]}")" = false ]
	REGISTRY_MODE=plain run -0 sk inspect --raw "docker://$STAGING/prod/good:latest"
}

@test "cd-promote: pushed.repository on another registry than --source-registry is an error record" {
	jq -c 'select(.name == "good")' "$BATS_FILE_TMPDIR/verified.ndjson" > in.ndjson
	run --separate-stderr -1 cd-promote --dry-run=false --source-registry "$PROD" --target-registry "$PROD/x" < in.ndjson
	[ "$(jq -r .error.message <<< "$output")" = "pushed.repository is on $STAGING, --source-registry is $PROD" ]
}

@test "cd-promote: a production registry that trickles its answer to the upload POST (2 bytes/s) is given up after --timeout" {
	jq -c 'select(.name == "good")' "$BATS_FILE_TMPDIR/verified.ndjson" > in.ndjson
	regproxy_start # in front of production
	proxy_rules '[{"method":"POST","path":"/v2/slow/good/blobs/uploads/*","pad":60000,"rate":2}]'
	run --separate-stderr -1 timeout 60 cd-promote --dry-run=false --timeout 2 --retries 0 --parallel 1 \
		--source-registry "$STAGING" --target-registry "$PROXY/slow" < in.ndjson
	[[ "$(jq -r .error.message <<< "$output")" == *"POST http://$PROXY/v2/slow/good/blobs/uploads/: timed out: under 1 KiB/s for 2 s" ]]
	[ "$(jq -r 'has("promoted")' <<< "$output")" = false ]
}
