#!/usr/bin/env bats
# cd-push against the real registry over TLS with token auth (a CA and a
# token issuer made here): cd-build | cd-push of a two-architecture record,
# read back with skopeo; a second run uploads no blob; a 401 on manifest PUT.

bats_require_minimum_version 1.5.0
load lib/push

setup_file() {
	upstream_start disks
	registry_start tls-token
}

teardown_file() { servers_stop; }

setup() {
	mirror_args
	cd "$BATS_TEST_TMPDIR"
}

push() {
	cd-push --dry-run=false --ca-file "$REGISTRY_CA" --target-registry "$REGISTRY/containerdisks" "$@"
}

@test "cd-build | cd-push over TLS with tokens: skopeo reads it back, disks equal upstream, four tags, second run uploads nothing" {
	record fedora 41 "$(artifact amd64 a.qcow2)" "$(artifact arm64 b.qcow2)" |
		jq -c '. + {latest: true, tags: ["41-1.4"]}' > in.ndjson
	cd-build -q "${MIRROR_ARGS[@]}" --cache cache --output out < in.ndjson > built.ndjson
	run --separate-stderr -0 push --authfile "$REGISTRY_AUTHFILE" < built.ndjson
	[[ $stderr == *"pushed 4 blobs"*"skipped 0 present, mounted 0"* ]]
	digest=$(jq -r .pushed.digest <<< "$output")
	mapfile -t tags < <(jq -r '.pushed.tags[]' <<< "$output")
	[ "${#tags[@]}" -eq 4 ]
	for t in "${tags[@]}"; do
		run -0 sk inspect --raw "docker://$REGISTRY/containerdisks/fedora:$t"
		[ "sha256:$(printf '%s' "$output" | sha256sum | cut -d' ' -f1)" = "$digest" ]
	done
	disk_of "$REGISTRY/containerdisks/fedora:latest" amd64 amd
	disk_of "$REGISTRY/containerdisks/fedora:41" arm64 arm
	cmp amd/disk/disk.img "$SRV/a.qcow2"
	cmp arm/disk/disk.img "$SRV/b.qcow2"
	# the token issuer was asked for push rights, with the user's credentials
	grep -q 'repository:containerdisks/fedora:pull,push cdkit-tester 200' "$TOKEN_LOG"

	writes=$(blob_writes)
	run --separate-stderr -0 push --authfile "$REGISTRY_AUTHFILE" < built.ndjson
	[[ $stderr == *"pushed 0 blobs (0.0 MiB), skipped 4 present, mounted 0"* ]]
	[ "$(blob_writes)" -eq "$writes" ]
}

@test "cd-push: a 401 on manifest PUT (anonymous token: pull only) fails the record, names the registry, no tag moves" {
	record ubuntu 24.04 "$(artifact amd64 a.qcow2)" > in.ndjson
	cd-build -q "${MIRROR_ARGS[@]}" --cache cache --output out < in.ndjson > built.ndjson
	run -0 push -q --authfile "$REGISTRY_AUTHFILE" < built.ndjson
	# A new tag is a manifest PUT; blobs and manifest are there, so the
	# anonymous run gets as far as the PUT of the first tag it must set.
	jq -c '.tags = ["24.04-new"]' built.ndjson > retag.ndjson
	run --separate-stderr -1 push < retag.ndjson
	[[ $(jq -r .error.message <<< "$output") == "tag '24.04-"*"': PUT $REGISTRY/containerdisks/ubuntu:24.04-"*"insufficient_scope"*"(UNAUTHORIZED)" ]]
	[ "$(jq -r 'has("pushed")' <<< "$output")" = false ]
	[[ $stderr == *"ubuntu:24.04: "* ]]
	[[ $stderr == *"pushed 0 blobs (0.0 MiB), skipped 2 present, mounted 0"* ]]
	# (the stamp tag, when it already names this image, is not PUT again: a unique tag is set once)
	grep -qE '"PUT /v2/containerdisks/ubuntu/manifests/24.04-([0-9]+|new) HTTP/[0-9.]*" 401' "$REGISTRY_LOG"
	run -1 sk inspect --raw "docker://$REGISTRY/containerdisks/ubuntu:24.04-new"
	[[ $stderr != *"s3cret"* ]]
}
