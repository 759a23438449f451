#!/usr/bin/env bats
# cd-push with a --source-registry that asks for a password and a target
# that does not: --src-creds reach the source (where the arches not rebuilt
# are read) and only it; --dest-creds the target.

bats_require_minimum_version 1.5.0
load lib/push

setup_file() {
	upstream_start disks
	registry_start plain
	export TARGET=$REGISTRY
	registry_start htpasswd
	export SOURCE=$REGISTRY
	# The published image: both arches, on the source registry.
	mirror_args
	cd "$BATS_FILE_TMPDIR"
	record inc 41 "$(artifact amd64 a.qcow2)" "$(artifact arm64 b.qcow2)" | jq -c '. + {latest: true}' |
		cd-build -q "${MIRROR_ARGS[@]}" --cache cache --output out > built.ndjson
	cd-push -q --dry-run=false --target-registry "$SOURCE/containerdisks" \
		--dest-creds "$REGISTRY_USER:$REGISTRY_PASS" < built.ndjson > pushed.ndjson
	# Upstream arm64 changed: only it is rebuilt; amd64 stays the source's.
	record inc 41 "$(artifact amd64 a.qcow2)" "$(artifact arm64 a.qcow2)" | jq -c '. + {latest: true}' |
		cd-current -q --creds "$REGISTRY_USER:$REGISTRY_PASS" --source-registry "$SOURCE/containerdisks" |
		cd-diff | cd-build -q "${MIRROR_ARGS[@]}" --cache cache --output out2 > built2.ndjson
	AMD=$(jq -r .manifests.amd64 built.ndjson)
	export AMD
}

teardown_file() { servers_stop; }

setup() {
	cd "$BATS_FILE_TMPDIR"
	no_machine_creds
}

@test "cd-push --dest-creds: the first push went to the password-protected registry" {
	[ "$(jq -r .pushed.repository pushed.ndjson)" = "$SOURCE/containerdisks/inc" ]
	[ "$(jq -c .built built2.ndjson)" = '["arm64"]' ]
}

@test "cd-push --src-creds: the arch not rebuilt is read from the source with them, the target needs none" {
	run --separate-stderr -0 cd-push --dry-run=false --source-registry "$SOURCE/containerdisks" \
		--src-creds "$REGISTRY_USER:$REGISTRY_PASS" --target-registry "$TARGET/containerdisks" < built2.ndjson
	[ "$(jq -r .pushed.repository <<< "$output")" = "$TARGET/containerdisks/inc" ]
	REGISTRY=$TARGET REGISTRY_MODE=plain run -0 sk inspect --raw "docker://$TARGET/containerdisks/inc:41"
	[ "$(jq -r '.manifests[] | select(.platform.architecture == "amd64") | .digest' <<< "$output")" = "$AMD" ]
	[[ "$stderr" != *"$REGISTRY_PASS"* ]]
}

@test "cd-push: --dest-creds are not sent to the source" {
	run --separate-stderr -1 cd-push --dry-run=false --source-registry "$SOURCE/containerdisks" \
		--dest-creds "$REGISTRY_USER:$REGISTRY_PASS" --target-registry "$TARGET/other" < built2.ndjson
	[[ "$(jq -r .error.message <<< "$output")" == *"authentication required and no credentials found for '$SOURCE'"* ]]
}
