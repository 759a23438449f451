#!/usr/bin/env bats
# medius's own command line, against the real registry and a local mirror
# (pipelines/mkmirror): `cdkit images push`, then `images verify`, then
# `images promote`, as medius's nightly pipeline calls them, each reading
# and writing results.json as medius does (cmd/medius/images: keys
# name:version, fields Tags/Stage/Err, Tags "name:tag" with the timestamp
# tag first; push writes only images rebuilt or failed, push and promote
# only with --dry-run=false, verify always, merged).
#
# The catalog is ubuntu's, three versions, amd64 only (this machine boots
# amd64 guests; cd-verify --boot boots every architecture of an image):
# 24.04's upstream file is a bootable disk (tests/lib/mkbootdisk), 22.04's
# one that does not boot, 20.04's is missing upstream.

bats_require_minimum_version 1.5.0
load lib/cdkit

setup_file() {
	local t=$BATS_FILE_TMPDIR rel bd v f
	mkdir -p "$t/catalog" "$t/run"
	jq '.arches = {amd64: "amd64"} | .images = [.images[] | select(.version == "24.04" or .version == "22.04" or .version == "20.04")]' \
		"$CDKIT_ROOT/pipelines/catalog/ubuntu.json" > "$t/catalog/ubuntu.json"
	upstream_start mkmirror --catalog "$t/catalog"
	bd=$(boot_disks)
	rel=$MIRROR/cloud-images.ubuntu.com/releases
	cp "$bd/boot.qcow2" "$rel/24.04/release/ubuntu-24.04-server-cloudimg-amd64.img"
	cp "$bd/noboot.qcow2" "$rel/22.04/release/ubuntu-22.04-server-cloudimg-amd64.img"
	for v in 24.04 22.04; do
		f=ubuntu-$v-server-cloudimg-amd64.img
		echo "$(sha256sum < "$rel/$v/release/$f" | cut -d' ' -f1) *$f" > "$rel/$v/release/SHA256SUMS"
	done
	rm "$rel/20.04/release/ubuntu-20.04-server-cloudimg-amd64.img"
	registry_start plain
	export STAGING=$REGISTRY/staging PROD=$REGISTRY/containerdisks
}

teardown_file() { servers_stop; }

# entry KEY: one entry of results.json, compact
entry() {
	jq -c --arg k "$1" '.[$k]' results.json
}

# moved_to STAGE OTHERS: results.json's ubuntu:24.04 is push's entry
# (after-push.json) at STAGE, every other entry as OTHERS holds it, and no
# entry has a field medius's ArtifactResult does not
moved_to() {
	[ "$(entry ubuntu:24.04)" = "$(jq -c --arg s "$1" '."ubuntu:24.04" | .Stage = $s' after-push.json)" ]
	[ "$(jq -c 'del(."ubuntu:24.04")' results.json)" = "$(jq -c 'del(."ubuntu:24.04")' "$2")" ]
	only_medius_fields
}

# medius's ArtifactResult: only Tags, Stage, Err
only_medius_fields() {
	[ "$(jq '[.[] | keys[] | select(. != "Tags" and . != "Stage" and . != "Err")] | length' results.json)" = 0 ]
}

