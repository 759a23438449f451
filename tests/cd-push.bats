#!/usr/bin/env bats
# cd-push against the real registry (plain HTTP): cd-build | cd-push of a
# two-architecture record, read back with skopeo; the second run uploads no
# blob; incremental pushes; mounts; dry run; records passed through.

bats_require_minimum_version 1.5.0
load lib/push

setup_file() {
	upstream_start disks
	registry_start plain
}

teardown_file() { servers_stop; }

setup() {
	mirror_args
	OUT=$BATS_TEST_TMPDIR/out
	cd "$BATS_TEST_TMPDIR"
}

# two_arch NAME: a fedora-like record (amd64 a.qcow2, arm64 b.qcow2), latest, with an upstream tag.
two_arch() {
	record "$1" 41 "$(artifact amd64 a.qcow2)" "$(artifact arm64 b.qcow2)" |
		jq -c '. + {latest: true, tags: ["41-1.4"]}'
}

build() {
	cd-build -q "${MIRROR_ARGS[@]}" --cache "$BATS_FILE_TMPDIR/cache" --output "$OUT" "$@"
}

@test "cd-push --help and --version print to stdout and exit 0; usage errors exit 2" {
	help_and_version cd-push "cd-push --target-registry" --dry-run
	run --separate-stderr -2 cd-push
	[[ $stderr == *"--target-registry is required"* ]]
	run --separate-stderr -2 cd-push --target-registry "$REGISTRY/x" --dry-run=maybe
	[[ $stderr == *"dry-run"* ]]
	run --separate-stderr -2 cd-push --target-registry "$REGISTRY/x:tag"
	[[ $stderr == *"--target-registry"* ]]
}

@test "cd-push: dry run by default: says what it would push, sends nothing, adds no \"pushed\"" {
	two_arch dry > in.ndjson
	build < in.ndjson > built.ndjson
	before=$(grep -c . "$REGISTRY_LOG")
	run --separate-stderr -0 cd-push --target-registry "$REGISTRY/containerdisks" < built.ndjson
	[ "$(jq -r 'has("pushed")' <<< "$output")" = false ]
	assert_records <(printf '%s\n' "$output") built.ndjson
	[[ $stderr == *"dry run: would push dry:41 to $REGISTRY/containerdisks/dry: 4 blobs"*"tags 41-"*", 41-1.4, 41, latest"* ]]
	[[ $stderr == *"pushed 0 blobs (0.0 MiB), skipped 0 present, mounted 0 (dry run: nothing sent)"* ]]
	[ "$(grep -c . "$REGISTRY_LOG")" -eq "$before" ]
	run -1 skopeo inspect --tls-verify=false --raw "docker://$REGISTRY/containerdisks/dry:41"
}

@test "cd-build | cd-push: two arches; skopeo reads them back; disks equal upstream; four tags, one index; a second run uploads no blob" {
	two_arch fedora > in.ndjson
	build < in.ndjson > built.ndjson
	run --separate-stderr -0 cd-push --dry-run=false --target-registry "$REGISTRY/containerdisks" < built.ndjson
	rec=$output
	[[ $stderr == *"pushed 4 blobs ("*" MiB), skipped 0 present, mounted 0"* ]]
	digest=$(jq -r .pushed.digest <<< "$rec")
	[ "$digest" = "$(jq -r .digest built.ndjson)" ]
	[ "$(jq -r .pushed.repository <<< "$rec")" = "$REGISTRY/containerdisks/fedora" ]
	mapfile -t tags < <(jq -r '.pushed.tags[]' <<< "$rec")
	[ "${#tags[@]}" -eq 4 ]
	[[ ${tags[0]} =~ ^41-[0-9]{10}$ ]]
	[ "${tags[*]:1}" = "41-1.4 41 latest" ]
	for t in "${tags[@]}"; do
		run -0 sk inspect --raw "docker://$REGISTRY/containerdisks/fedora:$t"
		[ "sha256:$(printf '%s' "$output" | sha256sum | cut -d' ' -f1)" = "$digest" ]
	done
	[ "$(jq -c '[.manifests[].platform.architecture]' <<< "$output")" = '["amd64","arm64"]' ]
	run -0 sk inspect --override-arch arm64 --config "docker://$REGISTRY/containerdisks/fedora:latest"
	[ "$(jq -r .config.Labels.shasum <<< "$output")" = "$(sum b.qcow2)" ]
	disk_of "$REGISTRY/containerdisks/fedora:${tags[0]}" amd64 amd
	disk_of "$REGISTRY/containerdisks/fedora:latest" arm64 arm
	cmp amd/disk/disk.img "$SRV/a.qcow2"
	cmp arm/disk/disk.img "$SRV/b.qcow2"
	[ "$(stat -c '%u %g %a' arm/disk/disk.img)" = "107 107 444" ]

	writes=$(blob_writes)
	[ "$writes" -ge 4 ]
	run --separate-stderr -0 cd-push --dry-run=false --target-registry "$REGISTRY/containerdisks" < built.ndjson
	[[ $stderr == *"pushed 0 blobs (0.0 MiB), skipped 4 present, mounted 0"* ]]
	[ "$(blob_writes)" -eq "$writes" ]
	[ "$(jq -r .pushed.digest <<< "$output")" = "$digest" ]
}

