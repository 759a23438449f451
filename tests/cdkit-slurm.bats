#!/usr/bin/env bats
# cdkit sync --engine slurm on a real Slurm cluster of one machine
# (tests/lib/slurm.bash), a real registry and the local mirror of every
# catalog image (pipelines/mkmirror): the plan, an sbatch --array of 4 shard
# jobs and a report job after them, waited for.  Every image is published
# exactly once with its tags (the registry's access log, its tag lists);
# one image whose disk is gone upstream fails alone, and the run with it;
# with --no-fail the run passes with a warning; a second run uploads
# nothing.

bats_require_minimum_version 1.5.0
load lib/cdkit
load lib/slurm

setup_file() {
	slurm_start || skip "$SLURM_SKIP"
	export W=$BATS_FILE_TMPDIR/run
	# (lib/common unsets CD_MIRRORS in every test: sync_slurm sets it)
	upstream_start mkmirror
	registry_start plain
	# debian:12's disk goes missing upstream: its download fails
	local url
	url=$(CD_MIRRORS=$MIRRORS cd-discover --focus debian:12 | jq -r '.artifacts[0].url')
	rm "$MIRROR/${url#https://}"
}

teardown_file() { servers_stop; }

sync_slurm() {
	CD_MIRRORS=$MIRRORS timeout 900 "$CDKIT_ROOT/pipelines/cdkit" sync --engine slurm --shards 4 --dry-run=false \
		--source-registry="$REGISTRY/prod" --target-registry="$REGISTRY/staging" --workers 2 \
		--workdir "$W" --results-file "$W/results.json" "$@"
}


@test "cdkit sync --engine slurm --shards 4: every image once with its tags; a failing image fails alone" {
	cd "$BATS_FILE_TMPDIR"
	run -1 --separate-stderr sync_slurm
	printf '%s\n' "$stderr" | grep -v '^\[' | tail -25 >&3
	local n
	n=$(wc -l < "$W/plan.ndjson")
	[ "$n" -ge 12 ]
	# progress: the stages, the array and the report job, each shard's end
	[[ $stderr == *"cdkit sync: [1/3] plan"* ]]
	[[ $stderr == *"cdkit sync: [2/3] slurm: sbatch --array=0-3 "* ]]
	[[ $stderr =~ cdkit\ sync:\ slurm:\ array\ job\ [0-9]+\ \(4\ shard\ jobs\),\ report\ job\ [0-9]+\ after\ them ]]
	local task
	task=$(jq -r 'select(.name == "debian" and .version == "12") | .shard.index' "$W/plan.ndjson")
	[[ $stderr == *"cdkit sync: slurm: shard $task FAILED, exit 1"* ]]
	[ "$(grep -c 'cdkit sync: slurm: shard [0-3] COMPLETED, exit 0' <<< "$stderr")" = 3 ]
	[[ $stderr == *"cdkit sync: [3/3] report job "*" ended, exit 1"* ]]
	# the summary (the report job's) names the failed image, and only it
	[ "${lines[0]}" = "$n images: $((n - 1)) rebuilt, 0 up to date, 1 failed" ]
	grep -qE '^debian:12 +build +failed .*cd-build: amd64: GET .*HTTP 404' <<< "$output"
	[ "$(grep -cE '^[a-z-]+:[^ ]+ +build +promoted ' <<< "$output")" = $((n - 1)) ]

	# cd-report over the shards' own records: four files, each image once
	[ "$(ls "$W"/records/records-*-of-4.ndjson | wc -l)" = 4 ]
	[ "$(cat "$W"/records/*.ndjson | wc -l)" = "$n" ]
	run -1 --separate-stderr cd-report "$W"/records/records-*-of-4.ndjson
	[[ $stderr != *duplicate* ]]
	[ "${lines[0]}" = "$n images: $((n - 1)) rebuilt, 0 up to date, 1 failed" ]

	# results.json as medius writes it: the failed image with Stage push
	# and Err, every other one promoted with its tags, the timestamp tag first
	local res=$W/results.json
	[ "$(stat -c %a "$res")" = 600 ]
	[ "$(jq length "$res")" = "$n" ]
	[ "$(jq -r '."debian:12".Stage' "$res")" = push ]
	[[ "$(jq -r '."debian:12".Err' "$res")" == "cd-build: amd64: GET "*"HTTP 404 (not found)" ]]
	[ "$(jq '[.[] | keys[] | select(. != "Tags" and . != "Stage" and . != "Err")] | length' "$res")" = 0 ]

	# the registry: every other image exactly once in staging and in
	# production, under each of its tags; debian:12 nowhere
	local name version key tag tags m
	m=0
	while read -r name version; do
		key=$name:$version
		[ "$(jq -r --arg k "$key" '.[$k].Stage' "$res")" = promote ]
		jq -e --arg k "$key" '.[$k].Tags | all(startswith($k | split(":")[0] + ":"))' "$res" > /dev/null
		[[ "$(jq -r --arg k "$key" '.[$k].Tags[0]' "$res")" =~ ^${key//./\\.}-[0-9]{10}$ ]]
		tags=$(curl -fsS "http://$REGISTRY/v2/prod/$name/tags/list" | jq -r '.tags[]')
		for tag in $(jq -r --arg k "$key" '.[$k].Tags[] | sub("^[^:]*:"; "")' "$res"); do
			grep -qx -- "$tag" <<< "$tags"
			[ "$(grep -cF "\"PUT /v2/staging/$name/manifests/$tag " "$REGISTRY_LOG")" = 1 ]
			[ "$(grep -cF "\"PUT /v2/prod/$name/manifests/$tag " "$REGISTRY_LOG")" = 1 ]
		done
		m=$((m + 1))
	done < <(jq -r 'select(.name + ":" + .version != "debian:12") | "\(.name) \(.version)"' "$W/plan.ndjson")
	[ "$m" -ge 12 ]
	[ "$(grep -c '"PUT /v2/[a-z]*/debian/manifests/12[ -]' "$REGISTRY_LOG")" = 0 ]
	# each blob was uploaded once (production mounts it from staging)
	grep -oE '"PUT /v2/[^ ]*/blobs/uploads/[^ ]*digest=sha256[:%3A]*[0-9a-f]{64}' "$REGISTRY_LOG" |
		grep -oE '[0-9a-f]{64}$' | sort > "$W/blobs"
	[ "$(wc -l < "$W/blobs")" -ge "$m" ]
	[ -z "$(uniq -d "$W/blobs")" ]
}

@test "cdkit sync --engine slurm: a second run uploads nothing; --no-fail makes the failure a warning" {
	[ -s "$W/results.json" ] || skip "needs the first test's run"
	cd "$BATS_FILE_TMPDIR"
	local mark n
	mark=$(($(wc -l < "$REGISTRY_LOG") + 1))
	run -0 --separate-stderr sync_slurm --no-fail
	n=$(wc -l < "$W/plan.ndjson")
	[ "${lines[0]}" = "$n images: 0 rebuilt, $((n - 1)) up to date, 1 failed" ]
	[[ $stderr == *"warning: 1 of $n images failed (--no-fail: exit status 0)"* ]]
	[[ $stderr == *"cdkit sync: [3/3] report job "*" ended, exit 0"* ]]
	[ -z "$(registry_writes "$mark")" ]
	# a fresh results.json, as medius's push writes it: only the failed image
	[ "$(jq -c 'keys' "$W/results.json")" = '["debian:12"]' ]
}
