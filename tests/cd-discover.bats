#!/usr/bin/env bats
# cd-discover on the REAL catalog (pipelines/catalog), its upstreams served
# from tests/fixtures/upstream over loopback HTTP through the mirror map.
# Expected records: tests/fixtures/expected/<name>.ndjson (checked by hand
# against the fixture files; see tests/fixtures/README.md).

bats_require_minimum_version 1.5.0
load lib/upstream

setup_file() {
	upstream_start tree
	export MICROOS_MIRRORS="--mirror https://download.opensuse.org/tumbleweed/=$HTTPD_URL/microos/download.opensuse.org/tumbleweed/ --mirror https://download.opensuse.org/ports/=$HTTPD_URL/microos/download.opensuse.org/ports/"
}

setup() {
	export CD_MIRRORS=$MIRRORS
}

teardown_file() { servers_stop; }

discover() { # discover NAME FOCUS... : run on the real catalog, compare with expected/NAME
	local name=$1 f args=()
	shift
	for f in "$@"; do args+=(--focus "$f"); done
	run -0 --separate-stderr cd-discover --catalog "$CATALOG" "${args[@]}"
	[ -z "$stderr" ]
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/got.ndjson"
	assert_records "$BATS_TEST_TMPDIR/got.ndjson" "$FIXTURES/expected/$name.ndjson"
}

@test "fedora: stable >= 38 newest first, then 41-beta; Cloud_Base qcow2 only; s390x 40 left out" {
	discover fedora 'fedora:*'
}

@test "fedora: a single version by focus, latest and docs only on the newest stable" {
	run -0 cd-discover --catalog "$CATALOG" --focus fedora:41-beta --focus fedora:39
	[ "$(jq -c '[.version, .stable, .latest, .docs]' <<<"$output")" = \
		'["39",true,false,false]
["41-beta",false,false,false]' ]
}

@test "centos-stream 10 and 9: newest dated file, never -latest" {
	discover centos-stream 'centos-stream:*'
	run -1 grep -e '-latest' "$BATS_TEST_TMPDIR/got.ndjson"
}

@test "centos-stream 9 with its arches on different builds: no upstream unique tag (the timestamp tag stays unique)" {
	local f
	f=$(find "$TREE" -path '*9-stream/aarch64/images/CHECKSUM')
	cp "$f" "$BATS_TEST_TMPDIR/CHECKSUM.orig"
	sed 's/GenericCloud-9-20211222\.0/GenericCloud-9-20240401.0/g' "$BATS_TEST_TMPDIR/CHECKSUM.orig" > "$f"
	run -0 --separate-stderr cd-discover --catalog "$CATALOG" --focus centos-stream:9
	cp "$BATS_TEST_TMPDIR/CHECKSUM.orig" "$f"
	[[ $(jq -r '.artifacts[] | select(.arch == "arm64") | .url' <<< "$output") == *-9-20240401.0.aarch64.qcow2 ]]
	[[ $(jq -r '.artifacts[] | select(.arch == "amd64") | .url' <<< "$output") == *-9-20211222.0.x86_64.qcow2 ]]
	[ "$(jq -c .tags <<< "$output")" = '[]' ]
}

@test "almalinux 10 and 9: dated GenericCloud, not ext4 nor -latest" {
	discover almalinux 'almalinux:*'
}

@test "ubuntu 22.04 on three arches from SHA256SUMS" {
	discover ubuntu ubuntu:22.04
}

@test "debian 12: sha512 from base64 to hex, tag from cloud.debian.org/version" {
	discover debian debian:12
}

@test "opensuse-leap 16.0 (three arches, sles) and 15.6 from single-line .sha256 files" {
	discover opensuse-leap opensuse-leap:16.0 opensuse-leap:15.6
}

@test "opensuse-tumbleweed: x86_64 appliances and s390x ports" {
	discover opensuse-tumbleweed 'opensuse-tumbleweed:*'
}

@test "opensuse-microos from its own snapshot of the same SHA256SUMS" {
	# shellcheck disable=SC2086
	run -0 --separate-stderr cd-discover --catalog "$CATALOG" --focus 'opensuse-microos:*' $MICROOS_MIRRORS
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/got.ndjson"
	assert_records "$BATS_TEST_TMPDIR/got.ndjson" "$FIXTURES/expected/opensuse-microos.ndjson"
}

@test "records keep upstream URLs; the fetches went to the mirror" {
	run -0 cd-discover --catalog "$CATALOG" --focus ubuntu:22.04
	[ "$(jq -r '.artifacts[0].url' <<<"$output")" = \
		https://cloud-images.ubuntu.com/releases/22.04/release/ubuntu-22.04-server-cloudimg-amd64.img ]
	grep -q '^GET /cloud-images.ubuntu.com/releases/22.04/release/SHA256SUMS 200' "$HTTPD_LOG"
}

@test "every image of the catalog: one record each, in catalog order; the uncovered ones fail alone" {
	run -1 --separate-stderr cd-discover --catalog "$CATALOG"
	jq -r '"\(.name):\(.version) \(has("error"))"' <<<"$output" > "$BATS_TEST_TMPDIR/ids"
	diff -u - "$BATS_TEST_TMPDIR/ids" <<'IDS'
almalinux:10 false
almalinux:9 false
centos-stream:10 false
centos-stream:9 false
debian:13 true
debian:12 false
debian:11 true
fedora:40 false
fedora:39 false
fedora:41-beta false
opensuse-leap:16.0 false
opensuse-leap:15.6 false
opensuse-leap:15.5 true
opensuse-microos:16.0.0 false
opensuse-tumbleweed:1.0.0 false
ubuntu:26.04 true
ubuntu:25.04 true
ubuntu:24.04 true
ubuntu:22.04 false
ubuntu:20.04 true
IDS
}

@test "--help and --version" {
	run -0 cd-discover --help
	[[ "$output" == usage:\ cd-discover* ]]
	[[ "$output" == *--focus* ]]
	run -0 cd-discover --version
	[[ "$output" == "cd-discover (cdkit) "* ]]
}

@test "the default catalog is the source tree's when nothing is installed" {
	[ -d /usr/local/share/cdkit/catalog ] && skip "a catalog is installed"
	run -0 cd-discover --focus ubuntu:22.04
	[ "$(jq -r .name <<<"$output")" = ubuntu ]
}