@test "cd-push: incremental: only arm64 rebuilt; the index reuses the published amd64 manifest" {
	two_arch inc > in.ndjson
	build < in.ndjson > built.ndjson
	run -0 cd-push -q --dry-run=false --target-registry "$REGISTRY/containerdisks" < built.ndjson
	amd=$(jq -r .manifests.amd64 built.ndjson)
	# Upstream arm64 changed: a new disk.
	printf 'cdkit test disk C\n%.0s' $(seq 3000) > c.raw
	qemu-img convert -q -f raw -O qcow2 c.raw "$SRV/c.qcow2"
	(cd "$SRV" && sha256sum c.qcow2 >> SHA256SUMS)
	record inc 41 "$(artifact amd64 a.qcow2)" "$(artifact arm64 c.qcow2)" |
		jq -c '. + {latest: true, tags: ["41-1.5"]}' > in2.ndjson
	run -0 cd-current --source-registry "$REGISTRY/containerdisks" < in2.ndjson
	printf '%s\n' "$output" > cur.ndjson
	run -0 cd-diff < cur.ndjson
	[ "$(jq -c .changed <<< "$output")" = '["arm64"]' ]
	printf '%s\n' "$output" | build > built2.ndjson
	[ "$(jq -c .built built2.ndjson)" = '["arm64"]' ]
	run --separate-stderr -0 cd-push --dry-run=false --target-registry "$REGISTRY/containerdisks" < built2.ndjson
	[[ $stderr == *"pushed 2 blobs"*"skipped 0 present, mounted 0"* ]]
	run -0 sk inspect --raw "docker://$REGISTRY/containerdisks/inc:41-1.5"
	[ "$(jq -r '.manifests[] | select(.platform.architecture == "amd64") | .digest' <<< "$output")" = "$amd" ]
	[ "$(jq -r '.manifests[] | select(.platform.architecture == "arm64") | .digest' <<< "$output")" = "$(jq -r .manifests.arm64 built2.ndjson)" ]
	[ "$(jq -r .mediaType <<< "$output")" = application/vnd.docker.distribution.manifest.list.v2+json ]
	disk_of "$REGISTRY/containerdisks/inc:latest" arm64 arm
	cmp arm/disk/disk.img "$SRV/c.qcow2"
	disk_of "$REGISTRY/containerdisks/inc:latest" amd64 amd
	cmp amd/disk/disk.img "$SRV/a.qcow2"
}

@test "cd-push: an arch neither built nor published is an error record" {
	# cd-diff said only amd64 changed, but nothing of arm64 is published
	record part 41 "$(artifact amd64 a.qcow2)" "$(artifact arm64 b.qcow2)" | jq -c '. + {changed: ["amd64"]}' |
		build > built.ndjson
	run --separate-stderr -1 cd-push --dry-run=false --target-registry "$REGISTRY/containerdisks" < built.ndjson
	[ "$(jq -r .error.tool <<< "$output")" = cd-push ]
	[[ $(jq -r .error.message <<< "$output") == "arm64 is neither built nor published" ]]
	[[ $stderr == *"part:41: arm64 is neither built nor published"* ]]
}

@test "cd-push: mounts blobs from the source repository of the same registry" {
	two_arch mnt > in.ndjson
	build < in.ndjson > built.ndjson
	run -0 cd-push -q --dry-run=false --target-registry "$REGISTRY/staging" < built.ndjson
	run --separate-stderr -0 cd-push --dry-run=false --source-registry "$REGISTRY/staging" \
		--target-registry "$REGISTRY/containerdisks" < built.ndjson
	[[ $stderr == *"pushed 0 blobs (0.0 MiB), skipped 0 present, mounted 4"* ]]
	run -0 sk inspect --raw "docker://$REGISTRY/containerdisks/mnt:41"
	[ "sha256:$(printf '%s' "$output" | sha256sum | cut -d' ' -f1)" = "$(jq -r .digest built.ndjson)" ]
}

