#!/usr/bin/env bats
# `cdkit sync --engine local` against the real registry and the local
# mirror: N shard jobs as processes, every image once; a failing image
# fails alone; a second run uploads nothing; one stage re-run on its saved
# input.  (Slurm: cdkit-slurm.bats.)

bats_require_minimum_version 1.5.0
load lib/cdkit

setup_file() {
	upstream_start mkmirror
	registry_start plain
}

teardown_file() { servers_stop; }

@test "cdkit sync --engine local --shards 3: each image once; a failing image fails alone; the second run uploads nothing" {
	local w=$BATS_FILE_TMPDIR/sync url n mark
	cd "$BATS_FILE_TMPDIR"
	# ubuntu:22.04's disk goes missing upstream
	url=$(CD_MIRRORS=$MIRRORS cd-discover --focus ubuntu:22.04 | jq -r '.artifacts[0].url')
	mv "$MIRROR/${url#https://}" "$BATS_FILE_TMPDIR/disk.saved"
	run -1 --separate-stderr cdkit sync --shards 3 --engine local --dry-run=false --focus='ubuntu:*' \
		--focus='debian:*' --source-registry="$REGISTRY/prod" --target-registry="$REGISTRY/staging" \
		--workers 2 --workdir "$w"
	n=$(wc -l < "$w/plan.ndjson")
	[ "$n" = 8 ]
	# progress: the stages, and each shard's messages under its name
	[[ $stderr == *"cdkit sync: [2/3] 3 shard jobs on this machine"* ]]
	local i
	for i in 0 1 2; do
		grep -q "^\[shard $i\] shard-job: shard $i of 3 (0-based)" <<< "$stderr"
		[ -s "$w/logs/shard-$i.log" ]
	done
	[[ $stderr == *"cdkit sync: shard "?" of 3 ended, exit 1"* ]]
	[ "${lines[0]}" = "8 images: 7 rebuilt, 0 up to date, 1 failed" ]
	grep -qE '^ubuntu:22.04 +build +failed .*cd-build: amd64: GET .*HTTP 404' <<< "$output"
	[ "$(grep -cE '^[a-z]+:[0-9.]+ +build +promoted ' <<< "$output")" = 7 ]
	# results.json beside the run (the default results-file, in the cwd)
	[ "$(jq -r '."ubuntu:22.04".Stage' results.json)" = push ]
	[ "$(jq '[.[] | select(.Stage == "promote")] | length' results.json)" = 7 ]
	# every image in exactly one shard's records; in production with its tags
	[ "$(cat "$w"/records/records-*-of-3.ndjson | jq -r '.name + ":" + .version' | sort | uniq -d)" = "" ]
	[ "$(cat "$w"/records/records-*-of-3.ndjson | wc -l)" = 8 ]
	local key tag
	for key in $(jq -r 'to_entries[] | select(.value.Stage == "promote") | .key' results.json); do
		for tag in $(jq -r --arg k "$key" '.[$k].Tags[] | sub("^[^:]*:"; "")' results.json); do
			[ "$(grep -cF "\"PUT /v2/prod/${key%%:*}/manifests/$tag " "$REGISTRY_LOG")" = 1 ]
		done
	done

	# a stage re-run on its saved input: verify of the shard with debian:13
	i=$(jq -r 'select(.name == "debian" and .version == "13") | .shard.index' "$w/plan.ndjson")
	run -0 --separate-stderr cd-verify < "$w/work/shard-$i/records/push.ndjson"
	[ "$(jq -s 'map(select(.verified.ok)) | length' <<< "$output")" -ge 1 ]
	[[ $stderr == *"cd-verify: debian:13: verified"* ]]

	# the disk is back: the second run rebuilds only that image; a third
	# uploads nothing at all
	mv "$BATS_FILE_TMPDIR/disk.saved" "$MIRROR/${url#https://}"
	run -0 --separate-stderr cdkit sync --shards 3 --dry-run=false --focus='ubuntu:*' --focus='debian:*' \
		--source-registry="$REGISTRY/prod" --target-registry="$REGISTRY/staging" --workdir "$w"
	[ "${lines[0]}" = "8 images: 1 rebuilt, 7 up to date, 0 failed" ]
	[ "$(jq -c keys results.json)" = '["ubuntu:22.04"]' ]
	mark=$(($(wc -l < "$REGISTRY_LOG") + 1))
	run -0 --separate-stderr cdkit sync --shards 3 --dry-run=false --focus='ubuntu:*' --focus='debian:*' \
		--source-registry="$REGISTRY/prod" --target-registry="$REGISTRY/staging" --workdir "$w"
	[ "${lines[0]}" = "8 images: 0 rebuilt, 8 up to date, 0 failed" ]
	[ -z "$(registry_writes "$mark")" ]
	# the timings of the first runs weigh the next plan
	[ "$(jq length "$w/timings.json")" = 8 ]
}