@test "images push: medius's flags; results.json names the rebuilt and the failed images" {
	cd "$BATS_FILE_TMPDIR/run"
	local mark
	# --dry-run is the default: it builds, pushes nothing, writes no results
	mark=$(($(wc -l < "$REGISTRY_LOG") + 1))
	run -1 --separate-stderr cdkit images push --target-registry="$STAGING" --source-registry="$PROD" \
		--insecure-skip-tls --workers=3 --focus='ubuntu:*' --catalog "$BATS_FILE_TMPDIR/catalog"
	[[ $stderr == *"dry run: builds, pushes nothing, writes no results file"* ]]
	[ ! -e results.json ]
	[ -z "$(registry_writes "$mark")" ]
	grep -qE '^ubuntu:24.04 +build +built ' <<< "$output"

	# medius's nightly line (without --no-fail): one image fails, alone
	run -1 --separate-stderr cdkit images push --dry-run=false --target-registry="$STAGING" \
		--source-registry="$PROD" --insecure-skip-tls --workers=3 --focus='ubuntu:*' \
		--catalog "$BATS_FILE_TMPDIR/catalog"
	[ "${lines[0]}" = "3 images: 2 rebuilt, 0 up to date, 1 failed" ]
	[ "$(stat -c %a results.json)" = 600 ]
	[ "$(jq -c keys results.json)" = '["ubuntu:20.04","ubuntu:22.04","ubuntu:24.04"]' ]
	only_medius_fields
	[[ $(entry ubuntu:20.04) =~ ^\{\"Stage\":\"push\",\"Err\":\"cd-build:\ amd64:\ GET\ https://cloud-images.ubuntu.com/.*HTTP\ 404 ]]
	local v ts
	for v in 24.04 22.04; do
		[[ $(entry "ubuntu:$v") =~ ^\{\"Tags\":\[\"ubuntu:${v/./\\.}-([0-9]{10})\",\"ubuntu:${v/./\\.}\"\],\"Stage\":\"push\"\}$ ]]
		ts=${BASH_REMATCH[1]}
		# the registry has those tags
		[ "$(skopeo list-tags --tls-verify=false "docker://$STAGING/ubuntu" | jq -r '.Tags[]' | grep -c "^$v")" = 2 ]
		skopeo list-tags --tls-verify=false "docker://$STAGING/ubuntu" | jq -e --arg t "$v-$ts" '.Tags | index($t)' > /dev/null
	done
	cp results.json after-push.json

	# --no-fail: a warning, exit 0; a fresh file of what this run rebuilt or
	# failed (nothing else changed upstream: only the missing image)
	mark=$(($(wc -l < "$REGISTRY_LOG") + 1))
	run -0 --separate-stderr cdkit images push --dry-run=false --no-fail --target-registry="$STAGING" \
		--source-registry="$STAGING" --insecure-skip-tls --workers=3 --focus='ubuntu:*' \
		--catalog "$BATS_FILE_TMPDIR/catalog" --results-file=../again.json --workdir=../again
	[[ $stderr == *"cd-report: warning: 1 of 3 images failed (--no-fail: exit status 0)"* ]]
	[ "$(jq -c keys ../again.json)" = '["ubuntu:20.04"]' ]
	[ -z "$(registry_writes "$mark")" ]
}

@test "images verify: boots in qemu instead of a KubeVirt cluster; results.json rewritten, merged" {
	cd "$BATS_FILE_TMPDIR/run"
	[ -s after-push.json ] || skip "needs the push test"
	# medius's nightly verify line; the cluster's flags are said, once, to be ignored
	run -0 --separate-stderr cdkit images verify --dry-run=false --kubeconfig "$BATS_TEST_TMPDIR/kubeconfig" \
		--namespace=kubevirt --registry="$STAGING" --insecure-skip-tls --workers 3 --timeout=120 \
		--focus=ubuntu:24.04
	[ "$(grep -c 'ignored' <<< "$stderr")" = 1 ]
	[[ $stderr == *"cdkit images verify: --kubeconfig --namespace: for a KubeVirt cluster; cdkit boots the disks in qemu on this machine: ignored"* ]]
	[[ $stderr == *"cd-verify: ubuntu:24.04: verified"* ]]
	grep -qE '^ubuntu:24.04 +build +verified ' <<< "$output"
	# Stage verify, the same Tags; the other entries as push left them
	moved_to verify after-push.json

	# a disk that does not boot fails verify, with the reason
	run -1 --separate-stderr cdkit images verify --registry="$STAGING" --timeout=10 --focus=ubuntu:22.04
	[[ "$(jq -r '."ubuntu:22.04".Err' results.json)" == "cd-verify: amd64: boot: timeout: no marker on the serial console within 10 s"* ]]
	[ "$(jq -r '."ubuntu:22.04".Stage' results.json)" = verify ]
	[ "$(jq -c '."ubuntu:22.04".Tags' results.json)" = "$(jq -c '."ubuntu:22.04".Tags' after-push.json)" ]

	# nothing left at stage push: the failures of earlier stages fail verify,
	# as medius's "artifact X failed in stage Y"; the file is rewritten unchanged
	cp results.json before.json
	run -1 --separate-stderr cdkit images verify --registry="$STAGING"
	[[ $stderr == *"cdkit images verify: error: ubuntu:20.04 failed in stage push: cd-build: amd64: GET "* ]]
	[[ $stderr == *"cdkit images verify: error: ubuntu:22.04 failed in stage verify: cd-verify: amd64: boot: timeout"* ]]
	[ -z "$output" ]
	cmp before.json results.json
	run -0 --separate-stderr cdkit images verify --registry="$STAGING" --no-fail
	[[ $stderr == *"warning: 2 images failed in an earlier stage (--no-fail: exit status 0)"* ]]
}

@test "images promote: only the verified image reaches production; the failed ones fail promote" {
	cd "$BATS_FILE_TMPDIR/run"
	[ "$(jq -r '."ubuntu:24.04".Stage' results.json 2> /dev/null)" = verify ] || skip "needs the verify test"
	cp results.json before.json
	local mark
	mark=$(($(wc -l < "$REGISTRY_LOG") + 1))
	# the default dry run: copies nothing, writes nothing
	run -1 --separate-stderr cdkit images promote --source-registry="$STAGING" --target-registry="$PROD" \
		--insecure-skip-tls --workers 3
	[[ $stderr == *"cd-promote: dry run: would promote ubuntu:24.04 $STAGING/ubuntu@sha256:"* ]]
	cmp before.json results.json
	[ -z "$(registry_writes "$mark")" ]

	run -1 --separate-stderr cdkit images promote --source-registry="$STAGING" --target-registry="$PROD" \
		--insecure-skip-tls --workers 3 --dry-run=false
	[[ $stderr == *"cdkit images promote: error: ubuntu:20.04 failed in stage push: "* ]]
	[[ $stderr == *"cdkit images promote: error: ubuntu:22.04 failed in stage verify: "* ]]
	grep -qE '^ubuntu:24.04 +build +promoted ' <<< "$output"
	moved_to promote before.json
	# production serves 24.04 under every tag of results.json, the digest
	# that was verified; 22.04 never got there
	local tags want
	tags=$(skopeo list-tags --tls-verify=false "docker://$PROD/ubuntu" | jq -c '.Tags | sort')
	want=$(jq -c '."ubuntu:24.04".Tags | map(sub("^ubuntu:"; "")) | sort' results.json)
	[ "$tags" = "$want" ]
	[ "$(skopeo inspect --raw --tls-verify=false "docker://$PROD/ubuntu:24.04" | sha256sum)" = \
	  "$(skopeo inspect --raw --tls-verify=false "docker://$STAGING/ubuntu:24.04" | sha256sum)" ]
}

@test "images verify and promote: usage errors as medius's required flags, a missing results file" {
	cd "$BATS_TEST_TMPDIR"
	run -2 --separate-stderr cdkit images verify
	[ "$stderr" = "cdkit images verify: required flag \"registry\" not set (try 'cdkit images verify --help')" ]
	run -2 --separate-stderr cdkit images promote --dry-run=false
	[ "$stderr" = "cdkit images promote: required flag \"source-registry\" not set (try 'cdkit images promote --help')" ]
	run -2 --separate-stderr cdkit images verify --registry=x
	[ "$stderr" = "cdkit images verify: cannot read the results file 'results.json' (cdkit images push --dry-run=false writes it)" ]
	echo '[1]' > bad.json
	run -2 --separate-stderr cdkit images promote --source-registry=x --results-file=bad.json
	[ "$stderr" = "cdkit images promote: 'bad.json' is not a results file (a JSON object keyed name:version)" ]
	[ ! -e cdkit-run ]
}