@test "cd-push --chunk-size: chunked PATCH upload gives the same image" {
	record chunky 1 "$(artifact amd64 a.qcow2)" > in.ndjson
	build < in.ndjson > built.ndjson
	before=$(grep -cE '"PATCH /v2/containerdisks/chunky/blobs/uploads/' "$REGISTRY_LOG" || true)
	run --separate-stderr -0 cd-push --dry-run=false --chunk-size 1000000 --target-registry "$REGISTRY/containerdisks" < built.ndjson
	[[ $stderr == *"pushed 2 blobs"* ]]
	after=$(grep -cE '"PATCH /v2/containerdisks/chunky/blobs/uploads/' "$REGISTRY_LOG")
	[ $((after - before)) -ge 3 ]
	disk_of "$REGISTRY/containerdisks/chunky:1" amd64 d
	cmp d/disk/disk.img "$SRV/a.qcow2"
}

@test "cd-push: a record whose layout holds another image than its digest is refused before anything is sent" {
	record one 1 "$(artifact amd64 a.qcow2)" > in.ndjson
	record two 1 "$(artifact amd64 b.qcow2)" >> in.ndjson
	build < in.ndjson > built.ndjson
	one=$(jq -r 'select(.name == "one") | .digest' built.ndjson)
	two=$(jq -r 'select(.name == "two") | .digest' built.ndjson)
	lay=$(jq -r 'select(.name == "two") | .layout' built.ndjson)
	# one's layout folder now holds two's image (as when two records shared one folder)
	jq -c --arg lay "$lay" 'if .name == "one" then .layout = $lay else . end' built.ndjson > shared.ndjson
	jq -c 'select(.name == "two") | del(.digest)' built.ndjson >> shared.ndjson
	writes=$(blob_writes)
	run --separate-stderr -1 cd-push --target-registry "$REGISTRY/refused" < shared.ndjson
	[ "$(jq -r .error.message <<< "${lines[0]}")" = "layout '$lay' holds image $two, not the record's digest $one" ]
	[[ $stderr == *"would push two:1"* ]]
	[ "$(jq -r .error.message <<< "${lines[2]}")" = "record has a layout but no digest (run cd-build first)" ]
	run --separate-stderr -1 cd-push --dry-run=false --target-registry "$REGISTRY/refused" < shared.ndjson
	[ "${#lines[@]}" -eq 3 ]
	[ "$(jq -r .error.message <<< "${lines[0]}")" = "layout '$lay' holds image $two, not the record's digest $one" ]
	[ "$(jq -r 'has("pushed")' <<< "${lines[0]}")" = false ]
	[[ $stderr == *"one:1: layout '$lay' holds image $two, not the record's digest $one"* ]]
	[ "$(jq -r .pushed.digest <<< "${lines[1]}")" = "$two" ]
	[ "$(jq -r .error.message <<< "${lines[2]}")" = "record has a layout but no digest (run cd-build first)" ]
	# nothing of one's was sent, not even a HEAD: only two's blobs were written
	[ "$(grep -c '/v2/refused/one/' "$REGISTRY_LOG")" -eq 0 ]
	[ "$(( $(blob_writes) - writes ))" -eq 2 ]   # two's config and layer
	run --separate-stderr -1 sk inspect --raw "docker://$REGISTRY/refused/one:1"
}

@test "cd-push: skip and error records pass through untouched; a record without layout fails; malformed line exits 3" {
	skip='{"name":"a","version":"1","action":"skip","artifacts":[{"arch":"amd64","url":"https://upstream.example/a.qcow2"}]}'
	{
		echo "$skip"
		echo '{"name":"b","version":"1","error":{"tool":"cd-build","message":"boom"}}'
		echo '{"name":"c","version":"1","action":"build","artifacts":[{"arch":"amd64","url":"https://upstream.example/a.qcow2"}]}'
		echo '{not json'
	} > in.ndjson
	run --separate-stderr -3 cd-push --dry-run=false --target-registry "$REGISTRY/containerdisks" < in.ndjson
	[ "${#lines[@]}" -eq 3 ]
	[ "${lines[0]}" = "$skip" ]
	[ "${lines[1]}" = '{"name":"b","version":"1","error":{"tool":"cd-build","message":"boom"}}' ]
	[ "$(jq -r .error.message <<< "${lines[2]}")" = "record has no layout (run cd-build first)" ]
	[[ $stderr == *"stdin:4"* ]]
}
